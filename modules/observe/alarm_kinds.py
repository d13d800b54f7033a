"""Every alarm LITTIL has, as data: how it watches its metric, what it means, what to do first.

The key is the alarm name's suffix (after `LITTIL-<country>-<env>-`). `meaning` and
`first_action` become the alarm's description, so its mail says them, and the
alarm runbook's table repeats them (docs/runbooks/answer-alarm.md; a test holds the two together). Thresholds and
metrics come from the constructs in `modules.observe.alarms`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# PutMetricAlarm's limits (CloudWatch API Reference): what it calls TreatMissingData, and how long
# an alarm may look back: Period x EvaluationPeriods at most 7 days, and 1 day below a 1-hour period.
MISSING_DATA = ("missing", "breaching", "notBreaching", "ignore")
DAY = 86400
ABOVE = "GreaterThanThreshold"
AT_LEAST = "GreaterThanOrEqualToThreshold"
BELOW = "LessThanThreshold"


@dataclass(frozen=True)
class AlarmKind:
    meaning: str
    first_action: str
    statistic: str
    comparison: str
    period_seconds: int
    evaluation_periods: int
    # What a period without data points counts as: "missing" (keep the state), "breaching", "notBreaching".
    missing_data: str = "missing"

    def __post_init__(self) -> None:
        window = self.period_seconds * self.evaluation_periods
        limit = 7 * DAY if self.period_seconds >= 3600 else DAY
        if self.period_seconds % 60 or not 0 < window <= limit:
            raise ValueError(
                f"CloudWatch refuses {self.evaluation_periods} periods of {self.period_seconds} s: periods are"
                f" whole minutes and look back at most {limit // DAY} day(s) with this period"
            )
        if self.missing_data not in MISSING_DATA:
            raise ValueError(f"missing_data {self.missing_data!r} is none of CloudWatch's {MISSING_DATA}")

    @property
    def description(self) -> str:
        return f"{self.meaning} First: {self.first_action}"


ALARMS: Mapping[str, AlarmKind] = {
    # Route53's checkers report every minute; none at all means the check itself is gone.
    "api-outside-health-check": AlarmKind(
        "The API's /q/health/ready URL has failed for 3 minutes, seen by Route53's checkers outside AWS.",
        "open it yourself; if it fails too, see the API's other alarms and its log group.",
        statistic="Minimum",
        comparison=BELOW,
        period_seconds=60,
        evaluation_periods=3,
        missing_data="breaching",
    ),
    # No 5xx answers publish no data points: that is the healthy case.
    "api-load-balancer-5xx": AlarmKind(
        "The load balancer answered 5xx itself: no healthy task to send requests to, or tasks that time out.",
        "check the service's running tasks and its events (aws ecs describe-services), then the API's logs.",
        statistic="Sum",
        comparison=AT_LEAST,
        period_seconds=300,
        evaluation_periods=1,
        missing_data="notBreaching",
    ),
    "api-5xx": AlarmKind(
        "The API answered with 5xx more often than the threshold within 5 minutes.",
        "read the API's log group for the stack traces of those requests.",
        statistic="Sum",
        comparison=AT_LEAST,
        period_seconds=300,
        evaluation_periods=1,
        missing_data="notBreaching",
    ),
    # evaluation_periods: the configured minutes (alarms.unhealthy_target_minutes).
    "api-unhealthy-targets": AlarmKind(
        "A task has failed the load balancer's /q/health/ready check for the configured minutes.",
        "read the task's log: the database or a secret is the usual cause (aws ecs describe-tasks: why it stopped).",
        statistic="Maximum",
        comparison=ABOVE,
        period_seconds=60,
        evaluation_periods=5,
        missing_data="notBreaching",
    ),
    # Container Insights reports the service's running tasks every minute; none at all is as bad as too few.
    "api-running-tasks": AlarmKind(
        "Fewer API tasks run than api.ecs.desired_count for 5 minutes: tasks crash, or cannot start.",
        "aws ecs describe-services: the events say why tasks stop (image pull, secrets, health check).",
        statistic="Minimum",
        comparison=BELOW,
        period_seconds=60,
        evaluation_periods=5,
        missing_data="breaching",
    ),
    # ACM publishes DaysToExpiry once a day, and stops once the certificate has expired: two days
    # without a data point alarm too (one missed day is tolerated). The EC2 variant's own metric is
    # hourly: `InstanceApiAlarms` watches it over three hours.
    "api-certificate-expiry": AlarmKind(
        "The API's TLS certificate expires within the configured days: its automatic renewal has failed.",
        "ECS: ACM needs the validation CNAME in DNS (the certificate stack's outputs); EC2: run "
        "`systemctl start certbot-renew` on the instance and read `journalctl -u certbot-renew`. "
        "No data at all means the certificate has expired (ACM stops reporting it) or, on EC2, that "
        "the instance or its littil-certificate-days timer is down.",
        statistic="Minimum",
        comparison=BELOW,
        period_seconds=86400,
        evaluation_periods=2,
        missing_data="breaching",
    ),
    # Status checks are reported every minute, also under basic monitoring.
    "api-instance-system-check": AlarmKind(
        "AWS's host under the API instance failed its status check; the instance is being recovered onto new hardware.",
        "wait 10 minutes for the OK mail; if none comes, stop and start the instance (aws ec2 stop-/start-instances).",
        statistic="Maximum",
        comparison=AT_LEAST,
        period_seconds=60,
        evaluation_periods=2,
    ),
    "api-instance-check": AlarmKind(
        "The API instance itself failed its status check (kernel, memory, disk); it is being rebooted.",
        "after the reboot, look at the system log (aws ec2 get-console-output) and the disk (SSM session: df -h).",
        statistic="Maximum",
        comparison=AT_LEAST,
        period_seconds=60,
        evaluation_periods=3,
    ),
    "api-cpu-credits": AlarmKind(
        "The API instance has almost no CPU credits left; at zero it is throttled to its baseline.",
        "find what burns CPU (SSM session: top); if the load is real, choose a bigger api.ec2.instance_type.",
        statistic="Minimum",
        comparison=BELOW,
        period_seconds=300,
        evaluation_periods=3,
    ),
    # EventBridge publishes FailedInvocations only when one fails: no data is the healthy case.
    "api-restart-failed": AlarmKind(
        "EventBridge could not start the API's restart after a database password rotation (IAM, or a missing"
        " runbook/instance): the API keeps the old password and fails at its next database connection.",
        "restart the API now (the api stack's restart-command or rollout-command output), then find the refused"
        " call in CloudTrail (event source ssm.amazonaws.com, the trigger role as user).",
        statistic="Sum",
        comparison=AT_LEAST,
        period_seconds=300,
        evaluation_periods=1,
        missing_data="notBreaching",
    ),
    # AWS Backup publishes a job count only when it is not zero: a day and two hours (the daily job's start window,
    # and its duration from one day to the next) without one is a day without a backup or a copy.
    "db-backup-missing": AlarmKind(
        "AWS Backup has completed no snapshot of the database for a day: the daily plan failed, did not run, or was"
        " deleted (nothing else mails then). Also right after the first deploy, until the first night's job.",
        "aws backup list-backup-jobs --by-resource-type RDS in the database's account and region: why did the last"
        " job fail, or is there none (is the plan still there)? docs/runbooks/restore-database.md, section Copies.",
        statistic="Sum",
        comparison=BELOW,
        period_seconds=3600,
        evaluation_periods=26,
        missing_data="breaching",
    ),
    "db-copy-missing": AlarmKind(
        "No copy of the database's snapshot has reached the shared account's locked vault for a day: the copy failed"
        " (its key, the vault's policy), did not run, or its plan was deleted. Also right after the first deploy.",
        "aws backup list-copy-jobs in the database's account and region: the last job's status message says why."
        " docs/runbooks/restore-database.md, section Copies.",
        statistic="Sum",
        comparison=BELOW,
        period_seconds=3600,
        evaluation_periods=26,
        missing_data="breaching",
    ),
    "db-free-storage": AlarmKind(
        "The database has less free storage than the threshold; storage autoscaling stops at max_allocated_storage_gb.",
        "raise database.max_allocated_storage_gb (or allocated_storage_gb) and deploy database-<env>.",
        statistic="Minimum",
        comparison=BELOW,
        period_seconds=300,
        evaluation_periods=1,
    ),
    "db-cpu": AlarmKind(
        "The database's CPU has been above the threshold for 15 minutes; queries slow down.",
        "SHOW FULL PROCESSLIST (maintenance container); if the load is real, choose a bigger database.instance_class.",
        statistic="Average",
        comparison=ABOVE,
        period_seconds=300,
        evaluation_periods=3,
    ),
    "db-freeable-memory": AlarmKind(
        "The database has been short of memory for 15 minutes; it starts swapping.",
        "look for many connections or a large query; if the load is real, choose a bigger database.instance_class.",
        statistic="Average",
        comparison=BELOW,
        period_seconds=300,
        evaluation_periods=3,
    ),
}
