"""A DNS-validated ACM certificate for one host name."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct


class DnsValidatedCertificate(Construct):
    """ACM certificate for `domain_name`, replaced create-before-destroy.

    With `hosted_zone_id` the validation record is managed in Route53 and
    `certificate_arn` only resolves once ACM has issued the certificate, so a
    listener never gets an unvalidated one. Without a zone whoever runs DNS
    creates `validation_record_*` by hand. Exposes `certificate`,
    `certificate_arn` and the validation record's `validation_record_name`,
    `validation_record_type` and `validation_record_value`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, domain_name: str, hosted_zone_id: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain_name,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        option = self.certificate.domain_validation_options.get(0)
        self.validation_record_name = option.resource_record_name
        self.validation_record_type = option.resource_record_type
        self.validation_record_value = option.resource_record_value
        self.certificate_arn = self.certificate.arn
        if hosted_zone_id is not None:
            record = Route53Record(
                self,
                "validation-record",
                zone_id=hosted_zone_id,
                name=self.validation_record_name,
                type=self.validation_record_type,
                records=[self.validation_record_value],
                ttl=300,
                allow_overwrite=True,
            )
            validation = AcmCertificateValidation(
                self, "validation", certificate_arn=self.certificate.arn, validation_record_fqdns=[record.fqdn]
            )
            self.certificate_arn = validation.certificate_arn
