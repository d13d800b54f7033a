"""modules/backup/region_copy.py alone: RDS replicates the instance's backups into another region, under a key there."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.backup.region_copy import RegionCopy
from tests.modules.alone import ACCOUNT_ID, Built, build
from tests.tf import only, ref, resources

SOURCE = f"arn:aws:rds:eu-west-1:{ACCOUNT_ID}:db:littil-test-db"


def region_copy(retention_days: int) -> Built[RegionCopy]:
    def make(stack: TerraformStack) -> RegionCopy:
        elsewhere = AwsProvider(stack, "eu-central-1", region="eu-central-1", alias="eu-central-1")
        return RegionCopy(
            stack,
            "region-copy",
            source_db_instance_arn=SOURCE,
            retention_days=retention_days,
            key_alias="littil-test-db-backups",
            account_id=ACCOUNT_ID,
            provider=elsewhere,
        )

    return build(make)


@pytest.fixture(scope="module")
def two_weeks() -> Built[RegionCopy]:
    return region_copy(14)


def test_the_instances_backups_are_replicated_by_the_destination_region_under_a_key_of_that_region(
    two_weeks: Built[RegionCopy],
) -> None:
    key_id, key = only(resources(two_weeks.stack, "aws_kms_key"))
    _, replication = only(resources(two_weeks.stack, "aws_db_instance_automated_backups_replication"))
    assert replication["source_db_instance_arn"] == SOURCE
    # RDS takes the replication request in the destination region; a KMS key never leaves its region.
    assert replication["provider"] == key["provider"] == "aws.eu-central-1"
    assert replication["kms_key_id"] == ref("aws_kms_key", key_id, "arn")
    assert key["enable_key_rotation"] is True
    _, alias = only(resources(two_weeks.stack, "aws_kms_alias"))
    assert (alias["name"], alias["provider"]) == ("alias/littil-test-db-backups", "aws.eu-central-1")


def test_replicated_backups_are_kept_the_given_days(two_weeks: Built[RegionCopy]) -> None:
    _, replication = only(resources(two_weeks.stack, "aws_db_instance_automated_backups_replication"))
    assert replication["retention_period"] == 14
