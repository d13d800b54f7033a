"""What a change does to each stack: resources added, removed, changed, replaced or renamed, and what hurts.

Compares two syntheses (Terraform JSON per stack) without AWS: `compare(before, after)`
gives one `StackReport` per stack; `tools.review.render` says it to a reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tools.review.warnings import (
    database_warnings,
    sealed_key_warnings,
    secret_overwrites,
    setting_warnings,
    stack_warnings,
    subnet_warnings,
)

# Arguments whose change makes Terraform destroy and re-create the resource (AWS provider 6.x).
REPLACED_BY = {
    "aws_acm_certificate": {"domain_name", "subject_alternative_names", "key_algorithm", "validation_method"},
    "aws_backup_plan": {"name"},
    "aws_backup_selection": {"name", "plan_id", "iam_role_arn", "resources", "not_resources", "condition"},
    "aws_backup_vault": {"name", "kms_key_arn"},
    "aws_backup_vault_lock_configuration": {
        "backup_vault_name",
        "changeable_for_days",
        "max_retention_days",
        "min_retention_days",
    },
    "aws_backup_vault_policy": {"backup_vault_name"},
    "aws_cloudwatch_event_rule": {"name", "name_prefix", "event_bus_name"},
    "aws_cloudwatch_event_target": {"rule", "target_id", "event_bus_name"},
    "aws_cloudwatch_log_group": {"name", "name_prefix"},
    "aws_db_instance": {
        "identifier",
        "engine",
        "db_name",
        "username",
        "availability_zone",
        "storage_encrypted",
        "kms_key_id",
        "snapshot_identifier",
        "character_set_name",
    },
    "aws_db_instance_automated_backups_replication": {
        "source_db_instance_arn",
        "kms_key_id",
        "retention_period",
        "pre_signed_url",
    },
    "aws_db_parameter_group": {"name", "name_prefix", "family"},
    "aws_db_subnet_group": {"name", "name_prefix"},
    "aws_ecr_repository": {"name", "encryption_configuration"},
    "aws_ecs_cluster": {"name"},
    "aws_ecs_service": {"name", "cluster", "launch_type"},
    "aws_eip": {"domain", "address", "public_ipv4_pool", "network_border_group"},
    "aws_iam_policy": {"name", "name_prefix"},
    "aws_iam_role": {"name", "name_prefix"},
    "aws_instance": {
        "ami",
        "subnet_id",
        "key_name",
        "availability_zone",
        "associate_public_ip_address",
        "root_block_device.encrypted",
    },
    "aws_key_pair": {"key_name", "public_key"},
    "aws_kms_alias": {"name", "name_prefix"},
    "aws_kms_key": {"customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id", "xks_key_id"},
    "aws_lb": {"name", "internal", "load_balancer_type"},
    "aws_lb_target_group": {"name", "port", "protocol", "target_type", "vpc_id"},
    "aws_nat_gateway": {"subnet_id", "allocation_id"},
    "aws_route53_record": {"name", "type", "zone_id"},
    "aws_s3_bucket": {"bucket", "bucket_prefix", "object_lock_enabled"},
    "aws_secretsmanager_secret": {"name", "name_prefix"},
    "aws_secretsmanager_secret_rotation": {"secret_id"},
    "aws_security_group": {"name", "name_prefix", "description", "vpc_id"},
    "aws_ses_domain_identity": {"domain"},
    "aws_ssm_document": {"name", "document_type"},
    "aws_ssm_parameter": {"name"},
    "aws_subnet": {"cidr_block", "availability_zone", "vpc_id"},
    "aws_vpc": {"cidr_block", "instance_tenancy"},
}
# What is lost when one of these is destroyed.
STATEFUL = {
    "aws_db_instance": "the database and its automated backups",
    "aws_s3_bucket": "Terraform state",
    "aws_ecr_repository": "container images",
    "aws_eip": "the public address DNS points at",
    "aws_secretsmanager_secret": "secret values",
    "aws_cloudwatch_log_group": "logs",
    "aws_backup_vault": "backup copies (its recovery points)",
    "aws_backup_vault_lock_configuration": "the lock that keeps backup copies from early deletion",
    # Every key here encrypts data (the database, its backups, their copies): a deleted key makes them unreadable.
    "aws_kms_key": "whatever the key encrypts (the database, its backups, their copies)",
}


# Addresses of what is not a resource start with one of these.
NOT_RESOURCES = ("data.", "output.", "import.", "provider.", "terraform.")


@dataclass
class StackReport:
    name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    replaced: dict[str, list[str]] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # removed address -> added address with the same body
    warnings: list[str] = field(default_factory=list)  # what hurts although Terraform would not destroy anything
    values: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)  # changed: path -> (old, new)
    new: bool = False  # the stack is not in the old synthesis

    @property
    def destructive(self) -> list[str]:
        """Stateful resources this change destroys or replaces."""
        return [address for address in (*self.removed, *self.replaced) if address.split(".")[0] in STATEFUL]

    @property
    def dangerous(self) -> bool:
        return bool(self.destructive or self.warnings)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.warnings)


def _bare(body: Any) -> Any:
    return {key: value for key, value in body.items() if key != "//"} if isinstance(body, dict) else body


def resources(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`type.name` -> body without CDKTF's metadata."""
    return {
        f"{kind}.{name}": _bare(body)
        for kind, items in stack.get("resource", {}).items()
        for name, body in items.items()
    }


def items(stack: dict[str, Any]) -> dict[str, Any]:
    """Everything a deploy acts on, by address: resources, `data.`, `output.`, `import.`, `provider.`, `terraform.`."""
    found: dict[str, Any] = dict(resources(stack))
    for kind, entries in stack.get("data", {}).items():
        found.update({f"data.{kind}.{name}": _bare(body) for name, body in entries.items()})
    found.update({f"output.{name}": body for name, body in stack.get("output", {}).items()})
    found.update({f"import.{block['to']}": {"id": block["id"]} for block in stack.get("import", [])})
    for name, configurations in stack.get("provider", {}).items():
        for configuration in configurations:
            found[f"provider.{name}.{configuration.get('alias', 'default')}"] = configuration
    for key, value in stack.get("terraform", {}).items():
        if key == "backend":
            found.update({f"terraform.backend.{kind}": body for kind, body in value.items()})
        else:
            found[f"terraform.{key}"] = value
    return found


def readers(stack: dict[str, Any], data_address: str) -> list[str]:
    """Resources whose arguments use a data source (what its change reaches)."""
    needle = f"${{{data_address}."
    return [address for address, body in resources(stack).items() if needle in json.dumps(body)]


def changed_values(before: Any, after: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    """Each innermost difference: its path (`a.b[0].c`) -> (old, new); None where a side has nothing."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: dict[str, tuple[Any, Any]] = {}
        for key in sorted(set(before) | set(after)):
            found |= changed_values(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = {}
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            found |= changed_values(b, a, f"{path}[{index}]")
        return found
    return {} if before == after else {path or "(whole value)": (before, after)}


def forces_replacement(resource_type: str, path: str, after: dict[str, Any]) -> bool:
    if resource_type == "aws_ecs_task_definition":
        return True  # task definitions are immutable: every change is a new revision
    if resource_type == "aws_instance" and path.startswith("user_data") and after.get("user_data_replace_on_change"):
        return True
    return any(path == spec or path.startswith((f"{spec}.", f"{spec}[")) for spec in REPLACED_BY.get(resource_type, ()))


def compare_stack(name: str, before: dict[str, Any], after: dict[str, Any]) -> StackReport:
    report = StackReport(name, new=not before)
    old, new = items(before), items(after)
    report.added = sorted(new.keys() - old.keys())
    report.removed = sorted(old.keys() - new.keys())
    report.warnings += stack_warnings(name, before, after) + secret_overwrites(old, new, report.added)
    for address in sorted(old.keys() & new.keys()):
        body = new[address] if isinstance(new[address], dict) else {}
        ignored = set(body.get("lifecycle", {}).get("ignore_changes", []))
        values = changed_values(old[address], new[address])
        all_paths = list(values)
        paths = [p for p in all_paths if p.split(".")[0].split("[")[0] not in ignored]
        if address.startswith("aws_db_instance."):
            report.warnings += database_warnings(address, old[address], new[address], all_paths)
        if not paths:
            continue
        report.changed[address] = paths
        report.values[address] = {path: values[path] for path in paths}
        if address.startswith(NOT_RESOURCES):
            report.warnings += setting_warnings(address, paths)
            continue
        kind = address.split(".")[0]
        forcing = [p for p in paths if forces_replacement(kind, p, new[address])]
        if forcing:
            report.replaced[address] = forcing
    report.warnings += sealed_key_warnings(old, report.changed) + subnet_warnings(report.replaced)
    for gone in report.removed:
        twin = next((a for a in report.added if a.split(".")[0] == gone.split(".")[0] and new[a] == old[gone]), None)
        if twin and twin not in report.renamed.values():
            report.renamed[gone] = twin
    return report


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[StackReport]:
    """One report per stack of either side."""
    return [
        compare_stack(name, before.get(name, {}), after.get(name, {})) for name in sorted(before.keys() | after.keys())
    ]
