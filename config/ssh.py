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
    fields = _ssh_fields(blob)
    if fields is not None and fields[0] != line.group(1).encode():
        return expected
    # ed25519: the name and a 32-byte key; RSA: the name, the exponent and the modulus (EC2 imports 1024-4096 bits).
    if fields is None or not (
        len(fields) == 2 and len(fields[1]) == 32
        if fields[0] == b"ssh-ed25519"
        else len(fields) == 3 and 1024 <= len(fields[2].lstrip(b"\0")) * 8 <= 4096
    ):
        return f"{expected}; this one is cut short or damaged: copy the whole line again"
    return None


def _ssh_fields(blob: bytes) -> list[bytes] | None:
    """The length-prefixed fields of an OpenSSH key blob, or None where a length runs past the end."""
    fields, at = [], 0
    while at < len(blob):
        length = int.from_bytes(blob[at : at + 4], "big")
        if at + 4 + length > len(blob):
            return None
        fields.append(blob[at + 4 : at + 4 + length])
        at += 4 + length
    return fields


# Addresses no packet from the internet carries (RFC 1918, RFC 6598, loopback, link-local).
NOT_FROM_THE_INTERNET = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16")
)
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
    if "/" not in value or network.version != 4 or network.prefixlen < MIN_SSH_PREFIX:
        return expected
    if any(network.subnet_of(inside) for inside in NOT_FROM_THE_INTERNET):
        return (
            "a source on the internet: the instance is reached over it, and no private, shared, loopback or link-local"
            " address (10.x, 172.16-31.x, 192.168.x, 100.64-127.x, 127.x, 169.254.x) comes from there"
        )
    return None
