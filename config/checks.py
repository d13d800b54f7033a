"""How rules reach the models: `checked(...)` and `within(...)` put single-value rules (`config.rules`) on a
field's annotation; `refuse` is how a model's cross-field validator names the key it refuses; `bounded` marks a
number rule with the range it allows, which the tests' mistake table tries just beyond.

Two markers sit on a field's annotation beside its rules: `OnlyWith` (the setting belongs to one API variant; the
loader refuses it in an environment of the other) and `Accepts` (a kind of the mistake table's rows that is a valid
choice for this setting, with the reason, kept next to the field it concerns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import AfterValidator, BaseModel
from pydantic_core import PydanticCustomError

M = TypeVar("M")


def checked(*value_rules: Callable[[Any], str | None]) -> AfterValidator:
    """Apply rules to a typed value; the first that fails says what was expected."""

    def validate(value: Any) -> Any:
        for rule in value_rules:
            if (expected := rule(value)) is not None:
                raise PydanticCustomError("littil_rule", "expected {expected}", {"expected": expected})
        return value

    validate.rules = value_rules  # type: ignore[attr-defined]  # for the tests' mistake table
    # The range a number rule allows, for the tests' mistake table (just beyond each end): (low, high or None).
    validate.bounds = next((r.bounds for r in value_rules if hasattr(r, "bounds")), None)  # type: ignore[attr-defined]
    return AfterValidator(validate)


def bounded(low: int, high: int | None) -> Callable[[Callable[[int], str | None]], Callable[[int], str | None]]:
    """Marks a number rule with the range it allows (`checked` hands it on to the mistake table)."""

    def mark(rule: Callable[[int], str | None]) -> Callable[[int], str | None]:
        rule.bounds = (low, high)  # type: ignore[attr-defined]
        return rule

    return mark


def within(low: int, high: int, why: str) -> AfterValidator:
    """A whole number AWS accepts: from `low` to `high` (`why` names the limit)."""
    return checked(
        bounded(low, high)(
            lambda value: None if low <= value <= high else f"a whole number from {low} to {high} ({why})"
        )
    )


def refuse(problem: str, *key: str | int) -> PydanticCustomError:
    """A cross-field rule's refusal, at `key` (relative to the model whose validator raises it)."""
    return PydanticCustomError("littil_refusal", "{problem}", {"problem": problem, "key": key})


@dataclass(frozen=True)
class OnlyWith:
    """The setting takes effect only with this `api.variant`: an environment's own file that sets it while running
    the other variant is refused (common.hcl holds both variants' defaults; they are no mistake)."""

    variant: str


@dataclass(frozen=True)
class Accepts:
    """A kind of mistake the tests' mistake table tries (`tests/test_config_table.py`) that is a valid choice for this
    setting, and why."""

    kind: str
    why: str


def markers(metadata: list[Any], marker: type[M]) -> list[M]:
    """The markers of one type among a field's metadata (`FieldInfo.metadata`)."""
    return [item for item in metadata if isinstance(item, marker)]


def paths_with_rule(
    model: type[BaseModel], rule: Callable[[Any], str | None], path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """The key paths of `model`'s settings that `rule` checks (through `checked`)."""
    found: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += paths_with_rule(annotation, rule, (*path, name))
        elif any(rule in getattr(getattr(meta, "func", None), "rules", ()) for meta in field.metadata):
            found.append((*path, name))
    return found
