"""`make review BASE=<git rev>`: what a change would do to every stack, before anyone runs a plan.

Synthesizes BASE (in a temporary git worktree) and the working tree side by side
and compares the Terraform JSON per stack: resources added, removed, changed (with
the attribute paths), and above all those Terraform would have to REPLACE or
DESTROY: changed attributes that force a new resource, and construct ids that
were renamed (Terraform sees a destroy plus a create unless the move is declared).
Everything else a deploy would act on is compared too: data sources (an IAM policy
document feeds a policy), outputs, import blocks, the provider (account, region)
and the state backend; a stack reads "no change" only when nothing differs.

Flagged loudly, with exit code 2: destroying or replacing a stateful resource
(database, state bucket, repository, Elastic IP, secret, log group), moving a
stack's state or account, a new database name (Terraform leaves the database alone
and the API looks for one that does not exist), and a major engine upgrade.

Offline: no AWS account, credentials or provider plugin. `terraform plan` against
the real account (`make plan STACK=...`) remains the final word.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.loader import load_config
from config.rules import major_version
from modules.naming import plan_environment, plan_role_variable
from tools.stacks import default_provider, environment_of
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
    old, new = items(before), items(after)
    report.added = sorted(new.keys() - old.keys())
    report.removed = sorted(old.keys() - new.keys())
    for address in sorted(old.keys() & new.keys()):
        body = new[address] if isinstance(new[address], dict) else {}
        ignored = set(body.get("lifecycle", {}).get("ignore_changes", []))
        all_paths = changed_paths(old[address], new[address])
        paths = [p for p in all_paths if p.split(".")[0].split("[")[0] not in ignored]
        if address.startswith("aws_db_instance."):
            report.warnings += database_warnings(address, old[address], new[address], all_paths)
        if not paths:
            continue
        report.changed[address] = paths
        if address.startswith(NOT_RESOURCES):
            report.warnings += setting_warnings(address, paths)
            continue
        kind = address.split(".")[0]
        forcing = [p for p in paths if forces_replacement(kind, p, new[address])]
        if forcing:
            report.replaced[address] = forcing
    for gone in report.removed:
        twin = next((a for a in report.added if a.split(".")[0] == gone.split(".")[0] and new[a] == old[gone]), None)
        if twin and twin not in report.renamed.values():
            report.renamed[gone] = twin
    return report


def database_warnings(address: str, old: dict[str, Any], new: dict[str, Any], paths: list[str]) -> list[str]:
    """What a database change does that its plan line does not show."""
    warnings = []
    if "db_name" in paths and old.get("db_name") and new.get("db_name"):
        warnings.append(
            f"{address}: database name {old['db_name']} -> {new['db_name']}: Terraform leaves the database as it is"
            f" (db_name is ignored once created), but the API will connect to {new['db_name']}, which does not exist"
        )
    old_major, new_major = (major_version(str(body.get("engine_version"))) for body in (old, new))
    if "engine_version" in paths and old_major != new_major:
        upgrade = f"{address}: MAJOR engine upgrade {old.get('engine_version')} -> {new.get('engine_version')}"
        if new.get("allow_major_version_upgrade") is not True:
            warnings.append(f"{upgrade}: RDS refuses it unless database.allow_major_version_upgrade = true")
        else:
            warnings.append(f"{upgrade}: the database restarts (downtime); take a snapshot first")
    return warnings


def setting_warnings(address: str, paths: list[str]) -> list[str]:
    """A stack whose state or account moves: Terraform would start from nothing there."""
    if address.startswith("terraform.backend.") and {"bucket", "key", "region"} & set(paths):
        return [
            f"{address}: the state moves ({', '.join(paths)}): without `terraform init -migrate-state` the next"
            " apply starts from empty state and creates everything again"
        ]
    if address.startswith("provider.") and {"region", "allowed_account_ids"} & {p.split("[")[0] for p in paths}:
        return [
            f"{address}: another account or region ({', '.join(paths)}): everything is created there anew"
            " and what runs now is left unmanaged"
        ]
    return []


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[StackReport]:
    """One report per stack of either side."""
    return [
        compare_stack(name, before.get(name, {}), after.get(name, {})) for name in sorted(before.keys() | after.keys())
    ]


def render(reports: list[StackReport], before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [line for report in reports for line in render_stack(report, before, after)]
    lines.append("")
    lines.extend(verdict(reports))
    return "\n".join(lines)


def render_stack(report: StackReport, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One stack's lines of the report: a summary line, then each change (nothing more when unchanged)."""
    lines = []
    is_resource = {a: not a.startswith(NOT_RESOURCES) for a in (*report.added, *report.removed, *report.changed)}
    if report.name not in after:
        lines.append(f"{report.name}: NO LONGER SYNTHESIZED - its resources stay in AWS, unmanaged, until destroyed")
    elif report.name not in before:
        added = [a for a in report.added if is_resource[a]]
        lines.append(f"{report.name}: new stack, {len(added)} to add")
    elif report.empty:
        lines.append(f"{report.name}: no change")
        return lines
    else:
        changed = [a for a in report.changed if is_resource[a] and a not in report.replaced]
        others = [a for a in is_resource if not is_resource[a]]
        counts = [
            f"{sum(is_resource[a] for a in report.added)} to add",
            f"{len(changed)} to change",
            f"{len(report.replaced)} to REPLACE",
            f"{sum(is_resource[a] for a in report.removed)} to DESTROY",
            f"{len(others)} other change(s): data sources, outputs, imports, provider or backend",
        ]
        lines.append(f"{report.name}: " + ", ".join(c for c in counts if not c.startswith("0 ")))
    for warning in report.warnings:
        lines.append(f"  !!! {warning}")
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
            reach = readers(after.get(report.name, {}), address) if address.startswith("data.") else []
            read_by = f"  (read by {', '.join(reach)})" if reach else ""
            lines.append(f"  ~   {address}: {', '.join(paths)}{read_by}")
    return lines


def verdict(reports: list[StackReport]) -> list[str]:
    """The closing lines: what hurts, or that nothing stateful is lost."""
    lines = []
    destructive = [f"{r.name}/{a}" for r in reports for a in r.destructive]
    warned = sum(len(r.warnings) for r in reports)
    if destructive:
        lines.append(f"!!! {len(destructive)} stateful resource(s) destroyed or replaced: {', '.join(destructive)}")
    if warned:
        lines.append(f"!!! {warned} change(s) above hurt without destroying anything: read each one.")
    if destructive or warned:
        lines.append("!!! Snapshot/back up first and get a second review; then confirm with make plan STACK=<stack>.")
    else:
        lines.append("No stateful resource is destroyed or replaced. Confirm with make plan STACK=<stack>.")
    return lines


def render_markdown(reports: list[StackReport], before: dict[str, Any], after: dict[str, Any], base: str) -> str:
    """The report for a pull request's summary: replacements, destroys and warnings first, then a line per stack."""
    lines = [f"## Change report (offline, against `{base}`)", ""]
    losses = []
    for report in reports:
        if report.name not in after:
            losses.append(f"- **NO LONGER SYNTHESIZED** `{report.name}`: its resources stay in AWS, unmanaged")
            continue
        for warning in report.warnings:
            losses.append(f"- :warning: `{report.name}`: {warning}")
        for address, paths in report.replaced.items():
            loses = f" (loses {STATEFUL[address.split('.')[0]]})" if address in report.destructive else ""
            losses.append(f"- **REPLACE** `{report.name}` `{address}`{loses}, forced by {', '.join(paths)}")
        for address in report.removed:
            if address.startswith(NOT_RESOURCES):
                continue
            loses = f" (loses {STATEFUL[address.split('.')[0]]})" if address in report.destructive else ""
            renamed = f"; renamed to `{report.renamed[address]}`? declare the move" if address in report.renamed else ""
            losses.append(f"- **DESTROY** `{report.name}` `{address}`{loses}{renamed}")
    lines.append("### Replaced, destroyed or warned")
    lines.extend(losses or ["Nothing is replaced or destroyed, and nothing warns."])
    lines += ["", "### Per stack", "", "| stack | change |", "|---|---|"]
    rendered = {report.name: render_stack(report, before, after) for report in reports}
    for report in reports:
        summary = rendered[report.name][0].split(": ", 1)[1]
        lines.append(f"| `{report.name}` | {summary} |")
    details = [line for report in reports if not report.empty for line in rendered[report.name]]
    if details:
        lines += ["", "<details><summary>Every change</summary>", "", "```", *details, "```", "", "</details>"]
    lines += ["", *verdict(reports)]
    return "\n".join(lines) + "\n"


def plannable(
    reports: list[StackReport], after: dict[str, Any], protected: Collection[str] = ()
) -> list[dict[str, str]]:
    """The changed stacks a CI job can plan: each with its environment and the variable naming its plan role.

    A stack with a local backend (`state-<env>` while bootstrapping) keeps its state on an operator's
    machine, and a stack no longer synthesized has nothing to plan: both are left out. A stack of a
    `protected` (production-grade) environment names the GitHub environment whose reviewers must
    approve a pull request's plan (its role trusts no pull request as such); the others name none.
    """
    chosen = []
    for report in reports:
        stack = after.get(report.name)
        if stack is None or report.empty or "s3" not in stack["terraform"].get("backend", {}):
            continue
        env = environment_of(stack)
        chosen.append(
            {
                "stack": report.name,
                "environment": env,
                "region": default_provider(stack)["region"],
                "role_variable": plan_role_variable(env),
                "github_environment": plan_environment(env) if env in protected else "",
            }
        )
    return chosen


def synthesize(source: Path, outdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir)}
    env.pop("LITTIL_ENVS_DIR", None)
    return subprocess.Popen([sys.executable, "main.py"], cwd=source, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="git revision to compare the working tree with, e.g. origin/main or HEAD~1")
    parser.add_argument("--repo", type=Path, default=REPO, help="the git work tree holding main.py (default: this one)")
    parser.add_argument("--markdown", type=Path, help="also append the report as Markdown to this file (CI summary)")
    parser.add_argument("--plannable", type=Path, help="write the changed stacks CI can plan to this file (JSON)")
    arguments = parser.parse_args()
    base, repo = arguments.base, arguments.repo.resolve()
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], cwd=repo, capture_output=True, check=False
    )
    if known.returncode != 0:
        print(f"review: BASE {base!r} is not a commit of {repo} (try origin/main or HEAD~1)", file=sys.stderr)
        return 2
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
    if arguments.markdown:
        with arguments.markdown.open("a") as summary:
            summary.write(render_markdown(reports, before, after, base))
    if arguments.plannable:
        protected = {env.name for env in load_config(repo / "envs").workloads if env.production_grade}
        arguments.plannable.write_text(json.dumps(plannable(reports, after, protected)))
    return 2 if any(report.dangerous for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
