"""Rehearsal copies of synthesized stacks, and Terraform run on them against the emulator.

A rehearsal copy is the stack exactly as synthesized, with only these changes:

- the AWS provider, the S3 backend and every `terraform_remote_state` talk to the
  emulator of the stack's account (AWS_ENDPOINT_URL for the provider, `endpoints` for
  the others; path-style S3, dummy keys, no credential validation). `allowed_account_ids`
  stays, and the provider still asks STS for the account: each account's emulator
  answers with its own id.
- when the pinned AWS provider cannot be had (offline) the newest one of the local
  filesystem mirror is used, with the short list of COMPATIBILITY_EDITS below.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.stacks import environment_of

# Where a stack's emulator is, beside its copy: Terraform gets it as AWS_ENDPOINT_URL, which the AWS provider reads
# for every service. (An `endpoints` block in the provider does the same at 2.6x the CPU: the provider validates
# its ~400 attributes again at every one of its 2-4 starts per command.)
ENDPOINT_FILE = ".emulator-endpoint"
DUMMY_CREDENTIALS = {"access_key": "rehearsal", "secret_key": "rehearsal"}
BACKEND_FLAGS = {
    **DUMMY_CREDENTIALS,
    "skip_credentials_validation": True,
    "skip_metadata_api_check": True,
    "skip_requesting_account_id": True,
    "use_path_style": True,
}
PROVIDER_FLAGS = {
    **DUMMY_CREDENTIALS,
    "skip_credentials_validation": True,
    "skip_metadata_api_check": True,
    "s3_use_path_style": True,
}
# Where machines of this kind keep provider binaries for offline use.
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
)
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"


@dataclass(frozen=True)
class CompatibilityEdit:
    """A change that lets configuration written for provider 6 run on provider 5."""

    why: str
    apply: Callable[[str], str]


def _ecs_service_arn(text: str) -> str:
    return re.sub(r"(aws_ecs_service\.[\w-]+)\.arn\b", r"\1.id", text)


def _ecr_tag_exclusions(text: str) -> str:
    stack = json.loads(text)
    for repository in stack.get("resource", {}).get("aws_ecr_repository", {}).values():
        if repository.pop("image_tag_mutability_exclusion_filter", None) is not None:
            repository["image_tag_mutability"] = "IMMUTABLE"
    return json.dumps(stack)


# Only applied when the rehearsal runs on a 5.x provider (the pinned 6.x one was not available).
COMPATIBILITY_EDITS = (
    CompatibilityEdit(
        why="aws_ecs_service has no `arn` attribute before 6.0; its `id` is the service ARN",
        apply=_ecs_service_arn,
    ),
    CompatibilityEdit(
        why="ECR tag-immutability exclusions (IMMUTABLE_WITH_EXCLUSION) arrived in 6.x: the rehearsal's"
        " repositories are plainly IMMUTABLE",
        apply=_ecr_tag_exclusions,
    ),
)


def provider_version(stack: dict[str, Any]) -> str:
    return str(stack["terraform"]["required_providers"]["aws"]["version"])


def mirror_versions(mirror: Path) -> list[str]:
    """AWS provider versions in an unpacked filesystem mirror, oldest first."""
    base = mirror / AWS_PROVIDER
    found = [path.name for path in base.iterdir() if path.is_dir()] if base.is_dir() else []
    return sorted(found, key=lambda version: tuple(int(part) for part in re.findall(r"\d+", version)))


def find_mirror() -> Path | None:
    configured = os.environ.get("LITTIL_PROVIDER_MIRROR")
    for candidate in ([Path(configured)] if configured else []) + list(MIRROR_CANDIDATES):
        if mirror_versions(candidate):
            return candidate
    return None


def cli_config(path: Path, *, mirror: Path | None, plugin_cache: Path) -> Path:
    """A Terraform CLI config: the local mirror for the AWS provider, the registry for nothing else."""
    lines = ["provider_installation {"]
    if mirror is not None:
        lines += ["  filesystem_mirror {", f'    path = "{mirror}"', f'    include = ["{AWS_PROVIDER}"]', "  }"]
    lines += ["  direct {", f'    exclude = ["{AWS_PROVIDER}"]' if mirror is not None else "", "  }", "}"]
    lines.append(f'plugin_cache_dir = "{plugin_cache}"')
    # The rehearsal copies have no lock file; without this, Terraform >= 1.4 re-extracts the provider
    # into the cache on every init instead of linking the cached one (and concurrent inits collide).
    lines.append("plugin_cache_may_break_dependency_lock_file = true")
    path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


class TerraformError(RuntimeError):
    """A Terraform command failed; the message carries its last lines."""


@dataclass
class Terraform:
    """Runs Terraform in rehearsal copies with one CLI config and a shared plugin cache."""

    config_file: Path
    log_dir: Path
    timeout: int = 900

    def environment(self, stack_dir: Path) -> dict[str, str]:
        """Terraform's environment in a stack: this CLI config, the stack's emulator, no prompts, no credentials of
        the machine."""
        env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(self.config_file),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            # Terraform starts the AWS provider 2-4 times per command, and each start (building ~1,500 resource
            # schemas) is most of the rehearsal's CPU. Collecting garbage 8x less often (the provider's heap
            # stays under ~0.7 GB) saves a third of it; `make bench` measures the rehearsal.
            "GOGC": "800",
        }
        for variable in [name for name in env if name.startswith("AWS_ENDPOINT_URL")]:
            del env[variable]
        if (stack_dir / ENDPOINT_FILE).is_file():  # the stack's emulator, for every AWS API its providers call
            env["AWS_ENDPOINT_URL"] = (stack_dir / ENDPOINT_FILE).read_text()
        for variable in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(variable, None)
        return env

    def run(self, stack_dir: Path, *arguments: str, ok: tuple[int, ...] = (0,), stdin: str | None = None) -> str:
        """`terraform <arguments>` in `stack_dir`; raises TerraformError unless its exit code is in `ok`."""
        started = time.monotonic()
        result = subprocess.run(
            ["terraform", *arguments],
            cwd=stack_dir,
            env=self.environment(stack_dir),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        output = result.stdout + result.stderr
        log = self.log_dir / f"{stack_dir.name}.log"
        with log.open("a") as handle:
            handle.write(
                f"\n$ terraform {' '.join(arguments)}  ({time.monotonic() - started:.0f} s, exit {result.returncode})\n"
            )
            handle.write(output)
        if result.returncode not in ok:
            tail = "\n".join(line for line in output.splitlines() if line.strip())[-4000:]
            raise TerraformError(
                f"terraform {' '.join(arguments)} in {stack_dir.name} exited {result.returncode}:\n{tail}"
            )
        return output

    def fill_plugin_cache(self, probe_dir: Path, version: str) -> None:
        """Install the AWS provider into the plugin cache once, before stacks initialise side by side.

        Terraform's plugin cache is not safe for concurrent writers: two `init`s that both miss it
        race to create the same directory and one fails ("file exists"). Once it is filled, every
        `init` only links from it.
        """
        probe_dir.mkdir(parents=True, exist_ok=True)
        required = {"aws": {"source": "hashicorp/aws", "version": version}}
        (probe_dir / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}))
        self.run(probe_dir, "init", "-input=false", "-no-color", "-backend=false")


def rewrite_for_emulator(stack: dict[str, Any], *, endpoint: str, version: str, edits: bool) -> dict[str, Any]:
    """The rehearsal copy of one synthesized stack (see the module docstring)."""
    text = json.dumps(stack)
    if edits:
        for edit in COMPATIBILITY_EDITS:
            text = edit.apply(text)
    copy: dict[str, Any] = json.loads(text)
    for provider in copy["provider"]["aws"]:  # its endpoint: AWS_ENDPOINT_URL (Terraform.environment)
        provider.update(PROVIDER_FLAGS)
    copy["terraform"]["required_providers"]["aws"]["version"] = version
    s3_endpoints = {"s3": endpoint, "sts": endpoint}
    backend = copy["terraform"].get("backend", {}).get("s3")
    if backend is not None:
        backend.update(BACKEND_FLAGS, endpoints=s3_endpoints)
    for remote in copy.get("data", {}).get("terraform_remote_state", {}).values():
        remote["config"].update(BACKEND_FLAGS, endpoints=s3_endpoints)
    return copy


@dataclass
class Workspace:
    """One rehearsal project: `cdktf.out/stacks/<stack>` copies (state files survive re-copies)."""

    root: Path
    endpoints: dict[str, str]  # environment -> emulator URL
    version: str
    edits: bool

    @property
    def stacks_dir(self) -> Path:
        return self.root / "cdktf.out" / "stacks"

    def stack_dir(self, name: str) -> Path:
        return self.stacks_dir / name

    def load(self, outdir: Path, names: list[str] | None = None) -> list[str]:
        """Copy (or re-copy) synthesized stacks in; returns the names copied."""
        copied = []
        for path in sorted(outdir.glob("stacks/*/cdk.tf.json")):
            name = path.parent.name
            if names is not None and name not in names:
                continue
            stack = json.loads(path.read_text())
            if names is None and environment_of(stack) not in self.endpoints:
                continue  # an environment this rehearsal leaves out (make rehearse ENVS=...)
            target = self.stack_dir(name)
            target.mkdir(parents=True, exist_ok=True)
            endpoint = self.endpoints[environment_of(stack)]
            rewritten = rewrite_for_emulator(stack, endpoint=endpoint, version=self.version, edits=self.edits)
            (target / "cdk.tf.json").write_text(json.dumps(rewritten, indent=2))
            (target / ENDPOINT_FILE).write_text(endpoint)
            copied.append(name)
        return copied


def scratch(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
