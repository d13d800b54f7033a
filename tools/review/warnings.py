"""What a change does that Terraform's own plan lines do not say: the warnings of `make review`.

Each function looks at one kind of change; `tools.review.compare` collects what they say per stack.
"""

from __future__ import annotations

from typing import Any

from config.rules import major_version


def database_warnings(address: str, old: dict[str, Any], new: dict[str, Any], paths: list[str]) -> list[str]:
    """What a database change does that its plan line does not show."""
    warnings = []
    if "db_name" in paths and old.get("db_name") and new.get("db_name"):
        warnings.append(
            f"{address}: database name {old['db_name']} -> {new['db_name']}: Terraform leaves the database as it is"
            f" (db_name is ignored once created), but the API will connect to {new['db_name']}, which does not exist"
        )
    old_major, new_major = (major_version(str(body.get("engine_version"))) for body in (old, new))
    if "engine_version" in paths and old_major != new_major:
        upgrade = f"{address}: MAJOR engine upgrade {old.get('engine_version')} -> {new.get('engine_version')}"
        if new.get("allow_major_version_upgrade") is not True:
            warnings.append(f"{upgrade}: RDS refuses it unless database.allow_major_version_upgrade = true")
        else:
            warnings.append(f"{upgrade}: the database restarts (downtime); take a snapshot first")
    return warnings


def stack_warnings(name: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What a stack's arrival or departure does that no resource line shows."""
    if before and not after:
        return [
            f"{name} leaves the app (its environment file removed or renamed?): nothing plans or destroys it any"
            " more, so what it holds stays, unmanaged; a renamed environment starts anew with new stacks, state keys"
            " and state bucket"
        ]
    if not before and name.startswith("state-") and "s3" in after.get("terraform", {}).get("backend", {}):
        return [
            f"{name} is new but keeps its own state in the bucket it is about to create: its first deploy cannot"
            " start; set state.store_own_state_in_bucket = false until the bucket exists (bootstrap-state.md)"
        ]
    return []


def secret_overwrites(old: dict[str, Any], new: dict[str, Any], added: list[str]) -> list[str]:
    """A secret version added to a secret that exists on both sides (`old`, `new`: `items` of each)."""
    return [
        f"{address} writes a new value over {secret}, which exists already: the value in it now (set by operators"
        " for an adopted secret: was adopt_legacy turned off?) is replaced"
        for address in added
        if address.startswith("aws_secretsmanager_secret_version.")
        and (secret := _referenced_secret(new[address])) in old
        and secret in new
    ]


def _referenced_secret(version: dict[str, Any]) -> str:
    """`aws_secretsmanager_secret.x` from a version's `secret_id = "${aws_secretsmanager_secret.x.id}"`."""
    return str(version.get("secret_id", "")).removeprefix("${").rsplit(".", 1)[0]


def sealed_key_warnings(old: dict[str, Any], changed: dict[str, list[str]]) -> list[str]:
    """A change to the policy of a sealed key (one created with KMS's lockout check bypassed, whose policy denies
    `kms:PutKeyPolicy` to everyone: modules/backup/key.py): KMS refuses it to anyone, this deploy included.

    `old`: the stack's items before the change, by address; `changed`: the changed paths by address."""
    warnings = []
    for address, body in old.items():
        if not address.startswith("aws_kms_key.") or body.get("bypass_policy_lockout_safety_check") is not True:
            continue
        document = str(body.get("policy", "")).removeprefix("${").rsplit(".", 1)[0]  # data.aws_iam_policy_document.x
        if "policy" in changed.get(address, []) or document in changed:
            warnings.append(
                f"{address}: its key policy would change, but the key is sealed (its policy denies everyone"
                " kms:PutKeyPolicy): the apply fails. What the key encrypts keeps its policy; a different policy"
                " needs a new vault with a new key (docs/decisions/0006-backup-copies.md)"
            )
    return warnings


def setting_warnings(address: str, paths: list[str]) -> list[str]:
    """A stack whose state or account moves: Terraform would start from nothing there."""
    if address.startswith("terraform.backend.") and {"bucket", "key", "region"} & set(paths):
        return [
            f"{address}: the state moves ({', '.join(paths)}): without `terraform init -migrate-state` the next"
            " apply starts from empty state and creates everything again"
        ]
    if address.startswith("provider.") and {"region", "allowed_account_ids"} & {p.split("[")[0] for p in paths}:
        return [
            f"{address}: another account or region ({', '.join(paths)}): everything is created there anew"
            " and what runs now is left unmanaged"
        ]
    return []


def subnet_warnings(replaced: dict[str, list[str]]) -> list[str]:
    """A subnet replaced (its zone or range changed, as when availability_zones are reordered): what runs in it,
    the database among it, has to move, and AWS refuses to delete a subnet that still holds a network interface."""
    return [
        f"{address}: REPLACED ({', '.join(paths)}; availability_zones reordered?): the database, the instance or the"
        " tasks in it must move first, and AWS refuses to delete a subnet something still uses; keep the order"
        " and add zones at the end"
        for address, paths in replaced.items()
        if address.startswith("aws_subnet.")
    ]
