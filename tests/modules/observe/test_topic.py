"""modules/observe/topic.py alone: an SNS topic with one e-mail subscription, in the default or a given region."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.observe.topic import AlertTopic
from tests.modules.alone import Built, build, has_resource
from tests.tf import only, policy_statements, ref, resources

EMAIL = "alerts@example.org"


def in_the_default_region(stack: TerraformStack) -> AlertTopic:
    alert_topic = AlertTopic(stack, "topic", name="LITTIL-NL-test-alerts", email=EMAIL)
    TerraformOutput(stack, "topic-arn", value=alert_topic.topic.arn)  # what alarms are given
    return alert_topic


@pytest.fixture(scope="module")
def here() -> Built[AlertTopic]:
    return build(in_the_default_region)


def in_us_east_1(stack: TerraformStack) -> AlertTopic:
    us_east_1 = AwsProvider(stack, "us-east-1", region="us-east-1", alias="us-east-1")
    return AlertTopic(stack, "topic", name="LITTIL-NL-test-alerts", email=EMAIL, provider=us_east_1)


@pytest.fixture(scope="module")
def elsewhere() -> Built[AlertTopic]:
    return build(in_us_east_1)


def test_topic_mails_its_one_address(here: Built[AlertTopic]) -> None:
    topic_name, _ = only(resources(here.stack, "aws_sns_topic"))
    assert has_resource(here, "aws_sns_topic", {"name": "LITTIL-NL-test-alerts", "display_name": "LITTIL alerts"})
    topic_arn = ref("aws_sns_topic", topic_name, "arn")
    assert has_resource(
        here, "aws_sns_topic_subscription", {"topic_arn": topic_arn, "protocol": "email", "endpoint": EMAIL}
    )
    only(resources(here.stack, "aws_sns_topic_subscription"))  # and no other subscriber
    # The exposed topic, which alarms notify, is the one the mail subscribes to.
    assert here.stack["output"]["topic-arn"]["value"] == topic_arn


def test_topic_is_not_under_a_key_alarms_cannot_publish_with(here: Built[AlertTopic]) -> None:
    # CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key.
    _, topic = only(resources(here.stack, "aws_sns_topic"))
    assert "kms_master_key_id" not in topic


def test_without_a_provider_topic_and_subscription_use_the_default_region(here: Built[AlertTopic]) -> None:
    _, topic = only(resources(here.stack, "aws_sns_topic"))
    _, subscription = only(resources(here.stack, "aws_sns_topic_subscription"))
    assert "provider" not in topic
    assert "provider" not in subscription


def test_with_a_provider_topic_and_subscription_both_live_in_its_region(elsewhere: Built[AlertTopic]) -> None:
    # An alarm can only notify a topic of its own region; the subscription must follow its topic.
    _, topic = only(resources(elsewhere.stack, "aws_sns_topic"))
    _, subscription = only(resources(elsewhere.stack, "aws_sns_topic_subscription"))
    assert topic["provider"] == subscription["provider"] == "aws.us-east-1"


def test_its_own_account_and_that_accounts_eventbridge_rules_may_publish(here: Built[AlertTopic]) -> None:
    topic_name, _ = only(resources(here.stack, "aws_sns_topic"))
    _, policy = only(resources(here.stack, "aws_sns_topic_policy"))
    assert policy["arn"] == ref("aws_sns_topic", topic_name, "arn")
    statements = {statement["sid"]: statement for statement in policy_statements(here.stack, policy["policy"])}
    own_account = [ref("aws_sns_topic", topic_name, "owner")]
    # AWS's default statement stays: alarms publish as principals of the topic's account.
    owner = statements["OwnAccount"]
    assert owner["condition"] == [{"test": "StringEquals", "variable": "AWS:SourceOwner", "values": own_account}]
    assert "SNS:Publish" in owner["actions"]
    # EventBridge (a failed backup copy) may publish, only for rules of the same account.
    events = statements["EventBridgeRulesOfOwnAccount"]
    assert events["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert events["actions"] == ["sns:Publish"]
    assert events["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": own_account}]
    for statement in statements.values():
        assert statement["resources"] == [ref("aws_sns_topic", topic_name, "arn")]
    assert set(statements) == {"OwnAccount", "EventBridgeRulesOfOwnAccount"}


def test_the_policy_follows_its_topic_into_another_region(elsewhere: Built[AlertTopic]) -> None:
    _, policy = only(resources(elsewhere.stack, "aws_sns_topic_policy"))
    assert policy["provider"] == "aws.us-east-1"
