"""An SNS topic that mails one address: where an environment's alarms go."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.access.iam import condition, policy_document

# AWS's default topic policy: principals of the topic's own account (CloudWatch alarms publish this way).
OWNER_ACTIONS = (
    "SNS:AddPermission",
    "SNS:DeleteTopic",
    "SNS:GetTopicAttributes",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
    "SNS:RemovePermission",
    "SNS:SetTopicAttributes",
    "SNS:Subscribe",
)
PUBLISH_ACTIONS = ("sns:Publish",)


class AlertTopic(Construct):
    """SNS topic `name` with an e-mail subscription of `email`.

    AWS mails a confirmation link to `email`; until someone follows it the
    subscription stays "pending confirmation" and nothing is delivered (docs/runbooks/answer-alarm.md).
    The topic is not KMS-encrypted: CloudWatch alarms cannot publish to a topic
    under the AWS-managed SNS key, and alarm texts hold no secrets.
    Its policy is AWS's default (the topic's own account, which is how alarms publish) plus
    EventBridge rules of that account (a failed backup copy mails through one).
    `provider` puts it in another region (alarms notify topics of their own region).

    Exposes `topic`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        email: str,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = SnsTopic(self, "topic", name=name, display_name="LITTIL alerts", provider=provider)
        SnsTopicSubscription(
            self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=email, provider=provider
        )
        own_account = [self.topic.owner]
        publishers = policy_document(
            self,
            "publishers",
            [
                DataAwsIamPolicyDocumentStatement(
                    sid="OwnAccount",
                    effect="Allow",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=["*"])],
                    actions=list(OWNER_ACTIONS),
                    resources=[self.topic.arn],
                    condition=[condition("StringEquals", "AWS:SourceOwner", own_account)],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="EventBridgeRulesOfOwnAccount",
                    effect="Allow",
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["events.amazonaws.com"]
                        )
                    ],
                    actions=list(PUBLISH_ACTIONS),
                    resources=[self.topic.arn],
                    condition=[condition("StringEquals", "aws:SourceAccount", own_account)],
                ),
            ],
        )
        SnsTopicPolicy(self, "policy", arn=self.topic.arn, policy=publishers.json, provider=provider)
