"""How an env file's problem is said: pydantic's errors in the file's terms, an unknown key with the closest one."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from config.envfiles import Path_


def unknown_key(key: str, known: set[str]) -> str:
    """The problem of an unknown key: the closest known key if one is near, else the list."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]}? (expected one of {', '.join(sorted(known))})"
    return f"unknown key; expected one of {', '.join(sorted(known))}"


# What pydantic's type errors mean in an env file.
_EXPECTED_TYPE = {
    "int_type": "a whole number",
    "string_type": "a string in quotes",
    "bool_type": "true or false",
    "model_type": "a block of settings",
    "tuple_type": "a list",
}


def explain(error: ErrorDetails, schema: type[BaseModel]) -> tuple[Path_, str]:  # noqa: PLR0911 (one per kind)
    """The key path and the problem, said in the env file's terms."""
    path: Path_ = error["loc"]
    value, kind, context = error.get("input"), error["type"], error.get("ctx", {})
    if kind == "littil_refusal":
        return (*path, *context["key"]), context["problem"]
    if kind == "littil_rule":
        return path, f"{error['msg']}, got {_show(value, key=str(path[-1]))}"
    if kind == "missing":
        return path, "required value is missing"
    parent = _model_at(schema, path[:-1])
    if kind == "extra_forbidden":
        return path, unknown_key(str(path[-1]), set(parent.model_fields))
    if value is None:
        return path, "expected a value, got null"
    if kind == "enum":
        allowed = [member.value for member in parent.model_fields[str(path[-1])].annotation]  # type: ignore[union-attr]
        return path, f"expected one of {', '.join(map(_show, allowed))}, got {_show(value)}"
    return path, f"expected {_EXPECTED_TYPE.get(kind, error['msg'])}, got {_show(value)}"


def _model_at(schema: type[BaseModel], path: Path_) -> type[BaseModel]:
    """The model of the block at `path` (`("api", "ecs")` -> EcsApiConfig)."""
    for part in path:
        schema = schema.model_fields[str(part)].annotation  # type: ignore[assignment]
    return schema


def _show(value: Any, key: str = "") -> str:  # noqa: PLR0911 (one per kind of value)
    if value is None:
        return "null"
    if isinstance(value, str) and "PRIVATE KEY" in value:
        return "a private key (not shown: never paste one; give the public key, the .pub file)"
    if key == "ssh_public_key":  # whatever was pasted there may be a private key in another format: never echo it
        return "something else (not shown, in case it is a private key: give the public key, the .pub file)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a block"
    if isinstance(value, list):
        return "a list"
    return str(value)
