"""The API's CloudWatch log group and the access key its Quarkus log handler needs."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_access_key import IamAccessKey
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from modules.access.iam import PolicyUser, allow
from modules.access.secrets import SecretKey, secret


class ApiLogging(Construct):
    """Log group `log_group_name`, plus a user that may only write to it.

    The Quarkus CloudWatch extension authenticates with an access key, not the
    task role, so the key is created here and stored in the secret
    `secret_name` (keys `accessKeyId`, `secretAccessKey`); containers get it
    through ECS secrets, never as a plain variable. Exposes `log_group`,
    `writer`, `secret`, `access_key_id` and `secret_access_key` (`SecretKey`s).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group_name: str,
        retention_days: int,
        user_name: str,
        policy_name: str,
        secret_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = CloudwatchLogGroup(self, "log-group", name=log_group_name, retention_in_days=retention_days)
        self.writer = PolicyUser(
            self,
            "writer",
            user_name=user_name,
            policy_name=policy_name,
            description=f"Write the API's log events to {log_group_name}",
            statements=[
                allow(
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [self.log_group.arn, f"{self.log_group.arn}:*"],
                )
            ],
        )
        key = IamAccessKey(self, "access-key", user=self.writer.user.name)
        self.secret = secret(
            self, "secret", name=secret_name, description="Access key of the API's CloudWatch log writer"
        )
        SecretsmanagerSecretVersion(
            self,
            "secret-value",
            secret_id=self.secret.id,
            secret_string=Fn.jsonencode({"accessKeyId": key.id, "secretAccessKey": key.secret}),
        )
        secret_arn = self.secret.arn  # one token, so readers see one ARN
        self.access_key_id = SecretKey(secret_arn, "accessKeyId")
        self.secret_access_key = SecretKey(secret_arn, "secretAccessKey")
