"""`database-<env>`: RDS MariaDB. Rare changes, protected; nothing else lives here."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from config.model import WorkloadEnvironment
from modules.database import MariaDb
from modules.network import Network
from modules.observe.alarms import DatabaseAlarms
from stacks.alerts import AlertsStack
from stacks.base import LittilStack


class DatabaseStack(LittilStack):
    def __init__(self, scope: Construct, *, env: WorkloadEnvironment, network: Network, alerts: AlertsStack) -> None:
        super().__init__(scope, component="database", env=env)
        database = env.database
        self.database = MariaDb(
            self,
            "database",
            identifier=self.physical_name("db").lower(),
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
        TerraformOutput(self, "endpoint", value=self.database.instance.endpoint, description="host:port of MariaDB")
        TerraformOutput(
            self, "master-secret-arn", value=self.database.secret_arn, description="RDS-managed master credentials"
        )
