"""The rehearsal's moving parts: configurations, syntheses, applies and the no-change check."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from tools.rehearse.workspace import (
    Terraform,
    TerraformError,
    Workspace,
)
from tools.stacks import deploy_order

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


# When the rehearsal last printed, and the steps running now: a heartbeat fills a silence (`heartbeat`).
SAID = {"last": time.monotonic()}
RUNNING: dict[str, float] = {}
QUIET_SECONDS = 50


_SAYING = threading.Lock()  # threads print whole lines


def say(message: str) -> None:
    with _SAYING:
        SAID["last"] = time.monotonic()
        print(message, flush=True)


def heartbeat(stop: threading.Event) -> None:
    """Every QUIET_SECONDS without a line, a line naming what runs and since when: nothing stays silent a minute."""
    while not stop.wait(5):
        if time.monotonic() - SAID["last"] >= QUIET_SECONDS and RUNNING:
            now = time.monotonic()
            say("   still working: " + "; ".join(f"{name} ({now - t:.0f} s)" for name, t in sorted(RUNNING.items())))


@dataclass
class Rehearsal:
    """Emulator endpoints, a workspace, Terraform, and what happened (for the summary)."""

    workspace: Workspace
    terraform: Terraform
    scratch: Path
    timings: dict[str, float] = field(default_factory=dict)
    # How each `terraform init` came by the AWS provider: linked from the plugin cache, or installed.
    provider_inits: dict[str, int] = field(default_factory=lambda: {"cache": 0, "installed": 0})

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        say(f"-- {name} ...")
        RUNNING[name] = started
        try:
            yield
        finally:
            del RUNNING[name]
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
        started = time.monotonic()
        if not (self.workspace.stack_dir(stack) / ".terraform").is_dir():
            self.init(stack)
        self.tf(stack, "apply", "-auto-approve", "-input=false", "-no-color", *extra)
        say(f"   {stack}: applied{' ' + ' '.join(extra) if extra else ''} ({time.monotonic() - started:.0f} s)")

    def destroy(self, stack: str) -> None:
        started = time.monotonic()
        self.tf(stack, "destroy", "-auto-approve", "-input=false", "-no-color")
        say(f"   {stack}: destroyed ({time.monotonic() - started:.0f} s)")

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

    def assert_no_changes(self, stacks: list[str]) -> None:
        """Every stack plans empty right after its apply. The plans only read, so they run side by side."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=PARALLEL_PLANS) as pool:
            planned = dict(zip(stacks, pool.map(self.changes, stacks), strict=True))
        empty = [stack for stack, changed in planned.items() if not changed]
        say(f"   planned {', '.join(stacks)}: {len(empty)} of {len(stacks)} empty ({time.monotonic() - started:.0f} s)")
        for stack, changed in planned.items():
            if changed:
                raise RehearsalFailure(f"{stack}: the plan after apply is not empty: {', '.join(changed)}")

    def deploy_environment(self, outdir: Path, env: str) -> list[str]:
        """`make deploy ENV=<env>`, then re-plan every stack.

        `make deploy` goes one stack at a time in tools.stacks' order; here each stack whose dependencies are
        applied goes at once, side by side (`waves`): the same constraint, proven the same way, in less time.
        """
        order = deploy_order(outdir, env)
        with ThreadPoolExecutor(max_workers=PARALLEL_PLANS) as pool:
            for wave in waves(outdir, order):
                list(pool.map(self.apply, wave))
        self.assert_no_changes(order)
        return order


def waves(outdir: Path, order: list[str]) -> list[list[str]]:
    """`order` in groups: each stack after every stack it reads (CDKTF's manifest); `state-<env>` alone first."""
    manifest = json.loads((outdir / "manifest.json").read_text())["stacks"]
    done: set[str] = set()
    groups: list[list[str]] = []
    pending = list(order)
    while pending:
        ready = [s for s in pending if set(manifest[s]["dependencies"]) & set(order) <= done]
        if pending[0].startswith("state-"):
            ready = [pending[0]]  # every other stack keeps its state in its bucket
        groups.append(ready)
        done |= set(ready)
        pending = [s for s in pending if s not in done]
    return groups


__all__ = ["Rehearsal", "RehearsalFailure", "TerraformError"]
