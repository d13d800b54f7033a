"""`network-<env>`: the VPC every other stack of the environment lives in."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from config.model import WorkloadEnvironment
from modules.network import Network
from stacks.base import LittilStack


class NetworkStack(LittilStack):
    def __init__(self, scope: Construct, *, env: WorkloadEnvironment, api_public_address: bool) -> None:
        super().__init__(scope, component="network", env=env)
        self.network = Network(
            self,
            "network",
            name=self.physical_name("vpc"),
            cidr=env.network.vpc_cidr,
            availability_zones=env.network.availability_zones,
            nat_gateway=env.network.nat_gateway,
            api_public_address=api_public_address,
        )
        if self.network.api_address is not None:
            TerraformOutput(
                self,
                "api-public-ip",
                value=self.network.api_address.public_ip,
                description=f"Point {env.api_domain} (A record) here before the API instance first boots",
            )
