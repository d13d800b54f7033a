"""The nightly drift check's commands with `gh`, and the workflow that runs them (.github/workflows/drift.yml)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from tests.conftest import REPO
from tests.test_drift import CHANGES, NO_RECORD, SHOW, deployment, drifting
from tools.drift.results import Result, Status, record

# Neither the commands nor the workflow depend on the environments: the added-environment run leaves this file out.
pytestmark = pytest.mark.same_for_any_environments

WORKFLOW = REPO / ".github" / "workflows" / "drift.yml"


def stub(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text(script)
    (bin_dir / name).chmod(0o755)


def test_the_report_command_runs_gh_with_argument_lists_and_writes_the_summary(tmp_path: Path) -> None:
    results = tmp_path / "drift-result"
    results.mkdir()
    for name, result in {"api-staging": drifting("api-staging"), "registry": Result("registry", Status.CLEAN)}.items():
        (results / f"{name}.json").write_text(
            json.dumps({"stack": result.stack, "status": result.status.value, "lines": list(result.lines)})
        )
    calls = tmp_path / "calls.jsonl"
    listed = [{"number": 2, "title": "Drift: registry", "body": "old"}]
    stub(
        tmp_path / "bin",
        "gh",
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"if sys.argv[1:3] == ['issue', 'list']: print({json.dumps(listed)!r})\n",
    )
    step_summary = tmp_path / "summary.md"
    github = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42"}
    env = {**os.environ, **github, "GITHUB_STEP_SUMMARY": str(step_summary)}
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    command = [sys.executable, "-m", "tools.drift", "report", str(results)]
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    made = [json.loads(line) for line in calls.read_text().splitlines()]
    assert made[0] == [
        "issue",
        "list",
        "--label",
        "drift",
        "--state",
        "open",
        "--limit",
        "500",
        "--json",
        "number,title,body",
    ]
    assert made[1][:4] == ["label", "create", "drift", "--force"]  # before the first issue that carries it
    assert made[2][:5] == ["issue", "create", "--title", "Drift: api-staging", "--body"]
    assert "https://github.com/o/r/actions/runs/42" in made[2][5]
    assert "https://github.com/o/r/blob/main/docs/runbooks/answer-drift.md" in made[2][5]
    assert made[3][:3] == ["issue", "close", "2"]
    assert len(made) == 4
    assert "| `registry` | no changes | closes #2 |" in step_summary.read_text()


def workflow() -> dict[Any, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name") == name]
    return dict(found)


def test_the_drift_workflow_runs_nightly_on_main_and_waits_for_nobody() -> None:
    # Each job's permissions: tests/test_workflows.py, with every workflow's.
    drift = workflow()
    assert set(drift[True]) == {"schedule", "workflow_dispatch"}  # YAML 1.1 reads the key `on` as true
    ((cron,),) = [entry.values() for entry in drift[True]["schedule"]]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", cron), cron  # once a day
    jobs = drift["jobs"]
    assert jobs["stacks"]["if"] == "github.ref == 'refs/heads/main'"
    # No GitHub environment with required reviewers: nobody is there at night to approve.
    assert "environment" not in jobs["check"]
    # Every action at the commit ci.yml pins it to, so Dependabot updates both together.
    pinned = set(re.findall(r"uses: (\S+ # v\S+)", (WORKFLOW.parent / "ci.yml").read_text()))
    assert set(re.findall(r"uses: (\S+ # v\S+)", WORKFLOW.read_text())) <= pinned


def test_the_reporter_reads_every_plans_result_even_after_a_failed_plan() -> None:
    jobs = workflow()["jobs"]
    (upload,) = [s for s in jobs["check"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    (download,) = [s for s in jobs["report"]["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert upload["if"] == "${{ !cancelled() }}"
    assert fnmatch.fnmatch(
        upload["with"]["name"].replace("${{ matrix.stack }}", "api-staging"), download["with"]["pattern"]
    )
    assert download["with"]["merge-multiple"] is True
    # The stacks not deployable yet have their results from the listing job, in the same place and pattern.
    (waiting_upload,) = [s for s in jobs["stacks"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
                         and s["with"]["name"] != "cdktf-out"]  # fmt: skip
    assert fnmatch.fnmatch(waiting_upload["with"]["name"], download["with"]["pattern"])
    assert (
        '--waiting "$RUNNER_TEMP/drift-result"'
        in step(jobs["stacks"], "List the stacks that keep their state in a bucket")["run"]
    )
    assert waiting_upload["with"]["path"] == "${{ runner.temp }}/drift-result"
    assert step(jobs["report"], "Report")["run"] == f"python -m tools.drift report {download['with']['path']}"
    assert jobs["report"]["if"] == "${{ !cancelled() && needs.stacks.result == 'success' }}"


# main's synthesis of the stack, as the plan job downloads it, and a record of a deploy from before a merge.
STACK = {
    "terraform": {"backend": {"s3": {"bucket": "state-b", "key": "littil/staging/api.tfstate", "region": "eu-west-1"}}}
}
BEHIND = deployment({**STACK, "output": {"gone": {"value": "x"}}})


@pytest.mark.parametrize(
    ("plan_exit", "configured", "deployed", "expected"),
    [
        (0, "true", None, Result("api-staging", Status.CLEAN)),
        (2, "true", None, Result("api-staging", Status.DRIFT, (NO_RECORD, *CHANGES))),
        (2, "true", BEHIND, record("api-staging", "", True, "2", SHOW, deployed=BEHIND, synthesized=STACK)),
        (1, "true", None, Result("api-staging", Status.FAILED, ("Initializing the backend...", "Error: AccessDenied"))),
        (None, "false", None, record("api-staging", "LITTIL_PLAN_ROLE_STAGING", False, "", "")),
    ],
    ids=["clean", "drift-no-record", "merged-not-deployed", "failed", "not-configured"],
)
def test_the_plan_and_record_steps_turn_terraforms_exit_code_into_the_result(
    tmp_path: Path, plan_exit: int | None, configured: str, deployed: Any, expected: Result
) -> None:
    """The workflow's own scripts, with a stub Terraform and AWS CLI: plan read-only without the lock, then `show` and
    the deployment record on changes."""
    check = workflow()["jobs"]["check"]
    (tmp_path / "show.txt").write_text(SHOW)
    (tmp_path / "cdktf.out" / "stacks" / "api-staging").mkdir(parents=True)
    (tmp_path / "cdktf.out" / "stacks" / "api-staging" / "cdk.tf.json").write_text(json.dumps(STACK))
    if deployed is not None:
        (tmp_path / "in-the-bucket.json").write_text(deployed.to_json())
    stub(
        tmp_path / "bin",
        "terraform",
        '#!/bin/bash\necho "$*" >> "$RUNNER_TEMP/terraform-calls"\n'
        'case "$1" in\n  init) echo "Initializing the backend..." ;;\n'
        '  plan) [ "$PLAN_EXIT" = 1 ] && echo "Error: AccessDenied"; exit "$PLAN_EXIT" ;;\n'
        '  show) cat "$RUNNER_TEMP/show.txt" ;;\nesac\n',
    )
    # `aws s3 cp --only-show-errors <record> <file>`: the bucket holds the record, or nothing (exit 1, as the CLI).
    stub(
        tmp_path / "bin",
        "aws",
        '#!/bin/bash\necho "$*" >> "$RUNNER_TEMP/aws-calls"\ncp "$RUNNER_TEMP/in-the-bucket.json" "$5" 2>/dev/null\n',
    )
    output = tmp_path / "github-output"
    output.write_text("")
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output), "STACK": "api-staging"}
    env |= {"ROLE_VARIABLE": "LITTIL_PLAN_ROLE_STAGING", "PLAN_EXIT": str(plan_exit), "PYTHONPATH": str(REPO)}
    env["PATH"] = f"{tmp_path / 'bin'}:{Path(sys.executable).parent}:{env['PATH']}"
    exit_code = ""
    if plan_exit is not None:
        subprocess.run(
            ["bash", "-e", "-c", step(check, "terraform plan (read-only, no state lock)")["run"]],
            env=env,
            cwd=tmp_path,
            check=True,
        )
        (exit_code,) = re.findall(r"^exit-code=(\d)$", output.read_text(), re.M)
        calls = (tmp_path / "terraform-calls").read_text().splitlines()
        assert calls[1] == "plan -lock=false -input=false -no-color -detailed-exitcode -out=drift.tfplan"
        assert calls[2:] == (["show -no-color drift.tfplan"] if plan_exit == 2 else [])
    reading = step(check, "Read the stack's deployment record")
    if exit_code == "2":
        assert reading["if"] == "steps.plan.outputs.exit-code == '2'"
        subprocess.run(["bash", "-e", "-c", reading["run"]], env=env, cwd=tmp_path, check=True)
        aws_calls = (tmp_path / "aws-calls").read_text().splitlines()
        assert aws_calls == [
            f"s3 cp --only-show-errors s3://state-b/littil/staging/api.deployed.json {tmp_path}/deployed.json"
        ]
    env |= {"CONFIGURED": configured, "EXIT_CODE": exit_code}
    subprocess.run(["bash", "-e", "-c", step(check, "Record the result")["run"]], env=env, cwd=tmp_path, check=True)
    written = json.loads((tmp_path / "drift-result" / "api-staging.json").read_text())
    assert Result(written["stack"], Status(written["status"]), tuple(written["lines"])) == expected
