"""`api-<env>` on ECS: Fargate tasks behind an ALB with the ACM certificate, ECS Exec, a CI redeploy role."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.access.aws_actions import CLUSTER_CONDITION_KEY, LIST_CLUSTERS_ACTIONS
from modules.access.github_oidc import GithubActionsRole
from modules.access.iam import allow, condition
from modules.api.ecs_exec import EcsExecUser, exec_command_output
from modules.api.fargate import CONTAINER_NAME, FargateApi
from modules.api.kept_logs import exec_log_group_name
from modules.api.password_rotation import RestartServiceOnPasswordChange
from modules.ecr import API_REPOSITORY
from modules.naming import physical_name
from modules.observe.alarms import FargateApiAlarms
from stacks.alerts import AlertsStack
from stacks.api import API_NAME, ApiStack
from stacks.certificate import CertificateStack
from stacks.database import DatabaseStack
from stacks.network import NetworkStack


class FargateApiStack(ApiStack):
    """The ECS variant: scales by task count, restarts by a new deployment, and costs an ALB."""

    def __init__(
        self,
        scope: Construct,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        alerts: AlertsStack,
        certificate: CertificateStack,
        network: NetworkStack,
        database: DatabaseStack,
    ) -> None:
        super().__init__(scope, env=env, shared=shared, alerts=alerts, database=database)
        name = self.name
        vpc = network.network
        task_subnet_ids = vpc.private_subnet_ids if env.network.nat_gateway else vpc.public_subnet_ids
        self.api = FargateApi(
            self,
            "fargate",
            name=name,
            region=env.region,
            account_id=self.current_account_id,
            vpc_id=vpc.vpc.id,
            load_balancer_subnet_ids=vpc.public_subnet_ids,
            task_subnet_ids=task_subnet_ids,
            # Without NAT the tasks reach the internet through their own public IP (inbound stays closed).
            assign_public_ip=not env.network.nat_gateway,
            certificate_arn=certificate.certificate.certificate_arn,
            image=f"{shared.registry_host}/{API_REPOSITORY}:{env.api.image_tag}",
            repository_arn=self.repository_arn,
            runtime=self.runtime,
            log_group=self.logging.log_group,
            database_security_group_id=database.database.security_group.id,
            cpu=env.api.ecs.cpu,
            memory_mib=env.api.ecs.memory_mib,
            desired_count=env.api.ecs.desired_count,
            exec_log_group=self.kept_logs.log_groups[exec_log_group_name(name)],
        )
        exec_user_name = self.physical_name(API_NAME, "ECSExec-User")
        self.exec_user = EcsExecUser(
            self,
            "exec-user",
            user_name=exec_user_name,
            policy_name=self.physical_name(API_NAME, "ECSExec"),
            cluster_name=name,
            region=env.region,
            account_id=self.current_account_id,
        )
        # The application's restart-staging.yml lists the clusters, then the first cluster's
        # services, and forces a new deployment of the first service.
        self.redeploy_role = GithubActionsRole(
            self,
            "ci-redeploy-role",
            role_name=physical_name(env.country, None, "api", "ecs-redeploy"),
            provider_arn=self.github_oidc.arn,
            org=env.github.org,
            repo=env.github.repo,
            statements=[
                allow(LIST_CLUSTERS_ACTIONS, ["*"], sid="FindTheCluster"),
                allow(
                    ["ecs:ListServices"],
                    ["*"],
                    conditions=[condition("ArnEquals", CLUSTER_CONDITION_KEY, [self.api.cluster.arn])],
                    sid="FindTheService",
                ),
                *self.api.restart_statements,
            ],
        )
        self.service_restart = RestartServiceOnPasswordChange(
            self,
            "restart-on-password-change",
            name=name,
            secret_arn=database.database.secret_arn,
            cluster_name=self.api.cluster.name,
            service_name=self.api.service.name,
            restart_statements=self.api.restart_statements,
            region=env.region,
            account_id=self.current_account_id,
        )

        alarms = env.alarms
        self.alarms = FargateApiAlarms(
            self,
            "alarms",
            name_prefix=self.alerts.name_prefix,
            topic_arn=self.alerts.topic.arn,
            load_balancer_arn_suffix=self.api.load_balancer.arn_suffix,
            target_group_arn_suffix=self.api.target_group.arn_suffix,
            cluster_name=self.api.cluster.name,
            service_name=self.api.service.name,
            desired_count=env.api.ecs.desired_count,
            certificate_arn=certificate.certificate.certificate_arn,
            http_5xx_per_5_minutes=alarms.http_5xx_per_5_minutes,
            unhealthy_target_minutes=alarms.unhealthy_target_minutes,
            certificate_days_left=alarms.certificate_days_left,
        )
        self.alarms.add_restart_failed(self.service_restart.rule.name)

        TerraformOutput(
            self,
            "load-balancer-dns-name",
            value=self.api.load_balancer.dns_name,
            description=f"Point {env.api_domain} here (CNAME, or Route53 alias)",
        )
        TerraformOutput(self, "cluster-name", value=self.api.cluster.name)
        TerraformOutput(self, "service-name", value=self.api.service.name)
        TerraformOutput(
            self,
            "restart-command",
            value=(
                f"aws ecs update-service --region {env.region} --cluster {name} --service {name} --force-new-deployment"
            ),
            description="Restart the API (new tasks read the secrets again); names cluster and service exactly",
        )
        exec_command_output(
            self, region=env.region, cluster_name=name, container_name=CONTAINER_NAME, user=exec_user_name
        )
        TerraformOutput(self, "ci-redeploy-role-arn", value=self.redeploy_role.role.arn)
        self.connect(self.api.security_group.id)
