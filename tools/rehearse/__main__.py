"""`python -m tools.rehearse [ENV ...] [--keep] [--pinned-provider]`: see tools/rehearse/__init__.py.

Environments run side by side (each has its own emulator and waits mostly on the
provider's polling); within one, everything runs in the README's order.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lazy_provider
from config.loader import ConfigError, load_config
from config.model import AppConfig
from config.settings import ApiVariant
from tools.rehearse import adoption, backups, faults, instance, procedures, records
from tools.rehearse.emulator import Emulators
from tools.rehearse.holdings import Fault, table
from tools.rehearse.provider import choose_provider, describe_provider, pinned_version
from tools.rehearse.run import (
    Rehearsal,
    RehearsalFailure,
    fill_placeholder_accounts,
    heartbeat,
    say,
    synthesize,
)
from tools.rehearse.workspace import Terraform, TerraformError, Workspace, cli_config, remove, scratch

REPO = Path(__file__).resolve().parents[2]
TIMINGS_FILE = REPO / ".tools" / "rehearsal-timing.json"


def over_old_data(config: AppConfig, name: str) -> str:
    """How the first deploy starts: over the old system's data where the environment adopts it."""
    adopts = any(env.name == name and env.adopt_legacy for env in config.environments)
    return " over the old system's data" if adopts else ""


def deploy_and_keep_state(rehearsal: Rehearsal, config: AppConfig, name: str, tried: list[Fault]) -> AppConfig:
    """Every account starts so: deploy over the old system's data, then its state moves into its bucket."""
    with rehearsal.step(f"{name}: deploy every stack{over_old_data(config, name)}, plan each again, record each"):
        outdir = rehearsal.synth(config, f"{name}-base")
        adopted = adoption.seed_old_system(rehearsal, outdir, name)
        order = rehearsal.deploy_environment(outdir, name)
        adoption.check_adopted_data_kept(rehearsal, name, adopted)
        records.record(rehearsal, outdir, name, order)
    if name == config.shared.name:  # the shared account's job is the shortest: it takes this fault
        with rehearsal.step(f"{name}: fault: state-{name}'s local state lost, imported anew"):
            tried.append(faults.lost_local_state(rehearsal, name))
    with rehearsal.step(f"{name}: move state-{name}'s own state into its bucket"):
        return procedures.move_state_into_bucket(rehearsal, config, name)


def side_by_side(*tracks: Callable[[], None]) -> None:
    """Run procedures that touch different stacks at once; the first failure is raised."""
    with ThreadPoolExecutor(max_workers=len(tracks)) as pool:
        for track in [pool.submit(track) for track in tracks]:
            track.result()


def workload_procedures(rehearsal: Rehearsal, config: AppConfig, name: str, tried: list[Fault]) -> None:
    env = config.workload(name)
    config = deploy_and_keep_state(rehearsal, config, name, tried)
    with rehearsal.step(f"{name}: roll out a new image tag"):
        config = procedures.roll_out_image_tag(rehearsal, config, name, tag="1.6.1")
    # One environment per variant; the EC2 one carries the longest procedures (a database
    # restore waits on RDS), so the ECS one takes maintenance, the variant switch and the deploy faults.
    if env.api.variant is ApiVariant.EC2:
        # After the roll-out, api-<env>'s state has an older version to be overwritten with.
        with rehearsal.step(f"{name}: faults: state objects deleted and overwritten, restored from their versions"):
            tried += faults.damaged_state_objects(rehearsal, name)
        with rehearsal.step(f"{name}: replace the SSH key"):
            instance.replace_ssh_key(rehearsal, config, name)
        # Not beside the key: the API reads the database's outputs, which the replacement changes.
        with rehearsal.step(f"{name}: restore the database from a snapshot"):
            procedures.restore_database(rehearsal, config, name)
    else:
        # Maintenance, then the deploy faults (both on maintenance-<env>), beside the variant switch (certificate,
        # network, api): the switch changes nothing maintenance reads (subnets, database). The faults' check that
        # nothing else in the account moved leaves out the switch's state objects; the switch checks those itself.
        def maintenance_then_faults() -> None:
            with rehearsal.step(f"{name}: maintenance on, used, destroyed; nothing else changes"):
                procedures.maintenance_on_use_destroy(rehearsal, config, name)
            with rehearsal.step(f"{name}: faults: deploys at once, stopped with Ctrl-C, killed with kill -9"):
                moving = procedures.switched_stacks(name)
                tried.extend(faults.interrupted_killed_and_concurrent_deploys(rehearsal, config, name, moving))

        def switch() -> None:
            with rehearsal.step(f"{name}: switch the API to the other variant and back"):
                procedures.switch_variant(rehearsal, config, name)

        side_by_side(maintenance_then_faults, switch)
    if env.backup_copies.region is not None or env.backup_copies.shared_account:
        with rehearsal.step(f"{name}: the backup copies are where the restore from a copy starts"):
            backups.restore_from_copy(rehearsal, config, name)


def shared_procedures(rehearsal: Rehearsal, config: AppConfig, tried: list[Fault]) -> None:
    deploy_and_keep_state(rehearsal, config, config.shared.name, tried)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make rehearse", description=__doc__)
    parser.add_argument("environments", nargs="*", help="workload environments (default: every one)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and logs (printed at the end)")
    parser.add_argument(
        "--pinned-provider",
        action="store_true",
        help="fail unless the AWS provider version the stacks pin can be used (no mirror fallback, no edits)",
    )
    args = parser.parse_args(argv)
    lazy_provider.install()  # the rehearsal synthesizes in this process, several times

    envs_dir = Path(os.environ.get("LITTIL_ENVS_DIR") or REPO / "envs")
    try:
        config = fill_placeholder_accounts(load_config(envs_dir))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    names = args.environments or [env.name for env in config.workloads]
    unknown = sorted(set(names) - {env.name for env in config.workloads})
    if unknown:
        print(f"error: no workload environment {', '.join(unknown)} in {envs_dir}", file=sys.stderr)
        return 2

    started = time.monotonic()
    root = scratch("littil-rehearsal-")
    logs = root / "logs"
    logs.mkdir()
    say(f"rehearsal of {', '.join(names)} (and the shared account) in {root}")
    base = synthesize(config, root / "synth-pinned")
    pinned = pinned_version(base)
    version, mirror, edits = choose_provider(
        pinned, root / "terraform", root / "plugin-cache", pinned_only=args.pinned_provider
    )
    (root / "plugin-cache").mkdir(exist_ok=True)
    say(describe_provider(version, pinned, edits))

    accounts = {config.shared.name: config.shared.account_id} | {
        name: config.workload(name).account_id for name in names
    }
    emulators = Emulators(accounts, logs)
    quiet = threading.Event()
    threading.Thread(target=heartbeat, args=(quiet,), daemon=True).start()
    failures: list[str] = []
    tried: list[Fault] = []  # the faults rehearsed, in the order they ended (each job appends its own)
    try:
        workspace = Workspace(root / "project", emulators.endpoints, version, edits)
        terraform = Terraform(
            cli_config(root / "terraform.tfrc", mirror=mirror, plugin_cache=root / "plugin-cache"), logs
        )
        terraform.fill_plugin_cache(root / "terraform" / "fill-cache", version)
        rehearsal = Rehearsal(workspace, terraform, root)
        synth_lock = threading.Lock()
        original_synth = rehearsal.synth

        def serialized_synth(config: AppConfig, label: str) -> Path:
            with synth_lock:  # jsii is not thread-safe
                return original_synth(config, label)

        rehearsal.synth = serialized_synth  # type: ignore[method-assign]
        workspace.load(base)
        jobs: dict[str, Callable[[], None]] = {config.shared.name: lambda: shared_procedures(rehearsal, config, tried)}
        for name in names:
            jobs[name] = lambda name=name: workload_procedures(rehearsal, config, name, tried)  # type: ignore[misc]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            problem = future.exception()
            if isinstance(problem, (RehearsalFailure, TerraformError)):
                failures.append(f"{name}: {problem}")
            elif problem is not None:
                failures.append(f"{name}: {''.join(traceback.format_exception(problem))}")
    finally:
        quiet.set()
        emulators.stop()

    wall = time.monotonic() - started
    inits = rehearsal.provider_inits
    say(
        f"AWS provider: installed once into the plugin cache; stack inits linked it {inits['cache']} times"
        f" and installed it {inits['installed']} times"
    )
    if inits["installed"]:
        failures.append(f"{inits['installed']} stack init(s) installed the AWS provider instead of using the cache")
    say(f"faults rehearsed ({len(tried)}):\n{table(tried)}")
    TIMINGS_FILE.parent.mkdir(exist_ok=True)
    TIMINGS_FILE.write_text(
        json.dumps(
            {
                "wall_seconds": round(wall),
                "environments": names,
                "provider": version,
                "ok": not failures,
                "faults": [dataclasses.asdict(fault) for fault in tried],
                "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
        )
    )
    if args.keep or failures:
        say(f"workspace and Terraform logs kept in {root}")
    else:
        remove(root)
    if failures:
        for failure in failures:
            print(f"\nREHEARSAL FAILED: {failure}", file=sys.stderr)
        return 1
    say(f"rehearsal passed in {wall / 60:.1f} min ({', '.join(names)}; {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
