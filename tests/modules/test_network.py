"""modules/network.py alone: subnet plan, routes per tier, NAT and the API's address only on request."""

from __future__ import annotations

import ipaddress

import pytest

from modules.network import Network, subnet_cidrs
from tests.modules.alone import Built, build, has_no_resource, has_resource
from tests.tf import Stack, only, ref, resources, subnets_by_tier

ZONES = ("eu-west-1a", "eu-west-1b")


def network(*, nat_gateway: bool = False, api_public_address: bool = False) -> Built[Network]:
    return build(
        lambda stack: Network(
            stack,
            "network",
            name="test-net",
            cidr="10.20.0.0/16",
            availability_zones=ZONES,
            nat_gateway=nat_gateway,
            api_public_address=api_public_address,
        )
    )


@pytest.fixture(scope="module")
def plain() -> Built[Network]:
    return network()


@pytest.fixture(scope="module")
def with_nat() -> Built[Network]:
    return network(nat_gateway=True, api_public_address=True)


def route_table_of(stack: Stack, subnet_name: str) -> str:
    (association,) = [
        body
        for body in resources(stack, "aws_route_table_association").values()
        if body["subnet_id"] == ref("aws_subnet", subnet_name, "id")
    ]
    return str(association["route_table_id"])


def test_subnet_plan_gives_each_tier_its_own_block_of_the_vpc() -> None:
    assert subnet_cidrs("10.20.0.0/16", "public", 2) == ["10.20.0.0/20", "10.20.16.0/20"]
    assert subnet_cidrs("10.20.0.0/16", "private", 2) == ["10.20.64.0/20", "10.20.80.0/20"]
    assert subnet_cidrs("10.20.0.0/16", "isolated", 3) == ["10.20.128.0/20", "10.20.144.0/20", "10.20.160.0/20"]
    with pytest.raises(ValueError, match="four zones"):
        subnet_cidrs("10.20.0.0/16", "public", 5)


def test_vpc_resolves_names_and_each_zone_has_a_public_and_an_isolated_subnet(plain: Built[Network]) -> None:
    assert has_resource(
        plain, "aws_vpc", {"cidr_block": "10.20.0.0/16", "enable_dns_support": True, "enable_dns_hostnames": True}
    )
    vpc_name, _ = only(resources(plain.stack, "aws_vpc"))
    tiers = subnets_by_tier(plain.stack)
    assert set(tiers) == {"public", "isolated"}
    for tier, subnets in tiers.items():
        assert sorted(subnet["availability_zone"] for subnet in subnets.values()) == sorted(ZONES), tier
        for subnet in subnets.values():
            assert subnet["vpc_id"] == ref("aws_vpc", vpc_name, "id")
            assert subnet["map_public_ip_on_launch"] is False
            assert ipaddress.IPv4Network(subnet["cidr_block"]).subnet_of(ipaddress.IPv4Network("10.20.0.0/16"))
    assert plain.construct.private_subnets == []
    assert plain.construct.api_address is None


def test_only_public_subnets_route_to_the_internet_and_there_is_no_nat(plain: Built[Network]) -> None:
    stack = plain.stack
    gateway_name, _ = only(resources(stack, "aws_internet_gateway"))
    tiers = subnets_by_tier(stack)
    public_tables = {route_table_of(stack, name) for name in tiers["public"]}
    isolated_tables = {route_table_of(stack, name) for name in tiers["isolated"]}
    assert len(public_tables) == 1
    assert public_tables.isdisjoint(isolated_tables)
    (route,) = resources(stack, "aws_route").values()
    assert route["route_table_id"] in public_tables
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["gateway_id"] == ref("aws_internet_gateway", gateway_name, "id")
    assert has_no_resource(plain, "aws_nat_gateway")
    assert has_no_resource(plain, "aws_eip")


def test_default_security_group_is_stripped_of_all_rules(plain: Built[Network]) -> None:
    vpc_name, _ = only(resources(plain.stack, "aws_vpc"))
    assert has_resource(
        plain, "aws_default_security_group", {"vpc_id": ref("aws_vpc", vpc_name, "id"), "ingress": [], "egress": []}
    )


def test_nat_opt_in_adds_private_subnets_routed_through_one_nat_gateway(with_nat: Built[Network]) -> None:
    stack = with_nat.stack
    tiers = subnets_by_tier(stack)
    assert set(tiers) == {"public", "private", "isolated"}
    nat_name, nat = only(resources(stack, "aws_nat_gateway"))
    assert nat["subnet_id"] in {ref("aws_subnet", name, "id") for name in tiers["public"]}
    (nat_address,) = [
        name for name, eip in resources(stack, "aws_eip").items() if eip["tags"]["Name"] == "test-net-nat"
    ]
    assert nat["allocation_id"] == ref("aws_eip", nat_address, "id")
    private_tables = {route_table_of(stack, name) for name in tiers["private"]}
    (private_route,) = [
        route for route in resources(stack, "aws_route").values() if route["route_table_id"] in private_tables
    ]
    assert private_route["nat_gateway_id"] == ref("aws_nat_gateway", nat_name, "id")
    assert private_route["destination_cidr_block"] == "0.0.0.0/0"
    assert len(with_nat.construct.private_subnets) == len(ZONES)


def test_api_address_is_an_elastic_ip_of_its_own(with_nat: Built[Network]) -> None:
    assert has_resource(with_nat, "aws_eip", {"domain": "vpc", "tags": {"Name": "test-net-api"}})
    assert with_nat.construct.api_address is not None
