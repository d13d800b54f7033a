"""The S3 bucket that holds an environment's Terraform state, and the bucket its access logs go to."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from modules.access.iam import policy_document

# Where the state bucket's access logs go inside the log bucket.
STATE_LOG_PREFIX = "state/"
LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"


def tls_only(bucket: S3Bucket) -> DataAwsIamPolicyDocumentStatement:
    """Refuse every request to the bucket and its objects that does not come over TLS."""
    return DataAwsIamPolicyDocumentStatement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=["s3:*"],
        resources=[bucket.arn, f"{bucket.arn}/*"],
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test="Bool", variable="aws:SecureTransport", values=["false"])
        ],
    )


def private_bucket(
    scope: Construct,
    name: str,
    *,
    encryption: S3BucketServerSideEncryptionConfigurationRuleA,
    lifecycle: S3BucketLifecycleConfigurationRule,
) -> S3Bucket:
    """A versioned, encrypted bucket no ACL or policy can make public and Terraform cannot destroy."""
    bucket = S3Bucket(scope, "bucket", bucket=name, lifecycle=TerraformResourceLifecycle(prevent_destroy=True))
    S3BucketVersioningA(
        scope,
        "versioning",
        bucket=bucket.id,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
    )
    S3BucketServerSideEncryptionConfigurationA(scope, "encryption", bucket=bucket.id, rule=[encryption])
    S3BucketPublicAccessBlock(
        scope,
        "public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    S3BucketOwnershipControls(
        scope,
        "ownership",
        bucket=bucket.id,
        rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
    )
    S3BucketLifecycleConfiguration(scope, "lifecycle", bucket=bucket.id, rule=[lifecycle])
    return bucket


class AccessLogBucket(Construct):
    """S3 server access logs of `source`: who read or wrote which object, and when.

    The state holds access keys, so who read it is worth knowing. A bucket of its own: private,
    TLS-only, versioned, SSE-S3 (what log delivery writes without a customer-managed key), logs
    kept `retention_days`, and Terraform cannot destroy it. Only S3's log delivery may write,
    only under `STATE_LOG_PREFIX`, only for `source` of `account_id`; logging is switched on
    after that policy exists (S3 refuses it before). Exposes `bucket`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        source: S3Bucket,
        account_id: str,
        retention_days: int = 365,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            bucket_name,
            encryption=S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="AES256"
                )
            ),
            lifecycle=S3BucketLifecycleConfigurationRule(
                id="expire-access-logs",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=retention_days)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                ],
            ),
        )
        delivery = DataAwsIamPolicyDocumentStatement(
            sid="S3LogDelivery",
            effect="Allow",
            actions=["s3:PutObject"],
            resources=[f"{self.bucket.arn}/{STATE_LOG_PREFIX}*"],
            principals=[
                DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[LOG_DELIVERY_SERVICE])
            ],
            condition=[
                DataAwsIamPolicyDocumentStatementCondition(
                    test="ArnLike", variable="aws:SourceArn", values=[source.arn]
                ),
                DataAwsIamPolicyDocumentStatementCondition(
                    test="StringEquals", variable="aws:SourceAccount", values=[account_id]
                ),
            ],
        )
        document = policy_document(self, "delivery-only", [delivery, tls_only(self.bucket)])
        policy = S3BucketPolicy(self, "policy", bucket=self.bucket.id, policy=document.json)
        S3BucketLoggingA(
            self,
            "source-logging",
            bucket=source.id,
            target_bucket=self.bucket.id,
            target_prefix=STATE_LOG_PREFIX,
            depends_on=[policy],
        )


class StateBucket(Construct):
    """Versioned, KMS-encrypted, private, TLS-only bucket that Terraform cannot destroy.

    Exposes `bucket` (for `AccessLogBucket`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        noncurrent_version_expiration_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            bucket_name,
            encryption=S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms"
                ),
                bucket_key_enabled=True,
            ),
            lifecycle=S3BucketLifecycleConfigurationRule(
                id="expire-noncurrent-state-versions",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=noncurrent_version_expiration_days
                    )
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                ],
            ),
        )
        document = policy_document(self, "tls-only", [tls_only(self.bucket)])
        S3BucketPolicy(self, "policy", bucket=self.bucket.id, policy=document.json)
