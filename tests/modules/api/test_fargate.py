"""modules/api/fargate.py alone: the API service behind an HTTPS load balancer, its network rules, restart rights."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

from modules.access.iam import policy_document
from modules.access.secrets import SecretKey
from modules.api.fargate import FargateApi
from modules.api.runtime import ApiRuntime
from tests.modules.alone import ACCOUNT_ID, REGION, Built, build, has_resource
from tests.tf import Stack, container_definition, named, only, policy_statements, ref, resources, role_statements

NAME = "LITTIL-NL-staging-littil-api"
VPC = "vpc-0a1b2c3d4e5f60718"
PUBLIC_SUBNETS = ["subnet-0public0a", "subnet-0public0b"]
PRIVATE_SUBNETS = ["subnet-0private0a", "subnet-0private0b"]
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
REPOSITORY = "arn:aws:ecr:eu-west-1:680278545709:repository/littil-backend"
IMAGE = "680278545709.dkr.ecr.eu-west-1.amazonaws.com/littil-backend:1.6.0"
DATABASE_GROUP = "sg-0database0123456"
DATABASE_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0123-AbCdEf"
SMTP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:littil/backend/staging/smtp-AbCdEf"
RUNTIME = ApiRuntime(
    environment={"QUARKUS_MAILER_FROM": "no-reply@mail.staging.littil.org", "DATASOURCE_PORT": "3306"},
    secrets={
        "DATASOURCE_PASSWORD": SecretKey(DATABASE_SECRET, "password"),
        "DATASOURCE_USERNAME": SecretKey(DATABASE_SECRET, "username"),
        "SMTP_HOST": SecretKey(SMTP_SECRET, "smtpHost"),
    },
)
RESTART_POLICY = "restart"


def fargate(*, nat: bool, **options: Any) -> Built[FargateApi]:
    """Without NAT (the default setup) tasks sit in public subnets with a public IP; with NAT in private ones."""

    def make(stack: TerraformStack) -> FargateApi:
        log_group = CloudwatchLogGroup(stack, "log-group", name="LITTILBackendApiEcsLogs-staging")
        exec_log_group = CloudwatchLogGroup(stack, "exec-log-group", name=f"/ecs/{NAME}/exec-sessions")
        api = FargateApi(
            stack,
            "fargate",
            name=NAME,
            region=REGION,
            account_id=ACCOUNT_ID,
            vpc_id=VPC,
            load_balancer_subnet_ids=PUBLIC_SUBNETS,
            task_subnet_ids=PRIVATE_SUBNETS if nat else PUBLIC_SUBNETS,
            assign_public_ip=not nat,
            certificate_arn=CERTIFICATE,
            image=IMAGE,
            repository_arn=REPOSITORY,
            runtime=RUNTIME,
            log_group=log_group,
            database_security_group_id=DATABASE_GROUP,
            exec_log_group=exec_log_group,
            **{"cpu": 256, "memory_mib": 512, "desired_count": 1, **options},
        )
        # What a role holding `restart_statements` would be allowed.
        policy_document(stack, RESTART_POLICY, api.restart_statements)
        return api

    return build(make)


@pytest.fixture(scope="module")
def public() -> Built[FargateApi]:
    return fargate(nat=False)


@pytest.fixture(scope="module")
def private() -> Built[FargateApi]:
    return fargate(nat=True, cpu=512, memory_mib=1024, desired_count=2, database_port=3307)


def group_id(stack: Stack, name: str) -> str:
    return ref("aws_security_group", named(stack, "aws_security_group", name)[0], "id")


def rules(stack: Stack, direction: str, security_group: str) -> set[tuple[int, str]]:
    """(port, peer) of the `direction` rules of one security group: TCP, one port each."""
    found = set()
    for rule in resources(stack, f"aws_vpc_security_group_{direction}_rule").values():
        if rule["security_group_id"] == security_group:
            assert (rule["ip_protocol"], rule["from_port"]) == ("tcp", rule["to_port"])
            peer = rule.get("referenced_security_group_id") or rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
            found.add((int(rule["to_port"]), str(peer)))
    return found


def test_load_balancer_is_internet_facing_in_the_given_subnets_and_drops_invalid_headers(
    public: Built[FargateApi],
) -> None:
    assert has_resource(
        public,
        "aws_lb",
        {
            "name": NAME,
            "internal": False,
            "load_balancer_type": "application",
            "subnets": PUBLIC_SUBNETS,
            "security_groups": [group_id(public.stack, f"{NAME}-alb")],
            "drop_invalid_header_fields": True,
        },
    )


def test_https_listener_serves_the_certificate_with_tls12_or_later_and_forwards_to_the_tasks(
    public: Built[FargateApi],
) -> None:
    stack = public.stack
    load_balancer_id, _ = only(resources(stack, "aws_lb"))
    target_group_id, _ = only(resources(stack, "aws_lb_target_group"))
    assert has_resource(
        public,
        "aws_lb_listener",
        {
            "load_balancer_arn": ref("aws_lb", load_balancer_id, "arn"),
            "port": 443,
            "protocol": "HTTPS",
            "certificate_arn": CERTIFICATE,
            "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "default_action": [
                {"type": "forward", "target_group_arn": ref("aws_lb_target_group", target_group_id, "arn")}
            ],
        },
    )


def test_http_only_redirects_permanently_to_https(public: Built[FargateApi]) -> None:
    listeners = {listener["port"]: listener for listener in resources(public.stack, "aws_lb_listener").values()}
    assert set(listeners) == {443, 80}
    http = listeners[80]
    assert http["protocol"] == "HTTP"
    assert http["default_action"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
    ]


def test_target_group_sends_to_task_ips_on_8080_and_checks_readiness(public: Built[FargateApi]) -> None:
    assert has_resource(
        public,
        "aws_lb_target_group",
        {
            "vpc_id": VPC,
            "target_type": "ip",
            "port": 8080,
            "protocol": "HTTP",
            "health_check": {
                "enabled": True,
                "path": "/q/health/ready",
                "matcher": "200,404",
                "unhealthy_threshold": 4,
            },
        },
    )


def test_load_balancer_accepts_http_and_https_from_anywhere_and_talks_only_to_the_tasks(
    public: Built[FargateApi],
) -> None:
    stack = public.stack
    lb_group, task_group = group_id(stack, f"{NAME}-alb"), group_id(stack, f"{NAME}-tasks")
    assert rules(stack, "ingress", lb_group) == {(443, "0.0.0.0/0"), (80, "0.0.0.0/0")}  # the VPC has no IPv6
    assert rules(stack, "egress", lb_group) == {(8080, task_group)}


def test_tasks_are_reachable_only_from_the_load_balancer_and_reach_out_only_where_needed(
    public: Built[FargateApi], private: Built[FargateApi]
) -> None:
    for built, database_port in ((public, 3306), (private, 3307)):
        stack = built.stack
        lb_group, task_group = group_id(stack, f"{NAME}-alb"), group_id(stack, f"{NAME}-tasks")
        assert rules(stack, "ingress", task_group) == {(8080, lb_group)}
        assert rules(stack, "egress", task_group) == {
            (443, "0.0.0.0/0"),
            (465, "0.0.0.0/0"),
            (database_port, DATABASE_GROUP),
        }


def test_security_groups_live_in_the_vpc_and_drop_their_rules_on_delete(public: Built[FargateApi]) -> None:
    for name in (f"{NAME}-alb", f"{NAME}-tasks"):
        _, group = named(public.stack, "aws_security_group", name)
        assert (group["vpc_id"], group["revoke_rules_on_delete"]) == (VPC, True), name
        assert "ingress" not in group and "egress" not in group, name  # noqa: PT018


def test_service_runs_the_task_in_the_cluster_behind_the_target_group_with_exec_and_rollback(
    public: Built[FargateApi],
) -> None:
    stack = public.stack
    cluster_id, _ = only(resources(stack, "aws_ecs_cluster"))
    task_id, _ = only(resources(stack, "aws_ecs_task_definition"))
    target_group_id, _ = only(resources(stack, "aws_lb_target_group"))
    https_id = only({k: v for k, v in resources(stack, "aws_lb_listener").items() if v["port"] == 443})[0]
    _, service = only(resources(stack, "aws_ecs_service"))
    assert service["name"] == NAME
    assert service["cluster"] == ref("aws_ecs_cluster", cluster_id, "arn")
    assert service["task_definition"] == ref("aws_ecs_task_definition", task_id, "arn")
    assert (service["launch_type"], service["enable_execute_command"]) == ("FARGATE", True)
    assert service["load_balancer"] == [
        {
            "target_group_arn": ref("aws_lb_target_group", target_group_id, "arn"),
            "container_name": "web",
            "container_port": 8080,
        }
    ]
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert (service["deployment_minimum_healthy_percent"], service["deployment_maximum_percent"]) == (100, 200)
    # The target group must be attached to a listener before a service can register into it.
    assert service["depends_on"] == [f"aws_lb_listener.{https_id}"]


def test_tasks_get_a_public_ip_only_without_nat(public: Built[FargateApi], private: Built[FargateApi]) -> None:
    for built, subnets, public_ip in ((public, PUBLIC_SUBNETS, True), (private, PRIVATE_SUBNETS, False)):
        _, service = only(resources(built.stack, "aws_ecs_service"))
        assert service["network_configuration"] == {
            "subnets": subnets,
            "security_groups": [group_id(built.stack, f"{NAME}-tasks")],
            "assign_public_ip": public_ip,
        }


def test_size_and_task_count_follow_the_parameters(public: Built[FargateApi], private: Built[FargateApi]) -> None:
    for built, cpu, memory, count in ((public, "256", "512", 1), (private, "512", "1024", 2)):
        assert has_resource(built, "aws_ecs_task_definition", {"family": NAME, "cpu": cpu, "memory": memory})
        assert has_resource(built, "aws_ecs_service", {"desired_count": count})


def test_container_web_runs_the_image_on_8080_with_the_runtimes_settings_and_secrets(
    public: Built[FargateApi],
) -> None:
    web = container_definition(public.stack)
    assert (web["name"], web["image"]) == ("web", IMAGE)
    assert web["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert {item["name"]: item["value"] for item in web["environment"]} == RUNTIME.environment
    assert {item["name"]: item["valueFrom"] for item in web["secrets"]} == {
        variable: key.value_from for variable, key in RUNTIME.secrets.items()
    }
    log_group_id, _ = named(public.stack, "aws_cloudwatch_log_group", "LITTILBackendApiEcsLogs-staging")
    assert web["logConfiguration"]["options"]["awslogs-group"] == ref("aws_cloudwatch_log_group", log_group_id, "name")


def test_execution_role_reads_exactly_the_runtimes_secrets_and_pulls_exactly_the_repository(
    public: Built[FargateApi],
) -> None:
    statements = {s["sid"]: s for s in role_statements(public.stack, f"{NAME}-execution")}
    assert statements["ReadSecrets"]["resources"] == [DATABASE_SECRET, SMTP_SECRET]
    assert statements["PullImage"]["resources"] == [REPOSITORY]


def test_cluster_has_container_insights_and_logs_exec_sessions_to_the_given_log_group(
    public: Built[FargateApi],
) -> None:
    exec_group_id, _ = named(public.stack, "aws_cloudwatch_log_group", f"/ecs/{NAME}/exec-sessions")
    logged_to = ref("aws_cloudwatch_log_group", exec_group_id, "name")
    assert has_resource(
        public,
        "aws_ecs_cluster",
        {
            "name": NAME,
            "setting": [{"name": "containerInsights", "value": "enabled"}],
            "configuration": {
                "execute_command_configuration": {
                    "logging": "OVERRIDE",
                    "log_configuration": {"cloud_watch_log_group_name": logged_to},
                }
            },
        },
    )


@pytest.mark.parametrize(
    ("variant", "subnets", "public_ip"), [("public", PUBLIC_SUBNETS, "true"), ("private", PRIVATE_SUBNETS, "false")]
)
def test_restart_statements_allow_restarting_only_this_service_never_reshaping_it(
    variant: str, subnets: list[str], public_ip: str, request: pytest.FixtureRequest
) -> None:
    stack = request.getfixturevalue(variant).stack
    service_id, _ = only(resources(stack, "aws_ecs_service"))
    task_id, _ = only(resources(stack, "aws_ecs_task_definition"))
    service_arn = ref("aws_ecs_service", service_id, "arn")
    statements = {
        s["sid"]: s for s in policy_statements(stack, f"${{data.aws_iam_policy_document.{RESTART_POLICY}.json}}")
    }
    assert set(statements) == {"RestartTheService", "WatchTheService"}
    restart = statements["RestartTheService"]
    assert (restart["actions"], restart["resources"]) == (["ecs:UpdateService"], [service_arn])
    # A restart names none of these; a request that does may only name what the service has: the current task
    # definition (never another image), ECS Exec on, its public-IP choice and its subnets.
    assert restart["condition"] == [
        {
            "test": "ArnEqualsIfExists",
            "variable": "ecs:task-definition",
            "values": [ref("aws_ecs_task_definition", task_id, "arn")],
        },
        {"test": "StringEqualsIfExists", "variable": "ecs:enable-execute-command", "values": ["true"]},
        {"test": "BoolIfExists", "variable": "ecs:auto-assign-public-ip", "values": [public_ip]},
        {"test": "ForAllValues:StringEquals", "variable": "ecs:subnet", "values": list(subnets)},
    ]
    _, service = only(resources(stack, "aws_ecs_service"))
    assert service["network_configuration"]["subnets"] == list(subnets)
    assert str(service["network_configuration"]["assign_public_ip"]).lower() == public_ip
    watch = statements["WatchTheService"]
    assert (watch["actions"], watch["resources"]) == (["ecs:DescribeServices"], [service_arn])
