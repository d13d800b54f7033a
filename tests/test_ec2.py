"""api-production (EC2 variant): one instance, nginx + Let's Encrypt, the same settings and secrets as ECS."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from config.model import AppConfig
from modules.api.boot_script import USER_DATA_LIMIT_BYTES
from modules.api.ec2 import key_fingerprint
from tests.conftest import TEST_SSH_KEY
from tests.tf import (
    Stack,
    boot_script,
    follow,
    group_statements,
    named,
    only,
    policy_statements,
    ref,
    resources,
    role_statements,
    subnet_tiers,
)
from tools.instance_boot import heredoc

STACK = "api-production"
TF_INTERPOLATION = re.compile(r"(?<!\$)\$\{(?:data\.|aws_)[^}]*\}")


def instance(stack: Stack) -> tuple[str, dict[str, Any]]:
    return only(resources(stack, "aws_instance"))


def test_instance_takes_its_type_size_and_key_from_config(stacks: dict[str, Stack], config: AppConfig) -> None:
    """Wiring only: the image, encryption and replacement rules are the construct's (tests/modules/api/test_ec2.py)."""
    stack = stacks[STACK]
    ec2 = config.workload("production").api.ec2
    _, body = instance(stack)
    assert body["instance_type"] == ec2.instance_type
    assert body["root_block_device"]["volume_size"] == ec2.root_volume_gb
    assert ec2.ssh_public_key is None  # the committed production has no key: no key pair, none on the instance
    assert "key_name" not in body
    assert not resources(stack, "aws_key_pair")


def test_instance_sits_in_a_public_subnet_on_the_networks_elastic_ip(stacks: dict[str, Stack]) -> None:
    stack = stacks[STACK]
    instance_name, body = instance(stack)
    assert subnet_tiers(stacks, STACK, body["subnet_id"]) == ("network-production", ["public"])
    _, association = only(resources(stack, "aws_eip_association"))
    assert association["instance_id"] == ref("aws_instance", instance_name, "id")
    eip_name, _ = only(resources(stacks["network-production"], "aws_eip"))
    assert follow(stacks, STACK, association["allocation_id"]) == (
        "network-production",
        ref("aws_eip", eip_name, "allocation_id"),
    )
    assert follow(stacks, STACK, stack["output"]["public-ip"]["value"]) == (
        "network-production",
        ref("aws_eip", eip_name, "public_ip"),
    )
    assert stacks["network-production"]["output"]["api-public-ip"]["value"] == ref("aws_eip", eip_name, "public_ip")
    # No load balancer, no ECS in this variant.
    assert not resources(stack, "aws_lb")
    assert not resources(stack, "aws_ecs_service")


def test_security_group_opens_http_and_https_to_the_world_and_ssh_to_nobody_by_default(
    stacks: dict[str, Stack],
) -> None:
    stack = stacks[STACK]
    _, body = instance(stack)
    (group,) = body["vpc_security_group_ids"]
    ingress = {
        (rule["from_port"], rule.get("cidr_ipv4") or rule.get("cidr_ipv6"))
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == group
    }
    assert ingress == {(443, "0.0.0.0/0"), (80, "0.0.0.0/0")}


def test_configured_ssh_key_and_networks_open_port_22_to_exactly_those(opt_ins: dict[str, Stack]) -> None:
    stack = opt_ins[STACK]
    _, body = instance(stack)
    key_name, key = only(resources(stack, "aws_key_pair"))
    assert key["public_key"] == TEST_SSH_KEY
    # The key's fingerprint is in the pair's name: a new key is a new key_name, so it reaches the instance.
    assert key["key_name"] == f"LITTIL-NL-production-littil-api-{key_fingerprint(TEST_SSH_KEY)}"
    assert body["key_name"] == ref("aws_key_pair", key_name, "key_name")
    (group,) = body["vpc_security_group_ids"]
    ssh = {
        rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == group and rule["from_port"] == 22
    }
    assert ssh == {"203.0.113.7/32", "198.51.100.0/24"}
    assert stack["output"]["ssh-command"]["value"].startswith(
        "ssh -i ~/.ssh/littil-production ec2-user@${data.terraform_remote_state."
    )


def test_instance_role_pulls_exactly_the_api_image_reads_exactly_its_secrets_and_uses_ssm(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    stack = stacks[STACK]
    _, body = instance(stack)
    _, profile = only(resources(stack, "aws_iam_instance_profile"))
    assert body["iam_instance_profile"].endswith(".name}")
    role_id = profile["role"].split(".")[1]
    (policy,) = [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", role_id, "id")
    ]
    statements = {s["sid"]: s for s in policy_statements(stack, policy["policy"])}
    assert set(statements) == {
        "RegistryLogin",
        "PullImage",
        "ReadSecrets",
        "ReadImageTag",
        "KeepCertificate",
        "PublishCertificateDays",
    }
    # The certificate store is the environment's, next to its other secrets, and the one the instance names.
    (store_id, store) = only(
        {key: body for key, body in resources(stack, "aws_secretsmanager_secret").items() if "certificate" in key}
    )
    assert store["name"] == "littil/backend/production/letsencrypt"
    assert statements["KeepCertificate"]["resources"] == [ref("aws_secretsmanager_secret", store_id, "arn")]
    assert f"CERTIFICATE_SECRET={store['name']}" in heredoc(boot_script(stack), "/etc/littil/instance.conf", "CONF")
    assert statements["PullImage"]["resources"] == ["arn:aws:ecr:eu-west-1:680278545709:repository/littil-backend"]
    secret_lines = heredoc(boot_script(stack), "/etc/littil/api-secrets", "SECRETS").splitlines()
    assert sorted(statements["ReadSecrets"]["resources"]) == sorted({line.split()[1] for line in secret_lines})
    parameter_name, parameter = only(resources(stack, "aws_ssm_parameter"))
    assert statements["ReadImageTag"]["resources"] == [ref("aws_ssm_parameter", parameter_name, "arn")]
    assert parameter["value"] == config.workload("production").api.image_tag
    (managed,) = [
        a["policy_arn"]
        for a in resources(stack, "aws_iam_role_policy_attachment").values()
        if a["role"] == ref("aws_iam_role", role_id, "name")
    ]
    assert managed == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def test_boot_script_gives_the_container_the_same_settings_and_secrets_as_the_ecs_variant(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    script = boot_script(stacks[STACK])
    settings = dict(line.split("=", 1) for line in heredoc(script, "/etc/littil/api.env", "SETTINGS").splitlines())
    secrets = {
        name: f"{arn}:{key}::"
        for name, arn, key in (
            line.split() for line in heredoc(script, "/etc/littil/api-secrets", "SECRETS").splitlines()
        )
    }
    (task,) = resources(toggled["api-production"], "aws_ecs_task_definition").values()
    (web,) = json.loads(task["container_definitions"])
    assert settings == {item["name"]: item["value"] for item in web["environment"]}
    assert secrets == {item["name"]: item["valueFrom"] for item in web["secrets"]}
    # Nothing secret in the plain settings or anywhere in the user data.
    assert not any(name in settings for name in secrets)


# Longer than any value Terraform fills in (a secret's ARN with its random suffix is about 100 characters).
LONGEST_VALUE = "x" * 160


def test_every_instances_user_data_stays_within_ec2s_limit_once_terraform_fills_in_the_values(
    stacks: dict[str, Stack], toggled: dict[str, Stack], opt_ins: dict[str, Stack]
) -> None:
    checked = 0
    for synthesis in (stacks, toggled, opt_ins):
        for name, stack in synthesis.items():
            for body in resources(stack, "aws_instance").values():
                filled = re.sub(r"(?<!\$)\$\{[^}]*\}", LONGEST_VALUE, body["user_data"]).replace("$${", "${")
                assert len(filled.encode()) <= USER_DATA_LIMIT_BYTES, name
                checked += 1
    assert checked >= 2  # production on EC2, and the opt-ins' instance with SSH


def test_boot_script_is_valid_bash_and_sets_up_tls_proxy_and_renewal(stacks: dict[str, Stack]) -> None:
    script = boot_script(stacks[STACK])
    checked = subprocess.run(
        ["bash", "-n"], input=TF_INTERPOLATION.sub("TF_VALUE", script), text=True, capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    conf = dict(line.split("=", 1) for line in heredoc(script, "/etc/littil/instance.conf", "CONF").splitlines())
    assert conf["API_DOMAIN"] == "api.littil.org"
    assert conf["CERTBOT_EMAIL"] == "info@littil.org"
    assert conf["IMAGE_TAG_PARAMETER"] == "/littil/production/api/image-tag"
    assert conf["REGISTRY"] == "680278545709.dkr.ecr.eu-west-1.amazonaws.com"
    assert conf["IMAGE_REPOSITORY"] == "littil-backend"
    nginx = heredoc(script, "/etc/nginx/conf.d/littil-api.conf", "NGINX")
    assert "proxy_pass http://127.0.0.1:8080;" in nginx
    assert "ssl_certificate /etc/letsencrypt/live/$API_DOMAIN/fullchain.pem;" in nginx
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in nginx
    certificate = heredoc(script, "/usr/local/bin/littil-certificate", "CERT")
    certbot = "certbot certonly --standalone --non-interactive --agree-tos --no-eff-email"
    assert f'{certbot} -m "$CERTBOT_EMAIL" -d "$API_DOMAIN"' in certificate
    assert certificate.index("systemctl stop nginx") < certificate.index("certbot certonly")
    renew = heredoc(script, "/etc/systemd/system/certbot-renew.service", "UNIT")
    assert '--pre-hook "systemctl stop nginx" --post-hook "systemctl start nginx"' in renew
    setup = heredoc(script, "/usr/local/sbin/littil-setup", "SETUP")
    assert "systemctl enable --now littil-api.service certbot-renew.timer" in setup
    # The container listens on loopback only; nginx is the only way in.
    assert "--publish 127.0.0.1:8080:8080" in heredoc(script, "/usr/local/bin/littil-api-start", "START")


def test_operators_get_a_session_manager_shell_on_this_instance_only(stacks: dict[str, Stack]) -> None:
    stack = stacks[STACK]
    instance_id, _ = instance(stack)
    user_id, user = named(stack, "aws_iam_user", "LITTIL-NL-production-littil-api-SSMSession-User")
    policy_name = "LITTIL-NL-production-littil-api-SSMSession"
    statements = {s["sid"]: s for s in group_statements(stack, policy_name)}
    account = "${data.aws_caller_identity.current-account.account_id}"
    shell = statements["ShellOnTheApiInstance"]
    assert shell["actions"] == ["ssm:StartSession"]
    assert shell["resources"] == [
        f"arn:aws:ec2:eu-west-1:{account}:instance/{ref('aws_instance', instance_id, 'id')}",
        f"arn:aws:ssm:eu-west-1:{account}:document/SSM-SessionManagerRunShell",
    ]
    own = statements["OwnSessionsOnly"]
    assert own["actions"] == ["ssm:TerminateSession", "ssm:ResumeSession"]
    assert own["resources"] == [
        f"arn:aws:ssm:eu-west-1:{account}:session/&{{aws:username}}-*",
        f"arn:aws:ssm:eu-west-1:{account}:session/&{{aws:userid}}-*",
    ]
    group_id, _ = named(stack, "aws_iam_group", policy_name)
    memberships = [
        m
        for m in resources(stack, "aws_iam_user_group_membership").values()
        if m["user"] == ref("aws_iam_user", user_id, "name")
    ]
    assert [m["groups"] for m in memberships] == [[ref("aws_iam_group", group_id, "name")]]
    assert stack["output"]["ssm-session-command"]["value"] == (
        f"aws ssm start-session --region eu-west-1 --target {ref('aws_instance', instance_id, 'id')}"
    )
    assert user["name"] in stack["output"]["ssm-session-command"]["description"]


def test_a_new_database_password_restarts_the_container_on_the_instance(stacks: dict[str, Stack]) -> None:
    stack = stacks[STACK]
    instance_id, _ = instance(stack)
    rule_id, rule = only(resources(stack, "aws_cloudwatch_event_rule"))
    assert '"detail-type" = ["Secret Label Updated"]' in rule["event_pattern"]
    (secret_read,) = re.findall(
        r'"resources" = \[(data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+)\]', rule["event_pattern"]
    )
    database_id, _ = only(resources(stacks["database-production"], "aws_db_instance"))
    assert follow(stacks, STACK, f"${{{secret_read}}}") == (
        "database-production",
        f"${{aws_db_instance.{database_id}.master_user_secret[0].secret_arn}}",
    )
    _, target = only(resources(stack, "aws_cloudwatch_event_target"))
    assert target["rule"] == ref("aws_cloudwatch_event_rule", rule_id, "name")
    assert target["arn"] == "arn:aws:ssm:eu-west-1::document/AWS-RunShellScript"
    assert target["run_command_targets"] == [{"key": "InstanceIds", "values": [ref("aws_instance", instance_id, "id")]}]
    # The same restart operators run after a rollout; the unit reads the secrets again at start.
    assert json.loads(target["input"]) == {"commands": ["systemctl restart littil-api"]}
    assert "'commands=[\"systemctl restart littil-api\"]'" in stack["output"]["rollout-command"]["value"]
    assert "ExecStart=/usr/local/bin/littil-api-start" in heredoc(
        boot_script(stack), "/etc/systemd/system/littil-api.service", "UNIT"
    )
    role_id, role = named(stack, "aws_iam_role", "LITTIL-NL-production-littil-api-restart-trigger")
    assert target["role_arn"] == ref("aws_iam_role", role_id, "arn")
    (trust,) = policy_statements(stack, role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    (statement,) = role_statements(stack, role["name"])
    account = "${data.aws_caller_identity.current-account.account_id}"
    assert statement["actions"] == ["ssm:SendCommand"]
    assert statement["resources"] == [
        "arn:aws:ssm:eu-west-1::document/AWS-RunShellScript",
        f"arn:aws:ec2:eu-west-1:{account}:instance/{ref('aws_instance', instance_id, 'id')}",
    ]


def test_the_cut_over_runbook_states_the_instances_certificate_timings(stacks: dict[str, Stack]) -> None:
    script = boot_script(stacks[STACK])
    certificate = heredoc(script, "/usr/local/bin/littil-certificate", "CERT")
    unit = heredoc(script, "/etc/systemd/system/littil-certificate.service", "UNIT")
    (poll,) = re.findall(r"LITTIL_DNS_POLL_SECONDS:-(\d+)", certificate)
    (retry,) = re.findall(r"^RestartSec=(\d+)$", unit, re.M)
    runbook = " ".join((Path(__file__).parents[1] / "docs" / "migration.md").read_text().split())
    assert f"every {poll} s" in runbook
    assert f"up to {poll} s until the instance's next look" in runbook
    assert f"waits {int(retry) // 60} minutes before the next try" in runbook
