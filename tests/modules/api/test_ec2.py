"""modules/api/ec2.py alone: the hardened instance, SSH on request, its exact role (boot script: test_ec2_boot.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from modules.access.aws_actions import ECR_PULL_ACTIONS
from modules.access.secrets import SecretKey, secret_arns
from modules.api.ec2 import (
    CERTIFICATE_METRIC_NAME,
    CERTIFICATE_METRIC_NAMESPACE,
    Ec2Api,
    key_fingerprint,
)
from modules.api.runtime import api_runtime
from modules.observe.alarms import Metric
from tests.modules.alone import ACCOUNT_ID, REGION, Built, build, has_data_source, has_no_resource, has_resource
from tests.modules.api.test_boot_script import (
    API_DOMAIN,
    CERTBOT_EMAIL,
    CERTIFICATE_SECRET,
    REPOSITORY,
    TAG_PARAMETER,
)
from tests.modules.api.test_boot_script import SCRIPT_SETTINGS as RENDERED_WITH
from tests.tf import boot_script, only, policy_statements, ref, resources, role_statements
from tools.instance_boot import heredoc

NAME = "LITTIL-NL-test-littil-api"
REGISTRY = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"
REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{REPOSITORY}"
DATABASE_GROUP = "sg-0database0000000"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"
SSH_NETWORKS = ("203.0.113.7/32", "198.51.100.0/24")
# Secret ARNs as AWS writes them (a random suffix), one per secret the API reads.
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:"
DATABASE_SECRET, OIDC_SECRET, SMTP_SECRET, LOGS_SECRET = (
    f"{SECRET}{name}-AbC123" for name in ("rds-db-master", "littil-test-oidc", "littil-test-smtp", "littil-test-logs")
)
RUNTIME = api_runtime(
    database_host="littil-test.abcdefghijkl.eu-west-1.rds.amazonaws.com",
    database_port="3306",
    database_name="littil",
    database_secret_arn=DATABASE_SECRET,
    require_database_tls=True,
    cors_origin="https://test.littil.org",
    mail_from="no-reply@mail.test.littil.org",
    log_group_name="LITTILBackendApiEcsLogs-test",
    log_stream_name="littil-backend-test",
    region=REGION,
    oidc_secret_arn=OIDC_SECRET,
    smtp=(
        SecretKey(SMTP_SECRET, "smtpHost"),
        SecretKey(SMTP_SECRET, "smtpUsername"),
        SecretKey(SMTP_SECRET, "smtpPassword"),
    ),
    log_writer=(SecretKey(LOGS_SECRET, "accessKeyId"), SecretKey(LOGS_SECRET, "secretAccessKey")),
)


def ec2_api(**options: Any) -> Built[Ec2Api]:
    return build(
        lambda stack: Ec2Api(
            stack,
            "instance",
            name=NAME,
            region=REGION,
            subnet_id="subnet-0public00000000",
            vpc_id="vpc-0test000000000000",
            elastic_ip_allocation_id="eipalloc-0api0000000000",
            registry=REGISTRY,
            image_repository=REPOSITORY,
            image_tag="1.6.0",
            image_tag_parameter_name=TAG_PARAMETER,
            repository_arn=REPOSITORY_ARN,
            runtime=RUNTIME,
            api_domain=API_DOMAIN,
            certbot_email=CERTBOT_EMAIL,
            certificate_secret_name=CERTIFICATE_SECRET,
            database_security_group_id=DATABASE_GROUP,
            **{"instance_type": "t3a.micro", "root_volume_gb": 20, "ssh_allowed_cidrs": (), **options},
        )
    )


# What the boot script is told besides the container's environment and secrets: the script test's inputs, with
# what the construct decides itself (its region, registry and certificate metric).
SCRIPT_SETTINGS = {
    **RENDERED_WITH,
    "region": REGION,
    "registry": REGISTRY,
    "metric_namespace": CERTIFICATE_METRIC_NAMESPACE,
    "metric_name": CERTIFICATE_METRIC_NAME,
}


@pytest.fixture(scope="module")
def plain() -> Built[Ec2Api]:
    """Every optional argument left at its default: no SSH key, no SSH networks."""
    return ec2_api()


@pytest.fixture(scope="module")
def with_ssh() -> Built[Ec2Api]:
    """An SSH key and networks, and every size and port set."""
    return ec2_api(
        ssh_public_key=SSH_KEY,
        ssh_allowed_cidrs=SSH_NETWORKS,
        instance_type="t3a.small",
        root_volume_gb=30,
        database_port=3307,
    )


def instance(built: Built[Ec2Api]) -> tuple[str, dict[str, Any]]:
    return only(resources(built.stack, "aws_instance"))


def group_ref(built: Built[Ec2Api]) -> str:
    name, _ = only(resources(built.stack, "aws_security_group"))
    return ref("aws_security_group", name, "id")


def rules(built: Built[Ec2Api], rule_type: str) -> list[dict[str, Any]]:
    """Every rule of `rule_type`; each must belong to the instance's group."""
    found = list(resources(built.stack, rule_type).values())
    assert {rule["security_group_id"] for rule in found} == {group_ref(built)}
    return found


def peer(rule: dict[str, Any]) -> str:
    """The one peer a rule names (the module's rule helpers allow exactly one)."""
    (value,) = [rule[key] for key in ("cidr_ipv4", "cidr_ipv6", "referenced_security_group_id") if key in rule]
    return str(value)


def instance_conf(script: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in heredoc(script, "/etc/littil/instance.conf", "CONF").splitlines())


def test_instance_runs_al2023_with_imdsv2_an_encrypted_gp3_root_and_ignores_newer_amis(
    plain: Built[Ec2Api],
) -> None:
    ami_name, _ = only(plain.stack["data"]["aws_ssm_parameter"])
    assert has_data_source(
        plain, "aws_ssm_parameter", {"name": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}
    )
    _, body = instance(plain)
    assert body["ami"] == f"${{data.aws_ssm_parameter.{ami_name}.insecure_value}}"
    assert body["lifecycle"] == {"ignore_changes": ["ami"]}
    assert body["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        # The container is one hop further: it cannot reach the metadata service, so not the instance role.
        "http_put_response_hop_limit": 1,
    }
    assert body["root_block_device"] == {
        "encrypted": True,
        "volume_type": "gp3",
        "volume_size": 20,
        "delete_on_termination": True,
    }
    assert has_resource(
        plain,
        "aws_instance",
        {
            "instance_type": "t3a.micro",
            "credit_specification": {"cpu_credits": "standard"},
            "ebs_optimized": True,
            "monitoring": False,
            "tags": {"Name": NAME},
        },
    )


def test_instance_type_and_root_volume_size_are_the_given_ones(with_ssh: Built[Ec2Api]) -> None:
    _, body = instance(with_ssh)
    assert body["instance_type"] == "t3a.small"
    assert body["root_block_device"]["volume_size"] == 30
    assert body["root_block_device"]["encrypted"] is True


def test_instance_gets_a_public_address_at_launch_and_the_elastic_ip_once_it_runs(plain: Built[Ec2Api]) -> None:
    # The association happens after launch; the first boot downloads packages at once.
    instance_name, body = instance(plain)
    assert body["subnet_id"] == "subnet-0public00000000"
    assert body["associate_public_ip_address"] is True
    assert body["vpc_security_group_ids"] == [group_ref(plain)]
    assert has_resource(
        plain,
        "aws_eip_association",
        {"allocation_id": "eipalloc-0api0000000000", "instance_id": ref("aws_instance", instance_name, "id")},
    )


def test_http_and_https_are_open_to_the_world_and_without_networks_ssh_to_nobody(plain: Built[Ec2Api]) -> None:
    assert has_resource(
        plain,
        "aws_security_group",
        {"name": NAME, "vpc_id": "vpc-0test000000000000", "revoke_rules_on_delete": True},
    )
    ingress = {
        (rule["from_port"], rule["to_port"], peer(rule)) for rule in rules(plain, "aws_vpc_security_group_ingress_rule")
    }
    assert ingress == {(443, 443, "0.0.0.0/0"), (80, 80, "0.0.0.0/0")}  # the VPC has no IPv6


def test_ssh_networks_open_port_22_to_exactly_those_in_their_own_address_family(with_ssh: Built[Ec2Api]) -> None:
    ingress = {
        (rule["from_port"], rule["to_port"], key, rule[key])
        for rule in rules(with_ssh, "aws_vpc_security_group_ingress_rule")
        for key in ("cidr_ipv4", "cidr_ipv6", "referenced_security_group_id")
        if key in rule
    }
    web = {(port, port, "cidr_ipv4", "0.0.0.0/0") for port in (80, 443)}
    assert ingress - web == {(22, 22, "cidr_ipv4", "203.0.113.7/32"), (22, 22, "cidr_ipv4", "198.51.100.0/24")}
    assert web <= ingress


def test_egress_is_https_and_smtp_to_the_internet_and_the_database_port_to_its_group_only(
    plain: Built[Ec2Api], with_ssh: Built[Ec2Api]
) -> None:
    for built, database_port in ((plain, 3306), (with_ssh, 3307)):
        egress = {
            (rule["from_port"], rule["to_port"], peer(rule))
            for rule in rules(built, "aws_vpc_security_group_egress_rule")
        }
        assert egress == {
            (443, 443, "0.0.0.0/0"),
            (465, 465, "0.0.0.0/0"),
            (database_port, database_port, DATABASE_GROUP),
        }


def test_without_an_ssh_key_there_is_no_key_pair_and_no_key_on_the_instance(plain: Built[Ec2Api]) -> None:
    assert has_no_resource(plain, "aws_key_pair")
    assert "key_name" not in instance(plain)[1]


def test_an_ssh_key_becomes_a_key_pair_whose_name_carries_its_fingerprint(with_ssh: Built[Ec2Api]) -> None:
    key_name, key = only(resources(with_ssh.stack, "aws_key_pair"))
    # A new key is a new key_name, which replaces the instance: that is how a replaced key reaches it.
    assert key == {"key_name": f"{NAME}-{key_fingerprint(SSH_KEY)}", "public_key": SSH_KEY}
    assert instance(with_ssh)[1]["key_name"] == ref("aws_key_pair", key_name, "key_name")


def test_key_fingerprint_follows_the_key_material_not_its_comment() -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", key_fingerprint(SSH_KEY))
    assert key_fingerprint(SSH_KEY) != key_fingerprint(SSH_KEY.replace("AAAAIJ0e", "AAAAIJ1e"))
    assert key_fingerprint(SSH_KEY) != key_fingerprint(SSH_KEY.replace("ssh-ed25519", "ssh-rsa"))
    assert key_fingerprint(SSH_KEY) == key_fingerprint(SSH_KEY.replace("operator@littil", "x@y"))
    assert key_fingerprint(SSH_KEY) == key_fingerprint(SSH_KEY.rsplit(" ", 1)[0])


def test_role_pulls_exactly_the_repository_reads_exactly_the_runtime_secrets_and_the_image_tag(
    plain: Built[Ec2Api],
) -> None:
    statements = {statement["sid"]: statement for statement in role_statements(plain.stack, NAME)}
    assert set(statements) == {
        "RegistryLogin",
        "PullImage",
        "ReadSecrets",
        "ReadImageTag",
        "KeepCertificate",  # its own test below
        "PublishCertificateDays",
    }
    assert (statements["RegistryLogin"]["actions"], statements["RegistryLogin"]["resources"]) == (
        ["ecr:GetAuthorizationToken"],
        ["*"],
    )
    assert statements["PullImage"]["actions"] == list(ECR_PULL_ACTIONS)
    assert statements["PullImage"]["resources"] == [REPOSITORY_ARN]
    assert statements["ReadSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    # Each secret once, however many keys the API takes from it.
    assert statements["ReadSecrets"]["resources"] == [DATABASE_SECRET, OIDC_SECRET, SMTP_SECRET, LOGS_SECRET]
    assert statements["ReadSecrets"]["resources"] == secret_arns(RUNTIME.secrets)
    parameter_name, _ = only(resources(plain.stack, "aws_ssm_parameter"))
    assert statements["ReadImageTag"]["actions"] == ["ssm:GetParameter"]
    assert statements["ReadImageTag"]["resources"] == [ref("aws_ssm_parameter", parameter_name, "arn")]


def test_role_publishes_only_into_the_certificate_namespace_and_opens_session_manager(plain: Built[Ec2Api]) -> None:
    (publish,) = [s for s in role_statements(plain.stack, NAME) if s["sid"] == "PublishCertificateDays"]
    assert publish["actions"] == ["cloudwatch:PutMetricData"]
    assert publish["resources"] == ["*"]  # PutMetricData has no resource type: the namespace condition scopes it
    assert publish["condition"] == [
        {"test": "StringEquals", "variable": "cloudwatch:namespace", "values": [CERTIFICATE_METRIC_NAMESPACE]}
    ]
    role_name, role = only(resources(plain.stack, "aws_iam_role"))
    (trust,) = policy_statements(plain.stack, role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]
    assert has_resource(
        plain,
        "aws_iam_role_policy_attachment",
        {
            "role": ref("aws_iam_role", role_name, "name"),
            "policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        },
    )
    profile_name, _ = only(resources(plain.stack, "aws_iam_instance_profile"))
    assert has_resource(
        plain, "aws_iam_instance_profile", {"name": NAME, "role": ref("aws_iam_role", role_name, "name")}
    )
    assert instance(plain)[1]["iam_instance_profile"] == ref("aws_iam_instance_profile", profile_name, "name")


def test_the_image_tag_lives_in_the_parameter_the_instance_reads_at_each_start(plain: Built[Ec2Api]) -> None:
    assert has_resource(plain, "aws_ssm_parameter", {"name": TAG_PARAMETER, "type": "String", "value": "1.6.0"})
    assert instance_conf(boot_script(plain.stack))["IMAGE_TAG_PARAMETER"] == TAG_PARAMETER
    # The tag itself is not in the user data: a new tag is a restart, not a new instance.
    assert "1.6.0" not in boot_script(plain.stack)


def test_certificate_metric_is_the_one_the_instance_publishes(plain: Built[Ec2Api]) -> None:
    assert plain.construct.certificate_metric == Metric(
        CERTIFICATE_METRIC_NAMESPACE, CERTIFICATE_METRIC_NAME, {"Domain": API_DOMAIN}
    )
    conf = instance_conf(boot_script(plain.stack))
    days = heredoc(boot_script(plain.stack), "/usr/local/bin/littil-certificate-days", "DAYS")
    assert (conf["METRIC_NAMESPACE"], conf["METRIC_NAME"]) == (CERTIFICATE_METRIC_NAMESPACE, CERTIFICATE_METRIC_NAME)
    assert '--dimensions "Domain=$API_DOMAIN"' in days


def test_only_the_instance_role_reads_and_writes_the_certificate_store(plain: Built[Ec2Api]) -> None:
    (store_id, store) = only(resources(plain.stack, "aws_secretsmanager_secret"))
    assert store["name"] == CERTIFICATE_SECRET
    assert store["recovery_window_in_days"] == 7
    store_arn = ref("aws_secretsmanager_secret", store_id, "arn")
    grants = [statement for statement in role_statements(plain.stack, NAME) if store_arn in statement["resources"]]
    assert grants == [
        {
            "sid": "KeepCertificate",
            "effect": "Allow",
            "actions": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            "resources": [store_arn],
        }
    ]
    # The instance names the store; nothing else of the role may write a secret.
    assert instance_conf(boot_script(plain.stack))["CERTIFICATE_SECRET"] == CERTIFICATE_SECRET
    writers = [s for s in role_statements(plain.stack, NAME) if "secretsmanager:PutSecretValue" in s["actions"]]
    assert writers == grants
