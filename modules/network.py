"""The environment's VPC: public and isolated subnets in each zone, no NAT unless asked."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from cdktf import TerraformLocal
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

# Subnets are /(vpc prefix + 4): 16 slots; each tier starts at its own block of four.
SUBNET_PREFIX_EXTRA = 4
TIER_OFFSETS = {"public": 0, "private": 4, "isolated": 8}


def subnet_cidrs(vpc_cidr: str, tier: str, zone_count: int) -> list[str]:
    """CIDRs of one tier's subnets, one per zone, from a fixed plan of the VPC range."""
    network = ipaddress.ip_network(vpc_cidr)
    slots = list(network.subnets(prefixlen_diff=SUBNET_PREFIX_EXTRA))
    start = TIER_OFFSETS[tier]
    if zone_count > 4:
        raise ValueError("the subnet plan has room for four zones per tier")
    return [str(slot) for slot in slots[start : start + zone_count]]


class Network(Construct):
    """VPC with DNS, an internet gateway, and per zone a public and an isolated subnet.

    - public: route to the internet gateway; the ALB, and the API tasks when there is no NAT.
    - isolated: no route out at all; the database.
    - private (only with `nat_gateway=True`, ~35 USD/month): route out through one NAT gateway.

    Subnets never map public IPs on launch: whatever needs one asks for it. The
    default security group is stripped of all rules.

    With `api_public_address=True` an Elastic IP for the API instance lives here
    (EC2 variant), so DNS can point at it before the instance exists.

    Exposes `vpc`, `public_subnets`, `private_subnets` (empty without NAT),
    `isolated_subnets`, `api_address` (or None), and per tier the list of subnet
    ids as one value (`public_subnet_ids`, ...): other stacks read a tier as a
    whole, so what this stack exports does not depend on how a consumer uses it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        cidr: str,
        availability_zones: Sequence[str],
        nat_gateway: bool,
        api_public_address: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
        )
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, ingress=[], egress=[])
        internet_gateway = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": name})

        public_routes = RouteTable(self, "public-routes", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"})
        Route(
            self,
            "public-default-route",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=internet_gateway.id,
        )
        self.public_subnets = self._tier("public", name, cidr, availability_zones, public_routes)

        isolated_routes = RouteTable(self, "isolated-routes", vpc_id=self.vpc.id, tags={"Name": f"{name}-isolated"})
        self.isolated_subnets = self._tier("isolated", name, cidr, availability_zones, isolated_routes)

        self.private_subnets: list[Subnet] = []
        if nat_gateway:
            address = Eip(self, "nat-address", domain="vpc", tags={"Name": f"{name}-nat"})
            nat = NatGateway(
                self,
                "nat-gateway",
                allocation_id=address.id,
                subnet_id=self.public_subnets[0].id,
                tags={"Name": name},
                depends_on=[internet_gateway],
            )
            private_routes = RouteTable(self, "private-routes", vpc_id=self.vpc.id, tags={"Name": f"{name}-private"})
            Route(
                self,
                "private-default-route",
                route_table_id=private_routes.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
            )
            self.private_subnets = self._tier("private", name, cidr, availability_zones, private_routes)

        self.public_subnet_ids = self._ids("public-subnet-ids", self.public_subnets)
        self.isolated_subnet_ids = self._ids("isolated-subnet-ids", self.isolated_subnets)
        self.private_subnet_ids = self._ids("private-subnet-ids", self.private_subnets) if nat_gateway else []
        # The API instance's address lives here, not in api-<env>: it outlives every replacement of the
        # instance and every destroy of api-<env>, so the A record of api.<domain> is set once, before the
        # first boot, and certbot never asks Let's Encrypt while DNS points at an address nobody holds.
        self.api_address = (
            Eip(self, "api-address", domain="vpc", tags={"Name": f"{name}-api"}) if api_public_address else None
        )

    def _ids(self, local_name: str, subnets: Sequence[Subnet]) -> list[str]:
        return TerraformLocal(self, local_name, [subnet.id for subnet in subnets]).as_list

    def _tier(
        self, tier: str, name: str, cidr: str, availability_zones: Sequence[str], routes: RouteTable
    ) -> list[Subnet]:
        subnets = []
        for index, (zone, subnet_cidr) in enumerate(
            zip(availability_zones, subnet_cidrs(cidr, tier, len(availability_zones)), strict=True)
        ):
            subnet = Subnet(
                self,
                f"{tier}-subnet-{index}",
                vpc_id=self.vpc.id,
                cidr_block=subnet_cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-{tier}-{zone}", "Tier": tier},
            )
            RouteTableAssociation(self, f"{tier}-routes-{index}", subnet_id=subnet.id, route_table_id=routes.id)
            subnets.append(subnet)
        return subnets
