"""The EC2 variant's `ssh_public_key`: a key line sshd would accept, and a private key pasted in its
place is refused without the message showing any of it (error output ends up in CI logs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envs_copy import load_error, with_ec2_setting


def test_an_ssh_key_whose_data_is_not_the_key_it_names_is_refused(tmp_path: Path) -> None:
    # The line says ssh-rsa, its data is an ed25519 key: sshd would refuse it, and the instance would have no key.
    mislabelled = "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"
    error = load_error(tmp_path, production=with_ec2_setting(f'ssh_public_key = "{mislabelled}"'))
    assert (error.file.name, error.key) == ("production.hcl", "api.ec2.ssh_public_key")
    assert error.problem.startswith("expected an OpenSSH ed25519 or RSA public key line")


SECRET = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param(
            f"-----BEGIN OPENSSH PRIVATE KEY-----\\n{SECRET}\\n-----END OPENSSH PRIVATE KEY-----", id="openssh"
        ),
        pytest.param(f"PuTTY-User-Key-File-3: ssh-ed25519\\nPrivate-Lines: 1\\n{SECRET}", id="putty"),
        pytest.param(SECRET, id="the-key-body-alone"),
    ],
)
def test_a_pasted_private_key_is_refused_without_showing_any_of_it(tmp_path: Path, pasted: str) -> None:
    error = load_error(tmp_path, production=with_ec2_setting(f'ssh_public_key = "{pasted}"'))
    assert error.key == "api.ec2.ssh_public_key"
    assert "(not shown" in error.problem
    assert SECRET[:12] not in str(error)
