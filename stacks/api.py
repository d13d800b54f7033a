"""`api-<env>`: the LITTIL API and what it needs: logging, mail, secrets, exec access, CI redeploy."""

from __future__ import annotations

from cdktf import TerraformOutput, Token
from constructs import Construct

from config.model import ApiVariant, SharedEnvironment, WorkloadEnvironment
from modules.api_logging import ApiLogging
from modules.api_runtime import OIDC_SECRET_KEYS, api_runtime
from modules.database import allow_client
from modules.ecr import API_REPOSITORY
from modules.ecs_exec import EcsExecUser
from modules.fargate_api import CONTAINER_NAME, FargateApi
from modules.github_oidc import GithubActionsRole, GithubOidcProvider
from modules.iam import allow, arn
from modules.naming import physical_name
from modules.secrets import secret
from modules.ses_smtp import SesSmtp
from stacks.base import LittilStack
from stacks.certificate import CertificateStack
from stacks.database import DatabaseStack
from stacks.network import NetworkStack


class ApiStack(LittilStack):
    def __init__(
        self,
        scope: Construct,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        certificate: CertificateStack,
        network: NetworkStack,
        database: DatabaseStack,
    ) -> None:
        super().__init__(scope, component="api", env=env)
        if env.api.variant is not ApiVariant.ECS:
            raise NotImplementedError(f"api variant {env.api.variant.value} is not built yet")
        name = physical_name(env.country, env.name, "littil-api")
        secret_prefix = f"littil/backend/{env.name}"

        self.logging = ApiLogging(
            self,
            "logging",
            log_group_name=f"LITTILBackendApiEcsLogs-{env.name}",
            retention_days=env.api.log_retention_days,
            user_name=physical_name(env.country, env.name, "littil-api", "CloudWatch-User"),
            policy_name=physical_name(env.country, env.name, "littil-api", "cloudwatch-logs"),
            secret_name=f"{secret_prefix}/cloudwatch",
        )
        self.smtp = SesSmtp(
            self,
            "smtp",
            mail_domain=env.effective_mail_domain,
            region=env.region,
            user_name=physical_name(env.country, env.name, "littil-api", "SMTP-User"),
            policy_name=physical_name(env.country, env.name, "littil-api", "ses-send"),
            secret_name=f"{secret_prefix}/smtp",
            hosted_zone_id=env.route53_zone_id,
        )
        self.oidc_secret = secret(
            self,
            "oidc-secret",
            name=f"{secret_prefix}/oidc",
            description="OIDC (Auth0) settings, filled by operators: " + ", ".join(OIDC_SECRET_KEYS.values()),
        )
        db = database.database
        runtime = api_runtime(
            database_host=db.address,
            database_port=Token.as_string(db.port),
            database_name=db.database_name,
            database_secret_arn=db.secret_arn,
            require_database_tls=env.database.require_secure_transport,
            cors_origin=env.cors_origin,
            mail_from=f"no-reply@{env.effective_mail_domain}",
            log_group_name=self.logging.log_group.name,
            log_stream_name=f"littil-backend-{env.name}",
            region=env.region,
            oidc_secret_arn=self.oidc_secret.arn,
            smtp=(self.smtp.host, self.smtp.username, self.smtp.password),
            log_writer=(self.logging.access_key_id, self.logging.secret_access_key),
        )

        vpc = network.network
        task_subnets = vpc.private_subnets if env.network.nat_gateway else vpc.public_subnets
        self.api = FargateApi(
            self,
            "fargate",
            name=name,
            region=env.region,
            account_id=env.account_id,
            vpc_id=vpc.vpc.id,
            load_balancer_subnet_ids=[subnet.id for subnet in vpc.public_subnets],
            task_subnet_ids=[subnet.id for subnet in task_subnets],
            # Without NAT the tasks reach the internet through their own public IP (inbound stays closed).
            assign_public_ip=not env.network.nat_gateway,
            certificate_arn=certificate.certificate.certificate_arn,
            image=f"{shared.registry_host}/{API_REPOSITORY}:{env.api.image_tag}",
            repository_arn=arn("ecr", f"repository/{API_REPOSITORY}", region=shared.region, account=shared.account_id),
            runtime=runtime,
            log_group=self.logging.log_group,
            database_security_group_id=db.security_group.id,
            cpu=env.api.ecs.cpu,
            memory_mib=env.api.ecs.memory_mib,
            desired_count=env.api.ecs.desired_count,
            log_retention_days=env.api.log_retention_days,
        )
        allow_client(
            self,
            "database-access",
            database_security_group_id=db.security_group.id,
            client_security_group_id=self.api.security_group.id,
        )

        self.exec_user = EcsExecUser(
            self,
            "exec-user",
            user_name=physical_name(env.country, env.name, "littil-api", "ECSExec-User"),
            policy_name=physical_name(env.country, env.name, "littil-api", "ECSExec"),
            cluster_name=name,
            region=env.region,
            account_id=env.account_id,
        )
        github_oidc = GithubOidcProvider(self, "github-oidc", create=env.github.create_oidc_provider)
        self.redeploy_role = GithubActionsRole(
            self,
            "ci-redeploy-role",
            role_name=physical_name(env.country, None, "api", "ecs-redeploy"),
            provider_arn=github_oidc.arn,
            org=env.github.org,
            repo=env.github.repo,
            statements=[allow(["ecs:UpdateService", "ecs:DescribeServices"], [self.api.service.arn])],
        )

        region_flag = f"--region {env.region}"
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
            "find-task-command",
            value=(
                f"aws ecs list-tasks {region_flag} --cluster {name} --service-name {name}"
                " --query 'taskArns[0]' --output text"
            ),
        )
        TerraformOutput(
            self,
            "exec-command",
            value=(
                f"aws ecs execute-command {region_flag} --cluster {name} --task <task-id>"
                f' --container {CONTAINER_NAME} --command "sh" --interactive'
            ),
            description="Run as the ECS Exec user; <task-id> from find-task-command",
        )
        TerraformOutput(self, "oidc-secret-name", value=self.oidc_secret.name, description="Fill before first start")
        TerraformOutput(
            self,
            "mail-dns-records",
            value=[f"{record_name} {kind} {value}" for record_name, kind, value in self.smtp.dns_records],
            description="SES verification and DKIM records"
            + (" (managed in Route53)" if env.route53_zone_id else " (create at your DNS provider)"),
        )
        TerraformOutput(self, "ci-redeploy-role-arn", value=self.redeploy_role.role.arn)
