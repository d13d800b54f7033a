"""network-<env>: each environment's network settings reach its VPC.

The construct's own behaviour (routes, NAT, default group) is tests/modules/test_network.py."""

from __future__ import annotations

import ipaddress

import pytest

from config.model import AppConfig
from tests.tf import Stack, only, ref, resources, subnets_by_tier


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
