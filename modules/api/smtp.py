"""SES: a verified mail domain with DKIM, and SMTP credentials that may only send as it."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.iam_access_key import IamAccessKey
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.ses_domain_dkim import SesDomainDkim
from cdktf_cdktf_provider_aws.ses_domain_identity import SesDomainIdentity
from cdktf_cdktf_provider_aws.ses_domain_identity_verification import SesDomainIdentityVerification
from constructs import Construct

from modules.access.iam import PolicyUser, allow
from modules.access.secrets import SecretKey, secret

DKIM_TOKENS = 3  # SES Easy DKIM always issues three


class SesSmtp(Construct):
    """Domain identity for `mail_domain` with Easy DKIM, and SMTP credentials.

    The SMTP user may call `ses:SendRawEmail` (what SMTP uses) only on this
    identity. Its access key becomes SES SMTP credentials (the provider derives
    the SMTP password) in the secret `secret_name`: keys `smtpHost`,
    `smtpUsername`, `smtpPassword`.

    With `manage_credentials=False` the secret's value is left to operators (an
    adopted secret keeps what is in it): no SMTP user, key or secret version.

    With `hosted_zone_id` the verification TXT and DKIM CNAMEs are created in
    Route53; otherwise `dns_records` lists them for whoever runs DNS. Exposes
    `identity`, `secret`, `dns_records`, and the `SecretKey`s `host`,
    `username`, `password`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        mail_domain: str,
        region: str,
        user_name: str,
        policy_name: str,
        secret_name: str,
        hosted_zone_id: str | None = None,
        manage_credentials: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.identity = SesDomainIdentity(self, "identity", domain=mail_domain)
        dkim = SesDomainDkim(self, "dkim", domain=self.identity.domain)
        # (name, type, value) of every record the domain needs.
        self.dns_records: list[tuple[str, str, str]] = [
            (f"_amazonses.{mail_domain}", "TXT", self.identity.verification_token)
        ]
        for index in range(DKIM_TOKENS):
            token = Fn.element(dkim.dkim_tokens, index)
            self.dns_records.append((f"{token}._domainkey.{mail_domain}", "CNAME", f"{token}.dkim.amazonses.com"))
        if hosted_zone_id is not None:
            records = [
                Route53Record(
                    self, f"record-{index}", zone_id=hosted_zone_id, name=name, type=kind, records=[value], ttl=600
                )
                for index, (name, kind, value) in enumerate(self.dns_records)
            ]
            SesDomainIdentityVerification(self, "verification", domain=self.identity.domain, depends_on=[records[0]])

        self.secret = secret(self, "secret", name=secret_name, description=f"SES SMTP credentials for {mail_domain}")
        if manage_credentials:
            sender = PolicyUser(
                self,
                "sender",
                user_name=user_name,
                policy_name=policy_name,
                description=f"Send mail through SES SMTP as {mail_domain}",
                statements=[allow(["ses:SendRawEmail"], [self.identity.arn])],
            )
            key = IamAccessKey(self, "access-key", user=sender.user.name)
            SecretsmanagerSecretVersion(
                self,
                "secret-value",
                secret_id=self.secret.id,
                secret_string=Fn.jsonencode(
                    {
                        "smtpHost": f"email-smtp.{region}.amazonaws.com",
                        "smtpUsername": key.id,
                        "smtpPassword": key.ses_smtp_password_v4,
                    }
                ),
            )
        secret_arn = self.secret.arn  # one token, so readers see one ARN
        self.host = SecretKey(secret_arn, "smtpHost")
        self.username = SecretKey(secret_arn, "smtpUsername")
        self.password = SecretKey(secret_arn, "smtpPassword")
