"""CloudWatch alarms of a workload environment, each notifying its topic on alarm and on OK.

`GUIDE` holds what each alarm means and the first thing to do, once: it is the alarm's
description (so the mail says it) and the README's alarm table repeats it (a test holds
the two together). Thresholds come from `alarms { ... }` in the env files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.access.iam import arn

GIB = 1024**3
MIB = 1024**2
# Instance types that run on CPU credits (and report CPUCreditBalance).
BURSTABLE_FAMILIES = ("t2", "t3", "t3a", "t4g")


@dataclass(frozen=True)
class Guide:
    meaning: str
    first_action: str

    @property
    def description(self) -> str:
        return f"{self.meaning} First: {self.first_action}"


# Alarm name suffix (after LITTIL-<country>-<env>-) -> what it means, what to do first.
GUIDE: Mapping[str, Guide] = {
    "api-outside-health-check": Guide(
        "The API's /q/health/ready URL has failed for 3 minutes, seen by Route53's checkers outside AWS.",
        "open it yourself; if it fails too, see the API's other alarms and its log group.",
    ),
    "api-load-balancer-5xx": Guide(
        "The load balancer answered 5xx itself: no healthy task to send requests to, or tasks that time out.",
        "check the service's running tasks and its events (aws ecs describe-services), then the API's logs.",
    ),
    "api-5xx": Guide(
        "The API answered with 5xx more often than the threshold within 5 minutes.",
        "read the API's log group for the stack traces of those requests.",
    ),
    "api-unhealthy-targets": Guide(
        "A task has failed the load balancer's /q/health/ready check for the configured minutes.",
        "read the task's log: the database or a secret is the usual cause (aws ecs describe-tasks: why it stopped).",
    ),
    "api-running-tasks": Guide(
        "Fewer API tasks run than api.ecs.desired_count for 5 minutes: tasks crash, or cannot start.",
        "aws ecs describe-services: the events say why tasks stop (image pull, secrets, health check).",
    ),
    "api-certificate-expiry": Guide(
        "The API's TLS certificate expires within the configured days: its automatic renewal has failed.",
        "ECS: ACM needs the validation CNAME in DNS (the certificate stack's outputs); EC2: run "
        "`systemctl start certbot-renew` on the instance and read `journalctl -u certbot-renew`. "
        "No data at all means the certificate has expired (ACM stops reporting it) or, on EC2, that "
        "the instance or its littil-certificate-days timer is down.",
    ),
    "api-instance-system-check": Guide(
        "AWS's host under the API instance failed its status check; the instance is being recovered onto new hardware.",
        "wait 10 minutes for the OK mail; if none comes, stop and start the instance (aws ec2 stop-/start-instances).",
    ),
    "api-instance-check": Guide(
        "The API instance itself failed its status check (kernel, memory, disk); it is being rebooted.",
        "after the reboot, look at the system log (aws ec2 get-console-output) and the disk (SSM session: df -h).",
    ),
    "api-cpu-credits": Guide(
        "The API instance has almost no CPU credits left; at zero it is throttled to its baseline.",
        "find what burns CPU (SSM session: top); if the load is real, choose a bigger api.ec2.instance_type.",
    ),
    "api-restart-failed": Guide(
        "EventBridge could not start the API's restart after a database password rotation (IAM, or a missing"
        " runbook/instance): the API keeps the old password and fails at its next database connection.",
        "restart the API now (the api stack's restart-command or rollout-command output), then find the refused"
        " call in CloudTrail (event source ssm.amazonaws.com, the trigger role as user).",
    ),
    "db-free-storage": Guide(
        "The database has less free storage than the threshold; storage autoscaling stops at max_allocated_storage_gb.",
        "raise database.max_allocated_storage_gb (or allocated_storage_gb) and deploy database-<env>.",
    ),
    "db-cpu": Guide(
        "The database's CPU has been above the threshold for 15 minutes; queries slow down.",
        "SHOW FULL PROCESSLIST (maintenance container); if the load is real, choose a bigger database.instance_class.",
    ),
    "db-freeable-memory": Guide(
        "The database has been short of memory for 15 minutes; it starts swapping.",
        "look for many connections or a large query; if the load is real, choose a bigger database.instance_class.",
    ),
}


def ec2_action_arn(action: str, *, region: str) -> str:
    """The alarm action that makes EC2 `recover` or `reboot` the alarm's instance.

    `arn:aws:automate:<region>:ec2:<action>`: "ec2" stands where an ARN has its account.
    """
    return arn("automate", action, region=region, account="ec2")


def is_burstable(instance_type: str) -> bool:
    return instance_type.split(".", maxsplit=1)[0] in BURSTABLE_FAMILIES


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
        statistic: str,
        comparison: str,
        threshold: float,
        period_seconds: int,
        evaluation_periods: int,
        missing_data: str = "missing",
        instance_actions: Sequence[str] = (),
    ) -> CloudwatchMetricAlarm:
        """One alarm; `instance_actions` (EC2 recover/reboot ARNs) run besides the notification."""
        alarm = CloudwatchMetricAlarm(
            self,
            kind,
            alarm_name=f"{self.name_prefix}-{kind}",
            alarm_description=GUIDE[kind].description,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=dict(metric.dimensions),
            statistic=statistic,
            comparison_operator=comparison,
            threshold=threshold,
            period=period_seconds,
            evaluation_periods=evaluation_periods,
            treat_missing_data=missing_data,
            alarm_actions=[self.topic_arn, *instance_actions],
            ok_actions=[self.topic_arn],
            provider=self.provider,
        )
        self.alarms[kind] = alarm
        return alarm

    def add_restart_failed(self, rule_name: str) -> CloudwatchMetricAlarm:
        """The restart on a password rotation (an EventBridge rule) failed to start its target."""
        # EventBridge publishes FailedInvocations only when one fails: no data is the healthy case.
        return self.add(
            "api-restart-failed",
            Metric("AWS/Events", "FailedInvocations", {"RuleName": rule_name}),
            statistic="Sum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            period_seconds=300,
            evaluation_periods=1,
            missing_data="notBreaching",
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
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=free_storage_gb * GIB,
            period_seconds=300,
            evaluation_periods=1,
        )
        self.add(
            "db-cpu",
            Metric("AWS/RDS", "CPUUtilization", dimensions),
            statistic="Average",
            comparison="GreaterThanThreshold",
            threshold=cpu_percent,
            period_seconds=300,
            evaluation_periods=3,
        )
        self.add(
            "db-freeable-memory",
            Metric("AWS/RDS", "FreeableMemory", dimensions),
            statistic="Average",
            comparison="LessThanThreshold",
            threshold=freeable_memory_mib * MIB,
            period_seconds=300,
            evaluation_periods=3,
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
        # No 5xx answers publish no data points: that is the healthy case.
        for kind, metric in (
            ("api-load-balancer-5xx", Metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", balancer)),
            ("api-5xx", Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", targets)),
        ):
            self.add(
                kind,
                metric,
                statistic="Sum",
                comparison="GreaterThanOrEqualToThreshold",
                threshold=http_5xx_per_5_minutes,
                period_seconds=300,
                evaluation_periods=1,
                missing_data="notBreaching",
            )
        self.add(
            "api-unhealthy-targets",
            Metric("AWS/ApplicationELB", "UnHealthyHostCount", targets),
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=0,
            period_seconds=60,
            evaluation_periods=unhealthy_target_minutes,
            missing_data="notBreaching",
        )
        if desired_count > 0:
            # Container Insights reports the service's running tasks every minute; none at all is as bad as too few.
            self.add(
                "api-running-tasks",
                Metric(
                    "ECS/ContainerInsights",
                    "RunningTaskCount",
                    {"ClusterName": cluster_name, "ServiceName": service_name},
                ),
                statistic="Minimum",
                comparison="LessThanThreshold",
                threshold=desired_count,
                period_seconds=60,
                evaluation_periods=5,
                missing_data="breaching",
            )
        # ACM publishes DaysToExpiry once a day, and stops once the certificate has expired: two
        # days without a data point alarm too (one missed day is tolerated).
        self.add(
            "api-certificate-expiry",
            Metric("AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": certificate_arn}),
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=certificate_days_left,
            period_seconds=86400,
            evaluation_periods=2,
            missing_data="breaching",
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
        # Status checks are reported every minute, also under basic monitoring.
        self.add(
            "api-instance-system-check",
            Metric("AWS/EC2", "StatusCheckFailed_System", instance),
            statistic="Maximum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            period_seconds=60,
            evaluation_periods=2,
            instance_actions=[ec2_action_arn("recover", region=region)],
        )
        self.add(
            "api-instance-check",
            Metric("AWS/EC2", "StatusCheckFailed_Instance", instance),
            statistic="Maximum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            period_seconds=60,
            evaluation_periods=3,
            instance_actions=[ec2_action_arn("reboot", region=region)],
        )
        if is_burstable(instance_type):
            self.add(
                "api-cpu-credits",
                Metric("AWS/EC2", "CPUCreditBalance", instance),
                statistic="Minimum",
                comparison="LessThanThreshold",
                threshold=cpu_credit_balance,
                period_seconds=300,
                evaluation_periods=3,
            )
        # The instance publishes the Let's Encrypt certificate's days left every hour: three hours
        # without a data point (no certificate, the timer or the instance down) alarm too.
        self.add(
            "api-certificate-expiry",
            certificate_metric,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=certificate_days_left,
            period_seconds=3600,
            evaluation_periods=3,
            missing_data="breaching",
        )
