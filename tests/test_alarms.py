"""Alerts: every alarm reaches its environment's mail topic (on alarm and on OK), watches the right
resource with the configured threshold, and the EC2 instance recovers itself; budgets and the
outside health check as configured (issue: know before users do)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from config.model import AppConfig, WorkloadEnvironment
from modules.api.runtime import HEALTH_CHECK_PATH
from modules.observe.alarm_kinds import ALARMS
from modules.observe.alarms import GIB, MIB
from tests.test_ec2 import instance
from tests.tf import Stack, body_of, boot_script, follow, named, only, ref, resources, role_statements
from tools.instance_boot import heredoc

ECS_API_ALARMS = {
    "api-load-balancer-5xx",
    "api-5xx",
    "api-unhealthy-targets",
    "api-running-tasks",
    "api-certificate-expiry",
    "api-restart-failed",
}
EC2_API_ALARMS = {
    "api-instance-system-check",
    "api-instance-check",
    "api-cpu-credits",
    "api-certificate-expiry",
    "api-restart-failed",
}
DATABASE_ALARMS = {"db-free-storage", "db-cpu", "db-freeable-memory"}
# With backup_copies.shared_account: a day without the daily snapshot or without its copy.
BACKUP_COPY_ALARMS = {"db-backup-missing", "db-copy-missing"}


def alarms(stack: Stack, env: WorkloadEnvironment) -> dict[str, dict[str, Any]]:
    """The stack's alarms by kind (their name after `LITTIL-<country>-<env>-`)."""
    prefix = f"LITTIL-{env.country}-{env.name}-"
    found = {}
    for body in resources(stack, "aws_cloudwatch_metric_alarm").values():
        assert body["alarm_name"].startswith(prefix), body["alarm_name"]
        found[body["alarm_name"].removeprefix(prefix)] = body
    return found


def in_synthesis(synthesis: dict[str, Stack], config: AppConfig) -> list[WorkloadEnvironment]:
    """The workload environments a synthesis holds (`toggled` has staging and production only)."""
    return [env for env in config.workloads if f"api-{env.name}" in synthesis]


def region_of(stack: Stack, body: dict[str, Any]) -> str:
    """The region a resource lives in: its provider's (the default one unless it names an alias)."""
    alias = body.get("provider", "aws").removeprefix("aws").removeprefix(".")
    (provider,) = [p for p in stack["provider"]["aws"] if p.get("alias", "") == alias]
    return str(provider["region"])


def test_every_alarm_mails_its_own_environment_when_it_fires_and_when_it_clears(
    stacks: dict[str, Stack], toggled: dict[str, Stack], config: AppConfig
) -> None:
    checked = 0
    for synthesis in (stacks, toggled):
        for env in in_synthesis(synthesis, config):
            for component in ("alerts", "database", "api"):
                stack_name = f"{component}-{env.name}"
                stack = synthesis[stack_name]
                for kind, alarm in alarms(stack, env).items():
                    topic_expression = alarm["alarm_actions"][0]
                    assert alarm["ok_actions"] == [topic_expression], (stack_name, kind)
                    # Through remote state (database, api) or directly (alerts) to the topic of alerts-<env>.
                    producer, expression = follow(synthesis, stack_name, topic_expression)
                    assert producer == f"alerts-{env.name}", (stack_name, kind)
                    _, kind_of_resource, topic_id, topic = body_of(synthesis, producer, expression)
                    assert kind_of_resource == "aws_sns_topic"
                    assert expression == ref("aws_sns_topic", topic_id, "arn")
                    # An alarm can only notify a topic of its own region.
                    assert region_of(synthesis[producer], topic) == region_of(stack, alarm), (stack_name, kind)
                    (subscription,) = [
                        s
                        for s in resources(synthesis[producer], "aws_sns_topic_subscription").values()
                        if s["topic_arn"] == expression
                    ]
                    assert subscription["protocol"] == "email"
                    assert subscription["endpoint"] == env.alerts.email
                    # Besides the mail, only EC2's own recovery actions.
                    for action in alarm["alarm_actions"][1:]:
                        assert re.fullmatch(rf"arn:aws:automate:{env.region}:ec2:(recover|reboot)", action), action
                    # The mail says what it means and what to do first.
                    assert alarm["alarm_description"] == ALARMS[kind].description
                    checked += 1
    assert checked >= 2 * len(config.workloads) * len(DATABASE_ALARMS)


def test_each_environment_has_the_full_alarm_set_of_its_variant(
    stacks: dict[str, Stack], toggled: dict[str, Stack], config: AppConfig
) -> None:
    for synthesis in (stacks, toggled):
        for env in in_synthesis(synthesis, config):
            variant = "ecs" if resources(synthesis[f"api-{env.name}"], "aws_ecs_service") else "ec2"
            expected = ECS_API_ALARMS if variant == "ecs" else EC2_API_ALARMS
            assert set(alarms(synthesis[f"api-{env.name}"], env)) == expected, (env.name, variant)
            copying = BACKUP_COPY_ALARMS if env.backup_copies.shared_account else set()
            assert set(alarms(synthesis[f"database-{env.name}"], env)) == DATABASE_ALARMS | copying, env.name
    # Production runs on EC2 as configured, and on ECS once switched: both sets are exercised.
    assert resources(stacks["api-production"], "aws_instance")
    assert resources(toggled["api-production"], "aws_ecs_service")


def test_a_restart_that_never_starts_alarms_on_the_password_rotation_rule_of_the_same_stack(
    stacks: dict[str, Stack], toggled: dict[str, Stack], config: AppConfig
) -> None:
    for synthesis in (stacks, toggled):
        for env in in_synthesis(synthesis, config):
            stack = synthesis[f"api-{env.name}"]
            rule_id, _ = only(resources(stack, "aws_cloudwatch_event_rule"))
            alarm = alarms(stack, env)["api-restart-failed"]
            assert alarm["dimensions"] == {"RuleName": ref("aws_cloudwatch_event_rule", rule_id, "name")}, env.name


def test_database_alarms_watch_this_instance_with_the_configured_thresholds(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    for env in config.workloads:
        stack = stacks[f"database-{env.name}"]
        db_id, _ = only(resources(stack, "aws_db_instance"))
        found = alarms(stack, env)
        for kind in DATABASE_ALARMS:  # the backup copies' alarms: tests/test_database.py
            alarm = found[kind]
            assert alarm["namespace"] == "AWS/RDS"
            assert alarm["dimensions"] == {"DBInstanceIdentifier": ref("aws_db_instance", db_id, "identifier")}
        # The thresholds are the environment's (metrics and comparisons: tests/modules/observe/test_alarms.py).
        thresholds = env.alarms
        assert found["db-free-storage"]["threshold"] == thresholds.database_free_storage_gb * GIB
        assert found["db-cpu"]["threshold"] == thresholds.database_cpu_percent
        assert found["db-freeable-memory"]["threshold"] == thresholds.database_freeable_memory_mib * MIB


def test_ecs_alarms_watch_this_load_balancer_service_and_certificate(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    env = config.workload("staging")
    stack_name = f"api-{env.name}"
    stack = stacks[stack_name]
    found = alarms(stack, env)
    lb_id, _ = only(resources(stack, "aws_lb"))
    tg_id, _ = only(resources(stack, "aws_lb_target_group"))
    balancer = {"LoadBalancer": ref("aws_lb", lb_id, "arn_suffix")}
    targets = {**balancer, "TargetGroup": ref("aws_lb_target_group", tg_id, "arn_suffix")}
    thresholds = env.alarms

    # What each alarm watches here and the environment's thresholds; the metrics, statistics and periods
    # themselves are the construct's (tests/modules/observe/test_alarms.py).
    assert found["api-load-balancer-5xx"]["dimensions"] == balancer
    assert found["api-5xx"]["dimensions"] == targets
    for kind in ("api-load-balancer-5xx", "api-5xx"):
        assert found[kind]["threshold"] == thresholds.http_5xx_per_5_minutes
    unhealthy = found["api-unhealthy-targets"]
    assert unhealthy["dimensions"] == targets
    assert unhealthy["period"] * unhealthy["evaluation_periods"] == thresholds.unhealthy_target_minutes * 60

    cluster_id, _ = only(resources(stack, "aws_ecs_cluster"))
    service_id, _ = only(resources(stack, "aws_ecs_service"))
    running = found["api-running-tasks"]
    assert running["dimensions"] == {
        "ClusterName": ref("aws_ecs_cluster", cluster_id, "name"),
        "ServiceName": ref("aws_ecs_service", service_id, "name"),
    }
    assert running["threshold"] == env.api.ecs.desired_count

    expiry = found["api-certificate-expiry"]
    # The certificate the load balancer serves, read from certificate-<env>.
    (listener,) = [body for body in resources(stack, "aws_lb_listener").values() if body["port"] == 443]
    assert expiry["dimensions"] == {"CertificateArn": listener["certificate_arn"]}
    producer, expression = follow(stacks, stack_name, listener["certificate_arn"])
    assert producer == f"certificate-{env.name}"
    assert body_of(stacks, producer, expression)[1] in {"aws_acm_certificate", "aws_acm_certificate_validation"}
    assert expiry["threshold"] == thresholds.certificate_days_left


def test_the_api_instance_recovers_on_a_failed_host_and_reboots_on_a_failed_check(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    env = config.workload("production")
    stack = stacks[f"api-{env.name}"]
    instance_id, _ = instance(stack)
    found = alarms(stack, env)
    topic = found["api-instance-system-check"]["alarm_actions"][0]
    for kind, metric, action in (
        ("api-instance-system-check", "StatusCheckFailed_System", "recover"),
        ("api-instance-check", "StatusCheckFailed_Instance", "reboot"),
    ):
        alarm = found[kind]
        assert alarm["metric_name"] == metric
        # This instance, this environment's topic, the EC2 action of its own region.
        assert alarm["dimensions"] == {"InstanceId": ref("aws_instance", instance_id, "id")}
        assert alarm["alarm_actions"] == [topic, f"arn:aws:automate:{env.region}:ec2:{action}"]
    credits = found["api-cpu-credits"]
    assert credits["dimensions"] == {"InstanceId": ref("aws_instance", instance_id, "id")}
    assert credits["threshold"] == env.alarms.cpu_credit_balance


def test_the_instance_publishes_the_certificate_metric_its_alarm_reads_and_silence_alarms(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    env = config.workload("production")
    stack = stacks[f"api-{env.name}"]
    expiry = alarms(stack, env)["api-certificate-expiry"]
    conf = dict(
        line.split("=", 1) for line in heredoc(boot_script(stack), "/etc/littil/instance.conf", "CONF").split("\n")
    )
    assert expiry["namespace"] == conf["METRIC_NAMESPACE"]
    assert expiry["metric_name"] == conf["METRIC_NAME"]
    assert expiry["dimensions"] == {"Domain": conf["API_DOMAIN"]} == {"Domain": env.api_domain}
    assert expiry["threshold"] == env.alarms.certificate_days_left
    # The instance may publish into that namespace and no other.
    (publish,) = [
        s for s in role_statements(stack, f"LITTIL-NL-{env.name}-littil-api") if s["sid"] == "PublishCertificateDays"
    ]
    assert publish["actions"] == ["cloudwatch:PutMetricData"]
    assert publish["condition"] == [
        {"test": "StringEquals", "variable": "cloudwatch:namespace", "values": [expiry["namespace"]]}
    ]
    setup = heredoc(boot_script(stack), "/usr/local/sbin/littil-setup", "SETUP")
    assert "littil-certificate-days.timer" in setup.split("systemctl enable --now littil-api.service")[1].split("\n")[0]
    timer = heredoc(boot_script(stack), "/etc/systemd/system/littil-certificate-days.timer", "UNIT")
    assert "OnCalendar=hourly" in timer


FAKE_AWS = """#!/bin/bash
printf '%s\\n' "$@" > "$STUB_DIR/aws-args"
"""


@pytest.mark.parametrize("days", [45, 3])
def test_the_certificate_days_script_publishes_what_is_left(
    stacks: dict[str, Stack], config: AppConfig, tmp_path: Path, days: int
) -> None:
    stack = stacks["api-production"]
    script = boot_script(stack)
    conf_text = heredoc(script, "/etc/littil/instance.conf", "CONF")
    conf = dict(line.split("=", 1) for line in conf_text.split("\n"))
    etc, live, stubs = tmp_path / "etc", tmp_path / "live", tmp_path / "stubs"
    for directory in (etc, live / conf["API_DOMAIN"], stubs):
        directory.mkdir(parents=True)
    (etc / "instance.conf").write_text(conf_text + "\n")
    (stubs / "aws").write_text(FAKE_AWS)
    (stubs / "aws").chmod(0o755)
    (stubs / "days").write_text(heredoc(script, "/usr/local/bin/littil-certificate-days", "DAYS"))
    environment = {
        **os.environ,
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "STUB_DIR": str(stubs),
        "LITTIL_CONF_DIR": str(etc),
        "LITTIL_LETSENCRYPT_DIR": str(tmp_path),
    }

    # No certificate yet: nothing is published (the alarm's missing data is the signal).
    result = subprocess.run(["bash", str(stubs / "days")], env=environment, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert not (stubs / "aws-args").exists()

    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
            "-subj", f"/CN={conf['API_DOMAIN']}",
            "-keyout", str(tmp_path / "key.pem"), "-out", str(live / conf["API_DOMAIN"] / "fullchain.pem"),
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    result = subprocess.run(["bash", str(stubs / "days")], env=environment, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    args = (stubs / "aws-args").read_text().splitlines()
    assert args[:2] == ["cloudwatch", "put-metric-data"]
    options = dict(zip(args[2::2], args[3::2], strict=True))
    expiry = alarms(stack, config.workload("production"))["api-certificate-expiry"]
    assert options["--namespace"] == expiry["namespace"]
    assert options["--metric-name"] == expiry["metric_name"]
    assert options["--dimensions"] == f"Domain={expiry['dimensions']['Domain']}"
    assert options["--region"] == conf["AWS_REGION"]
    assert int(options["--value"]) in (days - 1, days)  # whole days left, rounded down


def test_the_outside_health_check_asks_for_the_api_readiness_over_https_and_alarms_in_us_east_1(
    stacks: dict[str, Stack], toggled: dict[str, Stack], config: AppConfig
) -> None:
    for env in config.workloads:
        assert env.alarms.outside_health_check
        stack = stacks[f"alerts-{env.name}"]
        check_id, check = only(resources(stack, "aws_route53_health_check"))
        assert (check["type"], check["port"], check["fqdn"]) == ("HTTPS", 443, env.api_domain)
        assert check["resource_path"] == HEALTH_CHECK_PATH
        assert check["enable_sni"] is True
        alarm = alarms(stack, env)["api-outside-health-check"]
        assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/Route53", "HealthCheckStatus")
        assert alarm["dimensions"] == {"HealthCheckId": ref("aws_route53_health_check", check_id, "id")}
        assert region_of(stack, alarm) == "us-east-1"  # where Route53 publishes health-check metrics
        assert alarm["treat_missing_data"] == "breaching"
    # The same path the load balancer asks (what the application answers).
    _, target_group = only(resources(stacks["api-staging"], "aws_lb_target_group"))
    assert target_group["health_check"]["path"] == HEALTH_CHECK_PATH
    # Opted out (toggled production): no check, no us-east-1 provider, topic or alarm.
    opted_out = toggled["alerts-production"]
    assert not resources(opted_out, "aws_route53_health_check")
    assert not resources(opted_out, "aws_cloudwatch_metric_alarm")
    assert [p.get("alias") for p in opted_out["provider"]["aws"]] == [None]
    assert len(resources(opted_out, "aws_sns_topic")) == 1


def test_every_account_has_a_monthly_budget_mailing_at_80_forecast_and_100_actual(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    for env in config.environments:
        _, budget = named(stacks[f"alerts-{env.name}"], "aws_budgets_budget", f"LITTIL-NL-{env.name}-monthly-cost")
        assert (budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == ("COST", "MONTHLY", "USD")
        assert float(budget["limit_amount"]) == env.alerts.monthly_budget_usd
        assert {
            (n["notification_type"], n["comparison_operator"], n["threshold"], n["threshold_type"]): n[
                "subscriber_email_addresses"
            ]
            for n in budget["notification"]
        } == {
            ("FORECASTED", "GREATER_THAN", 80, "PERCENTAGE"): [env.alerts.email],
            ("ACTUAL", "GREATER_THAN", 100, "PERCENTAGE"): [env.alerts.email],
        }
    # The shared account has no workload to alarm on: a budget, nothing else.
    assert set(stacks["alerts-shared"]["resource"]) == {"aws_budgets_budget"}


def test_the_alarm_runbook_says_what_each_alarm_means_and_what_to_do_first() -> None:
    readme = (Path(__file__).resolve().parents[1] / "docs" / "runbooks" / "answer-alarm.md").read_text()
    for kind, guide in ALARMS.items():
        row = f"| `{kind}` | {guide.meaning} | {guide.first_action} |"
        assert row in readme, kind
