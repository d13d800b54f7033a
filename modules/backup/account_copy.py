"""AWS Backup's daily snapshot of one database, copied into a vault of another account; a failed or missing job mails.

AWS Backup copies an RDS recovery point either to another account or to another region, not both
in one copy (docs/decisions/0006-backup-copies.md): this is the other account, in the same region.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from constructs import Construct

from modules.access.iam import ServiceRole, arn
from modules.observe.alarms import AlarmSet, Metric

# 05:00 UTC: after RDS's own backup window (02:00-03:00), the Sunday maintenance (03:30-04:30) and the
# Wednesday password rotation (04:00-05:00). A job not started within the hour expires (and mails).
DAILY = "cron(0 5 ? * * *)"
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 24 * 60
# AWS's managed policy for AWS Backup's service role that takes snapshots and copies them; never the one for
# restores (it may delete databases and start instances), which copying does not use.
COPY_ROLE_POLICIES = (arn("iam", "policy/service-role/AWSBackupServiceRolePolicyForBackup", account="aws"),)
# Job states that leave no whole copy: failed, stopped, never started within the start window, or partly done.
NO_COPY_STATES = ("FAILED", "ABORTED", "EXPIRED", "PARTIAL")
JOB_EVENTS = ("Backup Job State Change", "Copy Job State Change")
# AWS Backup's job counts (AWS Backup Developer Guide, "AWS Backup metrics with Amazon CloudWatch"): by vault
# name, which for a copy job is its destination vault's; published only when not zero.
BACKUP_METRICS = "AWS/Backup"


def failed_job_pattern() -> str:
    """EventBridge pattern: a backup or copy job of AWS Backup in this account and region ended without a copy."""
    return json.dumps(
        {"source": ["aws.backup"], "detail-type": list(JOB_EVENTS), "detail": {"state": list(NO_COPY_STATES)}}
    )


class AccountCopy(Construct):
    """A daily snapshot of `db_instance_arn` into a vault here (`name`), copied into `destination_vault_arn`.

    Both are kept `retention_days`. The database must be encrypted with a customer-managed key the
    destination account may use (`modules.backup.key`): AWS Backup cannot copy an RDS snapshot
    under the AWS-managed `aws/rds` key to another account. `key_arn` (that key) also encrypts the
    vault here. A backup or copy job that ends without a whole copy mails `topic_arn` (whose policy
    must let EventBridge publish), and so does a day with no completed backup job or no completed
    copy job into the destination (alarms `<alarm_prefix>-db-backup-missing` and `-db-copy-missing`):
    that also catches a plan or selection that was deleted, and events AWS did not deliver (it
    sends them best-effort). Exposes `vault`, `plan`, `selection`, `role`, `rule`, `alarms`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        db_instance_arn: str,
        key_arn: str,
        destination_vault_arn: str,
        retention_days: int,
        topic_arn: str,
        alarm_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = BackupVault(self, "vault", name=name, kms_key_arn=key_arn)
        self.plan = BackupPlan(
            self,
            "plan",
            name=name,
            rule=[
                BackupPlanRule(
                    rule_name="daily-copy-to-another-account",
                    target_vault_name=self.vault.name,
                    schedule=DAILY,
                    start_window=START_WINDOW_MINUTES,
                    completion_window=COMPLETION_WINDOW_MINUTES,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=retention_days),
                    copy_action=[
                        BackupPlanRuleCopyAction(
                            destination_vault_arn=destination_vault_arn,
                            lifecycle=BackupPlanRuleCopyActionLifecycle(delete_after=retention_days),
                        )
                    ],
                )
            ],
        )
        self.role = ServiceRole(
            self,
            "role",
            name=f"{name}-role",
            service="backup.amazonaws.com",
            description=f"AWS Backup plan {name}: snapshot the database and copy it",
            statements=[],
            managed_policy_arns=COPY_ROLE_POLICIES,
        ).role
        self.selection = BackupSelection(
            self,
            "selection",
            name=f"{name}-database",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=[db_instance_arn],
        )
        self.rule = CloudwatchEventRule(
            self,
            "job-failed",
            name=f"{name}-job-failed",
            description="An AWS Backup job of the database ended without a whole copy",
            event_pattern=failed_job_pattern(),
        )
        CloudwatchEventTarget(
            self,
            "mail",
            rule=self.rule.name,
            arn=topic_arn,
            input_transformer=CloudwatchEventTargetInputTransformer(
                input_paths={"kind": "$.detail-type", "state": "$.detail.state", "why": "$.detail.statusMessage"},
                input_template=json.dumps(
                    f"{name}: <kind> <state>: <why>. Today's copy of the database is missing; what to do:"
                    " docs/runbooks/restore-database.md, section Copies."
                ),
            ),
        )
        silence = AlarmSet(self, "silence", name_prefix=alarm_prefix, topic_arn=topic_arn)
        silence.add(
            "db-backup-missing",
            Metric(BACKUP_METRICS, "NumberOfBackupJobsCompleted", {"BackupVaultName": self.vault.name}),
            threshold=1,
        )
        destination_vault_name = destination_vault_arn.rsplit(":", 1)[1]
        silence.add(
            "db-copy-missing",
            Metric(BACKUP_METRICS, "NumberOfCopyJobsCompleted", {"BackupVaultName": destination_vault_name}),
            threshold=1,
        )
        self.alarms = silence.alarms
