"""`make review BASE=<git rev>`: what a change would do to every stack, before anyone runs a plan.

Synthesizes BASE (in a temporary git worktree) and the working tree side by side
and compares the Terraform JSON per stack: resources added, removed, changed (with
the attribute paths), and above all those Terraform would have to REPLACE or
DESTROY: changed attributes that force a new resource, and construct ids that
were renamed (Terraform sees a destroy plus a create unless the move is declared).
Destroying or replacing a stateful resource (database, state bucket, repository,
Elastic IP, secret, log group) is flagged loudly, and the exit code is 2.

Offline: no AWS account, credentials or provider plugin. `terraform plan` against
the real account (`make plan STACK=...`) remains the final word.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.synthesized import read_stacks

REPO = Path(__file__).resolve().parents[1]

# Arguments whose change makes Terraform destroy and re-create the resource (AWS provider 6.x).
REPLACED_BY = {
    "aws_acm_certificate": {"domain_name", "subject_alternative_names", "key_algorithm", "validation_method"},
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
}


@dataclass
class StackReport:
    name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    replaced: dict[str, list[str]] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # removed address -> added address with the same body

    @property
    def destructive(self) -> list[str]:
        """Stateful resources this change destroys or replaces."""
        return [address for address in (*self.removed, *self.replaced) if address.split(".")[0] in STATEFUL]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def resources(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`type.name` -> body without CDKTF's metadata."""
    return {
        f"{kind}.{name}": {key: value for key, value in body.items() if key != "//"}
        for kind, items in stack.get("resource", {}).items()
        for name, body in items.items()
    }


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in sorted(set(before) | set(after)):
            paths += changed_paths(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for index, (b, a) in enumerate(zip(before, after, strict=True))
            for p in changed_paths(b, a, f"{path}[{index}]")
        ]
    return [] if before == after else [path or "(whole value)"]


def forces_replacement(resource_type: str, path: str, after: dict[str, Any]) -> bool:
    if resource_type == "aws_ecs_task_definition":
        return True  # task definitions are immutable: every change is a new revision
    if resource_type == "aws_instance" and path.startswith("user_data") and after.get("user_data_replace_on_change"):
        return True
    return any(path == spec or path.startswith((f"{spec}.", f"{spec}[")) for spec in REPLACED_BY.get(resource_type, ()))


def compare_stack(name: str, before: dict[str, Any], after: dict[str, Any]) -> StackReport:
    report = StackReport(name)
    old, new = resources(before), resources(after)
    report.added = sorted(new.keys() - old.keys())
    report.removed = sorted(old.keys() - new.keys())
    for address in sorted(old.keys() & new.keys()):
        ignored = set(new[address].get("lifecycle", {}).get("ignore_changes", []))
        paths = [p for p in changed_paths(old[address], new[address]) if p.split(".")[0].split("[")[0] not in ignored]
        if not paths:
            continue
        report.changed[address] = paths
        kind = address.split(".")[0]
        forcing = [p for p in paths if forces_replacement(kind, p, new[address])]
        if forcing:
            report.replaced[address] = forcing
    for gone in report.removed:
        twin = next((a for a in report.added if a.split(".")[0] == gone.split(".")[0] and new[a] == old[gone]), None)
        if twin and twin not in report.renamed.values():
            report.renamed[gone] = twin
    return report


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[StackReport]:
    return [
        compare_stack(name, before.get(name, {}), after.get(name, {})) for name in sorted(before.keys() | after.keys())
    ]


def render(reports: list[StackReport], before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = []
    for report in reports:
        if report.name not in after:
            lines.append(
                f"{report.name}: NO LONGER SYNTHESIZED - its resources stay in AWS, unmanaged, until destroyed"
            )
        elif report.name not in before:
            lines.append(f"{report.name}: new stack, {len(report.added)} to add")
        elif report.empty:
            lines.append(f"{report.name}: no change")
            continue
        else:
            counts = [
                f"{len(report.added)} to add" if report.added else "",
                f"{len(report.changed) - len(report.replaced)} to change"
                if len(report.changed) > len(report.replaced)
                else "",
                f"{len(report.replaced)} to REPLACE" if report.replaced else "",
                f"{len(report.removed)} to DESTROY" if report.removed else "",
            ]
            lines.append(f"{report.name}: " + ", ".join(c for c in counts if c))
        for address in report.destructive:
            kind = address.split(".")[0]
            verb = "REPLACE" if address in report.replaced else "DESTROY"
            lines.append(f"  !!! {verb} {address}: loses {STATEFUL[kind]}")
        for address, paths in report.replaced.items():
            lines.append(f"  -/+ {address}  (forced by {', '.join(paths)})")
        for address in report.removed:
            hint = (
                f"  (renamed to {report.renamed[address]}? declare the move: move_to / moved)"
                if address in report.renamed
                else ""
            )
            lines.append(f"  -   {address}{hint}")
        for address in report.added:
            lines.append(f"  +   {address}")
        for address, paths in report.changed.items():
            if address not in report.replaced:
                lines.append(f"  ~   {address}: {', '.join(paths)}")
    destructive = [f"{r.name}/{a}" for r in reports for a in r.destructive]
    lines.append("")
    if destructive:
        lines.append(f"!!! {len(destructive)} stateful resource(s) destroyed or replaced: {', '.join(destructive)}")
        lines.append("!!! Snapshot/back up first and get a second review; then confirm with make plan STACK=<stack>.")
    else:
        lines.append("No stateful resource is destroyed or replaced. Confirm with make plan STACK=<stack>.")
    return "\n".join(lines)


def synthesize(source: Path, outdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir)}
    env.pop("LITTIL_ENVS_DIR", None)
    return subprocess.Popen([sys.executable, "main.py"], cwd=source, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="git revision to compare the working tree with, e.g. origin/main or HEAD~1")
    parser.add_argument("--repo", type=Path, default=REPO, help="the git work tree holding main.py (default: this one)")
    arguments = parser.parse_args()
    base, repo = arguments.base, arguments.repo.resolve()
    with tempfile.TemporaryDirectory(prefix="littil-review-") as scratch:
        worktree, before_out, after_out = Path(scratch) / "base", Path(scratch) / "before", Path(scratch) / "after"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), base], cwd=repo, check=True)
        try:
            # Both syntheses at once: each is mostly the provider import, one core each.
            jobs = [synthesize(worktree, before_out), synthesize(repo, after_out)]
            if any(job.wait() != 0 for job in jobs):
                print("review: synthesis failed (see above)", file=sys.stderr)
                return 1
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=repo, check=False)
        before, after = read_stacks(before_out), read_stacks(after_out)
    reports = compare(before, after)
    print(f"Changes from {base} to the working tree, per stack:\n")
    print(render(reports, before, after))
    return 2 if any(report.destructive for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
