"""The API instance's certificate start, run outside an instance: what tests and the rehearsal boot.

`boot_certificate` takes an instance's user data as EC2 hands it to cloud-init, writes the
files its certificate path needs (instance.conf, `littil-certificate-store`,
`littil-certificate`) into a scratch root and runs `littil-certificate` there. Only what an
instance alone has is stubbed: the metadata service (`curl`), DNS (`getent`), `systemctl`
and `certbot`, which, as the real one does, writes the account, the renewal settings, an
archive version with live links to it (a self-signed certificate from the real `openssl`)
and then runs the `--deploy-hook` it was given. `aws` is whatever comes first on `aws_path`:
a stub in unit tests, the real CLI against the emulator in the rehearsal. `python3` (the
store's archive check) is this interpreter itself, as an instance has one binary: a version
manager's `python3` shim in front of it costs a quarter of a second a call.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

STUBS = {
    "certbot": r"""#!/bin/bash
echo "certbot $*" >> "$SANDBOX/calls"
while [ $# -gt 0 ]; do
  case "$1" in
    -d) domain=$2; shift ;;
    --deploy-hook) hook=$2; shift ;;
  esac
  shift
done
le=$LITTIL_LETSENCRYPT_DIR
account=$le/accounts/acme-v02.api.letsencrypt.org/directory/0123456789abcdef
mkdir -p "$le/archive/$domain" "$le/live/$domain" "$le/renewal" "$account"
echo '{"n": "the ACME account key"}' > "$account/private_key.json"
# An ECDSA P-256 key, certbot's default key type since 2.0 (and quick to make).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 -subj "/CN=$domain" \
  -keyout "$le/archive/$domain/privkey1.pem" -out "$le/archive/$domain/cert1.pem" 2> /dev/null
cp "$le/archive/$domain/cert1.pem" "$le/archive/$domain/fullchain1.pem"
: > "$le/archive/$domain/chain1.pem"
for name in cert chain fullchain privkey; do
  ln -sf "../../archive/$domain/${name}1.pem" "$le/live/$domain/$name.pem"
done
printf 'renew_hook = %s\n' "$hook" > "$le/renewal/$domain.conf"
RENEWED_LINEAGE=$le/live/$domain RENEWED_DOMAINS=$domain sh -c "$hook"
""",
    "curl": r"""#!/bin/bash
case "$*" in
  *api/token*) echo metadata-token ;;
  *meta-data/public-ipv4*) cat "$SANDBOX/public-ip" ;;
  *) exit 22 ;;
esac
""",
    # One answer per call (the first line of the answers file, which is then dropped until one is left).
    "getent": r"""#!/bin/bash
answer=$(head -n 1 "$SANDBOX/dns")
[ "$(wc -l < "$SANDBOX/dns")" -gt 1 ] && sed -i 1d "$SANDBOX/dns"
[ -n "$answer" ] || exit 2
echo "$answer       STREAM $2"
""",
    "systemctl": r"""#!/bin/bash
echo "systemctl $*" >> "$SANDBOX/calls"
""",
}


@dataclass(frozen=True)
class Boot:
    """What one run of `littil-certificate` did."""

    returncode: int
    calls: list[str]  # certbot and systemctl, in order
    log: str
    fingerprint: str | None  # SHA-256 of the certificate nginx would serve

    @property
    def asked_lets_encrypt(self) -> bool:
        return any(call.startswith("certbot ") for call in self.calls)


def heredoc(script: str, target: str, marker: str) -> str:
    """What a script's `cat > <target> <<MARKER` writes."""
    match = re.search(rf"cat > {re.escape(target)} <<'?{marker}'?\n(.*?)\n{marker}\n", script, re.S)
    if not match:
        raise ValueError(f"the boot script writes no {target}")
    return match.group(1)


def instance_conf(user_data: str) -> dict[str, str]:
    text = heredoc(user_data, "/etc/littil/instance.conf", "CONF")
    return dict(line.split("=", 1) for line in text.splitlines())


def fingerprint(certificate: Path) -> str:
    result = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(certificate)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().split("=", 1)[1]


def boot_certificate(
    user_data: str,
    root: Path,
    *,
    aws_path: Path,
    public_ip: str,
    dns_answers: list[str],
    environment: dict[str, str] | None = None,
) -> Boot:
    """Run the certificate start of `user_data` as a new instance with `public_ip` would.

    `dns_answers` are what the API host resolves to, one per lookup ("" for no answer; the
    last repeats). `root` is the instance's disk: boot twice into one root for a restart,
    into a fresh one for a replacement.
    """
    etc, letsencrypt, bin_dir = root / "etc", root / "letsencrypt", root / "bin"
    for directory in (etc, letsencrypt, bin_dir):
        directory.mkdir(parents=True, exist_ok=True)
    (etc / "instance.conf").write_text(heredoc(user_data, "/etc/littil/instance.conf", "CONF") + "\n")
    scripts = {
        **STUBS,
        "littil-certificate-store": heredoc(user_data, "/usr/local/bin/littil-certificate-store", "STORE"),
        "littil-certificate": heredoc(user_data, "/usr/local/bin/littil-certificate", "CERT"),
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "python3").unlink(missing_ok=True)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))  # outside any virtualenv, as on an instance
    (root / "public-ip").write_text(public_ip + "\n")
    (root / "dns").write_text("\n".join(dns_answers) + "\n")
    (root / "calls").unlink(missing_ok=True)
    (root / "calls").touch()
    result = subprocess.run(
        ["bash", str(bin_dir / "littil-certificate")],
        env={
            **os.environ,
            **(environment or {}),
            "PATH": f"{aws_path}:{bin_dir}:{os.environ['PATH']}",
            "SANDBOX": str(root),
            "LITTIL_CONF_DIR": str(etc),
            "LITTIL_LETSENCRYPT_DIR": str(letsencrypt),
            "LITTIL_DNS_POLL_SECONDS": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    domain = instance_conf(user_data)["API_DOMAIN"]
    served = letsencrypt / "live" / domain / "fullchain.pem"
    return Boot(
        returncode=result.returncode,
        calls=(root / "calls").read_text().splitlines(),
        log=result.stdout + result.stderr,
        fingerprint=fingerprint(served) if served.exists() else None,
    )
