"""One ECR repository with its lifecycle, cross-account pull and manual push/pull user."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
    EcrRepositoryImageTagMutabilityExclusionFilter,
)
from cdktf_cdktf_provider_aws.ecr_repository_policy import EcrRepositoryPolicy
from constructs import Construct

from modules.access.aws_actions import ECR_AUTHORIZATION_ACTIONS, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS
from modules.access.iam import PolicyUser, account_root_arn, allow, policy_document

API_REPOSITORY = "littil-backend"
MAINTENANCE_REPOSITORY = "littil-backend-maintenance"


def lifecycle_rules(*, untagged_expiry_days: int, tagged_images_to_keep: int) -> str:
    """ECR lifecycle policy: drop untagged images after a while, keep the newest tagged ones."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {untagged_expiry_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_expiry_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the last {tagged_images_to_keep} tagged images",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": ["*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": tagged_images_to_keep,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        indent=2,
    )


class Repository(Construct):
    """An ECR repository: scanned on push, encrypted, tags immutable.

    Workload accounts in `pull_account_ids` may pull. A managed policy grants
    push and pull on exactly this repository; an IAM group holding it has one
    user for the documented manual workflow (`docker login`, `docker push`).
    Exposes `repository`, `push_pull` (its `policy`, `group`, `user`) and `push_pull_policy_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        pull_account_ids: Sequence[str],
        push_pull_name: str,
        mutable_tags: Sequence[str],
        untagged_expiry_days: int,
        tagged_images_to_keep: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.repository = EcrRepository(
            self,
            "repository",
            name=name,
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="AES256")],
            image_tag_mutability="IMMUTABLE_WITH_EXCLUSION" if mutable_tags else "IMMUTABLE",
            image_tag_mutability_exclusion_filter=[
                EcrRepositoryImageTagMutabilityExclusionFilter(filter=tag, filter_type="WILDCARD")
                for tag in mutable_tags
            ]
            or None,
        )
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=lifecycle_rules(
                untagged_expiry_days=untagged_expiry_days, tagged_images_to_keep=tagged_images_to_keep
            ),
        )
        if pull_account_ids:
            pull = policy_document(
                self,
                "cross-account-pull",
                [
                    DataAwsIamPolicyDocumentStatement(
                        sid="WorkloadAccountsPull",
                        effect="Allow",
                        actions=list(ECR_PULL_ACTIONS),
                        principals=[
                            DataAwsIamPolicyDocumentStatementPrincipals(
                                type="AWS", identifiers=[account_root_arn(account) for account in pull_account_ids]
                            )
                        ],
                    )
                ],
            )
            EcrRepositoryPolicy(self, "policy", repository=self.repository.name, policy=pull.json)

        self.push_pull = PolicyUser(
            self,
            "push-pull",
            user_name=f"{push_pull_name}-User",
            policy_name=push_pull_name,
            description=f"Push and pull images of ECR repository {name}",
            statements=[
                allow(ECR_AUTHORIZATION_ACTIONS, ["*"]),
                allow(
                    (*ECR_PULL_ACTIONS, *ECR_PUSH_ACTIONS, "ecr:DescribeImages", "ecr:ListImages"),
                    [self.repository.arn],
                ),
            ],
        )
        assert self.push_pull.policy is not None  # statements were given
        self.push_pull_policy_arn = self.push_pull.policy.arn
