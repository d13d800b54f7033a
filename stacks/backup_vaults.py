"""`backup-vaults-shared`: the shared account's locked vaults, one per environment that copies its backups here.

Its own stack, not the registry's: a vault lock in compliance mode refuses changes, and such a refusal
must never block a registry deploy; and what it holds outlives every other resource of the account.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from config.rules import BACKUP_COPY_MAX_DAYS
from modules.access.iam import ServiceRole
from modules.backup.account_copy import COPY_ROLE_POLICIES
from modules.backup.vault import LockedCopyVault
from modules.naming import copy_vault_name
from stacks.base import LittilStack

COMPONENT = "backup-vaults"


class BackupVaultsStack(LittilStack):
    """A locked vault for each of `copying` (the environments with `backup_copies { shared_account = true }`).

    A vault lives in its environment's region (AWS Backup copies an RDS snapshot to another account
    only within one region). An environment whose account id is still a placeholder gets no vault
    (nothing may ever grant such an account anything), and deploying refuses until it is filled in.
    With a vault comes the role AWS Backup uses to copy a copy back (docs/runbooks/restore-database.md).
    """

    def __init__(self, scope: Construct, *, env: SharedEnvironment, copying: Sequence[WorkloadEnvironment]) -> None:
        super().__init__(scope, component=COMPONENT, env=env)
        self.refuse_placeholder_accounts(copying, why="each copying environment's account is granted its vault here")
        providers: dict[str, AwsProvider] = {}
        self.vaults: dict[str, LockedCopyVault] = {}
        for source in copying:
            if source.has_placeholder_account:
                continue
            if source.region != env.region and source.region not in providers:
                providers[source.region] = self.provider_in(source.region)
            self.vaults[source.name] = LockedCopyVault(
                self,
                f"{source.name}-vault",
                name=copy_vault_name(source.country, source.name),
                source_account_id=source.account_id,
                min_retention_days=source.backup_copies.retention_days,
                max_retention_days=BACKUP_COPY_MAX_DAYS,
                account_id=self.current_account_id,
                provider=providers.get(source.region),
            )
        if self.vaults:
            # What AWS Backup uses to copy a copy back into its environment's account (restore-database.md).
            self.copy_back_role = ServiceRole(
                self,
                "copy-back-role",
                name=self.physical_name("backup-copy-back"),
                service="backup.amazonaws.com",
                description="AWS Backup: copy a database copy back into its environment's account",
                statements=[],
                managed_policy_arns=COPY_ROLE_POLICIES,
            ).role
            TerraformOutput(
                self,
                "copy-back-role-arn",
                value=self.copy_back_role.arn,
                description="--iam-role-arn of aws backup start-copy-job (docs/runbooks/restore-database.md)",
            )
        TerraformOutput(
            self,
            "vaults",
            value={name: vault.vault.arn for name, vault in self.vaults.items()},
            description="Each environment's copies (aws backup list-recovery-points-by-backup-vault)",
        )
