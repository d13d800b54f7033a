"""modules/backup/vault.py alone: only its environment's account copies into it; locked against early deletion."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.backup.vault import LockedCopyVault, vault_arn
from modules.naming import copy_vault_name
from tests.modules.alone import ACCOUNT_ID, Built, build
from tests.tf import only, policy_statements, ref, resources

SOURCE_ACCOUNT = "210987654321"
NAME = "LITTIL-NL-test-db-copies"


def vault(provider_region: str | None = None) -> Built[LockedCopyVault]:
    def make(stack: TerraformStack) -> LockedCopyVault:
        provider = (
            AwsProvider(stack, provider_region, region=provider_region, alias=provider_region)
            if provider_region
            else None
        )
        return LockedCopyVault(
            stack,
            "vault",
            name=NAME,
            source_account_id=SOURCE_ACCOUNT,
            min_retention_days=35,
            max_retention_days=365,
            account_id=ACCOUNT_ID,
            provider=provider,
        )

    return build(make)


@pytest.fixture(scope="module")
def here() -> Built[LockedCopyVault]:
    return vault()


def test_an_environments_vault_is_named_after_it_and_found_by_arn_before_it_exists() -> None:
    assert copy_vault_name("NL", "production") == "LITTIL-NL-production-db-copies"
    assert vault_arn(NAME, region="eu-west-1", account_id=SOURCE_ACCOUNT) == (
        f"arn:aws:backup:eu-west-1:{SOURCE_ACCOUNT}:backup-vault:{NAME}"
    )


def test_the_vault_has_a_rotated_key_of_its_own(here: Built[LockedCopyVault]) -> None:
    key_id, key = only(resources(here.stack, "aws_kms_key"))
    _, made = only(resources(here.stack, "aws_backup_vault"))
    assert (made["name"], made["kms_key_arn"]) == (NAME, ref("aws_kms_key", key_id, "arn"))
    assert key["enable_key_rotation"] is True
    assert "force_destroy" not in made  # a vault with copies in it is never emptied by a destroy


def test_the_vaults_key_is_sealed_and_the_source_account_may_use_it_to_take_a_copy_back(
    here: Built[LockedCopyVault],
) -> None:
    _, key = only(resources(here.stack, "aws_kms_key"))
    found = {statement["sid"]: statement for statement in policy_statements(here.stack, key["policy"])}
    assert found["OtherAccountsCopyWhatItEncryptsThroughBackupAndRds"]["principals"] == [
        {"type": "AWS", "identifiers": [f"arn:aws:iam::{SOURCE_ACCOUNT}:root"]}
    ]
    # Every copy is encrypted with this key: nobody in this account may delete it, disable it or lift that.
    assert found["NobodyDeletesDisablesOrRepoliciesIt"]["effect"] == "Deny"
    assert key["bypass_policy_lockout_safety_check"] is True


def test_only_the_source_account_may_copy_into_the_vault_and_do_nothing_else(here: Built[LockedCopyVault]) -> None:
    vault_id, _ = only(resources(here.stack, "aws_backup_vault"))
    _, policy = only(resources(here.stack, "aws_backup_vault_policy"))
    assert policy["backup_vault_name"] == ref("aws_backup_vault", vault_id, "name")
    (statement,) = policy_statements(here.stack, policy["policy"])
    assert statement["effect"] == "Allow"
    assert statement["principals"] == [{"type": "AWS", "identifiers": [f"arn:aws:iam::{SOURCE_ACCOUNT}:root"]}]
    assert statement["actions"] == ["backup:CopyIntoBackupVault"]
    assert statement["resources"] == [ref("aws_backup_vault", vault_id, "arn")]


def test_the_lock_holds_each_copy_between_its_days_and_hardens_after_three(here: Built[LockedCopyVault]) -> None:
    vault_id, _ = only(resources(here.stack, "aws_backup_vault"))
    _, lock = only(resources(here.stack, "aws_backup_vault_lock_configuration"))
    assert lock["backup_vault_name"] == ref("aws_backup_vault", vault_id, "name")
    # Compliance mode after 3 days (AWS's shortest grace time): then not even root deletes a copy early, and no
    # copy is accepted that would be kept shorter than the minimum or longer than the maximum (or for ever).
    assert (lock["changeable_for_days"], lock["min_retention_days"], lock["max_retention_days"]) == (3, 35, 365)


def test_with_a_provider_everything_of_the_vault_lives_in_its_region() -> None:
    built = vault("eu-central-1")
    placed = {
        kind: only(resources(built.stack, kind))[1]["provider"]
        for kind in (
            "aws_kms_key",
            "aws_kms_alias",
            "aws_backup_vault",
            "aws_backup_vault_policy",
            "aws_backup_vault_lock_configuration",
        )
    }
    assert set(placed.values()) == {"aws.eu-central-1"}
