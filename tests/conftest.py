"""One synthesis of the whole app per test session; tests read plain dicts.

Importing the AWS provider bindings costs ~20 s, so the app is built and
synthesized exactly once (`synthesized`), and `pytest_sessionfinish` fails the
run if anything synthesized it again. The one slow external run, the
added-environment run (its first step is the real CDKTF CLI's synthesis), starts
in the background at collection so that it overlaps with the in-process work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import lazy_provider
from config.loader import load_config
from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from config.settings import ApiVariant
from tests.tf import Stack
from tools.synthesized import read_stacks

REPO = Path(__file__).resolve().parents[1]
# Before anything imports the provider: the session loads only the modules the app uses (lazy_provider.py).
LAZY_PROVIDER = lazy_provider.install()
# The environments under test: envs/, or the directory main.py is pointed at (LITTIL_ENVS_DIR).
ENVS_DIR = Path(os.environ.get("LITTIL_ENVS_DIR") or REPO / "envs")

SYNTHESES: list[Path] = []
# The one other whole-app synthesis a session may start: the real CLI's (`cli_list`), a subprocess, so it
# never touches this process's counter above; counted here instead.
REFERENCE_SYNTHESES: list[Path] = []
TEST_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"
# A finished CLI run handed to this session: a directory with its `cdktf.out` and what it printed (`cli_list`).
CLI_RUN_VARIABLE = "LITTIL_CLI_RUN"
CLI_LISTING = "cdktf-list.txt"
# The test that waits for the added-environment run (tests/test_adding_an_environment.py).
ADDED_ENVIRONMENT_TEST = "test_adding_an_environment.py::test_an_added_environment_leaves_the_suite_green"


@pytest.fixture(scope="session")
def config() -> AppConfig:
    return load_config(ENVS_DIR)


@pytest.fixture(scope="session")
def synthesized(config: AppConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cdktf.out directory of the one whole-app synthesis of this session."""
    from stacks.app import build_app

    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(config, outdir=str(outdir)).synth()
    SYNTHESES.append(outdir)
    return outdir


@pytest.fixture(scope="session")
def stacks(synthesized: Path) -> dict[str, Stack]:
    return read_stacks(synthesized)


@pytest.fixture(scope="session")
def toggled(config: AppConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    """The workload stacks with one switch flipped per environment, nothing else changed.

    staging: maintenance enabled. production: the API on the ECS variant instead of EC2,
    nothing adopted from the old system (`adopt_legacy` off), as a new environment has it,
    and no outside health check (its opt-out).
    Compared with `stacks`, this shows what each switch touches.
    """
    staging, production = (config.workload(name) for name in ("staging", "production"))
    assert not staging.maintenance.enabled
    assert production.api.variant is ApiVariant.EC2
    assert production.adopt_legacy
    assert production.alarms.outside_health_check
    return synthesize_workloads(
        tmp_path_factory.mktemp("toggled.out"),
        config.shared,
        staging.model_copy(update={"maintenance": staging.maintenance.model_copy(update={"enabled": True})}),
        production.model_copy(
            update={
                "api": production.api.model_copy(update={"variant": ApiVariant.ECS}),
                "adopt_legacy": False,
                "alarms": production.alarms.model_copy(update={"outside_health_check": False}),
            }
        ),
    )


@pytest.fixture(scope="session")
def opt_ins(config: AppConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    """Workload stacks with every opt-in on, so opt-in branches are tested on real JSON too.

    staging (ECS): NAT, a Route53 zone, database TLS, snapshot restore, a major engine upgrade.
    production (EC2): an SSH key and two SSH source networks.
    """
    staging = config.workload("staging")
    opted_in = staging.model_copy(
        update={
            "route53_zone_id": "Z0123456789ABC",
            "network": staging.network.model_copy(update={"nat_gateway": True}),
            "database": staging.database.model_copy(
                update={
                    "require_secure_transport": True,
                    "snapshot_identifier": "littil-staging-before-upgrade",
                    "snapshot_engine_version": "10.11.9",
                    "snapshot_allocated_storage_gb": 100,
                    "allow_major_version_upgrade": True,
                }
            ),
        }
    )
    production = config.workload("production")
    with_ssh = production.model_copy(
        update={
            "api": production.api.model_copy(
                update={
                    "ec2": production.api.ec2.model_copy(
                        update={
                            "ssh_public_key": TEST_SSH_KEY,
                            "ssh_allowed_cidrs": ("203.0.113.7/32", "198.51.100.0/24"),
                        }
                    )
                }
            )
        }
    )
    return synthesize_workloads(tmp_path_factory.mktemp("opt-in.out"), config.shared, opted_in, with_ssh)


@pytest.fixture(scope="module")
def scratch_envs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of envs/ for a file of tests that each change one file of it (tests/envs_copy.py's
    `one_file_changed`): the generated tables load hundreds of variants."""
    from tests.envs_copy import envs_with

    return envs_with(tmp_path_factory.mktemp("scratch"))


def envs_with_added(directory: Path, name: str, account_id: str) -> Path:
    """A copy of the environments under test plus `envs/<name>.hcl` as docs/runbooks/add-environment.md
    has an operator write it: nothing but account, domain and CORS origin."""
    envs = directory / "envs"
    shutil.copytree(ENVS_DIR, envs)
    (envs / f"{name}.hcl").write_text(
        f'account_id  = "{account_id}"\ndomain      = "{name}.littil.org"\ncors_origin = "https://{name}.littil.org"\n'
    )
    return envs


@pytest.fixture(scope="session")
def new_environment(config: AppConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    """The stacks of a new environment written the runbook's way (everything else from common.hcl).

    What other teams copy: nothing adopted from the old system, every default as it ships.
    """
    envs = envs_with_added(tmp_path_factory.mktemp("new-environment"), "example", "999999999999")
    env = load_config(envs).workload("example")
    assert not env.adopt_legacy
    return synthesize_workloads(tmp_path_factory.mktemp("new-environment.out"), config.shared, env)


def synthesize_workloads(outdir: Path, shared: SharedEnvironment, *envs: WorkloadEnvironment) -> dict[str, Stack]:
    """A small second app of workload stacks in this process: the provider import is already paid."""
    from cdktf import App

    from stacks.app import add_workload_stacks

    app = App(outdir=str(outdir), stack_traces=False)
    for env in envs:
        add_workload_stacks(app, env=env, shared=shared)
    app.synth()
    return read_stacks(outdir)


# The ECS variant of the API, twice: staging as configured, and production switched to ECS (`toggled`).
EcsApi = tuple[dict[str, Stack], str]


@pytest.fixture(params=[("stacks", "api-staging"), ("toggled", "api-production")], ids=["staging", "production-as-ecs"])
def ecs_api(request: pytest.FixtureRequest) -> EcsApi:
    """An ECS-variant API stack and the stacks it reads: staging, and production switched to ECS."""
    source, stack_name = request.param
    return request.getfixturevalue(source), stack_name


def env_named(config: AppConfig, stack_name: str) -> WorkloadEnvironment:
    """The workload environment of a stack named <component>-<env>."""
    return config.workload(stack_name.split("-", 1)[1])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the added-environment run, and hand it the tests that read the real CLI's run.

    Its first step is that CLI run, on envs/ plus one environment; the tests marked `reads_cli_run` run in
    its suite against it, so this session leaves them out rather than pay for a second eager synthesis.
    Last among the hooks: after pytest's own -k, -m and --deselect, so nothing starts for a test that will not run.
    """
    waiting = [item for item in items if item.nodeid.endswith(ADDED_ENVIRONMENT_TEST)]
    if not waiting:
        return
    handed_over = [item for item in items if item.get_closest_marker("reads_cli_run")]
    config.hook.pytest_deselected(items=handed_over)
    from tests import test_adding_an_environment

    test_adding_an_environment.start([item.nodeid for item in handed_over])
    # The waiting test goes last, so this process works while the run does.
    items[:] = [item for item in items if item not in waiting and item not in handed_over] + waiting


def cli_list_command(outdir: Path, envs: Path) -> tuple[list[str], dict[str, str]]:
    """`npx cdktf list`: the real CLI runs the app through cdktf.json, as an operator types it.

    Without the variables the Makefile sets (the project's .npmrc must keep the CLI quiet on its own),
    except one: the app imports the provider the plain, eager way (lazy_provider.DISABLE_VARIABLE), so
    what the CLI writes is also the reference the in-process synthesis, made through the loader, must
    equal byte for byte. One synthesis serves both.
    """
    quiet = {"CHECKPOINT_DISABLE", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    env = {
        **{k: v for k, v in os.environ.items() if k not in quiet},
        "CI": "1",
        "PWD": str(REPO),
        lazy_provider.DISABLE_VARIABLE: "1",
        "LITTIL_ENVS_DIR": str(envs),
    }
    return ["npx", "--no-install", "cdktf", "list", "--output", str(outdir)], env


def stop_process_group(process: subprocess.Popen[str]) -> None:
    """End a background run that is still going, with every process it started."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclasses.dataclass(frozen=True)
class CliRun:
    returncode: int
    output: str
    outdir: Path


@pytest.fixture(scope="session")
def cli_list(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The real CLI's `cdktf list` of the environments under test, with the provider imported eagerly.

    The added-environment run makes it as its first step and hands it to its suite (CLI_RUN_VARIABLE);
    a session without that run (one file, -k) makes it here.
    """
    handed = os.environ.get(CLI_RUN_VARIABLE)
    if handed:
        return CliRun(0, (Path(handed) / CLI_LISTING).read_text(), Path(handed) / "cdktf.out")
    outdir = tmp_path_factory.mktemp("cli.out")
    REFERENCE_SYNTHESES.append(outdir)
    command, env = cli_list_command(outdir, ENVS_DIR)
    done = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the CLI's warnings interleave with its listing, as an operator sees them
        text=True,
        timeout=600,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, outdir)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    added = sys.modules.get("tests.test_adding_an_environment")
    if added is not None:
        added.stop()
    if len(REFERENCE_SYNTHESES) > 1:
        print(f"\nFAILED: {len(REFERENCE_SYNTHESES)} reference syntheses; at most one is allowed.", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if len(SYNTHESES) > 1:
        print(
            f"\nFAILED: the app was synthesized {len(SYNTHESES)} times in one session; tests must share one synthesis.",
            file=sys.stderr,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
