"""modules/access/aws_actions.py alone: each action list names real actions and goes where `allow` lets it."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection
from typing import Any

import pytest
from cdktf import TerraformStack

from modules.access import aws_actions
from modules.access.aws_actions import (
    ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE,
    ACTIONS_SCOPED_BY_CLUSTER,
    CLUSTER_CONDITION_KEY,
    DESCRIBE_LOG_GROUPS_ACTIONS,
    ECR_AUTHORIZATION_ACTIONS,
    ECR_PULL_ACTIONS,
    ECR_PUSH_ACTIONS,
    GITHUB_RELEASE_SUBJECTS,
    LIST_CLUSTERS_ACTIONS,
    METRIC_NAMESPACE_CONDITION_KEY,
    PUT_METRIC_DATA_ACTIONS,
    SSM_MESSAGES_ACTIONS,
    STATE_LIST_ACTIONS,
    STATE_READ_ACTIONS,
)
from modules.access.iam import allow, condition, github_actions_trust, policy_document
from tests.modules.alone import ACCOUNT_ID, Built, build
from tests.tf import data_sources

# Every action list the module holds, found by name, so a list added later is checked too.
ACTION_LISTS: dict[str, Collection[str]] = {
    name: value
    for name, value in vars(aws_actions).items()
    if name.isupper() and (name.endswith("_ACTIONS") or name.startswith("ACTIONS_"))
}
ACTION = re.compile(r"[a-z][a-z0-9-]*:[A-Z][A-Za-z0-9]*")
CONDITION_KEY = re.compile(r"[a-z][a-z0-9-]*:[A-Za-z][A-Za-z0-9/_-]*")
# IAM actions whose name is no operation of the service's API: the operation each one authorizes.
IAM_ONLY_ACTIONS = {
    "s3:ListBucket": "ListObjectsV2",
    # Reading an object's older version: GetObject/GetObjectTorrent with a `versionId`.
    "s3:GetObjectVersion": "GetObject",
    "s3:GetObjectVersionTorrent": "GetObjectTorrent",
    # Reading masked log fields, asked for with GetLogEvents/FilterLogEvents (`unmask=true`).
    "logs:Unmask": "GetLogEvents",
    # The whole-file download RDS serves outside its API model, beside the paged one.
    "rds:DownloadCompleteDBLogFile": "DownloadDBLogFilePortion",
}
# Services the SDK has no model of: only the SSM agent inside a task or instance calls them.
NO_SDK_MODEL = {"ssmmessages"}

PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
CLUSTER_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:cluster/littil-test"
SCOPED_TO_A_RESOURCE = {
    "ECR_PULL_ACTIONS": ECR_PULL_ACTIONS,
    "ECR_PUSH_ACTIONS": ECR_PUSH_ACTIONS,
    "STATE_READ_ACTIONS": STATE_READ_ACTIONS,
    "STATE_LIST_ACTIONS": STATE_LIST_ACTIONS,
}


def service_of(action_or_key: str) -> str:
    return action_or_key.split(":", 1)[0]


def where_they_belong(stack: TerraformStack) -> None:
    """The lists that may name `*`, granted on `*` the way their modules grant them; both GitHub trusts."""
    policy_document(
        stack,
        "grants",
        [
            allow(ECR_AUTHORIZATION_ACTIONS, ["*"], sid="RegistryLogin"),
            allow(SSM_MESSAGES_ACTIONS, ["*"], sid="ExecChannel"),
            allow(LIST_CLUSTERS_ACTIONS, ["*"], sid="FindTheCluster"),
            allow(DESCRIBE_LOG_GROUPS_ACTIONS, ["*"], sid="FindExecLogGroup"),
            allow(
                PUT_METRIC_DATA_ACTIONS,
                ["*"],
                [condition("StringEquals", METRIC_NAMESPACE_CONDITION_KEY, ["LITTIL/API"])],
                sid="PublishMetric",
            ),
            allow(
                sorted(ACTIONS_SCOPED_BY_CLUSTER),
                ["*"],
                [condition("ArnEquals", CLUSTER_CONDITION_KEY, [CLUSTER_ARN])],
                sid="ListInOneCluster",
            ),
        ],
    )
    github_actions_trust(
        stack, "release", provider_arn=PROVIDER_ARN, org="Example-Org", repo="app", subjects=GITHUB_RELEASE_SUBJECTS
    )
    github_actions_trust(
        stack,
        "plan",
        provider_arn=PROVIDER_ARN,
        org="Example-Org",
        repo="app",
        subjects=("ref:refs/heads/main", "environment:plan-test"),
    )


@pytest.fixture(scope="module")
def granted() -> Built[None]:
    return build(where_they_belong)


def statements(built: Built[None], document_id: str) -> dict[str, dict[str, Any]]:
    """Statements of a top-level policy document by sid (trust documents: by index)."""
    found = data_sources(built.stack, "aws_iam_policy_document")[document_id]["statement"]
    return {statement.get("sid", str(index)): statement for index, statement in enumerate(found)}


@pytest.fixture(scope="module")
def sdk_operations() -> dict[str, set[str]]:
    """The operations of each service the lists name that botocore has an API model of (no network)."""
    import botocore.session  # type: ignore[import-untyped]

    session = botocore.session.get_session()
    named = {service_of(action) for actions in ACTION_LISTS.values() for action in actions}
    return {
        service: set(session.get_service_model(service).operation_names)
        for service in named & set(session.get_available_services())
    }


@pytest.mark.parametrize("list_name", sorted(ACTION_LISTS))
def test_each_action_is_one_named_action_of_one_service_without_wildcards(list_name: str) -> None:
    actions = list(ACTION_LISTS[list_name])
    assert actions, list_name
    assert [action for action in actions if not ACTION.fullmatch(action)] == [], list_name
    assert len(set(actions)) == len(actions), list_name
    if list_name.endswith("_ACTIONS"):  # a list for one purpose is on one service; ACTIONS_* gather several
        assert len({service_of(action) for action in actions}) == 1, list_name


@pytest.mark.parametrize("list_name", sorted(ACTION_LISTS))
def test_each_action_authorizes_an_operation_the_services_api_has(
    sdk_operations: dict[str, set[str]], list_name: str
) -> None:
    for action in ACTION_LISTS[list_name]:
        service, name = action.split(":")
        if service in NO_SDK_MODEL:
            assert service not in sdk_operations, f"{service} has an SDK model now: check its actions too"
            continue
        assert IAM_ONLY_ACTIONS.get(action, name) in sdk_operations[service], f"{list_name}: {action}"


def test_actions_with_no_narrower_resource_are_granted_on_any_resource(granted: Built[None]) -> None:
    grants = statements(granted, "grants")
    for sid, actions in (
        ("RegistryLogin", ECR_AUTHORIZATION_ACTIONS),
        ("ExecChannel", SSM_MESSAGES_ACTIONS),
        ("FindTheCluster", LIST_CLUSTERS_ACTIONS),
        ("FindExecLogGroup", DESCRIBE_LOG_GROUPS_ACTIONS),
        ("PublishMetric", PUT_METRIC_DATA_ACTIONS),
    ):
        assert (grants[sid]["actions"], grants[sid]["resources"]) == (list(actions), ["*"]), sid
    # Otherwise a cluster-scoped listing could be granted on `*` without naming its cluster.
    assert ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE.isdisjoint(ACTIONS_SCOPED_BY_CLUSTER)


@pytest.mark.parametrize(
    ("sid", "actions", "key"),
    [
        ("PublishMetric", PUT_METRIC_DATA_ACTIONS, METRIC_NAMESPACE_CONDITION_KEY),
        ("ListInOneCluster", sorted(ACTIONS_SCOPED_BY_CLUSTER), CLUSTER_CONDITION_KEY),
    ],
)
def test_each_condition_key_belongs_to_the_service_of_the_actions_it_narrows(
    granted: Built[None], sid: str, actions: Collection[str], key: str
) -> None:
    statement = statements(granted, "grants")[sid]
    assert statement["actions"] == list(actions)
    (narrowing,) = statement["condition"]
    assert narrowing["variable"] == key
    assert CONDITION_KEY.fullmatch(key)
    assert {service_of(action) for action in actions} == {service_of(key)}


def test_cluster_scoped_listing_needs_its_cluster_condition_on_any_resource() -> None:
    with pytest.raises(ValueError, match="ecs:cluster condition"):
        allow(sorted(ACTIONS_SCOPED_BY_CLUSTER), ["*"])
    with pytest.raises(ValueError, match="ecs:cluster condition"):
        allow(
            sorted(ACTIONS_SCOPED_BY_CLUSTER),
            ["*"],
            [condition("StringEquals", METRIC_NAMESPACE_CONDITION_KEY, ["LITTIL/API"])],
        )


@pytest.mark.parametrize("list_name", sorted(SCOPED_TO_A_RESOURCE))
def test_repository_and_state_actions_are_refused_on_any_resource(list_name: str) -> None:
    with pytest.raises(ValueError, match=r"'\*' resource is reserved"):
        allow(SCOPED_TO_A_RESOURCE[list_name], ["*"])


def test_pull_actions_only_read_so_workload_accounts_cannot_push() -> None:
    assert set(ECR_PULL_ACTIONS).isdisjoint(ECR_PUSH_ACTIONS)
    assert all(action.split(":")[1].startswith(("Get", "BatchGet", "BatchCheck")) for action in ECR_PULL_ACTIONS)


def admitted(granted: Built[None], document_id: str, subject: str) -> bool:
    """Whether the trust's `sub` StringLike condition admits a token with this `sub` claim."""
    (statement,) = statements(granted, document_id).values()
    (sub,) = [c for c in statement["condition"] if c["variable"].endswith(":sub")]
    assert sub["test"] == "StringLike"
    return any(fnmatch.fnmatchcase(subject, pattern) for pattern in sub["values"])


@pytest.mark.parametrize(
    ("subject", "release", "plan"),
    [
        ("repo:Example-Org/app:ref:refs/heads/main", True, True),
        ("repo:Example-Org/app:ref:refs/tags/v1.4.0", True, False),
        ("repo:Example-Org/app:ref:refs/tags/v10.0.12-rc.1", True, False),
        # Not a release tag: any tag starting with a v used to pass.
        ("repo:Example-Org/app:ref:refs/tags/vanity", False, False),
        ("repo:Example-Org/app:ref:refs/tags/v1", False, False),
        ("repo:Example-Org/app:ref:refs/tags/v1.4", False, False),
        ("repo:Example-Org/app:ref:refs/tags/v..", False, False),
        # A pull request as such plans nothing: only a job of the reviewed environment, or main.
        ("repo:Example-Org/app:pull_request", False, False),
        ("repo:Example-Org/app:environment:plan-test", False, True),
        ("repo:Example-Org/app:ref:refs/heads/feature", False, False),
        ("repo:Example-Org/app:ref:refs/heads/main-copy", False, False),
        ("repo:Example-Org/app:ref:refs/tags/release-1", False, False),
        ("repo:Example-Org/app:environment:production", False, False),
        ("repo:Example-Org/other:ref:refs/heads/main", False, False),
        ("repo:Other-Org/app:pull_request", False, False),
    ],
)
def test_release_subjects_admit_main_and_version_tags_and_plan_subjects_admit_main_and_the_plan_environment(
    granted: Built[None], subject: str, release: bool, plan: bool
) -> None:
    assert admitted(granted, "release", subject) is release
    assert admitted(granted, "plan", subject) is plan
