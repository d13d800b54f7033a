"""IAM building blocks shared by the modules: policy documents, statements, trust."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

from modules.aws_actions import ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE, GITHUB_OIDC_HOST, STS_AUDIENCE


def account_root_arn(account_id: str, partition: str = "aws") -> str:
    """The principal that stands for a whole AWS account."""
    return f"arn:{partition}:iam::{account_id}:root"


def allow(actions: Sequence[str], resources: Sequence[str]) -> DataAwsIamPolicyDocumentStatement:
    """An Allow statement; `*` resources only for the actions AWS grants on nothing narrower."""
    if "*" in resources and not set(actions) <= ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE:
        raise ValueError(f"'*' resource is reserved for {sorted(ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE)}, got {actions}")
    return DataAwsIamPolicyDocumentStatement(effect="Allow", actions=list(actions), resources=list(resources))


def policy_document(
    scope: Construct, construct_id: str, statements: Sequence[DataAwsIamPolicyDocumentStatement]
) -> DataAwsIamPolicyDocument:
    return DataAwsIamPolicyDocument(scope, construct_id, statement=list(statements))


def github_actions_trust(
    scope: Construct, construct_id: str, *, provider_arn: str, org: str, repo: str
) -> DataAwsIamPolicyDocument:
    """Trust policy: GitHub Actions runs of `org/repo` (any ref) for audience sts.amazonaws.com."""
    return policy_document(
        scope,
        construct_id,
        [
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRoleWithWebIdentity"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Federated", identifiers=[provider_arn])],
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals", variable=f"{GITHUB_OIDC_HOST}:aud", values=[STS_AUDIENCE]
                    ),
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringLike", variable=f"{GITHUB_OIDC_HOST}:sub", values=[f"repo:{org}/{repo}:*"]
                    ),
                ],
            )
        ],
    )
