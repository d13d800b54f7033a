"""`registry`: ECR repositories of the shared account and who may push and pull."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput
from constructs import Construct

from config.model import SharedEnvironment
from modules.access.github_oidc import GithubActionsRole, GithubOidcProvider
from modules.ecr import API_REPOSITORY, MAINTENANCE_REPOSITORY, Repository
from modules.naming import physical_name
from stacks.base import Environment, LittilStack

COMPONENT = "registry"


class RegistryStack(LittilStack):
    """Both repositories, pull access for the workload accounts, push for CI and people."""

    def __init__(
        self,
        scope: Construct,
        *,
        env: SharedEnvironment,
        pull_account_ids: Sequence[str],
        placeholders: Sequence[Environment] = (),
    ) -> None:
        super().__init__(scope, component=COMPONENT, env=env, stack_name=COMPONENT)
        # A placeholder is never granted anything (it is not in pull_account_ids); deploying
        # now would leave that environment unable to pull, so it is refused instead.
        self.refuse_placeholder_accounts(
            placeholders, why="the registry grants each environment's account pull access to its images"
        )
        registry = env.registry
        self.api_repository = Repository(
            self,
            "api-repository",
            name=API_REPOSITORY,
            pull_account_ids=pull_account_ids,
            push_pull_name=self.physical_name(API_REPOSITORY, "ecr-pushpull"),
            mutable_tags=registry.api_mutable_tags,
            untagged_expiry_days=registry.untagged_image_expiry_days,
            tagged_images_to_keep=registry.tagged_images_to_keep,
        )
        # The maintenance image has always been immutable, without exceptions.
        self.maintenance_repository = Repository(
            self,
            "maintenance-repository",
            name=MAINTENANCE_REPOSITORY,
            pull_account_ids=pull_account_ids,
            push_pull_name=self.physical_name(MAINTENANCE_REPOSITORY, "ecr-pushpull"),
            mutable_tags=(),
            untagged_expiry_days=registry.untagged_image_expiry_days,
            tagged_images_to_keep=registry.tagged_images_to_keep,
        )
        if env.adopt_legacy:
            # The old system's repositories (CloudFormation retained them): every image stays.
            self.api_repository.repository.import_from(API_REPOSITORY)
            self.maintenance_repository.repository.import_from(MAINTENANCE_REPOSITORY)
        github = env.github
        self.github_oidc = GithubOidcProvider(
            self,
            "github-oidc",
            create=github.create_oidc_provider,
            adopt_in_account=env.account_id if env.adopt_legacy else None,
        )
        self.ci_push_role = GithubActionsRole(
            self,
            "ci-push-role",
            role_name=physical_name(env.country, None, "api", "ecr-push"),
            provider_arn=self.github_oidc.arn,
            org=github.org,
            repo=github.repo,
            policy_arns=[self.api_repository.push_pull_policy_arn],
        )
        # Read-only plans of this account's stacks for this repository's CI (docs/development.md, "CI").
        self.plan_role = self.add_plan_role(provider_arn=self.github_oidc.arn)

        for output_id, repository in (("api", self.api_repository), ("maintenance", self.maintenance_repository)):
            TerraformOutput(
                self,
                f"{output_id}-repository-url",
                value=repository.repository.repository_url,
                description=f"docker build -t <this>:<tag> . && docker push <this>:<tag> ({output_id} image)",
            )
        TerraformOutput(
            self,
            "docker-login-command",
            value=(
                f"aws ecr get-login-password --region {env.region}"
                f" | docker login --username AWS --password-stdin {env.registry_host}"
            ),
            description="Log Docker in to the registry (profile with push/pull rights)",
        )
        TerraformOutput(
            self, "ci-push-role-arn", value=self.ci_push_role.role.arn, description="role-to-assume for GitHub Actions"
        )
