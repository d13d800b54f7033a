"""`make deploy`'s deployment records (tools/deployed), written and read back in the emulator.

After each deploy the rehearsal writes what `make deploy` writes beside each stack's state, with the same
code, and reads it back as `make deployed` and the drift check do: the deployed stack is `up to date`; a
synthesis that changes it is `not deployed` until it is deployed and recorded in turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.deployed.__main__ import new_record, read, write
from tools.deployed.record import Standing, location, standing
from tools.deployed.revision import current
from tools.rehearse.run import Rehearsal, RehearsalFailure, client

REPO = Path(__file__).resolve().parents[2]


def _stack(outdir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()))


def record(rehearsal: Rehearsal, outdir: Path, env: str, stacks: list[str]) -> None:
    """What `make deploy` writes after each stack it applied, then read back: each must be up to date."""
    revision = current(REPO, fetch=False)
    s3 = client(rehearsal, env, "s3")
    by = client(rehearsal, env, "sts").get_caller_identity()["Arn"]
    for name in stacks:
        stack = _stack(outdir, name)
        where = location(stack)
        if where is None:  # state-<env> while its state is local
            continue
        write(new_record(name, stack, "deploy", revision, by), where, s3, stack)
        expect(rehearsal, outdir, env, name, Standing.CURRENT)


def expect(rehearsal: Rehearsal, outdir: Path, env: str, name: str, expected: Standing) -> None:
    """The stack's record, read as `make deployed` reads it, says `expected` of this synthesis."""
    stack = _stack(outdir, name)
    where = location(stack)
    if where is None:
        raise RehearsalFailure(f"{name}: no place for its deployment record (its state is local)")
    found = standing(read(where, client(rehearsal, env, "s3")), stack)
    if found is not expected:
        raise RehearsalFailure(f"{name}: its deployment record says {found.value}, not {expected.value}")
