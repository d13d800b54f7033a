"""README "Adding an environment": add envs/<name>.hcl, `make diagram`, and `make test` stays green.

The whole suite runs again against a copy of envs/ with one more environment, written the
README's way, and a picture redrawn for it: a test that hard-codes the environments, their
stacks or their counts, or an allow-list entry written per environment, fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, envs_with_added

# Not about environments at all: the Markdown docs' commands (and this test itself).
UNRELATED = [
    "tests/test_commands.py::test_every_aws_command_in_the_docs_is_one_the_aws_cli_accepts",
    "tests/test_adding_an_environment.py",
]


def test_an_added_environment_leaves_the_suite_green(tmp_path: Path) -> None:
    envs = envs_with_added(tmp_path, "acceptance", "333333333333")
    picture = tmp_path / "architecture.svg"
    env = {
        **os.environ,
        "LITTIL_ENVS_DIR": str(envs),
        "LITTIL_DIAGRAM": str(picture),
        "CDKTF_OUTDIR": str(tmp_path / "cdktf.out"),
    }
    python = sys.executable

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)

    # make synth, then make diagram (the README's steps), into the scratch directory.
    synthesized = run(python, "main.py")
    assert synthesized.returncode == 0, synthesized.stderr[-2000:]
    assert (tmp_path / "cdktf.out" / "stacks" / "api-acceptance" / "cdk.tf.json").is_file()
    drawn = run(python, "-m", "tools.diagram", str(tmp_path / "cdktf.out"))
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert "api-acceptance" in picture.read_text()

    deselected = [argument for test in UNRELATED for argument in ("--deselect", test)]
    suite = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *deselected)
    assert suite.returncode == 0, suite.stdout[-4000:]
    assert " passed" in suite.stdout.splitlines()[-1]
