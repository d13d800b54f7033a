"""What each setting of the config models can suffer, for the mistake table (test_config_table.py): the settings
walked from the models with their rules and markers, the mistakes of each type, and what each rule exists to refuse,
made from the data the rule reads.
"""

from __future__ import annotations

import base64
import enum
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from config import aws, rules, ssh
from config.checks import Accepts, OnlyWith, markers


@dataclass(frozen=True)
class Setting:
    path: tuple[str, ...]
    annotation: Any  # its type, its rules as `Annotated` metadata
    variant: str | None  # the API variant it belongs to (its own `OnlyWith` or its block's)
    accepts: dict[str, str]  # kind -> why it is a valid choice here

    @property
    def rules(self) -> tuple[Callable[[Any], str | None], ...]:
        """The rules `checked` puts on it, its elements' included."""
        return _rules(self.annotation)


def _rules(annotation: Any) -> tuple[Callable[[Any], str | None], ...]:
    found: list[Callable[[Any], str | None]] = []
    for meta in getattr(annotation, "__metadata__", ()):
        found += getattr(getattr(meta, "func", None), "rules", ())
    for inner in typing.get_args(annotation):
        found += _rules(inner)
    return tuple(dict.fromkeys(found))


def settings(model: type[BaseModel], path: tuple[str, ...] = (), variant: str | None = None) -> Iterator[Setting]:
    """Every setting below `model` (the environment's name, which is its file's, aside)."""
    for name, field in model.model_fields.items():
        if not path and name == "name":
            continue
        own = markers(field.metadata, OnlyWith)
        where = own[0].variant if own else variant
        annotation: Any = field.annotation
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if type(None) in typing.get_args(annotation) and len(inner) == 1:
            annotation = inner[0]  # X | None: X's mistakes (null is the setting's valid "none")
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from settings(annotation, (*path, name), where)
            continue
        metadata = [*getattr(annotation, "__metadata__", ()), *field.metadata]
        while typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        if metadata:
            annotation = typing.Annotated[annotation, *metadata]
        accepts = {marker.kind: marker.why for marker in markers(metadata, Accepts)}
        yield Setting((*path, name), annotation, where, accepts)


def base_type(annotation: Any) -> Any:
    """`Annotated[StrictStr, ...]` -> str; `tuple[X, ...]` -> tuple; an enum class stays itself."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) or annotation


def bounds(annotation: Any) -> tuple[int, int | None] | None:
    """The range a number setting's rules allow (config.checks.bounded), if one of them says."""
    found = [getattr(getattr(m, "func", None), "bounds", None) for m in getattr(annotation, "__metadata__", ())]
    return next((limits for limits in found if limits is not None), None)


# The kinds of its type, as HCL literals.
def type_mistakes(annotation: Any) -> list[tuple[str, str]]:
    kind = base_type(annotation)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return [("other-case", f'"{next(iter(kind)).value.upper()}"'), ("unknown", '"lambda"'), ("number", "1")]
    if kind is str:
        return [
            ("space-around", '" x "'),
            ("invisible", '"x\u200b"'),
            ("empty", '""'),
            ("number", "7"),
            ("list", '["x"]'),
        ]
    if kind is bool:
        return [("quoted", '"true"'), ("number", "1")]
    if kind is int:
        limits = bounds(annotation)
        beyond = [] if limits is None else [("below", str(limits[0] - 1))]
        if limits is not None and limits[1] is not None:
            beyond.append(("above", str(limits[1] + 1)))
        return [("quoted", '"5"'), ("bool", "true"), ("fraction", "1.5"), ("list", "[5]"), *beyond]
    if kind is tuple:
        return [("bare-string", '"x"'), ("number", "5")]
    return []  # fmt: skip


def _first_arm64() -> str:
    return min(t for t in aws.ec2_instance_types() if aws.is_arm64(t))


def _rds_lacks() -> str:
    """An x86 EC2 family RDS for MariaDB does not offer, as a class name."""
    family = min(
        t.split(".")[0]
        for t in aws.ec2_instance_types()
        if t.split(".")[0] not in aws.RDS_MARIADB_FAMILIES and not aws.is_arm64(t) and not t.startswith("mac")
    )
    return f"db.{family}.large"


def _skipped_minor() -> str:
    major, minors = next(iter(rules.RDS_MARIADB_MINORS.items()))
    return f"{major}.{min(set(range(minors[0], minors[-1])) - set(minors))}"


def _cut_key(key: str) -> str:
    kind, data, comment = key.split()
    return f"{kind} {base64.b64encode(base64.b64decode(data)[:-10]).decode()} {comment}"


def _reserved(domain: str) -> list[tuple[str, str]]:
    """The example's first label under each name RFC 2606 reserves."""
    label = domain.split(".", maxsplit=1)[0]
    return [("rfc2606-reserved", f"{label}.{tld}") for tld in ("example.com", "example.org", "littil.test", "example")]


# What each rule exists to refuse, made from the example's valid value and the data the rule reads (values, not HCL).
# A rule that carries its range (`bounded`) is tried just beyond it with the type's kinds instead.
RULE_MISTAKES: dict[Callable[[Any], str | None], Callable[[Any], list[tuple[str, Any]]]] = {
    rules.account_id: lambda v: [("console-dashes", f"{v[:4]}-{v[4:8]}-{v[8:]}"), ("eleven-digits", v[:-1])],
    rules.region: lambda v: [("a-zone", f"{v}a"), ("a-region-name", "Europe (Ireland)")],
    # Regions botocore's endpoint data puts outside AWS's commercial partition (China, GovCloud, ...).
    aws.known_region: lambda v: [
        ("without-ses", min(aws.regions() - aws.ses_regions())),
        # (only those shaped like the commercial ones, so that the partition, not the shape, is what is refused)
        *(
            (f"partition-{name}", min(p["regions"]))
            for name, p in aws.partitions().items()
            if name != "aws" and rules.region(min(p["regions"])) is None
        ),
    ],
    rules.country_code: lambda v: [("three-letters", "NLD")],
    rules.own_domain_name: lambda v: [*_reserved(v), ("trailing-dot", f"{v}."), ("with-scheme", f"https://{v}")],
    rules.environment_domain: lambda v: [
        ("the-api-host", f"api.{v}"),
        ("acm-too-long", "a" * (rules.ACM_MAX_DOMAIN_LENGTH - len(f"api..{v}") + 1) + f".{v}"),
    ],
    rules.https_origin: lambda v: [
        ("http", v.replace("https:", "http:")),
        ("trailing-slash", f"{v}/"),
        ("a-path", f"{v}/app"),
        ("bare-host", v.removeprefix("https://")),
        ("its-own-api", v.replace("https://", "https://api.")),
        *((kind, f"https://{host}") for kind, host in _reserved(v.removeprefix("https://"))),
    ],
    rules.vpc_cidr: lambda v: [
        ("public-range", "11.0.0.0/16"), ("cgnat-range", "100.64.0.0/16"), ("host-bits", v.replace(".0.0/", ".0.1/"))
    ],
    rules.image_tag: lambda v: [("a-colon", f"littil-backend:{v}")],
    rules.release_tag: lambda v: [("latest", "latest"), ("git-tag", f"v{v}")],
    rules.github_name: lambda v: [("owner-slash-repo", f"{v}/{v}"), ("clone-url-end", f"{v}.git")],
    rules.database_name: lambda v: [
        *((f"mariadbs-own-{name}", name) for name in sorted(rules._SYSTEM_DATABASES)),
        ("mariadbs-own-in-capitals", "MYSQL"),
        ("hyphen", f"{v}-x"), ("leading-digit", f"1{v}"),
    ],
    rules.engine_version: lambda v: [("engine-name", f"mariadb-{v}")],
    rules.offered_engine_version: lambda v: [("retired-major", "10.5"), ("skipped-minor", _skipped_minor())],
    aws.rds_instance_class: lambda v: [
        ("ec2-type-name", v.removeprefix("db.")),
        ("family-rds-lacks", _rds_lacks()),
        ("nano", v.rsplit(".", 1)[0] + ".nano"),
    ],
    aws.x86_64_instance_type: lambda v: [
        ("graviton", _first_arm64()),
        ("mac", min(t for t in aws.ec2_instance_types() if t.startswith("mac"))),
        ("size-the-family-lacks", f"{v.split('.')[0]}.96xlarge"),
        ("rds-class-name", f"db.{v}"),
    ],
    rules.snapshot_identifier: lambda v: [("double-hyphen", v.replace("-", "--", 1)), ("ends-in-hyphen", f"{v}-")],
    rules.hosted_zone_id: lambda v: [("cli-prefix", f"/hostedzone/{v}")],
    rules.email: lambda v: [("rfc2606-reserved", f"{v.split('@')[0]}@example.com"), ("no-at", v.replace("@", " at "))],
    rules.availability_zone: lambda v: [
        ("the-region", v[:-1]), ("zone-id", "euw1-az1"), ("another-regions-zone", min(aws.regions() - {v[:-1]}) + "a")
    ],
    rules.log_retention: lambda v: [("not-a-cloudwatch-period", 100)],
    rules.each_once: lambda v: [],  # a list's rule: every list's "twice" row tries it
    rules.fargate_cpu: lambda v: [("not-a-fargate-size", v + 1)],
    ssh.ssh_public_key: lambda v: [("cut-short", _cut_key(v)), ("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----")],
    ssh.ssh_cidr: lambda v: [
        *((f"not-from-the-internet-{net}", f"{net.network_address + 1}/32") for net in ssh.NOT_FROM_THE_INTERNET),
        ("no-prefix", v.split("/")[0]), ("too-wide", "198.0.0.0/8"),
    ],
}  # fmt: skip
