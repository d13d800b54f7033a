"""`make bench`: how the app, the test suite and the rehearsal compare with their targets; exit 1 if one is missed.

The floor is importing the AWS provider bindings the plain way (~15-20 s on a small
machine: every resource module plus the jsii assembly); the app and the suite import
only what they use (lazy_provider.py). The machine is shared and noisy, so the
three commands run alternately, round after round, and only ratios to the floor
of the same round are printed: synth / floor and suite / floor, min/median/max.

Then, unless `--no-fresh-clone`, what a newcomer pays: `make synth && make test` in a fresh
clone of HEAD (committed work only), installs included, against the median floor.

With `--rehearse` (`make bench REHEARSE_BENCH=1`, about 20 minutes more), the rehearsal itself: `make rehearse`
(every environment and the fault table) and `make rehearse ENVS=acceptance` (one new environment, the
add-environment runbook's three-line file in a copy of envs/), each against its target in minutes of wall time
on a quiet machine. Without it, the last rehearsal's figures are reported, not judged.

Targets (TARGETS, REHEARSAL_TARGET_MINUTES) are maxima; the exit code is 1 when a median
(or a rehearsal) is over its target or a fresh clone fails, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# With lazy_provider.py a synthesis imports ~120 of the provider's ~2,200 modules; the suite's target is what two
# cores allow; `make test-fast` is the inner loop (warm), the one figure an editor waits on.
TARGETS = {"synth": 0.5, "suite": 2.0, "test-fast": 0.6}
# The rehearsal, in minutes of wall time on two cores: every environment, and one new environment alone.
REHEARSAL_TARGET_MINUTES = {"every environment": 12.0, "one new environment": 6.0}
NEW_ENVIRONMENT = 'account_id  = "333333333333"\ndomain      = "acceptance.littil.org"\ncors_origin = "https://acceptance.littil.org"\n'


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(rounds: int, *, fresh_clone: bool, rehearse: bool) -> int:
    env = dict(os.environ)
    ratios: dict[str, list[float]] = {name: [] for name in TARGETS}
    floors: list[float] = []
    with tempfile.TemporaryDirectory(prefix="littil-bench-") as scratch:
        commands = {
            "floor": [PYTHON, "-c", "import cdktf_cdktf_provider_aws"],
            "synth": [PYTHON, "main.py"],
            "suite": [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            "test-fast": ["make", "--no-print-directory", "-s", "test-fast"],
        }
        for round_number in range(1, rounds + 1):
            env["CDKTF_OUTDIR"] = str(Path(scratch) / f"cdktf.out.{round_number}")
            # The floor is the plain import, whatever this shell's NODE_OPTIONS preloads (lazy_provider.js).
            plain = {**env, "LITTIL_EAGER_PROVIDER": "1"}
            seconds = {name: timed(command, plain if name == "floor" else env) for name, command in commands.items()}
            floors.append(seconds["floor"])
            for name in TARGETS:
                ratios[name].append(seconds[name] / seconds["floor"])
            print(
                f"round {round_number}/{rounds}: synth/floor {ratios['synth'][-1]:.2f}, "
                f"suite/floor {ratios['suite'][-1]:.2f}, test-fast/floor {ratios['test-fast'][-1]:.2f}",
                flush=True,
            )
    print()
    within = True
    for name, target in TARGETS.items():
        values = ratios[name]
        ok = statistics.median(values) <= target
        within &= ok
        print(
            f"{name}/floor: min {min(values):.2f}  median {statistics.median(values):.2f}  max {max(values):.2f}"
            f"  (target <= {target}: {'ok' if ok else 'OVER'})"
        )
    print(
        "floor = python -c 'import cdktf_cdktf_provider_aws'; synth = every stack (make synth); suite = pytest;"
        " test-fast = make test-fast"
    )
    if fresh_clone:
        summary, installed_and_passed = fresh_clone_summary(statistics.median(floors))
        print(summary, flush=True)
        within &= installed_and_passed
    if rehearse:
        summary, rehearsals_ok = rehearsals()
        print(summary, flush=True)
        within &= rehearsals_ok
    else:
        print(rehearsal_summary())
    return 0 if within else 1


def fresh_clone_summary(floor: float) -> tuple[str, bool]:
    """`make synth && make test` in a fresh clone: the installs from the lock files, cold caches of
    mypy and ruff, the synthesis and the suite (package downloads come from the machine's pip/npm caches)."""
    env = {name: value for name, value in os.environ.items() if name != "CDKTF_OUTDIR"}
    with tempfile.TemporaryDirectory(prefix="littil-bench-clone-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        seconds = {}
        for target in ("synth", "test"):
            start = time.perf_counter()
            done = subprocess.run(
                ["make", "--no-print-directory", target], cwd=clone, env=env, capture_output=True, check=False
            )
            seconds[target] = time.perf_counter() - start
            if done.returncode != 0:
                return f"fresh clone: make {target} FAILED (exit {done.returncode})", False
    total = sum(seconds.values())
    return (
        f"fresh clone (make synth && make test, installs included): {total / floor:.1f}x the floor"
        f" ({total / 60:.1f} min: synth {seconds['synth'] / floor:.1f}x, test {seconds['test'] / floor:.1f}x)",
        True,
    )


def rehearsals() -> tuple[str, bool]:
    """`make rehearse`, then `make rehearse ENVS=acceptance` with a new environment added to a copy of envs/."""
    lines, ok = [], True
    with tempfile.TemporaryDirectory(prefix="littil-bench-envs-") as scratch:
        envs = Path(scratch) / "envs"
        shutil.copytree(REPO / "envs", envs)
        (envs / "acceptance.hcl").write_text(NEW_ENVIRONMENT)
        runs = {
            "every environment": ([], {}),
            "one new environment": (["ENVS=acceptance"], {"LITTIL_ENVS_DIR": str(envs)}),
        }
        for name, (arguments, extra) in runs.items():
            start = time.perf_counter()
            done = subprocess.run(
                ["make", "--no-print-directory", "rehearse", *arguments],
                cwd=REPO,
                env={**os.environ, **extra},
                capture_output=True,
                check=False,
            )
            minutes, target = (time.perf_counter() - start) / 60, REHEARSAL_TARGET_MINUTES[name]
            passed = done.returncode == 0 and minutes <= target
            ok &= passed
            verdict = "ok" if passed else ("OVER" if done.returncode == 0 else f"FAILED, exit {done.returncode}")
            lines.append(f"rehearsal, {name}: {minutes:.1f} min wall (target <= {target:.0f} min: {verdict})")
    return "\n".join(lines), ok


def rehearsal_summary() -> str:
    """The last `make rehearse` on this machine (it takes minutes, so bench reports it rather than runs it)."""
    from tools.rehearse.__main__ import TIMINGS_FILE
    from tools.rehearse.holdings import Fault, table

    if not TIMINGS_FILE.is_file():
        return "rehearsal: none recorded on this machine yet (make rehearse)"
    last = json.loads(TIMINGS_FILE.read_text())
    tried = [Fault(**fault) for fault in last.get("faults", [])]
    return (
        f"rehearsal (make rehearse, last run {last['finished']}): {last['wall_seconds'] / 60:.1f} min wall time"
        f" for {', '.join(last['environments'])} and the shared account, AWS provider {last['provider']},"
        f" {'passed' if last['ok'] else 'FAILED'}; faults rehearsed ({len(tried)}):\n{table(tried)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    parser.add_argument("--no-fresh-clone", action="store_true", help="skip the fresh-clone make synth && make test")
    parser.add_argument("--rehearse", action="store_true", help="also time make rehearse, all and one new environment")
    arguments = parser.parse_args()
    sys.exit(main(arguments.rounds, fresh_clone=not arguments.no_fresh_clone, rehearse=arguments.rehearse))
