"""docs/architecture.svg is drawn from the synthesized stacks and must match them."""

from __future__ import annotations

from tests.conftest import REPO
from tests.tf import Stack
from tools.diagram import reads, render


def test_committed_architecture_picture_is_up_to_date(stacks: dict[str, Stack]) -> None:
    committed = (REPO / "docs" / "architecture.svg").read_text()
    assert render(stacks) == committed, "docs/architecture.svg is out of date: run make diagram and commit it"


def test_picture_draws_each_cross_stack_read(stacks: dict[str, Stack]) -> None:
    assert reads(stacks, "api-staging") == ("certificate-staging", "network-staging", "database-staging")
    assert reads(stacks, "api-production") == ("network-production", "database-production")
    assert reads(stacks, "database-production") == ("network-production",)
    assert reads(stacks, "maintenance-production") == ()  # disabled: it reads nothing
    assert reads(stacks, "registry") == ()
    svg = render(stacks)
    # One arrow per read, and a box per stack.
    assert svg.count('class="read"') == sum(len(reads(stacks, name)) for name in stacks)
    assert svg.count('class="stack"') == len(stacks)
