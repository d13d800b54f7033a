"""The offline change report (`make review`): replacements and destroys are caught, and shouted."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.tf import Stack, only, resources
from tools.review import compare, render

DB = "aws_db_instance"


def revision(stacks: dict[str, Stack], stack_name: str) -> tuple[dict[str, Stack], dict[str, Any]]:
    """A copy of the synthesized app to edit like a code change would, and the stack to edit."""
    after = copy.deepcopy(stacks)
    return after, after[stack_name]


def report_for(before: dict[str, Stack], after: dict[str, Stack], stack_name: str) -> Any:
    (report,) = [r for r in compare(before, after) if r.name == stack_name]
    return report


def test_an_unchanged_app_reports_nothing(stacks: dict[str, Stack]) -> None:
    reports = compare(stacks, stacks)
    assert all(report.empty for report in reports)
    assert render(reports, stacks, stacks).endswith(
        "No stateful resource is destroyed or replaced. Confirm with make plan STACK=<stack>."
    )


def test_a_changed_database_identifier_is_a_loud_replacement(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    name, instance = only(database["resource"][DB])
    instance["identifier"] = "littil-nl-staging-database"
    instance["backup_retention_period"] = 14
    report = report_for(stacks, after, "database-staging")
    address = f"{DB}.{name}"
    assert report.replaced == {address: ["identifier"]}
    assert report.changed[address] == ["backup_retention_period", "identifier"]
    assert report.destructive == [address]
    text = render(compare(stacks, after), stacks, after)
    assert (
        f"database-staging: 1 to REPLACE\n  !!! REPLACE {address}: loses the database and its automated backups" in text
    )
    assert "!!! 1 stateful resource(s) destroyed or replaced: database-staging/" in text


def test_an_in_place_change_is_not_a_replacement(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    _, instance = only(database["resource"][DB])
    instance["instance_class"] = "db.t4g.small"
    report = report_for(stacks, after, "database-staging")
    assert report.replaced == {}
    assert report.destructive == []
    assert list(report.changed.values()) == [["instance_class"]]


def test_ignored_attributes_are_not_changes(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    _, instance = only(database["resource"][DB])
    instance["snapshot_identifier"] = "restore-me"  # in lifecycle.ignore_changes
    assert report_for(stacks, after, "database-staging").empty


def test_a_renamed_construct_id_destroys_and_recreates_and_says_so(stacks: dict[str, Stack]) -> None:
    after, state = revision(stacks, "state-staging")
    old = only(state["resource"]["aws_s3_bucket"])[0]
    state["resource"]["aws_s3_bucket"] = {
        "terraform-state_bucket_1234ABCD": state["resource"]["aws_s3_bucket"].pop(old)
    }
    report = report_for(stacks, after, "state-staging")
    assert report.removed == [f"aws_s3_bucket.{old}"]
    assert report.added == ["aws_s3_bucket.terraform-state_bucket_1234ABCD"]
    assert report.renamed == {f"aws_s3_bucket.{old}": "aws_s3_bucket.terraform-state_bucket_1234ABCD"}
    assert report.destructive == [f"aws_s3_bucket.{old}"]
    text = render(compare(stacks, after), stacks, after)
    assert f"!!! DESTROY aws_s3_bucket.{old}: loses Terraform state" in text
    assert "declare the move: move_to / moved" in text


def test_switching_the_api_variant_shows_what_goes_and_what_comes(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    before = {name: stacks[name] for name in toggled}
    reports = {r.name: r for r in compare(before, toggled)}
    api = reports["api-production"]
    assert any(address.startswith("aws_instance.") for address in api.removed)
    assert any(address.startswith("aws_ecs_service.") for address in api.added)
    assert any(address.startswith("aws_lb.") for address in api.added)
    # The Elastic IP goes with the EC2 variant: the address DNS points at is lost, and that is flagged.
    assert [a for a in reports["network-production"].destructive if a.startswith("aws_eip.")] == reports[
        "network-production"
    ].removed
    assert reports["database-production"].empty
    assert reports["api-staging"].empty
    assert not reports["maintenance-staging"].destructive


def test_a_task_definition_change_is_a_new_revision_not_a_destroy_of_data(stacks: dict[str, Stack]) -> None:
    after, api = revision(stacks, "api-staging")
    name, task = only(resources(api, "aws_ecs_task_definition"))
    task["cpu"] = "512"
    report = report_for(stacks, after, "api-staging")
    assert report.replaced == {f"aws_ecs_task_definition.{name}": ["cpu"]}
    assert report.destructive == []


FAKE_MAIN = """import os, pathlib, shutil
out = pathlib.Path(os.environ["CDKTF_OUTDIR"]) / "stacks" / "database-staging"
out.mkdir(parents=True)
shutil.copy("database-staging.json", out / "cdk.tf.json")
"""


def test_review_compares_two_git_revisions_and_exits_2_on_a_database_replacement(
    stacks: dict[str, Stack], tmp_path: Path
) -> None:
    """The git plumbing of `make review` on a scratch repository whose `main.py` emits real synthesized JSON."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(FAKE_MAIN)
    (repo / "database-staging.json").write_text(json.dumps(stacks["database-staging"]))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "--quiet"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "before"], cwd=repo, check=True)
    after, database = revision(stacks, "database-staging")
    name, instance = only(database["resource"][DB])
    instance["engine"] = "mysql"
    (repo / "database-staging.json").write_text(json.dumps(after["database-staging"]))

    result = subprocess.run(
        [sys.executable, "-m", "tools.review", "--repo", str(repo), "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"!!! REPLACE {DB}.{name}: loses the database" in result.stdout
    assert f"-/+ {DB}.{name}  (forced by engine)" in result.stdout
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True, check=True)
    assert len(worktrees.stdout.splitlines()) == 1  # the temporary worktree is gone again
