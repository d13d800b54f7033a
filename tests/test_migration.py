"""The cut-over from the old CDK system (docs/migration.md), walked over its templates and our synthesis."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from config.model import AppConfig
from tests.tf import Stack
from tools.migration.__main__ import main as migration_report
from tools.migration.cutover import fates, walk
from tools.migration.legacy import ACCOUNT_IDS, LegacyStack, Name, hand_made, load_stacks
from tools.migration.ours import Adoption, OurStack, our_stack, our_stacks
from tools.migration.plan import IDLE_API, PLAN, SERVING, Step

RUNBOOK = Path(__file__).resolve().parents[1] / "docs" / "migration.md"
LEGACY = load_stacks()


@pytest.fixture(scope="module")
def ours(synthesized: Path) -> dict[str, OurStack]:
    return our_stacks(synthesized)


def step(step_id: str) -> Step:
    (found,) = [candidate for candidate in PLAN if candidate.id == step_id]
    return found


def moved(plan: tuple[Step, ...], step_id: str, *, before: str) -> tuple[Step, ...]:
    """`plan` with one step taken out and put back just before another."""
    rest = [candidate for candidate in plan if candidate.id != step_id]
    index = [candidate.id for candidate in rest].index(before)
    return (*rest[:index], step(step_id), *rest[index:])


def retire_step(account: str, stack: str) -> str:
    (found,) = [s.id for s in PLAN if s.kind == "retire" and s.account == account and s.target == stack]
    return found


def test_the_cut_over_walks_cleanly_and_adopts_every_data_holder(ours: dict[str, OurStack]) -> None:
    result = walk(PLAN, LEGACY, ours)
    assert result.problems == []
    adopted = {(account, str(name)): by for (account, name), by in result.adopted_by.items()}
    assert adopted == {
        ("shared", "ecr-repository littil-backend"): ("registry", "S5"),
        ("shared", "ecr-repository littil-backend-maintenance"): ("registry", "S5"),
        ("shared", "oidc-provider token.actions.githubusercontent.com"): ("registry", "S5"),
        **{
            (env, str(Name(kind, name))): (f"api-{env}", step_of(f"api-{env}"))
            for env in ("staging", "production")
            for kind, name in (
                ("oidc-provider", "token.actions.githubusercontent.com"),
                ("secret", f"littil/backend/{env}/oidc"),
                ("secret", f"littil/backend/{env}/smtp"),
                ("log-group", f"LITTILBackendApiEcsLogs-{env}"),
            )
        },
    }
    # Every old stack goes exactly once, and each of ours is deployed.
    assert sorted(result.retired_at) == sorted(
        (stack.account, stack.name) for stacks in LEGACY.values() for stack in stacks
    )
    assert set(result.deployed_at) == {name for name, stack in ours.items() if stack.account in ACCOUNT_IDS}


def step_of(stack: str) -> str:
    (found,) = [s.id for s in PLAN if s.kind == "deploy" and s.target == stack]
    return found


def test_every_retained_old_data_holder_is_adopted_or_left_behind_on_purpose(ours: dict[str, OurStack]) -> None:
    result = walk(PLAN, LEGACY, ours)
    left_behind = {
        (stack.account, resource.name.value if resource.name else resource.logical_id)
        for stacks in LEGACY.values()
        for stack in stacks
        for resource in stack.resources
        if resource.retained and (resource.name is None or (stack.account, resource.name) not in result.adopted_by)
    }
    # The EC2 stacks' log group and the ECS task definition's own: their logs are kept (Retain), not reused.
    assert left_behind == {
        (env, group)
        for env in ("staging", "production")
        for group in ("BackendApiEc2Logs", "LittilApiTaskDefapiLogGroup73C5D97C")
    }
    for account in ACCOUNT_IDS:
        lines = dict(fates(account, LEGACY, ours, result))
        assert not [fate for fate in lines.values() if "UNRESOLVED" in fate]
        for resource, fate in lines.items():
            if resource.endswith("(BackendApiEc2Logs)"):
                assert fate.startswith("left behind by DeletionPolicy Retain")


def test_the_report_prints_every_old_resource_and_exits_zero(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migration_report([str(synthesized)]) == 0
    printed = capsys.readouterr().out
    for stacks in LEGACY.values():
        for stack in stacks:
            for resource in stack.resources:
                assert f"{stack.name}/{resource.logical_id} " in printed
    assert "littil-backend)\n      -> adopted by registry (import at S5, after its stack let go at S3)" in printed
    assert printed.rstrip().endswith("walk cleanly: no unresolved collision.")


def test_the_report_fails_on_a_collision(
    config: AppConfig, toggled: dict[str, Stack], ours: dict[str, OurStack]
) -> None:
    # production as a new environment would have it (adopt_legacy off): it creates the secrets instead.
    assert not config.workload("production").model_copy(update={"adopt_legacy": False}).adopt_legacy
    fresh = {
        **ours,
        "api-production": our_stack("api-production", toggled["api-production"], ours["api-production"].dependencies),
    }
    result = walk(PLAN, LEGACY, fresh)
    assert f"{step_of('api-production')} (Deploy api-production): collision: " in "\n".join(result.problems)
    assert any(
        "creates secret littil/backend/production/oidc, which nobody (made by hand) holds" in p for p in result.problems
    )
    lines = dict(fates("production", LEGACY, fresh, result))
    assert lines["by hand: secret littil/backend/production/smtp"].startswith("UNRESOLVED COLLISION: api-production")


def test_deploying_the_registry_while_the_old_ecr_stack_lives_is_refused(ours: dict[str, OurStack]) -> None:
    problems = walk(moved(PLAN, "S5", before="S3"), LEGACY, ours).problems
    assert (
        "S5 (Deploy registry): aws_ecr_repository.api-repository_50B8A359 imports ecr-repository littil-backend"
        " while the old ApiEcrStack still owns it (two owners)"
    ) in problems
    assert any(
        p.startswith("S5 (Deploy registry): collision: ")
        and "iam-role LITTIL-NL-api-ecr-push, which the old ApiEcrStack holds" in p
        for p in problems
    )


def test_the_old_database_goes_only_after_its_restore(ours: dict[str, OurStack]) -> None:
    restore = step_of("database-production")
    retire = retire_step("production", "ApiDatabaseStack")
    problems = walk(moved(PLAN, retire, before=restore), LEGACY, ours).problems
    assert any(
        p.startswith(f"{retire} (Retire ApiDatabaseStack): deletes ApiDatabaseStack/LittilApiDatabase74782804")
        and "before its data has a copy" in p
        for p in problems
    )
    # ... and the restore needs the final snapshot first.
    snapshot = next(s.id for s in PLAN if s.account == "production" and s.kind == "snapshot")
    problems = walk(moved(PLAN, restore, before=snapshot), LEGACY, ours).problems
    assert (
        f"{restore} (Deploy database-production from the copy): restores the database before its final snapshot exists"
        in problems
    )


def test_cloudformation_export_order_and_the_switch_are_respected(ours: dict[str, OurStack]) -> None:
    vpc, database = retire_step("production", "ApiVpcStack"), retire_step("production", "ApiDatabaseStack")
    problems = walk(moved(PLAN, vpc, before=database), LEGACY, ours).problems
    assert any(p.startswith(f"{vpc} (Retire ApiVpcStack): CloudFormation refuses: ApiDatabaseStack") for p in problems)
    # Production's API is on the EC2 instance: retiring it before the switch is an outage.
    ec2 = retire_step("production", "ApiEc2Stack")
    switch = next(s.id for s in PLAN if s.account == "production" and s.kind == "switch")
    problems = walk(moved(PLAN, ec2, before=switch), LEGACY, ours).problems
    assert any("ApiEc2Stack serves api.<domain>: retiring it before the switch is an outage" in p for p in problems)
    # The one accepted outage is staging's ApiStack, and only because it owns names api-staging needs.
    outages = [s for s in PLAN if s.outage]
    assert [(s.account, s.target) for s in outages] == [("staging", "ApiStack")]
    unmarked = tuple(dataclasses.replace(s, outage=None) if s.outage else s for s in PLAN)
    assert any("ApiStack serves api.<domain>" in p for p in walk(unmarked, LEGACY, ours).problems)


def test_an_import_must_keep_the_old_data_and_name_the_old_resource(ours: dict[str, OurStack]) -> None:
    api = ours["api-production"]
    group = Name("log-group", "LITTILBackendApiEcsLogs-production")
    shorter = {**api.adopts, group: dataclasses.replace(api.adopts[group], log_retention_days=30)}
    problems = walk(PLAN, LEGACY, {**ours, "api-production": dataclasses.replace(api, adopts=shorter)}).problems
    assert any("keeps logs 30 days: the old 731 days' logs would go" in p for p in problems)
    secret = Name("secret", "littil/backend/production/smtp")
    wrong = {**api.adopts, secret: Adoption(api.adopts[secret].address, "littil/backend/production/mail")}
    problems = walk(PLAN, LEGACY, {**ours, "api-production": dataclasses.replace(api, adopts=wrong)}).problems
    assert any(
        "imports id 'littil/backend/production/mail', the old resource is 'littil/backend/production/smtp'" in p
        for p in problems
    )


def test_nothing_happens_before_the_freeze_and_every_old_stack_is_retired(ours: dict[str, OurStack]) -> None:
    problems = walk(PLAN[1:], LEGACY, ours).problems
    assert "S2 (Deploy state-shared): before the freeze: the application's workflows could still deploy" in problems
    without = tuple(s for s in PLAN if s.target != "ApiCertificatesStack" or s.account != "staging")
    assert "the old ApiCertificatesStack in staging is never retired" in walk(without, LEGACY, ours).problems


def test_the_plan_knows_which_old_stacks_serve() -> None:
    for account, serving in SERVING.items():
        stacks = {stack.name: stack for stack in LEGACY[account]}
        assert all(stacks[name].serves_traffic for name in serving)
        assert all(stacks[name].serves_traffic for name in IDLE_API[account])  # they could, but DNS is elsewhere
        assert set(serving).isdisjoint(IDLE_API[account])


def test_legacy_model_reads_the_templates_as_they_are() -> None:
    stacks = {(stack.account, stack.name): stack for stacks in LEGACY.values() for stack in stacks}
    assert sorted(name for account, name in stacks if account == "shared") == ["ApiEcrStack", "MaintenanceEcrStack"]
    api: LegacyStack = stacks["staging", "ApiStack"]
    # The nested logging stack's retained group belongs to ApiStack.
    (group,) = [r for r in api.resources if r.name == Name("log-group", "LITTILBackendApiEcsLogs-staging")]
    assert group.retained
    assert group.holds_data
    assert group.properties["RetentionInDays"] == 731
    assert "apiCertificateArn" in api.imports
    assert not api.exports
    (database,) = [r for r in stacks["production", "ApiDatabaseStack"].resources if r.type == "AWS::RDS::DBInstance"]
    assert (database.properties["EngineVersion"], database.properties["AllocatedStorage"]) == ("10.6.17", "100")
    assert not database.retained  # DeletionPolicy Snapshot: the instance itself goes
    assert [made.import_id for made in hand_made("shared")] == [
        "arn:aws:iam::680278545709:oidc-provider/token.actions.githubusercontent.com"
    ]


def test_the_runbook_has_every_step_in_order_and_names_every_old_stack() -> None:
    text = RUNBOOK.read_text()
    headings = re.findall(r"^#### ([A-Z]\d+) · (.+)$", text, flags=re.MULTILINE)
    assert headings == [(s.id, s.title) for s in PLAN]
    retired = {(s.account, s.target) for s in PLAN if s.kind == "retire"}
    assert retired == {(stack.account, stack.name) for stacks in LEGACY.values() for stack in stacks}
    for stacks in LEGACY.values():
        for stack in stacks:
            assert f"aws cloudformation delete-stack --region eu-west-1 --stack-name {stack.name}`" in text
    # Every step says how to roll back and what it costs in downtime.
    sections = re.split(r"^#### ", text, flags=re.MULTILINE)[1:]
    assert len(sections) == len(PLAN)
    for section in sections:
        assert "Roll back:" in section, section.splitlines()[0]
        assert "Downtime:" in section, section.splitlines()[0]
