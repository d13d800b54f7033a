"""AWS Backup's daily snapshot of one database, copied into a vault of another account; a failed job mails.

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

# 05:00 UTC: after RDS's own backup window (02:00-03:00), the Sunday maintenance (03:30-04:30) and the
# Wednesday password rotation (04:00-05:00). A job not started within the hour expires (and mails).
DAILY = "cron(0 5 ? * * *)"
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 24 * 60
# AWS's managed policies for AWS Backup's service role: take snapshots (and copy them), restore them.
BACKUP_ROLE_POLICIES = tuple(
    arn("iam", f"policy/service-role/{name}", account="aws")
    for name in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores")
)
# Job states that leave no copy: failed, stopped, or never started within the start window.
NO_COPY_STATES = ("FAILED", "ABORTED", "EXPIRED")
JOB_EVENTS = ("Backup Job State Change", "Copy Job State Change")


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
    vault here. A backup or copy job that ends without a copy mails `topic_arn` (whose policy must
    let EventBridge publish). Exposes `vault`, `plan`, `selection`, `role`, `rule`.
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
            managed_policy_arns=BACKUP_ROLE_POLICIES,
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
            description="An AWS Backup job of the database ended without a copy",
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
