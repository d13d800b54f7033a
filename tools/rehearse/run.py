"""The rehearsal's moving parts: configurations, syntheses, applies and the no-change check."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from tools.rehearse.workspace import (
    COMPATIBILITY_EDITS,
    Terraform,
    TerraformError,
    Workspace,
    cli_config,
    find_mirror,
    mirror_versions,
    provider_version,
)
from tools.stacks import deploy_order

# Resource types whose first apply the emulator does not fully record (GAPS.md): a second
# apply converges, after which the plan must be empty.
CONVERGES_AFTER_ONE_MORE_APPLY = {
    "aws_ecs_service",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_iam_policy",
    "aws_iam_role_policy",
}


# Plans of one environment run this many at a time (they mostly wait on the emulator).
PARALLEL_PLANS = 3


class RehearsalFailure(AssertionError):
    """A procedure did not end where the README says it does."""


def fill_placeholder_accounts(config: AppConfig) -> AppConfig:
    """The config an operator deploys: every placeholder account id replaced by a real-looking one."""
    replacements = {
        env.name: f"{100000000000 + 11 * (index + 1):012d}" for index, env in enumerate(config.placeholder_environments)
    }
    shared = config.shared
    if shared.name in replacements:
        shared = shared.model_copy(update={"account_id": replacements[shared.name]})
    workloads = tuple(
        env.model_copy(update={"account_id": replacements[env.name]}) if env.name in replacements else env
        for env in config.workloads
    )
    filled = AppConfig(shared=shared, workloads=workloads)
    assert not filled.placeholder_environments
    return filled


def with_workload(config: AppConfig, env: WorkloadEnvironment) -> AppConfig:
    """`config` with one workload environment replaced (the operator edited envs/<env>.hcl)."""
    return config.model_copy(
        update={"workloads": tuple(env if existing.name == env.name else existing for existing in config.workloads)}
    )


def client(rehearsal: Rehearsal, env: str, service: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        region_name="eu-west-1",
        endpoint_url=rehearsal.workspace.endpoints[env],
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )


def aws_cli(rehearsal: Rehearsal, env: str, command: str) -> str:
    """Run a README or output `aws ...` line, as pasted, against the environment's emulator."""
    arguments = shlex.split(command)
    if arguments[0] != "aws":
        raise RehearsalFailure(f"not an aws command: {command}")
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *arguments[1:], "--endpoint-url", rehearsal.workspace.endpoints[env]],
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RehearsalFailure(f"`{command}` failed: {result.stderr.strip()}")
    return result.stdout


def replace_shared(config: AppConfig, shared: SharedEnvironment) -> AppConfig:
    return config.model_copy(update={"shared": shared})


def env_config(config: AppConfig, name: str) -> WorkloadEnvironment | SharedEnvironment:
    return config.shared if name == config.shared.name else config.workload(name)


def fresh_synth(rehearsal: Rehearsal, config: AppConfig, label: str, stacks: list[str]) -> Path:
    """`make synth`, then the named stacks as they now are in cdktf.out (their .terraform gone)."""
    outdir = rehearsal.synth(config, label)
    for stack in stacks:
        shutil.rmtree(rehearsal.workspace.stack_dir(stack) / ".terraform", ignore_errors=True)
        (rehearsal.workspace.stack_dir(stack) / ".terraform.lock.hcl").unlink(missing_ok=True)
    rehearsal.workspace.load(outdir, stacks)
    return outdir


def synthesize(config: AppConfig, outdir: Path) -> Path:
    """`make synth` for `config`, in this process (the provider import is paid once)."""
    from stacks.app import build_app

    build_app(config, outdir=str(outdir)).synth()
    return outdir


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Rehearsal:
    """Emulator endpoints, a workspace, Terraform, and what happened (for the summary)."""

    workspace: Workspace
    terraform: Terraform
    scratch: Path
    timings: dict[str, float] = field(default_factory=dict)
    converged: list[str] = field(default_factory=list)
    # How each `terraform init` came by the AWS provider: linked from the plugin cache, or installed.
    provider_inits: dict[str, int] = field(default_factory=lambda: {"cache": 0, "installed": 0})

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        say(f"-- {name} ...")
        yield
        self.timings[name] = time.monotonic() - started
        say(f"ok: {name} ({self.timings[name]:.0f} s)")

    def synth(self, config: AppConfig, label: str) -> Path:
        return synthesize(config, self.scratch / f"synth-{label}")

    def tf(self, stack: str, *arguments: str, ok: tuple[int, ...] = (0,)) -> str:
        return self.terraform.run(self.workspace.stack_dir(stack), *arguments, ok=ok)

    def init(self, stack: str, *extra: str) -> None:
        output = self.tf(stack, "init", "-input=false", "-no-color", *extra)
        if "- Installed hashicorp/aws" in output:
            self.provider_inits["installed"] += 1
        elif "from the shared cache directory" in output:
            self.provider_inits["cache"] += 1

    def apply(self, stack: str, *extra: str) -> None:
        if not (self.workspace.stack_dir(stack) / ".terraform").is_dir():
            self.init(stack)
        self.tf(stack, "apply", "-auto-approve", "-input=false", "-no-color", *extra)

    def destroy(self, stack: str) -> None:
        self.tf(stack, "destroy", "-auto-approve", "-input=false", "-no-color")

    def output(self, stack: str, name: str) -> str:
        return self.tf(stack, "output", "-raw", "-no-color", name).strip()

    def changes(self, stack: str) -> list[str]:
        """Addresses of what a plan would change now (empty: nothing to do)."""
        plan_file = self.workspace.stack_dir(stack) / "rehearsal.tfplan"
        plan = ("plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode", f"-out={plan_file.name}")
        try:
            if "No changes." in self.tf(stack, *plan, ok=(0, 2)):
                return []
            shown = json.loads(self.tf(stack, "show", "-json", "-no-color", plan_file.name))
        finally:
            plan_file.unlink(missing_ok=True)
        changed = [
            change["address"]
            for change in shown.get("resource_changes", [])
            if change["change"]["actions"] not in (["no-op"], ["read"])
        ]
        outputs = [
            f"output.{name}"
            for name, change in shown.get("output_changes", {}).items()
            if change["actions"] != ["no-op"]
        ]
        return changed + outputs

    def assert_no_changes(self, stacks: list[str], *, allow_convergence: bool = False) -> None:
        """Every stack plans empty; with `allow_convergence`, listed emulator gaps may need one more apply.

        The plans only read, so they run side by side; converging applies run one at a time.
        """
        with ThreadPoolExecutor(max_workers=PARALLEL_PLANS) as pool:
            planned = dict(zip(stacks, pool.map(self.changes, stacks), strict=True))
        for stack, first in planned.items():
            changed = first
            if (
                first
                and allow_convergence
                and all(address.split(".")[-2] in CONVERGES_AFTER_ONE_MORE_APPLY for address in first)
            ):
                self.converged.append(f"{stack}: {', '.join(first)}")
                self.apply(stack)
                changed = self.changes(stack)
            if changed:
                raise RehearsalFailure(f"{stack}: the plan after apply is not empty: {', '.join(changed)}")

    def deploy_environment(self, outdir: Path, env: str) -> list[str]:
        """`make deploy ENV=<env>`: each stack in the order tools.stacks gives, then re-plan all of them."""
        order = deploy_order(outdir, env)
        for stack in order:
            self.apply(stack)
        self.assert_no_changes(order, allow_convergence=True)
        return order


def choose_provider(
    pinned: str, terraform_config_dir: Path, plugin_cache: Path, *, pinned_only: bool = False
) -> tuple[str, Path | None, bool]:
    """(version, mirror, compatibility edits?): the pinned provider if it can be had, else the mirror's newest.

    `pinned_only` (CI on GitHub, where the registry answers) refuses the fallback: the rehearsal
    then proves the provider the stacks pin, without compatibility edits.
    """
    mirror = find_mirror()
    if mirror is not None and pinned in mirror_versions(mirror):
        return pinned, mirror, False
    probe = terraform_config_dir / "probe"
    probe.mkdir(parents=True, exist_ok=True)
    (probe / "main.tf.json").write_text(
        json.dumps({"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": pinned}}}})
    )
    config = cli_config(terraform_config_dir / "direct.tfrc", mirror=None, plugin_cache=plugin_cache)
    try:
        subprocess.run(
            ["terraform", "init", "-input=false", "-no-color", "-backend=false"],
            cwd=probe,
            env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TF_CLI_CONFIG_FILE": str(config), "HOME": str(Path.home())},
            capture_output=True,
            timeout=120,
            check=True,
        )
        return pinned, None, False
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        if pinned_only:
            raise RehearsalFailure(
                f"AWS provider {pinned} (the pinned version) cannot be downloaded, and --pinned-provider"
                " refuses a mirror's other version"
            ) from None
        if mirror is None:
            raise RehearsalFailure(
                f"AWS provider {pinned} cannot be downloaded and no local mirror holds one"
                " (set LITTIL_PROVIDER_MIRROR to an unpacked filesystem mirror)"
            ) from None
        return mirror_versions(mirror)[-1], mirror, True


def describe_provider(version: str, pinned: str, edits: bool) -> str:
    if not edits:
        return f"AWS provider {version} (the pinned version)"
    listed = "; ".join(edit.why for edit in COMPATIBILITY_EDITS)
    return f"AWS provider {version} from the local mirror (pinned {pinned} not available offline); edits: {listed}"


def pinned_version(outdir: Path) -> str:
    stack = json.loads(next(outdir.glob("stacks/*/cdk.tf.json")).read_text())
    return provider_version(stack)


__all__ = ["Rehearsal", "RehearsalFailure", "TerraformError"]
