"""network-<env>: public and isolated subnets per zone, internet gateway, NAT only on request."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from config.model import AppConfig
from tests.tf import Stack, only, ref, resources


def subnets_by_tier(stack: Stack) -> dict[str, dict[str, dict[str, Any]]]:
    tiers: dict[str, dict[str, dict[str, Any]]] = {}
    for name, subnet in resources(stack, "aws_subnet").items():
        tiers.setdefault(subnet["tags"]["Tier"], {})[name] = subnet
    return tiers


def route_table_of(stack: Stack, subnet_name: str) -> str:
    (association,) = [
        body
        for body in resources(stack, "aws_route_table_association").values()
        if body["subnet_id"] == ref("aws_subnet", subnet_name, "id")
    ]
    return str(association["route_table_id"])


@pytest.mark.parametrize("env_name", ["staging", "production"])
def test_vpc_has_public_and_isolated_subnets_in_each_configured_zone(
    stacks: dict[str, Stack], config: AppConfig, env_name: str
) -> None:
    env = config.workload(env_name)
    stack = stacks[f"network-{env_name}"]
    vpc_name, vpc = only(resources(stack, "aws_vpc"))
    assert vpc["cidr_block"] == env.network.vpc_cidr
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True

    tiers = subnets_by_tier(stack)
    assert set(tiers) == {"public", "isolated"}
    vpc_range = ipaddress.ip_network(env.network.vpc_cidr)
    ranges = []
    for tier, subnets in tiers.items():
        assert sorted(subnet["availability_zone"] for subnet in subnets.values()) == sorted(
            env.network.availability_zones
        )
        for subnet in subnets.values():
            assert subnet["vpc_id"] == ref("aws_vpc", vpc_name, "id")
            assert subnet["map_public_ip_on_launch"] is False, tier
            ranges.append(ipaddress.ip_network(str(subnet["cidr_block"])))
    assert all(subnet_range.subnet_of(vpc_range) for subnet_range in ranges)  # type: ignore[arg-type]
    assert not any(a.overlaps(b) for i, a in enumerate(ranges) for b in ranges[i + 1 :])


def test_only_public_subnets_route_to_the_internet_and_there_is_no_nat(stacks: dict[str, Stack]) -> None:
    stack = stacks["network-staging"]
    gateway_name, _ = only(resources(stack, "aws_internet_gateway"))
    routes = resources(stack, "aws_route")
    tiers = subnets_by_tier(stack)
    public_tables = {route_table_of(stack, name) for name in tiers["public"]}
    isolated_tables = {route_table_of(stack, name) for name in tiers["isolated"]}
    assert len(public_tables) == 1
    assert public_tables.isdisjoint(isolated_tables)
    (route,) = routes.values()
    assert route["route_table_id"] in public_tables
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["gateway_id"] == ref("aws_internet_gateway", gateway_name, "id")
    assert not resources(stack, "aws_nat_gateway")
    assert not resources(stack, "aws_eip")


def test_default_security_group_is_stripped_of_all_rules(stacks: dict[str, Stack]) -> None:
    for env_name in ("staging", "production"):
        stack = stacks[f"network-{env_name}"]
        vpc_name, _ = only(resources(stack, "aws_vpc"))
        _, default = only(resources(stack, "aws_default_security_group"))
        assert default["vpc_id"] == ref("aws_vpc", vpc_name, "id")
        assert default["ingress"] == []
        assert default["egress"] == []


def test_nat_opt_in_adds_private_subnets_routed_through_one_nat_gateway(opt_ins: dict[str, Stack]) -> None:
    stack = opt_ins["network-staging"]
    tiers = subnets_by_tier(stack)
    assert set(tiers) == {"public", "private", "isolated"}
    nat_name, nat = only(resources(stack, "aws_nat_gateway"))
    assert nat["subnet_id"] in {ref("aws_subnet", name, "id") for name in tiers["public"]}
    eip_name, _ = only(resources(stack, "aws_eip"))
    assert nat["allocation_id"] == ref("aws_eip", eip_name, "id")
    private_tables = {route_table_of(stack, name) for name in tiers["private"]}
    (private_route,) = [
        route for route in resources(stack, "aws_route").values() if route["route_table_id"] in private_tables
    ]
    assert private_route["nat_gateway_id"] == ref("aws_nat_gateway", nat_name, "id")
    assert private_route["destination_cidr_block"] == "0.0.0.0/0"
