"""`alerts-<env>`: who is told. Every account's budget; in a workload account also the alarm topic
the database and API alarms notify, and the outside health check of the API.

Deployed right after `state-<env>`: `database-<env>` and `api-<env>` read the topic from it.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.api.runtime import HEALTH_CHECK_PATH
from modules.naming import environment_prefix
from modules.observe.budget import MonthlyBudget
from modules.observe.health_check import HEALTH_CHECK_METRICS_REGION, OutsideHealthCheck
from modules.observe.topic import AlertTopic
from stacks.base import LittilStack


class AlertsStack(LittilStack):
    topic: SnsTopic  # workload environments only: what their alarms notify

    def __init__(self, scope: Construct, *, env: SharedEnvironment | WorkloadEnvironment) -> None:
        super().__init__(scope, component="alerts", env=env)
        alerts = env.alerts
        self.name_prefix = environment_prefix(env.country, env.name)
        self.budget = MonthlyBudget(
            self,
            "budget",
            name=self.physical_name("monthly-cost"),
            amount_usd=alerts.monthly_budget_usd,
            email=alerts.email,
        )
        TerraformOutput(
            self,
            "monthly-budget",
            value=f"{alerts.monthly_budget_usd} USD a month; mail to {alerts.email} at 80 % forecast, 100 % actual",
        )
        if not isinstance(env, WorkloadEnvironment):
            return
        topic_name = self.physical_name("alerts")
        self.topic = AlertTopic(self, "topic", name=topic_name, email=alerts.email).topic
        confirm = [f"{env.region}: {topic_name}"]
        if env.alarms.outside_health_check:
            us_east_1 = self.provider_in(HEALTH_CHECK_METRICS_REGION)
            health_topic = AlertTopic(
                self, "health-check-topic", name=topic_name, email=alerts.email, provider=us_east_1
            ).topic
            self.health_check = OutsideHealthCheck(
                self,
                "outside-health-check",
                name_prefix=self.name_prefix,
                fqdn=env.api_domain,
                path=HEALTH_CHECK_PATH,
                topic_arn=health_topic.arn,
                us_east_1=us_east_1,
            )
            confirm.append(f"{HEALTH_CHECK_METRICS_REGION}: {topic_name}")
        TerraformOutput(
            self,
            "confirm-subscriptions",
            value=confirm,
            description=f"AWS mailed {alerts.email} one confirmation per topic: alarms reach nobody until confirmed",
        )
