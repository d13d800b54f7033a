"""IAM action lists and identifiers, kept free of CDKTF imports so tests can read them cheaply.

The only statements allowed to name `*` as resource use the actions in
ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE: AWS grants them on no narrower resource.
"""

from __future__ import annotations

# Registry log-in token; IAM cannot scope it to a repository.
ECR_AUTHORIZATION_ACTIONS = ("ecr:GetAuthorizationToken",)
# The ECS Exec / Session Manager channel; IAM cannot scope it.
SSM_MESSAGES_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE = frozenset(ECR_AUTHORIZATION_ACTIONS + SSM_MESSAGES_ACTIONS)

ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
ECR_PUSH_ACTIONS = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
