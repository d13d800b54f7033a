"""The change report as text (terminal) and Markdown (CI summary), and which stacks CI can plan.

Made to be read in a minute: a summary first (every `!!!` line, then per environment what each changed stack adds,
changes, replaces or destroys, and the unchanged stacks in one line), then the details of each changed stack:
resources first (replaced, destroyed, added, changed with each attribute as old -> new), then data sources, outputs
and plumbing (imports, provider, backend). Resources go by their construct path (`database/instance`) instead of
the hashed id CDKTF makes of it; the address is added where a command needs it.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

from modules.naming import plan_environment, plan_role_variable
from tools.review.compare import NOT_RESOURCES, STATEFUL, StackReport, items, readers
from tools.stacks import default_provider, environment_of

HASH = re.compile(r"_[0-9A-F]{8}$")
CONTEXT = 30  # characters kept on each side of the difference in a long value
LONG = 100  # a value pair longer than this shows only around its difference
KINDS = {
    "data": "data source",
    "output": "output",
    "import": "import",
    "provider": "provider",
    "terraform": "Terraform setting",
}


def readable(address: str) -> str:
    """`aws_db_instance.database_instance_D7FC2283` -> `aws_db_instance database/instance`; `output.x` -> `output x`."""
    head, rest = address.split(".", 1)
    if head == "data":
        kind, name = rest.split(".", 1)
        return f"data {kind} {HASH.sub('', name).replace('_', '/')}"
    if head == "import":
        return f"import of {readable(rest)}"
    if head in KINDS:
        return f"{head} {rest}"
    return f"{head} {HASH.sub('', rest).replace('_', '/')}"


def shown(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


def shared_length(one: str, other: str) -> int:
    """How many characters the two strings share from their start."""
    return next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))


def old_new(old: Any, new: Any) -> str:
    """`old -> new`; a long pair only around where the two differ (`…` marks what is left out)."""
    before, after = shown(old), shown(new)
    if len(before) + len(after) <= LONG:
        return f"{before} -> {after}"
    start = shared_length(before, after)
    end = shared_length(before[start:][::-1], after[start:][::-1])
    cut = max(0, start - CONTEXT)

    def around(text: str) -> str:
        middle = text[cut : len(text) - end]
        if len(middle) > LONG + CONTEXT:
            middle = f"{middle[: LONG + CONTEXT]}…(+{len(middle) - LONG - CONTEXT} chars)"
        tail = text[len(text) - end :][:CONTEXT]
        return ("…" if cut else "") + middle + tail + ("…" if end > CONTEXT else "")

    return f"{around(before)} -> {around(after)}"


def kind_of(address: str) -> str:
    """What a non-resource address is, in words: `data source`, `output`, ..., `backend`."""
    return "backend" if address.startswith("terraform.backend.") else KINDS[address.split(".", maxsplit=1)[0]]


def is_resource(address: str) -> bool:
    return not address.startswith(NOT_RESOURCES)


def stack_summary(report: StackReport, after: dict[str, Any]) -> str:
    """What a deploy of the stack would do, in one phrase."""
    if report.name not in after:
        return "NO LONGER SYNTHESIZED: its resources stay in AWS, unmanaged, until destroyed"
    if report.empty:
        return "no change"
    counts = [
        (sum(map(is_resource, report.added)), "to add"),
        (len([a for a in report.changed if is_resource(a) and a not in report.replaced]), "to change"),
        (len(report.replaced), "to REPLACE"),
        (sum(map(is_resource, report.removed)), "to DESTROY"),
    ]
    said = ", ".join(f"{n} {what}" for n, what in counts if n)
    if report.new:
        return f"new, {said}" if said else "new"
    parts = [said] if said else []
    for verb, touched in (("added", report.added), ("removed", report.removed), ("changed", report.changed)):
        others = Counter(kind_of(a) for a in touched if not is_resource(a))
        if others:
            counted = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(others.items()))
            parts.append(f"{counted} {verb}")
    return "; ".join(parts)


def alarms(report: StackReport) -> list[str]:
    """The `!!!` lines of a stack: what it loses, and what hurts without a destroy."""
    lines = []
    for address in report.destructive:
        verb = "REPLACE" if address in report.replaced else "DESTROY"
        lines.append(f"{report.name}: {verb} {readable(address)} ({address}): loses {STATEFUL[address.split('.')[0]]}")
    lines += [w if w.startswith(f"{report.name} ") else f"{report.name}: {w}" for w in report.warnings]
    return lines


def summary(reports: list[StackReport], before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = [f"!!! {line}" for report in reports for line in alarms(report)]
    by_env: dict[str, list[StackReport]] = defaultdict(list)
    for report in reports:
        by_env[environment_of(after.get(report.name) or before[report.name])].append(report)
    unchanged = []
    for env, env_reports in sorted(by_env.items()):
        changed = [r for r in env_reports if not r.empty or r.name not in after]
        if not changed:
            unchanged.append(f"{env} ({len(env_reports)})")
            continue
        new = all(r.new for r in env_reports)
        added = sum(is_resource(a) for r in env_reports for a in r.added)
        heading = f"{env}: new environment, {len(env_reports)} stacks, {added} resources to add" if new else f"{env}:"
        width = max(len(r.name) for r in changed)
        lines += [heading, *(f"  {r.name:<{width}}  {stack_summary(r, after)}" for r in changed)]
        rest = len(env_reports) - len(changed)
        if rest:
            lines.append(f"  and {rest} unchanged")
    if unchanged:
        lines.append(f"Unchanged: every stack of {', '.join(unchanged)}")
    return lines


def details(report: StackReport, after: dict[str, Any]) -> list[str]:
    """A changed stack's lines: resources first, then data sources, outputs and plumbing."""
    lines = [f"{report.name}: {stack_summary(report, after)}"]
    if report.name not in after:
        return lines
    if report.new:  # its resources by type, the rest counted
        by_type: dict[str, list[str]] = defaultdict(list)
        for address in filter(is_resource, report.added):
            by_type[address.split(".")[0]].append(readable(address).split(" ", 1)[1])
        lines += [f"  + {kind} ({len(names)}): {', '.join(names)}" for kind, names in sorted(by_type.items())]
        others = Counter(kind_of(a) for a in report.added if not is_resource(a))
        return [*lines, "  also " + ", ".join(f"{n} {kind}(s)" for kind, n in sorted(others.items()))]
    ordered = sorted({*report.added, *report.removed, *report.changed}, key=lambda a: (not is_resource(a), a))
    for address in ordered:
        name = readable(address)
        if address in report.replaced:
            forced = "; ".join(f"{p}: {old_new(*report.values[address][p])}" for p in report.replaced[address])
            lines.append(f"  -/+ {name}  ({address}) replaced, forced by {forced}")
        elif address in report.removed:
            renamed = report.renamed.get(address)
            hint = f"  (renamed to {renamed}? declare the move: move_to / moved)" if renamed else ""
            lines.append(f"  -   {name}  ({address}){hint}")
        elif address in report.added:
            lines.append(f"  +   {name}")
        else:
            reach = readers(after[report.name], address) if address.startswith("data.") else []
            read_by = f"  (read by {', '.join(readable(r) for r in reach)})" if reach else ""
            lines.append(f"  ~   {name}{read_by}")
            lines += [f"        {path}: {old_new(old, new)}" for path, (old, new) in report.values[address].items()]
            lines += [
                f"        {check}, its message: {shown(text)}" for check, text in messages(report, address, after)
            ]
    return lines


CONDITION = re.compile(r"((?:pre|post)condition\[\d+\])\.condition$")


def messages(report: StackReport, address: str, after: dict[str, Any]) -> list[tuple[str, Any]]:
    """The message of each pre- or postcondition whose condition changed and whose message did not."""
    body = items(after[report.name])[address]
    found = []
    for path in report.values[address]:
        check = CONDITION.match(path)
        if check and f"{check[1]}.error_message" not in report.values[address]:
            kind, index = check[1].rstrip("]").split("[")
            found.append((check[1], body[kind][int(index)].get("error_message")))
    return found


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


def render(reports: list[StackReport], before: dict[str, Any], after: dict[str, Any]) -> str:
    changed = [report for report in reports if not report.empty or report.name not in after]
    lines = ["Summary", *(f"  {line}" for line in summary(reports, before, after))]
    if changed:
        lines += ["", "Details (resources first; then data sources, outputs, imports, provider and backend)"]
        for report in changed:
            lines += ["", *details(report, after)]
    return "\n".join([*lines, "", *verdict(reports)])


def render_markdown(reports: list[StackReport], before: dict[str, Any], after: dict[str, Any], base: str) -> str:
    """The same report for a pull request's summary: the summary as a list, the details folded."""
    changed = [report for report in reports if not report.empty or report.name not in after]
    lines = [f"## Change report (offline, against `{base}`)", ""]
    for line in summary(reports, before, after):
        if line.startswith("!!! "):
            lines.append(f"- :warning: **{line.removeprefix('!!! ')}**")
        elif line.startswith("  and "):
            lines.append(f"  - {line.strip()}")
        elif line.startswith("  "):
            name, said = line.strip().split(None, 1)
            lines.append(f"  - `{name}`: {said}")
        else:
            lines.append(f"- {line}")
    if changed:
        lines += ["", "<details><summary>Every change</summary>", "", "```"]
        for report in changed:
            lines += [*details(report, after), ""]
        lines += ["```", "", "</details>"]
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
