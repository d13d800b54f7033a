"""modules/api/ec2.py alone, its boot script: what it renders, and its scripts run with stubbed tools."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modules.access.secrets import SecretKey
from modules.api.ec2 import (
    BOOT_TEMPLATE,
    CERTIFICATE_METRIC_NAME,
    CERTIFICATE_METRIC_NAMESPACE,
    Ec2Api,
    render_boot_script,
)
from tests.modules.alone import REGION, Built
from tests.modules.api.test_ec2 import (
    API_DOMAIN,
    CERTBOT_EMAIL,
    CERTIFICATE_SECRET,
    REGISTRY,
    REPOSITORY,
    RUNTIME,
    SCRIPT_SETTINGS,
    TAG_PARAMETER,
    ec2_api,
    instance,
    instance_conf,
)
from tests.tf import boot_script
from tools.instance_boot import Boot, boot_certificate, heredoc


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


@pytest.fixture
def new_instance(
    plain: Built[Ec2Api], tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]
) -> Callable[[str, str], Boot]:
    """Boot a new instance (an empty disk under tmp_path/<name>) whose API host resolves to `dns`; one store for all."""
    aws, environment = secrets_manager
    script = boot_script(plain.stack)
    return lambda name, dns: boot_certificate(
        script, tmp_path / name, aws_path=aws, public_ip=INSTANCE_IP, dns_answers=[dns], environment=environment
    )


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
    # The deploy hook stored the account and the live certificate: data only, never the renewal settings (code).
    with tarfile.open(environment["STUB_STORE"]) as stored:
        names = set(stored.getnames())
    assert names >= {
        "accounts/acme-v02.api.letsencrypt.org/directory/0123456789abcdef/private_key.json",
        f"live/{API_DOMAIN}/fullchain.pem",
        f"live/{API_DOMAIN}/privkey.pem",
        f"archive/{API_DOMAIN}/fullchain1.pem",
        f"archive/{API_DOMAIN}/privkey1.pem",
    }
    assert not [name for name in names if name.startswith("renewal")]
    aws_calls = (tmp_path / "instance" / "aws-calls").read_text().splitlines()
    assert all(f"--region {REGION}" in call for call in aws_calls)  # AWS CLI v1 and v2 alike
    assert [call.split()[:4] for call in aws_calls] == [
        ["aws", "secretsmanager", "get-secret-value", "--secret-id"],
        ["aws", "secretsmanager", "put-secret-value", "--secret-id"],
    ]


def test_a_replaced_instance_serves_the_stored_certificate_without_asking_lets_encrypt(
    new_instance: Callable[[str, str], Boot], tmp_path: Path
) -> None:
    first = new_instance("first", INSTANCE_IP)
    assert first.returncode == 0, first.log
    # A new instance: an empty disk, DNS still on the old address (a replacement must not wait for it).
    second = new_instance("second", OLD_IP)
    assert second.returncode == 0, second.log
    assert not second.asked_lets_encrypt
    assert second.fingerprint == first.fingerprint
    assert second.calls == ["systemctl enable --now nginx", "systemctl reload nginx"]
    # The renewal settings are the boot script's own, for the restored account: no hook of anybody's.
    letsencrypt = tmp_path / "second" / "letsencrypt"
    renewal = (letsencrypt / "renewal" / f"{API_DOMAIN}.conf").read_text()
    assert f"fullchain = {letsencrypt}/live/{API_DOMAIN}/fullchain.pem\n" in renewal
    assert renewal.endswith(
        "[renewalparams]\naccount = 0123456789abcdef\nauthenticator = standalone\n"
        "server = https://acme-v02.api.letsencrypt.org/directory\n"
    )
    assert "hook" not in renewal


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


def add_to_store(store: Path, extra: Callable[[tarfile.TarFile], None]) -> None:
    """The stored archive again, with what `extra` adds to it."""
    with tarfile.open(store) as original:
        members = [(m, original.extractfile(m).read() if m.isfile() else None) for m in original.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(store, "w:gz") as archive:
        for member, data in members:
            archive.addfile(member, None if data is None else io.BytesIO(data))
        extra(archive)


def _file(name: str) -> Callable[[tarfile.TarFile], None]:
    def add(archive: tarfile.TarFile) -> None:
        member = tarfile.TarInfo(name)
        member.size = 6
        archive.addfile(member, io.BytesIO(b"id -u\n"))

    return add


def _special(name: str, **kind: Any) -> Callable[[tarfile.TarFile], None]:
    def add(archive: tarfile.TarFile) -> None:
        member = tarfile.TarInfo(name)
        for key, value in kind.items():
            setattr(member, key, value)
        archive.addfile(member)

    return add


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(_file(f"renewal/{API_DOMAIN}.conf"), id="renewal-settings-with-their-hooks"),
        pytest.param(_file("renewal-hooks/deploy/run.sh"), id="a-renewal-hook"),
        pytest.param(_file("cli.ini"), id="certbots-own-settings"),
        pytest.param(_file("../etc/cron.d/run"), id="a-path-out-of-the-directory"),
        pytest.param(_file("/etc/cron.d/run"), id="an-absolute-path"),
        pytest.param(_file("accounts/../../etc/cron.d/run.json"), id="a-path-out-through-the-accounts"),
        pytest.param(_file(f"archive/{API_DOMAIN}/privkey1.sh"), id="a-script-among-the-certificates"),
        pytest.param(_file("archive/api.elsewhere.org/cert1.pem"), id="another-domains-certificate"),
        pytest.param(_file("accounts/acme-v02.api.letsencrypt.org/run.sh"), id="a-script-among-the-accounts"),
        pytest.param(
            _special(f"live/{API_DOMAIN}/cert.pem", type=tarfile.SYMTYPE, linkname="/etc/shadow"),
            id="a-live-link-out-of-the-archive",
        ),
        pytest.param(
            _special(
                f"live/{API_DOMAIN}/cert.pem", type=tarfile.SYMTYPE, linkname=f"../../archive/{API_DOMAIN}/privkey1.pem"
            ),
            id="a-live-link-to-another-file",
        ),
        pytest.param(
            _special(f"archive/{API_DOMAIN}/cert2.pem", type=tarfile.LNKTYPE, linkname="etc/passwd"),
            id="a-hard-link",
        ),
        pytest.param(_special("accounts/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3), id="a-device"),
        pytest.param(_special(f"live/{API_DOMAIN}/run", type=tarfile.FIFOTYPE), id="a-pipe"),
    ],
)
def test_a_stored_archive_with_anything_but_certificates_and_the_account_is_refused_whole(
    new_instance: Callable[[str, str], Boot],
    tmp_path: Path,
    secrets_manager: tuple[Path, dict[str, str]],
    extra: Callable[[tarfile.TarFile], None],
) -> None:
    # What a first instance stored (restored whole by a replacement: the test above), and one thing more.
    first = new_instance("first", INSTANCE_IP)
    assert first.returncode == 0, first.log
    add_to_store(Path(secrets_manager[1]["STUB_STORE"]), extra)
    boot = new_instance("second", INSTANCE_IP)
    assert boot.returncode != 0
    assert "refusing the stored certificate" in boot.log
    # Nothing of it was unpacked, nothing served, and Let's Encrypt was not asked in its place.
    assert list((tmp_path / "second" / "letsencrypt").iterdir()) == []
    assert not boot.asked_lets_encrypt
