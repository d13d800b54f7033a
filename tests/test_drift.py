"""The nightly drift check: each plan's result, and what it does to the `drift` issues (the commands and the
workflow that run them: test_drift_workflow.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import REPO
from tools.deployed.record import Record, fingerprint
from tools.drift.issues import (
    Close,
    Comment,
    Edit,
    Issue,
    Links,
    Open,
    decide,
    gh_command,
    summary,
)
from tools.drift.results import MAX_LINES, Result, Status, record, stacks_to_check, waiting

# Neither the decisions nor the workflow depend on the environments: the added-environment run leaves this file out.
pytestmark = pytest.mark.same_for_any_environments

LINKS = Links(
    run="https://github.com/Devoxx4Kids-NPO/littil-infra/actions/runs/42",
    runbook="https://github.com/Devoxx4Kids-NPO/littil-infra/blob/main/docs/runbooks/answer-drift.md",
)
# What `terraform show -no-color` prints for a saved plan with drift, shortened.
SHOW = """\
Note: Objects have changed outside of Terraform

Terraform detected the following changes made outside of Terraform since the
last "terraform apply" which may have affected this plan:

  # aws_security_group.api_sg has changed
  ~ resource "aws_security_group" "api_sg" {
        id = "sg-0123456789abcdef0"
      ~ ingress = [
          + {
              + cidr_blocks = [
                  + "0.0.0.0/0",
                ]
            },
        ]
        # (8 unchanged attributes hidden)
    }

Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  ~ update in-place

Terraform will perform the following actions:

  # aws_security_group.api_sg will be updated in-place
  ~ resource "aws_security_group" "api_sg" {
        # (8 unchanged attributes hidden)
    }

Plan: 0 to add, 1 to change, 0 to destroy.
"""
CHANGES = (
    "Note: Objects have changed outside of Terraform",
    "  # aws_security_group.api_sg has changed",
    "Terraform will perform the following actions:",
    "  # aws_security_group.api_sg will be updated in-place",
    "Plan: 0 to add, 1 to change, 0 to destroy.",
)


NO_RECORD = "No deployment record (deployed before make deploy kept them, or not with it): drift, or not deployed."


def drifting(stack: str, *lines: str) -> Result:
    return Result(stack, Status.DRIFT, lines or CHANGES)


def issue_for(number: int, action: Open) -> Issue:
    """The issue as GitHub lists it after `action` opened it."""
    return Issue(number, action.title, action.body)


# Recording one plan's result.


def test_a_drifting_plan_keeps_the_resource_lines_and_the_count_but_no_values() -> None:
    result = record("api-staging", "LITTIL_PLAN_ROLE_STAGING", True, "2", SHOW)
    assert result == Result("api-staging", Status.DRIFT, (NO_RECORD, *CHANGES))
    assert not any("0.0.0.0/0" in line for line in result.lines)


def deployment(stack: dict[str, Any], *, action: str = "deploy") -> Record:
    return Record(
        stack="api-staging",
        action=action,
        commit="1a2b3c4d5e6f" + "0" * 28,
        on_main=True,
        uncommitted=(),
        reason="",
        fingerprint=fingerprint(stack),
        at="2026-12-01T10:00:00Z",
        by="arn:aws:sts::111111111111:assumed-role/admin/alice",
    )


MAIN = {"resource": {"aws_security_group": {"api_sg": {"description": "the API"}}}}
BEFORE_THE_MERGE = {"resource": {"aws_security_group": {"api_sg": {"description": "the API's tasks"}}}}


@pytest.mark.parametrize(
    ("deployed", "status", "says"),
    [
        (deployment(MAIN), Status.DRIFT, "main is what was deployed 1a2b3c4d5e6f at 2026-12-01T10:00:00Z by arn:"),
        (
            deployment(BEFORE_THE_MERGE),
            Status.UNDEPLOYED,
            "main changed this stack since it was deployed 1a2b3c4d5e6f at 2026-12-01T10:00:00Z by arn:aws:sts::"
            "111111111111:assumed-role/admin/alice: make review BASE=1a2b3c4d5e6f shows how",
        ),
        (deployment(BEFORE_THE_MERGE, action="destroy"), Status.DRIFT, "Last destroyed 1a2b3c4d5e6f at"),
        (None, Status.DRIFT, NO_RECORD),
    ],
    ids=["main-deployed", "merged-not-deployed", "destroyed", "no-record"],
)
def test_changes_are_drift_unless_main_changed_the_stack_since_its_recorded_deploy(
    deployed: Record | None, status: Status, says: str
) -> None:
    result = record("api-staging", "LITTIL_PLAN_ROLE_STAGING", True, "2", SHOW, deployed=deployed, synthesized=MAIN)
    assert result.status is status
    assert result.lines[0].startswith(says), result.lines[0]
    assert result.lines[1:] == CHANGES


def test_a_long_drift_is_trimmed_and_says_how_much_was_left_out() -> None:
    show = "".join(f"  # aws_ssm_parameter.p{n} will be updated in-place\n" for n in range(100))
    lines = record("api-staging", "LITTIL_PLAN_ROLE_STAGING", True, "2", show).lines[1:]
    assert lines[: MAX_LINES - 1] == tuple(f"  # aws_ssm_parameter.p{n} will be updated in-place" for n in range(59))
    assert lines[MAX_LINES - 1 :] == ("... and 41 more lines",)


def test_exit_codes_mean_clean_and_failed_and_a_plan_that_never_ran_failed() -> None:
    assert record("registry", "LITTIL_PLAN_ROLE_SHARED", True, "0", "No changes.") == Result("registry", Status.CLEAN)
    error = "Initializing...\n\nError: AccessDenied: not authorized to perform sts:AssumeRoleWithWebIdentity\n"
    assert record("registry", "LITTIL_PLAN_ROLE_SHARED", True, "1", error) == Result(
        "registry",
        Status.FAILED,
        ("Initializing...", "Error: AccessDenied: not authorized to perform sts:AssumeRoleWithWebIdentity"),
    )
    # The credentials step failed, so the plan step never wrote an exit code or any output.
    assert record("registry", "LITTIL_PLAN_ROLE_SHARED", True, "", "") == Result(
        "registry", Status.FAILED, ("The job failed before the plan ran: see the run's log.",)
    )


def test_an_account_without_its_plan_role_variable_is_skipped_and_says_which_variable() -> None:
    assert record("api-production", "LITTIL_PLAN_ROLE_PRODUCTION", False, "", "") == Result(
        "api-production", Status.SKIPPED, ("the repository variable `LITTIL_PLAN_ROLE_PRODUCTION` is not set",)
    )


# Deciding what happens to the issues.


def test_new_drift_opens_one_issue_that_names_the_stack_the_run_the_changes_and_the_runbook() -> None:
    decided = decide([drifting("api-staging"), Result("registry", Status.CLEAN)], [], LINKS)
    assert decided["registry"] == []
    (opened,) = decided["api-staging"]
    assert isinstance(opened, Open)
    assert opened.title == "Drift: api-staging"
    assert "`api-staging` in AWS differs from what the code on `main` says" in opened.body
    assert f"**Run:** {LINKS.run}" in opened.body
    assert "```\n" + "\n".join(CHANGES) + "\n```" in opened.body
    assert f"[answer drift]({LINKS.runbook})" in opened.body
    assert "`make plan STACK=api-staging`" in opened.body
    assert gh_command(opened) == [
        "gh", "issue", "create", "--title", "Drift: api-staging", "--body", opened.body, "--label", "drift",
    ]  # fmt: skip


def test_persisting_drift_updates_its_issue_and_comments_only_when_the_changes_differ() -> None:
    (first,) = decide([drifting("api-staging")], [], LINKS)["api-staging"]
    assert isinstance(first, Open)
    open_issues = [issue_for(7, first)]
    tomorrow = Links(run=LINKS.run.replace("/42", "/43"), runbook=LINKS.runbook)
    (same,) = decide([drifting("api-staging")], open_issues, tomorrow)["api-staging"]
    assert same == Edit(7, first.body.replace("/runs/42", "/runs/43"))
    more = drifting("api-staging", *CHANGES, "  # aws_iam_role.api will be updated in-place")
    edit, comment = decide([more], open_issues, tomorrow)["api-staging"]
    assert isinstance(edit, Edit)
    assert edit.number == 7
    assert "  # aws_iam_role.api will be updated in-place" in edit.body
    assert comment == Comment(
        7, f"What would change is different now ({tomorrow.run}); the description shows the new plan."
    )


def test_a_clean_plan_closes_the_drift_issue_and_the_failure_issue_with_a_comment() -> None:
    issues = [Issue(7, "Drift: api-staging", ""), Issue(8, "Drift check failed: api-staging", "")]
    assert decide([Result("api-staging", Status.CLEAN)], issues, LINKS)["api-staging"] == [
        Close(7, f"The plan of `api-staging` shows no changes ({LINKS.run}): AWS and the code agree again."),
        Close(8, f"The plan of `api-staging` runs again ({LINKS.run})."),
    ]
    assert gh_command(Close(7, "why")) == ["gh", "issue", "close", "7", "--comment", "why"]


def test_failed_or_skipped_plans_never_close_an_issue() -> None:
    issues = [Issue(7, "Drift: api-staging", ""), Issue(9, "Drift: registry", "")]
    failed = record("api-staging", "LITTIL_PLAN_ROLE_STAGING", True, "1", "Error: ExpiredToken")
    skipped = record("registry", "LITTIL_PLAN_ROLE_SHARED", False, "", "")
    decided = decide([failed, skipped], issues, LINKS)
    assert decided["registry"] == []
    # The drift issue stays as it is; the failure gets an issue of its own.
    (opened,) = decided["api-staging"]
    assert isinstance(opened, Open)
    assert opened.title == "Drift check failed: api-staging"
    assert "could not plan `api-staging`" in opened.body
    assert "```\nError: ExpiredToken\n```" in opened.body
    # The step of the runbook the body points to is the one about a failing check.
    assert f"follow step 6 of [answer drift]({LINKS.runbook})" in opened.body
    assert "\n6. **`Drift check failed: <stack>`.**" in (REPO / "docs" / "runbooks" / "answer-drift.md").read_text()
    # A second failure updates that issue, without a comment each night.
    again = decide([failed], [*issues, Issue(10, opened.title, opened.body)], LINKS)["api-staging"]
    assert again == [Edit(10, opened.body)]


def test_drift_seen_again_closes_the_failure_issue_and_keeps_the_drift_issue() -> None:
    (opened,) = decide([drifting("api-staging")], [], LINKS)["api-staging"]
    assert isinstance(opened, Open)
    issues = [issue_for(7, opened), Issue(8, "Drift check failed: api-staging", "")]
    assert decide([drifting("api-staging")], issues, LINKS)["api-staging"] == [
        Edit(7, opened.body),
        Close(8, f"The plan of `api-staging` runs again ({LINKS.run})."),
    ]


def test_titles_match_exactly_so_one_stack_never_touches_a_similarly_named_stacks_issue() -> None:
    issues = [Issue(3, "Drift: api-staging-2", ""), Issue(4, "drift: api-staging", ""), Issue(5, "Drift: api", "")]
    assert decide([Result("api-staging", Status.CLEAN)], issues, LINKS)["api-staging"] == []
    (opened,) = decide([drifting("api-staging")], issues, LINKS)["api-staging"]
    assert isinstance(opened, Open)
    assert opened.title == "Drift: api-staging"


def test_the_summary_has_a_row_per_stack_and_lists_open_issues_this_run_did_not_check() -> None:
    results = [
        drifting("api-staging"),
        Result("registry", Status.CLEAN),
        record("api-production", "LITTIL_PLAN_ROLE_PRODUCTION", False, "", ""),
        Result("network-staging", Status.FAILED, ("Error: x",)),
    ]
    issues = [Issue(2, "Drift: registry", ""), Issue(6, "Drift: maintenance-shared", "")]
    text = summary(results, decide(results, issues, LINKS), issues)
    assert text.splitlines()[4:] == [
        "| `api-production` | skipped: the repository variable `LITTIL_PLAN_ROLE_PRODUCTION` is not set | - |",
        "| `api-staging` | **drift** | opens “Drift: api-staging” |",
        "| `network-staging` | **plan failed** | opens “Drift check failed: network-staging” |",
        "| `registry` | no changes | closes #2 |",
        "",
        "Open `drift` issues without a result in this run (left as they are):",
        "- #6 Drift: maintenance-shared",
    ]


def test_the_stacks_checked_are_those_that_keep_their_state_in_a_bucket_each_with_its_accounts_role() -> None:
    def stack(env: str, backend: str) -> dict[str, Any]:
        tags = {"tags": {"Environment": env}}
        return {
            "provider": {"aws": [{"region": "eu-west-1", "default_tags": [tags]}]},
            "terraform": {"backend": {backend: {}}},
        }

    stacks = {"api-production": stack("production", "s3"), "state-production": stack("production", "local")}
    # No GitHub environment: a scheduled run of main is trusted by every plan role, and nobody waits to approve it.
    assert stacks_to_check(stacks) == [
        {
            "stack": "api-production",
            "environment": "production",
            "region": "eu-west-1",
            "role_variable": "LITTIL_PLAN_ROLE_PRODUCTION",
            "github_environment": "",
        }
    ]


def placeholder_guarded(stack: dict[str, Any], refusal: str) -> dict[str, Any]:
    """`stack` as stacks/base.py writes it while an account id it needs is a placeholder."""
    guard = {"precondition": [{"condition": "${length(local.placeholder-accounts) == 0}", "error_message": refusal}]}
    return {**stack, "locals": {"placeholder-accounts": ["222222222222"]}, "output": {"placeholder-account-ids": guard}}


REFUSAL = (
    'envs/production.hcl: account_id: "222222222222" is a placeholder. Put ... before deploying backup-vaults-shared'
)


def test_a_stack_a_placeholder_keeps_from_deploying_is_not_planned_but_waits_with_its_refusal() -> None:
    stack = {
        "provider": {"aws": [{"region": "eu-west-1", "default_tags": [{"tags": {"Environment": "shared"}}]}]},
        "terraform": {"backend": {"s3": {}}},
    }
    stacks = {"backup-vaults-shared": placeholder_guarded(stack, REFUSAL), "registry": stack}
    assert [entry["stack"] for entry in stacks_to_check(stacks)] == ["registry"]
    assert waiting(stacks) == [Result("backup-vaults-shared", Status.WAITING, (REFUSAL,))]


def test_the_shipped_placeholder_production_account_keeps_exactly_the_guarded_stacks_waiting(
    stacks: dict[str, Any],
) -> None:
    held = {result.stack for result in waiting(stacks)}
    assert held == {name for name, stack in stacks.items() if "placeholder-account-ids" in stack.get("output", {})}
    assert "backup-vaults-shared" in held  # production's id is a placeholder in the shipped envs/
    assert not held & {entry["stack"] for entry in stacks_to_check(stacks)}


def test_a_waiting_stack_is_said_once_in_an_issue_of_its_own_and_its_failure_issue_closes() -> None:
    result = Result("backup-vaults-shared", Status.WAITING, (REFUSAL,))
    failed = Issue(4, "Drift check failed: backup-vaults-shared", "...")
    (opened, closed) = decide([result], [failed], LINKS)["backup-vaults-shared"]
    assert isinstance(opened, Open)
    assert opened.title == "Not deployable yet: backup-vaults-shared"
    assert REFUSAL in opened.body
    assert isinstance(closed, Close)
    assert closed.number == 4
    assert "no failure" in closed.comment
    # The next nights: nothing, while the reason stays the same; a new reason rewrites the issue, silently.
    said = Issue(7, opened.title, opened.body)
    assert decide([result], [said], LINKS)["backup-vaults-shared"] == []
    other = Result("backup-vaults-shared", Status.WAITING, ("envs/acceptance.hcl: ...",))
    assert [type(a) for a in decide([other], [said], LINKS)["backup-vaults-shared"]] == [Edit]
    assert "| `backup-vaults-shared` | not deployable yet | - |" in summary([result], {result.stack: []}, [said])


@pytest.mark.parametrize("status", [Status.CLEAN, Status.DRIFT, Status.FAILED])
def test_a_plan_that_runs_again_closes_the_not_deployable_issue(status: Status) -> None:
    said = Issue(7, "Not deployable yet: backup-vaults-shared", "")
    result = Result("backup-vaults-shared", status, ("  # aws_backup_vault.x will be created",))
    closes = [a for a in decide([result], [said], LINKS)["backup-vaults-shared"] if isinstance(a, Close)]
    assert [(a.number, a.comment.split(" (")[0]) for a in closes] == [(7, "`backup-vaults-shared` is planned again")]


def test_a_change_merged_but_not_deployed_opens_its_own_issue_and_leaves_a_drift_issue_as_it_is() -> None:
    result = record(
        "api-staging",
        "LITTIL_PLAN_ROLE_STAGING",
        True,
        "2",
        SHOW,
        deployed=deployment(BEFORE_THE_MERGE),
        synthesized=MAIN,
    )
    drift = Issue(7, "Drift: api-staging", "```\nold\n```")
    (opened,) = decide([result], [drift], LINKS)["api-staging"]
    assert isinstance(opened, Open)
    assert opened.title == "Not deployed: api-staging"
    assert "merged, not deployed yet" in opened.body
    assert "make review BASE=1a2b3c4d5e6f" in opened.body
    assert "`make deploy STACK=api-staging`" in opened.body
    assert "| `api-staging` | **merged, not deployed** | opens “Not deployed: api-staging” |" in summary(
        [result], {"api-staging": [opened]}, [drift]
    )


@pytest.mark.parametrize(
    ("status", "comment"),
    [
        (Status.DRIFT, f"`main` is deployed to `api-staging` now ({LINKS.run})."),
        (Status.CLEAN, f"The plan of `api-staging` shows no changes ({LINKS.run}): AWS and the code agree again."),
    ],
)
def test_once_main_is_deployed_the_not_deployed_issue_closes(status: Status, comment: str) -> None:
    said = Issue(9, "Not deployed: api-staging", "")
    result = Result("api-staging", status, CHANGES if status is Status.DRIFT else ())
    closes = [a for a in decide([result], [said], LINKS)["api-staging"] if isinstance(a, Close)]
    assert closes == [Close(9, comment)]
