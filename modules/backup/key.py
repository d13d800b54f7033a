"""A customer-managed KMS key for data: rotated yearly, administered by its account, usable by named others."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from modules.access.aws_actions import SEALED_KEY_ACTIONS
from modules.access.iam import account_root_arn, condition, policy_document

# What another account needs of the key to copy what it encrypts: the statement the KMS Developer Guide gives for
# letting other accounts use a key ("Allowing users in other accounts to use a KMS key"), the same actions AWS's
# troubleshooting of cross-account AWS Backup copies asks the source key to allow the destination account. Only
# through the services that copy: AWS Backup, and RDS, which copies the snapshot for it.
COPY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
COPYING_SERVICES = ("backup.*.amazonaws.com", "rds.*.amazonaws.com")
# Grants, which RDS and AWS Backup create for the time of a copy, and only for an AWS service acting for that
# account (`kms:GrantIsForAWSResource`): never a grant a person holds.
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
# The longest wait KMS allows between a deletion and the key's end: a key destroyed by mistake can be
# recovered (`aws kms cancel-key-deletion`) for this long, together with every backup it encrypts.
DELETION_WINDOW_DAYS = 30


def _to(accounts: Sequence[str]) -> list[DataAwsIamPolicyDocumentStatementPrincipals]:
    return [DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=list(map(account_root_arn, accounts)))]


def _copying(accounts: Sequence[str]) -> list[DataAwsIamPolicyDocumentStatement]:
    return [
        DataAwsIamPolicyDocumentStatement(
            sid="OtherAccountsCopyWhatItEncryptsThroughBackupAndRds",
            effect="Allow",
            principals=_to(accounts),
            actions=list(COPY_ACTIONS),
            resources=["*"],
            condition=[condition("StringLike", "kms:ViaService", COPYING_SERVICES)],
        ),
        DataAwsIamPolicyDocumentStatement(
            sid="OtherAccountsGrantItToAwsServicesOnly",
            effect="Allow",
            principals=_to(accounts),
            actions=list(GRANT_ACTIONS),
            resources=["*"],
            condition=[condition("Bool", "kms:GrantIsForAWSResource", ["true"])],
        ),
    ]


def _sealed() -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid="NobodyDeletesDisablesOrRepoliciesIt",
        effect="Deny",
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=["*"])],
        actions=list(SEALED_KEY_ACTIONS),
        resources=["*"],
    )


class DataKey(Construct):
    """KMS key `alias/<alias>` for data that must outlive what made it (a database, its backups, their copies).

    The key policy lets its own account administer and use it through IAM (`account_id`, the
    account root, as AWS's default key policy does), and lets each of `copying_account_ids` use it
    through AWS Backup and RDS to copy what it encrypts. Rotation is on; a deleted key waits 30
    days. `sealed`: the policy denies everyone, the account's root user included, deleting or
    disabling the key and changing its policy, for as long as the key exists (KMS's lockout safety
    check is bypassed to allow a policy that denies its own change); the policy can then never be
    changed. In a key policy the resource `*` means this key. `provider` puts it in another region.
    Exposes `key`, `alias`, `arn`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        account_id: str,
        copying_account_ids: Sequence[str] = (),
        sealed: bool = False,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        statements = [
            DataAwsIamPolicyDocumentStatement(
                sid="AccountAdministersAndGrantsThroughIam",
                effect="Allow",
                principals=_to([account_id]),
                actions=["kms:*"],
                resources=["*"],
            ),
            *(_copying(copying_account_ids) if copying_account_ids else []),
            *([_sealed()] if sealed else []),
        ]
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=policy_document(self, "policy", statements).json,
            bypass_policy_lockout_safety_check=sealed or None,
            provider=provider,
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id, provider=provider)
        self.arn = self.key.arn
