"""An SNS topic that mails one address: where an environment's alarms go."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct


class AlertTopic(Construct):
    """SNS topic `name` with an e-mail subscription of `email`.

    AWS mails a confirmation link to `email`; until someone follows it the
    subscription stays "pending confirmation" and nothing is delivered (docs/runbooks/answer-alarm.md).
    The topic is not KMS-encrypted: CloudWatch alarms cannot publish to a topic
    under the AWS-managed SNS key, and alarm texts hold no secrets.
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
