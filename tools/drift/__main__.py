"""The drift check's commands: `stacks`, `record` and `report` (see tools/drift/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tools.deployed.record import Record
from tools.drift.issues import LABEL, RUNBOOK, Issue, Links, Open, decide, gh_command, summary
from tools.drift.results import read_results, record, stacks_to_check, to_json, waiting
from tools.synthesized import read_stacks

CREATE_LABEL = ["gh", "label", "create", LABEL, "--force", "--color", "d93f0b", "--description", "Found by drift.yml"]


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
    listing = commands.add_parser("stacks", help="the stacks to plan, as JSON")
    listing.add_argument("outdir", type=Path)
    listing.add_argument("--waiting", type=Path, required=True, help="where the stacks not deployable yet get results")
    one = commands.add_parser("record", help="one plan's result, as JSON")
    one.add_argument("--stack", required=True)
    one.add_argument("--role-variable", required=True)
    one.add_argument("--configured", required=True, choices=["true", "false"])
    one.add_argument("--exit-code", required=True, help='terraform plan -detailed-exitcode\'s, or "" if it never ran')
    one.add_argument("--plan-output", type=Path, required=True, help="terraform show's output on drift, else plan's")
    one.add_argument("--deployed", type=Path, help="the stack's deployment record (tools/deployed), if one was read")
    one.add_argument("--synthesized", type=Path, help="main's synthesis of the stack (its cdk.tf.json)")
    commands.add_parser("report", help="open, update or close the issues").add_argument("results", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.command == "stacks":
        stacks = read_stacks(arguments.outdir)
        arguments.waiting.mkdir(parents=True, exist_ok=True)
        for result in waiting(stacks):
            (arguments.waiting / f"{result.stack}.json").write_text(to_json(result))
        print(json.dumps(stacks_to_check(stacks)))
    elif arguments.command == "record":
        output = arguments.plan_output.read_text() if arguments.plan_output.exists() else ""
        deployed, synthesized = (
            path.read_text() if path is not None and path.is_file() and path.stat().st_size else None
            for path in (arguments.deployed, arguments.synthesized)
        )
        result = record(
            arguments.stack,
            arguments.role_variable,
            arguments.configured == "true",
            arguments.exit_code,
            output,
            deployed=Record.from_json(deployed) if deployed else None,
            synthesized=json.loads(synthesized) if synthesized else None,
        )
        print(to_json(result))
    else:
        report(arguments.results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
