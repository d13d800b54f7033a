"""What every LITTIL stack has: an AWS provider locked to its account, tags, and state."""

from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.naming import PROJECT, state_bucket_name, state_key

Environment = SharedEnvironment | WorkloadEnvironment


class LittilStack(TerraformStack):
    """A stack of one environment.

    `component` names the stack's state key; `stack_name` defaults to
    `<component>-<env>`. The provider refuses any account but the environment's
    (`allowed_account_ids`), so a plan with the wrong credentials fails before
    touching anything.
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
        self.provider = AwsProvider(
            self,
            "aws",
            region=env.region,
            allowed_account_ids=[env.account_id],
            default_tags=[
                AwsProviderDefaultTags(
                    tags={"Project": PROJECT, "Environment": env.name, "Stack": self.stack_name, "ManagedBy": "cdktf"}
                )
            ],
        )
        if remote_state:
            use_s3_backend(self, env=env, component=component)
        else:
            # Terraform runs in cdktf.out/stacks/<stack>/: keep the file in the project root,
            # where `cdktf synth` does not wipe it (and .gitignore keeps it out of git).
            LocalBackend(self, path=f"../../../terraform.{self.stack_name}.tfstate")


def use_s3_backend(stack: TerraformStack, *, env: Environment, component: str) -> S3Backend:
    """Keep the stack's state in its environment's bucket, with S3-native locking."""
    backend = S3Backend(
        stack,
        bucket=state_bucket_name(env.country, env.name, env.account_id),
        key=state_key(env.name, component),
        region=env.region,
        encrypt=True,
    )
    # cdktf 0.21's S3Backend predates Terraform's S3 lock files (no DynamoDB table needed).
    backend.add_override("use_lockfile", True)
    return backend
