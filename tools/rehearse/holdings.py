"""What an account must never lose, as the emulator holds it, and the table of the faults rehearsed.

`holdings` reads every state object's resources, every secret's value, every image and every
database; a fault's procedure compares them before and after (`nothing_lost`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tools.rehearse.run import Rehearsal, RehearsalFailure, client


@dataclass(frozen=True)
class Fault:
    """One line of the fault table."""

    environment: str
    fault: str
    recovery: str
    survived: str


@dataclass(frozen=True)
class Holdings:
    """What an account must never lose, as the emulator holds it."""

    states: dict[str, dict[str, str]]  # state object key -> {resource address: id}
    secrets: dict[str, str | None]  # secret name -> its current value (None: none yet)
    images: dict[str, list[str]]  # repository -> image digests
    databases: dict[str, list[str]]  # instance -> [engine version, storage, snapshots...]

    def differences(self, other: Holdings, moving: frozenset[str] = frozenset()) -> list[str]:
        """What differs, but the state objects in `moving` (of stacks another procedure changes meanwhile)."""
        found = []
        for kind in ("states", "secrets", "images", "databases"):
            mine, theirs = getattr(self, kind), getattr(other, kind)
            keys = sorted(set(mine) | set(theirs)) if kind != "states" else sorted((set(mine) | set(theirs)) - moving)
            found += [f"{kind}: {key}" for key in keys if mine.get(key) != theirs.get(key)]
        return found


def holdings(rehearsal: Rehearsal, env: str) -> Holdings:
    bucket = rehearsal.output(f"state-{env}", "bucket-name")
    s3 = client(rehearsal, env, "s3")
    states = {}
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        if listed["Key"].endswith(".tfstate"):
            states[listed["Key"]] = resources_in(
                json.loads(s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read())
            )
    secrets_manager = client(rehearsal, env, "secretsmanager")
    secrets = {
        secret["Name"]: value_of(secrets_manager, secret["ARN"])
        for secret in secrets_manager.list_secrets()["SecretList"]
    }
    ecr = client(rehearsal, env, "ecr")
    images = {
        repository["repositoryName"]: sorted(
            image["imageDigest"] for image in ecr.list_images(repositoryName=repository["repositoryName"])["imageIds"]
        )
        for repository in ecr.describe_repositories()["repositories"]
    }
    rds = client(rehearsal, env, "rds")
    databases = {
        db["DBInstanceIdentifier"]: [db["EngineVersion"], str(db["AllocatedStorage"]), *snapshots(rds, db)]
        for db in rds.describe_db_instances()["DBInstances"]
    }
    return Holdings(states, secrets, images, databases)


def value_of(secrets_manager: Any, arn: str) -> str | None:
    """The secret's current value; None for one that has none yet (operators fill oidc after the first deploy)."""
    try:
        return str(secrets_manager.get_secret_value(SecretId=arn).get("SecretString", ""))
    except secrets_manager.exceptions.ResourceNotFoundException:
        return None


def snapshots(rds: Any, db: dict[str, Any]) -> list[str]:
    listed = rds.describe_db_snapshots(DBInstanceIdentifier=db["DBInstanceIdentifier"])["DBSnapshots"]
    return sorted(snapshot["DBSnapshotIdentifier"] for snapshot in listed)


def resources_in(state: dict[str, Any]) -> dict[str, str]:
    """{address: id} of the managed resources a Terraform state records."""
    return {
        f"{resource['type']}.{resource['name']}{'' if 'index_key' not in instance else [instance['index_key']]}": str(
            instance["attributes"].get("id")
        )
        for resource in state.get("resources", [])
        if resource["mode"] == "managed"
        for instance in resource["instances"]
    }


def state_key(stack: str) -> str:
    """The state object of a workload stack: `api-staging` -> `littil/staging/api.tfstate`."""
    kind, _, env = stack.rpartition("-")
    return f"littil/{env}/{kind}.tfstate"


def nothing_lost(
    rehearsal: Rehearsal, env: str, before: Holdings, stacks: list[str], moving: tuple[str, ...] = ()
) -> str:
    """`stacks` plan empty and the account holds what it held; `moving`: stacks another procedure changes meanwhile
    (it checks them itself), whose state objects are left out."""
    rehearsal.assert_no_changes(stacks)
    after = holdings(rehearsal, env)
    lost = before.differences(after, frozenset(state_key(stack) for stack in moving))
    if lost:
        raise RehearsalFailure(f"{env}: the emulator no longer holds what it held before the fault: {lost}")
    return (
        f"{len(after.states)} states, {len(after.secrets)} secrets, {sum(map(len, after.images.values()))} images,"
        f" {len(after.databases)} databases unchanged; plan empty"
    )


def table(faults: list[Fault]) -> str:
    rows = [("environment", "fault", "recovery (docs/runbooks/recover-deploy.md)", "what survived")]
    rows += [(fault.environment, fault.fault, fault.recovery, fault.survived) for fault in faults]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
