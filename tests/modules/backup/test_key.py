"""modules/backup/key.py alone: a rotated key its own account administers and named others may copy with."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.backup.key import DataKey
from tests.modules.alone import ACCOUNT_ID, Built, build, has_resource
from tests.tf import only, policy_statements, ref, resources

COPYING_ACCOUNT = "210987654321"


def key(**options: Any) -> Built[DataKey]:
    def make(stack: TerraformStack) -> DataKey:
        made = DataKey(stack, "key", alias="littil-test-db", description="test data", account_id=ACCOUNT_ID, **options)
        TerraformOutput(stack, "arn", value=made.arn)  # what the database and vaults are given
        return made

    return build(make)


@pytest.fixture(scope="module")
def own() -> Built[DataKey]:
    return key()


@pytest.fixture(scope="module")
def shared() -> Built[DataKey]:
    return key(copying_account_ids=[COPYING_ACCOUNT])


def statements(built: Built[DataKey]) -> dict[str, dict[str, Any]]:
    _, made = only(resources(built.stack, "aws_kms_key"))
    return {statement["sid"]: statement for statement in policy_statements(built.stack, made["policy"])}


def test_key_rotates_and_a_deleted_key_can_be_recovered_for_30_days(own: Built[DataKey]) -> None:
    key_id, made = only(resources(own.stack, "aws_kms_key"))
    assert (made["enable_key_rotation"], made["deletion_window_in_days"]) == (True, 30)
    assert has_resource(
        own, "aws_kms_alias", {"name": "alias/littil-test-db", "target_key_id": ref("aws_kms_key", key_id, "key_id")}
    )
    assert own.stack["output"]["arn"]["value"] == ref("aws_kms_key", key_id, "arn")


def test_its_own_account_alone_administers_it_and_grants_it_through_iam(own: Built[DataKey]) -> None:
    # AWS's default key policy: without it no IAM policy of the account (nor RDS on its behalf) could use the key.
    assert statements(own) == {
        "AccountAdministersAndGrantsThroughIam": {
            "sid": "AccountAdministersAndGrantsThroughIam",
            "effect": "Allow",
            "principals": [{"type": "AWS", "identifiers": [f"arn:aws:iam::{ACCOUNT_ID}:root"]}],
            "actions": ["kms:*"],
            "resources": ["*"],  # in a key policy: this key
        }
    }


def test_a_copying_account_uses_the_key_only_through_aws_backup_and_rds(shared: Built[DataKey]) -> None:
    found = statements(shared)
    copy, grant = (
        found["OtherAccountsCopyWhatItEncryptsThroughBackupAndRds"],
        found["OtherAccountsGrantItToAwsServicesOnly"],
    )
    for statement in (copy, grant):
        assert statement["principals"] == [{"type": "AWS", "identifiers": [f"arn:aws:iam::{COPYING_ACCOUNT}:root"]}]
        assert statement["effect"] == "Allow"
    # The KMS guide's statement for other accounts, usable only through the two services that copy.
    assert copy["actions"] == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert copy["condition"] == [
        {
            "test": "StringLike",
            "variable": "kms:ViaService",
            "values": ["backup.*.amazonaws.com", "rds.*.amazonaws.com"],
        }
    ]
    assert grant["actions"] == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    assert grant["condition"] == [{"test": "Bool", "variable": "kms:GrantIsForAWSResource", "values": ["true"]}]
    # Never administering for the other account.
    assert found["AccountAdministersAndGrantsThroughIam"]["principals"][0]["identifiers"] == [
        f"arn:aws:iam::{ACCOUNT_ID}:root"
    ]


def test_a_sealed_key_refuses_everyone_its_deletion_disabling_and_a_new_policy() -> None:
    sealed = key(sealed=True)
    deny = statements(sealed)["NobodyDeletesDisablesOrRepoliciesIt"]
    assert deny == {
        "sid": "NobodyDeletesDisablesOrRepoliciesIt",
        "effect": "Deny",
        "principals": [{"type": "AWS", "identifiers": ["*"]}],  # the account's root user and administrators too
        "actions": ["kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
        "resources": ["*"],
    }
    # KMS refuses a new key whose policy denies its own change unless its lockout check is bypassed.
    _, made = only(resources(sealed.stack, "aws_kms_key"))
    assert made["bypass_policy_lockout_safety_check"] is True


def test_an_unsealed_key_keeps_the_lockout_check_and_denies_nothing(own: Built[DataKey]) -> None:
    _, made = only(resources(own.stack, "aws_kms_key"))
    assert "bypass_policy_lockout_safety_check" not in made
    assert [s for s in statements(own).values() if s["effect"] == "Deny"] == []


def test_with_a_provider_key_and_alias_live_in_its_region() -> None:
    def make(stack: TerraformStack) -> DataKey:
        elsewhere = AwsProvider(stack, "eu-central-1", region="eu-central-1", alias="eu-central-1")
        return DataKey(
            stack, "key", alias="littil-test-copies", description="test", account_id=ACCOUNT_ID, provider=elsewhere
        )

    built = build(make)
    _, made = only(resources(built.stack, "aws_kms_key"))
    _, alias = only(resources(built.stack, "aws_kms_alias"))
    assert made["provider"] == alias["provider"] == "aws.eu-central-1"
