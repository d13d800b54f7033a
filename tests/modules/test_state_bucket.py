"""modules/state_bucket.py alone: versioned, KMS-encrypted, private, TLS-only state that Terraform cannot destroy."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack

from modules.state_bucket import AccessLogBucket, StateBucket
from tests.modules.alone import Built, build, has_resource
from tests.tf import Stack, only, policy_statements, ref, resources


def state_bucket(**options: int) -> Built[StateBucket]:
    settings = {"noncurrent_version_expiration_days": 90, **options}
    return build(lambda stack: StateBucket(stack, "state", bucket_name="littil-test-state-123456789012", **settings))


@pytest.fixture(scope="module")
def default() -> Built[StateBucket]:
    return state_bucket()


@pytest.fixture(scope="module")
def short_history() -> Built[StateBucket]:
    return state_bucket(noncurrent_version_expiration_days=30)


def attached(built: Built[StateBucket], resource_type: str) -> dict[str, Any]:
    """The one `resource_type` of the stack, checked to configure the state bucket."""
    bucket_id, _ = only(resources(built.stack, "aws_s3_bucket"))
    _, body = only(resources(built.stack, resource_type))
    assert body["bucket"] == ref("aws_s3_bucket", bucket_id, "id"), resource_type
    return body


def test_bucket_has_its_name_and_terraform_refuses_to_destroy_it(default: Built[StateBucket]) -> None:
    assert has_resource(
        default, "aws_s3_bucket", {"bucket": "littil-test-state-123456789012", "lifecycle": {"prevent_destroy": True}}
    )
    _, bucket = only(resources(default.stack, "aws_s3_bucket"))
    assert "force_destroy" not in bucket


def test_every_state_version_is_kept_and_encrypted_with_the_accounts_kms_key(default: Built[StateBucket]) -> None:
    assert attached(default, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    assert attached(default, "aws_s3_bucket_server_side_encryption_configuration")["rule"] == [
        {"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}, "bucket_key_enabled": True}
    ]


def test_bucket_is_private_and_owned_by_the_account(default: Built[StateBucket]) -> None:
    block = attached(default, "aws_s3_bucket_public_access_block")
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[setting] is True, setting
    assert attached(default, "aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def test_old_state_versions_expire_after_ninety_days_and_stale_uploads_after_a_week(
    default: Built[StateBucket],
) -> None:
    (rule,) = attached(default, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == [{"prefix": ""}]  # every object
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    # Only old versions expire: the current state never does.
    assert "expiration" not in rule


def test_noncurrent_version_expiration_takes_the_given_days(short_history: Built[StateBucket]) -> None:
    (rule,) = attached(short_history, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]


def test_bucket_policy_denies_every_request_without_tls(default: Built[StateBucket]) -> None:
    bucket_id, _ = only(resources(default.stack, "aws_s3_bucket"))
    bucket_arn = ref("aws_s3_bucket", bucket_id, "arn")
    (statement,) = policy_statements(default.stack, attached(default, "aws_s3_bucket_policy")["policy"])
    assert statement == {
        "sid": "DenyInsecureTransport",
        "effect": "Deny",
        "actions": ["s3:*"],
        "resources": [bucket_arn, f"{bucket_arn}/*"],
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
    }


def logged(stack: TerraformStack) -> tuple[AccessLogBucket, StateBucket]:
    state = StateBucket(
        stack, "state", bucket_name="littil-test-state-123456789012", noncurrent_version_expiration_days=90
    )
    logs = AccessLogBucket(
        stack,
        "logs",
        bucket_name="littil-test-state-logs-123456789012",
        source=state.bucket,
        account_id="123456789012",
    )
    return logs, state


@pytest.fixture(scope="module")
def with_access_logs() -> Built[tuple[AccessLogBucket, StateBucket]]:
    return build(logged)


def bucket_ids(built: Built[Any]) -> dict[str, str]:
    return {body["bucket"]: key for key, body in resources(built.stack, "aws_s3_bucket").items()}


def test_every_request_to_the_state_is_logged_to_the_log_bucket_once_s3_may_write_there(
    with_access_logs: Built[tuple[AccessLogBucket, StateBucket]],
) -> None:
    ids = bucket_ids(with_access_logs)
    (logging,) = resources(with_access_logs.stack, "aws_s3_bucket_logging").values()
    assert logging["bucket"] == ref("aws_s3_bucket", ids["littil-test-state-123456789012"], "id")
    assert logging["target_bucket"] == ref("aws_s3_bucket", ids["littil-test-state-logs-123456789012"], "id")
    assert logging["target_prefix"] == "state/"
    # S3 refuses the logging configuration until the target's policy lets its log delivery write.
    (log_policy_id,) = [
        key
        for key, body in resources(with_access_logs.stack, "aws_s3_bucket_policy").items()
        if body["bucket"] == ref("aws_s3_bucket", ids["littil-test-state-logs-123456789012"], "id")
    ]
    assert logging["depends_on"] == [f"aws_s3_bucket_policy.{log_policy_id}"]


def test_only_s3_log_delivery_for_the_state_bucket_of_this_account_may_write_logs(
    with_access_logs: Built[tuple[AccessLogBucket, StateBucket]],
) -> None:
    ids = bucket_ids(with_access_logs)
    log_bucket = ids["littil-test-state-logs-123456789012"]
    (policy,) = [
        body
        for body in resources(with_access_logs.stack, "aws_s3_bucket_policy").values()
        if body["bucket"] == ref("aws_s3_bucket", log_bucket, "id")
    ]
    delivery, insecure = policy_statements(with_access_logs.stack, policy["policy"])
    arn = ref("aws_s3_bucket", log_bucket, "arn")
    assert delivery == {
        "sid": "S3LogDelivery",
        "effect": "Allow",
        "actions": ["s3:PutObject"],
        "resources": [f"{arn}/state/*"],
        "principals": [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}],
        "condition": [
            {
                "test": "ArnLike",
                "variable": "aws:SourceArn",
                "values": [ref("aws_s3_bucket", ids["littil-test-state-123456789012"], "arn")],
            },
            {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["123456789012"]},
        ],
    }
    assert (insecure["sid"], insecure["effect"], insecure["resources"]) == (
        "DenyInsecureTransport",
        "Deny",
        [arn, f"{arn}/*"],
    )


def test_the_log_bucket_is_private_versioned_encrypted_kept_a_year_and_never_destroyed(
    with_access_logs: Built[tuple[AccessLogBucket, StateBucket]],
) -> None:
    stack = with_access_logs.stack
    log_bucket = ref("aws_s3_bucket", bucket_ids(with_access_logs)["littil-test-state-logs-123456789012"], "id")

    def of_log_bucket(resource_type: str) -> dict[str, Any]:
        (body,) = [b for b in resources(stack, resource_type).values() if b["bucket"] == log_bucket]
        return body

    _, bucket = named_bucket(stack, "littil-test-state-logs-123456789012")
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    block = of_log_bucket("aws_s3_bucket_public_access_block")
    assert all(
        block[key] is True
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert of_log_bucket("aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    assert of_log_bucket("aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    assert of_log_bucket("aws_s3_bucket_server_side_encryption_configuration")["rule"] == [
        {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    ]
    (rule,) = of_log_bucket("aws_s3_bucket_lifecycle_configuration")["rule"]
    assert (rule["expiration"], rule["noncurrent_version_expiration"]) == ([{"days": 365}], [{"noncurrent_days": 365}])


def named_bucket(stack: Stack, name: str) -> tuple[str, dict[str, Any]]:
    return only({key: body for key, body in resources(stack, "aws_s3_bucket").items() if body["bucket"] == name})
