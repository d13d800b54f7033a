"""modules/api/ec2.py alone: the hardened instance, SSH only on request, its exact role, and the boot script it runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from modules.access.aws_actions import ECR_PULL_ACTIONS
from modules.access.secrets import SecretKey, secret_arns
from modules.api.ec2 import (
    CERTIFICATE_METRIC_NAME,
    CERTIFICATE_METRIC_NAMESPACE,
    Ec2Api,
    key_fingerprint,
    render_boot_script,
)
from modules.api.runtime import api_runtime
from modules.observe.alarms import Metric
from tests.modules.alone import ACCOUNT_ID, REGION, Built, build, has_data_source, has_no_resource, has_resource
from tests.tf import boot_script, only, policy_statements, ref, resources, role_statements
from tools.instance_boot import boot_certificate, heredoc

NAME = "LITTIL-NL-test-littil-api"
REGISTRY = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"
REPOSITORY = "littil-backend"
REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{REPOSITORY}"
TAG_PARAMETER = "/littil/test/api/image-tag"
API_DOMAIN = "api.test.littil.org"
CERTBOT_EMAIL = "info@littil.org"
CERTIFICATE_SECRET = "littil/backend/test/letsencrypt"
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


# What the boot script is told besides the container's environment and secrets.
SCRIPT_SETTINGS = {
    "region": REGION,
    "registry": REGISTRY,
    "image_repository": REPOSITORY,
    "image_tag_parameter": TAG_PARAMETER,
    "api_domain": API_DOMAIN,
    "certbot_email": CERTBOT_EMAIL,
    "certificate_secret": CERTIFICATE_SECRET,
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


def test_user_data_is_the_boot_script_rendered_from_the_inputs_and_a_change_replaces_the_instance(
    plain: Built[Ec2Api],
) -> None:
    _, body = instance(plain)
    assert body["user_data_replace_on_change"] is True
    assert body["user_data"] == render_boot_script(
        environment=RUNTIME.environment,
        secrets=RUNTIME.secrets,
        **SCRIPT_SETTINGS,
    )


def test_boot_script_writes_the_settings_the_secret_references_and_the_instance_conf(plain: Built[Ec2Api]) -> None:
    script = boot_script(plain.stack)
    settings = dict(line.split("=", 1) for line in heredoc(script, "/etc/littil/api.env", "SETTINGS").splitlines())
    assert settings == RUNTIME.environment
    secret_lines = heredoc(script, "/etc/littil/api-secrets", "SECRETS").splitlines()
    assert sorted(tuple(line.split()) for line in secret_lines) == sorted(
        (name, key.secret_arn, key.json_key) for name, key in RUNTIME.secrets.items()
    )
    assert not set(settings) & set(RUNTIME.secrets)
    assert instance_conf(script) == {
        "AWS_REGION": REGION,
        "REGISTRY": REGISTRY,
        "IMAGE_REPOSITORY": REPOSITORY,
        "IMAGE_TAG_PARAMETER": TAG_PARAMETER,
        "API_DOMAIN": API_DOMAIN,
        "CERTBOT_EMAIL": CERTBOT_EMAIL,
        "CERTIFICATE_SECRET": CERTIFICATE_SECRET,
        "METRIC_NAMESPACE": CERTIFICATE_METRIC_NAMESPACE,
        "METRIC_NAME": CERTIFICATE_METRIC_NAME,
    }
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_rendering_escapes_the_scripts_own_interpolations_but_lets_the_values_interpolate() -> None:
    host = "${aws_db_instance.database.address}"
    secret_arn = "${aws_db_instance.database.master_user_secret[0].secret_arn}"
    rendered = render_boot_script(
        environment={"DATASOURCE_HOST": host},
        secrets={"DATASOURCE_PASSWORD": SecretKey(secret_arn, "password")},
        **SCRIPT_SETTINGS,
    )
    # Terraform interpolates exactly the values put in; every other ${...} reaches bash.
    assert set(re.findall(r"(?<!\$)\$\{[^}]*\}", rendered)) == {host, secret_arn}
    assert f"DATASOURCE_HOST={host}\n" in rendered
    assert f"DATASOURCE_PASSWORD {secret_arn} password\n" in rendered
    assert "conf=$${LITTIL_CONF_DIR:-/etc/littil}" in rendered
    assert "conf=${LITTIL_CONF_DIR" not in rendered
    assert "@@" not in rendered  # every placeholder filled


def test_nginx_terminates_tls_for_the_api_domain_and_proxies_to_the_loopback_container(plain: Built[Ec2Api]) -> None:
    script = boot_script(plain.stack)
    nginx = heredoc(script, "/etc/nginx/conf.d/littil-api.conf", "NGINX")
    assert "return 301 https://\\$host\\$request_uri;" in nginx
    assert "proxy_pass http://127.0.0.1:8080;" in nginx
    assert "ssl_certificate /etc/letsencrypt/live/$API_DOMAIN/fullchain.pem;" in nginx
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in nginx
    # nginx's heredoc is unquoted so that $API_DOMAIN expands: the conf is read right before it.
    assert ". /etc/littil/instance.conf\ncat > /etc/nginx/conf.d/littil-api.conf <<NGINX\n" in script
    # The container listens on loopback only; nginx is the only way in.
    assert "--publish 127.0.0.1:8080:8080" in heredoc(script, "/usr/local/bin/littil-api-start", "START")


def test_certificate_is_obtained_with_port_80_free_and_renewed_around_a_stopped_nginx(plain: Built[Ec2Api]) -> None:
    script = boot_script(plain.stack)
    certificate = heredoc(script, "/usr/local/bin/littil-certificate", "CERT")
    certbot = "certbot certonly --standalone --non-interactive --agree-tos --no-eff-email"
    assert f'{certbot} -m "$CERTBOT_EMAIL" -d "$API_DOMAIN"' in certificate
    assert certificate.index("systemctl stop nginx") < certificate.index("certbot certonly")
    unit = heredoc(script, "/etc/systemd/system/littil-certificate.service", "UNIT")
    # A failed issuance is tried again 4 times an hour at most: Let's Encrypt allows 5 failures per name per hour.
    assert "Restart=on-failure" in unit
    assert "RestartSec=900" in unit
    assert "TimeoutStartSec=infinity" in unit  # waiting for DNS may take as long as a cut-over
    renew = heredoc(script, "/etc/systemd/system/certbot-renew.service", "UNIT")
    assert '--pre-hook "systemctl stop nginx" --post-hook "systemctl start nginx"' in renew
    setup = heredoc(script, "/usr/local/sbin/littil-setup", "SETUP")
    assert "systemctl enable --now littil-api.service certbot-renew.timer littil-certificate-days.timer" in setup


def test_a_failed_first_boot_retries_until_the_instance_is_set_up(plain: Built[Ec2Api]) -> None:
    script = boot_script(plain.stack)
    setup = heredoc(script, "/usr/local/sbin/littil-setup", "SETUP")
    unit = heredoc(script, "/etc/systemd/system/littil-setup.service", "UNIT")
    # Everything that needs the network is in the retried unit, nothing of it in the user data itself.
    outside = script.replace(setup, "")
    for download in ("dnf install", "systemctl enable --now littil-api"):
        assert download in setup
        assert download not in outside
    assert "After=network-online.target" in unit
    assert "Wants=network-online.target" in unit
    assert "Restart=on-failure" in unit
    assert "StartLimitIntervalSec=0" in unit  # never gives up
    assert "ConditionPathExists=!/var/lib/littil/setup-done" in unit
    assert setup.rstrip().endswith("touch /var/lib/littil/setup-done")  # only a complete run counts
    assert script.rstrip().endswith("systemctl start --no-block littil-setup.service")
    # certbot from Amazon Linux's repository, in /usr/bin (on sudo's PATH), where the renewal runs it.
    assert "dnf install -y docker nginx jq openssl certbot\n" in setup
    renew = heredoc(script, "/etc/systemd/system/certbot-renew.service", "UNIT")
    assert "ExecStart=/usr/bin/certbot renew --quiet --standalone" in renew


FAKE_AWS = """#!/bin/bash
echo "aws $*" >> "$STUB_DIR/calls"
case "$1 $2" in
  "ssm get-parameter") echo "2.4.6" ;;
  "ecr get-login-password") echo "registry-token" ;;
  "secretsmanager get-secret-value") cat "$STUB_DIR/secret-${4##*:}" ;;
  *) exit 99 ;;
esac
"""
FAKE_DOCKER = """#!/bin/bash
echo "docker $1" >> "$STUB_DIR/calls"
if [ "$1" = login ]; then cat > /dev/null; fi
if [ "$1" = run ]; then printf '%s\\n' "$@" > "$STUB_DIR/run-args"; env > "$STUB_DIR/run-env"; fi
"""


def test_start_script_passes_secrets_by_environment_never_by_argument_or_file(
    plain: Built[Ec2Api], tmp_path: Path
) -> None:
    script = boot_script(plain.stack)
    conf, stubs = tmp_path / "etc", tmp_path / "stubs"
    conf.mkdir()
    stubs.mkdir()
    # Each secret's JSON document as Secrets Manager returns it, one distinct value per key.
    documents: dict[str, dict[str, str]] = {}
    for variable, key in RUNTIME.secrets.items():
        documents.setdefault(key.secret_arn, {})[key.json_key] = f"value-of-{variable}"
    for secret_arn, document in documents.items():
        (stubs / f"secret-{secret_arn.rsplit(':', 1)[1]}").write_text(json.dumps(document))
    for target, marker in (("api-secrets", "SECRETS"), ("api.env", "SETTINGS"), ("instance.conf", "CONF")):
        (conf / target).write_text(heredoc(script, f"/etc/littil/{target}", marker) + "\n")
    for name, body in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        (stubs / name).write_text(body)
        (stubs / name).chmod(0o755)
    (stubs / "start").write_text(heredoc(script, "/usr/local/bin/littil-api-start", "START"))

    result = subprocess.run(
        ["bash", str(stubs / "start")],
        env={
            **os.environ,
            "PATH": f"{stubs}:{os.environ['PATH']}",
            "STUB_DIR": str(stubs),
            "LITTIL_CONF_DIR": str(conf),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    secret_values = [value for document in documents.values() for value in document.values()]
    args = (stubs / "run-args").read_text().splitlines()
    env = dict(line.split("=", 1) for line in (stubs / "run-env").read_text().splitlines() if "=" in line)
    # The tag comes from the parameter at start, not from the instance's launch.
    assert args[-1] == f"{REGISTRY}/{REPOSITORY}:2.4.6"
    for variable in RUNTIME.secrets:
        assert args[args.index(variable) - 1] == "--env"
        assert env[variable] == f"value-of-{variable}"
    # The values reached docker through its environment only: not its arguments, not a file.
    assert not any(value in " ".join(args) for value in secret_values)
    assert not any(value in path.read_text() for path in conf.iterdir() for value in secret_values)
    calls = (stubs / "calls").read_text().splitlines()
    assert f"aws ssm get-parameter --name {TAG_PARAMETER} --query Parameter.Value --output text" in calls
    # One read per secret, however many keys the API takes from it.
    reads = [call for call in calls if call.startswith("aws secretsmanager")]
    assert sorted(read.split()[4] for read in reads) == sorted(documents)
    assert calls.index("docker pull") < calls.index("docker run")


FAKE_SECRETS_MANAGER = """#!/bin/bash
# One secret, kept in a file: what get-secret-value --query SecretBinary prints, and put-secret-value.
echo "aws $*" >> "$SANDBOX/aws-calls"
if [ "$1 $3 $4" != "secretsmanager --secret-id $STUB_SECRET_ID" ]; then
  echo "An error occurred (AccessDeniedException) when calling the $2 operation" >&2
  exit 254
fi
case "$2" in
  get-secret-value)
    if [ ! -s "$STUB_STORE" ]; then
      echo "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation:" \\
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" >&2
      exit 254
    fi
    base64 -w 0 "$STUB_STORE"; echo ;;
  put-secret-value) cp "${6#fileb://}" "$STUB_STORE" ;;
  *) exit 99 ;;
esac
"""


@pytest.fixture
def secrets_manager(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A directory with the fake `aws`, and the environment that points it at one stored secret."""
    bin_dir = tmp_path / "aws"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_SECRETS_MANAGER)
    (bin_dir / "aws").chmod(0o755)
    return bin_dir, {"STUB_STORE": str(tmp_path / "stored.tar.gz"), "STUB_SECRET_ID": CERTIFICATE_SECRET}


INSTANCE_IP, OLD_IP = "198.51.100.10", "203.0.113.99"


def test_a_new_environment_asks_lets_encrypt_only_once_dns_points_here_and_stores_what_it_got(
    plain: Built[Ec2Api], tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]
) -> None:
    aws, environment = secrets_manager
    # DNS first answers nothing, then the old address, then this instance's.
    boot = boot_certificate(
        boot_script(plain.stack),
        tmp_path / "instance",
        aws_path=aws,
        public_ip=INSTANCE_IP,
        dns_answers=["", OLD_IP, INSTANCE_IP],
        environment=environment,
    )
    assert boot.returncode == 0, boot.log
    assert f"resolves to nothing, not to this instance ({INSTANCE_IP})" in boot.log
    assert f"resolves to {OLD_IP}, not to this instance ({INSTANCE_IP})" in boot.log
    certbot = [call for call in boot.calls if call.startswith("certbot ")]
    assert certbot == [
        "certbot certonly --standalone --non-interactive --agree-tos --no-eff-email"
        f" -m {CERTBOT_EMAIL} -d {API_DOMAIN} --deploy-hook littil-certificate-store save"
    ]
    assert boot.calls.index("systemctl stop nginx") < boot.calls.index(certbot[0])  # port 80 free
    assert boot.calls[-2:] == ["systemctl enable --now nginx", "systemctl reload nginx"]
    # The deploy hook stored the account, the renewal settings and the live certificate, nothing older.
    with tarfile.open(environment["STUB_STORE"]) as stored:
        names = set(stored.getnames())
    assert names >= {
        "accounts/acme-v02.api.letsencrypt.org/directory/0123456789abcdef/private_key.json",
        f"renewal/{API_DOMAIN}.conf",
        f"live/{API_DOMAIN}/fullchain.pem",
        f"live/{API_DOMAIN}/privkey.pem",
        f"archive/{API_DOMAIN}/fullchain1.pem",
        f"archive/{API_DOMAIN}/privkey1.pem",
    }
    aws_calls = (tmp_path / "instance" / "aws-calls").read_text().splitlines()
    assert all(f"--region {REGION}" in call for call in aws_calls)  # AWS CLI v1 and v2 alike
    assert [call.split()[:4] for call in aws_calls] == [
        ["aws", "secretsmanager", "get-secret-value", "--secret-id"],
        ["aws", "secretsmanager", "put-secret-value", "--secret-id"],
    ]


def test_a_replaced_instance_serves_the_stored_certificate_without_asking_lets_encrypt(
    plain: Built[Ec2Api], tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]
) -> None:
    aws, environment = secrets_manager
    script = boot_script(plain.stack)
    first = boot_certificate(
        script, tmp_path / "first", aws_path=aws, public_ip=INSTANCE_IP, dns_answers=[INSTANCE_IP],
        environment=environment,
    )  # fmt: skip
    assert first.returncode == 0, first.log
    # A new instance: an empty disk, DNS still on the old address (a replacement must not wait for it).
    second = boot_certificate(
        script, tmp_path / "second", aws_path=aws, public_ip=INSTANCE_IP, dns_answers=[OLD_IP],
        environment=environment,
    )  # fmt: skip
    assert second.returncode == 0, second.log
    assert not second.asked_lets_encrypt
    assert second.fingerprint == first.fingerprint
    assert second.calls == ["systemctl enable --now nginx", "systemctl reload nginx"]
    # certbot renews the restored lineage with the same deploy hook: every renewal is stored again.
    renewal = (tmp_path / "second" / "letsencrypt" / "renewal" / f"{API_DOMAIN}.conf").read_text()
    assert renewal == "renew_hook = littil-certificate-store save\n"


def test_a_store_that_cannot_be_read_fails_the_start_instead_of_asking_lets_encrypt(
    plain: Built[Ec2Api], tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]
) -> None:
    aws, environment = secrets_manager
    # Any other error than "no value yet" (here: the wrong secret) must not look like an empty store.
    boot = boot_certificate(
        boot_script(plain.stack), tmp_path / "instance", aws_path=aws, public_ip=INSTANCE_IP,
        dns_answers=[INSTANCE_IP], environment={**environment, "STUB_SECRET_ID": "another/secret"},
    )  # fmt: skip
    assert boot.returncode != 0
    assert not boot.asked_lets_encrypt
    assert boot.fingerprint is None


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
