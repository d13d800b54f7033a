"""Which AWS provider the rehearsal runs: the pinned one if it can be had, else the local mirror's newest."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tools.rehearse.run import RehearsalFailure
from tools.rehearse.workspace import COMPATIBILITY_EDITS, cli_config, find_mirror, mirror_versions, provider_version


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
