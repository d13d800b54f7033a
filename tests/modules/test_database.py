"""modules/database.py alone: a private, encrypted MariaDB whose password RDS keeps, and its opt-ins."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack, Token

from modules.database import MARIADB_PORT, MariaDb, allow_client, parameter_group_family
from tests.modules.alone import Built, build, has_no_resource, has_resource
from tests.tf import only, ref, resources

IDENTIFIER = "littil-test-db"
# Set or not, these force a new instance; a restored database takes db_name/username from its snapshot.
IGNORED = ["snapshot_identifier", "db_name", "username", "final_snapshot_identifier"]


# What envs/ would give it; each test overrides what it is about.
SETTINGS: dict[str, Any] = {
    "instance_class": "db.t4g.micro",
    "allocated_storage_gb": 20,
    "max_allocated_storage_gb": 100,
    "backup_retention_days": 7,
    "deletion_protection": True,
    "multi_az": False,
    "require_secure_transport": False,
    "slow_query_seconds": 2,
    "snapshot_identifier": None,
    "allow_major_version_upgrade": False,
    "kms_key_arn": None,
}
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def mariadb(**options: Any) -> Built[MariaDb]:
    def make(stack: TerraformStack) -> MariaDb:
        database = MariaDb(
            stack,
            "database",
            identifier=IDENTIFIER,
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=["subnet-isolated-a", "subnet-isolated-b"],
            database_name="LittilDatabase",
            engine_version="10.11.9",
            **{**SETTINGS, **options},
        )
        allow_client(
            stack,
            "client",
            database_security_group_id=database.security_group.id,
            client_security_group_id="sg-0client",
        )
        TerraformOutput(stack, "secret-arn", value=database.secret_arn)
        TerraformOutput(stack, "address", value=database.address)
        TerraformOutput(stack, "port", value=Token.as_string(database.port))
        return database

    return build(make)


@pytest.fixture(scope="module")
def plain() -> Built[MariaDb]:
    return mariadb()


@pytest.fixture(scope="module")
def opted_in() -> Built[MariaDb]:
    return mariadb(
        instance_class="db.t4g.small",
        allocated_storage_gb=30,
        max_allocated_storage_gb=200,
        backup_retention_days=14,
        deletion_protection=False,
        multi_az=True,
        require_secure_transport=True,
        slow_query_seconds=5,
        snapshot_identifier="littil-before-upgrade",
        allow_major_version_upgrade=True,
        kms_key_arn=KEY_ARN,
        master_username="admin_from_test",
        rotation_schedule="cron(0 5 ? * THU *)",
        rotation_window="2h",
    )


def instance(built: Built[MariaDb]) -> tuple[str, dict[str, Any]]:
    return only(resources(built.stack, "aws_db_instance"))


def test_parameter_group_family_is_the_engines_major_version() -> None:
    assert parameter_group_family("10.11.9") == "mariadb10.11"
    assert parameter_group_family("10.6") == "mariadb10.6"
    assert parameter_group_family("11.4.3") == "mariadb11.4"


def test_database_is_private_encrypted_and_keeps_backups_and_a_final_snapshot(plain: Built[MariaDb]) -> None:
    assert has_resource(
        plain,
        "aws_db_instance",
        {
            "identifier": IDENTIFIER,
            "engine": "mariadb",
            "engine_version": "10.11.9",
            "instance_class": "db.t4g.micro",
            "port": MARIADB_PORT,
            "publicly_accessible": False,
            "storage_encrypted": True,
            "storage_type": "gp3",
            "allocated_storage": 20,
            "max_allocated_storage": 100,
            "multi_az": False,
            "backup_retention_period": 7,
            "backup_window": "02:00-03:00",
            "maintenance_window": "sun:03:30-sun:04:30",
            "deletion_protection": True,
            "skip_final_snapshot": False,
            "delete_automated_backups": False,
            "copy_tags_to_snapshot": True,
            "auto_minor_version_upgrade": True,
            "enabled_cloudwatch_logs_exports": ["error", "slowquery"],
        },
    )
    # One final snapshot per instance (named at its creation), so a second restore cannot collide.
    _, db = instance(plain)
    assert db["final_snapshot_identifier"] == f'{IDENTIFIER}-final-${{formatdate("YYYYMMDDhhmmss", timestamp())}}'


def test_options_reach_the_instance(opted_in: Built[MariaDb]) -> None:
    assert has_resource(
        opted_in,
        "aws_db_instance",
        {
            "instance_class": "db.t4g.small",
            "allocated_storage": 30,
            "max_allocated_storage": 200,
            "backup_retention_period": 14,
            "deletion_protection": False,
            "multi_az": True,
            # Still private and encrypted whatever else is chosen.
            "publicly_accessible": False,
            "storage_encrypted": True,
        },
    )


def test_master_password_is_managed_by_rds_and_appears_nowhere(plain: Built[MariaDb]) -> None:
    database_id, db = instance(plain)
    assert db["manage_master_user_password"] is True
    assert db["username"] == "littil_admin"
    assert "password" not in db
    assert "password_wo" not in db
    assert has_no_resource(plain, "aws_secretsmanager_secret")
    assert has_no_resource(plain, "aws_secretsmanager_secret_version")
    assert "random_password" not in plain.stack["resource"]
    # What clients read is RDS's own secret of this instance.
    assert plain.stack["output"]["secret-arn"]["value"] == (
        f"${{aws_db_instance.{database_id}.master_user_secret[0].secret_arn}}"
    )


def test_rds_rotates_the_password_in_a_quiet_hour_and_never_on_apply(plain: Built[MariaDb]) -> None:
    database_id, _ = instance(plain)
    _, rotation = only(resources(plain.stack, "aws_secretsmanager_secret_rotation"))
    assert rotation["secret_id"] == f"${{aws_db_instance.{database_id}.master_user_secret[0].secret_arn}}"
    # RDS-managed rotation: no Lambda; the schedule only moves it to Wednesdays 04:00-05:00 UTC.
    assert "rotation_lambda_arn" not in rotation
    assert rotation["rotation_rules"] == {"schedule_expression": "cron(0 4 ? * WED *)", "duration": "1h"}
    # The provider's default would rotate the live password on every create or schedule change.
    assert rotation["rotate_immediately"] is False


def test_a_given_rotation_window_replaces_the_default(opted_in: Built[MariaDb]) -> None:
    _, rotation = only(resources(opted_in.stack, "aws_secretsmanager_secret_rotation"))
    assert rotation["rotation_rules"] == {"schedule_expression": "cron(0 5 ? * THU *)", "duration": "2h"}
    assert rotation["rotate_immediately"] is False


def test_database_lives_in_the_given_subnets_and_its_own_security_group(plain: Built[MariaDb]) -> None:
    _, db = instance(plain)
    subnet_group_name, subnet_group = only(resources(plain.stack, "aws_db_subnet_group"))
    assert subnet_group["subnet_ids"] == ["subnet-isolated-a", "subnet-isolated-b"]
    assert db["db_subnet_group_name"] == ref("aws_db_subnet_group", subnet_group_name, "name")
    group_name, group = only(resources(plain.stack, "aws_security_group"))
    assert db["vpc_security_group_ids"] == [ref("aws_security_group", group_name, "id")]
    assert (group["name"], group["vpc_id"]) == (f"{IDENTIFIER}-db", "vpc-0123456789abcdef0")


def test_database_security_group_has_no_rules_of_its_own(plain: Built[MariaDb]) -> None:
    _, group = only(resources(plain.stack, "aws_security_group"))
    assert "ingress" not in group
    assert "egress" not in group
    assert group["revoke_rules_on_delete"] is True
    # The one ingress rule here is the test's allow_client; MariaDb itself adds none.
    ingress = resources(plain.stack, "aws_vpc_security_group_ingress_rule").values()
    assert [rule["referenced_security_group_id"] for rule in ingress] == ["sg-0client"]
    assert has_no_resource(plain, "aws_vpc_security_group_egress_rule")
    assert has_no_resource(plain, "aws_security_group_rule")


def test_allow_client_opens_3306_from_exactly_that_security_group(plain: Built[MariaDb]) -> None:
    group_name, _ = only(resources(plain.stack, "aws_security_group"))
    _, rule = only(resources(plain.stack, "aws_vpc_security_group_ingress_rule"))
    assert rule["security_group_id"] == ref("aws_security_group", group_name, "id")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 3306, 3306)
    assert rule["referenced_security_group_id"] == "sg-0client"
    assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule  # noqa: PT018


def test_clients_are_given_this_instances_address_and_port(plain: Built[MariaDb]) -> None:
    database_id, _ = instance(plain)
    assert plain.stack["output"]["address"]["value"] == ref("aws_db_instance", database_id, "address")
    assert plain.stack["output"]["port"]["value"] == ref("aws_db_instance", database_id, "port")
    assert plain.construct.database_name == "LittilDatabase"


# What every group sets besides the slow-query threshold: the slowquery export only ships a log
# that is on and written to a file (MariaDB's defaults: off, TABLE).
BASE_PARAMETERS = [
    {"name": "log_bin_trust_function_creators", "value": "1"},
    {"name": "slow_query_log", "value": "1"},
    {"name": "log_output", "value": "FILE"},
]


def test_parameters_trust_function_creators_log_slow_queries_to_the_exported_file_and_leave_tls_off(
    plain: Built[MariaDb],
) -> None:
    _, db = instance(plain)
    group_name, group = only(resources(plain.stack, "aws_db_parameter_group"))
    assert db["parameter_group_name"] == ref("aws_db_parameter_group", group_name, "name")
    assert group["family"] == "mariadb10.11"
    assert group["parameter"] == [*BASE_PARAMETERS, {"name": "long_query_time", "value": "2"}]
    # A new family (major upgrade) gets a new group before the old one goes.
    assert group["name_prefix"] == f"{IDENTIFIER}-"
    assert group["lifecycle"] == {"create_before_destroy": True}


def test_tls_opt_in_makes_the_server_refuse_clients_without_it(opted_in: Built[MariaDb]) -> None:
    _, group = only(resources(opted_in.stack, "aws_db_parameter_group"))
    assert group["parameter"] == [
        *BASE_PARAMETERS,
        {"name": "long_query_time", "value": "5"},
        {"name": "require_secure_transport", "value": "1"},
    ]


def test_a_new_database_is_created_empty_with_its_name_and_admin(plain: Built[MariaDb]) -> None:
    _, db = instance(plain)
    assert "snapshot_identifier" not in db
    assert (db["db_name"], db["username"]) == ("LittilDatabase", "littil_admin")
    # Adding a snapshot later must not replace the database either.
    assert db["lifecycle"] == {"ignore_changes": IGNORED}


def test_restore_from_snapshot_takes_name_and_admin_from_it_and_never_replaces_later(
    opted_in: Built[MariaDb],
) -> None:
    _, db = instance(opted_in)
    assert db["snapshot_identifier"] == "littil-before-upgrade"
    assert "db_name" not in db and "username" not in db  # noqa: PT018 (both come from the snapshot)
    assert db["manage_master_user_password"] is True
    assert db["lifecycle"] == {"ignore_changes": IGNORED}
    # Clients still connect to the database by the given name.
    assert opted_in.construct.database_name == "LittilDatabase"


def test_a_major_upgrade_is_refused_unless_asked_for(plain: Built[MariaDb], opted_in: Built[MariaDb]) -> None:
    assert instance(plain)[1]["allow_major_version_upgrade"] is False
    assert instance(opted_in)[1]["allow_major_version_upgrade"] is True


def test_storage_is_under_the_accounts_rds_key_unless_a_customer_managed_key_is_given(
    plain: Built[MariaDb], opted_in: Built[MariaDb]
) -> None:
    # Without a key RDS uses aws/rds, whose snapshots no other account can copy; with one, that key.
    assert "kms_key_id" not in instance(plain)[1]
    _, db = instance(opted_in)
    assert (db["storage_encrypted"], db["kms_key_id"]) == (True, KEY_ARN)
    # The key is fixed at creation: giving another one replaces the instance, which no ignore_changes hides.
    assert "kms_key_id" not in db["lifecycle"]["ignore_changes"]
