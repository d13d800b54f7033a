"""Secrets Manager secrets with the project's defaults, and how a container reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret import DataAwsSecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct


def secret(scope: Construct, construct_id: str, *, name: str, description: str) -> SecretsmanagerSecret:
    """A secret encrypted with the account's Secrets Manager key; deletion can be undone for 7 days."""
    return SecretsmanagerSecret(scope, construct_id, name=name, description=description, recovery_window_in_days=7)


def adopt_secret(managed: SecretsmanagerSecret) -> None:
    """Import the secret of the same name that already exists, value untouched (Terraform never reads it).

    A secret is imported by ARN, whose last six characters AWS chose at creation, so the ARN is
    looked up by name at plan time.
    """
    name = managed.name_input
    assert name is not None
    existing = DataAwsSecretsmanagerSecret(managed, "existing", name=name)
    managed.import_from(existing.arn)


@dataclass(frozen=True)
class SecretKey:
    """One JSON key of a Secrets Manager secret."""

    secret_arn: str
    json_key: str

    @property
    def value_from(self) -> str:
        """ECS `secrets[].valueFrom` form: `<arn>:<json key>:<version stage>:<version id>`."""
        return f"{self.secret_arn}:{self.json_key}::"


def secret_arns(secrets: Mapping[str, SecretKey]) -> list[str]:
    """Each secret behind `secrets` once, in a stable order: what a reader must be allowed to read."""
    return list(dict.fromkeys(key.secret_arn for key in secrets.values()))
