"""`api-<env>`: the LITTIL API and what it needs, on ECS Fargate or on one EC2 instance (config).

Both variants share logging, SES SMTP credentials, the OIDC secret, the account's
GitHub OIDC provider, the same runtime settings and secrets, and a restart
whenever RDS rotates the database password. The ECS variant adds ECS Exec
access and a CI redeploy role, the EC2 variant a Session Manager user.
Switching variants changes this stack, the Elastic IP in network-<env> and one
output of certificate-<env> (tests/test_safety.py).
"""

from __future__ import annotations

from cdktf import Fn, TerraformOutput, Token
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from config.settings import ApiVariant
from modules.access.aws_actions import CLUSTER_CONDITION_KEY, LIST_CLUSTERS_ACTIONS
from modules.access.github_oidc import GithubActionsRole, GithubOidcProvider
from modules.access.iam import allow, arn, condition
from modules.access.secrets import adopt_secret, secret
from modules.api.ec2 import RESTART_COMMAND, Ec2Api
from modules.api.ecs_exec import EcsExecUser, exec_command_output
from modules.api.fargate import CONTAINER_NAME, FargateApi
from modules.api.logs import ApiLogging
from modules.api.password_rotation import RestartInstanceOnPasswordChange, RestartServiceOnPasswordChange
from modules.api.runtime import OIDC_SECRET_KEYS, ApiRuntime, api_runtime
from modules.api.smtp import SesSmtp
from modules.api.ssm_session import SsmSessionUser
from modules.database import allow_client
from modules.ecr import API_REPOSITORY
from modules.naming import physical_name
from modules.observe.alarms import AlarmSet, FargateApiAlarms, InstanceApiAlarms
from stacks.alerts import AlertsStack
from stacks.base import LittilStack
from stacks.certificate import CertificateStack
from stacks.database import DatabaseStack
from stacks.network import NetworkStack


class ApiStack(LittilStack):
    alarms: AlarmSet  # the variant's alarms

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
        super().__init__(scope, component="api", env=env)
        self.alerts = alerts
        self.name = physical_name(env.country, env.name, "littil-api")
        self.repository_arn = arn(
            "ecr", f"repository/{API_REPOSITORY}", region=shared.region, account=shared.account_id
        )
        self.refuse_placeholder_accounts([shared], why="the API pulls its image from the shared registry account")
        self.secret_prefix = secret_prefix = f"littil/backend/{env.name}"
        # SSM parameters this stack writes (and a plan reads back) live under this path.
        self.parameter_path = f"/littil/{env.name}"

        # The old system's name, kept for both variants: its log group (and logs) is adopted.
        log_group_name = f"LITTILBackendApiEcsLogs-{env.name}"
        self.logging = ApiLogging(
            self,
            "logging",
            log_group_name=log_group_name,
            retention_days=env.api.log_retention_days,
            user_name=physical_name(env.country, env.name, "littil-api", "CloudWatch-User"),
            policy_name=physical_name(env.country, env.name, "littil-api", "cloudwatch-logs"),
            secret_name=f"{secret_prefix}/cloudwatch",
        )
        if env.adopt_legacy:  # retained by CloudFormation with the old system's logs
            self.logging.log_group.import_from(log_group_name)
        self.smtp = SesSmtp(
            self,
            "smtp",
            mail_domain=env.effective_mail_domain,
            region=env.region,
            user_name=physical_name(env.country, env.name, "littil-api", "SMTP-User"),
            policy_name=physical_name(env.country, env.name, "littil-api", "ses-send"),
            secret_name=f"{secret_prefix}/smtp",
            hosted_zone_id=env.route53_zone_id,
            # Adopted, the secret keeps the SMTP credentials operators put there; nothing of ours writes it.
            manage_credentials=not env.adopt_legacy,
        )
        self.oidc_secret = secret(
            self,
            "oidc-secret",
            name=f"{secret_prefix}/oidc",
            description="OIDC (Auth0) settings, filled by operators: " + ", ".join(OIDC_SECRET_KEYS.values()),
        )
        if env.adopt_legacy:  # both made by hand for the old system, holding the live values
            adopt_secret(self.oidc_secret)
            adopt_secret(self.smtp.secret)
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

        # The account's GitHub identity provider, in either variant: only the ECS variant's redeploy role
        # uses it, but switching variants must neither delete an adopted provider nor re-import a deleted one.
        self.github_oidc = GithubOidcProvider(
            self,
            "github-oidc",
            create=env.github.create_oidc_provider,
            adopt_in_account=env.account_id if env.adopt_legacy else None,
        )
        # Read-only plans of this account's stacks for this repository's CI (README, "CI"). Secrets whose value
        # Terraform wrote are in the state it reads anyway; an adopted smtp secret holds the operators' value.
        self.plan_role = self.add_plan_role(
            provider_arn=self.github_oidc.arn,
            readable_secret_arns=[self.logging.secret.arn, *([] if env.adopt_legacy else [self.smtp.secret.arn])],
            readable_parameter_arns=[
                arn("ssm", f"parameter{self.parameter_path}/*", region=env.region, account=self.current_account_id)
            ],
        )
        if env.api.variant is ApiVariant.ECS:
            client_group = self._fargate(
                env=env, shared=shared, runtime=runtime, certificate=certificate, network=network, database=database
            )
        else:
            client_group = self._instance(env=env, shared=shared, runtime=runtime, network=network, database=database)
        allow_client(
            self,
            "database-access",
            database_security_group_id=db.security_group.id,
            client_security_group_id=client_group,
        )
        TerraformOutput(self, "oidc-secret-name", value=self.oidc_secret.name, description="Fill before first start")
        TerraformOutput(
            self,
            "mail-dns-records",
            value=[f"{record_name} {kind} {value}" for record_name, kind, value in self.smtp.dns_records],
            description="SES verification and DKIM records"
            + (" (managed in Route53)" if env.route53_zone_id else " (create at your DNS provider)"),
        )

    def _fargate(
        self,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        runtime: ApiRuntime,
        certificate: CertificateStack,
        network: NetworkStack,
        database: DatabaseStack,
    ) -> str:
        """ECS variant: Fargate behind an ALB, ECS Exec user, CI redeploy role. Returns the tasks' group id."""
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
            runtime=runtime,
            log_group=self.logging.log_group,
            database_security_group_id=database.database.security_group.id,
            cpu=env.api.ecs.cpu,
            memory_mib=env.api.ecs.memory_mib,
            desired_count=env.api.ecs.desired_count,
            log_retention_days=env.api.log_retention_days,
        )
        exec_user_name = physical_name(env.country, env.name, "littil-api", "ECSExec-User")
        self.exec_user = EcsExecUser(
            self,
            "exec-user",
            user_name=exec_user_name,
            policy_name=physical_name(env.country, env.name, "littil-api", "ECSExec"),
            cluster_name=name,
            region=env.region,
            account_id=self.current_account_id,
            require_mfa=env.production_grade,
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
        return self.api.security_group.id

    def _instance(
        self,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        runtime: ApiRuntime,
        network: NetworkStack,
        database: DatabaseStack,
    ) -> str:
        """EC2 variant: one instance with nginx and Let's Encrypt on the network's Elastic IP."""
        vpc = network.network
        assert vpc.api_address is not None, "network-<env> creates the Elastic IP for the ec2 variant"
        ec2 = env.api.ec2
        image_tag_parameter = f"{self.parameter_path}/api/image-tag"
        self.instance = Ec2Api(
            self,
            "instance",
            name=self.name,
            region=env.region,
            subnet_id=Fn.element(vpc.public_subnet_ids, 0),
            vpc_id=vpc.vpc.id,
            elastic_ip_allocation_id=vpc.api_address.allocation_id,
            registry=shared.registry_host,
            image_repository=API_REPOSITORY,
            image_tag=env.api.image_tag,
            image_tag_parameter_name=image_tag_parameter,
            repository_arn=self.repository_arn,
            runtime=runtime,
            api_domain=env.api_domain,
            certbot_email=ec2.certbot_email,
            certificate_secret_name=f"{self.secret_prefix}/letsencrypt",
            database_security_group_id=database.database.security_group.id,
            instance_type=ec2.instance_type,
            root_volume_gb=ec2.root_volume_gb,
            ssh_public_key=ec2.ssh_public_key,
            ssh_allowed_cidrs=ec2.ssh_allowed_cidrs,
        )
        instance_id = self.instance.instance.id
        self.alarms = InstanceApiAlarms(
            self,
            "alarms",
            name_prefix=self.alerts.name_prefix,
            topic_arn=self.alerts.topic.arn,
            instance_id=instance_id,
            instance_type=ec2.instance_type,
            region=env.region,
            certificate_metric=self.instance.certificate_metric,
            cpu_credit_balance=env.alarms.cpu_credit_balance,
            certificate_days_left=env.alarms.certificate_days_left,
        )
        region_flag = f"--region {env.region}"
        session_user_name = physical_name(env.country, env.name, "littil-api", "SSMSession-User")
        self.session_user = SsmSessionUser(
            self,
            "session-user",
            user_name=session_user_name,
            policy_name=physical_name(env.country, env.name, "littil-api", "SSMSession"),
            instance_id=instance_id,
            region=env.region,
            account_id=self.current_account_id,
            require_mfa=env.production_grade,
        )
        self.instance_restart = RestartInstanceOnPasswordChange(
            self,
            "restart-on-password-change",
            name=self.name,
            secret_arn=database.database.secret_arn,
            instance_id=instance_id,
            commands=[RESTART_COMMAND],
            region=env.region,
            account_id=self.current_account_id,
        )
        self.alarms.add_restart_failed(self.instance_restart.rule.name)
        TerraformOutput(
            self,
            "public-ip",
            value=vpc.api_address.public_ip,
            description=f"{env.api_domain} must resolve here (A record) for the certificate to be issued",
        )
        TerraformOutput(self, "instance-id", value=instance_id)
        TerraformOutput(
            self,
            "ssm-session-command",
            value=f"aws ssm start-session {region_flag} --target {instance_id}",
            description=f"Run with the credentials of {session_user_name} (add --profile <its profile>);"
            " needs the Session Manager plugin",
        )
        if ec2.ssh_public_key:
            TerraformOutput(
                self,
                "ssh-command",
                value=f"ssh -i ~/.ssh/littil-{env.name} ec2-user@{vpc.api_address.public_ip}",
                description="-i: the private key of api.ec2.ssh_public_key",
            )
        TerraformOutput(
            self,
            "rollout-command",
            value=(
                f"aws ssm send-command {region_flag} --instance-ids {instance_id} --document-name AWS-RunShellScript"
                f" --parameters 'commands=[\"{RESTART_COMMAND}\"]'"
            ),
            description=f"After deploying a new api.image_tag (SSM {image_tag_parameter}): restart the container",
        )
        return self.instance.security_group.id
