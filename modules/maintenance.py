"""The on-demand maintenance service: a MySQL client in a Fargate task to exec into."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ecs_service import EcsService, EcsServiceNetworkConfiguration
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from modules.access.secrets import SecretKey
from modules.access.security_group import ANYWHERE_IPV4, allow_out
from modules.api.fargate_task import ExecCluster, FargateTask
from modules.api.kept_logs import LogGroupRef, container_log_group_name, exec_log_group_name
from modules.database import MARIADB_PORT

CONTAINER_NAME = "maintenance"
# The service's name after `LITTIL-<country>-<env>-`: its cluster, service and task family.
MAINTENANCE_NAME = "maintenance"


class MaintenanceService(Construct):
    """One task of the maintenance image (Alpine + MariaDB client, `sleep infinity`).

    Environment `DB_HOST`, `DB_PORT`, `DB_NAME`; secrets `DB_USER`, `DB_PASSWORD`
    from the RDS-managed secret. No inbound rule at all: operators reach it
    with ECS Exec only. It runs in a public subnet with a public IP (there is no
    NAT) because it must pull its image and reach the SSM endpoints; outbound
    it may use 443 and the database port to `database_security_group_id`. Its container
    and ECS Exec logs go to `/ecs/<name>` and `/ecs/<name>/exec-sessions`, which
    `api-<env>` keeps (`modules.api.kept_logs`): they outlive the service.

    Exposes `cluster`, `service`, `security_group`.
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
        subnet_ids: list[str],
        image: str,
        repository_arn: str,
        database_host: str,
        database_port: str,
        database_name: str,
        database_secret_arn: str,
        database_security_group_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        # Kept in api-<env> (modules.api.kept_logs): switching this service off, or destroying its stack, keeps them.
        log_group, exec_log_group = (
            LogGroupRef.named(group, region=region, account_id=account_id)
            for group in (container_log_group_name(name), exec_log_group_name(name))
        )
        self.cluster = ExecCluster(
            self, "exec-cluster", name=name, container_insights=False, exec_log_group=exec_log_group
        ).cluster
        task = FargateTask(
            self,
            "task",
            family=name,
            container_name=CONTAINER_NAME,
            image=image,
            repository_arn=repository_arn,
            environment={"DB_HOST": database_host, "DB_PORT": database_port, "DB_NAME": database_name},
            secrets={
                "DB_USER": SecretKey(database_secret_arn, "username"),
                "DB_PASSWORD": SecretKey(database_secret_arn, "password"),
            },
            log_group=log_group,
            exec_log_group=exec_log_group,
            region=region,
            account_id=account_id,
            # Fargate's smallest size: the shell runs mysql and mysqldump, nothing heavier.
            cpu=256,
            memory_mib=512,
        )
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-tasks",
            description="Maintenance task: no inbound; ECS Exec only",
            vpc_id=vpc_id,
            revoke_rules_on_delete=True,
        )
        allow_out(
            self,
            "out-443",
            security_group_id=self.security_group.id,
            port=443,
            cidr_ipv4=ANYWHERE_IPV4,
            description="HTTPS: ECR, SSM (ECS Exec)",
        )
        allow_out(
            self,
            "out-database",
            security_group_id=self.security_group.id,
            port=MARIADB_PORT,
            to_security_group_id=database_security_group_id,
            description="MariaDB",
        )
        self.service = EcsService(
            self,
            "service",
            name=name,
            cluster=self.cluster.arn,
            task_definition=task.task_definition.arn,
            desired_count=1,
            launch_type="FARGATE",
            platform_version="LATEST",
            enable_execute_command=True,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=subnet_ids, security_groups=[self.security_group.id], assign_public_ip=True
            ),
            propagate_tags="SERVICE",
        )
