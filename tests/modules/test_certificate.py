"""modules/certificate.py alone: a DNS-validated certificate, validated in Route53 only when given a zone."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack

from modules.certificate import DnsValidatedCertificate
from tests.modules.alone import Built, build, has_no_resource, has_resource
from tests.tf import Stack, only, ref, resources

DOMAIN = "api.example.org"
ZONE = "Z0123456789ABC"


def certificate(hosted_zone_id: str | None) -> Built[DnsValidatedCertificate]:
    def make(stack: TerraformStack) -> DnsValidatedCertificate:
        made = DnsValidatedCertificate(stack, "certificate", domain_name=DOMAIN, hosted_zone_id=hosted_zone_id)
        # What the construct hands its users, made visible in the synthesized JSON.
        TerraformOutput(stack, "certificate-arn", value=made.certificate_arn)
        for key in ("name", "type", "value"):
            TerraformOutput(stack, f"validation-record-{key}", value=getattr(made, f"validation_record_{key}"))
        return made

    return build(make)


@pytest.fixture(scope="module")
def without_zone() -> Built[DnsValidatedCertificate]:
    return certificate(None)


@pytest.fixture(scope="module")
def with_zone() -> Built[DnsValidatedCertificate]:
    return certificate(ZONE)


def validation_option(stack: Stack, key: str) -> str:
    """The expression of the certificate's first DNS validation option's `resource_record_<key>`."""
    name, _ = only(resources(stack, "aws_acm_certificate"))
    return f"${{tolist(aws_acm_certificate.{name}.domain_validation_options).0.resource_record_{key}}}"


@pytest.mark.parametrize("variant", ["without_zone", "with_zone"])
def test_certificate_covers_exactly_the_host_and_is_replaced_before_destroyed(
    request: pytest.FixtureRequest, variant: str
) -> None:
    built: Built[DnsValidatedCertificate] = request.getfixturevalue(variant)
    _, body = only(resources(built.stack, "aws_acm_certificate"))
    assert (body["domain_name"], body["validation_method"], body["key_algorithm"]) == (DOMAIN, "DNS", "RSA_2048")
    assert body["lifecycle"] == {"create_before_destroy": True}
    assert "subject_alternative_names" not in body


def test_without_a_zone_the_validation_record_is_handed_out_for_whoever_runs_dns(
    without_zone: Built[DnsValidatedCertificate],
) -> None:
    assert has_no_resource(without_zone, "aws_route53_record")
    assert has_no_resource(without_zone, "aws_acm_certificate_validation")
    for key in ("name", "type", "value"):
        assert without_zone.stack["output"][f"validation-record-{key}"]["value"] == validation_option(
            without_zone.stack, key
        )


def test_without_a_zone_users_get_the_certificate_itself(without_zone: Built[DnsValidatedCertificate]) -> None:
    name, _ = only(resources(without_zone.stack, "aws_acm_certificate"))
    assert without_zone.stack["output"]["certificate-arn"]["value"] == ref("aws_acm_certificate", name, "arn")


def test_with_a_zone_the_validation_record_is_managed_in_it(with_zone: Built[DnsValidatedCertificate]) -> None:
    stack = with_zone.stack
    assert has_resource(
        with_zone,
        "aws_route53_record",
        {
            "zone_id": ZONE,
            "name": validation_option(stack, "name"),
            "type": validation_option(stack, "type"),
            "records": [validation_option(stack, "value")],
            "ttl": 300,
            # A record left by an earlier certificate for the same name is taken over, not a failed apply.
            "allow_overwrite": True,
        },
    )
    # The record's details stay available as well.
    for key in ("name", "type", "value"):
        assert stack["output"][f"validation-record-{key}"]["value"] == validation_option(stack, key)


def test_with_a_zone_users_wait_for_the_certificate_to_be_issued(with_zone: Built[DnsValidatedCertificate]) -> None:
    stack = with_zone.stack
    certificate_name, _ = only(resources(stack, "aws_acm_certificate"))
    record_name, _ = only(resources(stack, "aws_route53_record"))
    validation_name, validation = only(resources(stack, "aws_acm_certificate_validation"))
    assert validation["certificate_arn"] == ref("aws_acm_certificate", certificate_name, "arn")
    assert validation["validation_record_fqdns"] == [ref("aws_route53_record", record_name, "fqdn")]
    # The exposed ARN resolves only once ACM has issued it: a listener never gets an unvalidated one.
    assert stack["output"]["certificate-arn"]["value"] == ref(
        "aws_acm_certificate_validation", validation_name, "certificate_arn"
    )
