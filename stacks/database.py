"""`database-<env>`: RDS MariaDB and the copies of its backups. Rare changes, protected; nothing else lives here."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.backup.account_copy import AccountCopy
from modules.backup.key import DataKey
from modules.backup.region_copy import RegionCopy
from modules.backup.vault import vault_arn
from modules.database import MariaDb
from modules.naming import copy_vault_name
from modules.network import Network
from modules.observe.alarms import DatabaseAlarms
from stacks.alerts import AlertsStack
from stacks.base import LittilStack


class DatabaseStack(LittilStack):
    def __init__(
        self,
        scope: Construct,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        network: Network,
        alerts: AlertsStack,
    ) -> None:
        super().__init__(scope, component="database", env=env)
        database, copies = env.database, env.backup_copies
        identifier = self.physical_name("db").lower()
        # A copy in another account needs a key that account may use (never aws/rds): docs/decisions/0006.
        self.key = (
            DataKey(
                self,
                "key",
                alias=identifier,
                description=f"Database {identifier}, its backups and their copies",
                account_id=self.current_account_id,
                copying_account_ids=[shared.account_id],
            )
            if copies.shared_account
            else None
        )
        self.database = MariaDb(
            self,
            "database",
            identifier=identifier,
            vpc_id=network.vpc.id,
            subnet_ids=network.isolated_subnet_ids,
            database_name=database.name,
            engine_version=database.engine_version,
            instance_class=database.instance_class,
            allocated_storage_gb=database.allocated_storage_gb,
            max_allocated_storage_gb=database.max_allocated_storage_gb,
            backup_retention_days=database.backup_retention_days,
            deletion_protection=database.deletion_protection,
            multi_az=database.multi_az,
            require_secure_transport=database.require_secure_transport,
            slow_query_seconds=database.slow_query_seconds,
            snapshot_identifier=database.snapshot_identifier,
            allow_major_version_upgrade=database.allow_major_version_upgrade,
            kms_key_arn=self.key.arn if self.key else None,
        )
        self.alarms = DatabaseAlarms(
            self,
            "alarms",
            name_prefix=alerts.name_prefix,
            topic_arn=alerts.topic.arn,
            instance_identifier=self.database.instance.identifier,
            free_storage_gb=env.alarms.database_free_storage_gb,
            cpu_percent=env.alarms.database_cpu_percent,
            freeable_memory_mib=env.alarms.database_freeable_memory_mib,
        )
        if copies.region is not None:
            self.region_copy = RegionCopy(
                self,
                "region-copy",
                source_db_instance_arn=self.database.instance.arn,
                retention_days=copies.retention_days,
                key_alias=f"{identifier}-backups",
                account_id=self.current_account_id,
                provider=self.provider_in(copies.region),
            )
        if self.key is not None:
            # The shared account's vault (stacks/backup_vaults.py) is named from config: no state is read across
            # accounts. Its account must be real before the first copy (deploying refuses until then).
            self.refuse_placeholder_accounts([shared], why="the database's backups are copied into the shared account")
            self.account_copy = AccountCopy(
                self,
                "account-copy",
                name=self.physical_name("db-backups"),
                db_instance_arn=self.database.instance.arn,
                key_arn=self.key.arn,
                destination_vault_arn=vault_arn(
                    copy_vault_name(env.country, env.name), region=env.region, account_id=shared.account_id
                ),
                retention_days=copies.retention_days,
                topic_arn=alerts.topic.arn,
                alarm_prefix=alerts.name_prefix,
            )
        TerraformOutput(self, "endpoint", value=self.database.instance.endpoint, description="host:port of MariaDB")
        TerraformOutput(
            self, "master-secret-arn", value=self.database.secret_arn, description="RDS-managed master credentials"
        )
