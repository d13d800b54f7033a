"""`python -m tools.provider_lock install|collect <outdir>`: one provider lock file for every stack.

Every stack requires the same providers at the same versions, so the repository keeps one
dependency lock file, `terraform.lock.hcl`, and every machine runs the provider build it names.
`make synth` recreates `cdktf.out/` and with it each stack's folder: `install` copies the lock
file into each one (as `.terraform.lock.hcl`, where `terraform init` reads it). After a command
that ran `terraform init` (plan, deploy, destroy, output), `collect` copies a stack's lock file
back when init changed it (a first init, a new version, hashes for another platform), so it can
be committed. The CDKTF CLI leaves this to its users (hashicorp/terraform-cdk#1216).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK_FILE = REPO / "terraform.lock.hcl"
STACK_LOCK = ".terraform.lock.hcl"


def stack_dirs(outdir: Path) -> list[Path]:
    return sorted(path.parent for path in (outdir / "stacks").glob("*/cdk.tf.json"))


def install(outdir: Path, lock_file: Path = LOCK_FILE) -> int:
    """Copy the repository's lock file into every stack folder; the number of folders."""
    if not lock_file.is_file():
        return 0
    text = lock_file.read_text()
    stacks = stack_dirs(outdir)
    for stack in stacks:
        (stack / STACK_LOCK).write_text(text)
    return len(stacks)


def collect(outdir: Path, lock_file: Path = LOCK_FILE) -> Path | None:
    """Take back the lock file a `terraform init` wrote or changed; the stack it came from, if any."""
    current = lock_file.read_text() if lock_file.is_file() else None
    for stack in stack_dirs(outdir):
        written = stack / STACK_LOCK
        if written.is_file() and written.read_text() != current:
            lock_file.write_text(written.read_text())
            return stack
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("install", "collect"):
        print("usage: python -m tools.provider_lock install|collect <outdir>", file=sys.stderr)
        return 2
    command, outdir = argv[0], Path(argv[1])
    if command == "install":
        install(outdir)
    elif (stack := collect(outdir)) is not None:
        print(f"{LOCK_FILE.name} updated from {stack.name}'s terraform init: commit it.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
