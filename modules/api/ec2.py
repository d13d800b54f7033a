"""The API on one EC2 instance: Docker, nginx as TLS proxy, Let's Encrypt. The cost-saving variant."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.eip_association import EipAssociation
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.instance import (
    Instance,
    InstanceCreditSpecification,
    InstanceMetadataOptions,
    InstanceRootBlockDevice,
)
from cdktf_cdktf_provider_aws.key_pair import KeyPair
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.access.aws_actions import (
    ECR_AUTHORIZATION_ACTIONS,
    ECR_PULL_ACTIONS,
    METRIC_NAMESPACE_CONDITION_KEY,
    PUT_METRIC_DATA_ACTIONS,
)
from modules.access.iam import ServiceRole, allow, arn, condition
from modules.access.secrets import secret, secret_arns
from modules.access.security_group import ANYWHERE_IPV4, allow_in, allow_out
from modules.api.boot_script import render_boot_script
from modules.api.runtime import INTERNET_EGRESS_PORTS, ApiRuntime
from modules.observe.alarms import Metric

# Amazon Linux 2023 (AL2 reached end of life); AWS keeps this public parameter on the newest AMI.
AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
# How operators and the password-rotation rule restart the API container (it reads its secrets at start).
RESTART_COMMAND = "systemctl restart littil-api"
# What the instance's littil-certificate-days timer publishes every hour (the certificate-expiry alarm reads it).
CERTIFICATE_METRIC_NAMESPACE = "LITTIL/API"
CERTIFICATE_METRIC_NAME = "CertificateDaysToExpiry"


def key_fingerprint(public_key: str) -> str:
    """Short, stable name part for an OpenSSH public key (its type and key material, not the comment)."""
    kind, material = public_key.split()[:2]
    return hashlib.sha256(f"{kind} {material}".encode()).hexdigest()[:12]


class Ec2Api(Construct):
    """One Amazon Linux 2023 instance running the API container behind nginx.

    - IMDSv2 only, hop limit 1: the start script on the host fetches the secrets, and the
      container (one hop further, behind Docker's bridge) cannot borrow the instance role; encrypted gp3
      root volume, standard CPU credits (no surprise bill), AMI updates never
      replace it (`ignore_changes`), a changed boot script does.
    - Security group: 80/443 from anywhere, 22 only from `ssh_allowed_cidrs`
      (IPv4: the VPC has no IPv6); out: 443, 465 and the database.
    - Role: pull exactly `repository_arn`, read exactly the runtime's secrets
      and the image-tag parameter, SSM Session Manager (the preferred shell).
    - The image tag lives in the SSM parameter `image_tag_parameter_name`, read
      at each start of the API: a new tag is rolled out by a restart, not a new instance.
    - `elastic_ip_allocation_id` (from the network stack) is associated. The instance
      also gets a public address at launch: the association only happens after it
      started, and its first boot downloads packages right away. The Elastic IP
      replaces that address once associated, so only one address is ever billed.
    - The first boot's downloads run in a unit that retries until they succeed.
    - The Let's Encrypt account and current certificate are kept in the secret
      `certificate_secret_name` (only this role reads or writes it): a new instance
      restores them instead of asking Let's Encrypt again (5 certificates per name per
      week), and asks only once DNS for `api_domain` answers with its own address.
    - Every hour the instance publishes its certificate's days to expiry as
      `certificate_metric` (the role may write that namespace only).

    Exposes `instance`, `security_group`, `role`, `image_tag`, `certificate_store`,
    `certificate_metric`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        subnet_id: str,
        vpc_id: str,
        elastic_ip_allocation_id: str,
        registry: str,
        image_repository: str,
        image_tag: str,
        image_tag_parameter_name: str,
        repository_arn: str,
        runtime: ApiRuntime,
        api_domain: str,
        certbot_email: str,
        certificate_secret_name: str,
        database_security_group_id: str,
        database_port: int = 3306,
        instance_type: str,
        root_volume_gb: int,
        ssh_public_key: str | None = None,
        ssh_allowed_cidrs: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.certificate_metric = Metric(CERTIFICATE_METRIC_NAMESPACE, CERTIFICATE_METRIC_NAME, {"Domain": api_domain})
        self.image_tag = SsmParameter(
            self,
            "image-tag",
            name=image_tag_parameter_name,
            type="String",
            value=image_tag,
            description="Tag of littil-backend the API instance runs (read at every start)",
        )
        self.certificate_store = secret(
            self,
            "certificate-store",
            name=certificate_secret_name,
            description=f"Let's Encrypt account and current certificate of {api_domain} (written by the instance)",
        )
        self.role = ServiceRole(
            self,
            "role",
            name=name,
            service="ec2.amazonaws.com",
            description="API instance: its image, secrets, tag and certificate store, its metric, SSM sessions",
            statements=[
                allow(ECR_AUTHORIZATION_ACTIONS, ["*"], sid="RegistryLogin"),
                allow(ECR_PULL_ACTIONS, [repository_arn], sid="PullImage"),
                allow(["secretsmanager:GetSecretValue"], secret_arns(runtime.secrets), sid="ReadSecrets"),
                allow(["ssm:GetParameter"], [self.image_tag.arn], sid="ReadImageTag"),
                allow(
                    ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                    [self.certificate_store.arn],
                    sid="KeepCertificate",
                ),
                allow(
                    PUT_METRIC_DATA_ACTIONS,
                    ["*"],
                    conditions=[
                        condition("StringEquals", METRIC_NAMESPACE_CONDITION_KEY, [CERTIFICATE_METRIC_NAMESPACE])
                    ],
                    sid="PublishCertificateDays",
                ),
            ],
            managed_policy_arns=[arn("iam", f"policy/{SSM_CORE_POLICY}", account="aws")],
        ).role
        profile = IamInstanceProfile(self, "instance-profile", name=name, role=self.role.name)

        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=name,
            description="API instance: HTTP(S) from anywhere, SSH only from configured networks",
            vpc_id=vpc_id,
            revoke_rules_on_delete=True,
        )
        group = self.security_group.id
        for port in (443, 80):
            purpose = "HTTPS from the internet" if port == 443 else "HTTP: redirect and Let's Encrypt validation"
            allow_in(
                self,
                f"in-{port}-ipv4",
                security_group_id=group,
                port=port,
                cidr_ipv4=ANYWHERE_IPV4,
                description=purpose,
            )
        for index, cidr in enumerate(ssh_allowed_cidrs):
            allow_in(
                self,
                f"in-ssh-{index}",
                security_group_id=group,
                port=22,
                description="SSH from a configured network",
                cidr_ipv4=cidr,
            )
        for port, purpose in INTERNET_EGRESS_PORTS.items():
            allow_out(
                self, f"out-{port}", security_group_id=group, port=port, cidr_ipv4=ANYWHERE_IPV4, description=purpose
            )
        allow_out(
            self,
            "out-database",
            security_group_id=group,
            port=database_port,
            to_security_group_id=database_security_group_id,
            description="MariaDB",
        )

        # The key is set at launch only. Its fingerprint in the key pair's name makes a new key a new
        # `key_name`, which replaces the instance: that is how a replaced key reaches it.
        key_pair = (
            KeyPair(self, "key-pair", key_name=f"{name}-{key_fingerprint(ssh_public_key)}", public_key=ssh_public_key)
            if ssh_public_key
            else None
        )
        ami = DataAwsSsmParameter(self, "ami", name=AL2023_AMI_PARAMETER)
        self.instance = Instance(
            self,
            "instance",
            ami=ami.insecure_value,  # a public AMI id, not a secret: keep it visible in plans
            instance_type=instance_type,
            subnet_id=subnet_id,
            associate_public_ip_address=True,
            vpc_security_group_ids=[group],
            iam_instance_profile=profile.name,
            key_name=key_pair.key_name if key_pair else None,
            ebs_optimized=True,
            monitoring=False,
            credit_specification=InstanceCreditSpecification(cpu_credits="standard"),
            metadata_options=InstanceMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            root_block_device=InstanceRootBlockDevice(
                encrypted=True, volume_type="gp3", volume_size=root_volume_gb, delete_on_termination=True
            ),
            user_data=render_boot_script(
                environment=runtime.environment,
                secrets=runtime.secrets,
                region=region,
                registry=registry,
                image_repository=image_repository,
                image_tag_parameter=image_tag_parameter_name,
                api_domain=api_domain,
                certbot_email=certbot_email,
                certificate_secret=certificate_secret_name,
                metric_namespace=CERTIFICATE_METRIC_NAMESPACE,
                metric_name=CERTIFICATE_METRIC_NAME,
            ),
            user_data_replace_on_change=True,
            tags={"Name": name},
            lifecycle=TerraformResourceLifecycle(ignore_changes=["ami"]),
        )
        EipAssociation(self, "address", allocation_id=elastic_ip_allocation_id, instance_id=self.instance.id)
