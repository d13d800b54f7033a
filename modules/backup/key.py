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

from modules.access.iam import account_root_arn, condition, policy_document

# What another account needs of the key to copy a snapshot encrypted with it (RDS re-encrypts the copy
# with a key of its own); the grant may only be for an AWS service acting for that account.
COPY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
GRANT_ACTIONS = ("kms:CreateGrant",)
# The longest wait KMS allows between a deletion and the key's end: a key destroyed by mistake can be
# recovered (`aws kms cancel-key-deletion`) for this long, together with every backup it encrypts.
DELETION_WINDOW_DAYS = 30


def _to(accounts: Sequence[str]) -> list[DataAwsIamPolicyDocumentStatementPrincipals]:
    return [DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=list(map(account_root_arn, accounts)))]


class DataKey(Construct):
    """KMS key `alias/<alias>` for data that must outlive what made it (a database, its backups, their copies).

    The key policy lets its own account administer and use it through IAM (`account_id`, the
    account root, as AWS's default key policy does), and lets each of `copying_account_ids` read
    it to copy what it encrypts. Rotation is on; a deleted key waits 30 days. In a key policy the
    resource `*` means this key. `provider` puts it in another region. Exposes `key`, `alias`, `arn`.
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
            )
        ]
        if copying_account_ids:
            statements += [
                DataAwsIamPolicyDocumentStatement(
                    sid="OtherAccountsCopyWhatItEncrypts",
                    effect="Allow",
                    principals=_to(copying_account_ids),
                    actions=list(COPY_ACTIONS),
                    resources=["*"],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="OtherAccountsGrantItToAwsServicesOnly",
                    effect="Allow",
                    principals=_to(copying_account_ids),
                    actions=list(GRANT_ACTIONS),
                    resources=["*"],
                    condition=[condition("Bool", "kms:GrantIsForAWSResource", ["true"])],
                ),
            ]
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=policy_document(self, "policy", statements).json,
            provider=provider,
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id, provider=provider)
        self.arn = self.key.arn
