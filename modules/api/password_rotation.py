"""Restart the API whenever the database password it read at start changes.

The API reads its database credentials once, when it starts. RDS rotates the
master password it manages in Secrets Manager on a schedule (`ROTATION_SCHEDULE`,
set in the database stack), and every rotation ends with the `AWSCURRENT` label
moving to the new version. Secrets Manager publishes that move to EventBridge
natively (`Secret Label Updated`, no CloudTrail trail needed), so one rule per
environment restarts the API on it:

- ECS: an SSM Automation runbook calls `ecs:UpdateService --force-new-deployment`;
  new tasks read the new password, old ones drain.
- EC2: SSM Run Command restarts the container unit on the instance, which reads
  the secrets again at start.

Each role may do exactly that one thing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetRunCommandTargets,
)
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.ssm_document import SsmDocument
from constructs import Construct

from modules.access.iam import ServiceRole, allow, arn, condition

# Wednesdays, 04:00-05:00 UTC (05:00/06:00 in the Netherlands): no lessons, no volunteers
# planning, outside the backup (02:00-03:00) and maintenance (Sunday 03:30) windows, and on a
# weekday so that someone is around if the restart goes wrong.
ROTATION_SCHEDULE = "cron(0 4 ? * WED *)"
ROTATION_WINDOW = "1h"
RUN_SHELL_SCRIPT_DOCUMENT = "AWS-RunShellScript"


def password_changed_pattern(secret_arn: str) -> str:
    """EventBridge pattern: `AWSCURRENT` moved to a new version of `secret_arn`."""
    return Fn.jsonencode(
        {
            "source": ["aws.secretsmanager"],
            "detail-type": ["Secret Label Updated"],
            "resources": [secret_arn],
            "detail": {"labelUpdated": ["AWSCURRENT"]},
        }
    )


def _rule(scope: Construct, *, name: str, secret_arn: str, what: str) -> CloudwatchEventRule:
    return CloudwatchEventRule(
        scope,
        "rule",
        name=name,
        description=f"The database password changed (rotation): {what}",
        event_pattern=password_changed_pattern(secret_arn),
    )


class RestartServiceOnPasswordChange(Construct):
    """ECS: a new deployment of one service when `secret_arn`'s current version changes.

    An Automation runbook (`<name>-restart`) forces the deployment with `restart_statements`
    (the service's own restart permission); EventBridge may only start that runbook and
    hand it its role. Exposes `rule`, `runbook`, `restart_role`, `trigger_role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        secret_arn: str,
        cluster_name: str,
        service_name: str,
        restart_statements: Sequence[DataAwsIamPolicyDocumentStatement],
        region: str,
        account_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.restart_role = ServiceRole(
            self,
            "restart-role",
            name=f"{name}-restart",
            service="ssm.amazonaws.com",
            description=f"Runbook {name}-restart: force a new deployment of {service_name}",
            statements=restart_statements,
            source_account=account_id,
            source_arn=arn("ssm", "automation-execution/*", region=region, account=account_id),
        ).role
        self.runbook = SsmDocument(
            self,
            "runbook",
            name=f"{name}-restart",
            document_type="Automation",
            document_format="JSON",
            content=json.dumps(
                {
                    "schemaVersion": "0.3",
                    "description": f"Force a new deployment of ECS service {service_name} (new tasks read the secrets)",
                    "assumeRole": "{{ AutomationAssumeRole }}",
                    "parameters": {
                        "AutomationAssumeRole": {"type": "String", "description": "Role that may restart the service"}
                    },
                    "mainSteps": [
                        {
                            "name": "ForceNewDeployment",
                            "action": "aws:executeAwsApi",
                            "inputs": {
                                "Service": "ecs",
                                "Api": "UpdateService",
                                "cluster": cluster_name,
                                "service": service_name,
                                "forceNewDeployment": True,
                            },
                        }
                    ],
                },
                indent=2,
            ),
        )
        definition = arn("ssm", f"automation-definition/{self.runbook.name}", region=region, account=account_id)
        self.rule = _rule(self, name=f"{name}-password-changed", secret_arn=secret_arn, what=f"restart {service_name}")
        self.trigger_role = ServiceRole(
            self,
            "trigger-role",
            name=f"{name}-restart-trigger",
            service="events.amazonaws.com",
            description=f"EventBridge: start runbook {name}-restart",
            source_account=account_id,
            source_arn=self.rule.arn,
            statements=[
                # The action authorizes the runbook's definition (any version), the document, and the
                # execution it creates (whose id is not known before).
                allow(
                    ["ssm:StartAutomationExecution"],
                    [
                        f"{definition}:*",
                        arn("ssm", f"document/{self.runbook.name}", region=region, account=account_id),
                        arn("ssm", "automation-execution/*", region=region, account=account_id),
                    ],
                    sid="StartRestartRunbook",
                ),
                allow(
                    ["iam:PassRole"],
                    [self.restart_role.arn],
                    conditions=[condition("StringEquals", "iam:PassedToService", ["ssm.amazonaws.com"])],
                    sid="HandTheRunbookItsRole",
                ),
            ],
        ).role
        CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            arn=f"{definition}:$DEFAULT",
            role_arn=self.trigger_role.arn,
            input=Fn.jsonencode({"AutomationAssumeRole": [self.restart_role.arn]}),
        )


class RestartInstanceOnPasswordChange(Construct):
    """EC2: run `commands` on one instance (Run Command) when `secret_arn`'s current version changes.

    EventBridge's role may send only `AWS-RunShellScript`, only to that instance.
    Exposes `rule`, `trigger_role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        secret_arn: str,
        instance_id: str,
        commands: Sequence[str],
        region: str,
        account_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        document = arn("ssm", f"document/{RUN_SHELL_SCRIPT_DOCUMENT}", region=region)
        self.rule = _rule(
            self, name=f"{name}-password-changed", secret_arn=secret_arn, what="restart the API container"
        )
        self.trigger_role = ServiceRole(
            self,
            "trigger-role",
            name=f"{name}-restart-trigger",
            service="events.amazonaws.com",
            description=f"EventBridge: restart the API container on {name}",
            source_account=account_id,
            source_arn=self.rule.arn,
            statements=[
                allow(
                    ["ssm:SendCommand"],
                    [document, arn("ec2", f"instance/{instance_id}", region=region, account=account_id)],
                    sid="RestartTheApiContainer",
                )
            ],
        ).role
        CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            arn=document,
            role_arn=self.trigger_role.arn,
            run_command_targets=[CloudwatchEventTargetRunCommandTargets(key="InstanceIds", values=[instance_id])],
            input=json.dumps({"commands": list(commands)}),
        )
