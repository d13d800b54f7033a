"""Route53's view of the API from outside AWS: an HTTPS health check and its alarm."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from constructs import Construct

from modules.observe.alarms import AlarmSet, Metric

# Route53 publishes health-check metrics in us-east-1 only; the alarm (and the topic it notifies) live there.
HEALTH_CHECK_METRICS_REGION = "us-east-1"


class OutsideHealthCheck(Construct):
    """`GET https://<fqdn><path>` every 30 s from Route53's checkers; 3 failures make it unhealthy.

    Its alarm `<name_prefix>-api-outside-health-check` fires after 3 unhealthy minutes and
    notifies `topic_arn`, a topic in us-east-1 (`us_east_1`: a provider for that region).
    Costs about 1.50 USD a month (an HTTPS check of an AWS endpoint).

    Exposes `health_check`, `alarms`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        fqdn: str,
        path: str,
        topic_arn: str,
        us_east_1: TerraformProvider,
    ) -> None:
        super().__init__(scope, construct_id)
        self.health_check = Route53HealthCheck(
            self,
            "health-check",
            type="HTTPS",
            fqdn=fqdn,
            port=443,
            resource_path=path,
            enable_sni=True,
            request_interval=30,
            failure_threshold=3,
            tags={"Name": f"{name_prefix}-api"},
        )
        self.alarms = AlarmSet(self, "alarms", name_prefix=name_prefix, topic_arn=topic_arn, provider=us_east_1)
        self.alarms.add(
            "api-outside-health-check",
            Metric("AWS/Route53", "HealthCheckStatus", {"HealthCheckId": self.health_check.id}),
            threshold=1,
        )
