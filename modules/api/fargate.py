"""The API on ECS Fargate behind an internet-facing HTTPS load balancer."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction, LbListenerDefaultActionRedirect
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from modules.access.iam import allow, condition
from modules.access.security_group import ANYWHERE_IPV4, allow_in, allow_out
from modules.api.fargate_task import ExecCluster, FargateTask
from modules.api.runtime import CONTAINER_PORT, HEALTH_CHECK_PATH, INTERNET_EGRESS_PORTS, ApiRuntime

CONTAINER_NAME = "web"  # what operators pass to `aws ecs execute-command --container`
# TLS 1.2 and 1.3 only, forward secrecy.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


class FargateApi(Construct):
    """Cluster, task definition, service, ALB and their roles and security groups.

    - Cluster with Container Insights; ECS Exec sessions are logged to `exec_log_group` (for containers
      that have `script` and `cat`: the maintenance image does, the API image lacks `script`), which the
      stack keeps whichever variant runs (`modules.api.kept_logs`).
    - One container `web` on 8080, awslogs into `log_group`, settings from `runtime`
      (plain `environment`, secrets only as ECS `secrets`).
    - ALB: HTTPS on 443 with `certificate_arn` and a TLS 1.2+ policy, 80 redirects
      to 443, invalid header fields dropped; targets are task IPs on 8080.
    - Tasks accept 8080 from the ALB only, and may reach out on 443/465 and to
      `database_security_group_id` on `database_port`.
    - Roles as in `FargateTask`: the agent pulls exactly `repository_arn` and reads
      exactly the runtime's secrets; the container gets the ECS Exec channel only.

    Exposes `cluster`, `service`, `task_definition`, `load_balancer`, `target_group`,
    `security_group` (tasks), `load_balancer_security_group`, `execution_role`,
    `task_role`, `exec_log_group`, and `restart_statements`: what a role needs to
    restart the service (`update-service --force-new-deployment`) and nothing more.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        account_id: str,
        vpc_id: str,
        load_balancer_subnet_ids: Sequence[str],
        task_subnet_ids: Sequence[str],
        assign_public_ip: bool,
        certificate_arn: str,
        image: str,
        repository_arn: str,
        runtime: ApiRuntime,
        log_group: CloudwatchLogGroup,
        database_security_group_id: str,
        database_port: int = 3306,
        cpu: int,
        memory_mib: int,
        desired_count: int,
        exec_log_group: CloudwatchLogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.exec_log_group = exec_log_group
        self.cluster = ExecCluster(
            self, "exec-cluster", name=name, container_insights=True, exec_log_group=exec_log_group
        ).cluster
        task = FargateTask(
            self,
            "task",
            family=name,
            container_name=CONTAINER_NAME,
            image=image,
            repository_arn=repository_arn,
            environment=runtime.environment,
            secrets=runtime.secrets,
            log_group=log_group,
            exec_log_group=self.exec_log_group,
            region=region,
            account_id=account_id,
            cpu=cpu,
            memory_mib=memory_mib,
            port=CONTAINER_PORT,
        )
        self.task_definition, self.execution_role, self.task_role = (
            task.task_definition,
            task.execution_role,
            task.task_role,
        )

        self.load_balancer_security_group = SecurityGroup(
            self,
            "load-balancer-security-group",
            name=f"{name}-alb",
            description="API load balancer: HTTPS (and HTTP to redirect) from anywhere",
            vpc_id=vpc_id,
            revoke_rules_on_delete=True,
        )
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-tasks",
            description="API tasks: 8080 from the load balancer only",
            vpc_id=vpc_id,
            revoke_rules_on_delete=True,
        )
        lb_group, task_group = self.load_balancer_security_group.id, self.security_group.id
        for port in (443, 80):
            purpose = "HTTPS from the internet" if port == 443 else "HTTP, redirected to HTTPS"
            allow_in(
                self,
                f"load-balancer-in-{port}-ipv4",
                security_group_id=lb_group,
                port=port,
                cidr_ipv4=ANYWHERE_IPV4,
                description=purpose,
            )
        allow_out(
            self,
            "load-balancer-to-tasks",
            security_group_id=lb_group,
            port=CONTAINER_PORT,
            to_security_group_id=task_group,
            description="To the API tasks",
        )
        allow_in(
            self,
            "tasks-from-load-balancer",
            security_group_id=task_group,
            port=CONTAINER_PORT,
            from_security_group_id=lb_group,
            description="From the API load balancer",
        )
        for port, purpose in INTERNET_EGRESS_PORTS.items():
            allow_out(
                self,
                f"tasks-out-{port}",
                security_group_id=task_group,
                port=port,
                cidr_ipv4=ANYWHERE_IPV4,
                description=purpose,
            )
        allow_out(
            self,
            "tasks-to-database",
            security_group_id=task_group,
            port=database_port,
            to_security_group_id=database_security_group_id,
            description="MariaDB",
        )

        self.load_balancer = Lb(
            self,
            "load-balancer",
            name=name,
            internal=False,
            load_balancer_type="application",
            security_groups=[lb_group],
            subnets=list(load_balancer_subnet_ids),
            drop_invalid_header_fields=True,
        )
        self.target_group = target_group = LbTargetGroup(
            self,
            "target-group",
            name=name,
            port=CONTAINER_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=vpc_id,
            deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=HEALTH_CHECK_PATH,
                matcher="200,404",
                healthy_threshold=2,
                unhealthy_threshold=4,
                interval=30,
                timeout=5,
            ),
        )
        https = LbListener(
            self,
            "https-listener",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=target_group.arn)],
        )
        LbListener(
            self,
            "http-listener",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(port="443", protocol="HTTPS", status_code="HTTP_301"),
                )
            ],
        )

        self.service = EcsService(
            self,
            "service",
            name=name,
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            enable_execute_command=True,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(task_subnet_ids), security_groups=[task_group], assign_public_ip=assign_public_ip
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=target_group.arn, container_name=CONTAINER_NAME, container_port=CONTAINER_PORT
                )
            ],
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=120,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            depends_on=[https],
        )
        # A restart (`--force-new-deployment`) names nothing else. A request that does may only
        # name what the service already has: the current task definition (so no other image),
        # ECS Exec on, the same public-IP choice and the same subnets. The permission restarts
        # the service; it cannot reshape it.
        self.restart_statements = [
            allow(
                ["ecs:UpdateService"],
                [self.service.arn],
                conditions=[
                    condition("ArnEqualsIfExists", "ecs:task-definition", [self.task_definition.arn]),
                    condition("StringEqualsIfExists", "ecs:enable-execute-command", ["true"]),
                    condition("BoolIfExists", "ecs:auto-assign-public-ip", [str(assign_public_ip).lower()]),
                    condition("ForAllValues:StringEquals", "ecs:subnet", list(task_subnet_ids)),
                ],
                sid="RestartTheService",
            ),
            allow(["ecs:DescribeServices"], [self.service.arn], sid="WatchTheService"),
        ]
