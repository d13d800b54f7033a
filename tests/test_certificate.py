"""certificate-<env>: a DNS-validated certificate for api.<domain>."""

from __future__ import annotations

import pytest

from config.model import AppConfig
from tests.tf import Stack, only, ref, resources


@pytest.mark.parametrize("env_name", ["staging", "production"])
def test_certificate_covers_the_api_host_and_is_replaced_before_destroyed(
    stacks: dict[str, Stack], config: AppConfig, env_name: str
) -> None:
    env = config.workload(env_name)
    stack = stacks[f"certificate-{env_name}"]
    _, certificate = only(resources(stack, "aws_acm_certificate"))
    assert certificate["domain_name"] == f"api.{env.domain}"
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"]["create_before_destroy"] is True
    assert "subject_alternative_names" not in certificate


def test_without_a_hosted_zone_the_validation_record_is_an_output(stacks: dict[str, Stack]) -> None:
    stack = stacks["certificate-staging"]
    name, _ = only(resources(stack, "aws_acm_certificate"))
    assert not resources(stack, "aws_route53_record")
    assert not resources(stack, "aws_acm_certificate_validation")
    options = f"tolist(aws_acm_certificate.{name}.domain_validation_options).0"
    for key in ("name", "type", "value"):
        assert stack["output"][f"validation-record-{key}"]["value"] == f"${{{options}.resource_record_{key}}}"


def test_with_a_hosted_zone_the_record_is_managed_and_consumers_wait_for_validation(
    opt_ins: dict[str, Stack],
) -> None:
    stack = opt_ins["certificate-staging"]
    certificate_name, _ = only(resources(stack, "aws_acm_certificate"))
    record_name, record = only(resources(stack, "aws_route53_record"))
    options = f"tolist(aws_acm_certificate.{certificate_name}.domain_validation_options).0"
    assert record["zone_id"] == "Z0123456789ABC"
    assert record["name"] == f"${{{options}.resource_record_name}}"
    assert record["records"] == [f"${{{options}.resource_record_value}}"]
    validation_name, validation = only(resources(stack, "aws_acm_certificate_validation"))
    assert validation["certificate_arn"] == ref("aws_acm_certificate", certificate_name, "arn")
    assert validation["validation_record_fqdns"] == [ref("aws_route53_record", record_name, "fqdn")]
    # What the API stack receives is the validated ARN, so its listener waits for issuance.
    exported = [output["value"] for output in stack["output"].values()]
    assert ref("aws_acm_certificate_validation", validation_name, "certificate_arn") in exported
