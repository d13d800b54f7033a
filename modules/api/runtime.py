"""What the LITTIL API process reads from its environment, whatever runs it (ECS or EC2).

Names and JSON keys are the application's contract: change them only with the application.
"""

from __future__ import annotations

from dataclasses import dataclass

from modules.access.secrets import SecretKey

CONTAINER_PORT = 8080
# Where the API must reach on the internet, whatever runs it: HTTPS (the OIDC provider, Nominatim,
# ECR, AWS APIs; on EC2 also packages and Let's Encrypt) and SES SMTP over TLS.
INTERNET_EGRESS_PORTS = {443: "HTTPS: OIDC provider, Nominatim, ECR, AWS APIs", 465: "SES SMTP over TLS"}
HEALTH_CHECK_PATH = "/q/health/ready"
# Secret names of values people provide (created empty; operators put the value).
OIDC_SECRET_KEYS = {
    "OIDC_CLIENT_ID": "oidcClientId",
    "OIDC_CLIENT_SECRET": "oidcClientSecret",
    "OIDC_TENANT": "oidcTenant",
    "M2M_CLIENT_ID": "m2mClientId",
    "M2M_CLIENT_SECRET": "m2mClientSecret",
}


def jdbc_url(host: str, port: str, database: str, *, require_tls: bool) -> str:
    """The URL the application builds itself is `jdbc:mariadb://host:port/db` (no TLS).

    With TLS enforced by the server, Connector/J must ask for it: `sslMode=trust`
    encrypts the connection without needing the RDS CA bundle in the image.
    """
    url = f"jdbc:mariadb://{host}:{port}/{database}"
    return f"{url}?sslMode=trust" if require_tls else url


@dataclass(frozen=True)
class ApiRuntime:
    """Plain settings and secret references for the API process."""

    environment: dict[str, str]
    secrets: dict[str, SecretKey]


def api_runtime(
    *,
    database_host: str,
    database_port: str,
    database_name: str,
    database_secret_arn: str,
    require_database_tls: bool,
    cors_origin: str,
    mail_from: str,
    log_group_name: str,
    log_stream_name: str,
    region: str,
    oidc_secret_arn: str,
    smtp: tuple[SecretKey, SecretKey, SecretKey],
    log_writer: tuple[SecretKey, SecretKey],
) -> ApiRuntime:
    environment = {
        "DATASOURCE_HOST": database_host,
        "DATASOURCE_PORT": database_port,
        "DATASOURCE_DATABASE": database_name,
        "HTTP_CORS_ORIGINS": cors_origin,
        "QUARKUS_HTTP_CORS_ORIGINS": cors_origin,
        "QUARKUS_LOG_CLOUDWATCH_LOG_GROUP": log_group_name,
        "QUARKUS_LOG_CLOUDWATCH_REGION": region,
        "QUARKUS_LOG_CLOUDWATCH_LOG_STREAM_NAME": log_stream_name,
        "QUARKUS_MAILER_FROM": mail_from,
    }
    if require_database_tls:
        environment["_PROD_QUARKUS_DATASOURCE_JDBC_URL"] = jdbc_url(
            database_host, database_port, database_name, require_tls=True
        )
    smtp_host, smtp_username, smtp_password = smtp
    access_key_id, secret_access_key = log_writer
    secrets = {
        "DATASOURCE_USERNAME": SecretKey(database_secret_arn, "username"),
        "DATASOURCE_PASSWORD": SecretKey(database_secret_arn, "password"),
        **{variable: SecretKey(oidc_secret_arn, key) for variable, key in OIDC_SECRET_KEYS.items()},
        "SMTP_HOST": smtp_host,
        "SMTP_USERNAME": smtp_username,
        "SMTP_PASSWORD": smtp_password,
        "QUARKUS_LOG_CLOUDWATCH_ACCESS_KEY_ID": access_key_id,
        "QUARKUS_LOG_CLOUDWATCH_ACCESS_KEY_SECRET": secret_access_key,
    }
    return ApiRuntime(environment=environment, secrets=secrets)
