"""modules/api/ec2.py alone, its boot script: what it renders, and its scripts run with stubbed tools.

The certificate path, run from the script rendered without a construct: test_boot_script.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from modules.access.secrets import SecretKey
from modules.api.boot_script import BOOT_TEMPLATE, render_boot_script
from modules.api.ec2 import CERTIFICATE_METRIC_NAME, CERTIFICATE_METRIC_NAMESPACE, Ec2Api
from tests.modules.alone import REGION, Built
from tests.modules.api.test_boot_script import API_DOMAIN, CERTBOT_EMAIL, CERTIFICATE_SECRET, REPOSITORY, TAG_PARAMETER
from tests.modules.api.test_ec2 import REGISTRY, RUNTIME, SCRIPT_SETTINGS, ec2_api, instance, instance_conf
from tests.tf import boot_script
from tools.instance_boot import heredoc


@pytest.fixture(scope="module")
def plain() -> Built[Ec2Api]:
    """Every optional argument left at its default: the boot script as most environments get it."""
    return ec2_api()


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


def test_the_instance_gets_the_template_without_its_comment_lines(plain: Built[Ec2Api]) -> None:
    # The comments are for the template's readers; EC2 takes 16 KB of user data (its size: tests/test_ec2.py).
    script = boot_script(plain.stack)
    assert script.startswith("#!/bin/bash\n")
    assert [line for line in script.splitlines() if line.lstrip().startswith("#") and not line.startswith("#!")] == []
    # Every other line of the template is there, in order (besides the placeholders, which are filled in).
    kept = [
        line for line in BOOT_TEMPLATE.read_text().splitlines() if not re.match(r"\s*#(?!!)", line) and "@@" not in line
    ]
    rendered = iter(script.splitlines())
    assert all(line in rendered for line in kept)


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
    # Every renewal is stored again: the hook is the unit's own, never one from stored renewal settings.
    assert renew.rstrip().splitlines()[-1].endswith('--deploy-hook "littil-certificate-store save"')
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
