"""modules/state_bucket.py alone: versioned, KMS-encrypted, private, TLS-only state that Terraform cannot destroy."""

from __future__ import annotations

from typing import Any

import pytest

from modules.state_bucket import StateBucket
from tests.modules.alone import Built, build, has_resource
from tests.tf import only, policy_statements, ref, resources


def state_bucket(**options: int) -> Built[StateBucket]:
    return build(lambda stack: StateBucket(stack, "state", bucket_name="littil-test-state-123456789012", **options))


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
