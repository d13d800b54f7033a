"""modules/api/runtime.py alone: the API process's environment and secrets, the JDBC URL with and without TLS."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack, Token
from cdktf_cdktf_provider_aws.db_instance import DbInstance

from modules.access.secrets import SecretKey
from modules.api.runtime import OIDC_SECRET_KEYS, ApiRuntime, api_runtime, jdbc_url
from tests.modules.alone import Built, build
from tests.tf import only, ref, resources

DATABASE_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0123-AbCdEf"
OIDC_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:littil/backend/staging/oidc-AbCdEf"
SMTP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:littil/backend/staging/smtp-AbCdEf"
LOGS_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:littil/backend/staging/cloudwatch-AbCdEf"
SMTP = (
    SecretKey(SMTP_SECRET, "smtpHost"),
    SecretKey(SMTP_SECRET, "smtpUsername"),
    SecretKey(SMTP_SECRET, "smtpPassword"),
)
LOG_WRITER = (SecretKey(LOGS_SECRET, "accessKeyId"), SecretKey(LOGS_SECRET, "secretAccessKey"))


def runtime(*, require_database_tls: bool) -> ApiRuntime:
    return api_runtime(
        database_host="littil-staging.abc123.eu-west-1.rds.amazonaws.com",
        database_port="3306",
        database_name="littil",
        database_secret_arn=DATABASE_SECRET,
        require_database_tls=require_database_tls,
        cors_origin="https://staging.littil.org",
        mail_from="no-reply@mail.staging.littil.org",
        log_group_name="LITTILBackendApiEcsLogs-staging",
        log_stream_name="littil-backend-staging",
        region="eu-west-1",
        oidc_secret_arn=OIDC_SECRET,
        smtp=SMTP,
        log_writer=LOG_WRITER,
    )


@pytest.fixture(scope="module")
def plain() -> ApiRuntime:
    return runtime(require_database_tls=False)


@pytest.fixture(scope="module")
def with_tls() -> ApiRuntime:
    return runtime(require_database_tls=True)


def test_jdbc_url_asks_the_driver_for_tls_only_when_the_server_enforces_it() -> None:
    assert jdbc_url("db.example", "3306", "littil", require_tls=False) == "jdbc:mariadb://db.example:3306/littil"
    assert (
        jdbc_url("db.example", "3307", "littil", require_tls=True)
        == "jdbc:mariadb://db.example:3307/littil?sslMode=trust"
    )


def test_environment_carries_the_plain_settings_under_the_names_the_application_reads(plain: ApiRuntime) -> None:
    assert plain.environment == {
        "DATASOURCE_HOST": "littil-staging.abc123.eu-west-1.rds.amazonaws.com",
        "DATASOURCE_PORT": "3306",
        "DATASOURCE_DATABASE": "littil",
        "HTTP_CORS_ORIGINS": "https://staging.littil.org",
        "QUARKUS_HTTP_CORS_ORIGINS": "https://staging.littil.org",
        "QUARKUS_LOG_CLOUDWATCH_LOG_GROUP": "LITTILBackendApiEcsLogs-staging",
        "QUARKUS_LOG_CLOUDWATCH_REGION": "eu-west-1",
        "QUARKUS_LOG_CLOUDWATCH_LOG_STREAM_NAME": "littil-backend-staging",
        "QUARKUS_MAILER_FROM": "no-reply@mail.staging.littil.org",
    }


def test_enforced_database_tls_overrides_the_production_jdbc_url_and_changes_nothing_else(
    plain: ApiRuntime, with_tls: ApiRuntime
) -> None:
    added = {key: value for key, value in with_tls.environment.items() if key not in plain.environment}
    assert added == {
        "_PROD_QUARKUS_DATASOURCE_JDBC_URL": (
            "jdbc:mariadb://littil-staging.abc123.eu-west-1.rds.amazonaws.com:3306/littil?sslMode=trust"
        )
    }
    assert {key: with_tls.environment[key] for key in plain.environment} == plain.environment
    assert with_tls.secrets == plain.secrets


def test_secrets_name_the_secret_and_json_key_each_variable_is_read_from(plain: ApiRuntime) -> None:
    assert plain.secrets == {
        "DATASOURCE_USERNAME": SecretKey(DATABASE_SECRET, "username"),
        "DATASOURCE_PASSWORD": SecretKey(DATABASE_SECRET, "password"),
        "OIDC_CLIENT_ID": SecretKey(OIDC_SECRET, "oidcClientId"),
        "OIDC_CLIENT_SECRET": SecretKey(OIDC_SECRET, "oidcClientSecret"),
        "OIDC_TENANT": SecretKey(OIDC_SECRET, "oidcTenant"),
        "M2M_CLIENT_ID": SecretKey(OIDC_SECRET, "m2mClientId"),
        "M2M_CLIENT_SECRET": SecretKey(OIDC_SECRET, "m2mClientSecret"),
        "SMTP_HOST": SMTP[0],
        "SMTP_USERNAME": SMTP[1],
        "SMTP_PASSWORD": SMTP[2],
        "QUARKUS_LOG_CLOUDWATCH_ACCESS_KEY_ID": LOG_WRITER[0],
        "QUARKUS_LOG_CLOUDWATCH_ACCESS_KEY_SECRET": LOG_WRITER[1],
    }
    # The OIDC secret's keys are the ones its description tells operators to fill.
    assert {plain.secrets[variable].json_key for variable in OIDC_SECRET_KEYS} == set(OIDC_SECRET_KEYS.values())


def test_no_variable_is_both_a_plain_setting_and_a_secret(plain: ApiRuntime, with_tls: ApiRuntime) -> None:
    for variant in (plain, with_tls):
        assert not set(variant.environment) & set(variant.secrets)
        # Only references to secrets travel: no secret ARN is ever a plain value.
        assert not {value for value in variant.environment.values() if value.startswith("arn:")}


def test_jdbc_url_keeps_the_database_address_and_port_as_terraform_references() -> None:
    """In a stack the host and port are attributes known at apply time: the URL must interpolate them."""

    def make(stack: TerraformStack) -> DbInstance:
        database = DbInstance(stack, "database", instance_class="db.t4g.micro")
        TerraformOutput(
            stack,
            "jdbc-url",
            value=jdbc_url(database.address, Token.as_string(database.port), "littil", require_tls=True),
        )
        return database

    built: Built[DbInstance] = build(make)
    database_id, _ = only(resources(built.stack, "aws_db_instance"))
    assert built.stack["output"]["jdbc-url"]["value"] == (
        f"jdbc:mariadb://{ref('aws_db_instance', database_id, 'address')}:"
        f"{ref('aws_db_instance', database_id, 'port')}/littil?sslMode=trust"
    )
