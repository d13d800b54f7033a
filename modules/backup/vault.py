"""A vault of the shared account that one environment's account may copy into, and nobody may empty early."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from cdktf_cdktf_provider_aws.backup_vault_policy import BackupVaultPolicy
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

from modules.access.iam import account_root_arn, arn, policy_document
from modules.backup.key import DataKey

COPY_INTO_VAULT_ACTIONS = ("backup:CopyIntoBackupVault",)
# Vault Lock in compliance mode once these days have passed: until then the lock itself can still be
# removed (AWS's minimum grace time is 3 days); afterwards nobody, not even the account's root user, can
# shorten a copy's retention, delete a copy before its time, remove the lock or delete the vault.
LOCK_GRACE_DAYS = 3


def vault_arn(name: str, *, region: str, account_id: str) -> str:
    """The ARN of vault `name` in another account (the copy's destination, known from config before it exists)."""
    return arn("backup", f"backup-vault:{name}", region=region, account=account_id)


class LockedCopyVault(Construct):
    """AWS Backup vault `name`, under a key of its own, for copies that `source_account_id` sends it.

    Its access policy allows that account `backup:CopyIntoBackupVault` and nothing else; nobody
    else is granted anything. The key lets that account use it through AWS Backup and RDS, so a
    copy can be copied back into it (which only this account can start); the key is sealed: nobody,
    this account's root user included, can delete it, disable it or change its policy, so what it
    encrypts stays readable (docs/decisions/0006-backup-copies.md). Vault Lock refuses any copy
    kept less than `min_retention_days` or more than `max_retention_days`, and turns into
    compliance mode 3 days after it is set: from then on even this account's root user cannot
    delete a copy early, remove the lock or delete the vault. `provider` puts it in another region
    (a copy stays in its source's region). Exposes `key`, `vault`, `policy`, `lock`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        source_account_id: str,
        min_retention_days: int,
        max_retention_days: int,
        account_id: str,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = DataKey(
            self,
            "key",
            alias=name.lower(),
            description=f"Backup copies in vault {name}",
            account_id=account_id,
            copying_account_ids=[source_account_id],  # to copy one back (docs/runbooks/restore-database.md)
            sealed=True,
            provider=provider,
        )
        self.vault = BackupVault(self, "vault", name=name, kms_key_arn=self.key.arn, provider=provider)
        access = policy_document(
            self,
            "access",
            [
                DataAwsIamPolicyDocumentStatement(
                    sid="OnlyTheSourceAccountCopiesIn",
                    effect="Allow",
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="AWS", identifiers=[account_root_arn(source_account_id)]
                        )
                    ],
                    actions=list(COPY_INTO_VAULT_ACTIONS),
                    resources=[self.vault.arn],
                )
            ],
        )
        self.policy = BackupVaultPolicy(
            self, "policy", backup_vault_name=self.vault.name, policy=access.json, provider=provider
        )
        self.lock = BackupVaultLockConfiguration(
            self,
            "lock",
            backup_vault_name=self.vault.name,
            changeable_for_days=LOCK_GRACE_DAYS,
            min_retention_days=min_retention_days,
            max_retention_days=max_retention_days,
            provider=provider,
        )
