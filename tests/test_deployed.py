"""What is deployed (tools/deployed): the guard before a deploy, the record after it, and reading it back.

The record's round trip through a real Terraform apply is rehearsed (tools/rehearse); here each part alone,
S3 and STS in moto's in-process mock.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tools.deployed import __main__ as deployed
from tools.deployed.record import Record, Standing, describe, fingerprint, location, standing
from tools.deployed.revision import current, problems, refusal

STACK: dict[str, Any] = {
    "terraform": {
        "backend": {
            "s3": {
                "bucket": "littil-nl-staging-terraform-state-111111111111",
                "encrypt": True,
                "key": "littil/staging/api.tfstate",
                "kms_key_id": "alias/aws/s3",
                "region": "eu-west-1",
            }
        }
    },
    "resource": {"aws_sns_topic": {"topic": {"name": "alerts"}}},
}


def a_record(stack: dict[str, Any], **changes: Any) -> Record:
    fields: dict[str, Any] = {
        "stack": "api-staging",
        "action": "deploy",
        "commit": "c0ffee" * 6 + "abcd",
        "on_main": True,
        "uncommitted": (),
        "reason": "",
        "fingerprint": fingerprint(stack),
        "at": "2026-12-01T10:00:00Z",
        "by": "arn:aws:iam::111111111111:user/alice",
    }
    return Record(**{**fields, **changes})


# Where the record lives and what it says.


def test_every_stack_in_a_bucket_has_its_record_beside_its_state_and_no_two_share_one(
    synthesized: Path,
) -> None:
    stacks = {path.parent.name: json.loads(path.read_text()) for path in synthesized.glob("stacks/*/cdk.tf.json")}
    places = {}
    for name, stack in stacks.items():
        backend = stack["terraform"]["backend"]
        where = location(stack)
        if "s3" not in backend:
            assert where is None, name  # state-<env> while its state is local
            continue
        assert where is not None
        state = backend["s3"]
        assert (where.bucket, where.region) == (state["bucket"], state["region"])
        assert where.key == state["key"].removesuffix(".tfstate") + ".deployed.json"
        places[name] = where.url
    assert len(set(places.values())) == len(places)
    assert places


def test_the_fingerprint_changes_with_any_value_and_ignores_key_order() -> None:
    reordered = json.loads(json.dumps(STACK, sort_keys=True)[::1])
    reordered = dict(reversed(list(reordered.items())))
    assert fingerprint(reordered) == fingerprint(STACK)
    changed = json.loads(json.dumps(STACK))
    changed["resource"]["aws_sns_topic"]["topic"]["name"] = "alerts2"
    assert fingerprint(changed) != fingerprint(STACK)


@pytest.mark.parametrize(
    ("record", "expected", "says"),
    [
        (a_record(STACK), Standing.CURRENT, "up to date: deployed c0ffeec0ffee at 2026-12-01T10:00:00Z by arn:"),
        (
            a_record({**STACK, "output": {}}, reason="hotfix", uncommitted=("envs/staging.hcl",)),
            Standing.BEHIND,
            "not deployed: deployed c0ffeec0ffee+uncommitted at 2026-12-01T10:00:00Z by arn:aws:iam::111111111111:"
            "user/alice, reason: hotfix; changed since (make review BASE=c0ffeec0ffee shows how)",
        ),
        (a_record(STACK, action="destroy"), Standing.DESTROYED, "destroyed: destroyed c0ffeec0ffee at"),
        (None, Standing.UNKNOWN, "nothing recorded: no deploy of this stack has written a record yet"),
    ],
    ids=["current", "behind", "destroyed", "none"],
)
def test_a_record_against_a_synthesis_says_whether_it_is_deployed(
    record: Record | None, expected: Standing, says: str
) -> None:
    assert standing(record, STACK) is expected
    assert describe(record, STACK).startswith(says)


def test_a_record_survives_its_json() -> None:
    record = a_record(STACK, uncommitted=("a", "b"), reason="why")
    assert Record.from_json(record.to_json()) == record


# The guard: committed, and on main.


def git(root: Path, *arguments: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    done = subprocess.run(["git", *identity, *arguments], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet", "--initial-branch", "main")
    (tmp_path / ".gitignore").write_text("cdktf.out/\n")
    (tmp_path / "main.py").write_text("print(1)\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "one")
    return tmp_path


def on_feature_branch(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", "feature")
    (repo / "main.py").write_text("print(2)\n")
    git(repo, "commit", "--quiet", "-am", "two")


def older_main_commit(repo: Path) -> None:
    (repo / "main.py").write_text("print(2)\n")
    git(repo, "commit", "--quiet", "-am", "two")
    git(repo, "checkout", "--quiet", "--detach", "HEAD~1")


def staged_file(repo: Path) -> None:
    (repo / "new.py").write_text("")
    git(repo, "add", "new.py")


def branch_and_edit(repo: Path) -> None:
    on_feature_branch(repo)
    (repo / "x").write_text("")


# Each way a tree can differ from what was reviewed and merged, and what the guard says of it.
CASES: dict[str, tuple[Callable[[Path], object], list[str]]] = {
    "untracked file": (lambda r: (r / "envs.hcl").write_text("x"), ["changes nobody reviewed (envs.hcl)"]),
    "edited file": (lambda r: (r / "main.py").write_text("print(3)\n"), ["changes nobody reviewed (main.py)"]),
    "staged file": (staged_file, ["changes nobody reviewed (new.py)"]),
    "commit on a branch": (on_feature_branch, ["is not on main (merge the pull request first)"]),
    "branch and an edit": (branch_and_edit, ["changes nobody reviewed (x)", "is not on main"]),
    "no main branch": (lambda r: git(r, "branch", "-m", "main", "trunk"), ["no main branch to compare with"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_guard_refuses_what_was_not_reviewed_and_merged(repo: Path, case: str) -> None:
    make_it, expected = CASES[case]
    make_it(repo)
    found = problems(current(repo, fetch=False))
    assert len(found) == len(expected)
    for problem, words in zip(found, expected, strict=True):
        assert words in problem
    assert 'make deploy ... REASON="<why>"' in refusal("deploy", found)


@pytest.mark.parametrize("state", ["main's head", "an older commit of main"])
def test_the_guard_lets_main_through_and_an_older_commit_of_it(repo: Path, state: str) -> None:
    if state == "an older commit of main":
        older_main_commit(repo)
    (repo / "cdktf.out").mkdir()  # ignored files are no change
    (repo / "cdktf.out" / "x.json").write_text("{}")
    revision = current(repo, fetch=False)
    assert problems(revision) == []
    assert revision.commit == git(repo, "rev-parse", "HEAD")


def test_a_reason_lets_the_deploy_go_ahead_and_says_what_it_overrides(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on_feature_branch(repo)
    revision = current(repo, fetch=False)
    monkeypatch.delenv("REASON", raising=False)
    assert deployed.guard("destroy", revision) == 2
    assert "make destroy: refused before Terraform starts: commit" in capsys.readouterr().err
    monkeypatch.setenv("REASON", "  ")
    assert deployed.guard("destroy", revision) == 2
    monkeypatch.setenv("REASON", "incident 12: the database is down")
    assert deployed.guard("destroy", revision) == 0
    said = capsys.readouterr().out
    assert "going ahead although commit" in said
    assert "reason: incident 12: the database is down" in said


# The record: written beside the state only for what Terraform applied, and read back.


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto import mock_aws

    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = deployed.s3_client("eu-west-1")
        bucket = STACK["terraform"]["backend"]["s3"]["bucket"]
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield s3


def outdir_with(tmp_path: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    for name, stack in stacks.items():
        (tmp_path / "out" / "stacks" / name).mkdir(parents=True)
        (tmp_path / "out" / "stacks" / name / "cdk.tf.json").write_text(json.dumps(stack))
    return tmp_path / "out"


def test_only_what_terraform_applied_is_recorded_and_it_reads_back_as_deployed(
    aws: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(deployed, "REPO", repo)
    monkeypatch.setenv("REASON", "")
    local = {"terraform": {"backend": {"local": {"path": "x.tfstate"}}}}
    outdir = outdir_with(tmp_path, {"api-staging": STACK, "network-staging": STACK, "state-staging": local})
    applied = tmp_path / "applied"
    applied.mkdir()
    (applied / "api-staging").touch()
    (applied / "state-staging").touch()
    # network-staging's plan was dismissed: no mark, no record, and the command says so.
    assert deployed.record(outdir, ["api-staging", "state-staging", "network-staging"], "deploy", applied) == 1
    said = capsys.readouterr().out
    assert "network-staging: not deployed (the plan was dismissed, or Terraform stopped): nothing recorded" in said
    assert "state-staging: its state is still local" in said
    where = location(STACK)
    assert where is not None
    stored = aws.get_object(Bucket=where.bucket, Key=where.key)
    assert stored["ServerSideEncryption"] == "aws:kms"  # as the backend encrypts the state beside it
    written = Record.from_json(stored["Body"].read().decode())
    assert (written.commit, written.on_main, written.action) == (git(repo, "rev-parse", "HEAD"), True, "deploy")
    assert written.by.startswith("arn:aws:")
    assert deployed.read(where, aws) == written
    assert standing(written, STACK) is Standing.CURRENT
    assert deployed.listing(outdir, ["api-staging"]) == 0
    assert "api-staging  up to date: deployed" in capsys.readouterr().out


def test_a_record_that_cannot_be_written_fails_and_says_the_apply_itself_succeeded(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(deployed, "REPO", repo)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    outdir = outdir_with(tmp_path, {"api-staging": STACK})
    (tmp_path / "applied").mkdir()
    (tmp_path / "applied" / "api-staging").touch()
    assert deployed.record(outdir, ["api-staging"], "deploy", tmp_path / "applied") == 1
    error = capsys.readouterr().err
    assert "api-staging: the deploy succeeded, but its record could not be written to s3://" in error
    assert "make deploy STACK=api-staging" in error


# tools/terraform-applied: cdktf's Terraform, marking what it applied or destroyed.

STUB = '#!/bin/sh\necho "$@" > "$CALLED"\nexit "$EXIT"\n'


@pytest.mark.parametrize(
    ("command", "exit_code", "marked"),
    [("apply", 0, True), ("destroy", 0, True), ("apply", 1, False), ("destroy", 1, False), ("plan", 0, False)],
)
def test_the_terraform_wrapper_marks_only_a_successful_apply_or_destroy(
    tmp_path: Path, command: str, exit_code: int, marked: bool
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "terraform").write_text(STUB)
    (tmp_path / "bin" / "terraform").chmod(0o755)
    stack_dir, applied = tmp_path / "stacks" / "api-staging", tmp_path / "applied"
    stack_dir.mkdir(parents=True)
    applied.mkdir()
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "CALLED": str(tmp_path / "called"),
        "EXIT": str(exit_code),
        "LITTIL_APPLIED_DIR": str(applied),
        "PWD": str(tmp_path),  # inherited from elsewhere, as from node-pty: the mark names the real directory
    }
    arguments = [command, "-auto-approve", "-var=x=a b"]
    result = subprocess.run(
        [str(REPO / "tools" / "terraform-applied"), *arguments], cwd=stack_dir, env=env, check=False
    )
    assert result.returncode == exit_code
    assert (tmp_path / "called").read_text() == " ".join(arguments) + "\n"
    assert [path.name for path in applied.iterdir()] == (["api-staging"] if marked else [])
