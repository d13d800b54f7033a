"""A stack's deployment record: where it lives, what it says, and how it compares with a synthesis.

Standard library only: the drift check's plan jobs run this on a bare Python.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

STATE_SUFFIX = ".tfstate"
RECORD_SUFFIX = ".deployed.json"


@dataclass(frozen=True)
class Location:
    bucket: str
    key: str
    region: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def location(stack: dict[str, Any]) -> Location | None:
    """Beside the stack's state in its bucket; None while the state is local (`state-<env>` at bootstrap)."""
    backend = stack.get("terraform", {}).get("backend", {}).get("s3")
    if backend is None:
        return None
    key = str(backend["key"])
    stem = key[: -len(STATE_SUFFIX)] if key.endswith(STATE_SUFFIX) else key
    return Location(str(backend["bucket"]), stem + RECORD_SUFFIX, str(backend["region"]))


def fingerprint(stack: dict[str, Any]) -> str:
    """The synthesized stack's identity: equal fingerprints, equal Terraform configuration."""
    canonical = json.dumps(stack, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Record:
    stack: str
    action: str  # "deploy" or "destroy"
    commit: str
    on_main: bool
    uncommitted: tuple[str, ...]  # paths changed but not committed when it was deployed
    reason: str  # why it was deployed from outside main, or ""
    fingerprint: str
    at: str  # UTC, ISO 8601
    by: str  # the caller's ARN

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "uncommitted": list(self.uncommitted)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Record:
        data = json.loads(text)
        return cls(**{**data, "uncommitted": tuple(data["uncommitted"])})

    @property
    def revision(self) -> str:
        """The commit, short, marked when the tree had changes on top of it."""
        return self.commit[:12] + ("+uncommitted" if self.uncommitted else "")


class Standing(StrEnum):
    CURRENT = "up to date"  # what is deployed is what this synthesis says
    BEHIND = "not deployed"  # this synthesis differs from what was deployed: merged, not deployed yet
    DESTROYED = "destroyed"  # the last action was a destroy
    UNKNOWN = "nothing recorded"  # deployed before records were kept, or never


def standing(record: Record | None, stack: dict[str, Any]) -> Standing:
    if record is None:
        return Standing.UNKNOWN
    if record.action == "destroy":
        return Standing.DESTROYED
    return Standing.CURRENT if record.fingerprint == fingerprint(stack) else Standing.BEHIND


def done(record: Record) -> str:
    """What the record says was done: `deployed 1a2b3c4d5e6f at <when> by <who>[, reason: ...]`."""
    why = f", reason: {record.reason}" if record.reason else ""
    return f"{record.action}ed {record.revision} at {record.at} by {record.by}{why}"


def describe(record: Record | None, stack: dict[str, Any]) -> str:
    """One line for `make deployed`: whether this synthesis of the stack is what was deployed, and what was."""
    found = standing(record, stack)
    if record is None:
        return f"{found.value}: no deploy of this stack has written a record yet"
    if found is Standing.BEHIND:
        return f"{found.value}: {done(record)}; changed since (make review BASE={record.commit[:12]} shows how)"
    return f"{found.value}: {done(record)}"
