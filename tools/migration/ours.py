"""Our side of the cut-over: what each synthesized stack names, creates and imports (adopts).

`tools.migration.cutover` walks these against the old system's stacks; the rehearsal seeds
what they adopt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.migration.legacy import Name
from tools.stacks import environment_of
from tools.synthesized import read_stacks

# Terraform type -> (namespace, argument holding the physical name); the namespaces of legacy.NAMED_TYPES.
NAMED_TYPES = {
    "aws_ecr_repository": ("ecr-repository", "name"),
    "aws_iam_role": ("iam-role", "name"),
    "aws_iam_user": ("iam-user", "name"),
    "aws_cloudwatch_log_group": ("log-group", "name"),
    "aws_key_pair": ("key-pair", "key_name"),
    "aws_secretsmanager_secret": ("secret", "name"),
    "aws_iam_openid_connect_provider": ("oidc-provider", "url"),
}
_DATA_ARN = re.compile(r"\$\{(data\.aws_secretsmanager_secret\.[\w-]+)\.arn\}")


@dataclass(frozen=True)
class Adoption:
    address: str
    import_id: str  # as Terraform gets it; a secret's looked-up ARN is shown as the name it is looked up by
    log_retention_days: int | None = None


@dataclass(frozen=True)
class OurStack:
    name: str
    account: str
    dependencies: frozenset[str]
    creates: dict[Name, str]  # name -> Terraform address
    adopts: dict[Name, Adoption]


def _name_of(kind: str, resource: dict[str, Any]) -> Name | None:
    namespace, argument = NAMED_TYPES[kind]
    value = resource.get(argument)
    if not isinstance(value, str) or "${" in value:
        return None
    return Name(namespace, value.removeprefix("https://"))


def _import_id(raw: str, stack: dict[str, Any]) -> str:
    """The id an import block gives, with a secret's `data.….arn` replaced by the name it looks up."""
    match = _DATA_ARN.fullmatch(raw)
    if match is None:
        return raw
    _, kind, data_name = match.group(1).split(".")
    return str(stack["data"][kind][data_name]["name"])


def our_stack(stack_name: str, stack: dict[str, Any], dependencies: Iterable[str] = ()) -> OurStack:
    """What one synthesized stack names, creates and imports."""
    imported = {block["to"]: _import_id(block["id"], stack) for block in stack.get("import", [])}
    creates: dict[Name, str] = {}
    adopts: dict[Name, Adoption] = {}
    for kind, resources in stack.get("resource", {}).items():
        for resource_name, resource in resources.items():
            address = f"{kind}.{resource_name}"
            name = _name_of(kind, resource) if kind in NAMED_TYPES else None
            if address in imported:
                if name is None:
                    raise ValueError(f"{stack_name}: {address} is imported but has no fixed name")
                retention = resource.get("retention_in_days") if kind == "aws_cloudwatch_log_group" else None
                adopts[name] = Adoption(address, imported[address], retention)
            elif name is not None:
                creates[name] = address
    return OurStack(stack_name, environment_of(stack), frozenset(dependencies), creates, adopts)


def our_stacks(outdir: Path) -> dict[str, OurStack]:
    """Every stack `make synth` wrote to `outdir`, with CDKTF's dependencies between them."""
    manifest = json.loads((outdir / "manifest.json").read_text())["stacks"]
    return {name: our_stack(name, stack, manifest[name]["dependencies"]) for name, stack in read_stacks(outdir).items()}
