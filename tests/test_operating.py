"""The operator's commands: `make deploy STACK=... | ENV=...` and `make output`, run through the real CLI.

Terraform itself is replaced by a stub that records what the CDKTF CLI asked of it
(no AWS here): reaching `terraform init` proves the CLI let the command through.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.model import AppConfig
from tests.conftest import REPO
from tools.stacks import check_destroy, deploy_order

FAKE_TERRAFORM = """#!/bin/bash
echo "$(basename "$PWD") $*" >> "$STUB_CALLS"
case "$1" in
  version|-version|-v) echo '{"terraform_version":"1.11.4","platform":"linux_amd64"}'; exit 0 ;;
  init)
    echo "$TF_PLUGIN_CACHE_DIR" > "$STUB_CALLS.cache-dir"
    cp "$PWD/.terraform.lock.hcl" "$STUB_CALLS.lock-seen" 2> /dev/null || true
    [ -z "$STUB_LOCK" ] || echo "$STUB_LOCK" > .terraform.lock.hcl ;;
esac
echo "stub terraform: $*" >&2
exit 1
"""


def git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True)


@pytest.fixture(scope="module")
def project(synthesized: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's make/CLI files around this session's synthesis, installed tools linked in: main, committed."""
    root = tmp_path_factory.mktemp("operator") / "project"
    root.mkdir()
    for name in ("Makefile", "cdktf.json", "package.json", ".npmrc", ".gitignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "tools", root / "tools", ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    for name in (".venv", "node_modules", ".tools"):
        (root / name).symlink_to(REPO / name)
    shutil.copytree(synthesized, root / "cdktf.out")
    bin_dir = root.parent / "stub-bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    git(root, "init", "--quiet", "--initial-branch", "main")
    (root / ".git" / "info" / "exclude").write_text(".venv\nnode_modules\n.tools\n")  # links, not directories
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "main")
    return root


def run(project: Path, command: list[str], **stub: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`command` in `project` with stub Terraform; returns the result and Terraform's calls (no version checks)."""
    calls = project.parent / "terraform-calls"
    calls.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{project.parent / 'stub-bin'}:{os.environ['PATH']}",
        "STUB_CALLS": str(calls),
        "HOME": str(project.parent / "home"),
        "CI": "1",
        "PWD": str(project),  # .npmrc names the preload by ${PWD}
        **stub,
    }
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return result, [call for call in recorded if " version" not in call and not call.endswith(" -v")]


def make(project: Path, *arguments: str, **stub: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`make -o synth ...`: synth is what this session already did."""
    return run(project, ["make", "--no-print-directory", "-o", "synth", *arguments], **stub)


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
def test_deploying_one_stack_whose_dependencies_are_deployed_gets_past_the_cli_dependency_check(
    project: Path,
) -> None:
    result, calls = make(project, "deploy", "STACK=api-staging")
    output = result.stdout + result.stderr
    assert "dependencies are not included" not in output
    # The CLI went on to Terraform, in the stack's own directory (the stub then fails the init).
    assert calls[:1] == ["api-staging init"], output
    assert result.returncode != 0


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
def test_the_cli_alone_would_have_refused_it(project: Path) -> None:
    """Without the Makefile's flag the same deploy stops before Terraform: what the flag is for."""
    result, calls = run(project, ["npx", "--no-install", "cdktf", "deploy", "--skip-synth", "api-staging"])
    assert "The following dependencies are not included in the stacks to run" in result.stdout + result.stderr
    assert calls == []


def test_deploy_needs_a_stack_or_an_environment(project: Path) -> None:
    result, calls = make(project, "deploy")
    assert result.returncode == 2
    assert "STACK or ENV is required" in result.stdout + result.stderr
    assert calls == []


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
def test_deploying_an_environment_starts_with_its_state_bucket(project: Path) -> None:
    result, calls = make(project, "deploy", "ENV=staging")
    assert "== state-staging" in result.stdout
    # The first stack's deploy fails at the stub, and nothing after it is attempted.
    assert calls == ["state-staging init"], result.stdout + result.stderr
    assert "== certificate-staging" not in result.stdout


def test_an_unknown_environment_is_one_clear_line(project: Path, config: AppConfig) -> None:
    result, calls = make(project, "deploy", "ENV=nosuchenv")
    assert result.returncode == 2
    known = ", ".join(sorted(env.name for env in config.environments))
    assert f"no stacks for environment 'nosuchenv'; environments: {known}" in result.stderr
    assert calls == []


def test_environment_deploy_order_puts_state_first_and_every_stack_after_what_it_reads(synthesized: Path) -> None:
    assert deploy_order(synthesized, "shared") == ["state-shared", "alerts-shared", "backup-vaults-shared", "registry"]
    assert deploy_order(synthesized, "staging") == [
        "state-staging",
        "alerts-staging",
        "certificate-staging",
        "network-staging",
        "database-staging",
        "api-staging",
        "maintenance-staging",
    ]
    production = deploy_order(synthesized, "production")
    assert production[0] == "state-production"
    assert production.index("network-production") < production.index("database-production")
    assert production.index("database-production") < production.index("api-production")
    assert production.index("database-production") < production.index("maintenance-production")
    assert production.index("alerts-production") < production.index("database-production")
    assert set(production) == {
        f"{component}-production"
        for component in ("state", "alerts", "certificate", "network", "database", "api", "maintenance")
    }


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
def test_terraform_gets_a_plugin_cache_outside_the_synthesized_folders_and_its_lock_file_comes_back(
    project: Path,
) -> None:
    """`make output STACK=...` runs Terraform for that stack alone, with one plugin cache and one lock file."""
    lock = project / "terraform.lock.hcl"
    lock.unlink(missing_ok=True)
    result, calls = make(project, "output", "STACK=database-staging", STUB_LOCK='provider "registry.terraform.io/x" {}')
    assert calls[:1] == ["database-staging init"], result.stdout + result.stderr
    # One cache per machine, outside cdktf.out/ (which every synth recreates), and it exists.
    cache = Path((project.parent / "terraform-calls.cache-dir").read_text().strip())
    assert cache == project.parent / "home" / ".terraform.d" / "plugin-cache"
    assert cache.is_dir()
    # The lock file the first init wrote is the repository's now, to be committed.
    assert lock.read_text() == 'provider "registry.terraform.io/x" {}\n'
    assert "terraform.lock.hcl updated from database-staging's terraform init: commit it." in result.stdout
    # The next synthesis hands it to every stack's init.
    subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-m", "tools.provider_lock", "install", "cdktf.out"],
        cwd=project,
        check=True,
    )
    make(project, "output", "STACK=network-staging")
    assert (project.parent / "terraform-calls.lock-seen").read_text() == lock.read_text()
    stacks = sorted((project / "cdktf.out" / "stacks").iterdir())
    assert {stack.name: (stack / ".terraform.lock.hcl").read_text() for stack in stacks} == dict.fromkeys(
        (stack.name for stack in stacks), lock.read_text()
    )
    assert "api-staging" in {stack.name for stack in stacks}
    # The project as committed again (no lock file anywhere): the deploy guard's tests need a clean tree.
    for path in (lock, *(stack / ".terraform.lock.hcl" for stack in stacks)):
        path.unlink()


@pytest.fixture
def unreviewed(project: Path) -> Iterator[Path]:
    """The project with an env file nobody committed; afterwards as it was."""
    extra = project / "envs" / "acceptance.hcl"
    extra.parent.mkdir(exist_ok=True)
    extra.write_text('account_id = "333333333333"\n')
    yield extra
    shutil.rmtree(extra.parent)


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
@pytest.mark.parametrize("goal", ["deploy", "destroy"])
def test_deploy_and_destroy_refuse_an_uncommitted_change_before_terraform_starts(
    project: Path, unreviewed: Path, goal: str
) -> None:
    result, calls = make(project, goal, "STACK=maintenance-staging")
    assert result.returncode == 2
    assert (
        f"make {goal}: refused before Terraform starts: the working tree has changes nobody reviewed" in result.stderr
    )
    assert "envs/acceptance.hcl" in result.stderr
    assert calls == []


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
def test_a_reason_lets_a_deploy_of_an_uncommitted_change_go_on_to_terraform(project: Path, unreviewed: Path) -> None:
    result, calls = make(project, "deploy", "STACK=maintenance-staging", "REASON=incident 12: the API is down")
    assert "going ahead although the working tree has changes nobody reviewed (envs/acceptance.hcl)" in result.stdout
    assert "reason: incident 12: the API is down" in result.stdout
    assert calls[:1] == ["maintenance-staging init"], result.stdout + result.stderr


@pytest.mark.same_for_any_environments  # the same commands on the same named stacks
def test_destroying_a_stack_others_read_prints_the_command_that_destroys_them_together(project: Path) -> None:
    result, calls = make(project, "destroy", "STACK=database-staging")
    assert result.returncode == 2
    assert 'make destroy STACK="api-staging database-staging"' in result.stderr
    assert "--ignore-missing-stack-dependencies" not in result.stdout + result.stderr
    assert calls == []
    # Together, they get past the check (and the CLI's own) to Terraform.
    result, calls = make(project, "destroy", "STACK=api-staging database-staging")
    assert "read(s)" not in result.stderr
    assert calls[:1] in (["api-staging init"], ["database-staging init"]), result.stdout + result.stderr


def test_every_stack_is_destroyed_alone_or_with_the_command_that_takes_its_readers_along(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((synthesized / "manifest.json").read_text())["stacks"]
    for stack in manifest:
        read_by = [name for name, entry in manifest.items() if stack in entry["dependencies"]]
        if check_destroy(synthesized, [stack]) == 0:
            assert read_by == [], stack
            continue
        (command,) = re.findall(r'make destroy STACK="([^"]+)"', capsys.readouterr().err)
        together = command.split()
        assert together[-1] == stack
        assert set(read_by) <= set(together)
        assert check_destroy(synthesized, together) == 0, f"{stack}: {command}"


def test_maintenance_switched_on_is_not_destroyed_before_it_is_switched_off(
    synthesized: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = tmp_path / "out"
    shutil.copytree(synthesized, outdir, ignore=shutil.ignore_patterns(".terraform*"))
    path = outdir / "stacks" / "maintenance-staging" / "cdk.tf.json"
    assert check_destroy(outdir, ["maintenance-staging"]) == 0
    stack = json.loads(path.read_text())
    stack.setdefault("resource", {})["aws_ecs_service"] = {"service": {"name": "LITTIL-NL-staging-maintenance"}}
    path.write_text(json.dumps(stack))
    assert check_destroy(outdir, ["maintenance-staging"]) == 2
    assert "Switch it off first (maintenance { enabled = false }, merged, deployed" in capsys.readouterr().err
