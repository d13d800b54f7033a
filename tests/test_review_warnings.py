"""What `make review` says that Terraform's plan lines do not (tools/review/warnings.py): each kind of warning."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.test_review import DB, report_for, revision
from tests.tf import Stack, only
from tools.review.compare import compare
from tools.review.render import render


def test_an_environment_whose_file_goes_is_said_to_leave_its_stacks_unmanaged(stacks: dict[str, Stack]) -> None:
    after = {name: stack for name, stack in stacks.items() if not name.endswith("-staging")}
    reports = compare(stacks, after)
    leaving = sorted(report.name for report in reports if any("leaves the app" in w for w in report.warnings))
    assert leaving == sorted(name for name in stacks if name.endswith("-staging"))
    assert "!!! state-staging leaves the app (its environment file removed or renamed?)" in render(
        reports, stacks, after
    )


def test_a_new_state_stack_that_keeps_its_state_in_its_own_bucket_cannot_start(stacks: dict[str, Stack]) -> None:
    after = copy.deepcopy(stacks)
    after["state-uat"] = copy.deepcopy(stacks["api-staging"])  # a stack with an s3 backend, under a new name
    (warning,) = report_for(stacks, after, "state-uat").warnings
    assert warning.startswith("state-uat is new but keeps its own state in the bucket it is about to create")
    after["state-uat"] = copy.deepcopy(stacks["state-staging"])  # a local backend: the bootstrap way
    assert report_for(stacks, after, "state-uat").warnings == []


def test_a_new_database_name_is_said_loudly_although_terraform_ignores_it(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    name, instance = only(database["resource"][DB])
    instance["db_name"] = "littil"
    report = report_for(stacks, after, "database-staging")
    assert report.changed == {}  # db_name is in ignore_changes: the plan shows nothing ...
    assert report.warnings == [  # ... but the API would look for a database that is not there
        f"{DB}.{name}: database name LittilDatabase -> littil: Terraform leaves the database as it is"
        " (db_name is ignored once created), but the API will connect to littil, which does not exist"
    ]
    assert "!!! 1 change(s) above hurt without destroying anything" in render(compare(stacks, after), stacks, after)


def test_a_major_engine_upgrade_is_flagged_and_needs_the_config_switch(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    name, instance = only(database["resource"][DB])
    instance["engine_version"] = "11.4"
    (refused,) = report_for(stacks, after, "database-staging").warnings
    assert refused == (
        f"{DB}.{name}: MAJOR engine upgrade 10.11 -> 11.4:"
        " RDS refuses it unless database.allow_major_version_upgrade = true"
    )
    instance["allow_major_version_upgrade"] = True
    (allowed,) = report_for(stacks, after, "database-staging").warnings
    assert allowed.endswith("11.4: the database restarts (downtime); take a snapshot first")
    instance["engine_version"] = "10.11.9"  # a minor upgrade is an ordinary change
    assert report_for(stacks, after, "database-staging").warnings == []


def sealed_key_stack(statement_actions: list[str], *, sealed: bool = True) -> Stack:
    """A stack of one key whose policy is a policy document, as modules/backup/key.py writes it."""
    key: dict[str, Any] = {"policy": "${data.aws_iam_policy_document.key_policy.json}", "enable_key_rotation": True}
    if sealed:
        key["bypass_policy_lockout_safety_check"] = True
    return {
        "resource": {"aws_kms_key": {"key": key}},
        "data": {"aws_iam_policy_document": {"key_policy": {"statement": [{"actions": statement_actions}]}}},
    }


@pytest.mark.same_for_any_environments
def test_a_new_policy_for_a_sealed_key_is_flagged_as_an_apply_that_fails() -> None:
    before = {"vaults": sealed_key_stack(["kms:Decrypt"])}
    (report,) = compare(before, {"vaults": sealed_key_stack(["kms:Decrypt", "kms:Encrypt"])})
    assert report.dangerous
    (warning,) = report.warnings
    assert warning.startswith("aws_kms_key.key: its key policy would change, but the key is sealed")
    # A policy pointed at another document is the same change; other changes of the key are not.
    pointed = sealed_key_stack(["kms:Decrypt"])
    pointed["resource"]["aws_kms_key"]["key"]["policy"] = "${data.aws_iam_policy_document.other.json}"
    assert compare(before, {"vaults": pointed})[0].warnings == [warning]
    described = sealed_key_stack(["kms:Decrypt"])
    described["resource"]["aws_kms_key"]["key"]["description"] = "copies"
    assert compare(before, {"vaults": described})[0].warnings == []


@pytest.mark.same_for_any_environments
def test_a_new_policy_for_an_ordinary_key_is_an_ordinary_change() -> None:
    before = {"database": sealed_key_stack(["kms:Decrypt"], sealed=False)}
    (report,) = compare(before, {"database": sealed_key_stack(["kms:Encrypt"], sealed=False)})
    assert list(report.changed) == ["data.aws_iam_policy_document.key_policy"]
    assert report.warnings == []


def test_reordered_zones_replace_subnets_and_are_flagged(stacks: dict[str, Stack]) -> None:
    """What availability_zones = [b, a] instead of [a, b] does: each subnet gets the other zone, and is replaced."""
    after = copy.deepcopy(stacks)
    subnets = after["network-staging"]["resource"]["aws_subnet"]
    zones = {name: body["availability_zone"] for name, body in subnets.items()}
    ordered = sorted(set(zones.values()))
    for body in subnets.values():
        body["availability_zone"] = ordered[1 - ordered.index(body["availability_zone"])]
    (report,) = [r for r in compare(stacks, after) if r.name == "network-staging"]
    assert sorted(report.replaced) == sorted(f"aws_subnet.{name}" for name in subnets)
    assert len(report.warnings) == len(subnets)
    assert all("availability_zones reordered?" in warning for warning in report.warnings)
    assert report.dangerous
