"""modules/observe/alarms.py alone: each alarm set's metrics and thresholds, its guide text, and who it tells.

How one alarm is made (AlarmSet) is tests/modules/observe/test_alarms_set.py's.
"""

from __future__ import annotations

import pytest

from modules.observe.alarms import GIB, MIB, DatabaseAlarms, FargateApiAlarms, InstanceApiAlarms, Metric
from tests.modules.alone import REGION, Built, build, has_resource
from tests.modules.observe.test_alarms_set import PREFIX, TOPIC, alarms, assert_tells_the_topic_and_explains_itself

CERTIFICATE_METRIC = Metric("LITTIL/Certificates", "DaysToExpiry", {"Domain": "api.example.org"})


def api_on_fargate(desired_count: int) -> Built[FargateApiAlarms]:
    return build(
        lambda stack: FargateApiAlarms(
            stack,
            "alarms",
            name_prefix=PREFIX,
            topic_arn=TOPIC,
            load_balancer_arn_suffix="app/littil-api/50dc6c495c0c9188",
            target_group_arn_suffix="targetgroup/littil-api/73e2d6bc24d8a067",
            cluster_name="littil-cluster",
            service_name="littil-service",
            desired_count=desired_count,
            certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
            http_5xx_per_5_minutes=7,
            unhealthy_target_minutes=4,
            certificate_days_left=14,
        )
    )


def api_on_an_instance(instance_type: str) -> Built[InstanceApiAlarms]:
    return build(
        lambda stack: InstanceApiAlarms(
            stack,
            "alarms",
            name_prefix=PREFIX,
            topic_arn=TOPIC,
            instance_id="i-0123456789abcdef0",
            instance_type=instance_type,
            region=REGION,
            certificate_metric=CERTIFICATE_METRIC,
            cpu_credit_balance=30,
            certificate_days_left=10,
        )
    )


@pytest.fixture(scope="module")
def database() -> Built[DatabaseAlarms]:
    return build(
        lambda stack: DatabaseAlarms(
            stack,
            "alarms",
            name_prefix=PREFIX,
            topic_arn=TOPIC,
            instance_identifier="littil-test-db",
            free_storage_gb=3,
            cpu_percent=70,
            freeable_memory_mib=200,
        )
    )


@pytest.fixture(scope="module")
def fargate() -> Built[FargateApiAlarms]:
    return api_on_fargate(desired_count=2)


@pytest.fixture(scope="module")
def fargate_scaled_to_zero() -> Built[FargateApiAlarms]:
    return api_on_fargate(desired_count=0)


@pytest.fixture(scope="module")
def burstable_instance() -> Built[InstanceApiAlarms]:
    return api_on_an_instance("t3.small")


@pytest.fixture(scope="module")
def fixed_cpu_instance() -> Built[InstanceApiAlarms]:
    return api_on_an_instance("m5.large")


def test_database_alarms_watch_the_instance_with_the_given_thresholds(database: Built[DatabaseAlarms]) -> None:
    found = alarms(database.stack)
    assert set(found) == {"db-free-storage", "db-cpu", "db-freeable-memory"}
    for alarm in found.values():
        assert alarm["namespace"] == "AWS/RDS"
        assert alarm["dimensions"] == {"DBInstanceIdentifier": "littil-test-db"}
        assert alarm["period"] == 300
    storage, cpu, memory = found["db-free-storage"], found["db-cpu"], found["db-freeable-memory"]
    assert (storage["metric_name"], storage["statistic"], storage["comparison_operator"]) == (
        "FreeStorageSpace",
        "Minimum",
        "LessThanThreshold",
    )
    assert storage["threshold"] == 3 * GIB  # gigabytes in, bytes as RDS reports them
    assert storage["evaluation_periods"] == 1
    assert (cpu["metric_name"], cpu["comparison_operator"], cpu["threshold"]) == (
        "CPUUtilization",
        "GreaterThanThreshold",
        70,
    )
    assert (memory["metric_name"], memory["comparison_operator"], memory["threshold"]) == (
        "FreeableMemory",
        "LessThanThreshold",
        200 * MIB,
    )
    # CPU and memory: 15 minutes of it, not one busy moment.
    assert cpu["evaluation_periods"] == memory["evaluation_periods"] == 3


def test_database_alarms_tell_the_topic_and_explain_themselves(database: Built[DatabaseAlarms]) -> None:
    assert_tells_the_topic_and_explains_itself(database.stack, {})


def test_fargate_alarms_watch_the_load_balancer_targets_service_and_certificate(
    fargate: Built[FargateApiAlarms],
) -> None:
    found = alarms(fargate.stack)
    assert set(found) == {
        "api-load-balancer-5xx",
        "api-5xx",
        "api-unhealthy-targets",
        "api-running-tasks",
        "api-certificate-expiry",
    }
    balancer = {"LoadBalancer": "app/littil-api/50dc6c495c0c9188"}
    targets = {**balancer, "TargetGroup": "targetgroup/littil-api/73e2d6bc24d8a067"}
    assert (found["api-load-balancer-5xx"]["metric_name"], found["api-load-balancer-5xx"]["dimensions"]) == (
        "HTTPCode_ELB_5XX_Count",
        balancer,
    )
    assert (found["api-5xx"]["metric_name"], found["api-5xx"]["dimensions"]) == ("HTTPCode_Target_5XX_Count", targets)
    for kind in ("api-load-balancer-5xx", "api-5xx"):
        alarm = found[kind]
        assert alarm["namespace"] == "AWS/ApplicationELB"
        assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == (
            "Sum",
            "GreaterThanOrEqualToThreshold",
            7,
        )
        assert alarm["period"] * alarm["evaluation_periods"] == 300
        assert alarm["treat_missing_data"] == "notBreaching"  # no 5xx publishes no data points
    unhealthy = found["api-unhealthy-targets"]
    assert (unhealthy["metric_name"], unhealthy["dimensions"]) == ("UnHealthyHostCount", targets)
    assert (unhealthy["comparison_operator"], unhealthy["threshold"]) == ("GreaterThanThreshold", 0)
    assert (unhealthy["period"], unhealthy["evaluation_periods"]) == (60, 4)  # the given minutes
    expiry = found["api-certificate-expiry"]
    assert (expiry["namespace"], expiry["metric_name"]) == ("AWS/CertificateManager", "DaysToExpiry")
    assert expiry["dimensions"] == {"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc"}
    assert (expiry["comparison_operator"], expiry["threshold"], expiry["period"]) == ("LessThanThreshold", 14, 86400)
    # ACM stops publishing once the certificate has expired: silence for two daily periods alarms.
    assert (expiry["evaluation_periods"], expiry["treat_missing_data"]) == (2, "breaching")


def test_fewer_running_tasks_than_desired_alarm_and_so_does_silence(fargate: Built[FargateApiAlarms]) -> None:
    assert has_resource(
        fargate,
        "aws_cloudwatch_metric_alarm",
        {
            "alarm_name": f"{PREFIX}-api-running-tasks",
            "namespace": "ECS/ContainerInsights",
            "metric_name": "RunningTaskCount",
            "dimensions": {"ClusterName": "littil-cluster", "ServiceName": "littil-service"},
            "statistic": "Minimum",
            "comparison_operator": "LessThanThreshold",
            "threshold": 2,
            "treat_missing_data": "breaching",
        },
    )


def test_a_service_scaled_to_zero_has_no_running_tasks_alarm(
    fargate_scaled_to_zero: Built[FargateApiAlarms],
) -> None:
    assert set(alarms(fargate_scaled_to_zero.stack)) == {
        "api-load-balancer-5xx",
        "api-5xx",
        "api-unhealthy-targets",
        "api-certificate-expiry",
    }
    assert "api-running-tasks" not in fargate_scaled_to_zero.construct.alarms


def test_fargate_alarms_tell_the_topic_and_explain_themselves(fargate: Built[FargateApiAlarms]) -> None:
    assert_tells_the_topic_and_explains_itself(fargate.stack, {})


def test_the_instance_recovers_on_a_failed_host_and_reboots_on_a_failed_check(
    fixed_cpu_instance: Built[InstanceApiAlarms],
) -> None:
    found = alarms(fixed_cpu_instance.stack)
    for kind, metric, evaluation_periods in (
        ("api-instance-system-check", "StatusCheckFailed_System", 2),
        ("api-instance-check", "StatusCheckFailed_Instance", 3),
    ):
        alarm = found[kind]
        assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/EC2", metric)
        assert alarm["dimensions"] == {"InstanceId": "i-0123456789abcdef0"}
        assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == (
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            1,
        )
        assert (alarm["period"], alarm["evaluation_periods"]) == (60, evaluation_periods)
    assert_tells_the_topic_and_explains_itself(
        fixed_cpu_instance.stack,
        {
            "api-instance-system-check": [f"arn:aws:automate:{REGION}:ec2:recover"],
            "api-instance-check": [f"arn:aws:automate:{REGION}:ec2:reboot"],
        },
    )


def test_a_burstable_instance_also_alarms_on_low_cpu_credits(burstable_instance: Built[InstanceApiAlarms]) -> None:
    assert has_resource(
        burstable_instance,
        "aws_cloudwatch_metric_alarm",
        {
            "alarm_name": f"{PREFIX}-api-cpu-credits",
            "namespace": "AWS/EC2",
            "metric_name": "CPUCreditBalance",
            "dimensions": {"InstanceId": "i-0123456789abcdef0"},
            "comparison_operator": "LessThanThreshold",
            "threshold": 30,
            "alarm_actions": [TOPIC],
            "ok_actions": [TOPIC],
        },
    )


def test_an_instance_without_cpu_credits_has_no_credit_alarm(fixed_cpu_instance: Built[InstanceApiAlarms]) -> None:
    assert set(alarms(fixed_cpu_instance.stack)) == {
        "api-instance-system-check",
        "api-instance-check",
        "api-certificate-expiry",
    }


def test_the_instance_certificate_alarm_reads_the_given_metric_and_silence_alarms(
    burstable_instance: Built[InstanceApiAlarms],
) -> None:
    assert has_resource(
        burstable_instance,
        "aws_cloudwatch_metric_alarm",
        {
            "alarm_name": f"{PREFIX}-api-certificate-expiry",
            "namespace": "LITTIL/Certificates",
            "metric_name": "DaysToExpiry",
            "dimensions": {"Domain": "api.example.org"},
            "comparison_operator": "LessThanThreshold",
            "threshold": 10,
            # Published hourly: three hours without a data point (no certificate, timer or instance down) alarm.
            "period": 3600,
            "evaluation_periods": 3,
            "treat_missing_data": "breaching",
        },
    )
