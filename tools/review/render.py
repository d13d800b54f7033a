"""The change report as text (terminal) and Markdown (CI summary), and which stacks CI can plan."""

from __future__ import annotations

from typing import Any

from modules.naming import plan_environment, plan_role_variable
from tools.review.compare import NOT_RESOURCES, STATEFUL, StackReport, readers
from tools.stacks import default_provider, environment_of


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


def plannable(reports: list[StackReport], after: dict[str, Any]) -> list[dict[str, str]]:
    """The changed stacks a CI job can plan: each with its environment and the variable naming its plan role.

    A stack with a local backend (`state-<env>` while bootstrapping) keeps its state on an operator's
    machine, and a stack no longer synthesized has nothing to plan: both are left out. Each names the
    GitHub environment of its account, whose reviewers must approve a pull request's plan (no plan
    role trusts a pull request as such).
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
                "github_environment": plan_environment(env),
            }
        )
    return chosen
