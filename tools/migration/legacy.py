"""The running system: the old CDK app's CloudFormation stacks and what was made by hand beside them.

`legacy/cdk-templates/<account>/` holds the templates (see legacy/README.md). A nested
`*LoggingStack*` template belongs to its parent stack: CloudFormation deletes it with the parent.
Only names matter for collisions, so each resource is reduced to a `Name` (a namespace and the
physical name) where the template fixes one; CloudFormation-generated names cannot collide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parents[2] / "legacy" / "cdk-templates"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"

# The accounts the templates were synthesized for (legacy/README.md): the real registry account,
# placeholders for the workload accounts (the same ones envs/*.hcl carries until filled in).
ACCOUNT_IDS = {"shared": "680278545709", "staging": "111111111111", "production": "222222222222"}

# CloudFormation type -> (namespace, property that fixes the physical name).
NAMED_TYPES = {
    "AWS::ECR::Repository": ("ecr-repository", "RepositoryName"),
    "AWS::IAM::Role": ("iam-role", "RoleName"),
    "AWS::IAM::User": ("iam-user", "UserName"),
    "AWS::Logs::LogGroup": ("log-group", "LogGroupName"),
    "AWS::EC2::KeyPair": ("key-pair", "KeyName"),
}
# What holds data someone would miss: images, the database, logs, the live secret values.
DATA_TYPES = frozenset({"AWS::ECR::Repository", "AWS::RDS::DBInstance", "AWS::Logs::LogGroup"})
# Old stacks that answer api.<domain> requests: only retired after the DNS switch.
SERVING_TYPES = frozenset({"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::EC2::Instance", "AWS::EC2::EIP"})


@dataclass(frozen=True, order=True)
class Name:
    """A physical name in one of AWS's namespaces of an account, e.g. ("iam-role", "LITTIL-NL-api-ecr-push")."""

    namespace: str
    value: str

    def __str__(self) -> str:
        return f"{self.namespace} {self.value}"


@dataclass(frozen=True)
class LegacyResource:
    account: str
    stack: str  # the top-level stack that owns it (nested templates fold into their parent)
    logical_id: str
    type: str
    name: Name | None  # None: CloudFormation generated the name
    retained: bool  # DeletionPolicy Retain: survives the deletion of its stack
    properties: dict[str, Any]

    @property
    def holds_data(self) -> bool:
        return self.type in DATA_TYPES

    def __str__(self) -> str:
        named = f" ({self.name.value})" if self.name else ""
        return f"{self.stack}/{self.logical_id} {self.type}{named}"


@dataclass(frozen=True)
class HandMade:
    """Made by hand beside the stacks and referenced by name (legacy/README.md)."""

    account: str
    name: Name
    import_id: str  # how Terraform addresses it (an ARN for the OIDC provider)
    holds_data: bool
    advice: str  # what to do with it when nothing of ours adopts it


@dataclass(frozen=True)
class LegacyStack:
    account: str
    name: str
    resources: tuple[LegacyResource, ...]
    exports: frozenset[str]
    imports: frozenset[str]

    @property
    def serves_traffic(self) -> bool:
        return any(resource.type in SERVING_TYPES for resource in self.resources)


def _imports_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"Fn::ImportValue"} and isinstance(value["Fn::ImportValue"], str):
            return {value["Fn::ImportValue"]}
        return set().union(*(_imports_of(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_imports_of(item) for item in value)) if value else set()
    return set()


def _resources(account: str, stack: str, template: dict[str, Any]) -> list[LegacyResource]:
    found = []
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind == "AWS::CDK::Metadata":
            continue
        properties = resource.get("Properties", {})
        name = None
        if kind in NAMED_TYPES:
            namespace, key = NAMED_TYPES[kind]
            if isinstance(properties.get(key), str):
                name = Name(namespace, properties[key])
        retained = resource.get("DeletionPolicy") == "Retain"
        found.append(LegacyResource(account, stack, logical_id, kind, name, retained, properties))
    return found


def load_stacks(templates: Path = TEMPLATES) -> dict[str, list[LegacyStack]]:
    """Every old top-level stack per account, nested templates folded into their parents."""
    accounts: dict[str, list[LegacyStack]] = {}
    for account_dir in sorted(path for path in templates.iterdir() if path.is_dir()):
        account = account_dir.name
        top_level = sorted(account_dir.glob("*.template.json"))
        nested = sorted(account_dir.glob("*.nested.template.json"))
        stacks = []
        for path in top_level:
            if path in nested:
                continue
            name = path.name.removesuffix(".template.json")
            templates_of_stack = [path, *(child for child in nested if child.name.startswith(name))]
            resources: list[LegacyResource] = []
            exports: set[str] = set()
            imports: set[str] = set()
            for template_path in templates_of_stack:
                template = json.loads(template_path.read_text())
                resources += _resources(account, name, template)
                exports |= {
                    output["Export"]["Name"] for output in template.get("Outputs", {}).values() if "Export" in output
                }
                imports |= _imports_of(template["Resources"])
            stacks.append(LegacyStack(account, name, tuple(resources), frozenset(exports), frozenset(imports)))
        accounts[account] = stacks
    return accounts


def hand_made(account: str) -> list[HandMade]:
    """What legacy/README.md says was made by hand in `account`."""
    account_id = ACCOUNT_IDS[account]
    made = [
        HandMade(
            account,
            Name("oidc-provider", GITHUB_OIDC_HOST),
            f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}",
            holds_data=False,
            advice="keep: an account has one provider for GitHub; it trusts nothing by itself",
        )
    ]
    if account != "shared":
        for secret in ("oidc", "smtp"):
            name = f"littil/backend/{account}/{secret}"
            made.append(HandMade(account, Name("secret", name), name, holds_data=True, advice="adopt: live values"))
        name = f"littil/backend/{account}/database"
        made.append(
            HandMade(
                account,
                Name("secret", name),
                name,
                holds_data=False,
                advice="delete by hand after the cut-over: the restored database has an RDS-managed password",
            )
        )
    return made
