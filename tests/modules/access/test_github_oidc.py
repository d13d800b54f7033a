"""modules/access/github_oidc.py alone: the OIDC provider made, adopted or looked up, and the roles that trust it."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from cdktf import TerraformStack

from modules.access.github_oidc import GithubActionsRole, GithubOidcProvider, TerraformPlanRole
from modules.access.iam import allow
from tests.modules.alone import ACCOUNT_ID, Built, build, has_data_source, has_no_resource, has_resource
from tests.tf import (
    Stack,
    data_ref,
    data_sources,
    managed_policies_of,
    named,
    only,
    policy_statements,
    ref,
    resources,
    role_statements,
)

GITHUB_URL = "https://token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
PUSH_POLICY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/TEST-ecr-pushpull"
SECRET_ARNS = (
    f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:littil/test/cloudwatch-AbCdEf",
    f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:littil/test/smtp-GhIjKl",
)
CLUSTER_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:cluster/littil-test"
OWN_PARAMETERS = f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/littil/test/*"


def provider(*, create: bool, adopt_in_account: str | None = None) -> Built[GithubOidcProvider]:
    return build(lambda stack: GithubOidcProvider(stack, "github", create=create, adopt_in_account=adopt_in_account))


@pytest.fixture(scope="module")
def created() -> Built[GithubOidcProvider]:
    return provider(create=True)


@pytest.fixture(scope="module")
def adopted() -> Built[GithubOidcProvider]:
    return provider(create=True, adopt_in_account="210987654321")


def trusting_a_lookup(stack: TerraformStack) -> None:
    # Adoption is moot when the provider is only looked up.
    github = GithubOidcProvider(stack, "github", create=False, adopt_in_account="210987654321")
    GithubActionsRole(stack, "role", role_name="TEST-role", provider_arn=github.arn, org="Example-Org", repo="app")


@pytest.fixture(scope="module")
def looked_up() -> Built[None]:
    return build(trusting_a_lookup)


def actions_roles(stack: TerraformStack) -> None:
    """A provider, and roles trusting it: one with a managed policy, one with statements and a longer session."""
    github = GithubOidcProvider(stack, "github")
    GithubActionsRole(
        stack,
        "push",
        role_name="TEST-ecr-push",
        provider_arn=github.arn,
        org="Example-Org",
        repo="app",
        policy_arns=[PUSH_POLICY_ARN],
    )
    GithubActionsRole(
        stack,
        "redeploy",
        role_name="TEST-ecs-redeploy",
        provider_arn=github.arn,
        org="Example-Org",
        repo="app",
        statements=[allow(["ecs:ListClusters"], ["*"], sid="FindTheCluster")],
        max_session_seconds=7200,
        subjects=["ref:refs/heads/release"],
    )


@pytest.fixture(scope="module")
def roles() -> Built[None]:
    return build(actions_roles)


def plan_role(readable_secret_arns: tuple[str, ...]) -> Built[TerraformPlanRole]:
    return build(
        lambda stack: TerraformPlanRole(
            stack,
            "plan",
            role_name="TEST-terraform-plan",
            provider_arn=PROVIDER_ARN,
            org="Example-Org",
            repo="infrastructure",
            state_bucket="littil-test-state",
            region="eu-west-1",
            environment="plan-test",
            readable_secret_arns=readable_secret_arns,
            readable_parameter_arns=[OWN_PARAMETERS],
        )
    )


@pytest.fixture(scope="module")
def plan_with_secrets() -> Built[TerraformPlanRole]:
    return plan_role(SECRET_ARNS)


@pytest.fixture(scope="module")
def plan_without_secrets() -> Built[TerraformPlanRole]:
    return plan_role(())


def trust_of(stack: Stack, role_name: str) -> dict[str, Any]:
    _, role = named(stack, "aws_iam_role", role_name)
    (statement,) = policy_statements(stack, role["assume_role_policy"])
    return statement


def subjects_of(trust: dict[str, Any]) -> list[str]:
    (sub,) = [c for c in trust["condition"] if c["variable"] == "token.actions.githubusercontent.com:sub"]
    assert sub["test"] == "StringLike"
    return list(sub["values"])


def test_provider_is_githubs_token_issuer_for_the_sts_audience(created: Built[GithubOidcProvider]) -> None:
    assert has_resource(
        created, "aws_iam_openid_connect_provider", {"url": GITHUB_URL, "client_id_list": ["sts.amazonaws.com"]}
    )
    assert "import" not in created.stack
    assert "data" not in created.stack


def test_adopting_imports_the_accounts_existing_provider_by_its_arn(adopted: Built[GithubOidcProvider]) -> None:
    name, _ = only(resources(adopted.stack, "aws_iam_openid_connect_provider"))
    assert adopted.stack["import"] == [
        {
            "id": "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com",
            "to": f"aws_iam_openid_connect_provider.{name}",
        }
    ]


def test_without_create_the_existing_provider_is_looked_up_by_url_and_nothing_is_made_or_imported(
    looked_up: Built[None],
) -> None:
    assert has_data_source(looked_up, "aws_iam_openid_connect_provider", {"url": GITHUB_URL})
    assert has_no_resource(looked_up, "aws_iam_openid_connect_provider")
    assert "import" not in looked_up.stack


def test_roles_trust_the_provider_they_are_given(roles: Built[None]) -> None:
    provider_id, _ = only(resources(roles.stack, "aws_iam_openid_connect_provider"))
    for role_name in ("TEST-ecr-push", "TEST-ecs-redeploy"):
        trust = trust_of(roles.stack, role_name)
        assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"], role_name
        assert trust["principals"] == [
            {"type": "Federated", "identifiers": [ref("aws_iam_openid_connect_provider", provider_id, "arn")]}
        ], role_name


def test_a_looked_up_providers_arn_is_the_lookups(looked_up: Built[None]) -> None:
    lookup_id, _ = only(data_sources(looked_up.stack, "aws_iam_openid_connect_provider"))
    assert trust_of(looked_up.stack, "TEST-role")["principals"] == [
        {"type": "Federated", "identifiers": [data_ref("aws_iam_openid_connect_provider", lookup_id, "arn")]}
    ]


def test_actions_role_defaults_to_main_and_version_tags_of_its_repository_for_an_hour(roles: Built[None]) -> None:
    assert subjects_of(trust_of(roles.stack, "TEST-ecr-push")) == [
        "repo:Example-Org/app:ref:refs/heads/main",
        "repo:Example-Org/app:ref:refs/tags/v?*.?*.?*",
    ]
    assert has_resource(
        roles,
        "aws_iam_role",
        {
            "name": "TEST-ecr-push",
            "description": "Assumed by GitHub Actions of Example-Org/app",
            "max_session_duration": 3600,
        },
    )


def test_actions_role_takes_other_subjects_and_a_longer_session(roles: Built[None]) -> None:
    assert subjects_of(trust_of(roles.stack, "TEST-ecs-redeploy")) == ["repo:Example-Org/app:ref:refs/heads/release"]
    assert has_resource(roles, "aws_iam_role", {"name": "TEST-ecs-redeploy", "max_session_duration": 7200})


def test_actions_role_gets_managed_policies_or_inline_statements_as_given(roles: Built[None]) -> None:
    stack = roles.stack
    assert managed_policies_of(stack, "TEST-ecr-push") == [PUSH_POLICY_ARN]
    push_id, _ = named(stack, "aws_iam_role", "TEST-ecr-push")
    assert not [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", push_id, "id")
    ]
    assert managed_policies_of(stack, "TEST-ecs-redeploy") == []
    assert role_statements(stack, "TEST-ecs-redeploy") == [
        {"sid": "FindTheCluster", "effect": "Allow", "actions": ["ecs:ListClusters"], "resources": ["*"]}
    ]


def test_plan_role_admits_main_and_its_github_environment_but_never_a_pull_request_as_such(
    plan_without_secrets: Built[TerraformPlanRole],
) -> None:
    trust = trust_of(plan_without_secrets.stack, "TEST-terraform-plan")
    assert trust["principals"] == [{"type": "Federated", "identifiers": [PROVIDER_ARN]}]
    # A job of the environment carries `environment:<name>` as its subject, pull request or not: one of its required
    # reviewers approves the job before GitHub hands it a token. `repo:...:pull_request` matches nothing here.
    assert subjects_of(trust) == [
        "repo:Example-Org/infrastructure:ref:refs/heads/main",
        "repo:Example-Org/infrastructure:environment:plan-test",
    ]


def test_plan_role_reads_configuration_and_its_state_bucket_but_no_secret_by_default(
    plan_without_secrets: Built[TerraformPlanRole],
) -> None:
    stack = plan_without_secrets.stack
    assert managed_policies_of(stack, "TEST-terraform-plan") == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    allowed = [s for s in role_statements(stack, "TEST-terraform-plan") if s["effect"] == "Allow"]
    assert allowed == [
        {
            "sid": "ListState",
            "effect": "Allow",
            "actions": ["s3:ListBucket"],
            "resources": ["arn:aws:s3:::littil-test-state"],
        },
        {
            "sid": "ReadState",
            "effect": "Allow",
            "actions": ["s3:GetObject"],
            "resources": ["arn:aws:s3:::littil-test-state/*"],
        },
    ]


def denied(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an explicit Deny among `statements` matches this request (IAM's wildcards: `*` and `?`)."""
    for statement in statements:
        if statement["effect"] != "Deny" or not any(fnmatch.fnmatchcase(action, a) for a in statement["actions"]):
            continue
        if "not_resources" in statement:
            if not any(fnmatch.fnmatchcase(resource, r) for r in statement["not_resources"]):
                return True
        elif any(fnmatch.fnmatchcase(resource, r) for r in statement["resources"]):
            return True
    return False


STATE_OBJECT = "arn:aws:s3:::littil-test-state/littil/test/api.tfstate"


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", "arn:aws:s3:::some-other-bucket/customers.csv"),
        ("s3:GetObjectVersion", "arn:aws:s3:::some-other-bucket/customers.csv"),
        ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/hand-made/api-key"),
        ("ssm:GetParametersByPath", f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/hand-made"),
        ("ssm:GetParameterHistory", f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/hand-made/api-key"),
        ("logs:GetLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:LITTILBackendApiEcsLogs-test:*"),
        ("logs:FilterLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:LITTILBackendApiEcsLogs-test:*"),
        ("logs:StartQuery", f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:LITTILBackendApiEcsLogs-test:*"),
        ("logs:StartLiveTail", f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:LITTILBackendApiEcsLogs-test:*"),
        ("sqs:ReceiveMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT_ID}:queue"),
        ("ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/littil-backend"),
        ("ecr:BatchGetImage", f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/littil-backend"),
        ("rds:DownloadDBLogFilePortion", f"arn:aws:rds:eu-west-1:{ACCOUNT_ID}:db:littil-test"),
        ("rds:DownloadCompleteDBLogFile", f"arn:aws:rds:eu-west-1:{ACCOUNT_ID}:db:littil-test"),
        ("ec2:GetConsoleOutput", f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:instance/i-0123456789abcdef0"),
        ("ssm:GetCommandInvocation", "*"),
        ("dynamodb:Scan", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT_ID}:table/anything"),
    ],
)
def test_plan_role_is_denied_reading_data_that_readonlyaccess_would_show(
    plan_without_secrets: Built[TerraformPlanRole], action: str, resource: str
) -> None:
    assert denied(role_statements(plan_without_secrets.stack, "TEST-terraform-plan"), action, resource)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        # what init, refresh and remote-state reads need
        ("s3:GetObject", STATE_OBJECT),
        ("s3:ListBucket", "arn:aws:s3:::littil-test-state"),
        ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/littil/test/api/image-tag"),
        ("ssm:GetParameter", "arn:aws:ssm:eu-west-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami"),
        ("logs:DescribeLogGroups", "*"),
        ("ecr:DescribeRepositories", f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/littil-backend"),
        ("secretsmanager:DescribeSecret", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:littil/test/oidc"),
    ],
)
def test_plan_role_still_reads_what_a_plan_reads(
    plan_without_secrets: Built[TerraformPlanRole], action: str, resource: str
) -> None:
    assert not denied(role_statements(plan_without_secrets.stack, "TEST-terraform-plan"), action, resource)


def test_plan_role_may_read_exactly_the_secrets_whose_value_is_in_state(
    plan_with_secrets: Built[TerraformPlanRole],
) -> None:
    statements = {s["sid"]: s for s in role_statements(plan_with_secrets.stack, "TEST-terraform-plan")}
    assert set(statements) == {
        "ListState",
        "ReadState",
        "NoObjectsButState",
        "NoParametersButTerraforms",
        "NoData",
        "ReadSecretsInState",
    }
    assert statements["ReadSecretsInState"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadSecretsInState"]["resources"] == list(SECRET_ARNS)
    # Reading only: every action it is granted beyond ReadOnlyAccess is a Get or a List.
    for statement in (s for s in statements.values() if s["effect"] == "Allow"):
        assert all(a.split(":")[1].startswith(("Get", "List")) for a in statement["actions"]), statement
