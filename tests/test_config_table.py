"""The mistake table: every setting of the config models, tried with the mistakes its type can suffer.

The rows are generated from the models, not listed: a new setting gets its rows by its type, and a setting of a
type without mistakes here fails the suite. Each mistake, written into a new environment's file (or shared.hcl),
must be refused with one line naming that file and the setting (or one of its elements).
This is the table's first part, the kinds every type has; the kinds of a setting's meaning (another
environment's value, the other variant, what AWS's data refuses) are in test_config_kinds.py.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from config.loader import ConfigError, load_config
from config.model import SharedEnvironment, WorkloadEnvironment
from tests.envs_copy import SHARED, envs_with

# A new environment the runbook's way, in an account of its own (the added-environment run holds 333333333333).
NEW = 'account_id = "345678901234"\ndomain = "uat.littil.org"\ncors_origin = "https://uat.littil.org"\n'
# shared.hcl's settings outside blocks: the table writes each block itself.
SHARED_KEYS = "".join(
    line + "\n" for line in SHARED.splitlines() if line.split(" =")[0] in ("account_id", "adopt_legacy")
)


def leaves(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every setting below `model` (the environment's name, which is its file's, aside), with its annotation (its
    rules as `Annotated` metadata)."""
    for name, field in model.model_fields.items():
        if not path and name == "name":
            continue
        annotation: Any = field.annotation
        if field.metadata:  # pydantic keeps a field's own Annotated metadata apart
            annotation = typing.Annotated[annotation, *field.metadata]
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if type(None) in typing.get_args(annotation) and len(inner) == 1:
            annotation = inner[0]  # X | None: X's mistakes (null is the setting's valid "none")
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from leaves(annotation, (*path, name))
        else:
            yield (*path, name), annotation


def base_type(annotation: Any) -> Any:
    """`Annotated[StrictStr, ...]` -> str; `tuple[X, ...]` -> tuple; an enum class stays itself."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) or annotation


def bounds(annotation: Any) -> tuple[int, int | None] | None:
    """The range a number setting's rules allow (config.checks.bounded), if one of them says."""
    found = [getattr(getattr(m, "func", None), "bounds", None) for m in getattr(annotation, "__metadata__", ())]
    return next((limits for limits in found if limits is not None), None)


def mistakes(annotation: Any) -> list[tuple[str, str]]:
    """(kind, HCL literal) of each mistake a value of this type can suffer."""
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
    return []


def nested(path: tuple[str, ...], literal: str) -> str:
    """`a { b { c = literal } }`: the setting at `path`, as an env file gives it."""
    text = f"{path[-1]} = {literal}"
    for block in reversed(path[:-1]):
        text = f"{block} {{\n{text}\n}}"
    return text + "\n"


def rows(model: type[BaseModel], stem: str) -> list[Any]:
    return [
        pytest.param(stem, path, literal, id=f"{stem}:{'.'.join(path)}:{kind}")
        for path, annotation in leaves(model)
        for kind, literal in mistakes(annotation)
    ]


ROWS = [*rows(WorkloadEnvironment, "uat"), *rows(SharedEnvironment, "shared")]


def test_every_setting_has_rows_in_the_table() -> None:
    """A setting of a type the table knows no mistakes for fails here, until `mistakes` learns the type."""
    settings = [*leaves(WorkloadEnvironment), *leaves(SharedEnvironment)]
    without = [".".join(path) for path, annotation in settings if not mistakes(annotation)]
    assert without == []
    # The number settings whose rules name a range get the rows just beyond it.
    ranged = [path for path, annotation in settings if bounds(annotation) is not None]
    assert ("alarms", "database_cpu_percent") in ranged
    assert ("database", "backup_retention_days") in ranged


@pytest.mark.parametrize(("stem", "path", "literal"), ROWS)
def test_each_mistake_of_a_setting_is_refused_naming_its_file_and_key(
    tmp_path: Path, stem: str, path: tuple[str, ...], literal: str
) -> None:
    base = NEW if stem == "uat" else SHARED_KEYS
    # The new environment's own top-level keys are replaced, not given twice.
    kept = [line for line in base.splitlines() if not (len(path) == 1 and line.split(" =")[0].strip() == path[0])]
    envs = envs_with(tmp_path, **{stem: "\n".join(kept) + "\n" + nested(path, literal)})
    with pytest.raises(ConfigError) as caught:
        load_config(envs)
    error, key = caught.value, ".".join(path)
    assert error.file.name == f"{stem}.hcl", str(error)
    assert error.key == key or (error.key or "").startswith(f"{key}["), str(error)
    assert "\n" not in str(error)


def test_the_table_starts_from_valid_files(tmp_path: Path) -> None:
    config = load_config(envs_with(tmp_path, uat=NEW, shared=SHARED_KEYS))
    assert (config.workload("uat").domain, config.shared.account_id) == ("uat.littil.org", "680278545709")
