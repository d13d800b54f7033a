"""`main.py` on bad input: one line naming file and key, exit 2, no traceback, no output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.envs_copy import PRODUCTION, STAGING, envs_with


def run_main(envs: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py")],
        env={**os.environ, "LITTIL_ENVS_DIR": str(envs), "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()
    }


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"staging": STAGING.replace("api {\n", 'api {\n  ecs {\n    desired_count = "two"\n  }\n')},
            "staging.hcl: api.ecs.desired_count: expected a whole number",
            id="wrong-type",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("backup_retention_days    = 14", "backup_retention_days    = 3")},
            "production.hcl: database.backup_retention_days: production_grade requires at least 7 days",
            id="unsafe-production",
        ),
        pytest.param({"staging": "account_id = \n"}, "staging.hcl: HCL syntax error at line 1", id="syntax-error"),
    ],
)
@pytest.mark.same_for_any_environments  # the same named files, broken the same way
def test_bad_env_file_exits_with_one_clear_line_and_writes_nothing(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "registry").mkdir(parents=True)
    (outdir / "stacks" / "registry" / "cdk.tf.json").write_text('{"earlier": "synthesis"}')
    before = snapshot(outdir)

    result = run_main(envs_with(tmp_path, **files), outdir)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(outdir) == before


@pytest.mark.same_for_any_environments  # one named file, broken one way
def test_make_synth_keeps_validations_exit_code_and_the_earlier_output(tmp_path: Path) -> None:
    """`make synth` in a copy of the project: validation's status 2 is the recipe's, and cdktf.out/ stays."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "main.py", "cdktf.json", "lazy_provider.py"):
        (project / name).symlink_to(REPO / name)
    for name in ("config", "stacks", "modules", "tools", ".venv", "node_modules"):
        (project / name).symlink_to(REPO / name)
    (project / "cdktf.out").mkdir()
    (project / "cdktf.out" / "earlier").write_text("synthesis")
    envs = envs_with(tmp_path, staging="account_id = \n")
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.synced", "-o", "node_modules/.synced", "synth"],
        cwd=project,
        env={**os.environ, "LITTIL_ENVS_DIR": str(envs)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "staging.hcl: HCL syntax error at line 1" in result.stderr
    assert "synth] Error 2" in result.stderr  # the recipe's own status, as main.py returned it
    assert (project / "cdktf.out" / "earlier").read_text() == "synthesis"
    assert not (project / "cdktf.out.partial").exists()
