"""README "Adding an environment": add envs/<name>.hcl, `make diagram`, and `make test` stays green.

The suite runs again against a copy of envs/ with one more environment, written the README's
way, and a picture redrawn for it: a test that hard-codes the environments, their stacks or
their counts fails here. What cannot depend on the environments is left out (UNRELATED, each
with its reason).

That run takes about as long as the outer suite, so tests/conftest.py starts it in the
background at collection (`start`) and the test below, run last, only waits and reads.
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

from tests.conftest import REPO, envs_with_added, stop_process_group

# What the inner run leaves out, each for the reason given.
UNRELATED = [
    # Not about environments: the Markdown docs' commands, this test itself, and the construct tests (each
    # builds its construct from its own inputs, never from envs/: tests/modules/alone.py).
    "tests/test_commands.py::test_every_aws_command_in_the_docs_is_one_the_aws_cli_accepts",
    "tests/test_adding_an_environment.py",
    "tests/modules",
    # The real CLI's run of main.py (its listing, and the eager-import reference): the outer session
    # has one, and the inner run starts from `python main.py` on the added environment itself.
    "tests/test_cli.py",
    "tests/test_lazy_provider.py::test_the_app_synthesizes_byte_identically_without_the_eager_imports",
    # Checkov: the outer scan already covers a README-written new environment's stacks (checkov_findings),
    # which is what catches an allow-list entry written per environment.
    "tests/test_checkov.py",
    # The Makefile driving the real CLI for named stacks (api-staging, ENV=staging): the same commands on the
    # same stacks whichever environments exist besides.
    "tests/test_operating.py::test_deploying_one_stack_whose_dependencies_are_deployed_gets_past_the_cli_dependency_check",
    "tests/test_operating.py::test_the_cli_alone_would_have_refused_it",
    "tests/test_operating.py::test_output_of_one_stack_goes_to_terraform_for_that_stack",
    "tests/test_operating.py::test_deploying_an_environment_starts_with_its_state_bucket",
]


@dataclass(frozen=True)
class Steps:
    """What each README step printed, in order; a failed step ends the run."""

    scratch: Path
    steps: list[tuple[str, subprocess.CompletedProcess[str]]]


RUNS: list[Future[Steps]] = []
SCRATCH: list[Path] = []
# The step running now, so that a session ending early does not wait for it.
RUNNING: list[subprocess.Popen[str]] = []


def start() -> None:
    """Begin the README's steps for an added environment on a background thread (its commands are subprocesses)."""
    scratch = Path(tempfile.mkdtemp(prefix="littil-added-environment-"))
    SCRATCH.append(scratch)
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


def readme_steps(scratch: Path) -> Steps:
    envs = envs_with_added(scratch, "acceptance", "333333333333")
    env = {
        **os.environ,
        "LITTIL_ENVS_DIR": str(envs),
        "LITTIL_DIAGRAM": str(scratch / "architecture.svg"),
        "CDKTF_OUTDIR": str(scratch / "cdktf.out"),
    }
    python = sys.executable
    deselected = [argument for test in UNRELATED for argument in ("--deselect", test)]
    commands = {
        # make synth, then make diagram, then make test (the README's steps), into the scratch directory.
        "synth": [python, "main.py"],
        "diagram": [python, "-m", "tools.diagram", str(scratch / "cdktf.out")],
        "suite": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *deselected],
    }
    steps: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    for name, command in commands.items():
        with subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # stop() ends the step with everything it started
        ) as process:
            RUNNING[:] = [process]
            stdout, stderr = process.communicate(timeout=900)
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        steps.append((name, result))
        if result.returncode != 0:
            break
    RUNNING.clear()
    return Steps(scratch, steps)


def test_an_added_environment_leaves_the_suite_green() -> None:
    run = RUNS[0].result(timeout=900)
    results = dict(run.steps)
    assert list(results) == ["synth", "diagram", "suite"], [(name, r.stderr[-2000:]) for name, r in run.steps]
    assert (run.scratch / "cdktf.out" / "stacks" / "api-acceptance" / "cdk.tf.json").is_file()
    assert "api-acceptance" in (run.scratch / "architecture.svg").read_text()
    suite = results["suite"]
    assert suite.returncode == 0, suite.stdout[-4000:]
    assert " passed" in suite.stdout.splitlines()[-1]


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
