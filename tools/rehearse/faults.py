"""Faults, rehearsed: docs/runbooks/recover-deploy.md, each step after the fault it answers.

A deploy stopped with Ctrl-C and one killed outright, two deploys of one stack at once, a state
object deleted and one overwritten with an older copy, and a state stack's lost local state. Each
ends the way the runbook says it does, the stack planning empty, and with the emulator holding
what it held before the fault: every state object's resources, every secret's value, every image
and every database (`Holdings`). The fault table (`Fault`) is printed at the end of the rehearsal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from typing import Any

from config.model import AppConfig
from tools.rehearse.holdings import Fault, holdings, nothing_lost
from tools.rehearse.run import Rehearsal, RehearsalFailure, aws_cli, client, fresh_synth, with_workload

APPLY = ("apply", "-auto-approve", "-input=false", "-no-color")
REFUSED_BY_LOCK = "Error acquiring the state lock"
LOCK_ID = re.compile(r"^\s*ID:\s+(\S+)", re.MULTILINE)
CREATED = re.compile(r"^([\w-]+\.[\w-]+): Creation complete after")
# An error block ("Error: ...") that says the object exists, and the resource address on its `with` line.
ALREADY_EXISTS = re.compile(r"already exists|AlreadyExists|Duplicate|ResourceExistsException")
ERROR_WITH = re.compile(r"^\s*with ([\w-]+\.[\w-]+),", re.MULTILINE)
REFERENCE = re.compile(r"^\$\{(aws_\w+)\.([\w-]+)\.\w+\}$")


class Running:
    """A Terraform command in the background, in its own process group as a terminal's foreground job."""

    def __init__(self, rehearsal: Rehearsal, stack: str, *arguments: str, interactive: bool = False) -> None:
        self.log = rehearsal.terraform.log_dir / f"{stack}.log"
        self.arguments = arguments
        env = rehearsal.terraform.environment(rehearsal.workspace.stack_dir(stack))
        if interactive:  # it asks for approval, and reads the answer from `answer`
            env.pop("TF_INPUT")
        self.process = subprocess.Popen(
            ["terraform", *arguments],
            cwd=rehearsal.workspace.stack_dir(stack),
            env=env,
            stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 600) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := pattern.search(line):
                    return found
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise RehearsalFailure(f"terraform {self.arguments[0]} never printed {pattern.pattern!r}:\n{self.output()}")

    def answer(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.close()

    def signal(self, number: int) -> None:
        """What the terminal sends on Ctrl-C (SIGINT), or `kill -9` of the whole job (SIGKILL)."""
        os.killpg(self.process.pid, number)

    def finish(self, timeout: float = 600) -> int:
        code = self.process.wait(timeout)
        self.reader.join()
        with self.log.open("a") as handle:
            handle.write(f"\n$ terraform {' '.join(self.arguments)}  (in the background, exit {code})\n{self.output()}")
        return code

    def output(self) -> str:
        return "".join(self.lines)


def interrupted_killed_and_concurrent_deploys(
    rehearsal: Rehearsal, config: AppConfig, name: str, moving: tuple[str, ...] = ()
) -> list[Fault]:
    """Runbook steps 1-4 on maintenance-<env> (the one stack made to come and go), switched on and back off.
    `moving`: stacks another procedure changes meanwhile, left out of the check that nothing else moved."""
    stack = f"maintenance-{name}"
    env = config.workload(name)
    on = with_workload(
        config, env.model_copy(update={"maintenance": env.maintenance.model_copy(update={"enabled": True})})
    )
    before = holdings(rehearsal, name)
    bucket = rehearsal.output(f"state-{name}", "bucket-name")
    key = f"littil/{name}/maintenance.tfstate"
    s3 = client(rehearsal, name, "s3")

    # Two at once: the first waits at its approval prompt, holding the lock, as an operator's deploy does.
    state_before = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    fresh_synth(rehearsal, on, f"{stack}-fault-on", [stack])
    rehearsal.init(stack)
    first = Running(rehearsal, stack, "apply", "-input=true", "-no-color", interactive=True)
    first.wait_for(re.compile(r"Do you want to perform these actions"))
    second = rehearsal.tf(stack, *APPLY, "-lock-timeout=0s", ok=(1,))
    if REFUSED_BY_LOCK not in second or "Who:" not in second or "Created:" not in second:
        raise RehearsalFailure(f"{stack}: a second deploy at once was not refused by the lock:\n{second}")
    first.answer("no")
    if first.finish() == 0 or s3.get_object(Bucket=bucket, Key=key)["Body"].read() != state_before:
        raise RehearsalFailure(f"{stack}: the first deploy, cancelled at its prompt, changed the state")
    done = [("two deploys of one stack at once", "the second refused by the lock (who, since when)")]

    # Ctrl-C once the apply has created something; then the same deploy again (step 1).
    first = Running(rehearsal, stack, *APPLY)
    first.wait_for(CREATED)
    first.signal(signal.SIGINT)
    code = first.finish()
    if code == 0 or "Interrupt received" not in first.output():
        raise RehearsalFailure(f"{stack}: Ctrl-C did not stop the apply (exit {code}):\n{first.output()[-2000:]}")
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack])
    done.append(("deploy stopped with Ctrl-C mid-apply", "the same deploy again"))

    # kill -9 once the apply has created something: the lock stays, the state lacks what it made (steps 2-4).
    fresh_synth(rehearsal, config, f"{stack}-fault-off", [stack])
    rehearsal.apply(stack)
    fresh_synth(rehearsal, on, f"{stack}-fault-on-again", [stack])
    rehearsal.init(stack)
    killed = Running(rehearsal, stack, *APPLY)
    created = killed.wait_for(CREATED).group(1)
    killed.signal(signal.SIGKILL)
    killed.finish()
    refused = rehearsal.tf(stack, *APPLY, "-lock-timeout=0s", ok=(1,))
    lock = LOCK_ID.search(refused)
    if REFUSED_BY_LOCK not in refused or lock is None:
        raise RehearsalFailure(f"{stack}: after kill -9 the next deploy was not refused by the left lock:\n{refused}")
    rehearsal.tf(stack, "force-unlock", "-force", lock.group(1))
    imported = deploy_importing_orphans(rehearsal, name, stack)
    if created not in imported and created not in rehearsal.tf(stack, "state", "list").split():
        raise RehearsalFailure(f"{stack}: {created}, created before the kill, is neither imported nor in the state")
    rehearsal.assert_no_changes([stack])
    done.append(("deploy killed (kill -9) once it created resources", f"lock force-unlocked, {len(imported)} imported"))

    fresh_synth(rehearsal, config, f"{stack}-fault-done", [stack])
    rehearsal.apply(stack)
    survived = nothing_lost(rehearsal, name, before, [stack], moving)
    return [Fault(name, fault, recovery, survived) for fault, recovery in done]


def deploy_importing_orphans(rehearsal: Rehearsal, env: str, stack: str) -> list[str]:
    """Deploy; while it fails on objects that already exist, import them (runbook step 4). Returns the imported."""
    imported: list[str] = []
    for _ in range(5):
        output = rehearsal.tf(stack, *APPLY, ok=(0, 1))
        if "Apply complete!" in output:
            return imported
        errors = output.split("Error: ")[1:]
        existing = [ERROR_WITH.search(error) for error in errors if ALREADY_EXISTS.search(error)]
        if not errors or len(existing) != len(errors) or not all(existing):
            raise RehearsalFailure(f"{stack}: the deploy failed on more than existing objects:\n{output[-3000:]}")
        for found in existing:
            assert found is not None
            address = found.group(1)
            rehearsal.tf(
                stack, "import", "-input=false", "-no-color", address, import_id(rehearsal, env, stack, address)
            )
            imported.append(address)
    raise RehearsalFailure(f"{stack}: still failing on existing objects after importing {imported}")


def import_id(rehearsal: Rehearsal, env: str, stack: str, address: str) -> str:
    """The id `terraform import` takes for `address`: the runbook's table (step 4)."""
    synthesized = json.loads((rehearsal.workspace.stack_dir(stack) / "cdk.tf.json").read_text())
    kind, logical = address.split(".")

    def named(kind: str, logical: str) -> str:
        value: str = (
            synthesized["resource"][kind][logical].get("name") or synthesized["resource"][kind][logical]["bucket"]
        )
        reference = REFERENCE.match(value)
        return named(reference.group(1), reference.group(2)) if reference else value

    account = synthesized["provider"]["aws"][0]["allowed_account_ids"][0]
    if kind in ("aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_cloudwatch_log_group") or kind.startswith(
        "aws_s3_bucket"
    ):
        return named(kind, logical)
    if kind == "aws_iam_policy":
        return f"arn:aws:iam::{account}:policy/{named(kind, logical)}"
    if kind == "aws_security_group":
        groups = client(rehearsal, env, "ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [named(kind, logical)]}]
        )["SecurityGroups"]
        return str(groups[0]["GroupId"])
    if kind == "aws_ecs_service":
        cluster = REFERENCE.match(synthesized["resource"][kind][logical]["cluster"])
        assert cluster is not None
        return f"{named(cluster.group(1), cluster.group(2))}/{named(kind, logical)}"
    raise RehearsalFailure(f"{stack}: no import id for {kind} in docs/runbooks/recover-deploy.md step 4")


def damaged_state_objects(rehearsal: Rehearsal, name: str) -> list[Fault]:
    """Runbook step 5: one state object overwritten with an older version of itself, another deleted."""
    before = holdings(rehearsal, name)
    bucket = rehearsal.output(f"state-{name}", "bucket-name")
    s3 = client(rehearsal, name, "s3")
    stacks = stacks_keeping_state_in(rehearsal, bucket)
    older = {key: older_version(s3, bucket, key) for key in sorted(stacks)}
    overwritten = next((key for key, version in older.items() if version is not None), None)
    if overwritten is None:
        raise RehearsalFailure(f"{name}: no state object has an older version to be overwritten with")
    deleted = next(key for key in sorted(stacks, reverse=True) if key != overwritten)
    done = []
    for key in (overwritten, deleted):
        good = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if key == deleted:
            s3.delete_object(Bucket=bucket, Key=key)
        else:
            s3.put_object(Bucket=bucket, Key=key, Body=older[key])
        listed = json.loads(
            aws_cli(
                rehearsal,
                name,
                f"aws s3api list-object-versions --region eu-west-1 --output json --bucket {bucket} --prefix {key}"
                f" --query \"{{versions: Versions[?Key=='{key}'].[VersionId,LastModified,Size],"
                f" deleted: DeleteMarkers[?Key=='{key}'].[VersionId,LastModified]}}\"",
            )
        )
        entries = sorted(
            [(modified, version, "version") for version, modified, _ in listed["versions"] or []]
            + [(modified, version, "deleted") for version, modified in listed["deleted"] or []],
            reverse=True,
        )
        last_good = next(version for _, version, kind in entries[1:] if kind == "version")
        aws_cli(
            rehearsal,
            name,
            f"aws s3api copy-object --region eu-west-1 --bucket {bucket} --key {key}"
            f" --copy-source '{bucket}/{key}?versionId={last_good}'",
        )
        if s3.get_object(Bucket=bucket, Key=key)["Body"].read() != good:
            raise RehearsalFailure(f"{key}: the restored object is not the state it was before the damage")
        damage = "deleted" if key == deleted else "overwritten with an older version"
        done.append((f"state of {stacks[key]} {damage}", "last good version copied back"))
    survived = nothing_lost(rehearsal, name, before, [stacks[overwritten], stacks[deleted]])
    return [Fault(name, fault, recovery, survived) for fault, recovery in done]


def stacks_keeping_state_in(rehearsal: Rehearsal, bucket: str) -> dict[str, str]:
    """{state object key: stack} of the workspace's stacks whose backend is `bucket`."""
    found = {}
    for synthesized in rehearsal.workspace.stacks_dir.glob("*/cdk.tf.json"):
        backend = json.loads(synthesized.read_text())["terraform"].get("backend", {}).get("s3", {})
        if backend.get("bucket") == bucket:
            found[backend["key"]] = synthesized.parent.name
    return found


def older_version(s3: Any, bucket: str, key: str) -> bytes | None:
    """The oldest version of `key` that differs from the current one, if there is one."""
    versions = [v for v in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) if v["Key"] == key]
    current = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    for version in sorted(versions, key=lambda version: version["LastModified"]):
        body: bytes = s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])["Body"].read()
        if body != current:
            return body
    return None


def lost_local_state(rehearsal: Rehearsal, name: str) -> Fault:
    """Runbook step 6: state-<env>'s local state lost before it moved into its bucket; imported anew."""
    stack = f"state-{name}"
    before = holdings(rehearsal, name)
    for local in rehearsal.workspace.root.glob(f"terraform.{stack}.tfstate*"):
        local.unlink()
    missing = [address for address in rehearsal.changes(stack) if not address.startswith("output.")]
    if not missing:
        raise RehearsalFailure(f"{stack}: with its state lost, the plan should create every resource")
    for address in missing:
        rehearsal.tf(stack, "import", "-input=false", "-no-color", address, import_id(rehearsal, name, stack, address))
    left = [address for address in rehearsal.changes(stack) if not address.startswith("output.")]
    if left:
        raise RehearsalFailure(f"{stack}: after the imports the plan still changes {left}")
    rehearsal.apply(stack)  # writes the outputs, which an import does not
    survived = nothing_lost(rehearsal, name, before, [stack])
    return Fault(name, f"local state of {stack} lost", f"{len(missing)} resources imported", survived)
