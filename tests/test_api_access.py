"""api-<env> (ECS variant): who may touch it (ECS Exec, the CI roles, the restart on a new password)."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest

from config.model import AppConfig
from tests.conftest import EcsApi, env_named
from tests.tf import (
    Stack,
    follow,
    group_statements,
    named,
    only,
    policy_statements,
    ref,
    resources,
    role_statements,
)

ACCOUNT = "${data.aws_caller_identity.current-account.account_id}"


def test_exec_user_may_exec_into_this_cluster_only(config: AppConfig, ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    cluster = f"LITTIL-NL-{env.name}-littil-api"
    named(stack, "aws_iam_user", f"{cluster}-ECSExec-User")
    statements = {s["sid"]: s for s in group_statements(stack, f"{cluster}-ECSExec")}
    # ARNs name the account Terraform runs in (allowed_account_ids pins it), never a config value.
    prefix = f"arn:aws:ecs:eu-west-1:{ACCOUNT}"
    assert statements["ExecIntoClusterTasks"]["actions"] == ["ecs:ExecuteCommand"]
    assert statements["ExecIntoClusterTasks"]["resources"] == [
        f"{prefix}:cluster/{cluster}",
        f"{prefix}:task/{cluster}/*",
    ]
    assert statements["DescribeClusterTasks"]["resources"] == [f"{prefix}:task/{cluster}/*"]
    # `list-tasks --service-name` is authorized against `*`: granted there, for this cluster only.
    assert statements["ListClusterTasks"]["actions"] == ["ecs:ListTasks"]
    assert statements["ListClusterTasks"]["resources"] == ["*"]
    assert statements["ListClusterTasks"]["condition"][:1] == [
        {"test": "ArnEquals", "variable": "ecs:cluster", "values": [f"{prefix}:cluster/{cluster}"]}
    ]
    (ecs_cluster,) = resources(stack, "aws_ecs_cluster").values()
    assert ecs_cluster["name"] == cluster
    (service,) = resources(stack, "aws_ecs_service").values()
    assert service["name"] == cluster
    # One pasteable line: the task is found by the service, not typed in by hand.
    command = stack["output"]["exec-command"]["value"]
    assert command == (
        f'aws ecs execute-command --region eu-west-1 --cluster {cluster} --task "$(aws ecs list-tasks'
        f" --region eu-west-1 --cluster {cluster} --service-name {cluster} --desired-status RUNNING"
        ' --query \'taskArns[0]\' --output text)" --container web --command "sh" --interactive'
    )
    assert "<" not in command
    assert f"{cluster}-ECSExec-User" in stack["output"]["exec-command"]["description"]


def redeploy_role(stack: Stack) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The CI redeploy role's trust statement, and its permissions by sid."""
    role_id, role = named(stack, "aws_iam_role", "LITTIL-NL-api-ecs-redeploy")
    (trust,) = policy_statements(stack, role["assume_role_policy"])
    (policy,) = [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", role_id, "id")
    ]
    return trust, {s["sid"]: s for s in policy_statements(stack, policy["policy"])}


def test_ci_redeploy_role_trusts_only_the_application_repositorys_main_branch_and_release_tags(
    ecs_api: EcsApi,
) -> None:
    stacks, stack_name = ecs_api
    trust, _ = redeploy_role(stacks[stack_name])
    conditions = {c["variable"]: (c["test"], c["values"]) for c in trust["condition"]}
    assert conditions == {
        "token.actions.githubusercontent.com:aud": ("StringEquals", ["sts.amazonaws.com"]),
        "token.actions.githubusercontent.com:sub": (
            "StringLike",
            [
                "repo:Devoxx4Kids-NPO/littil-backend:ref:refs/heads/main",
                "repo:Devoxx4Kids-NPO/littil-backend:ref:refs/tags/v?*.?*.?*",
            ],
        ),
    }


@pytest.mark.parametrize(
    ("subject", "admitted"),
    [
        ("repo:Devoxx4Kids-NPO/littil-backend:ref:refs/heads/main", True),
        ("repo:Devoxx4Kids-NPO/littil-backend:ref:refs/tags/v1.6.0", True),
        ("repo:Devoxx4Kids-NPO/littil-backend:pull_request", False),
        ("repo:Devoxx4Kids-NPO/littil-backend:ref:refs/heads/feature", False),
        ("repo:Devoxx4Kids-NPO/littil-backend:ref:refs/heads/main-hack", False),
        ("repo:Devoxx4Kids-NPO/littil-backend:environment:staging", False),
        ("repo:Devoxx4Kids-NPO/littil-backend-fork:ref:refs/heads/main", False),
        ("repo:someone/littil-backend:ref:refs/tags/v1.6.0", False),
    ],
)
def test_ci_trust_admits_exactly_what_the_applications_workflows_run_as(
    stacks: dict[str, Stack], subject: str, admitted: bool
) -> None:
    """IAM's StringLike semantics (`*` any run of characters, `?` one) applied to real token subjects."""
    trust, _ = redeploy_role(stacks["api-staging"])
    (patterns,) = [c["values"] for c in trust["condition"] if c["variable"].endswith(":sub")]
    assert any(fnmatch.fnmatchcase(subject, pattern) for pattern in patterns) is admitted


def test_ci_redeploy_role_can_run_the_restart_workflow_but_not_switch_the_task_definition(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    _, statements = redeploy_role(stack)
    service_id, _ = only(resources(stack, "aws_ecs_service"))
    cluster_id, _ = only(resources(stack, "aws_ecs_cluster"))
    task_id, _ = only(resources(stack, "aws_ecs_task_definition"))
    assert set(statements) == {"FindTheCluster", "FindTheService", "RestartTheService", "WatchTheService"}
    # restart-staging.yml: list-clusters, list-services --cluster <first>, update-service --force-new-deployment.
    assert (statements["FindTheCluster"]["actions"], statements["FindTheCluster"]["resources"]) == (
        ["ecs:ListClusters"],
        ["*"],
    )
    assert (statements["FindTheService"]["actions"], statements["FindTheService"]["resources"]) == (
        ["ecs:ListServices"],
        ["*"],
    )
    assert statements["FindTheService"]["condition"] == [
        {"test": "ArnEquals", "variable": "ecs:cluster", "values": [ref("aws_ecs_cluster", cluster_id, "arn")]}
    ]
    restart = statements["RestartTheService"]
    assert restart["actions"] == ["ecs:UpdateService"]
    assert restart["resources"] == [ref("aws_ecs_service", service_id, "arn")]
    # The conditions name this stack's task definition and the service's own subnets (their rules: the construct).
    conditions = {c["variable"]: c["values"] for c in restart["condition"]}
    assert conditions["ecs:task-definition"] == [ref("aws_ecs_task_definition", task_id, "arn")]
    assert (
        conditions["ecs:subnet"] == stack["resource"]["aws_ecs_service"][service_id]["network_configuration"]["subnets"]
    )
    assert statements["WatchTheService"]["actions"] == ["ecs:DescribeServices"]
    assert statements["WatchTheService"]["resources"] == [ref("aws_ecs_service", service_id, "arn")]
    cluster = stack["resource"]["aws_ecs_cluster"][cluster_id]["name"]
    assert stack["output"]["restart-command"]["value"] == (
        f"aws ecs update-service --region eu-west-1 --cluster {cluster} --service {cluster} --force-new-deployment"
    )


def test_a_new_database_password_restarts_the_service(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    database_stack = stack_name.replace("api-", "database-")
    rule_id, rule = only(resources(stack, "aws_cloudwatch_event_rule"))
    pattern = rule["event_pattern"]
    # The rule matches AWSCURRENT moving on the database's RDS-managed master secret.
    assert pattern.startswith("${jsonencode(")
    assert '"detail-type" = ["Secret Label Updated"]' in pattern
    assert '"source" = ["aws.secretsmanager"]' in pattern
    assert '"detail" = {"labelUpdated" = ["AWSCURRENT"]}' in pattern
    (secret_read,) = re.findall(r'"resources" = \[(data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+)\]', pattern)
    (database_id, _) = only(resources(stacks[database_stack], "aws_db_instance"))
    assert follow(stacks, stack_name, f"${{{secret_read}}}") == (
        database_stack,
        f"${{aws_db_instance.{database_id}.master_user_secret[0].secret_arn}}",
    )
    # Its target starts the runbook, which forces a new deployment of exactly this service.
    _, target = only(resources(stack, "aws_cloudwatch_event_target"))
    runbook_id, runbook = only(resources(stack, "aws_ssm_document"))
    assert target["rule"] == ref("aws_cloudwatch_event_rule", rule_id, "name")
    assert target["arn"] == (
        f"arn:aws:ssm:eu-west-1:{ACCOUNT}:automation-definition/{ref('aws_ssm_document', runbook_id, 'name')}:$DEFAULT"
    )
    service_id, _ = only(resources(stack, "aws_ecs_service"))
    cluster_id, _ = only(resources(stack, "aws_ecs_cluster"))
    content = json.loads(runbook["content"])
    assert runbook["document_type"] == "Automation"
    (step,) = content["mainSteps"]
    assert step["action"] == "aws:executeAwsApi"
    assert step["inputs"] == {
        "Service": "ecs",
        "Api": "UpdateService",
        "cluster": ref("aws_ecs_cluster", cluster_id, "name"),
        "service": ref("aws_ecs_service", service_id, "name"),
        "forceNewDeployment": True,
    }
    # The runbook's role may restart the service and nothing else; EventBridge may only start it.
    restart_role_id, _ = named(
        stack, "aws_iam_role", f"{stack['resource']['aws_ecs_service'][service_id]['name']}-restart"
    )
    assert content["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert target["input"] == (f'${{jsonencode({{"AutomationAssumeRole" = [aws_iam_role.{restart_role_id}.arn]}})}}')
    _, redeploy = redeploy_role(stack)
    restart = role_statements(stack, f"{stack['resource']['aws_ecs_service'][service_id]['name']}-restart")
    assert restart == [redeploy["RestartTheService"], redeploy["WatchTheService"]]
    trigger_id = target["role_arn"].split(".")[1]
    trigger_name = stack["resource"]["aws_iam_role"][trigger_id]["name"]
    trigger = {s["sid"]: s for s in role_statements(stack, trigger_name)}
    assert trigger["StartRestartRunbook"]["actions"] == ["ssm:StartAutomationExecution"]
    assert (
        f"arn:aws:ssm:eu-west-1:{ACCOUNT}:automation-definition/{ref('aws_ssm_document', runbook_id, 'name')}:*"
        in trigger["StartRestartRunbook"]["resources"]
    )
    assert trigger["HandTheRunbookItsRole"]["actions"] == ["iam:PassRole"]
    assert trigger["HandTheRunbookItsRole"]["resources"] == [ref("aws_iam_role", restart_role_id, "arn")]
    for role_id, service in ((restart_role_id, "ssm.amazonaws.com"), (trigger_id, "events.amazonaws.com")):
        (trusts,) = policy_statements(stack, stack["resource"]["aws_iam_role"][role_id]["assume_role_policy"])
        assert trusts["principals"] == [{"type": "Service", "identifiers": [service]}]
