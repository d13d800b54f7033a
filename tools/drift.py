"""The nightly drift check (.github/workflows/drift.yml): which stacks to plan, each plan's result, and the issues.

Three commands, one per job of the workflow:

    python -m tools.drift stacks cdktf.out      the stacks to plan, as JSON (the plan job's matrix)
    python -m tools.drift record --stack ...    one plan's result, as JSON (an artifact of the plan job)
    python -m tools.drift report <results dir>  open, update or close the `drift` issues with `gh`, and write the
                                                run's summary to $GITHUB_STEP_SUMMARY

Each stack has at most two open issues, found by their exact title: `Drift: <stack>` while its plan shows changes
nobody made in the code, and `Drift check failed: <stack>` while its plan cannot run. A failed plan gets an issue of
its own rather than a line in the run's summary: nobody reads the summary of a green nightly run, and a check that
fails every night hides drift as well as no check at all. A failed or skipped plan says nothing about drift, so it
never closes an issue; only a plan that runs closes them. What to do about an issue: docs/runbooks/answer-drift.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tools.synthesized import read_stacks

LABEL = "drift"
RUNBOOK = "docs/runbooks/answer-drift.md"
CREATE_LABEL = ["gh", "label", "create", LABEL, "--force", "--color", "d93f0b", "--description", "Found by drift.yml"]
MAX_LINES = 60
# What `terraform show -no-color <plan>` says per resource (`  # aws_x.y will be updated in-place`), the section
# headings, and the count; the attribute values in between stay in the run's log.
SUMMARY_LINE = re.compile(r"(  # |Plan: |Changes to Outputs:|Terraform will perform |Note: Objects have changed )")
FENCED = re.compile(r"```\n(.*?)```", re.S)


class Status(StrEnum):
    CLEAN = "clean"  # terraform plan -detailed-exitcode: 0
    DRIFT = "drift"  # 2
    FAILED = "failed"  # 1, or the job failed before the plan
    SKIPPED = "skipped"  # the account's plan role variable is not set


@dataclass(frozen=True)
class Result:
    stack: str
    status: Status
    lines: tuple[str, ...] = ()  # drift: what would change; failed: the end of the output; skipped: why


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str


@dataclass(frozen=True)
class Links:
    run: str
    runbook: str


@dataclass(frozen=True)
class Open:
    title: str
    body: str


@dataclass(frozen=True)
class Edit:
    number: int
    body: str


@dataclass(frozen=True)
class Comment:
    number: int
    text: str


@dataclass(frozen=True)
class Close:
    number: int
    comment: str


Action = Open | Edit | Comment | Close


def drift_title(stack: str) -> str:
    return f"Drift: {stack}"


def failure_title(stack: str) -> str:
    return f"Drift check failed: {stack}"


def stacks_to_check(stacks: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Every stack ci.yml's plan job could plan (its state in its bucket), as if each had changed.

    No GitHub environment: a scheduled run is a run of `main`, which every plan role trusts.
    """
    # Imported here: only this command reads the synthesized app and needs the app's packages (.venv); `record`
    # and `report` run on a bare Python.
    from tools.review.compare import compare
    from tools.review.render import plannable

    return plannable(compare({}, stacks), stacks)


def record(stack: str, role_variable: str, configured: bool, exit_code: str, output: str) -> Result:
    """One plan's result from what the plan job saw: its exit code ("" if it never ran) and its output."""
    if not configured:
        return Result(stack, Status.SKIPPED, (f"the repository variable `{role_variable}` is not set",))
    if exit_code == "0":
        return Result(stack, Status.CLEAN)
    if exit_code == "2":
        changes = [line.rstrip() for line in output.splitlines() if SUMMARY_LINE.match(line)]
        if len(changes) > MAX_LINES:
            changes = [*changes[: MAX_LINES - 1], f"... and {len(changes) - MAX_LINES + 1} more lines"]
        return Result(stack, Status.DRIFT, tuple(changes))
    tail = [line.rstrip() for line in output.splitlines() if line.strip()][-30:]
    return Result(stack, Status.FAILED, tuple(tail) or ("The job failed before the plan ran: see the run's log.",))


def body(result: Result, links: Links) -> str:
    """The description of a stack's drift issue, or of its failure issue."""
    stack, runbook = result.stack, f"[answer drift]({links.runbook})"
    if result.status is Status.DRIFT:
        intro = (
            f"The nightly drift check found that `{stack}` in AWS differs from what the code on `main` says: "
            "`terraform plan` would change it although nobody changed the code."
        )
        shown = f"**What would change** (trimmed; `make plan STACK={stack}` shows every attribute):"
        todo = (
            f"follow {runbook}: find out who or what changed AWS, decide whether AWS or the code is right, and bring "
            f"the two together. This issue closes by itself after the first nightly plan of `{stack}` that shows no "
            "changes."
        )
    else:
        intro = f"The nightly drift check could not plan `{stack}`, so drift in it goes unseen."
        shown = "**The end of its output:**"
        todo = (
            f"follow step 6 of {runbook}. This issue closes by itself after the next nightly plan of `{stack}` that "
            "runs."
        )
    fenced = ["```", *result.lines, "```"]
    return "\n".join([intro, "", f"**Run:** {links.run}", "", shown, "", *fenced, "", f"**What to do:** {todo}"])


def changes_in(body: str) -> str | None:
    """The fenced block of an issue's body: what the plan showed when the body was written."""
    found = FENCED.search(body)
    return found.group(1) if found else None


def keep_open(issue: Issue | None, title: str, body: str, on_change: str | None) -> list[Action]:
    """Open the issue, or bring its body up to date (and comment `on_change` when what it shows is different)."""
    if issue is None:
        return [Open(title, body)]
    actions: list[Action] = [Edit(issue.number, body)]
    if on_change is not None and changes_in(issue.body) != changes_in(body):
        actions.append(Comment(issue.number, on_change))
    return actions


def close(issue: Issue | None, comment: str) -> list[Action]:
    return [] if issue is None else [Close(issue.number, comment)]


def actions_for(result: Result, by_title: dict[str, Issue], links: Links) -> list[Action]:
    """What one stack's result does to its two issues."""
    drift = by_title.get(drift_title(result.stack))
    failure = by_title.get(failure_title(result.stack))
    runs_again = close(failure, f"The plan of `{result.stack}` runs again ({links.run}).")
    if result.status is Status.DRIFT:
        changed = f"What would change is different now ({links.run}); the description shows the new plan."
        return [*keep_open(drift, drift_title(result.stack), body(result, links), changed), *runs_again]
    if result.status is Status.CLEAN:
        clean = f"The plan of `{result.stack}` shows no changes ({links.run}): AWS and the code agree again."
        return [*close(drift, clean), *runs_again]
    if result.status is Status.FAILED:
        return keep_open(failure, failure_title(result.stack), body(result, links), None)
    return []  # skipped: nothing is known


def decide(results: list[Result], issues: list[Issue], links: Links) -> dict[str, list[Action]]:
    """Per stack, in order of name, the actions that bring its issues in line with its result."""
    # The oldest issue of a title wins should a person have opened a second one.
    by_title = {issue.title: issue for issue in sorted(issues, key=lambda issue: -issue.number)}
    return {result.stack: actions_for(result, by_title, links) for result in sorted(results, key=lambda r: r.stack)}


def gh_command(action: Action) -> list[str]:
    match action:
        case Open(title, body):
            return ["gh", "issue", "create", "--title", title, "--body", body, "--label", LABEL]
        case Edit(number, body):
            return ["gh", "issue", "edit", str(number), "--body", body]
        case Comment(number, text):
            return ["gh", "issue", "comment", str(number), "--body", text]
        case Close(number, comment):
            return ["gh", "issue", "close", str(number), "--comment", comment]


def describe(action: Action) -> str:
    match action:
        case Open(title, _):
            return f"opens “{title}”"
        case Edit(number, _):
            return f"updates #{number}"
        case Comment(number, _):
            return f"comments on #{number}"
        case Close(number, _):
            return f"closes #{number}"


def summary(results: list[Result], decided: dict[str, list[Action]], issues: list[Issue]) -> str:
    """The run's summary: one row per stack, then the drift issues this run had no result for."""
    lines = ["## Drift check", "", "| stack | plan | issues |", "|---|---|---|"]
    plans = {Status.CLEAN: "no changes", Status.DRIFT: "**drift**", Status.FAILED: "**plan failed**"}
    for result in sorted(results, key=lambda r: r.stack):
        plan = plans.get(result.status) or f"skipped: {'; '.join(result.lines)}"
        done = ", ".join(describe(action) for action in decided[result.stack]) or "-"
        lines.append(f"| `{result.stack}` | {plan} | {done} |")
    checked = {title(r.stack) for r in results for title in (drift_title, failure_title)}
    unchecked = [f"- #{i.number} {i.title}" for i in sorted(issues, key=lambda i: i.number) if i.title not in checked]
    if unchecked:
        lines += ["", "Open `drift` issues without a result in this run (left as they are):", *unchecked]
    return "\n".join(lines) + "\n"


def read_results(directory: Path) -> list[Result]:
    found = [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]
    return [Result(r["stack"], Status(r["status"]), tuple(r["lines"])) for r in found]


def open_issues() -> list[Issue]:
    listed = subprocess.run(
        ["gh", "issue", "list", "--label", LABEL, "--state", "open", "--limit", "500", "--json", "number,title,body"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [Issue(i["number"], i["title"], i["body"]) for i in json.loads(listed.stdout)]


def links_of_this_run(env: dict[str, str]) -> Links:
    """The run and the runbook, from the variables GitHub sets in every job."""
    repository = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
    return Links(run=f"{repository}/actions/runs/{env['GITHUB_RUN_ID']}", runbook=f"{repository}/blob/main/{RUNBOOK}")


def report(directory: Path) -> None:
    results, issues = read_results(directory), open_issues()
    decided = decide(results, issues, links_of_this_run(dict(os.environ)))
    actions = [action for stack_actions in decided.values() for action in stack_actions]
    if any(isinstance(action, Open) for action in actions):
        subprocess.run(CREATE_LABEL, check=True)
    for action in actions:
        subprocess.run(gh_command(action), check=True)
    with Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a") as step_summary:
        step_summary.write(summary(results, decided, issues))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("stacks", help="the stacks to plan, as JSON").add_argument("outdir", type=Path)
    one = commands.add_parser("record", help="one plan's result, as JSON")
    one.add_argument("--stack", required=True)
    one.add_argument("--role-variable", required=True)
    one.add_argument("--configured", required=True, choices=["true", "false"])
    one.add_argument("--exit-code", required=True, help='terraform plan -detailed-exitcode\'s, or "" if it never ran')
    one.add_argument("--plan-output", type=Path, required=True, help="terraform show's output on drift, else plan's")
    commands.add_parser("report", help="open, update or close the issues").add_argument("results", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.command == "stacks":
        print(json.dumps(stacks_to_check(read_stacks(arguments.outdir))))
    elif arguments.command == "record":
        output = arguments.plan_output.read_text() if arguments.plan_output.exists() else ""
        result = record(
            arguments.stack, arguments.role_variable, arguments.configured == "true", arguments.exit_code, output
        )
        print(json.dumps({"stack": result.stack, "status": result.status.value, "lines": list(result.lines)}))
    else:
        report(arguments.results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
