"""The commands of tools.deployed: `guard`, `record`, `list` and `where` (see tools/deployed/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tools.deployed.record import Location, Record, describe, fingerprint, location
from tools.deployed.revision import Revision, current, problems, refusal

REPO = Path(__file__).resolve().parents[2]


def reason() -> str:
    """The operator's REASON (make exports it), blank when none was given."""
    return os.environ.get("REASON", "").strip()


def guard(action: str, revision: Revision) -> int:
    found = problems(revision)
    if not found:
        print(f"make {action}: commit {revision.commit[:12]}, on {revision.main}")
        return 0
    if not reason():
        print(refusal(action, found), file=sys.stderr)
        return 2
    print(f"make {action}: going ahead although {'; and '.join(found)}; reason: {reason()}")
    return 0


def s3_client(region: str) -> Any:
    """S3 with the operator's credentials (AWS_PROFILE and the rest of botocore's usual chain)."""
    import botocore.session  # type: ignore[import-untyped]

    return botocore.session.get_session().create_client("s3", region_name=region)


def caller(region: str) -> str:
    """Who deploys: the ARN behind the operator's credentials."""
    import botocore.session

    return str(botocore.session.get_session().create_client("sts", region_name=region).get_caller_identity()["Arn"])


def write(record: Record, where: Location, s3: Any, stack: dict[str, Any]) -> None:
    """Beside the state, encrypted as the backend encrypts the state."""
    backend = stack["terraform"]["backend"]["s3"]
    encryption = {"ServerSideEncryption": "aws:kms"} if backend.get("encrypt") else {}
    if backend.get("encrypt") and backend.get("kms_key_id"):
        encryption["SSEKMSKeyId"] = backend["kms_key_id"]
    s3.put_object(
        Bucket=where.bucket, Key=where.key, Body=record.to_json().encode(), ContentType="application/json", **encryption
    )


def read(where: Location, s3: Any) -> Record | None:
    try:
        body = s3.get_object(Bucket=where.bucket, Key=where.key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return Record.from_json(body.decode())


def new_record(stack_name: str, stack: dict[str, Any], action: str, revision: Revision, by: str) -> Record:
    return Record(
        stack=stack_name,
        action=action,
        commit=revision.commit,
        on_main=revision.on_main,
        uncommitted=revision.uncommitted,
        reason=reason(),
        fingerprint=fingerprint(stack),
        at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        by=by,
    )


def record(outdir: Path, names: list[str], action: str, applied: Path) -> int:
    """A record for each stack Terraform applied or destroyed (its mark in `applied`, tools/terraform-applied)."""
    revision, missing = current(REPO, fetch=False), 0
    for name in names:
        stack = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
        where = location(stack)
        if not (applied / name).exists():
            missing += 1
            print(f"{name}: not {action}ed (the plan was dismissed, or Terraform stopped): nothing recorded")
        elif where is None:
            print(f"{name}: its state is still local (bootstrap-state.md): no deployment record until it moves")
        else:
            try:
                entry = new_record(name, stack, action, revision, caller(where.region))
                write(entry, where, s3_client(where.region), stack)
            except Exception as error:  # botocore's errors: credentials, access, network
                print(
                    f"{name}: the {action} succeeded, but its record could not be written to {where.url}: {error}\n"
                    f"Write it with the same credentials: make {action} STACK={name} (Terraform finds nothing to do)",
                    file=sys.stderr,
                )
                return 1
            print(f"{name}: recorded {entry.revision} ({action}) in {where.url}")
    return 1 if missing else 0


def listing(outdir: Path, names: list[str]) -> int:
    revision = current(REPO, fetch=False)
    compared = "main" if revision.on_main and not revision.uncommitted and revision.main else "the working tree"
    print(f"Deployed revisions, compared with {compared} ({revision.commit[:12]}; `make synth` of it):")
    if compared != "main":
        print("  (check out main for `not deployed` to mean: merged, not deployed yet)")
    unreadable = 0
    width = max(map(len, names))
    for name in names:
        stack = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
        where = location(stack)
        if where is None:
            print(f"  {name:<{width}}  state still local: nothing recorded")
            continue
        try:
            found = read(where, s3_client(where.region))
        except Exception as error:  # botocore's errors: credentials, access, network
            unreadable += 1
            print(f"  {name:<{width}}  cannot read {where.url}: {error}")
            continue
        print(f"  {name:<{width}}  {describe(found, stack)}")
    return 1 if unreadable else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deployed", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("guard").add_argument("--action", choices=["deploy", "destroy"], default="deploy")
    one = commands.add_parser("record")
    one.add_argument("outdir", type=Path)
    one.add_argument("stacks", nargs="+")
    one.add_argument("--action", choices=["deploy", "destroy"], required=True)
    one.add_argument("--applied", type=Path, required=True, help="where tools/terraform-applied marks each stack")
    many = commands.add_parser("list")
    many.add_argument("outdir", type=Path)
    many.add_argument("stacks", nargs="+")
    commands.add_parser("where").add_argument("stack_json", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.command == "guard":
        return guard(arguments.action, current(REPO))
    if arguments.command == "record":
        return record(arguments.outdir, arguments.stacks, arguments.action, arguments.applied)
    if arguments.command == "list":
        return listing(arguments.outdir, arguments.stacks)
    where = location(json.loads(arguments.stack_json.read_text()))
    print(where.url if where else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
