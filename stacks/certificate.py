"""`certificate-<env>`: the ACM certificate for `api.<domain>`."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from config.model import WorkloadEnvironment
from modules.certificate import DnsValidatedCertificate
from stacks.base import LittilStack


class CertificateStack(LittilStack):
    def __init__(self, scope: Construct, *, env: WorkloadEnvironment) -> None:
        super().__init__(scope, component="certificate", env=env)
        self.certificate = DnsValidatedCertificate(
            self, "api-certificate", domain_name=env.api_domain, hosted_zone_id=env.route53_zone_id
        )
        TerraformOutput(self, "certificate-arn", value=self.certificate.certificate.arn)
        dns_note = "managed in Route53" if env.route53_zone_id else "create this record at your DNS provider"
        for key in ("name", "type", "value"):
            TerraformOutput(
                self,
                f"validation-record-{key}",
                value=getattr(self.certificate, f"validation_record_{key}"),
                description=f"ACM DNS validation record {key} ({dns_note})",
            )
