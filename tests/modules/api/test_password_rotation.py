"""modules/api/password_rotation.py alone: a rotated database password restarts the service or container, no more."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.access.iam import allow, condition
from modules.api.password_rotation import RestartInstanceOnPasswordChange, RestartServiceOnPasswordChange
from tests.modules.alone import ACCOUNT_ID, REGION, Built, build, has_no_resource, has_resource
from tests.tf import Stack, named, only, policy_statements, ref, resources, role_statements

NAME = "LITTIL-NL-test-littil-api"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:rds!db-0a1b2c3d-AbC123"
CLUSTER = NAME
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:service/{CLUSTER}/{NAME}"
TASK_DEFINITION_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/{NAME}:7"
INSTANCE_ID = "i-0123456789abcdef0"
COMMANDS = ("systemctl restart littil-api",)
# The service's own restart permission, as FargateApi.restart_statements gives it.
RESTART_STATEMENTS = [
    allow(
        ["ecs:UpdateService"],
        [SERVICE_ARN],
        conditions=[condition("ArnEqualsIfExists", "ecs:task-definition", [TASK_DEFINITION_ARN])],
        sid="RestartTheService",
    ),
    allow(["ecs:DescribeServices"], [SERVICE_ARN], sid="WatchTheService"),
]


@pytest.fixture(scope="module")
def service() -> Built[RestartServiceOnPasswordChange]:
    return build(
        lambda stack: RestartServiceOnPasswordChange(
            stack,
            "restart-on-password-change",
            name=NAME,
            secret_arn=SECRET_ARN,
            cluster_name=CLUSTER,
            service_name=NAME,
            restart_statements=RESTART_STATEMENTS,
            region=REGION,
            account_id=ACCOUNT_ID,
        )
    )


@pytest.fixture(scope="module")
def instance() -> Built[RestartInstanceOnPasswordChange]:
    return build(
        lambda stack: RestartInstanceOnPasswordChange(
            stack,
            "restart-on-password-change",
            name=NAME,
            secret_arn=SECRET_ARN,
            instance_id=INSTANCE_ID,
            commands=COMMANDS,
            region=REGION,
            account_id=ACCOUNT_ID,
        )
    )


def jsonencoded(value: str) -> Any:
    """A `${jsonencode({...})}` of literals back as Python (Terraform writes `=` between keys and values)."""
    assert value.startswith("${jsonencode("), value
    assert value.endswith(")}"), value
    return json.loads(value.removeprefix("${jsonencode(").removesuffix(")}").replace('" = ', '": '))


def trusted_service(stack: Stack, role: dict[str, Any], *, on_behalf_of: str) -> list[dict[str, Any]]:
    """The role's trusted principals; the trust admits the service only for this account's `on_behalf_of`."""
    (trust,) = policy_statements(stack, role["assume_role_policy"])
    assert trust["actions"] == ["sts:AssumeRole"]
    # The confused-deputy guard: the service acting for another account (or another rule) cannot assume it.
    assert trust["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [ACCOUNT_ID]},
        {"test": "ArnLike", "variable": "aws:SourceArn", "values": [on_behalf_of]},
    ]
    return list(trust["principals"])


@pytest.mark.parametrize("variant", ["service", "instance"])
def test_the_rule_fires_when_awscurrent_moves_to_a_new_version_of_exactly_the_given_secret(
    variant: str, request: pytest.FixtureRequest
) -> None:
    built: Built[Any] = request.getfixturevalue(variant)
    rule_id, rule = only(resources(built.stack, "aws_cloudwatch_event_rule"))
    assert rule["name"] == f"{NAME}-password-changed"
    assert jsonencoded(rule["event_pattern"]) == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        "resources": [SECRET_ARN],
        "detail": {"labelUpdated": ["AWSCURRENT"]},
    }
    _, target = only(resources(built.stack, "aws_cloudwatch_event_target"))
    assert target["rule"] == ref("aws_cloudwatch_event_rule", rule_id, "name")
    assert built.construct.rule.friendly_unique_id == rule_id


def test_the_runbook_forces_a_new_deployment_of_exactly_the_given_service(
    service: Built[RestartServiceOnPasswordChange],
) -> None:
    _, runbook = named(service.stack, "aws_ssm_document", f"{NAME}-restart")
    assert (runbook["document_type"], runbook["document_format"]) == ("Automation", "JSON")
    content = json.loads(runbook["content"])
    assert content["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert set(content["parameters"]) == {"AutomationAssumeRole"}
    (step,) = content["mainSteps"]
    assert step["action"] == "aws:executeAwsApi"
    assert step["inputs"] == {
        "Service": "ecs",
        "Api": "UpdateService",
        "cluster": CLUSTER,
        "service": NAME,
        "forceNewDeployment": True,
    }


def test_the_runbooks_role_holds_exactly_the_given_restart_statements(
    service: Built[RestartServiceOnPasswordChange],
) -> None:
    _, role = named(service.stack, "aws_iam_role", f"{NAME}-restart")
    executions = f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:automation-execution/*"
    assert trusted_service(service.stack, role, on_behalf_of=executions) == [
        {"type": "Service", "identifiers": ["ssm.amazonaws.com"]}
    ]
    assert role_statements(service.stack, f"{NAME}-restart") == [
        {
            "sid": "RestartTheService",
            "effect": "Allow",
            "actions": ["ecs:UpdateService"],
            "resources": [SERVICE_ARN],
            "condition": [
                {"test": "ArnEqualsIfExists", "variable": "ecs:task-definition", "values": [TASK_DEFINITION_ARN]}
            ],
        },
        {"sid": "WatchTheService", "effect": "Allow", "actions": ["ecs:DescribeServices"], "resources": [SERVICE_ARN]},
    ]


def test_eventbridge_may_only_start_the_runbook_and_hand_it_its_role(
    service: Built[RestartServiceOnPasswordChange],
) -> None:
    runbook_id, _ = only(resources(service.stack, "aws_ssm_document"))
    restart_role_id, _ = named(service.stack, "aws_iam_role", f"{NAME}-restart")
    trigger_id, trigger = named(service.stack, "aws_iam_role", f"{NAME}-restart-trigger")
    rule_id, _ = only(resources(service.stack, "aws_cloudwatch_event_rule"))
    assert trusted_service(service.stack, trigger, on_behalf_of=ref("aws_cloudwatch_event_rule", rule_id, "arn")) == [
        {"type": "Service", "identifiers": ["events.amazonaws.com"]}
    ]
    definition = (
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:automation-definition/{ref('aws_ssm_document', runbook_id, 'name')}"
    )
    statements = {s["sid"]: s for s in role_statements(service.stack, f"{NAME}-restart-trigger")}
    assert set(statements) == {"StartRestartRunbook", "HandTheRunbookItsRole"}
    assert statements["StartRestartRunbook"]["actions"] == ["ssm:StartAutomationExecution"]
    # Its definition (any version), its document, and the execution it creates.
    assert statements["StartRestartRunbook"]["resources"] == [
        f"{definition}:*",
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:document/{ref('aws_ssm_document', runbook_id, 'name')}",
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:automation-execution/*",
    ]
    assert statements["HandTheRunbookItsRole"]["actions"] == ["iam:PassRole"]
    assert statements["HandTheRunbookItsRole"]["resources"] == [ref("aws_iam_role", restart_role_id, "arn")]
    assert statements["HandTheRunbookItsRole"]["condition"] == [
        {"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ssm.amazonaws.com"]}
    ]
    # The target starts the runbook's default version as the trigger role, handing it the restart role.
    assert has_resource(
        service,
        "aws_cloudwatch_event_target",
        {
            "arn": f"{definition}:$DEFAULT",
            "role_arn": ref("aws_iam_role", trigger_id, "arn"),
            "input": f'${{jsonencode({{"AutomationAssumeRole" = [aws_iam_role.{restart_role_id}.arn]}})}}',
        },
    )


def test_the_instance_target_runs_the_given_commands_on_exactly_that_instance(
    instance: Built[RestartInstanceOnPasswordChange],
) -> None:
    _, target = only(resources(instance.stack, "aws_cloudwatch_event_target"))
    trigger_id, _ = named(instance.stack, "aws_iam_role", f"{NAME}-restart-trigger")
    # AWS-RunShellScript is AWS's own document: its ARN names no account.
    assert target["arn"] == f"arn:aws:ssm:{REGION}::document/AWS-RunShellScript"
    assert target["role_arn"] == ref("aws_iam_role", trigger_id, "arn")
    assert target["run_command_targets"] == [{"key": "InstanceIds", "values": [INSTANCE_ID]}]
    assert json.loads(target["input"]) == {"commands": list(COMMANDS)}
    # No runbook and no second role in this variant.
    assert has_no_resource(instance, "aws_ssm_document")
    assert [role["name"] for role in resources(instance.stack, "aws_iam_role").values()] == [f"{NAME}-restart-trigger"]


def test_eventbridge_may_only_send_the_shell_script_document_to_that_instance(
    instance: Built[RestartInstanceOnPasswordChange],
) -> None:
    _, trigger = named(instance.stack, "aws_iam_role", f"{NAME}-restart-trigger")
    rule_id, _ = only(resources(instance.stack, "aws_cloudwatch_event_rule"))
    assert trusted_service(instance.stack, trigger, on_behalf_of=ref("aws_cloudwatch_event_rule", rule_id, "arn")) == [
        {"type": "Service", "identifiers": ["events.amazonaws.com"]}
    ]
    assert role_statements(instance.stack, f"{NAME}-restart-trigger") == [
        {
            "sid": "RestartTheApiContainer",
            "effect": "Allow",
            "actions": ["ssm:SendCommand"],
            "resources": [
                f"arn:aws:ssm:{REGION}::document/AWS-RunShellScript",
                f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/{INSTANCE_ID}",
            ],
        }
    ]
