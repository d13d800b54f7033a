"""modules/api/kept_logs.py alone: log groups made apart from what writes to them, and how another stack names one."""

from __future__ import annotations

from cdktf import TerraformStack

from modules.api.kept_logs import KeptLogGroups, LogGroupRef, container_log_group_name, exec_log_group_name
from tests.modules.alone import ACCOUNT_ID, REGION, build
from tests.tf import resources


def test_each_named_log_group_keeps_its_events_the_given_days() -> None:
    def make(stack: TerraformStack) -> KeptLogGroups:
        return KeptLogGroups(
            stack, "kept", names={"sessions": "/ecs/c/exec-sessions", "containers": "/ecs/c"}, retention_days=731
        )

    built = build(make)
    groups = {body["name"]: body for body in resources(built.stack, "aws_cloudwatch_log_group").values()}
    assert {name: body["retention_in_days"] for name, body in groups.items()} == {
        "/ecs/c/exec-sessions": 731,
        "/ecs/c": 731,
    }
    assert "skip_destroy" not in groups["/ecs/c"]  # kept by where they live, not by forgetting them
    assert set(built.construct.log_groups) == {"/ecs/c/exec-sessions", "/ecs/c"}


def test_a_clusters_log_groups_are_named_after_it_and_another_stack_finds_one_by_its_composed_arn() -> None:
    assert (container_log_group_name("c"), exec_log_group_name("c")) == ("/ecs/c", "/ecs/c/exec-sessions")
    ref = LogGroupRef.named("/ecs/c/exec-sessions", region=REGION, account_id=ACCOUNT_ID)
    assert ref.arn == f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/ecs/c/exec-sessions"
