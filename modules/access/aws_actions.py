"""IAM action lists and identifiers, kept free of CDKTF imports so tests can read them cheaply.

Statements may name `*` as resource only for the actions listed here, in one place:

- ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE: AWS authorizes them on no narrower resource.
- ACTIONS_SCOPED_BY_CLUSTER: AWS evaluates them against `*` (ListServices always, ListTasks
  when asked for a service's tasks); they are granted on `*` only together with an
  `ecs:cluster` condition that names one cluster.
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
# Listing clusters (the application's restart workflow) and log groups (the ECS Exec agent
# finds its session log group) have no resource type.
LIST_CLUSTERS_ACTIONS = ("ecs:ListClusters",)
DESCRIBE_LOG_GROUPS_ACTIONS = ("logs:DescribeLogGroups",)
# Publishing a custom metric has no resource type; grant it with a `cloudwatch:namespace` condition.
PUT_METRIC_DATA_ACTIONS = ("cloudwatch:PutMetricData",)
METRIC_NAMESPACE_CONDITION_KEY = "cloudwatch:namespace"
ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE = frozenset(
    ECR_AUTHORIZATION_ACTIONS
    + SSM_MESSAGES_ACTIONS
    + LIST_CLUSTERS_ACTIONS
    + DESCRIBE_LOG_GROUPS_ACTIONS
    + PUT_METRIC_DATA_ACTIONS
)
ACTIONS_SCOPED_BY_CLUSTER = frozenset({"ecs:ListServices", "ecs:ListTasks"})
CLUSTER_CONDITION_KEY = "ecs:cluster"

ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
ECR_PUSH_ACTIONS = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The git refs of the application repository whose workflows may assume its roles: what
# publish-build-container.yml and restart-staging.yml run on (push to main, v* tags).
# A release tag is `vX.Y.Z`: IAM's StringLike knows only `*` and `?`, so `v?*.?*.?*` (a `v`, then three
# non-empty dot-separated parts) is as close as it gets; `vanity` or `v1` no longer match. Who may create
# such tags at all is a repository ruleset on GitHub (docs/development.md, "Release tags and main").
GITHUB_TRUSTED_REFS = ("refs/heads/main", "refs/tags/v?*.?*.?*")
GITHUB_RELEASE_SUBJECTS = tuple(f"ref:{ref}" for ref in GITHUB_TRUSTED_REFS)
STATE_READ_ACTIONS = ("s3:GetObject",)
STATE_LIST_ACTIONS = ("s3:ListBucket",)

# What AWS's ReadOnlyAccess lets a reader see of the data itself (not its configuration), denied to the
# plan roles: a plan refreshes configuration and needs none of it. Object and parameter reads are denied
# outside what Terraform reads (the state bucket; the parameters it writes and the public AMI ids).
OBJECT_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent")
PARAMETER_READ_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameterHistory",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
)
ACTIONS_READING_DATA = (
    # log events and Logs Insights queries
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:StartQuery",
    "logs:Unmask",
    # messages and records
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    # image layers (the registry's images), database log files, instance consoles, command output
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "rds:DownloadCompleteDBLogFile",
    "rds:DownloadDBLogFilePortion",
    "ec2:GetConsoleOutput",
    "ec2:GetConsoleScreenshot",
    "ec2:GetPasswordData",
    "ssm:GetCommandInvocation",
    "athena:GetQueryResults",
)
# Public parameters AWS publishes (the Amazon Linux AMI id the EC2 variant looks up): no account in their ARN.
PUBLIC_PARAMETERS = "parameter/aws/service/*"

# What a sealed KMS key (modules/backup/key.py) refuses to everyone, its own account's root user included: nobody can
# delete it, switch it off or change its policy (which is how the other two would be allowed again).
SEALED_KEY_ACTIONS = ("kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")
