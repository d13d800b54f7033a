"""What a switch may touch: flipping the API variant or maintenance never reaches the data, and review says so."""

from __future__ import annotations

import copy
import json
from typing import Any

from config.model import AppConfig
from modules.access.iam import MFA_MAX_AGE_SECONDS
from tests.tf import Stack, only, policy_statements, resources
from tools.review.compare import NOT_RESOURCES, compare


def without_elastic_ip(stack: Stack) -> dict[str, Any]:
    """The stack minus its Elastic IP and the outputs that expose it."""
    trimmed = copy.deepcopy(stack)
    (eip_name,) = trimmed["resource"].pop("aws_eip")
    trimmed["output"] = {
        name: output
        for name, output in trimmed.get("output", {}).items()
        if f"aws_eip.{eip_name}." not in json.dumps(output)
    }
    trimmed["//"]["outputs"]["network-production"] = {
        key: name for key, name in trimmed["//"]["outputs"]["network-production"].items() if name in trimmed["output"]
    }
    return trimmed


def test_switching_the_api_variant_leaves_the_database_byte_identical(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    # production is ec2 in config and ecs in `toggled`, nothing else differs.
    assert only(resources(stacks["api-production"], "aws_instance"))
    assert only(resources(toggled["api-production"], "aws_ecs_service"))
    assert toggled["database-production"] == stacks["database-production"]


def test_switching_the_api_variant_changes_the_network_by_the_elastic_ip_only(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    assert "aws_eip" not in toggled["network-production"]["resource"]
    assert without_elastic_ip(stacks["network-production"]) == toggled["network-production"]


def test_make_review_shows_a_variant_switch_as_what_goes_and_what_comes_and_flags_the_lost_address(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    reports = {r.name: r for r in compare({name: stacks[name] for name in toggled}, toggled)}
    api = reports["api-production"]
    assert any(address.startswith("aws_instance.") for address in api.removed)
    assert any(address.startswith("aws_ecs_service.") for address in api.added)
    assert any(address.startswith("aws_lb.") for address in api.added)
    # The Elastic IP goes with the EC2 variant: the address DNS points at is lost, and that is flagged,
    # and so are the outputs other stacks read the address from.
    network = reports["network-production"]
    assert [a for a in network.destructive if a.startswith("aws_eip.")] == [
        a for a in network.removed if not a.startswith(NOT_RESOURCES)
    ]
    assert "output.api-public-ip" in network.removed
    assert not reports["maintenance-staging"].destructive


def test_make_review_flags_adopt_legacy_turned_off_as_overwriting_the_operators_smtp_credentials(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    # production adopts the old system's secrets in config, and nothing in `toggled`.
    reports = {r.name: r for r in compare({name: stacks[name] for name in toggled}, toggled)}
    (overwrite,) = [w for w in reports["api-production"].warnings if "writes a new value over" in w]
    assert overwrite.startswith("aws_secretsmanager_secret_version.smtp_")
    assert " over aws_secretsmanager_secret.smtp_" in overwrite


def test_routine_operations_destroy_no_log_both_ways(stacks: dict[str, Stack], toggled: dict[str, Stack]) -> None:
    """Maintenance on and off again (staging), the API's variant switched and back (production), and the
    maintenance stack destroyed: no log group goes, the shells' audit trail (ECS Exec sessions) included."""
    workloads = {name: stacks[name] for name in toggled}
    destroyed_stack = {**toggled, "maintenance-staging": {}}
    for before, after in ((workloads, toggled), (toggled, workloads), (toggled, destroyed_stack)):
        for report in compare(before, after):
            lost = [a for a in (*report.removed, *report.replaced) if a.startswith("aws_cloudwatch_log_group.")]
            assert lost == [], report.name
    # What those operations leave alone holds the sessions: each environment's api stack keeps every cluster's.
    clusters = 0
    for env in ("staging", "production"):
        kept = {g["name"] for g in resources(toggled[f"api-{env}"], "aws_cloudwatch_log_group").values()}
        for component in ("api", "maintenance"):
            for cluster in resources(toggled[f"{component}-{env}"], "aws_ecs_cluster").values():
                assert f"/ecs/{cluster['name']}/exec-sessions" in kept, cluster["name"]
                clusters += 1
    assert clusters == 3  # staging's API and maintenance, production's API once on ECS


def test_enabling_maintenance_changes_no_other_stack(stacks: dict[str, Stack], toggled: dict[str, Stack]) -> None:
    # staging has maintenance off in config and on in `toggled`, nothing else differs.
    assert resources(toggled["maintenance-staging"], "aws_ecs_service")
    assert not resources(stacks["maintenance-staging"], "aws_ecs_service")
    for component in ("certificate", "network", "database", "api"):
        assert toggled[f"{component}-staging"] == stacks[f"{component}-staging"], component


def test_switching_the_api_variant_changes_no_certificate_resource(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    # Only the ECS variant's listener reads the ACM certificate, so certificate-<env> gains or loses the
    # output that carries its ARN to api-<env>; its resources stay exactly as they are.
    before, after = stacks["certificate-production"], toggled["certificate-production"]
    assert before["resource"] == after["resource"]
    assert set(after["output"]) - set(before["output"]) == {
        name for name in after["output"] if name.startswith("cross-stack-output-aws_acm_certificate")
    }
    assert len(set(after["output"]) - set(before["output"])) == 1


# What opens, resumes, ends or carries a shell (ECS Exec into the API or maintenance, Session Manager on the instance).
SHELL_ACTIONS = {
    "ecs:ExecuteCommand",
    "ssm:StartSession",
    "ssm:ResumeSession",
    "ssm:TerminateSession",
    "ssmmessages:OpenDataChannel",
}
MFA_SIGN_IN = [
    {"test": "Bool", "variable": "aws:MultiFactorAuthPresent", "values": ["true"]},
    {"test": "NumericLessThan", "variable": "aws:MultiFactorAuthAge", "values": [str(MFA_MAX_AGE_SECONDS)]},
]


def test_shells_need_a_recent_mfa_sign_in_in_every_environment(
    stacks: dict[str, Stack], toggled: dict[str, Stack], config: AppConfig
) -> None:
    """Every statement of a person's policy that touches a shell, in every environment and variant."""
    checked: set[tuple[str, str]] = set()
    for synthesis in (stacks, toggled):  # toggled: maintenance on in staging, production on ECS
        for env in config.workloads:
            for component in ("api", "maintenance"):
                stack = synthesis.get(f"{component}-{env.name}", {})
                for policy in resources(stack, "aws_iam_policy").values():
                    for statement in policy_statements(stack, policy["policy"]):
                        for action in SHELL_ACTIONS & set(statement["actions"]):
                            conditions = statement.get("condition", [])
                            assert all(c in conditions for c in MFA_SIGN_IN), (policy["name"], statement["sid"])
                            checked.add((env.name, action))
    # Every kind of shell action in a production-grade environment (EC2, and ECS once toggled), and one that is not.
    assert {("production", action) for action in SHELL_ACTIONS} <= checked
    assert ("staging", "ecs:ExecuteCommand") in checked
