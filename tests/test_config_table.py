"""The mistake table: every setting of the config models, tried with the mistakes it can suffer.

The rows are generated, not listed. Each setting gets:
- the mistakes of its type: spaces, invisible characters, empty, wrong types, just beyond its rules' range;
- the mistakes of its meaning: its valid value in the other case; another environment's value (from envs/); set in
  an environment of the other API variant (`OnlyWith`); and what each of its rules exists to refuse, made from the
  data the rule reads (botocore's endpoints and service models, AWS's documented lists, RFC 2606's reserved names).
Each row is written into a new environment's file (or shared.hcl) and must be refused with one line naming that
file and the setting, unless the setting `Accepts` that kind with a reason written beside it.
The settings and what each can suffer come from config_mistakes.py. A setting of a type without mistakes
there, or with a rule it does not know, fails the suite. The rules across
settings are tried at their edges in test_config_combinations.py.
"""

from __future__ import annotations

import enum
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.loader import ConfigError, load_config
from config.model import SharedEnvironment, WorkloadEnvironment
from tests.config_mistakes import RULE_MISTAKES, Setting, base_type, settings, type_mistakes
from tests.conftest import ENVS_DIR, TEST_SSH_KEY
from tests.envs_copy import envs_with, one_file_changed

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
    scratch_envs: Path, row: Row
) -> None:
    with one_file_changed(scratch_envs, row.stem, row.file()) as envs:
        check(envs, row)


def check(envs: Path, row: Row) -> None:
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
