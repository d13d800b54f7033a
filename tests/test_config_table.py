"""The mistake table: every setting of the config models, tried with the mistakes it can suffer.

The rows are generated, not listed. Each setting gets:
- the mistakes of its type: spaces, invisible characters, empty, wrong types, just beyond its rules' range;
- the mistakes of its meaning: its valid value in the other case; another environment's value (from envs/); set in
  an environment of the other API variant (`OnlyWith`); and what each of its rules exists to refuse, made from the
  data the rule reads (botocore's endpoints and service models, AWS's documented lists, RFC 2606's reserved names).
Each row is written into a new environment's file (or shared.hcl) and must be refused with one line naming that
file and the setting, unless the setting `Accepts` that kind with a reason written beside it.
A setting of a type without mistakes here, or with a rule the table does not know, fails the suite. The rules across
settings are tried at their edges in test_config_combinations.py.
"""

from __future__ import annotations

import base64
import enum
import json
import shutil
import tempfile
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from config import aws, rules, ssh
from config.checks import Accepts, OnlyWith, markers
from config.loader import ConfigError, load_config
from config.model import SharedEnvironment, WorkloadEnvironment
from tests.conftest import ENVS_DIR, TEST_SSH_KEY
from tests.envs_copy import envs_with

# A new environment the runbook's way, in an account of its own (the added-environment run holds 333333333333).
NEW = {"account_id": "345678901234", "domain": "uat.littil.org", "cors_origin": "https://uat.littil.org"}
# A shared account as envs/shared.hcl gives it, adopting nothing (the old system's region would bind its region).
SHARED_NEW = {"account_id": "680278545709"}
# Valid values of the settings whose default is none, and what each needs beside it to take effect.
EXAMPLES: dict[tuple[str, ...], Any] = {
    ("mail_domain",): "mail.uat.littil.org",
    ("route53_zone_id",): "Z0123456789ABC",
    ("backup_copies", "region"): "eu-central-1",
    ("database", "snapshot_identifier"): "littil-final-10-11",
    ("database", "snapshot_engine_version"): "10.11.9",
    ("database", "snapshot_allocated_storage_gb"): 20,
    ("api", "ec2", "ssh_public_key"): TEST_SSH_KEY,
    ("api", "ec2", "ssh_allowed_cidrs"): ("198.51.100.7/32",),  # empty by default
}
# A restore's three keys go together (config.settings.DatabaseConfig); SSH sources need a key to log in with.
RESTORE = [
    ("database", key) for key in ("snapshot_identifier", "snapshot_engine_version", "snapshot_allocated_storage_gb")
]
NEEDS: dict[tuple[str, ...], list[tuple[str, ...]]] = {
    **{key: [other for other in RESTORE if other != key] for key in RESTORE},
    ("api", "ec2", "ssh_allowed_cidrs"): [("api", "ec2", "ssh_public_key")],
}


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


def get(config: Any, path: tuple[str, ...]) -> Any:
    """The value at `path`, or None where this environment has no such setting."""
    for part in path:
        config = getattr(config, part, None)
    return config.value if isinstance(config, enum.Enum) else config


def other_case(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(other_case(item) for item in value)
    return value.swapcase() if isinstance(value, str) else value


def hcl(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(hcl(item) for item in value) + "]"
    return json.dumps(value)


def put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def render(tree: dict[str, Any]) -> str:
    """An env file of `tree`; a `Literal` value is written as the HCL it holds."""
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(f"{key} {{\n{render(value)}}}")
        else:
            lines.append(f"{key} = {value.hcl if isinstance(value, Literal) else hcl(value)}")
    return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class Literal:
    hcl: str


@dataclass(frozen=True)
class Row:
    stem: str
    setting: Setting
    kind: str  # what `Accepts` names
    written: Any  # a value, or a `Literal` (a type mistake, refused for every setting)
    variant: str | None  # the environment's api.variant
    said: str | None = None  # what the rule that made the row says of it: the refusal must say it too

    @property
    def id(self) -> str:
        shown = self.written.hcl if isinstance(self.written, Literal) else hcl(self.written)
        return f"{self.stem}:{'.'.join(self.setting.path)}:{self.kind}:{shown[:40]}"

    def file(self) -> str:
        tree: dict[str, Any] = dict(NEW if self.stem == "uat" else SHARED_NEW)
        if self.variant is not None:
            tree["api"] = {"variant": self.variant}
        for needed in NEEDS.get(self.setting.path, []) if self.kind != "the-other-variant" else []:
            put(tree, needed, EXAMPLES[needed])
        put(tree, self.setting.path, self.written)
        if self.stem == "uat" and self.setting.path == ("region",) and not isinstance(self.written, Literal):
            # Moving an environment's region moves its zones with it (both in the file).
            put(tree, ("network", "availability_zones"), (f"{self.written}a", f"{self.written}b"))
        return render(tree)


def _bases() -> dict[tuple[str, str | None], Any]:
    """The new environment of each variant, and the shared account, loaded as the table's starting points."""
    scratch = Path(tempfile.mkdtemp(prefix="littil-table-"))
    found: dict[tuple[str, str | None], Any] = {}
    for stem, variant in (("uat", "ecs"), ("uat", "ec2"), ("shared", None)):
        tree: dict[str, Any] = dict(NEW if stem == "uat" else SHARED_NEW)
        if variant is not None:
            tree["api"] = {"variant": variant}
        config = load_config(envs_with(scratch / f"{stem}-{variant}", **{stem: render(tree)}))
        found[stem, variant] = config.workload("uat") if stem == "uat" else config.shared
    shutil.rmtree(scratch)
    return found


def meaning_mistakes(setting: Setting, example: Any, stem: str) -> list[tuple[str, Any, str | None]]:
    """(kind, value, what its rule says of it) of the mistakes of the setting's meaning, made from its valid
    `example`; a rule's own mistakes carry its message (None where another rule, across settings, refuses it)."""
    found: list[tuple[str, Any, str | None]] = []
    text = base_type(setting.annotation) in (str, tuple)
    if text and other_case(example) != example:
        found.append(("other-case", other_case(example), None))
    if text:
        others = {get(env, setting.path) for env in REAL.environments if env.name != stem} - {example, None, ()}
        found += [("another-environment", value, None) for value in sorted(others, key=str)]
    if isinstance(example, tuple):
        found += [("empty-list", (), None), ("twice", (example[0], *example), None)]
    first = example[0] if isinstance(example, tuple) else example
    for rule in setting.rules:
        if not hasattr(rule, "bounds"):
            for kind, bad in RULE_MISTAKES[rule](first):
                found.append((kind, (bad, *example[1:]) if isinstance(example, tuple) else bad, rule(bad)))
    return found


def table() -> list[Row]:
    bases = _bases()
    rows: list[Row] = []
    for stem, model in (("uat", WorkloadEnvironment), ("shared", SharedEnvironment)):
        for setting in settings(model):
            variant = (setting.variant or "ecs") if stem == "uat" else None
            example = EXAMPLES.get(setting.path, get(bases[stem, variant], setting.path))
            assert example is not None, f"{setting.path}: give EXAMPLES a valid value of this setting"
            kinds: list[tuple[str, Any, str | None]] = [
                (kind, Literal(literal), None) for kind, literal in type_mistakes(setting.annotation)
            ]
            kinds += meaning_mistakes(setting, example, stem)
            rows += [Row(stem, setting, kind, written, variant, said) for kind, written, said in kinds]
            if setting.variant is not None:
                other = "ec2" if setting.variant == "ecs" else "ecs"
                rows.append(Row(stem, setting, "the-other-variant", example, other))
    return rows


REAL = load_config(ENVS_DIR)
ROWS = table()


def test_every_setting_has_rows_of_its_type_and_every_rule_its_mistakes() -> None:
    """A setting of a type the table knows no mistakes for, or with a rule it knows nothing of, fails here."""
    every = [*settings(WorkloadEnvironment), *settings(SharedEnvironment)]
    assert [s.path for s in every if not type_mistakes(s.annotation)] == []
    unknown = {rule for s in every for rule in s.rules if not hasattr(rule, "bounds")} - set(RULE_MISTAKES)
    assert unknown == set()
    # What an Accepts names is a kind some row of its setting has: a reason for nothing is a stale reason.
    tried = {(row.setting.path, row.kind) for row in ROWS}
    assert [(s.path, kind) for s in every for kind in s.accepts if (s.path, kind) not in tried] == []


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_each_mistake_of_a_setting_is_refused_naming_its_file_and_key_or_accepted_for_its_reason(
    tmp_path: Path, row: Row
) -> None:
    envs = envs_with(tmp_path, **{row.stem: row.file()})
    key = ".".join(row.setting.path)
    if row.kind in row.setting.accepts:
        config = load_config(envs)
        env = config.shared if row.stem == "shared" else config.workload("uat")
        assert get(env, row.setting.path) == row.written
        return
    with pytest.raises(ConfigError) as caught:
        load_config(envs)
    error = caught.value
    assert error.file.name == f"{row.stem}.hcl", str(error)
    assert error.key == key or (error.key or "").startswith(f"{key}["), str(error)
    assert "\n" not in str(error)
    assert row.said is None or row.said in error.problem, str(error)
