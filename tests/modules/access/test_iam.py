"""modules/access/iam.py alone: ARNs, the `*`-resource rule, trust documents, service roles and policy users."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack

from modules.access.iam import (
    PolicyUser,
    ServiceRole,
    account_root_arn,
    allow,
    arn,
    condition,
    github_actions_trust,
    policy_document,
    service_trust,
)
from tests.modules.alone import ACCOUNT_ID, Built, attached_to_group, build, has_no_resource, has_resource, in_group
from tests.tf import (
    Stack,
    data_sources,
    managed_policies_of,
    named,
    only,
    policy_statements,
    ref,
    resources,
    role_statements,
)

PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
CLUSTER_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:cluster/littil-test"
BUCKET_ARN = "arn:aws:s3:::littil-test-bucket"


def statements_of(stack: Stack, document_id: str) -> list[dict[str, Any]]:
    """Statements of the top-level aws_iam_policy_document `document_id` (its logical id is its construct id)."""
    return list(data_sources(stack, "aws_iam_policy_document")[document_id]["statement"])


def documents(stack: TerraformStack) -> None:
    policy_document(
        stack,
        "scoped",
        [
            allow(["s3:GetObject"], [f"{BUCKET_ARN}/*"], sid="ReadObjects"),
            allow(["s3:ListBucket"], [BUCKET_ARN]),
        ],
    )
    policy_document(
        stack,
        "one-cluster",
        [allow(["ecs:ListTasks"], ["*"], [condition("ArnEquals", "ecs:cluster", [CLUSTER_ARN])], sid="ListTasks")],
    )
    policy_document(stack, "any-resource", [allow(["ecr:GetAuthorizationToken"], ["*"])])
    github_actions_trust(stack, "release-trust", provider_arn=PROVIDER_ARN, org="Example-Org", repo="app")
    github_actions_trust(
        stack,
        "environment-trust",
        provider_arn=PROVIDER_ARN,
        org="Example-Org",
        repo="app",
        subjects=["environment:prod"],
    )
    service_trust(stack, "service-trust", "ecs-tasks.amazonaws.com")


@pytest.fixture(scope="module")
def docs() -> Built[None]:
    return build(documents)


def service_roles(stack: TerraformStack) -> dict[str, ServiceRole]:
    return {
        "full": ServiceRole(
            stack,
            "full",
            name="test-full-role",
            service="ecs-tasks.amazonaws.com",
            statements=[allow(["s3:GetObject"], [f"{BUCKET_ARN}/*"], sid="ReadObjects")],
            managed_policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess", f"arn:aws:iam::{ACCOUNT_ID}:policy/extra"],
            description="Role with everything",
        ),
        "inline-only": ServiceRole(
            stack,
            "inline-only",
            name="test-inline-role",
            service="ec2.amazonaws.com",
            statements=[allow(["s3:ListBucket"], [BUCKET_ARN])],
        ),
        "managed-only": ServiceRole(
            stack,
            "managed-only",
            name="test-managed-role",
            service="lambda.amazonaws.com",
            statements=[],
            managed_policy_arns=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        ),
    }


@pytest.fixture(scope="module")
def roles() -> Built[dict[str, ServiceRole]]:
    return build(service_roles)


def policy_user(*, with_statements: bool) -> Built[PolicyUser]:
    return build(
        lambda stack: PolicyUser(
            stack,
            "person",
            user_name="TEST-deployer-User",
            policy_name="TEST-deployer",
            description="What the deployer may do",
            statements=[allow(["s3:GetObject"], [f"{BUCKET_ARN}/*"], sid="ReadObjects")] if with_statements else [],
        )
    )


@pytest.fixture(scope="module")
def user_with_policy() -> Built[PolicyUser]:
    return policy_user(with_statements=True)


@pytest.fixture(scope="module")
def bare_user() -> Built[PolicyUser]:
    return policy_user(with_statements=False)


def test_arns_are_composed_from_service_region_account_and_resource() -> None:
    assert arn("s3", "littil-test-bucket") == BUCKET_ARN
    assert arn("logs", "log-group:/littil/api:*", region="eu-west-1", account=ACCOUNT_ID) == (
        f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:/littil/api:*"
    )
    assert arn("iam", "policy/ReadOnlyAccess", account="aws") == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert arn("s3", "bucket", partition="aws-cn") == "arn:aws-cn:s3:::bucket"


def test_account_root_arn_is_the_iam_root_principal_of_that_account() -> None:
    assert account_root_arn("210987654321") == "arn:aws:iam::210987654321:root"


def test_allow_renders_an_allow_statement_with_sid_and_without_empty_conditions(docs: Built[None]) -> None:
    read, listing = statements_of(docs.stack, "scoped")
    assert read == {
        "sid": "ReadObjects",
        "effect": "Allow",
        "actions": ["s3:GetObject"],
        "resources": [f"{BUCKET_ARN}/*"],
    }
    # No sid, no conditions: neither key is written.
    assert listing == {"effect": "Allow", "actions": ["s3:ListBucket"], "resources": [BUCKET_ARN]}


def test_any_resource_is_allowed_for_actions_aws_grants_only_that_way(docs: Built[None]) -> None:
    (statement,) = statements_of(docs.stack, "any-resource")
    assert (statement["actions"], statement["resources"]) == (["ecr:GetAuthorizationToken"], ["*"])


def test_cluster_scoped_listing_on_any_resource_carries_its_cluster_condition(docs: Built[None]) -> None:
    (statement,) = statements_of(docs.stack, "one-cluster")
    assert statement["resources"] == ["*"]
    assert statement["condition"] == [{"test": "ArnEquals", "variable": "ecs:cluster", "values": [CLUSTER_ARN]}]


@pytest.mark.parametrize(
    ("actions", "resources", "conditions"),
    [
        pytest.param(["s3:GetObject"], ["*"], [], id="resource-scoped-action"),
        pytest.param(["s3:GetObject"], [f"{BUCKET_ARN}/*", "*"], [], id="star-among-other-resources"),
        pytest.param(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], ["*"], [], id="mixed-with-a-scoped-action"),
        pytest.param(["ecs:ListTasks"], ["*"], [], id="cluster-listing-without-condition"),
        pytest.param(
            ["ecs:ListServices"],
            ["*"],
            [("StringEquals", "aws:ResourceTag/Project", ["LITTIL"])],
            id="cluster-listing-with-another-condition",
        ),
        pytest.param(
            ["ecs:ListTasks", "ecs:ListClusters"],
            ["*"],
            [("ArnEquals", "ecs:cluster", [CLUSTER_ARN])],
            id="cluster-listing-mixed-with-an-any-resource-action",
        ),
        pytest.param(
            ["ecs:ListTasks", "ecs:StopTask"],
            ["*"],
            [("ArnEquals", "ecs:cluster", [CLUSTER_ARN])],
            id="cluster-condition-does-not-cover-other-actions",
        ),
    ],
)
def test_allow_refuses_any_resource_outside_the_listed_actions(
    actions: list[str], resources: list[str], conditions: list[tuple[str, str, list[str]]]
) -> None:
    with pytest.raises(ValueError, match=r"'\*' resource is reserved"):
        allow(actions, resources, [condition(*c) for c in conditions])


def test_github_trust_admits_the_repositorys_main_branch_and_version_tags_through_the_oidc_provider(
    docs: Built[None],
) -> None:
    (statement,) = statements_of(docs.stack, "release-trust")
    assert statement["effect"] == "Allow"
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"] == [{"type": "Federated", "identifiers": [PROVIDER_ARN]}]
    assert statement["condition"] == [
        {
            "test": "StringEquals",
            "variable": "token.actions.githubusercontent.com:aud",
            "values": ["sts.amazonaws.com"],
        },
        {
            "test": "StringLike",
            "variable": "token.actions.githubusercontent.com:sub",
            "values": ["repo:Example-Org/app:ref:refs/heads/main", "repo:Example-Org/app:ref:refs/tags/v?*.?*.?*"],
        },
    ]


def test_github_trust_subjects_replace_the_default_refs(docs: Built[None]) -> None:
    (statement,) = statements_of(docs.stack, "environment-trust")
    aud, sub = statement["condition"]
    assert aud["values"] == ["sts.amazonaws.com"]
    assert sub["values"] == ["repo:Example-Org/app:environment:prod"]


def test_service_trust_lets_only_that_service_assume_the_role(docs: Built[None]) -> None:
    (statement,) = statements_of(docs.stack, "service-trust")
    assert statement == {
        "effect": "Allow",
        "actions": ["sts:AssumeRole"],
        "principals": [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}],
    }


def inline_policies_of(stack: Stack, role_name: str) -> list[dict[str, Any]]:
    role_id, _ = named(stack, "aws_iam_role", role_name)
    return [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", role_id, "id")
    ]


@pytest.mark.parametrize(
    ("role_name", "service"),
    [
        ("test-full-role", "ecs-tasks.amazonaws.com"),
        ("test-inline-role", "ec2.amazonaws.com"),
        ("test-managed-role", "lambda.amazonaws.com"),
    ],
)
def test_service_role_is_trusted_by_its_service_only(
    roles: Built[dict[str, ServiceRole]], role_name: str, service: str
) -> None:
    _, role = named(roles.stack, "aws_iam_role", role_name)
    (trust,) = policy_statements(roles.stack, role["assume_role_policy"])
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust["principals"] == [{"type": "Service", "identifiers": [service]}]


def test_service_role_gets_one_inline_policy_and_each_managed_policy_in_order(
    roles: Built[dict[str, ServiceRole]],
) -> None:
    stack = roles.stack
    assert has_resource(roles, "aws_iam_role", {"name": "test-full-role", "description": "Role with everything"})
    assert role_statements(stack, "test-full-role") == [
        {"sid": "ReadObjects", "effect": "Allow", "actions": ["s3:GetObject"], "resources": [f"{BUCKET_ARN}/*"]}
    ]
    assert managed_policies_of(stack, "test-full-role") == [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        f"arn:aws:iam::{ACCOUNT_ID}:policy/extra",
    ]


def test_grant_writes_no_empty_inline_policy_and_no_attachment_it_was_not_given(
    roles: Built[dict[str, ServiceRole]],
) -> None:
    stack = roles.stack
    assert role_statements(stack, "test-inline-role") == [
        {"effect": "Allow", "actions": ["s3:ListBucket"], "resources": [BUCKET_ARN]}
    ]
    assert managed_policies_of(stack, "test-inline-role") == []
    assert inline_policies_of(stack, "test-managed-role") == []
    assert managed_policies_of(stack, "test-managed-role") == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]
    # Without a description none is written (AWS keeps the role's description empty).
    _, managed = named(stack, "aws_iam_role", "test-managed-role")
    assert "description" not in managed


def test_policy_user_holds_its_permissions_through_a_group_never_on_the_user(
    user_with_policy: Built[PolicyUser],
) -> None:
    built = user_with_policy
    stack = built.stack
    only(resources(stack, "aws_iam_user"))  # exactly one
    _, policy = only(resources(stack, "aws_iam_policy"))
    only(resources(stack, "aws_iam_group"))  # exactly one
    assert has_resource(built, "aws_iam_user", {"name": "TEST-deployer-User", "force_destroy": True})
    assert (policy["name"], policy["description"]) == ("TEST-deployer", "What the deployer may do")
    assert policy_statements(stack, policy["policy"]) == [
        {"sid": "ReadObjects", "effect": "Allow", "actions": ["s3:GetObject"], "resources": [f"{BUCKET_ARN}/*"]}
    ]
    assert has_resource(built, "aws_iam_group", {"name": "TEST-deployer"})
    assert attached_to_group(built, policy="TEST-deployer", group="TEST-deployer")
    assert in_group(built, user="TEST-deployer-User", group="TEST-deployer")
    for direct in ("aws_iam_user_policy", "aws_iam_user_policy_attachment", "aws_iam_access_key"):
        assert has_no_resource(built, direct), direct
    assert built.construct.policy is not None
    assert built.construct.group is not None


def test_policy_user_without_statements_is_the_same_user_and_nothing_else(
    bare_user: Built[PolicyUser], user_with_policy: Built[PolicyUser]
) -> None:
    user_id, user = only(resources(bare_user.stack, "aws_iam_user"))
    assert user == {"name": "TEST-deployer-User", "force_destroy": True}
    # Same address as with permissions: taking them away keeps the user and its hand-made access keys.
    assert user_id == only(resources(user_with_policy.stack, "aws_iam_user"))[0]
    assert set(bare_user.stack["resource"]) == {"aws_iam_user"}
    assert "data" not in bare_user.stack
    assert bare_user.construct.policy is None
    assert bare_user.construct.group is None


def test_allow_refuses_a_statement_without_resources() -> None:
    with pytest.raises(ValueError, match="at least one resource"):
        allow(["s3:GetObject"], [])
