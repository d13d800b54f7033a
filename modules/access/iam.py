"""IAM building blocks shared by the modules: ARNs, statements, documents, users and roles.

Policies are always `DataAwsIamPolicyDocument`s, never hand-written JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_group import IamGroup
from cdktf_cdktf_provider_aws.iam_group_policy_attachment import IamGroupPolicyAttachment
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.iam_user import IamUser
from cdktf_cdktf_provider_aws.iam_user_group_membership import IamUserGroupMembership
from constructs import Construct

from modules.access.aws_actions import (
    ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE,
    ACTIONS_SCOPED_BY_CLUSTER,
    CLUSTER_CONDITION_KEY,
    GITHUB_OIDC_HOST,
    GITHUB_RELEASE_SUBJECTS,
    STS_AUDIENCE,
)


def arn(service: str, resource: str, *, region: str = "", account: str = "", partition: str = "aws") -> str:
    """The one place ARNs are composed (where no resource attribute gives them)."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def account_root_arn(account_id: str) -> str:
    """The principal that stands for a whole AWS account."""
    return arn("iam", "root", account=account_id)


def allow(
    actions: Sequence[str],
    resources: Sequence[str],
    conditions: Sequence[DataAwsIamPolicyDocumentStatementCondition] = (),
    sid: str | None = None,
) -> DataAwsIamPolicyDocumentStatement:
    """An Allow statement; `*` resources only for the actions AWS grants on nothing narrower.

    The cluster-scoped list actions may name `*` only with an `ecs:cluster` condition. A statement
    without resources is refused: IAM rejects it at apply time.
    """
    if not resources:
        raise ValueError(f"an Allow statement needs at least one resource; got none for {list(actions)}")
    if "*" in resources:
        any_resource = set(actions) <= ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE
        cluster_scoped = set(actions) <= ACTIONS_SCOPED_BY_CLUSTER and any(
            isinstance(c.variable, str) and c.variable == CLUSTER_CONDITION_KEY for c in conditions
        )
        if not (any_resource or cluster_scoped):
            raise ValueError(
                f"'*' resource is reserved for {sorted(ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE)}, and for "
                f"{sorted(ACTIONS_SCOPED_BY_CLUSTER)} with an {CLUSTER_CONDITION_KEY} condition; got {actions}"
            )
    return DataAwsIamPolicyDocumentStatement(
        sid=sid, effect="Allow", actions=list(actions), resources=list(resources), condition=list(conditions) or None
    )


def deny(actions: Sequence[str], *, sid: str, not_resources: Sequence[str] = ()) -> DataAwsIamPolicyDocumentStatement:
    """A Deny statement: on every resource, or with `not_resources` on every resource but those."""
    if not_resources:
        return DataAwsIamPolicyDocumentStatement(
            sid=sid, effect="Deny", actions=list(actions), not_resources=list(not_resources)
        )
    return DataAwsIamPolicyDocumentStatement(sid=sid, effect="Deny", actions=list(actions), resources=["*"])


def condition(test: str, variable: str, values: Sequence[str]) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))


# How long after an MFA sign-in a shell may still be opened, resumed or ended: a working day, as long as the session
# token the shell runbook asks for (`aws sts get-session-token --duration-seconds`; STS allows up to 36 hours).
MFA_MAX_AGE_SECONDS = 12 * 3600


def mfa_sign_in() -> list[DataAwsIamPolicyDocumentStatementCondition]:
    """Credentials from an MFA sign-in at most `MFA_MAX_AGE_SECONDS` old. `Bool`, not `BoolIfExists`: a request
    signed with a long-term access key carries no `aws:MultiFactorAuthPresent` (nor an age) at all, and must not
    pass."""
    return [
        condition("Bool", "aws:MultiFactorAuthPresent", ["true"]),
        condition("NumericLessThan", "aws:MultiFactorAuthAge", [str(MFA_MAX_AGE_SECONDS)]),
    ]


def policy_document(
    scope: Construct, construct_id: str, statements: Sequence[DataAwsIamPolicyDocumentStatement]
) -> DataAwsIamPolicyDocument:
    return DataAwsIamPolicyDocument(scope, construct_id, statement=list(statements))


def github_actions_trust(
    scope: Construct,
    construct_id: str,
    *,
    provider_arn: str,
    org: str,
    repo: str,
    subjects: Sequence[str] = GITHUB_RELEASE_SUBJECTS,
) -> DataAwsIamPolicyDocument:
    """Trust policy: GitHub Actions runs of `org/repo` whose token subject ends in one of `subjects`.

    The token's `sub` claim is `repo:<org>/<repo>:environment:<name>` for a job of a GitHub
    environment, else `repo:<org>/<repo>:ref:<ref>` for push-triggered jobs and
    `repo:<org>/<repo>:pull_request` for pull requests. By default only the
    main branch and `v*` tags match: pull requests, other branches, environments and other
    repositories do not. Audience sts.amazonaws.com.
    """
    return policy_document(
        scope,
        construct_id,
        [
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRoleWithWebIdentity"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Federated", identifiers=[provider_arn])],
                condition=[
                    condition("StringEquals", f"{GITHUB_OIDC_HOST}:aud", [STS_AUDIENCE]),
                    condition(
                        "StringLike",
                        f"{GITHUB_OIDC_HOST}:sub",
                        [f"repo:{org}/{repo}:{subject}" for subject in subjects],
                    ),
                ],
            )
        ],
    )


def service_trust(
    scope: Construct,
    construct_id: str,
    service: str,
    *,
    source_account: str | None = None,
    source_arn: str | None = None,
) -> DataAwsIamPolicyDocument:
    """Trust policy letting an AWS service (e.g. `ecs-tasks.amazonaws.com`) assume a role.

    `source_account` / `source_arn` are AWS's confused-deputy guard: the service may assume the role
    only on behalf of this account (`aws:SourceAccount`) and of the resources `source_arn` matches
    (`aws:SourceArn`, `ArnLike`), never for another customer who names the role.
    """
    guard = [
        *([condition("StringEquals", "aws:SourceAccount", [source_account])] if source_account else []),
        *([condition("ArnLike", "aws:SourceArn", [source_arn])] if source_arn else []),
    ]
    return policy_document(
        scope,
        construct_id,
        [
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
                condition=guard or None,
            )
        ],
    )


class ServiceRole(Construct):
    """A role an AWS service assumes, with one inline policy and optional managed policies.

    `source_account` and `source_arn` limit on whose behalf the service may assume it (`service_trust`).
    Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        service: str,
        statements: Sequence[DataAwsIamPolicyDocumentStatement],
        managed_policy_arns: Sequence[str] = (),
        description: str | None = None,
        source_account: str | None = None,
        source_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        trust = service_trust(self, "trust", service, source_account=source_account, source_arn=source_arn)
        self.role = IamRole(self, "role", name=name, description=description, assume_role_policy=trust.json)
        grant(self, self.role, statements=statements, managed_policy_arns=managed_policy_arns)


def grant(
    scope: Construct,
    role: IamRole,
    *,
    statements: Sequence[DataAwsIamPolicyDocumentStatement] = (),
    managed_policy_arns: Sequence[str] = (),
) -> None:
    """Give a role its permissions: one inline policy from `statements`, plus managed policies."""
    if statements:
        IamRolePolicy(scope, "policy", role=role.id, policy=policy_document(scope, "document", statements).json)
    for index, policy_arn in enumerate(managed_policy_arns):
        IamRolePolicyAttachment(scope, f"managed-{index}", role=role.name, policy_arn=policy_arn)


class PolicyUser(Construct):
    """An IAM user for a person or a program that cannot assume a role.

    Its permissions live in a managed policy attached to a group of the same
    name, and the user is that group's member (never a policy on the user).
    Without `statements` only the user exists (same address, so its access keys
    survive permissions coming and going). Terraform creates no access key here:
    keys that people use are created by an administrator, so their secret never
    sits in state. Exposes `user`, and `policy` and `group` (None without statements).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_name: str,
        policy_name: str,
        description: str,
        statements: Sequence[DataAwsIamPolicyDocumentStatement],
    ) -> None:
        super().__init__(scope, construct_id)
        # force_destroy: the access keys administrators create by hand do not block a destroy.
        self.user = IamUser(self, "user", name=user_name, force_destroy=True)
        self.policy: IamPolicy | None = None
        self.group: IamGroup | None = None
        if not statements:
            return
        self.policy = IamPolicy(
            self,
            "policy",
            name=policy_name,
            description=description,
            policy=policy_document(self, "document", statements).json,
        )
        self.group = IamGroup(self, "group", name=policy_name)
        IamGroupPolicyAttachment(self, "group-policy", group=self.group.name, policy_arn=self.policy.arn)
        IamUserGroupMembership(self, "membership", user=self.user.name, groups=[self.group.name])
