"""CloudWatch alarms of a workload environment, each notifying its topic on alarm and on OK.

How each alarm watches and what it tells its reader is data in `modules.observe.alarm_kinds`;
these constructs pick the alarms a part of the system needs, with its metric and threshold
(from `alarms { ... }` in the env files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from config.aws import is_burstable
from modules.access.iam import arn
from modules.observe.alarm_kinds import ALARMS

GIB = 1024**3
MIB = 1024**2


def ec2_action_arn(action: str, *, region: str) -> str:
    """The alarm action that makes EC2 `recover` or `reboot` the alarm's instance.

    `arn:aws:automate:<region>:ec2:<action>`: "ec2" stands where an ARN has its account.
    """
    return arn("automate", action, region=region, account="ec2")


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, str]


class AlarmSet(Construct):
    """Alarms named `<name_prefix>-<GUIDE key>` that notify `topic_arn` when they fire and when they clear."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topic_arn: str,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name_prefix = name_prefix
        self.topic_arn = topic_arn
        self.provider = provider
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}

    def add(
        self,
        kind: str,
        metric: Metric,
        *,
        threshold: float,
        instance_actions: Sequence[str] = (),
        **shape: Any,
    ) -> CloudwatchMetricAlarm:
        """The alarm `kind` of `ALARMS` on `metric`; `shape` changes its timing (`period_seconds`, ...) for this use.

        `instance_actions` (EC2 recover/reboot ARNs) run besides the notification.
        """
        watch = replace(ALARMS[kind], **shape)
        alarm = CloudwatchMetricAlarm(
            self,
            kind,
            alarm_name=f"{self.name_prefix}-{kind}",
            alarm_description=watch.description,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=dict(metric.dimensions),
            statistic=watch.statistic,
            comparison_operator=watch.comparison,
            threshold=threshold,
            period=watch.period_seconds,
            evaluation_periods=watch.evaluation_periods,
            treat_missing_data=watch.missing_data,
            alarm_actions=[self.topic_arn, *instance_actions],
            ok_actions=[self.topic_arn],
            provider=self.provider,
        )
        self.alarms[kind] = alarm
        return alarm

    def add_restart_failed(self, rule_name: str) -> CloudwatchMetricAlarm:
        """The restart on a password rotation (an EventBridge rule) failed to start its target."""
        return self.add(
            "api-restart-failed", Metric("AWS/Events", "FailedInvocations", {"RuleName": rule_name}), threshold=1
        )


class DatabaseAlarms(AlarmSet):
    """Free storage, CPU and freeable memory of one RDS instance."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topic_arn: str,
        instance_identifier: str,
        free_storage_gb: int,
        cpu_percent: int,
        freeable_memory_mib: int,
    ) -> None:
        super().__init__(scope, construct_id, name_prefix=name_prefix, topic_arn=topic_arn)
        dimensions = {"DBInstanceIdentifier": instance_identifier}
        self.add(
            "db-free-storage",
            Metric("AWS/RDS", "FreeStorageSpace", dimensions),
            threshold=free_storage_gb * GIB,
        )
        self.add(
            "db-cpu",
            Metric("AWS/RDS", "CPUUtilization", dimensions),
            threshold=cpu_percent,
        )
        self.add(
            "db-freeable-memory",
            Metric("AWS/RDS", "FreeableMemory", dimensions),
            threshold=freeable_memory_mib * MIB,
        )


class FargateApiAlarms(AlarmSet):
    """The ECS variant: 5xx answers, unhealthy targets, missing tasks and ACM's days to expiry."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topic_arn: str,
        load_balancer_arn_suffix: str,
        target_group_arn_suffix: str,
        cluster_name: str,
        service_name: str,
        desired_count: int,
        certificate_arn: str,
        http_5xx_per_5_minutes: int,
        unhealthy_target_minutes: int,
        certificate_days_left: int,
    ) -> None:
        super().__init__(scope, construct_id, name_prefix=name_prefix, topic_arn=topic_arn)
        balancer = {"LoadBalancer": load_balancer_arn_suffix}
        targets = {**balancer, "TargetGroup": target_group_arn_suffix}
        for kind, metric in (
            ("api-load-balancer-5xx", Metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", balancer)),
            ("api-5xx", Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", targets)),
        ):
            self.add(
                kind,
                metric,
                threshold=http_5xx_per_5_minutes,
            )
        self.add(
            "api-unhealthy-targets",
            Metric("AWS/ApplicationELB", "UnHealthyHostCount", targets),
            threshold=0,
            evaluation_periods=unhealthy_target_minutes,
        )
        if desired_count > 0:
            self.add(
                "api-running-tasks",
                Metric(
                    "ECS/ContainerInsights",
                    "RunningTaskCount",
                    {"ClusterName": cluster_name, "ServiceName": service_name},
                ),
                threshold=desired_count,
            )
        self.add(
            "api-certificate-expiry",
            Metric("AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": certificate_arn}),
            threshold=certificate_days_left,
        )


class InstanceApiAlarms(AlarmSet):
    """The EC2 variant: recover on a failed host, reboot on a failed instance, CPU credits, certificate days."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topic_arn: str,
        instance_id: str,
        instance_type: str,
        region: str,
        certificate_metric: Metric,
        cpu_credit_balance: int,
        certificate_days_left: int,
    ) -> None:
        super().__init__(scope, construct_id, name_prefix=name_prefix, topic_arn=topic_arn)
        instance = {"InstanceId": instance_id}
        self.add(
            "api-instance-system-check",
            Metric("AWS/EC2", "StatusCheckFailed_System", instance),
            threshold=1,
            instance_actions=[ec2_action_arn("recover", region=region)],
        )
        self.add(
            "api-instance-check",
            Metric("AWS/EC2", "StatusCheckFailed_Instance", instance),
            threshold=1,
            instance_actions=[ec2_action_arn("reboot", region=region)],
        )
        if is_burstable(instance_type):
            self.add(
                "api-cpu-credits",
                Metric("AWS/EC2", "CPUCreditBalance", instance),
                threshold=cpu_credit_balance,
            )
        # The instance publishes the Let's Encrypt certificate's days left every hour: three hours
        # without a data point (no certificate, the timer or the instance down) alarm too.
        self.add(
            "api-certificate-expiry",
            certificate_metric,
            threshold=certificate_days_left,
            period_seconds=3600,
            evaluation_periods=3,
        )
