"""modules/backup/account_copy.py alone: a daily snapshot copied into another account's vault; a failed job mails."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack

from modules.backup.account_copy import AccountCopy
from tests.modules.alone import ACCOUNT_ID, Built, build, has_resource
from tests.tf import managed_policies_of, only, policy_statements, ref, resources

NAME = "LITTIL-NL-test-db-backups"
DB_ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT_ID}:db:littil-test-db"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
DESTINATION = "arn:aws:backup:eu-west-1:210987654321:backup-vault:LITTIL-NL-test-db-copies"
TOPIC_ARN = f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:LITTIL-NL-test-alerts"


@pytest.fixture(scope="module")
def copies() -> Built[AccountCopy]:
    def make(stack: TerraformStack) -> AccountCopy:
        return AccountCopy(
            stack,
            "account-copy",
            name=NAME,
            db_instance_arn=DB_ARN,
            key_arn=KEY_ARN,
            destination_vault_arn=DESTINATION,
            retention_days=21,
            topic_arn=TOPIC_ARN,
            alarm_prefix="LITTIL-NL-test",
        )

    return build(make)


def test_every_day_the_database_is_snapshotted_here_and_copied_into_the_other_accounts_vault(
    copies: Built[AccountCopy],
) -> None:
    vault_id, vault = only(resources(copies.stack, "aws_backup_vault"))
    assert (vault["name"], vault["kms_key_arn"]) == (NAME, KEY_ARN)
    _, plan = only(resources(copies.stack, "aws_backup_plan"))
    (rule,) = plan["rule"]
    assert rule["target_vault_name"] == ref("aws_backup_vault", vault_id, "name")
    # 05:00 UTC, after RDS's backup window, the Sunday maintenance and the Wednesday password rotation.
    assert rule["schedule"] == "cron(0 5 ? * * *)"
    (copy,) = rule["copy_action"]
    assert copy["destination_vault_arn"] == DESTINATION


def test_the_snapshot_and_its_copy_are_both_kept_the_given_days(copies: Built[AccountCopy]) -> None:
    _, plan = only(resources(copies.stack, "aws_backup_plan"))
    (rule,) = plan["rule"]
    assert rule["lifecycle"] == {"delete_after": 21}
    assert rule["copy_action"][0]["lifecycle"] == {"delete_after": 21}


def test_the_plan_selects_exactly_the_database_with_a_role_only_aws_backup_assumes(copies: Built[AccountCopy]) -> None:
    plan_id, _ = only(resources(copies.stack, "aws_backup_plan"))
    role_id, role = only(resources(copies.stack, "aws_iam_role"))
    assert has_resource(
        copies,
        "aws_backup_selection",
        {"plan_id": ref("aws_backup_plan", plan_id, "id"), "iam_role_arn": ref("aws_iam_role", role_id, "arn")},
    )
    _, selection = only(resources(copies.stack, "aws_backup_selection"))
    assert selection["resources"] == [DB_ARN]
    (trust,) = policy_statements(copies.stack, role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"]
    # Snapshots and copies only: never AWS's restore policy (it may delete databases and start instances).
    assert managed_policies_of(copies.stack, role["name"]) == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    ]
    assert not resources(copies.stack, "aws_iam_role_policy")  # nothing of its own beyond AWS's policies


def test_a_backup_or_copy_job_that_ends_without_a_whole_copy_mails_the_alert_topic(copies: Built[AccountCopy]) -> None:
    rule_id, rule = only(resources(copies.stack, "aws_cloudwatch_event_rule"))
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change"],
        "detail": {"state": ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"]},
    }
    _, target = only(resources(copies.stack, "aws_cloudwatch_event_target"))
    assert (target["rule"], target["arn"]) == (ref("aws_cloudwatch_event_rule", rule_id, "name"), TOPIC_ARN)
    # The mail says which job, how it ended and why, and where the first steps are.
    transformer = target["input_transformer"]
    assert transformer["input_paths"] == {
        "kind": "$.detail-type",
        "state": "$.detail.state",
        "why": "$.detail.statusMessage",
    }
    text = json.loads(transformer["input_template"])  # SNS gets a plain-text message: a quoted string
    assert text.startswith(f"{NAME}: <kind> <state>: <why>.")
    assert "docs/runbooks/restore-database.md" in text


@pytest.mark.parametrize(
    ("kind", "metric", "vault"),
    [
        ("db-backup-missing", "NumberOfBackupJobsCompleted", "local"),
        # A copy job's count is published under its destination vault's name.
        ("db-copy-missing", "NumberOfCopyJobsCompleted", "LITTIL-NL-test-db-copies"),
    ],
)
def test_a_day_without_a_completed_backup_or_copy_mails_the_alert_topic(
    copies: Built[AccountCopy], kind: str, metric: str, vault: str
) -> None:
    vault_id, _ = only(resources(copies.stack, "aws_backup_vault"))
    (alarm,) = [
        a for a in resources(copies.stack, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"].endswith(kind)
    ]
    assert alarm["alarm_name"] == f"LITTIL-NL-test-{kind}"
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/Backup", metric)
    expected = ref("aws_backup_vault", vault_id, "name") if vault == "local" else vault
    assert alarm["dimensions"] == {"BackupVaultName": expected}
    # No count for 26 hours, or none at all (a deleted plan publishes nothing), is the alarm.
    assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == ("Sum", "LessThanThreshold", 1)
    assert alarm["period"] * alarm["evaluation_periods"] == 26 * 3600
    assert alarm["treat_missing_data"] == "breaching"
    assert alarm["alarm_actions"] == alarm["ok_actions"] == [TOPIC_ARN]
