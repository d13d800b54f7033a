"""docs/architecture.svg is drawn from the synthesized stacks and must match them."""

from __future__ import annotations

import copy

from config.model import AppConfig
from tests.tf import Stack
from tools.diagram import OUTPUT, pull_grants, reads, render


def test_committed_architecture_picture_is_up_to_date(stacks: dict[str, Stack]) -> None:
    committed = OUTPUT.read_text()
    assert render(stacks) == committed, "docs/architecture.svg is out of date: run make diagram and commit it"


def test_picture_draws_each_cross_stack_read(stacks: dict[str, Stack]) -> None:
    assert reads(stacks, "api-staging") == (
        "alerts-staging",
        "certificate-staging",
        "network-staging",
        "database-staging",
    )
    assert reads(stacks, "api-production") == ("alerts-production", "network-production", "database-production")
    assert reads(stacks, "database-production") == ("alerts-production", "network-production")
    assert reads(stacks, "maintenance-production") == ()  # disabled: it reads nothing
    assert reads(stacks, "registry") == ()
    svg = render(stacks)
    # One arrow per read, and a box per stack.
    assert svg.count('class="read"') == sum(len(reads(stacks, name)) for name in stacks)
    assert svg.count('class="stack"') == len(stacks)


def test_arrows_start_at_a_dot_and_every_api_shows_its_pull_grant(stacks: dict[str, Stack], config: AppConfig) -> None:
    svg = render(stacks)
    assert ".read{fill:none;stroke:#4a6fa5;stroke-width:1.2;marker-start:url(#source);marker-end:url(#arrow)}" in svg
    # A dashed arrow from the registry to each workload's API: red while nothing is granted (placeholders).
    grants = pull_grants(stacks)
    assert set(grants) == {f"api-{env.name}" for env in config.workloads}
    for env in config.workloads:
        assert grants[f"api-{env.name}"] is (env.account_id in config.pull_account_ids)
    assert svg.count('class="pull-missing"') == sum(not granted for granted in grants.values())
    assert svg.count('class="pull"') == sum(grants.values())


def test_a_granted_account_gets_a_green_pull_arrow(stacks: dict[str, Stack]) -> None:
    granted = copy.deepcopy(stacks)
    staging_account = granted["api-staging"]["provider"]["aws"][0]["allowed_account_ids"][0]
    granted["registry"].setdefault("data", {}).setdefault("aws_iam_policy_document", {})["cross-account-pull"] = {
        "statement": [{"principals": [{"identifiers": [f"arn:aws:iam::{staging_account}:root"], "type": "AWS"}]}]
    }
    assert pull_grants(granted)["api-staging"] is True
    assert pull_grants(granted)["api-production"] is False
    assert render(granted).count('class="pull"') == 1
