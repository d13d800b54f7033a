"""modules/access/security_group.py alone: one TCP port to or from exactly one peer, IPv4, IPv6 or a group."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.security_group import SecurityGroup

from modules.access.security_group import ANYWHERE_IPV4, ANYWHERE_IPV6, allow_in, allow_out
from tests.modules.alone import Built, build, has_resource
from tests.tf import ref, resources


def rules(stack: TerraformStack) -> None:
    api = SecurityGroup(stack, "api", name="test-api", vpc_id="vpc-0123456789abcdef0")
    database = SecurityGroup(stack, "database", name="test-database", vpc_id="vpc-0123456789abcdef0")
    allow_in(
        stack,
        "database-from-api",
        security_group_id=database.id,
        port=3306,
        description="MySQL from the API",
        from_security_group_id=api.id,
    )
    allow_in(stack, "https-ipv4", security_group_id=api.id, port=443, description="HTTPS", cidr_ipv4=ANYWHERE_IPV4)
    allow_in(stack, "https-ipv6", security_group_id=api.id, port=443, description="HTTPS", cidr_ipv6=ANYWHERE_IPV6)
    allow_out(
        stack,
        "api-to-database",
        security_group_id=api.id,
        port=3306,
        description="MySQL to the database",
        to_security_group_id=database.id,
    )
    allow_out(stack, "out-ipv4", security_group_id=api.id, port=443, description="AWS APIs", cidr_ipv4="10.0.0.0/16")
    allow_out(stack, "out-ipv6", security_group_id=api.id, port=443, description="AWS APIs", cidr_ipv6="2001:db8::/56")


@pytest.fixture(scope="module")
def built() -> Built[None]:
    return build(rules)


def ingress(built: Built[None], rule_id: str) -> dict[str, Any]:
    return resources(built.stack, "aws_vpc_security_group_ingress_rule")[rule_id]


def egress(built: Built[None], rule_id: str) -> dict[str, Any]:
    return resources(built.stack, "aws_vpc_security_group_egress_rule")[rule_id]


API, DATABASE = ref("aws_security_group", "api", "id"), ref("aws_security_group", "database", "id")


def test_ingress_from_a_group_opens_one_tcp_port_to_that_group_only(built: Built[None]) -> None:
    assert ingress(built, "database-from-api") == {
        "security_group_id": DATABASE,
        "ip_protocol": "tcp",
        "from_port": 3306,
        "to_port": 3306,
        "description": "MySQL from the API",
        "referenced_security_group_id": API,
    }


def test_egress_to_a_group_opens_one_tcp_port_to_that_group_only(built: Built[None]) -> None:
    assert egress(built, "api-to-database") == {
        "security_group_id": API,
        "ip_protocol": "tcp",
        "from_port": 3306,
        "to_port": 3306,
        "description": "MySQL to the database",
        "referenced_security_group_id": DATABASE,
    }


def test_cidr_rules_name_one_address_family_each(built: Built[None]) -> None:
    assert ingress(built, "https-ipv4") == {
        "security_group_id": API,
        "ip_protocol": "tcp",
        "from_port": 443,
        "to_port": 443,
        "description": "HTTPS",
        "cidr_ipv4": "0.0.0.0/0",
    }
    assert has_resource(
        built,
        "aws_vpc_security_group_ingress_rule",
        {"security_group_id": API, "from_port": 443, "to_port": 443, "cidr_ipv6": "::/0"},
    )
    assert "cidr_ipv4" not in ingress(built, "https-ipv6")
    assert (egress(built, "out-ipv4")["cidr_ipv4"], egress(built, "out-ipv6")["cidr_ipv6"]) == (
        "10.0.0.0/16",
        "2001:db8::/56",
    )
    assert "cidr_ipv6" not in egress(built, "out-ipv4")
    assert "cidr_ipv4" not in egress(built, "out-ipv6")


def test_anywhere_means_every_address_of_each_family() -> None:
    assert ipaddress.ip_network(ANYWHERE_IPV4) == ipaddress.ip_network("0.0.0.0/0")
    assert ipaddress.ip_network(ANYWHERE_IPV6) == ipaddress.ip_network("::/0")


def rule(stack: TerraformStack, direction: str, peers: dict[str, str]) -> None:
    group, ipv4, ipv6 = peers.get("group"), peers.get("cidr_ipv4"), peers.get("cidr_ipv6")
    if direction == "in":
        allow_in(
            stack,
            "rule",
            security_group_id="sg-0bbb",
            port=443,
            description="x",
            from_security_group_id=group,
            cidr_ipv4=ipv4,
            cidr_ipv6=ipv6,
        )
    else:
        allow_out(
            stack,
            "rule",
            security_group_id="sg-0bbb",
            port=443,
            description="x",
            to_security_group_id=group,
            cidr_ipv4=ipv4,
            cidr_ipv6=ipv6,
        )


@pytest.mark.parametrize(
    "peers",
    [
        pytest.param({}, id="no-peer"),
        pytest.param({"group": "sg-0aaa", "cidr_ipv4": "10.0.0.0/16"}, id="group-and-ipv4"),
        pytest.param({"cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": "::/0"}, id="ipv4-and-ipv6"),
        pytest.param({"group": "sg-0aaa", "cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": "::/0"}, id="all-three"),
    ],
)
@pytest.mark.parametrize("direction", ["in", "out"])
def test_a_rule_names_exactly_one_peer(direction: str, peers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one peer"):
        build(lambda stack: rule(stack, direction, peers))
