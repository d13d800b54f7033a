"""What a switch may touch: flipping the API variant or maintenance never reaches the data."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.tf import Stack, only, resources


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
