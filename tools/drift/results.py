"""A stack's result in one night's drift check, from what its plan job saw; and which stacks get a plan at all."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from modules.naming import PLACEHOLDERS_LOCAL, PLACEHOLDERS_OUTPUT
from tools.deployed.record import Record, Standing, done, standing

MAX_LINES = 60
# What `terraform show -no-color <plan>` says per resource (`  # aws_x.y will be updated in-place`), the section
# headings, and the count; the attribute values in between stay in the run's log.
SUMMARY_LINE = re.compile(r"(  # |Plan: |Changes to Outputs:|Terraform will perform |Note: Objects have changed )")


class Status(StrEnum):
    CLEAN = "clean"  # terraform plan -detailed-exitcode: 0
    DRIFT = "drift"  # 2, and main's synthesis of the stack is what was deployed last
    UNDEPLOYED = "undeployed"  # 2, and main's synthesis differs from what was deployed: merged, not deployed yet
    FAILED = "failed"  # 1, or the job failed before the plan
    SKIPPED = "skipped"  # the account's plan role variable is not set
    WAITING = "waiting"  # not planned: a placeholder account id keeps the stack from being deployed yet


@dataclass(frozen=True)
class Result:
    stack: str
    status: Status
    lines: tuple[str, ...] = ()  # drift: what would change; failed: the end of the output; skipped, waiting: why


def stacks_to_check(stacks: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Every stack ci.yml's plan job could plan (its state in its bucket), as if each had changed, but those
    `waiting` for a real account id.

    No GitHub environment: a scheduled run is a run of `main`, which every plan role trusts.
    """
    # Imported here: only this command reads the synthesized app and needs the app's packages (.venv); `record`
    # and `report` run on a bare Python.
    from tools.review.compare import compare
    from tools.review.render import plannable

    held = {result.stack for result in waiting(stacks)}
    chosen = [entry for entry in plannable(compare({}, stacks), stacks) if entry["stack"] not in held]
    return [{**entry, "github_environment": ""} for entry in chosen]


def waiting(stacks: dict[str, dict[str, Any]]) -> list[Result]:
    """The stacks whose plan a placeholder account id refuses by design: each with the precondition's own words."""
    return [
        Result(name, Status.WAITING, (stack["output"][PLACEHOLDERS_OUTPUT]["precondition"][0]["error_message"],))
        for name, stack in sorted(stacks.items())
        if stack.get("locals", {}).get(PLACEHOLDERS_LOCAL)
    ]


def record(
    stack: str,
    role_variable: str,
    configured: bool,
    exit_code: str,
    output: str,
    *,
    deployed: Record | None = None,
    synthesized: dict[str, Any] | None = None,
) -> Result:
    """One plan's result from what the plan job saw: its exit code ("" if it never ran), its output, and on changes
    the stack's deployment record (tools/deployed) with main's synthesis of the stack."""
    if not configured:
        return Result(stack, Status.SKIPPED, (f"the repository variable `{role_variable}` is not set",))
    if exit_code == "0":
        return Result(stack, Status.CLEAN)
    if exit_code == "2":
        changes = [line.rstrip() for line in output.splitlines() if SUMMARY_LINE.match(line)]
        if len(changes) > MAX_LINES:
            changes = [*changes[: MAX_LINES - 1], f"... and {len(changes) - MAX_LINES + 1} more lines"]
        found = standing(deployed, synthesized or {})
        status = Status.UNDEPLOYED if found is Standing.BEHIND else Status.DRIFT
        return Result(stack, status, (deployment_line(found, deployed), *changes))
    tail = [line.rstrip() for line in output.splitlines() if line.strip()][-30:]
    return Result(stack, Status.FAILED, tuple(tail) or ("The job failed before the plan ran: see the run's log.",))


def deployment_line(found: Standing, deployed: Record | None) -> str:
    """Whether the plan's changes can be drift: what main holds against what was deployed last."""
    if deployed is None or found is Standing.UNKNOWN:
        return "No deployment record (deployed before make deploy kept them, or not with it): drift, or not deployed."
    if found is Standing.BEHIND:
        return (
            f"main changed this stack since it was {done(deployed)}: make review BASE={deployed.commit[:12]} shows"
            " how; drift in it is told apart once main is deployed."
        )
    if found is Standing.DESTROYED:
        return f"Last {done(deployed)}."
    return f"main is what was {done(deployed)}: the changes below are drift."


def to_json(result: Result) -> str:
    """How a result travels from the job that saw it to the report (`read_results`)."""
    return json.dumps({"stack": result.stack, "status": result.status.value, "lines": list(result.lines)})


def read_results(directory: Path) -> list[Result]:
    found = [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]
    return [Result(r["stack"], Status(r["status"]), tuple(r["lines"])) for r in found]
