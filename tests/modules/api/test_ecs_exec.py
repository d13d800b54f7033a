"""modules/api/ecs_exec.py alone: exec into one cluster's tasks only, no permission when disabled, the command."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack

from modules.api.ecs_exec import EcsExecUser, exec_command, exec_command_output
from tests.modules.alone import ACCOUNT_ID, REGION, Built, build, has_no_resource, has_resource, in_group
from tests.tf import group_statements, named, only, resources

CLUSTER = "LITTIL-NL-staging-littil-api"
USER = f"{CLUSTER}-ECSExec-User"
POLICY = f"{CLUSTER}-ECSExec"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:cluster/{CLUSTER}"
TASKS_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task/{CLUSTER}/*"


def exec_user(*, enabled: bool) -> Built[EcsExecUser]:
    def make(stack: TerraformStack) -> EcsExecUser:
        user = EcsExecUser(
            stack,
            "exec-user",
            user_name=USER,
            policy_name=POLICY,
            cluster_name=CLUSTER,
            region=REGION,
            # Disabled, maintenance-<env> looks no account up (stacks/maintenance.py).
            account_id=ACCOUNT_ID if enabled else "",
            enabled=enabled,
        )
        exec_command_output(stack, region=REGION, cluster_name=CLUSTER, container_name="web", user=USER)
        return user

    return build(make)


@pytest.fixture(scope="module")
def enabled() -> Built[EcsExecUser]:
    return exec_user(enabled=True)


@pytest.fixture(scope="module")
def disabled() -> Built[EcsExecUser]:
    return exec_user(enabled=False)


def test_user_may_exec_into_and_describe_only_this_clusters_tasks(enabled: Built[EcsExecUser]) -> None:
    statements = {s["sid"]: s for s in group_statements(enabled.stack, POLICY)}
    assert set(statements) == {"ExecIntoClusterTasks", "DescribeClusterTasks", "ListClusterTasks"}
    assert statements["ExecIntoClusterTasks"]["actions"] == ["ecs:ExecuteCommand"]
    assert statements["ExecIntoClusterTasks"]["resources"] == [CLUSTER_ARN, TASKS_ARN]
    assert statements["DescribeClusterTasks"]["actions"] == ["ecs:DescribeTasks"]
    assert statements["DescribeClusterTasks"]["resources"] == [TASKS_ARN]
    assert all(statement["effect"] == "Allow" for statement in statements.values())


def test_every_statement_needs_an_mfa_sign_in_of_at_most_12_hours(enabled: Built[EcsExecUser]) -> None:
    # `Bool`: a request signed with the long-term key alone has no such key, and fails the condition; a session
    # token lasts up to 36 hours, so its sign-in's age is bounded too.
    for statement in group_statements(enabled.stack, POLICY):
        assert {"test": "Bool", "variable": "aws:MultiFactorAuthPresent", "values": ["true"]} in statement[
            "condition"
        ], statement["sid"]
        assert {"test": "NumericLessThan", "variable": "aws:MultiFactorAuthAge", "values": ["43200"]} in statement[
            "condition"
        ], statement["sid"]


def test_listing_tasks_is_granted_on_any_resource_but_only_for_this_cluster(enabled: Built[EcsExecUser]) -> None:
    (listing,) = [s for s in group_statements(enabled.stack, POLICY) if s["sid"] == "ListClusterTasks"]
    assert listing["actions"] == ["ecs:ListTasks"]
    assert listing["resources"] == ["*"]
    assert listing["condition"][0] == {"test": "ArnEquals", "variable": "ecs:cluster", "values": [CLUSTER_ARN]}


def test_the_user_holds_the_permissions_through_its_group(enabled: Built[EcsExecUser]) -> None:
    _, user = named(enabled.stack, "aws_iam_user", USER)
    assert user["force_destroy"] is True
    assert in_group(enabled, user=USER, group=POLICY)
    assert enabled.construct.access.policy is not None


def test_disabled_the_same_user_exists_without_any_permission(
    enabled: Built[EcsExecUser], disabled: Built[EcsExecUser]
) -> None:
    user_id, _ = only(resources(disabled.stack, "aws_iam_user"))
    # Same address as when enabled: its hand-made access keys survive the switch.
    assert user_id == named(enabled.stack, "aws_iam_user", USER)[0]
    assert has_resource(disabled, "aws_iam_user", {"name": USER})
    for permission in (
        "aws_iam_policy",
        "aws_iam_group",
        "aws_iam_group_policy_attachment",
        "aws_iam_user_group_membership",
    ):
        assert has_no_resource(disabled, permission), permission
    assert "data" not in disabled.stack
    assert disabled.construct.access.policy is None


def test_exec_command_finds_the_services_running_task_and_opens_a_shell_in_the_container() -> None:
    assert exec_command(region="eu-west-1", cluster_name="c1", service_name="s1", container_name="web") == (
        'aws ecs execute-command --region eu-west-1 --cluster c1 --task "$(aws ecs list-tasks --region eu-west-1'
        " --cluster c1 --service-name s1 --desired-status RUNNING --query 'taskArns[0]' --output text)\""
        ' --container web --command "sh" --interactive'
    )


def test_exec_command_output_names_the_service_like_its_cluster_and_whose_credentials_to_use(
    enabled: Built[EcsExecUser],
) -> None:
    output = enabled.stack["output"]["exec-command"]
    assert output["value"] == exec_command(
        region=REGION, cluster_name=CLUSTER, service_name=CLUSTER, container_name="web"
    )
    # The MFA profile, exported: `AWS_PROFILE=... aws ...` would not reach the task search inside `$(...)`.
    assert output["description"].startswith(f"Run with AWS_PROFILE set to the MFA profile of {USER} ")
