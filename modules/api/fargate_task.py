"""Pieces every LITTIL Fargate workload shares: an exec-ready cluster and a one-container task."""

from __future__ import annotations

import json
from collections.abc import Mapping

from cdktf_cdktf_provider_aws.ecs_cluster import (
    EcsCluster,
    EcsClusterConfiguration,
    EcsClusterConfigurationExecuteCommandConfiguration,
    EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration,
    EcsClusterSetting,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionRuntimePlatform
from constructs import Construct

from modules.access.aws_actions import (
    DESCRIBE_LOG_GROUPS_ACTIONS,
    ECR_AUTHORIZATION_ACTIONS,
    ECR_PULL_ACTIONS,
    SSM_MESSAGES_ACTIONS,
)
from modules.access.iam import ServiceRole, allow, arn
from modules.access.secrets import SecretKey, secret_arns
from modules.api.kept_logs import LogGroup


class ExecCluster(Construct):
    """An ECS cluster whose ECS Exec sessions are logged to `exec_log_group`, made where the cluster's end does not
    end it (`modules.api.kept_logs`). Exposes `cluster`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, container_insights: bool, exec_log_group: LogGroup
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=name,
            setting=[
                EcsClusterSetting(name="containerInsights", value="enabled" if container_insights else "disabled")
            ],
            configuration=EcsClusterConfiguration(
                execute_command_configuration=EcsClusterConfigurationExecuteCommandConfiguration(
                    logging="OVERRIDE",
                    log_configuration=EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration(
                        cloud_watch_log_group_name=exec_log_group.name
                    ),
                )
            ),
        )


class FargateTask(Construct):
    """A Fargate task definition with one container, and its two roles.

    - Execution role (the ECS agent): pull exactly `repository_arn`, write
      `log_group`, read exactly the secrets in `secrets`.
    - Task role (the container): the ECS Exec channel and writing exec session
      logs to `exec_log_group`; nothing else.

    `environment` becomes plain container environment; `secrets` only ECS
    `secrets`. The root file system stays writable: ECS Exec needs it.
    Exposes `task_definition`, `execution_role`, `task_role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        family: str,
        container_name: str,
        image: str,
        repository_arn: str,
        environment: Mapping[str, str],
        secrets: Mapping[str, SecretKey],
        log_group: LogGroup,
        exec_log_group: LogGroup,
        region: str,
        account_id: str,
        cpu: int,
        memory_mib: int,
        port: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # ECS assumes both roles only on behalf of this account's ECS resources (confused-deputy guard).
        ecs_resources = arn("ecs", "*", region=region, account=account_id)
        self.execution_role = ServiceRole(
            self,
            "execution-role",
            name=f"{family}-execution",
            service="ecs-tasks.amazonaws.com",
            description=f"ECS agent of {family}: pull its image, write its logs, read its secrets",
            source_account=account_id,
            source_arn=ecs_resources,
            statements=[
                allow(ECR_AUTHORIZATION_ACTIONS, ["*"], sid="RegistryLogin"),
                allow(ECR_PULL_ACTIONS, [repository_arn], sid="PullImage"),
                allow(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group.arn}:*"], sid="WriteContainerLogs"),
                # A task without secrets gets no statement (one without resources is invalid IAM).
                *(
                    [allow(["secretsmanager:GetSecretValue"], secret_arns(secrets), sid="ReadSecrets")]
                    if secrets
                    else []
                ),
            ],
        ).role
        self.task_role = ServiceRole(
            self,
            "task-role",
            name=f"{family}-task",
            service="ecs-tasks.amazonaws.com",
            description=f"Tasks of {family}: ECS Exec channel and session logs",
            source_account=account_id,
            source_arn=ecs_resources,
            statements=[
                allow(SSM_MESSAGES_ACTIONS, ["*"], sid="EcsExecChannel"),
                allow(DESCRIBE_LOG_GROUPS_ACTIONS, ["*"], sid="FindExecLogGroup"),
                allow(
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [exec_log_group.arn, f"{exec_log_group.arn}:*"],
                    sid="WriteExecSessionLogs",
                ),
            ],
        ).role
        container = {
            "name": container_name,
            "image": image,
            "essential": True,
            "portMappings": [{"containerPort": port, "protocol": "tcp"}] if port else [],
            "environment": [{"name": key, "value": value} for key, value in sorted(environment.items())],
            "secrets": [{"name": key, "valueFrom": ref.value_from} for key, ref in sorted(secrets.items())],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": container_name,
                },
            },
            "readonlyRootFilesystem": False,
            "linuxParameters": {"initProcessEnabled": True},
        }
        self.task_definition = EcsTaskDefinition(
            self,
            "task-definition",
            family=family,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(cpu),
            memory=str(memory_mib),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            container_definitions=json.dumps([container]),
        )
