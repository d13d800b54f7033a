"""The local AWS of the rehearsal: one moto server per account, with the gaps that matter patched.

Run as `python -m tools.rehearse.emulator <port>` with `MOTO_ACCOUNT_ID=<account>`: it
applies `tools.rehearse.moto_patches` (each one is listed, with the moto behaviour that
needs it, in tools/rehearse/GAPS.md) and serves every AWS API on 127.0.0.1:<port>. The
rehearsal starts one per account so that each provider's `allowed_account_ids` check
stays real: STS answers with that server's account.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.rehearse.moto_patches import PATCHES


class Emulators:
    """One emulator per account, each on a free port of 127.0.0.1; `stop()` ends them all."""

    def __init__(self, accounts: dict[str, str], log_dir: Path) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.endpoints: dict[str, str] = {}  # environment -> URL
        by_account: dict[str, str] = {}
        try:
            for environment, account in accounts.items():
                if account not in by_account:
                    port = free_port()
                    log = (log_dir / f"emulator-{account}.log").open("wb")
                    self.processes.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "tools.rehearse.emulator", str(port)],
                            cwd=Path(__file__).resolve().parents[2],
                            env={
                                **os.environ,
                                "MOTO_ACCOUNT_ID": account,
                                "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
                            },
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
                    by_account[account] = f"http://127.0.0.1:{port}"
                self.endpoints[environment] = by_account[account]
            for url in by_account.values():
                wait_until_up(url)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):  # loopback only
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator at {url} did not start within {timeout:.0f} s") from None
            time.sleep(0.3)


def main(argv: list[str]) -> None:
    (port,) = argv
    for patch in PATCHES:
        patch()
    from moto.server import main as serve

    serve(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main(sys.argv[1:])
