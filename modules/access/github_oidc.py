"""GitHub Actions federation: the account's OIDC provider and roles that trust it."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from modules.access.aws_actions import (
    ACTIONS_READING_DATA,
    GITHUB_OIDC_HOST,
    GITHUB_RELEASE_SUBJECTS,
    OBJECT_READ_ACTIONS,
    PARAMETER_READ_ACTIONS,
    PUBLIC_PARAMETERS,
    STATE_LIST_ACTIONS,
    STATE_READ_ACTIONS,
    STS_AUDIENCE,
)
from modules.access.iam import allow, arn, deny, github_actions_trust, grant

# AWS-managed: read (Describe/Get/List) on every service, no secret values, no writes.
READ_ONLY_POLICY = "ReadOnlyAccess"


class GithubOidcProvider(Construct):
    """`token.actions.githubusercontent.com` as an identity provider of this account.

    An account holds one provider per URL, so with `create=False` the existing
    one is looked up instead. With `adopt_in_account`, the provider that account
    already has (made by hand for the old system) is imported and managed from now
    on. Exposes `arn`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, create: bool = True, adopt_in_account: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        url = f"https://{GITHUB_OIDC_HOST}"
        if create:
            provider = IamOpenidConnectProvider(self, "provider", url=url, client_id_list=[STS_AUDIENCE])
            if adopt_in_account is not None:
                provider.import_from(f"arn:aws:iam::{adopt_in_account}:oidc-provider/{GITHUB_OIDC_HOST}")
            self.arn = provider.arn
        else:
            self.arn = DataAwsIamOpenidConnectProvider(self, "existing", url=url).arn


class GithubActionsRole(Construct):
    """An IAM role that GitHub Actions runs of one repository may assume.

    Exposes `role`. Permissions come as managed policy ARNs and/or inline statements.
    `subjects` (token `sub` endings) default to the main branch and `v*` tags.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        provider_arn: str,
        org: str,
        repo: str,
        policy_arns: Sequence[str] = (),
        statements: Sequence[DataAwsIamPolicyDocumentStatement] = (),
        max_session_seconds: int = 3600,
        subjects: Sequence[str] = GITHUB_RELEASE_SUBJECTS,
    ) -> None:
        super().__init__(scope, construct_id)
        trust = github_actions_trust(self, "trust", provider_arn=provider_arn, org=org, repo=repo, subjects=subjects)
        self.role = IamRole(
            self,
            "role",
            name=role_name,
            description=f"Assumed by GitHub Actions of {org}/{repo}",
            assume_role_policy=trust.json,
            max_session_duration=max_session_seconds,
        )
        grant(self, self.role, statements=statements, managed_policy_arns=policy_arns)


class TerraformPlanRole(Construct):
    """`terraform plan -lock=false` for GitHub Actions of this repository: read configuration, never data.

    Trusted by runs of the main branch (reviewed code) and by jobs of the GitHub environment
    `environment` (a pull request's plan runs there, after one of its required reviewers approved
    it), never by a pull request as such: whatever a pull request puts in the Terraform it plans
    (providers, data sources) runs with this role only after a person has read it. Access:
    `ReadOnlyAccess`, minus what it shows of the data itself (`ACTIONS_READING_DATA` everywhere;
    object reads outside the state bucket; parameter values other than `readable_parameter_arns`
    and AWS's public ones), plus reading the state bucket (`init` and remote-state reads) and the
    values of `readable_secret_arns`: secrets whose value Terraform wrote, so it already sits in the
    state this role reads (a refresh of their version reads it back). Secrets that people fill stay
    out of reach. Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        provider_arn: str,
        org: str,
        repo: str,
        state_bucket: str,
        region: str,
        environment: str,
        readable_secret_arns: Sequence[str] = (),
        readable_parameter_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        bucket_arn = arn("s3", state_bucket)
        statements = [
            allow(STATE_LIST_ACTIONS, [bucket_arn], sid="ListState"),
            allow(STATE_READ_ACTIONS, [f"{bucket_arn}/*"], sid="ReadState"),
            deny(OBJECT_READ_ACTIONS, not_resources=[f"{bucket_arn}/*"], sid="NoObjectsButState"),
            deny(
                PARAMETER_READ_ACTIONS,
                not_resources=[*readable_parameter_arns, arn("ssm", PUBLIC_PARAMETERS, region=region)],
                sid="NoParametersButTerraforms",
            ),
            deny(ACTIONS_READING_DATA, sid="NoData"),
        ]
        if readable_secret_arns:
            statements.append(
                allow(["secretsmanager:GetSecretValue"], list(readable_secret_arns), sid="ReadSecretsInState")
            )
        subjects = ("ref:refs/heads/main", f"environment:{environment}")
        self.role = GithubActionsRole(
            self,
            "role",
            role_name=role_name,
            provider_arn=provider_arn,
            org=org,
            repo=repo,
            subjects=subjects,
            policy_arns=[arn("iam", f"policy/{READ_ONLY_POLICY}", account="aws")],
            statements=statements,
        ).role
