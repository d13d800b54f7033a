"""How rules reach the models: `checked(...)` and `within(...)` put single-value rules (`config.rules`) on a
field's annotation; `refuse` is how a model's cross-field validator names the key it refuses; `bounded` marks a
number rule with the range it allows, which the tests' mistake table tries just beyond.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def checked(*value_rules: Callable[[Any], str | None]) -> AfterValidator:
    """Apply rules to a typed value; the first that fails says what was expected."""

    def validate(value: Any) -> Any:
        for rule in value_rules:
            if (expected := rule(value)) is not None:
                raise PydanticCustomError("littil_rule", "expected {expected}", {"expected": expected})
        return value

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
