"""api-<env> (ECS variant): who reaches it (the load balancer, the tasks' subnets and security groups)."""

from __future__ import annotations

from config.model import AppConfig
from tests.conftest import EcsApi, env_named
from tests.tf import (
    Stack,
    follow,
    only,
    ref,
    resources,
    subnet_tiers,
)


def test_https_listener_uses_the_certificate_stacks_certificate_and_a_tls12_policy(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    listeners = {listener["port"]: listener for listener in resources(stack, "aws_lb_listener").values()}
    assert set(listeners) == {443, 80}
    https, http = listeners[443], listeners[80]
    certificate_stack = stack_name.replace("api-", "certificate-")
    certificate_name, _ = only(resources(stacks[certificate_stack], "aws_acm_certificate"))
    assert follow(stacks, stack_name, https["certificate_arn"]) == (
        certificate_stack,
        ref("aws_acm_certificate", certificate_name, "arn"),
    )
    assert https["protocol"] == "HTTPS"
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    target_group_name, target_group = only(resources(stack, "aws_lb_target_group"))
    assert https["default_action"] == [
        {"type": "forward", "target_group_arn": ref("aws_lb_target_group", target_group_name, "arn")}
    ]
    assert http["protocol"] == "HTTP"
    assert http["default_action"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
    ]
    assert (target_group["target_type"], target_group["port"], target_group["protocol"]) == ("ip", 8080, "HTTP")
    health = target_group["health_check"]
    assert (health["path"], health["matcher"], health["unhealthy_threshold"]) == ("/q/health/ready", "200,404", 4)


def test_load_balancer_is_internet_facing_in_public_subnets_and_drops_invalid_headers(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    _, balancer = only(resources(stack, "aws_lb"))
    assert balancer["internal"] is False
    assert balancer["load_balancer_type"] == "application"
    assert balancer["drop_invalid_header_fields"] is True
    assert subnet_tiers(stacks, stack_name, balancer["subnets"]) == (
        stack_name.replace("api-", "network-"),
        ["public", "public"],
    )


def test_service_runs_in_public_subnets_with_public_ip_rolls_back_and_allows_exec(
    config: AppConfig, ecs_api: EcsApi
) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    _, service = only(resources(stack, "aws_ecs_service"))
    assert service["desired_count"] == env.api.ecs.desired_count
    assert service["launch_type"] == "FARGATE"
    assert service["enable_execute_command"] is True
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    network = service["network_configuration"]
    assert network["assign_public_ip"] is True
    assert subnet_tiers(stacks, stack_name, network["subnets"])[1] == ["public", "public"]
    target_group_name, _ = only(resources(stack, "aws_lb_target_group"))
    assert service["load_balancer"] == [
        {
            "target_group_arn": ref("aws_lb_target_group", target_group_name, "arn"),
            "container_name": "web",
            "container_port": 8080,
        }
    ]


def test_nat_opt_in_moves_tasks_to_private_subnets_without_public_ip(opt_ins: dict[str, Stack]) -> None:
    _, service = only(resources(opt_ins["api-staging"], "aws_ecs_service"))
    assert service["network_configuration"]["assign_public_ip"] is False
    subnets = service["network_configuration"]["subnets"]
    assert subnet_tiers(opt_ins, "api-staging", subnets) == ("network-staging", ["private", "private"])


def test_tasks_are_reachable_only_from_the_load_balancer_and_reach_out_only_where_needed(ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    stack = stacks[stack_name]
    _, service = only(resources(stack, "aws_ecs_service"))
    (task_group,) = service["network_configuration"]["security_groups"]
    _, balancer = only(resources(stack, "aws_lb"))
    (lb_group,) = balancer["security_groups"]
    ingress = [
        rule
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == task_group
    ]
    assert [(r["from_port"], r["to_port"], r.get("referenced_security_group_id")) for r in ingress] == [
        (8080, 8080, lb_group)
    ]
    egress = {
        (rule["to_port"], str(rule.get("cidr_ipv4") or rule["referenced_security_group_id"]))
        for rule in resources(stack, "aws_vpc_security_group_egress_rule").values()
        if rule["security_group_id"] == task_group
    }
    database_stack = stack_name.replace("api-", "database-")
    db_group = {
        value for port, value in egress if port == 3306 and follow(stacks, stack_name, value)[0] == database_stack
    }
    assert egress == {(443, "0.0.0.0/0"), (465, "0.0.0.0/0"), (3306, next(iter(db_group)))}
    lb_ingress = {
        (rule["from_port"], rule.get("cidr_ipv4") or rule.get("cidr_ipv6"))
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == lb_group
    }
    assert lb_ingress == {(443, "0.0.0.0/0"), (80, "0.0.0.0/0")}


def test_no_security_group_opens_anything_but_http_and_https_to_the_world(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    opened = 0
    for stack_name, stack in stacks.items():
        for name, rule in resources(stack, "aws_vpc_security_group_ingress_rule").items():
            if rule.get("cidr_ipv4") == "0.0.0.0/0" or "cidr_ipv6" in rule:
                assert (rule["from_port"], rule["to_port"]) in {(80, 80), (443, 443)}, f"{stack_name}/{name}"
                opened += 1
            assert rule["ip_protocol"] != "-1", f"{stack_name}/{name}"
        for name, group in resources(stack, "aws_security_group").items():
            assert "ingress" not in group and "egress" not in group, f"{stack_name}/{name} uses inline rules"  # noqa: PT018
    # 80 and 443 per API (its load balancer or its instance), IPv4 only (the VPCs have no IPv6), nothing else.
    assert opened == 2 * len(config.workloads)
