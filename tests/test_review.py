"""The offline change report (`make review`): replacements and destroys are caught, and shouted."""

from __future__ import annotations

import copy
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.tf import Stack, only, resources, state_bucket
from tools.review.__main__ import main as review
from tools.review.compare import compare
from tools.review.render import old_new, plannable, readable, render, render_markdown
from tools.stacks import environment_of

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
    summary, details = text.split("\nDetails")
    assert (
        f"  !!! database-staging: REPLACE aws_db_instance database/instance ({address}): loses the database and its"
        " automated backups\n" in summary
    )
    assert "\n    database-staging  1 to REPLACE, 1 to change\n" not in summary  # the replaced one is not also changed
    assert "\n    database-staging  1 to REPLACE\n" in summary
    assert (
        f"  -/+ aws_db_instance database/instance  ({address}) replaced, forced by identifier:"
        ' "littil-nl-staging-db" -> "littil-nl-staging-database"' in details
    )
    assert "!!! 1 stateful resource(s) destroyed or replaced: database-staging/" in details


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
    old = state_bucket(state)[0]
    state["resource"]["aws_s3_bucket"]["terraform-state_bucket_1234ABCD"] = state["resource"]["aws_s3_bucket"].pop(old)
    report = report_for(stacks, after, "state-staging")
    assert report.removed == [f"aws_s3_bucket.{old}"]
    assert report.added == ["aws_s3_bucket.terraform-state_bucket_1234ABCD"]
    assert report.renamed == {f"aws_s3_bucket.{old}": "aws_s3_bucket.terraform-state_bucket_1234ABCD"}
    assert report.destructive == [f"aws_s3_bucket.{old}"]
    text = render(compare(stacks, after), stacks, after)
    assert f"!!! state-staging: DESTROY aws_s3_bucket state-bucket (aws_s3_bucket.{old}): loses Terraform state" in text
    assert (
        f"  -   aws_s3_bucket state-bucket  (aws_s3_bucket.{old})  (renamed to aws_s3_bucket.terraform-state_" in text
    )
    assert "declare the move: move_to / moved" in text


def test_a_new_database_key_or_a_dropped_vault_loses_backups_and_says_so(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-production")
    instance_name, instance = only(database["resource"][DB])
    instance["kms_key_id"] = "arn:aws:kms:eu-west-1:222222222222:key/another"
    vault_name = only(database["resource"]["aws_backup_vault"])[0]
    del database["resource"]["aws_backup_vault"][vault_name]
    report = report_for(stacks, after, "database-production")
    assert report.replaced == {f"{DB}.{instance_name}": ["kms_key_id"]}
    assert report.destructive == [f"aws_backup_vault.{vault_name}", f"{DB}.{instance_name}"]
    text = render(compare(stacks, after), stacks, after)
    assert (
        f"DESTROY aws_backup_vault account-copy/vault (aws_backup_vault.{vault_name}): loses backup copies (its"
        " recovery points)" in text
    )


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
    stacks: dict[str, Stack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
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

    assert review(["--repo", str(repo), "HEAD"]) == 2
    printed = capsys.readouterr().out
    assert (
        f"!!! database-staging: REPLACE aws_db_instance database/instance ({DB}.{name}): loses the database" in printed
    )
    assert f'-/+ aws_db_instance database/instance  ({DB}.{name}) replaced, forced by engine: "mariadb" -> "mysql"' in (
        printed
    )
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True, check=True)
    assert len(worktrees.stdout.splitlines()) == 1  # the temporary worktree is gone again


def test_a_changed_data_source_is_a_change_and_names_what_reads_it(stacks: dict[str, Stack]) -> None:
    # A policy's statements live in a data source (an IAM policy document), not in a resource argument:
    # e.g. a new environment's account in the registry's pull policy.
    after, registry = revision(stacks, "registry")
    documents = registry["data"]["aws_iam_policy_document"]
    name = next(n for n in documents if n.startswith("api-repository_push-pull_document"))
    documents[name]["statement"][1]["actions"].append("ecr:DeleteRepository")
    report = report_for(stacks, after, "registry")
    assert not report.empty
    assert list(report.changed) == [f"data.aws_iam_policy_document.{name}"]
    text = render(compare(stacks, after), stacks, after)
    assert "\n    registry  1 data source changed\n" in text
    assert (
        "  ~   data aws_iam_policy_document api-repository/push-pull/document  (read by aws_iam_policy"
        " api-repository/push-pull/policy)\n        statement[1].actions: …" in text
    )
    assert '"ecr:ListImages"] -> …' in text
    assert '"ecr:ListImages", "ecr:DeleteRepository"]\n' in text


def test_outputs_imports_provider_and_backend_changes_are_seen(stacks: dict[str, Stack]) -> None:
    after, api = revision(stacks, "api-staging")
    api["output"]["oidc-secret-name"]["description"] = "changed"
    api["import"] = api["import"][1:]
    api["provider"]["aws"][0]["region"] = "eu-central-1"
    api["terraform"]["backend"]["s3"]["key"] = "littil/staging/api-moved.tfstate"
    report = report_for(stacks, after, "api-staging")
    assert set(report.changed) == {"output.oidc-secret-name", "provider.aws.default", "terraform.backend.s3"}
    assert report.removed == [f"import.{stacks['api-staging']['import'][0]['to']}"]
    assert any("terraform.backend.s3: the state moves (key)" in warning for warning in report.warnings)
    assert any("provider.aws.default: another account or region (region)" in warning for warning in report.warnings)
    assert report.dangerous


def test_a_mistyped_base_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert review(["orgin/main"]) == 2
    printed = capsys.readouterr()
    assert printed.err == f"review: BASE 'orgin/main' is not a commit of {REPO} (try origin/main or HEAD~1)\n"
    assert printed.out == ""


def test_the_pull_request_summary_puts_replacements_and_destroys_first(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    name, instance = only(database["resource"][DB])
    instance["identifier"] = "littil-nl-staging-database"
    api = after["api-staging"]
    dropped_type = "aws_cloudwatch_metric_alarm"
    dropped = sorted(api["resource"][dropped_type])[0]
    del api["resource"][dropped_type][dropped]
    markdown = render_markdown(compare(stacks, after), stacks, after, "origin/main")
    top, folded = markdown.split("<details>")
    assert top.splitlines()[2] == (
        f"- :warning: **database-staging: REPLACE aws_db_instance database/instance ({DB}.{name}): loses the database"
        " and its automated backups**"
    )
    assert "- staging:\n  - `api-staging`: 1 to DESTROY\n  - `database-staging`: 1 to REPLACE\n" in top
    per_env = Counter(environment_of(stack) for stack in stacks.values())
    assert f"  - and {per_env['staging'] - 2} unchanged\n" in top
    others = ", ".join(f"{env} ({n})" for env, n in sorted(per_env.items()) if env != "staging")
    assert f"- Unchanged: every stack of {others}\n" in top
    assert f"  -   {dropped_type} " in folded
    assert markdown.rstrip().endswith("then confirm with make plan STACK=<stack>.")
    quiet = render_markdown(compare(stacks, stacks), stacks, stacks, "origin/main")
    assert "<details>" not in quiet
    every = ", ".join(f"{env} ({n})" for env, n in sorted(per_env.items()))
    assert f"- Unchanged: every stack of {every}\n" in quiet


def test_ci_plans_exactly_the_changed_stacks_that_keep_state_in_their_bucket(stacks: dict[str, Stack]) -> None:
    after, database = revision(stacks, "database-staging")
    only(database["resource"][DB])[1]["backup_retention_period"] = 30
    state = after["state-production"]
    state_bucket(state)[1]["force_destroy"] = True
    after["api-production"]["output"]["restart-note"] = {"value": "changed"}
    chosen = plannable(compare(stacks, after), after)
    # state-production still keeps its own state in a local file on an operator's machine: CI cannot plan it.
    assert "local" in after["state-production"]["terraform"]["backend"]
    assert chosen == [
        # No plan role trusts a pull request as such: each job runs in its account's reviewed environment.
        {
            "stack": "api-production",
            "environment": "production",
            "region": "eu-west-1",
            "role_variable": "LITTIL_PLAN_ROLE_PRODUCTION",
            "github_environment": "plan-production",
        },
        {
            "stack": "database-staging",
            "environment": "staging",
            "region": "eu-west-1",
            "role_variable": "LITTIL_PLAN_ROLE_STAGING",
            "github_environment": "plan-staging",
        },
    ]


# The layout: read in a minute.


def test_the_summary_comes_first_with_every_alarm_and_details_list_resources_before_the_rest(
    stacks: dict[str, Stack],
) -> None:
    after, database = revision(stacks, "database-staging")
    _name, instance = only(database["resource"][DB])
    instance["identifier"] = "littil-nl-staging-database"
    database["output"]["endpoint"]["description"] = "where the API connects"
    after["api-staging"]["terraform"]["backend"]["s3"]["key"] = "littil/staging/api-moved.tfstate"
    lines = render(compare(stacks, after), stacks, after).splitlines()
    details = lines.index("Details (resources first; then data sources, outputs, imports, provider and backend)")
    alarms = [i for i, line in enumerate(lines) if line.lstrip().startswith("!!! ")]
    verdict = [i for i in alarms if not lines[i].startswith(" ")]
    # Every alarm is in the summary, before any detail; the verdict closes the report.
    assert alarms
    assert all(i < details for i in alarms if i not in verdict)
    assert {lines[i].split(": ")[0].strip("! ") for i in alarms if i not in verdict} == {
        "database-staging",
        "api-staging",
    }
    assert verdict[-1] == len(lines) - 1
    # Unchanged stacks take one line.
    assert sum("unchanged" in line.lower() for line in lines[:details]) == 2  # "and N unchanged", "Unchanged: ..."
    stack = lines.index("database-staging: 1 to REPLACE; 1 output changed", details)
    body = lines[stack + 1 : lines.index("", stack)]
    kinds = [line.split()[1] for line in body if line.startswith("  ") and not line.startswith("        ")]
    assert kinds == [DB, "output"]
    described = json.dumps(stacks["database-staging"]["output"]["endpoint"].get("description"))
    assert body[-1] == f'        description: {described} -> "where the API connects"'


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("aws_db_instance.database_instance_D7FC2283", "aws_db_instance database/instance"),
        ("aws_secretsmanager_secret.oidc-secret", "aws_secretsmanager_secret oidc-secret"),
        ("data.aws_iam_policy_document.plan-role_trust_52693330", "data aws_iam_policy_document plan-role/trust"),
        ("output.placeholder-account-ids", "output placeholder-account-ids"),
        (
            "import.aws_cloudwatch_log_group.logging_log-group_3B9926EA",
            "import of aws_cloudwatch_log_group logging/log-group",
        ),
        ("terraform.backend.s3", "terraform backend.s3"),
    ],
)
def test_names_are_construct_paths_without_the_hash(address: str, expected: str) -> None:
    assert readable(address) == expected


def test_a_long_value_shows_where_it_differs_and_a_short_one_whole() -> None:
    assert old_new(7, 14) == "7 -> 14"
    assert old_new(None, "x") == '(none) -> "x"'
    old = (
        "envs/production.hcl: account_id is a placeholder; envs/staging.hcl: account_id is a placeholder. Deploy later"
    )
    new = "envs/acceptance.hcl: account_id is a placeholder; " + old
    shown = old_new(old, new)
    assert shown == (
        '"envs/production.hcl: account_id is … -> "envs/acceptance.hcl: account_id is a placeholder; '
        "envs/production.hcl: account_id is …"
    )
    middle = "x" * 500
    assert "…(+" in old_new("a" * 60 + middle + "b" * 60, "a" * 60 + "y" + "b" * 60)


def test_a_changed_condition_shows_the_message_it_would_print(stacks: dict[str, Stack]) -> None:
    after, registry = revision(stacks, "registry")
    check = registry["output"]["placeholder-account-ids"]["precondition"][0]
    check["condition"] = "${true}"
    text = render(compare(stacks, after), stacks, after)
    assert f"        precondition[0], its message: {json.dumps(check['error_message'])}" in text
