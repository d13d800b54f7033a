"""api-<env> (ECS variant): who reaches it (load balancer, security groups) and who may touch it (exec, CI)."""

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
    subnet_tiers,
)


def test_https_listener_uses_the_certificate_stacks_certificate_and_a_tls12_policy(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    listeners = {listener["port"]: listener for listener in resources(stack, "aws_lb_listener").values()}
    assert set(listeners) == {443, 80}
    https, http = listeners[443], listeners[80]
    certificate_stack = stack_name.replace("api-", "certificate-")
    certificate_name, _ = only(resources(stacks[certificate_stack], "aws_acm_certificate"))
    assert follow(stacks, stack_name, https["certificate_arn"]) == (
        certificate_stack,
        ref("aws_acm_certificate", certificate_name, "arn"),
    )
    assert https["protocol"] == "HTTPS"
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    target_group_name, target_group = only(resources(stack, "aws_lb_target_group"))
    assert https["default_action"] == [
        {"type": "forward", "target_group_arn": ref("aws_lb_target_group", target_group_name, "arn")}
    ]
    assert http["protocol"] == "HTTP"
    assert http["default_action"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
    ]
    assert (target_group["target_type"], target_group["port"], target_group["protocol"]) == ("ip", 8080, "HTTP")
    health = target_group["health_check"]
    assert (health["path"], health["matcher"], health["unhealthy_threshold"]) == ("/q/health/ready", "200,404", 4)


def test_load_balancer_is_internet_facing_in_public_subnets_and_drops_invalid_headers(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    _, balancer = only(resources(stack, "aws_lb"))
    assert balancer["internal"] is False
    assert balancer["load_balancer_type"] == "application"
    assert balancer["drop_invalid_header_fields"] is True
    assert subnet_tiers(stacks, stack_name, balancer["subnets"]) == (
        stack_name.replace("api-", "network-"),
        ["public", "public"],
    )


def test_service_runs_in_public_subnets_with_public_ip_rolls_back_and_allows_exec(
    config: AppConfig, ecs_api: EcsApi
) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    _, service = only(resources(stack, "aws_ecs_service"))
    assert service["desired_count"] == env.api.ecs.desired_count
    assert service["launch_type"] == "FARGATE"
    assert service["enable_execute_command"] is True
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    network = service["network_configuration"]
    assert network["assign_public_ip"] is True
    assert subnet_tiers(stacks, stack_name, network["subnets"])[1] == ["public", "public"]
    target_group_name, _ = only(resources(stack, "aws_lb_target_group"))
    assert service["load_balancer"] == [
        {
            "target_group_arn": ref("aws_lb_target_group", target_group_name, "arn"),
            "container_name": "web",
            "container_port": 8080,
        }
    ]


def test_nat_opt_in_moves_tasks_to_private_subnets_without_public_ip(opt_ins: dict[str, Stack]) -> None:
    _, service = only(resources(opt_ins["api-staging"], "aws_ecs_service"))
    assert service["network_configuration"]["assign_public_ip"] is False
    subnets = service["network_configuration"]["subnets"]
    assert subnet_tiers(opt_ins, "api-staging", subnets) == ("network-staging", ["private", "private"])


def test_tasks_are_reachable_only_from_the_load_balancer_and_reach_out_only_where_needed(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    _, service = only(resources(stack, "aws_ecs_service"))
    (task_group,) = service["network_configuration"]["security_groups"]
    _, balancer = only(resources(stack, "aws_lb"))
    (lb_group,) = balancer["security_groups"]
    ingress = [
        rule
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == task_group
    ]
    assert [(r["from_port"], r["to_port"], r.get("referenced_security_group_id")) for r in ingress] == [
        (8080, 8080, lb_group)
    ]
    egress = {
        (rule["to_port"], str(rule.get("cidr_ipv4") or rule["referenced_security_group_id"]))
        for rule in resources(stack, "aws_vpc_security_group_egress_rule").values()
        if rule["security_group_id"] == task_group
    }
    database_stack = stack_name.replace("api-", "database-")
    db_group = {
        value for port, value in egress if port == 3306 and follow(stacks, stack_name, value)[0] == database_stack
    }
    assert egress == {(443, "0.0.0.0/0"), (465, "0.0.0.0/0"), (3306, next(iter(db_group)))}
    lb_ingress = {
        (rule["from_port"], rule.get("cidr_ipv4") or rule.get("cidr_ipv6"))
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == lb_group
    }
    assert lb_ingress == {(443, "0.0.0.0/0"), (80, "0.0.0.0/0")}


def test_no_security_group_opens_anything_but_http_and_https_to_the_world(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    opened = 0
    for stack_name, stack in stacks.items():
        for name, rule in resources(stack, "aws_vpc_security_group_ingress_rule").items():
            if rule.get("cidr_ipv4") == "0.0.0.0/0" or "cidr_ipv6" in rule:
                assert (rule["from_port"], rule["to_port"]) in {(80, 80), (443, 443)}, f"{stack_name}/{name}"
                opened += 1
            assert rule["ip_protocol"] != "-1", f"{stack_name}/{name}"
        for name, group in resources(stack, "aws_security_group").items():
            assert "ingress" not in group and "egress" not in group, f"{stack_name}/{name} uses inline rules"  # noqa: PT018
    # 80 and 443 per API (its load balancer or its instance), IPv4 only (the VPCs have no IPv6), nothing else.
    assert opened == 2 * len(config.workloads)


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
    assert statements["ListClusterTasks"]["condition"] == [
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
