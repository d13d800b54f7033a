"""modules/api/boot_script.py alone, its certificate store: what a new or replaced instance serves, and what it refuses.

The script is rendered from plain values and delivered as Terraform would deliver it; the store script and
`littil-certificate` then run with stubbed tools (tools/instance_boot.py). Nothing is synthesized, so these runs
need no CDKTF (make test-fast runs them beside the config tests). What the instance is given, and its other scripts:
test_ec2_boot.py.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modules.api.boot_script import render_boot_script
from tests.tf import as_delivered
from tools.instance_boot import Boot, boot_certificate

REGION = "eu-west-1"
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
REPOSITORY = "littil-backend"
TAG_PARAMETER = "/littil/test/api/image-tag"
API_DOMAIN = "api.test.littil.org"
CERTBOT_EMAIL = "info@littil.org"
CERTIFICATE_SECRET = "littil/backend/test/letsencrypt"
# What the boot script is rendered with, besides the API's settings and secrets (the certificate path reads neither);
# test_ec2.py builds the instance with the same values.
SCRIPT_SETTINGS = {
    "region": REGION,
    "registry": REGISTRY,
    "image_repository": REPOSITORY,
    "image_tag_parameter": TAG_PARAMETER,
    "api_domain": API_DOMAIN,
    "certbot_email": CERTBOT_EMAIL,
    "certificate_secret": CERTIFICATE_SECRET,
    "metric_namespace": "LITTIL/API",
    "metric_name": "CertificateDaysToExpiry",
}
SCRIPT = as_delivered(render_boot_script(environment={}, secrets={}, **SCRIPT_SETTINGS))


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


def fake_secrets_manager(directory: Path) -> tuple[Path, dict[str, str]]:
    """A directory with the fake `aws`, and the environment that points it at one stored secret."""
    bin_dir = directory / "aws"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_SECRETS_MANAGER)
    (bin_dir / "aws").chmod(0o755)
    return bin_dir, {"STUB_STORE": str(directory / "stored.tar.gz"), "STUB_SECRET_ID": CERTIFICATE_SECRET}


@pytest.fixture
def secrets_manager(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    return fake_secrets_manager(tmp_path)


INSTANCE_IP, OLD_IP = "198.51.100.10", "203.0.113.99"


@pytest.fixture
def new_instance(tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]) -> Callable[[str, str], Boot]:
    """Boot a new instance (an empty disk under tmp_path/<name>) whose API host resolves to `dns`; one store for all."""
    aws, environment = secrets_manager
    return lambda name, dns: boot_certificate(
        SCRIPT, tmp_path / name, aws_path=aws, public_ip=INSTANCE_IP, dns_answers=[dns], environment=environment
    )


@pytest.fixture(scope="module")
def first_stored(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """What a new instance's start stored in the secret, once for the tests that tamper with a copy of it."""
    sandbox = tmp_path_factory.mktemp("first-instance")
    aws, environment = fake_secrets_manager(sandbox)
    boot = boot_certificate(
        SCRIPT, sandbox / "instance", aws_path=aws, public_ip=INSTANCE_IP,
        dns_answers=[INSTANCE_IP], environment=environment,
    )  # fmt: skip
    assert boot.returncode == 0, boot.log
    return Path(environment["STUB_STORE"]).read_bytes()


def test_a_new_environment_asks_lets_encrypt_only_once_dns_points_here_and_stores_what_it_got(
    tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]
) -> None:
    aws, environment = secrets_manager
    # DNS first answers nothing, then the old address, then this instance's.
    boot = boot_certificate(
        SCRIPT,
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
    tmp_path: Path, secrets_manager: tuple[Path, dict[str, str]]
) -> None:
    aws, environment = secrets_manager
    # Any other error than "no value yet" (here: the wrong secret) must not look like an empty store.
    boot = boot_certificate(
        SCRIPT, tmp_path / "instance", aws_path=aws, public_ip=INSTANCE_IP,
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
    first_stored: bytes,
    new_instance: Callable[[str, str], Boot],
    tmp_path: Path,
    secrets_manager: tuple[Path, dict[str, str]],
    extra: Callable[[tarfile.TarFile], None],
) -> None:
    # What a first instance stored (restored whole by a replacement: the test above), and one thing more.
    store = Path(secrets_manager[1]["STUB_STORE"])
    store.write_bytes(first_stored)
    add_to_store(store, extra)
    boot = new_instance("second", INSTANCE_IP)
    assert boot.returncode != 0
    assert "refusing the stored certificate" in boot.log
    # Nothing of it was unpacked, nothing served, and Let's Encrypt was not asked in its place.
    assert list((tmp_path / "second" / "letsencrypt").iterdir()) == []
    assert not boot.asked_lets_encrypt
