"""modules/api/logs.py alone: the API's log group, a writer that may only write there, its key only in a secret."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack

from modules.api.logs import ApiLogging
from tests.modules.alone import Built, build, has_resource, in_group
from tests.tf import group_statements, interpolations, named, only, ref, resources

LOG_GROUP = "LITTILBackendApiEcsLogs-staging"
USER = "LITTIL-NL-staging-littil-api-CloudWatch-User"
POLICY = "LITTIL-NL-staging-littil-api-cloudwatch-logs"
SECRET = "littil/backend/staging/cloudwatch"


def make(stack: TerraformStack) -> ApiLogging:
    logging = ApiLogging(
        stack,
        "logging",
        log_group_name=LOG_GROUP,
        retention_days=731,
        user_name=USER,
        policy_name=POLICY,
        secret_name=SECRET,
    )
    # What a container definition would name as `valueFrom`, resolved by the synthesis.
    TerraformOutput(stack, "access-key-id-from", value=logging.access_key_id.value_from)
    TerraformOutput(stack, "secret-access-key-from", value=logging.secret_access_key.value_from)
    return logging


@pytest.fixture(scope="module")
def built() -> Built[ApiLogging]:
    return build(make)


def test_log_group_has_the_given_name_and_retention(built: Built[ApiLogging]) -> None:
    assert has_resource(built, "aws_cloudwatch_log_group", {"name": LOG_GROUP, "retention_in_days": 731})


def test_writer_may_only_write_log_events_to_its_log_group(built: Built[ApiLogging]) -> None:
    stack = built.stack
    group_id, _ = named(stack, "aws_cloudwatch_log_group", LOG_GROUP)
    (statement,) = group_statements(stack, POLICY)
    log_group_arn = ref("aws_cloudwatch_log_group", group_id, "arn")
    assert statement["effect"] == "Allow"
    assert statement["resources"] == [log_group_arn, f"{log_group_arn}:*"]
    assert sorted(statement["actions"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    # The permissions reach the user through the group of the policy's name.
    assert in_group(built, user=USER, group=POLICY)


def test_the_writers_access_key_is_stored_in_its_secret_and_nowhere_else(built: Built[ApiLogging]) -> None:
    stack = built.stack
    user_id, _ = named(stack, "aws_iam_user", USER)
    key_id, key = only(resources(stack, "aws_iam_access_key"))
    assert key["user"] == ref("aws_iam_user", user_id, "name")
    secret_id, secret = named(stack, "aws_secretsmanager_secret", SECRET)
    assert secret["recovery_window_in_days"] == 7
    _, version = only(resources(stack, "aws_secretsmanager_secret_version"))
    assert version["secret_id"] == ref("aws_secretsmanager_secret", secret_id, "id")
    assert version["secret_string"] == (
        f'${{jsonencode({{"accessKeyId" = aws_iam_access_key.{key_id}.id, '
        f'"secretAccessKey" = aws_iam_access_key.{key_id}.secret}})}}'
    )
    key_readers = [
        expression
        for expression in interpolations({k: v for k, v in stack.items() if k != "//"})
        if f"aws_iam_access_key.{key_id}.secret" in expression
    ]
    assert key_readers == [version["secret_string"][2:-1]]


def test_readers_get_the_secrets_arn_and_its_json_keys(built: Built[ApiLogging]) -> None:
    secret_id, _ = named(built.stack, "aws_secretsmanager_secret", SECRET)
    arn = ref("aws_secretsmanager_secret", secret_id, "arn")
    outputs = built.stack["output"]
    assert outputs["access-key-id-from"]["value"] == f"{arn}:accessKeyId::"
    assert outputs["secret-access-key-from"]["value"] == f"{arn}:secretAccessKey::"
