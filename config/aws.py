"""What AWS accepts, known offline: botocore's own data first, small sourced tables where it has none.

botocore ships AWS's endpoint and service models (the version Pipfile.lock pins): the regions and
the EC2 instance types come from there. Where it carries nothing (an instance's memory, a burstable
type's credit ceiling, an image's architecture), the table below names its source and date. A rule
returns what was expected, or None (`config.rules`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.loaders  # type: ignore[import-untyped]


@functools.cache
def _loader() -> Any:
    return botocore.loaders.create_loader()


@functools.cache
def partitions() -> dict[str, dict[str, Any]]:
    """botocore's endpoint data, by partition (`aws`, `aws-cn`, `aws-us-gov`, ...)."""
    return {p["partition"]: p for p in _loader().load_data("endpoints")["partitions"]}


@functools.cache
def regions() -> frozenset[str]:
    """The regions of AWS's commercial partition (`aws`): the ARNs this app composes are `arn:aws:...`."""
    return frozenset(partitions()["aws"]["regions"])


@functools.cache
def ec2_instance_types() -> frozenset[str]:
    """Every EC2 instance type, as the EC2 API model enumerates it (`InstanceType`)."""
    return frozenset(_loader().load_service_model("ec2", "service-2")["shapes"]["InstanceType"]["enum"])


@functools.cache
def ses_regions() -> frozenset[str]:
    """The regions where SES (the endpoint prefix `email`) answers, as botocore's endpoint data lists them."""
    return frozenset(partitions()["aws"]["services"]["email"]["endpoints"]) & regions()


def known_region(value: str) -> str | None:
    return None if value in regions() else 'a region of AWS\'s commercial partition such as "eu-central-1"'


# The zone letters of a region (AWS "AWS Availability Zones" and "AZ IDs" pages, 2026-12; where names differ by
# account, every letter an account can see). botocore has no zones; a region not listed here may use a to f.
ZONE_LETTERS = {
    "eu-west-1": "abc",
    "eu-west-2": "abcd",
    "eu-west-3": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-west-1": "abc",
    "us-west-2": "abcd",
    "ca-central-1": "abd",
    "ap-northeast-1": "abcd",
    "ap-southeast-2": "abc",
}


def zone_in(region: str, zone: str) -> str | None:
    """What a zone of `region` looks like, when `zone` is not one."""
    letters = ZONE_LETTERS.get(region, "abcdef")
    if zone.removeprefix(region) in tuple(letters):
        return None
    return f"a zone region {region} has: {', '.join(region + letter for letter in letters)}"


# AWS's naming (EC2 "Instance type naming conventions", 2026-12): <series><generation><options>.<size>; the
# option "g" is a Graviton (arm64) processor, as is the first generation a1.
_ARM64_FAMILY = re.compile(r"a1|[a-z]+\d+[a-z]*g[a-z-]*")


def is_arm64(instance_type: str) -> bool:
    return bool(_ARM64_FAMILY.fullmatch(instance_type.split(".", maxsplit=1)[0]))


def x86_64_instance_type(value: str) -> str | None:
    """An EC2 type AWS has that runs the x86_64 image and AMI (Amazon Linux 2023 x86_64, littil-backend amd64)."""
    if value not in ec2_instance_types():
        return 'an EC2 instance type AWS has, such as "t3a.micro"'
    if value.startswith("mac"):
        return 'an instance type that runs Amazon Linux such as "t3a.micro" (mac types run macOS on dedicated hosts)'
    if is_arm64(value):
        return 'an x86_64 instance type such as "t3a.micro" (the API image and its AMI are x86_64; this is Graviton)'
    return None


# The instance class families RDS for MariaDB offers (RDS "Supported DB engines for DB instance classes",
# 2026-12); a class is db.<family>.<size> of an EC2 type that exists, and db.x2g runs on x2gd. Burstable
# classes start at micro.
RDS_MARIADB_FAMILIES = frozenset(
    [
        "t3",
        "t4g",
        "m5",
        "m5d",
        "m6g",
        "m6gd",
        "m6i",
        "m6id",
        "m6idn",
        "m6in",
        "m7g",
        "m7i",
        "m8g",
        "r5",
        "r5b",
        "r5d",
        "r6g",
        "r6gd",
        "r6i",
        "r6id",
        "r6idn",
        "r6in",
        "r7g",
        "r7i",
        "r8g",
        "x2g",
        "x2idn",
        "x2iedn",
        "x2iezn",
        "z1d",
    ]
)
_EC2_TWIN = {"x2g": "x2gd"}


def rds_instance_class(value: str) -> str | None:
    """db.<family>.<size>: a family RDS for MariaDB offers, in a size its EC2 type has."""
    family, _, size = value.removeprefix("db.").partition(".")
    exists = f"{_EC2_TWIN.get(family, family)}.{size}" in ec2_instance_types()
    if value.startswith("db.") and family in RDS_MARIADB_FAMILIES and exists and size != "nano":
        return None
    return 'an RDS for MariaDB instance class such as "db.t4g.micro" (db.t3, db.t4g, db.m*, db.r*, ...)'


# Memory of an instance size, from AWS's instance type pages (EC2 and RDS "DB instance classes", 2026-12):
# burstable types by size, the others by vCPUs (medium 1, large 2, xlarge 4, Nxlarge 4N) times their
# series' memory per vCPU. A type not covered here gets no memory check.
_BURSTABLE_MEMORY_GIB = {"nano": 0.5, "micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_MEMORY_GIB_PER_VCPU = {"m": 4, "r": 8, "c": 2}
# Most CPU credits a burstable type can hold: 24 hours of what it earns (EC2 "Key concepts and definitions for
# burstable performance instances", credit table, 2026-12). t3a and t4g earn as t3 does.
_T3_MAX_CREDITS = {
    "nano": 144,
    "micro": 288,
    "small": 576,
    "medium": 576,
    "large": 864,
    "xlarge": 2304,
    "2xlarge": 4608,
}
MAX_CPU_CREDITS = {
    "t2": {"nano": 72, "micro": 144, "small": 288, "medium": 576, "large": 864, "xlarge": 1296, "2xlarge": 1958},
    "t3": _T3_MAX_CREDITS,
    "t3a": _T3_MAX_CREDITS,
    "t4g": _T3_MAX_CREDITS,
}


def _vcpus(size: str) -> int | None:
    if size in ("medium", "large", "xlarge"):
        return {"medium": 1, "large": 2, "xlarge": 4}[size]
    multiple = re.fullmatch(r"(\d+)xlarge", size)
    return 4 * int(multiple.group(1)) if multiple else None


def memory_mib(instance_type: str) -> int | None:
    """The memory of an EC2 instance type or RDS class ("db.t4g.micro"), when the tables above know it."""
    family, _, size = instance_type.removeprefix("db.").partition(".")
    if family in MAX_CPU_CREDITS:
        gib = _BURSTABLE_MEMORY_GIB.get(size)
    else:
        vcpus, per_vcpu = _vcpus(size), _MEMORY_GIB_PER_VCPU.get(family[0])
        gib = vcpus * per_vcpu if vcpus and per_vcpu and re.fullmatch(r"[mrc]\d+[a-z-]*", family) else None
    return int(gib * 1024) if gib is not None else None


def is_burstable(instance_type: str) -> bool:
    """Whether an EC2 type runs on CPU credits (and reports CPUCreditBalance)."""
    return instance_type.partition(".")[0] in MAX_CPU_CREDITS


def max_cpu_credits(instance_type: str) -> int | None:
    """The most CPU credits a burstable type holds; None for a type that runs without credits."""
    family, _, size = instance_type.partition(".")
    return MAX_CPU_CREDITS.get(family, {}).get(size)
