"""The EC2 variant's SSH settings: a public key line EC2 imports, and the sources port 22 may be open to."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any


def one_line(value: Any) -> Any:
    """A line as a file ends it, or as a heredoc gives it: its one trailing newline is not part of the value."""
    return value.removesuffix("\n").removesuffix("\r") if isinstance(value, str) else value


# EC2 key pairs take RSA and ED25519 keys only (ImportKeyPair).
_SSH_KEY_LINE = re.compile(r"(ssh-ed25519|ssh-rsa) ([A-Za-z0-9+/]+=*)(?: .*)?")


def ssh_public_key(value: str) -> str | None:
    """An OpenSSH public key line whose key data decodes and names the key type the line names (as sshd reads it)."""
    expected = 'an OpenSSH ed25519 or RSA public key line, the ones EC2 imports (the .pub file: "ssh-ed25519 AAAA...")'
    line = _SSH_KEY_LINE.fullmatch(value)
    if line is None:
        return expected
    try:
        blob = base64.b64decode(line.group(2), validate=True)
    except binascii.Error:
        return expected
    length = int.from_bytes(blob[:4], "big")
    return None if blob[4 : 4 + length] == line.group(1).encode() else expected


# The widest SSH source a rule may name: a /16 (65,536 addresses).
MIN_SSH_PREFIX = 16


def ssh_cidr(value: str) -> str | None:
    expected = (
        "an IPv4 network of /16 or narrower, such as"
        ' "203.0.113.7/32" (the VPC has no IPv6; wider ones open port 22 to much of the internet)'
    )
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return expected
    # A security group rule takes CIDR notation only: a bare address is refused at apply.
    return expected if "/" not in value or network.version != 4 or network.prefixlen < MIN_SSH_PREFIX else None
