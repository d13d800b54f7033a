"""modules/observe/alarms.py alone, its AlarmSet: one alarm made from its kind, named, described and wired to
the topic (and any EC2 action), in the set's region; the restart watch; EC2 action ARNs."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.observe.alarm_kinds import ALARMS
from modules.observe.alarms import AlarmSet, Metric, ec2_action_arn
from tests.modules.alone import REGION, Built, build, has_resource
from tests.tf import Stack, resources

PREFIX = "LITTIL-NL-test"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:LITTIL-NL-test-alerts"


def alarms(stack: Stack) -> dict[str, dict[str, Any]]:
    """The stack's alarms by kind (their name after `<PREFIX>-`)."""
    found = {}
    for body in resources(stack, "aws_cloudwatch_metric_alarm").values():
        assert body["alarm_name"].startswith(f"{PREFIX}-"), body["alarm_name"]
        found[body["alarm_name"].removeprefix(f"{PREFIX}-")] = body
    return found


def assert_tells_the_topic_and_explains_itself(stack: Stack, extra_actions: dict[str, list[str]]) -> None:
    """Every alarm mails the topic on alarm and on OK (only its own EC2 actions besides), and says what to do."""
    for kind, alarm in alarms(stack).items():
        assert alarm["alarm_actions"] == [TOPIC, *extra_actions.get(kind, [])], kind
        assert alarm["ok_actions"] == [TOPIC], kind  # never recover or reboot on the way back to OK
        assert alarm["alarm_description"] == ALARMS[kind].description, kind


def make_alarm_set(stack: TerraformStack) -> AlarmSet:
    """A bare AlarmSet in another region (its own provider), with one alarm that also has an instance action
    and evaluates over more periods than its kind's default."""
    elsewhere = AwsProvider(stack, "elsewhere", region="us-east-1", alias="elsewhere")
    alarm_set = AlarmSet(stack, "set", name_prefix=PREFIX, topic_arn=TOPIC, provider=elsewhere)
    alarm_set.add(
        "api-instance-check",
        Metric("AWS/EC2", "StatusCheckFailed_Instance", {"InstanceId": "i-1"}),
        threshold=1,
        evaluation_periods=4,
        instance_actions=["arn:aws:automate:us-east-1:ec2:reboot"],
    )
    return alarm_set


@pytest.fixture(scope="module")
def alarm_set() -> Built[AlarmSet]:
    return build(make_alarm_set)


def test_add_names_describes_and_wires_one_alarm_from_its_kind_and_the_changes_asked(
    alarm_set: Built[AlarmSet],
) -> None:
    kind = ALARMS["api-instance-check"]
    assert has_resource(
        alarm_set,
        "aws_cloudwatch_metric_alarm",
        {
            "alarm_name": f"{PREFIX}-api-instance-check",
            "alarm_description": kind.description,
            "namespace": "AWS/EC2",
            "metric_name": "StatusCheckFailed_Instance",
            "dimensions": {"InstanceId": "i-1"},
            "statistic": kind.statistic,
            "comparison_operator": kind.comparison,
            "threshold": 1,
            "period": kind.period_seconds,
            "evaluation_periods": 4,
            # Without a choice, missing data neither fires nor clears the alarm.
            "treat_missing_data": "missing",
            "alarm_actions": [TOPIC, "arn:aws:automate:us-east-1:ec2:reboot"],
            "ok_actions": [TOPIC],
            "provider": "aws.elsewhere",
        },
    )
    assert list(alarm_set.construct.alarms) == ["api-instance-check"]


@pytest.fixture(scope="module")
def restart_watch() -> Built[AlarmSet]:
    def make(stack: TerraformStack) -> AlarmSet:
        alarm_set = AlarmSet(stack, "set", name_prefix=PREFIX, topic_arn=TOPIC)
        alarm_set.add_restart_failed("littil-test-password-changed")
        return alarm_set

    return build(make)


def test_a_restart_that_eventbridge_could_not_start_alarms_at_once(restart_watch: Built[AlarmSet]) -> None:
    assert alarms(restart_watch.stack)["api-restart-failed"] | {"alarm_actions": None, "ok_actions": None} == {
        "alarm_name": f"{PREFIX}-api-restart-failed",
        "alarm_description": ALARMS["api-restart-failed"].description,
        "namespace": "AWS/Events",
        "metric_name": "FailedInvocations",
        "dimensions": {"RuleName": "littil-test-password-changed"},
        "statistic": "Sum",
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": 1,
        "period": 300,
        "evaluation_periods": 1,
        # EventBridge publishes the metric only when an invocation fails: silence is the healthy case.
        "treat_missing_data": "notBreaching",
        "alarm_actions": None,
        "ok_actions": None,
    }
    assert_tells_the_topic_and_explains_itself(restart_watch.stack, {})


def test_an_alarm_without_a_guide_entry_is_refused() -> None:
    def undocumented(stack: TerraformStack) -> None:
        AlarmSet(stack, "set", name_prefix=PREFIX, topic_arn=TOPIC).add(
            "api-something-new",
            Metric("AWS/EC2", "CPUUtilization", {}),
            threshold=90,
        )

    with pytest.raises(KeyError, match="api-something-new"):
        build(undocumented)


def test_ec2_actions_are_the_automate_arns_of_the_region() -> None:
    assert ec2_action_arn("recover", region="eu-west-1") == "arn:aws:automate:eu-west-1:ec2:recover"
    assert ec2_action_arn("reboot", region="eu-central-1") == "arn:aws:automate:eu-central-1:ec2:reboot"
