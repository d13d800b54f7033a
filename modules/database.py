"""RDS MariaDB with an RDS-managed master password, reachable only from named clients."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from config.rules import major_version
from modules.access.security_group import allow_in
from modules.api.password_rotation import ROTATION_SCHEDULE, ROTATION_WINDOW

MARIADB_PORT = 3306


def parameter_group_family(engine_version: str) -> str:
    """`10.11.9` -> `mariadb10.11`."""
    return f"mariadb{major_version(engine_version)}"


class MariaDb(Construct):
    """One RDS MariaDB instance in the given (isolated) subnets.

    Secure by default: not publicly accessible, storage encrypted (gp3 with
    autoscaling; with `kms_key_arn`, under that customer-managed key), backups
    kept `backup_retention_days`, a final snapshot on delete, deletion protection
    on, and the master password generated and kept by RDS in Secrets Manager (JSON
    keys `username`, `password`), so it appears nowhere in code, config or state.
    RDS rotates it in `rotation_schedule`'s window (a quiet hour; clients must
    restart to read the new one, see `modules.api.password_rotation`). Multi-AZ
    and bigger classes are opt-in.

    Statements slower than `slow_query_seconds` are logged to a file that RDS exports to
    CloudWatch Logs with the error log.

    `require_secure_transport=True` makes the server refuse clients without TLS;
    only turn it on once every client asks for TLS (docs/design.md, "Secrets").

    The security group has no rules: each client adds its own with
    `allow_client(...)`. Exposes `instance`, `security_group`, `secret_arn`,
    `address`, `port` and `database_name`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identifier: str,
        vpc_id: str,
        subnet_ids: Sequence[str],
        database_name: str,
        engine_version: str,
        instance_class: str,
        allocated_storage_gb: int,
        max_allocated_storage_gb: int,
        backup_retention_days: int,
        deletion_protection: bool,
        multi_az: bool,
        require_secure_transport: bool,
        slow_query_seconds: int,
        snapshot_identifier: str | None,
        allow_major_version_upgrade: bool,
        kms_key_arn: str | None,
        master_username: str = "littil_admin",
        rotation_schedule: str = ROTATION_SCHEDULE,
        rotation_window: str = ROTATION_WINDOW,
    ) -> None:
        super().__init__(scope, construct_id)
        subnet_group = DbSubnetGroup(
            self, "subnet-group", name=identifier, description=f"Subnets of {identifier}", subnet_ids=list(subnet_ids)
        )
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{identifier}-db",
            description=f"MariaDB {identifier}: clients add their own 3306 rule",
            vpc_id=vpc_id,
            revoke_rules_on_delete=True,
        )
        parameters = [
            DbParameterGroupParameter(name="log_bin_trust_function_creators", value="1"),
            # The slowquery export only ships the log file: the log must be on and written to a
            # file (MariaDB's defaults are off and TABLE).
            DbParameterGroupParameter(name="slow_query_log", value="1"),
            DbParameterGroupParameter(name="log_output", value="FILE"),
            DbParameterGroupParameter(name="long_query_time", value=str(slow_query_seconds)),
        ]
        if require_secure_transport:
            parameters.append(DbParameterGroupParameter(name="require_secure_transport", value="1"))
        parameter_group = DbParameterGroup(
            self,
            "parameters",
            name_prefix=f"{identifier}-",
            family=parameter_group_family(engine_version),
            description=f"Parameters of {identifier}",
            parameter=parameters,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.instance = DbInstance(
            self,
            "instance",
            identifier=identifier,
            engine="mariadb",
            engine_version=engine_version,
            instance_class=instance_class,
            db_name=None if snapshot_identifier else database_name,
            username=None if snapshot_identifier else master_username,
            manage_master_user_password=True,
            port=MARIADB_PORT,
            allocated_storage=allocated_storage_gb,
            max_allocated_storage=max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            # None: the account's AWS-managed key aws/rds. A customer-managed key lets another account copy
            # the backups (modules.backup). The key is fixed at creation: giving an existing instance another
            # key replaces it (make review flags it), and RDS restores a snapshot under the snapshot's own key,
            # so one under another key is first copied under this one (docs/runbooks/restore-database.md).
            kms_key_id=kms_key_arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            multi_az=multi_az,
            backup_retention_period=backup_retention_days,
            backup_window="02:00-03:00",
            maintenance_window="sun:03:30-sun:04:30",
            copy_tags_to_snapshot=True,
            deletion_protection=deletion_protection,
            skip_final_snapshot=False,
            # Named after the instance's creation time and then left alone (ignore_changes): every
            # instance, including each one a restore replaces, leaves its own final snapshot.
            final_snapshot_identifier=f'{identifier}-final-${{formatdate("YYYYMMDDhhmmss", timestamp())}}',
            delete_automated_backups=False,
            auto_minor_version_upgrade=True,
            # A major engine_version change is refused unless this is on for that apply.
            allow_major_version_upgrade=allow_major_version_upgrade,
            enabled_cloudwatch_logs_exports=["error", "slowquery"],
            snapshot_identifier=snapshot_identifier,
            # All three force a new instance, and a restored database takes db_name/username from its
            # snapshot: setting or dropping `snapshot_identifier` later must never replace the database.
            # (To restore into an existing environment, replace explicitly: terraform apply -replace=...)
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["snapshot_identifier", "db_name", "username", "final_snapshot_identifier"]
            ),
        )
        self.secret_arn = self.instance.master_user_secret.get(0).secret_arn
        # RDS owns the secret and rotates it (every 7 days by default, at any hour); this moves
        # the rotation into a quiet window. No Lambda: RDS-managed rotation. Never rotate on apply.
        self.rotation = SecretsmanagerSecretRotation(
            self,
            "password-rotation",
            secret_id=self.secret_arn,
            rotate_immediately=False,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(
                schedule_expression=rotation_schedule, duration=rotation_window
            ),
        )
        self.address = self.instance.address
        self.port = self.instance.port
        self.database_name = database_name


def allow_client(
    scope: Construct, construct_id: str, *, database_security_group_id: str, client_security_group_id: str
) -> VpcSecurityGroupIngressRule:
    """TCP 3306 into the database from one client security group (never a CIDR, never all ports)."""
    return allow_in(
        scope,
        construct_id,
        security_group_id=database_security_group_id,
        port=MARIADB_PORT,
        from_security_group_id=client_security_group_id,
        description="MariaDB from a client of the database",
    )
