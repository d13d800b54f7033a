"""modules/access/secrets.py alone: secrets with a recovery window, adoption by name, and the keys ECS reads."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack

from modules.access.secrets import SecretKey, adopt_secret, secret, secret_arns
from tests.modules.alone import ACCOUNT_ID, Built, build, has_data_source, has_resource
from tests.tf import data_ref, data_sources, named, ref

SECRET_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:littil/test/database-AbCdEf"
OTHER_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:littil/test/oidc-GhIjKl"


def secrets(stack: TerraformStack) -> None:
    """A new secret, one adopted from the account, and a key of the new one as ECS names it."""
    made = secret(stack, "made", name="littil/test/oidc", description="OIDC client settings")
    adopt_secret(secret(stack, "adopted", name="littil/test/smtp", description="SMTP credentials"))
    TerraformOutput(stack, "password-from", value=SecretKey(made.arn, "password").value_from)


@pytest.fixture(scope="module")
def built() -> Built[None]:
    return build(secrets)


def test_a_secret_uses_the_accounts_key_and_can_be_restored_for_seven_days(built: Built[None]) -> None:
    assert has_resource(
        built,
        "aws_secretsmanager_secret",
        {"name": "littil/test/oidc", "description": "OIDC client settings", "recovery_window_in_days": 7},
    )
    _, made = named(built.stack, "aws_secretsmanager_secret", "littil/test/oidc")
    assert "kms_key_id" not in made  # the account's aws/secretsmanager key
    assert "secret_string" not in made


def test_adopting_imports_the_existing_secret_found_by_its_name_and_nothing_else(built: Built[None]) -> None:
    adopted_id, adopted = named(built.stack, "aws_secretsmanager_secret", "littil/test/smtp")
    assert adopted["recovery_window_in_days"] == 7
    assert has_data_source(built, "aws_secretsmanager_secret", {"name": "littil/test/smtp"})
    (lookup_id,) = data_sources(built.stack, "aws_secretsmanager_secret")
    # Only the adopted secret is imported, by the ARN the lookup finds at plan time.
    assert built.stack["import"] == [
        {
            "id": data_ref("aws_secretsmanager_secret", lookup_id, "arn"),
            "to": f"aws_secretsmanager_secret.{adopted_id}",
        }
    ]
    # Terraform never writes the adopted value.
    assert "aws_secretsmanager_secret_version" not in built.stack["resource"]


def test_value_from_names_a_json_key_of_the_current_version_as_ecs_expects(built: Built[None]) -> None:
    assert SecretKey(SECRET_ARN, "password").value_from == f"{SECRET_ARN}:password::"
    made_id, _ = named(built.stack, "aws_secretsmanager_secret", "littil/test/oidc")
    assert built.stack["output"]["password-from"]["value"] == (
        ref("aws_secretsmanager_secret", made_id, "arn") + ":password::"
    )


def test_secret_arns_lists_each_secret_once_in_first_use_order() -> None:
    keys = {
        "DB_USER": SecretKey(SECRET_ARN, "username"),
        "OIDC_ID": SecretKey(OTHER_ARN, "client_id"),
        "DB_PASSWORD": SecretKey(SECRET_ARN, "password"),
        "OIDC_SECRET": SecretKey(OTHER_ARN, "client_secret"),
    }
    assert secret_arns(keys) == [SECRET_ARN, OTHER_ARN]
    assert secret_arns({}) == []
