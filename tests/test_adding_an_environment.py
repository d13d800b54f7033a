"""docs/runbooks/add-environment.md: add envs/<name>.hcl, `make diagram`, and `make test` stays green.

The suite runs again against a copy of envs/ with one more environment, written the runbook's
way, and a picture redrawn for it: a test that hard-codes the environments, their stacks or
their counts fails here. What cannot depend on the environments is marked
`same_for_any_environments` (each with its reason) and left out.

The run's synthesis is the real CDKTF CLI's, with the provider imported eagerly: the tests marked
`reads_cli_run` (the CLI's listing, the lazy loader's byte-for-byte reference) read it in the inner
suite, and the outer session leaves them to it. That run takes about as long as the outer suite, so
tests/conftest.py starts it in the background at collection (`start`) and the test below, run last,
only waits and reads.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import (
    CLI_LISTING,
    CLI_RUN_VARIABLE,
    ENVS_DIR,
    REFERENCE_SYNTHESES,
    REPO,
    cli_list_command,
    envs_with_added,
    stop_process_group,
)

# This test itself.
pytestmark = pytest.mark.same_for_any_environments


@dataclass(frozen=True)
class Steps:
    """What each of the runbook's steps printed, in order; a failed step ends the run."""

    scratch: Path
    steps: list[tuple[str, subprocess.CompletedProcess[str]]]


RUNS: list[Future[Steps]] = []
SCRATCH: list[Path] = []
# The step running now, so that a session ending early does not wait for it.
RUNNING: list[subprocess.Popen[str]] = []
# The outer session's tests that the inner suite runs instead (`reads_cli_run`), by node id.
HANDED_OVER: list[str] = []


def start(handed_over: list[str]) -> None:
    """Begin the runbook's steps for an added environment on a background thread (its commands are subprocesses)."""
    scratch = Path(tempfile.mkdtemp(prefix="littil-added-environment-"))
    SCRATCH.append(scratch)
    REFERENCE_SYNTHESES.append(scratch / "cdktf.out")
    HANDED_OVER[:] = handed_over
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="added-environment")
    RUNS.append(executor.submit(readme_steps, scratch))
    executor.shutdown(wait=False)


def stop() -> None:
    """At the session's end: stop a run nobody waited for (the outer suite stopped early)."""
    for process in RUNNING:
        stop_process_group(process)
    for run in RUNS:
        run.cancel()
    for scratch in SCRATCH:
        shutil.rmtree(scratch, ignore_errors=True)


# The environment the inner run adds: the runbook's example, unless the repository already has it; its
# account a placeholder (like the runbook's) that no environment uses yet.
ADDED = next(name for name in ("acceptance", "qa", "demo") if not (ENVS_DIR / f"{name}.hcl").exists())
ADDED_ACCOUNT = next(
    digit * 12 for digit in "3456789" if not any(digit * 12 in path.read_text() for path in ENVS_DIR.glob("*.hcl"))
)


def readme_steps(scratch: Path) -> Steps:
    envs = envs_with_added(scratch, ADDED, ADDED_ACCOUNT)
    outdir = scratch / "cdktf.out"
    env = {
        **os.environ,
        "LITTIL_ENVS_DIR": str(envs),
        "LITTIL_DIAGRAM": str(scratch / "architecture.svg"),
        CLI_RUN_VARIABLE: str(scratch),
    }
    python = sys.executable
    # make synth (through the real CLI, which also lists the stacks), then make diagram, then make test (the
    # runbook's steps), into the scratch directory: (command, its variables, what it printed goes to a file).
    cli, cli_env = cli_list_command(outdir, envs)
    commands: dict[str, tuple[list[str], dict[str, str], Path | None]] = {
        "synth": (cli, cli_env, scratch / CLI_LISTING),
        "diagram": ([python, "-m", "tools.diagram", str(outdir)], env, None),
        "suite": (
            [python, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-x", "-m", "not same_for_any_environments"],
            env,
            None,
        ),
    }
    steps: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    for name, (command, variables, printed) in commands.items():
        with subprocess.Popen(
            command,
            cwd=REPO,
            env=variables,
            stdout=subprocess.PIPE,
            # The CLI's warnings interleave with its listing, as an operator sees them.
            stderr=subprocess.STDOUT if printed else subprocess.PIPE,
            text=True,
            start_new_session=True,  # stop() ends the step with everything it started
        ) as process:
            RUNNING[:] = [process]
            stdout, stderr = process.communicate(timeout=900)
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr or "")
        steps.append((name, result))
        if printed:
            printed.write_text(stdout)
        if result.returncode != 0:
            break
    RUNNING.clear()
    return Steps(scratch, steps)


def test_an_added_environment_leaves_the_suite_green() -> None:
    run = RUNS[0].result(timeout=900)
    results = dict(run.steps)
    assert list(results) == ["synth", "diagram", "suite"], [
        (name, (r.stdout + r.stderr)[-2000:]) for name, r in run.steps
    ]
    assert (run.scratch / "cdktf.out" / "stacks" / f"api-{ADDED}" / "cdk.tf.json").is_file()
    assert f"api-{ADDED}" in (run.scratch / "architecture.svg").read_text()
    suite = results["suite"]
    assert suite.returncode == 0, suite.stdout[-4000:]
    assert " passed" in suite.stdout.splitlines()[-1]
    # What this session left to it ran there, and passed.
    for nodeid in HANDED_OVER:
        assert f"{nodeid} PASSED" in suite.stdout, nodeid


# The session fixtures that carry envs/ (tests/conftest.py).
ENVIRONMENT_FIXTURES = {"config", "synthesized", "stacks", "toggled", "opt_ins", "new_environment"}


def test_construct_tests_never_read_the_environments() -> None:
    """Why the inner run may leave tests/modules out: no construct test takes a fixture or module reading envs/."""
    readers = []
    files = sorted((REPO / "tests" / "modules").rglob("*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                taken = {argument.arg for argument in node.args.args} & ENVIRONMENT_FIXTURES
                readers += [f"{path.relative_to(REPO)}: {node.name}({name})" for name in sorted(taken)]
            elif isinstance(node, ast.ImportFrom) and node.module in {"tests.conftest", "config.loader"}:
                readers.append(f"{path.relative_to(REPO)}: from {node.module} import ...")
    assert len(files) > 20
    assert readers == []
