"""modules/api/smtp.py alone: a DKIM-signed SES domain, its DNS records made or listed, send-only SMTP credentials."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack

from modules.api.smtp import SesSmtp
from tests.modules.alone import REGION, Built, build, has_no_resource, has_resource, in_group
from tests.tf import group_statements, named, only, ref, resources

MAIL_DOMAIN = "mail.test.littil.org"
USER = "LITTIL-NL-test-littil-api-SMTP-User"
POLICY = "LITTIL-NL-test-littil-api-ses-send"
SECRET_NAME = "littil/backend/test/smtp"
ZONE = "Z0123456789ABC"


def ses_smtp(*, hosted_zone_id: str | None, manage_credentials: bool) -> Built[SesSmtp]:
    def make(stack: TerraformStack) -> SesSmtp:
        smtp = SesSmtp(
            stack,
            "smtp",
            mail_domain=MAIL_DOMAIN,
            region=REGION,
            user_name=USER,
            policy_name=POLICY,
            secret_name=SECRET_NAME,
            hosted_zone_id=hosted_zone_id,
            manage_credentials=manage_credentials,
        )
        # What the construct exposes, resolved the way a stack's outputs resolve it.
        TerraformOutput(stack, "dns-records", value=[" ".join(record) for record in smtp.dns_records])
        keys = (smtp.host, smtp.username, smtp.password)
        TerraformOutput(stack, "secret-keys", value=[f"{key.secret_arn} {key.json_key}" for key in keys])
        return smtp

    return build(make)


@pytest.fixture(scope="module")
def managed() -> Built[SesSmtp]:
    """The defaults: credentials of our own, DNS run elsewhere."""
    return ses_smtp(hosted_zone_id=None, manage_credentials=True)


@pytest.fixture(scope="module")
def operated() -> Built[SesSmtp]:
    """The other side of both: a Route53 zone, and credentials left to operators (an adopted secret)."""
    return ses_smtp(hosted_zone_id=ZONE, manage_credentials=False)


def identity_id(built: Built[SesSmtp]) -> str:
    return only(resources(built.stack, "aws_ses_domain_identity"))[0]


def expected_records(built: Built[SesSmtp]) -> list[tuple[str, str, str]]:
    """The verification TXT and the three DKIM CNAMEs, as Terraform references."""
    dkim_id, _ = only(resources(built.stack, "aws_ses_domain_dkim"))
    tokens = [f"${{element(aws_ses_domain_dkim.{dkim_id}.dkim_tokens, {index})}}" for index in range(3)]
    return [
        (f"_amazonses.{MAIL_DOMAIN}", "TXT", ref("aws_ses_domain_identity", identity_id(built), "verification_token")),
        *[(f"{token}._domainkey.{MAIL_DOMAIN}", "CNAME", f"{token}.dkim.amazonses.com") for token in tokens],
    ]


def secret_arn(built: Built[SesSmtp]) -> str:
    secret_id, _ = named(built.stack, "aws_secretsmanager_secret", SECRET_NAME)
    return ref("aws_secretsmanager_secret", secret_id, "arn")


def test_the_mail_domain_is_an_identity_signed_with_easy_dkim(managed: Built[SesSmtp]) -> None:
    assert has_resource(managed, "aws_ses_domain_identity", {"domain": MAIL_DOMAIN})
    assert has_resource(
        managed, "aws_ses_domain_dkim", {"domain": ref("aws_ses_domain_identity", identity_id(managed), "domain")}
    )


def test_smtp_user_may_only_send_raw_email_as_the_identity(managed: Built[SesSmtp]) -> None:
    (statement,) = group_statements(managed.stack, POLICY)
    assert statement["effect"] == "Allow"
    assert statement["actions"] == ["ses:SendRawEmail"]
    assert statement["resources"] == [ref("aws_ses_domain_identity", identity_id(managed), "arn")]
    assert in_group(managed, user=USER, group=POLICY)


def test_the_secret_holds_smtp_credentials_derived_from_the_users_own_key(managed: Built[SesSmtp]) -> None:
    secret_id, _ = named(managed.stack, "aws_secretsmanager_secret", SECRET_NAME)
    assert has_resource(
        managed,
        "aws_secretsmanager_secret",
        {"name": SECRET_NAME, "recovery_window_in_days": 7, "description": f"SES SMTP credentials for {MAIL_DOMAIN}"},
    )
    user_id, _ = named(managed.stack, "aws_iam_user", USER)
    key_id, _ = only(resources(managed.stack, "aws_iam_access_key"))
    assert has_resource(managed, "aws_iam_access_key", {"user": ref("aws_iam_user", user_id, "name")})
    _, version = only(resources(managed.stack, "aws_secretsmanager_secret_version"))
    assert version["secret_id"] == ref("aws_secretsmanager_secret", secret_id, "id")
    # The SMTP password is the provider's derivation of the key's secret, never the secret itself.
    assert version["secret_string"] == (
        f'${{jsonencode({{"smtpHost" = "email-smtp.{REGION}.amazonaws.com", '
        f'"smtpUsername" = aws_iam_access_key.{key_id}.id, '
        f'"smtpPassword" = aws_iam_access_key.{key_id}.ses_smtp_password_v4}})}}'
    )


def test_the_secret_keys_name_the_one_secret_and_its_three_keys(
    managed: Built[SesSmtp], operated: Built[SesSmtp]
) -> None:
    for built in (managed, operated):
        assert built.stack["output"]["secret-keys"]["value"] == [
            f"{secret_arn(built)} smtpHost",
            f"{secret_arn(built)} smtpUsername",
            f"{secret_arn(built)} smtpPassword",
        ]


def test_without_a_hosted_zone_the_records_are_listed_for_whoever_runs_dns(managed: Built[SesSmtp]) -> None:
    assert managed.stack["output"]["dns-records"]["value"] == [" ".join(r) for r in expected_records(managed)]
    assert has_no_resource(managed, "aws_route53_record")
    assert has_no_resource(managed, "aws_ses_domain_identity_verification")


def test_with_a_hosted_zone_every_record_is_created_there_and_verification_waits_for_the_txt(
    operated: Built[SesSmtp],
) -> None:
    records = resources(operated.stack, "aws_route53_record")
    assert sorted((r["name"], r["type"], *r["records"]) for r in records.values()) == sorted(expected_records(operated))
    assert {(r["zone_id"], r["ttl"]) for r in records.values()} == {(ZONE, 600)}
    (txt_id,) = [name for name, r in records.items() if r["type"] == "TXT"]
    _, verification = only(resources(operated.stack, "aws_ses_domain_identity_verification"))
    assert verification["domain"] == ref("aws_ses_domain_identity", identity_id(operated), "domain")
    assert verification["depends_on"] == [f"aws_route53_record.{txt_id}"]
    # The records are listed as well (the stack outputs them either way).
    assert operated.stack["output"]["dns-records"]["value"] == [" ".join(r) for r in expected_records(operated)]


def test_unmanaged_credentials_leave_the_secrets_value_to_operators(operated: Built[SesSmtp]) -> None:
    assert has_resource(operated, "aws_secretsmanager_secret", {"name": SECRET_NAME})
    for kind in (
        "aws_secretsmanager_secret_version",
        "aws_iam_user",
        "aws_iam_access_key",
        "aws_iam_policy",
        "aws_iam_group",
    ):
        assert has_no_resource(operated, kind), kind
    # The identity and its DKIM stay: operators' credentials send through it.
    assert has_resource(operated, "aws_ses_domain_identity", {"domain": MAIL_DOMAIN})
