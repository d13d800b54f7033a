"""RDS's automated backups of one instance, replicated to a second region under a key of that region."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.db_instance_automated_backups_replication import (
    DbInstanceAutomatedBackupsReplication,
)
from constructs import Construct

from modules.backup.key import DataKey


class RegionCopy(Construct):
    """The instance `source_db_instance_arn`'s snapshots and transaction logs, copied by RDS into `provider`'s region.

    RDS re-encrypts them there with a customer-managed key of that region (`alias/<key_alias>`,
    made here: a KMS key never leaves its region) and keeps them `retention_days` (RDS allows at
    most 35; validation refuses more), so the database can be restored to any point in that time in the other region
    (docs/runbooks/restore-database.md). Replication is created in the destination region, as the
    API wants. Exposes `key` and `replication`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_db_instance_arn: str,
        retention_days: int,
        key_alias: str,
        account_id: str,
        provider: TerraformProvider,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = DataKey(
            self,
            "key",
            alias=key_alias,
            description="Replicated automated backups of the database (RDS, from another region)",
            account_id=account_id,
            provider=provider,
        )
        self.replication = DbInstanceAutomatedBackupsReplication(
            self,
            "replication",
            source_db_instance_arn=source_db_instance_arn,
            kms_key_id=self.key.arn,
            retention_period=retention_days,
            provider=provider,
        )
