"""What every LITTIL stack has: an AWS provider locked to its account, tags, and state."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from cdktf import LocalBackend, S3Backend, TerraformLocal, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.access.github_oidc import TerraformPlanRole
from modules.naming import (
    PLACEHOLDERS_LOCAL,
    PLACEHOLDERS_OUTPUT,
    PROJECT,
    physical_name,
    plan_environment,
    plan_role_variable,
    state_bucket_name,
    state_key,
)

Environment = SharedEnvironment | WorkloadEnvironment
# `use_lockfile` (S3-native state locking) arrived in Terraform 1.10 as experimental and is
# generally available from 1.11 (hashicorp/terraform#36338).
REQUIRED_TERRAFORM = ">= 1.11"
# State objects are written with SSE-KMS under the account's AWS-managed S3 key, like the
# bucket's default; `encrypt = true` alone would ask for SSE-S3 on every write.
STATE_KMS_KEY = "alias/aws/s3"


class LittilStack(TerraformStack):
    """A stack of one environment.

    `component` names the stack's state key; `stack_name` defaults to
    `<component>-<env>`. The provider refuses any account but the environment's
    (`allowed_account_ids`), so a plan with the wrong credentials fails before
    touching anything. ARNs in this account are composed with `current_account_id`
    (the provider's own account), never from config, so a placeholder id in an env
    file cannot end up in a policy.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        component: str,
        env: Environment,
        stack_name: str | None = None,
        remote_state: bool = True,
    ) -> None:
        self.stack_name = stack_name or f"{component}-{env.name}"
        super().__init__(scope, self.stack_name)
        self.env = env
        self.component = component
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)
        self.provider = self._aws_provider("aws", region=env.region)
        if remote_state:
            use_s3_backend(self, env=env, component=component)
        else:
            # Terraform runs in cdktf.out/stacks/<stack>/: keep the file in the project root,
            # where `cdktf synth` does not wipe it (and .gitignore keeps it out of git).
            LocalBackend(self, path=f"../../../terraform.{self.stack_name}.tfstate")

    def _aws_provider(self, construct_id: str, *, region: str, alias: str | None = None) -> AwsProvider:
        env = self.env
        return AwsProvider(
            self,
            construct_id,
            region=region,
            alias=alias,
            allowed_account_ids=[env.account_id],
            default_tags=[
                AwsProviderDefaultTags(
                    tags={"Project": PROJECT, "Environment": env.name, "Stack": self.stack_name, "ManagedBy": "cdktf"}
                )
            ],
        )

    def physical_name(self, *parts: str) -> str:
        """This environment's name for a resource: `LITTIL-<country>-<env>-<parts...>` (modules.naming)."""
        return physical_name(self.env.country, self.env.name, *parts)

    def provider_in(self, region: str) -> AwsProvider:
        """A second AWS provider (alias = the region) for what must live in another region, same account and tags."""
        return self._aws_provider(f"aws-{region}", region=region, alias=region)

    def refuse_placeholder_accounts(self, envs: Sequence[Environment], *, why: str) -> None:
        """Make plan and apply of this stack fail while any of `envs` has a placeholder account id.

        Synth and tests keep working; a deploy stops before it changes anything and says
        which file needs which id. Without placeholders nothing is added.
        """
        placeholders = [env for env in envs if env.has_placeholder_account]
        if not placeholders:
            return
        TerraformLocal(self, PLACEHOLDERS_LOCAL, [env.account_id for env in placeholders])
        problems = "; ".join(
            f'envs/{env.name}.hcl: account_id: "{env.account_id}" is a placeholder' for env in placeholders
        )
        output = TerraformOutput(
            self,
            PLACEHOLDERS_OUTPUT,
            value=f"${{local.{PLACEHOLDERS_LOCAL}}}",
            description="Account ids still to fill in (envs/); deploying refuses until there are none",
        )
        # cdktf 0.21 keeps an output's `precondition` but never writes it: set the block directly.
        output.add_override(
            "precondition",
            [
                {
                    "condition": f"${{length(local.{PLACEHOLDERS_LOCAL}) == 0}}",
                    "error_message": f"{problems}. Put each environment's real AWS account id there before"
                    f" deploying {self.stack_name} ({why}).",
                }
            ],
        )

    def add_plan_role(
        self,
        *,
        provider_arn: str,
        readable_secret_arns: Sequence[str] = (),
        readable_parameter_arns: Sequence[str] = (),
    ) -> TerraformPlanRole:
        """This account's read-only role for this repository's CI plans (docs/development.md, "CI"), and its ARN as an
        output named after the GitHub repository variable it goes into. `provider_arn`: the account's GitHub OIDC
        provider.

        Every account's role admits pull requests only through the GitHub environment
        `plan_environment(<env>)`, whose required reviewers approve each such job."""
        env = self.env
        role = TerraformPlanRole(
            self,
            "plan-role",
            role_name=self.physical_name("terraform-plan"),
            provider_arn=provider_arn,
            org=env.ci.github_org,
            repo=env.ci.github_repo,
            state_bucket=state_bucket_name(env.country, env.name, self.current_account_id),
            region=env.region,
            environment=plan_environment(env.name),
            readable_secret_arns=readable_secret_arns,
            readable_parameter_arns=readable_parameter_arns,
        )
        TerraformOutput(
            self,
            "plan-role-arn",
            value=role.role.arn,
            description=f"GitHub repository variable {plan_role_variable(env.name)}",
        )
        return role

    @cached_property
    def current_account_id(self) -> str:
        """The account Terraform runs in (`allowed_account_ids` makes it the configured one)."""
        return DataAwsCallerIdentity(self, "current-account").account_id


def use_s3_backend(stack: TerraformStack, *, env: Environment, component: str) -> S3Backend:
    """Keep the stack's state in its environment's bucket, with S3-native locking."""
    backend = S3Backend(
        stack,
        bucket=state_bucket_name(env.country, env.name, env.account_id),
        key=state_key(env.name, component),
        region=env.region,
        encrypt=True,
        kms_key_id=STATE_KMS_KEY,
    )
    # cdktf 0.21's S3Backend predates Terraform's S3 lock files (no DynamoDB table needed).
    backend.add_override("use_lockfile", True)
    return backend
