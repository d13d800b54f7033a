"""`api-<env>` on EC2: one instance with nginx and Let's Encrypt on the network's Elastic IP, Session Manager."""

from __future__ import annotations

from cdktf import Fn, TerraformOutput
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.api.ec2 import RESTART_COMMAND, Ec2Api
from modules.api.password_rotation import RestartInstanceOnPasswordChange
from modules.api.ssm_session import SsmSessionUser
from modules.ecr import API_REPOSITORY
from modules.observe.alarms import InstanceApiAlarms
from stacks.alerts import AlertsStack
from stacks.api import API_NAME, ApiStack
from stacks.database import DatabaseStack
from stacks.network import NetworkStack


class InstanceApiStack(ApiStack):
    """The EC2 variant: no load balancer to pay for; one instance, replaced when its boot script changes."""

    def __init__(
        self,
        scope: Construct,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        alerts: AlertsStack,
        network: NetworkStack,
        database: DatabaseStack,
    ) -> None:
        super().__init__(scope, env=env, shared=shared, alerts=alerts, database=database)
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
            runtime=self.runtime,
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
        session_user_name = self.physical_name(API_NAME, "SSMSession-User")
        self.session_user = SsmSessionUser(
            self,
            "session-user",
            user_name=session_user_name,
            policy_name=self.physical_name(API_NAME, "SSMSession"),
            instance_id=instance_id,
            region=env.region,
            account_id=self.current_account_id,
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
            description=f"Run with AWS_PROFILE set to the MFA profile of {session_user_name}"
            " (docs/runbooks/shell-access.md, step 3); needs the Session Manager plugin",
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
        self.connect(self.instance.security_group.id)
