"""modules/api/fargate_task.py alone: an exec-ready cluster, a one-container task and its two narrow roles."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

from modules.access.aws_actions import ECR_PULL_ACTIONS, SSM_MESSAGES_ACTIONS
from modules.access.secrets import SecretKey
from modules.api.fargate_task import ExecCluster, FargateTask
from modules.api.kept_logs import LogGroup, LogGroupRef
from tests.modules.alone import ACCOUNT_ID, Built, build, has_resource
from tests.tf import Stack, container_definition, named, only, policy_statements, ref, resources, role_statements

REPOSITORY = "arn:aws:ecr:eu-west-1:680278545709:repository/littil-backend"
IMAGE = "680278545709.dkr.ecr.eu-west-1.amazonaws.com/littil-backend:1.6.0"
DATABASE_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0123-AbCdEf"
OIDC_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:littil/backend/staging/oidc-AbCdEf"

Pair = tuple[ExecCluster, FargateTask]


def cluster_and_task(
    stack: TerraformStack,
    *,
    name: str,
    container_insights: bool,
    kept_elsewhere: bool,
    port: int | None,
    secrets: dict[str, SecretKey],
    size: dict[str, Any],
) -> Pair:
    """How modules/api/fargate.py and modules/maintenance.py combine the two: the task logs exec sessions
    to the cluster's exec log group, made in the same stack (the API's) or `kept_elsewhere` (maintenance's)."""
    log_group = CloudwatchLogGroup(stack, "log-group", name=f"/ecs/{name}")
    exec_log_group: LogGroup = (
        LogGroupRef.named(f"/ecs/{name}/exec-sessions", region="eu-west-1", account_id=ACCOUNT_ID)
        if kept_elsewhere
        else CloudwatchLogGroup(stack, "exec-log-group", name=f"/ecs/{name}/exec-sessions")
    )
    cluster = ExecCluster(
        stack, "exec-cluster", name=name, container_insights=container_insights, exec_log_group=exec_log_group
    )
    task = FargateTask(
        stack,
        "task",
        family=name,
        container_name="web" if port else "maintenance",
        image=IMAGE,
        repository_arn=REPOSITORY,
        environment={"DATASOURCE_PORT": "3306", "DATASOURCE_HOST": "db.internal"},
        secrets=secrets,
        log_group=log_group,
        exec_log_group=exec_log_group,
        region="eu-west-1",
        account_id=ACCOUNT_ID,
        port=port,
        **size,
    )
    return cluster, task


@pytest.fixture(scope="module")
def web() -> Built[Pair]:
    """The API's shape: a port, a larger size, secrets from two secrets (one read for two keys)."""
    secrets = {
        "DATASOURCE_USERNAME": SecretKey(DATABASE_SECRET, "username"),
        "DATASOURCE_PASSWORD": SecretKey(DATABASE_SECRET, "password"),
        "OIDC_TENANT": SecretKey(OIDC_SECRET, "oidcTenant"),
    }
    return build(
        lambda stack: cluster_and_task(
            stack,
            name="api",
            container_insights=True,
            kept_elsewhere=False,
            port=8080,
            secrets=secrets,
            size={"cpu": 512, "memory_mib": 1024},
        )
    )


@pytest.fixture(scope="module")
def worker() -> Built[Pair]:
    """The maintenance task's shape: no port, the smallest size, no container insights."""
    secrets = {"DB_USER": SecretKey(DATABASE_SECRET, "username")}
    return build(
        lambda stack: cluster_and_task(
            stack,
            name="worker",
            container_insights=False,
            kept_elsewhere=True,
            port=None,
            secrets=secrets,
            size={"cpu": 256, "memory_mib": 512},
        )
    )


def task_definition(stack: Stack) -> tuple[str, dict[str, Any]]:
    return only(resources(stack, "aws_ecs_task_definition"))


def test_exec_sessions_are_logged_to_the_given_log_group_of_this_stack_or_of_another(
    web: Built[Pair], worker: Built[Pair]
) -> None:
    group_id, _ = named(web.stack, "aws_cloudwatch_log_group", "/ecs/api/exec-sessions")
    for built, name, log_group_name in (
        (web, "api", ref("aws_cloudwatch_log_group", group_id, "name")),
        (worker, "worker", "/ecs/worker/exec-sessions"),  # kept in another stack: by name, no state read
    ):
        assert has_resource(
            built,
            "aws_ecs_cluster",
            {
                "name": name,
                "configuration": {
                    "execute_command_configuration": {
                        "logging": "OVERRIDE",
                        "log_configuration": {"cloud_watch_log_group_name": log_group_name},
                    }
                },
            },
        ), name
    # The cluster makes no log group of its own: its end never takes the sessions along.
    assert [g["name"] for g in resources(worker.stack, "aws_cloudwatch_log_group").values()] == ["/ecs/worker"]


def test_container_insights_follow_the_flag(web: Built[Pair], worker: Built[Pair]) -> None:
    assert has_resource(web, "aws_ecs_cluster", {"setting": [{"name": "containerInsights", "value": "enabled"}]})
    assert has_resource(worker, "aws_ecs_cluster", {"setting": [{"name": "containerInsights", "value": "disabled"}]})


def test_container_runs_the_image_and_logs_to_the_given_group_with_awslogs(web: Built[Pair]) -> None:
    web_container = container_definition(web.stack)
    assert (web_container["name"], web_container["image"], web_container["essential"]) == ("web", IMAGE, True)
    log_group_id, _ = named(web.stack, "aws_cloudwatch_log_group", "/ecs/api")
    assert web_container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": ref("aws_cloudwatch_log_group", log_group_id, "name"),
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "web",
        },
    }


def test_the_port_is_mapped_only_when_given(web: Built[Pair], worker: Built[Pair]) -> None:
    assert container_definition(web.stack)["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert container_definition(worker.stack)["portMappings"] == []


def test_environment_is_plain_and_secrets_are_only_ecs_value_from_references(web: Built[Pair]) -> None:
    web_container = container_definition(web.stack)
    # Sorted by name, so the task definition does not change with dict order.
    assert web_container["environment"] == [
        {"name": "DATASOURCE_HOST", "value": "db.internal"},
        {"name": "DATASOURCE_PORT", "value": "3306"},
    ]
    assert web_container["secrets"] == [
        {"name": "DATASOURCE_PASSWORD", "valueFrom": f"{DATABASE_SECRET}:password::"},
        {"name": "DATASOURCE_USERNAME", "valueFrom": f"{DATABASE_SECRET}:username::"},
        {"name": "OIDC_TENANT", "valueFrom": f"{OIDC_SECRET}:oidcTenant::"},
    ]


def test_ecs_exec_can_work_inside_the_container(web: Built[Pair], worker: Built[Pair]) -> None:
    for built in (web, worker):
        definition = container_definition(built.stack)
        assert definition["readonlyRootFilesystem"] is False  # the exec agent writes to it
        assert definition["linuxParameters"] == {"initProcessEnabled": True}


def test_task_definition_is_fargate_on_linux_x86_with_the_given_size(web: Built[Pair], worker: Built[Pair]) -> None:
    for built, family, cpu, memory in ((web, "api", "512", "1024"), (worker, "worker", "256", "512")):
        assert has_resource(
            built,
            "aws_ecs_task_definition",
            {
                "family": family,
                "cpu": cpu,
                "memory": memory,
                "requires_compatibilities": ["FARGATE"],
                "network_mode": "awsvpc",
                "runtime_platform": {"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            },
        ), family


def test_the_task_runs_with_its_own_two_roles_assumed_only_by_ecs_tasks_of_this_account(web: Built[Pair]) -> None:
    stack = web.stack
    _, task = task_definition(stack)
    execution_id, execution = named(stack, "aws_iam_role", "api-execution")
    task_role_id, task_role = named(stack, "aws_iam_role", "api-task")
    assert task["execution_role_arn"] == ref("aws_iam_role", execution_id, "arn")
    assert task["task_role_arn"] == ref("aws_iam_role", task_role_id, "arn")
    for role in (execution, task_role):
        assert policy_statements(stack, role["assume_role_policy"]) == [
            {
                "effect": "Allow",
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}],
                # The confused-deputy guard: ECS acting for another account's task cannot assume it.
                "condition": [
                    {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [ACCOUNT_ID]},
                    {
                        "test": "ArnLike",
                        "variable": "aws:SourceArn",
                        "values": [f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:*"],
                    },
                ],
            }
        ]


def test_execution_role_pulls_exactly_the_repository_writes_its_log_group_and_reads_each_secret_once(
    web: Built[Pair], worker: Built[Pair]
) -> None:
    stack = web.stack
    statements = {s["sid"]: s for s in role_statements(stack, "api-execution")}
    assert set(statements) == {"RegistryLogin", "PullImage", "WriteContainerLogs", "ReadSecrets"}
    assert (statements["RegistryLogin"]["actions"], statements["RegistryLogin"]["resources"]) == (
        ["ecr:GetAuthorizationToken"],
        ["*"],
    )
    assert sorted(statements["PullImage"]["actions"]) == sorted(ECR_PULL_ACTIONS)
    assert statements["PullImage"]["resources"] == [REPOSITORY]
    log_group_id, _ = named(stack, "aws_cloudwatch_log_group", "/ecs/api")
    assert statements["WriteContainerLogs"]["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements["WriteContainerLogs"]["resources"] == [
        f"{ref('aws_cloudwatch_log_group', log_group_id, 'arn')}:*"
    ]
    # The secrets behind the container's `secrets`, each once, and no other.
    assert statements["ReadSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadSecrets"]["resources"] == [DATABASE_SECRET, OIDC_SECRET]
    (read_by_worker,) = [s for s in role_statements(worker.stack, "worker-execution") if s["sid"] == "ReadSecrets"]
    assert read_by_worker["resources"] == [DATABASE_SECRET]


def test_task_role_has_exactly_the_exec_channel_and_its_session_logs(web: Built[Pair], worker: Built[Pair]) -> None:
    stack = web.stack
    statements = {s["sid"]: s for s in role_statements(stack, "api-task")}
    assert set(statements) == {"EcsExecChannel", "FindExecLogGroup", "WriteExecSessionLogs"}
    assert sorted(statements["EcsExecChannel"]["actions"]) == sorted(SSM_MESSAGES_ACTIONS)
    assert statements["EcsExecChannel"]["resources"] == ["*"]
    # The agent's DescribeLogGroups has no resource type: AWS authorizes it only on `*`.
    assert statements["FindExecLogGroup"]["actions"] == ["logs:DescribeLogGroups"]
    assert statements["FindExecLogGroup"]["resources"] == ["*"]
    exec_group_id, _ = named(stack, "aws_cloudwatch_log_group", "/ecs/api/exec-sessions")
    arn = ref("aws_cloudwatch_log_group", exec_group_id, "arn")
    # Kept in another stack, the log group is known by its ARN, composed from its name.
    (kept,) = [s for s in role_statements(worker.stack, "worker-task") if s["sid"] == "WriteExecSessionLogs"]
    kept_arn = f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:/ecs/worker/exec-sessions"
    assert kept["resources"] == [kept_arn, f"{kept_arn}:*"]
    assert sorted(statements["WriteExecSessionLogs"]["actions"]) == [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    assert statements["WriteExecSessionLogs"]["resources"] == [arn, f"{arn}:*"]


def test_a_task_without_secrets_reads_none(worker: Built[Pair]) -> None:
    built = build(
        lambda stack: cluster_and_task(
            stack,
            name="plain",
            container_insights=False,
            kept_elsewhere=False,
            port=None,
            secrets={},
            size={"cpu": 256, "memory_mib": 512},
        )
    )
    assert [s["sid"] for s in role_statements(built.stack, "plain-execution")] == [
        "RegistryLogin",
        "PullImage",
        "WriteContainerLogs",
    ]
    assert container_definition(built.stack)["secrets"] == []
    # The same task with one secret reads exactly that one.
    (read,) = [s for s in role_statements(worker.stack, "worker-execution") if s["sid"] == "ReadSecrets"]
    assert read["resources"] == [DATABASE_SECRET]
