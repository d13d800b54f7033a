"""modules/observe/health_check.py alone: Route53 asks the API over HTTPS from outside; the alarm is in us-east-1."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.observe.alarm_kinds import ALARMS
from modules.observe.health_check import HEALTH_CHECK_METRICS_REGION, OutsideHealthCheck
from tests.modules.alone import Built, build, has_resource
from tests.tf import only, ref, resources

PREFIX = "LITTIL-NL-test"
TOPIC = "arn:aws:sns:us-east-1:123456789012:LITTIL-NL-test-alerts"


def outside_health_check(stack: TerraformStack) -> OutsideHealthCheck:
    us_east_1 = AwsProvider(stack, "us-east-1", region=HEALTH_CHECK_METRICS_REGION, alias="us-east-1")
    return OutsideHealthCheck(
        stack,
        "outside-health-check",
        name_prefix=PREFIX,
        fqdn="api.example.org",
        path="/q/health/ready",
        topic_arn=TOPIC,
        us_east_1=us_east_1,
    )


@pytest.fixture(scope="module")
def check() -> Built[OutsideHealthCheck]:
    return build(outside_health_check)


def test_route53_asks_the_given_url_over_https_every_30_seconds(check: Built[OutsideHealthCheck]) -> None:
    assert has_resource(
        check,
        "aws_route53_health_check",
        {
            "type": "HTTPS",
            "fqdn": "api.example.org",
            "port": 443,
            "resource_path": "/q/health/ready",
            "enable_sni": True,  # the load balancer serves the certificate by host name
            "request_interval": 30,
            "failure_threshold": 3,
            "tags": {"Name": f"{PREFIX}-api"},
        },
    )


def test_its_alarm_reads_this_check_after_three_unhealthy_minutes_and_silence_alarms(
    check: Built[OutsideHealthCheck],
) -> None:
    check_name, _ = only(resources(check.stack, "aws_route53_health_check"))
    assert has_resource(
        check,
        "aws_cloudwatch_metric_alarm",
        {
            "alarm_name": f"{PREFIX}-api-outside-health-check",
            "alarm_description": ALARMS["api-outside-health-check"].description,
            "namespace": "AWS/Route53",
            "metric_name": "HealthCheckStatus",
            "dimensions": {"HealthCheckId": ref("aws_route53_health_check", check_name, "id")},
            "statistic": "Minimum",
            "comparison_operator": "LessThanThreshold",
            "threshold": 1,
            "period": 60,
            "evaluation_periods": 3,
            "treat_missing_data": "breaching",
            "alarm_actions": [TOPIC],
            "ok_actions": [TOPIC],
        },
    )


def test_the_alarm_lives_in_us_east_1_where_route53_publishes_its_metrics(check: Built[OutsideHealthCheck]) -> None:
    _, alarm = only(resources(check.stack, "aws_cloudwatch_metric_alarm"))
    assert alarm["provider"] == "aws.us-east-1"
    (provider,) = [p for p in check.stack["provider"]["aws"] if p.get("alias") == "us-east-1"]
    assert provider["region"] == HEALTH_CHECK_METRICS_REGION == "us-east-1"
    assert list(check.construct.alarms.alarms) == ["api-outside-health-check"]
