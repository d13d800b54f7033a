"""Security group rules as separate resources (never inline blocks), one port each."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

ANYWHERE_IPV4 = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"


def allow_in(
    scope: Construct,
    construct_id: str,
    *,
    security_group_id: str,
    port: int,
    description: str,
    from_security_group_id: str | None = None,
    cidr_ipv4: str | None = None,
    cidr_ipv6: str | None = None,
) -> VpcSecurityGroupIngressRule:
    """TCP `port` into `security_group_id` from exactly one source."""
    _check_one_peer(from_security_group_id, cidr_ipv4, cidr_ipv6)
    return VpcSecurityGroupIngressRule(
        scope,
        construct_id,
        security_group_id=security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        referenced_security_group_id=from_security_group_id,
        cidr_ipv4=cidr_ipv4,
        cidr_ipv6=cidr_ipv6,
    )


def allow_out(
    scope: Construct,
    construct_id: str,
    *,
    security_group_id: str,
    port: int,
    description: str,
    to_security_group_id: str | None = None,
    cidr_ipv4: str | None = None,
    cidr_ipv6: str | None = None,
) -> VpcSecurityGroupEgressRule:
    """TCP `port` out of `security_group_id` to exactly one destination."""
    _check_one_peer(to_security_group_id, cidr_ipv4, cidr_ipv6)
    return VpcSecurityGroupEgressRule(
        scope,
        construct_id,
        security_group_id=security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        referenced_security_group_id=to_security_group_id,
        cidr_ipv4=cidr_ipv4,
        cidr_ipv6=cidr_ipv6,
    )


def _check_one_peer(*peers: str | None) -> None:
    if sum(peer is not None for peer in peers) != 1:
        raise ValueError("a rule names exactly one peer: a security group, an IPv4 CIDR or an IPv6 CIDR")
