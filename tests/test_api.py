"""api-<env> (ECS variant): what runs and what it reads (image, settings, secrets, mail)."""

from __future__ import annotations

import re

import pytest

from config.model import AppConfig
from modules.access.aws_actions import ECR_PULL_ACTIONS
from tests.conftest import EcsApi, env_named
from tests.tf import (
    Stack,
    container_definition,
    data_ref,
    data_sources,
    follow,
    group_statements,
    named,
    only,
    ref,
    resources,
    role_statements,
)

ENVIRONMENT = {
    "DATASOURCE_HOST",
    "DATASOURCE_PORT",
    "DATASOURCE_DATABASE",
    "HTTP_CORS_ORIGINS",
    "QUARKUS_HTTP_CORS_ORIGINS",
    "QUARKUS_LOG_CLOUDWATCH_LOG_GROUP",
    "QUARKUS_LOG_CLOUDWATCH_REGION",
    "QUARKUS_LOG_CLOUDWATCH_LOG_STREAM_NAME",
    "QUARKUS_MAILER_FROM",
}
# ECS secret -> (secret, JSON key) as the application reads them.
SECRETS = {
    "DATASOURCE_USERNAME": ("database", "username"),
    "DATASOURCE_PASSWORD": ("database", "password"),
    "OIDC_CLIENT_ID": ("oidc", "oidcClientId"),
    "OIDC_CLIENT_SECRET": ("oidc", "oidcClientSecret"),
    "OIDC_TENANT": ("oidc", "oidcTenant"),
    "M2M_CLIENT_ID": ("oidc", "m2mClientId"),
    "M2M_CLIENT_SECRET": ("oidc", "m2mClientSecret"),
    "SMTP_HOST": ("smtp", "smtpHost"),
    "SMTP_USERNAME": ("smtp", "smtpUsername"),
    "SMTP_PASSWORD": ("smtp", "smtpPassword"),
    "QUARKUS_LOG_CLOUDWATCH_ACCESS_KEY_ID": ("cloudwatch", "accessKeyId"),
    "QUARKUS_LOG_CLOUDWATCH_ACCESS_KEY_SECRET": ("cloudwatch", "secretAccessKey"),
}


def access_key_of(stack: Stack, user_id: str) -> str:
    """Logical id of the one access key of a user."""
    keys = resources(stack, "aws_iam_access_key").items()
    return only({key: body for key, body in keys if body["user"] == ref("aws_iam_user", user_id, "name")})[0]


def secret_value_of(stack: Stack, secret_name: str) -> str:
    """The `secret_string` Terraform writes into the secret named `secret_name`."""
    secret_id, _ = named(stack, "aws_secretsmanager_secret", secret_name)
    versions = resources(stack, "aws_secretsmanager_secret_version").items()
    return str(
        only({k: v for k, v in versions if v["secret_id"] == ref("aws_secretsmanager_secret", secret_id, "id")})[1][
            "secret_string"
        ]
    )


def secret_arn_of(stack: Stack, secret_name: str) -> str:
    return ref("aws_secretsmanager_secret", named(stack, "aws_secretsmanager_secret", secret_name)[0], "arn")


def test_container_web_runs_the_configured_image_on_8080_with_configured_size(
    config: AppConfig, ecs_api: EcsApi
) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    web = container_definition(stack)
    assert web["name"] == "web"
    assert web["image"] == f"680278545709.dkr.ecr.eu-west-1.amazonaws.com/littil-backend:{env.api.image_tag}"
    assert web["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    (task,) = resources(stack, "aws_ecs_task_definition").values()
    assert (task["cpu"], task["memory"]) == (str(env.api.ecs.cpu), str(env.api.ecs.memory_mib))
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    log_group_name, _ = named(stack, "aws_cloudwatch_log_group", f"LITTILBackendApiEcsLogs-{env.name}")
    assert web["logConfiguration"]["logDriver"] == "awslogs"
    assert web["logConfiguration"]["options"]["awslogs-group"] == ref(
        "aws_cloudwatch_log_group", log_group_name, "name"
    )


def test_environment_carries_settings_and_no_secrets(config: AppConfig, ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    environment = {item["name"]: item["value"] for item in container_definition(stack)["environment"]}
    assert set(environment) == ENVIRONMENT
    assert not set(environment) & set(SECRETS)
    database_stack = f"database-{env.name}"
    db_name, _ = only(resources(stacks[database_stack], "aws_db_instance"))
    assert follow(stacks, stack_name, environment["DATASOURCE_HOST"]) == (
        database_stack,
        ref("aws_db_instance", db_name, "address"),
    )
    assert follow(stacks, stack_name, environment["DATASOURCE_PORT"]) == (
        database_stack,
        ref("aws_db_instance", db_name, "port"),
    )
    assert environment["DATASOURCE_DATABASE"] == env.database.name
    assert environment["HTTP_CORS_ORIGINS"] == environment["QUARKUS_HTTP_CORS_ORIGINS"] == env.cors_origin
    assert environment["QUARKUS_LOG_CLOUDWATCH_REGION"] == env.region
    assert environment["QUARKUS_MAILER_FROM"] == f"no-reply@mail.{env.domain}"


def test_secrets_come_from_the_right_secret_and_json_key(config: AppConfig, ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    secrets = {item["name"]: item["valueFrom"] for item in container_definition(stack)["secrets"]}
    assert set(secrets) == set(SECRETS)
    database_stack = f"database-{env.name}"
    db_name, _ = only(resources(stacks[database_stack], "aws_db_instance"))
    arns = {
        "oidc": secret_arn_of(stack, f"littil/backend/{env.name}/oidc"),
        "smtp": secret_arn_of(stack, f"littil/backend/{env.name}/smtp"),
        "cloudwatch": secret_arn_of(stack, f"littil/backend/{env.name}/cloudwatch"),
    }
    for variable, (secret, key) in SECRETS.items():
        arn, json_key, version_stage, version_id = secrets[variable].rsplit(":", 3)
        assert (json_key, version_stage, version_id) == (key, "", ""), variable
        if secret == "database":
            assert follow(stacks, stack_name, arn) == (
                database_stack,
                f"${{aws_db_instance.{db_name}.master_user_secret[0].secret_arn}}",
            )
        else:
            assert arn == arns[secret], variable


def test_execution_role_reads_exactly_the_task_secrets_and_pulls_exactly_the_api_image(
    config: AppConfig, ecs_api: EcsApi
) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    (task,) = resources(stack, "aws_ecs_task_definition").values()
    role_name = f"LITTIL-NL-{env.name}-littil-api-execution"
    assert task["execution_role_arn"] == ref("aws_iam_role", named(stack, "aws_iam_role", role_name)[0], "arn")
    statements = {statement["sid"]: statement for statement in role_statements(stack, role_name)}
    assert set(statements) == {"RegistryLogin", "PullImage", "WriteContainerLogs", "ReadSecrets"}
    read_by_task = {item["valueFrom"].rsplit(":", 3)[0] for item in container_definition(stack)["secrets"]}
    assert statements["ReadSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert sorted(statements["ReadSecrets"]["resources"]) == sorted(read_by_task)
    assert statements["PullImage"]["resources"] == ["arn:aws:ecr:eu-west-1:680278545709:repository/littil-backend"]
    assert sorted(statements["PullImage"]["actions"]) == sorted(ECR_PULL_ACTIONS)
    assert statements["RegistryLogin"] == {
        "sid": "RegistryLogin",
        "effect": "Allow",
        "actions": ["ecr:GetAuthorizationToken"],
        "resources": ["*"],
    }
    log_group_name, _ = named(stack, "aws_cloudwatch_log_group", f"LITTILBackendApiEcsLogs-{env.name}")
    assert statements["WriteContainerLogs"]["resources"] == [f"${{aws_cloudwatch_log_group.{log_group_name}.arn}}:*"]


def test_no_other_principal_may_read_the_api_secrets(stacks: dict[str, Stack]) -> None:
    for stack_name in ("api-staging", "api-production"):
        stack = stacks[stack_name]
        readers = [
            document
            for document, body in stack["data"]["aws_iam_policy_document"].items()
            for statement in body["statement"]
            if any(action.startswith("secretsmanager:") for action in statement.get("actions", []))
        ]
        # One document for the API's runtime (on EC2 it also keeps the certificate store: its own statement).
        runtime = {r for r in readers if "execution-role" in r or r.startswith("instance_role")}
        assert len(runtime) == 1, readers
        # Besides the API itself only CI's read-only plan role, and only for secrets whose value Terraform
        # wrote: that value is in the state the role reads anyway (a refresh reads the version back).
        assert set(readers) - set(runtime) == {"plan-role_document_6823B5FE"}, readers
        (plan,) = [
            s
            for s in stack["data"]["aws_iam_policy_document"]["plan-role_document_6823B5FE"]["statement"]
            if s["sid"] == "ReadSecretsInState"
        ]
        versions = {body["secret_id"] for body in resources(stack, "aws_secretsmanager_secret_version").values()}
        assert plan["actions"] == ["secretsmanager:GetSecretValue"]
        assert plan["resources"], stack_name
        assert {arn.replace(".arn}", ".id}") for arn in plan["resources"]} <= versions, stack_name


def test_log_writer_key_reaches_the_task_only_through_its_secret(config: AppConfig, ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    group_name, group = named(stack, "aws_cloudwatch_log_group", f"LITTILBackendApiEcsLogs-{env.name}")
    assert group["retention_in_days"] == env.api.log_retention_days
    (statement,) = group_statements(stack, f"LITTIL-NL-{env.name}-littil-api-cloudwatch-logs")
    arn = ref("aws_cloudwatch_log_group", group_name, "arn")
    assert statement["resources"] == [arn, f"{arn}:*"]
    assert sorted(statement["actions"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    user_id, _ = named(stack, "aws_iam_user", f"LITTIL-NL-{env.name}-littil-api-CloudWatch-User")
    key_id = access_key_of(stack, user_id)
    assert secret_value_of(stack, f"littil/backend/{env.name}/cloudwatch") == (
        f'${{jsonencode({{"accessKeyId" = aws_iam_access_key.{key_id}.id, '
        f'"secretAccessKey" = aws_iam_access_key.{key_id}.secret}})}}'
    )


def test_smtp_credentials_may_only_send_as_the_mail_domain(config: AppConfig, toggled: dict[str, Stack]) -> None:
    # A new environment (production as ECS, nothing adopted): SES SMTP credentials of its own.
    env = config.workload("production")
    stack = toggled["api-production"]
    assert "import" not in stack
    identity_id, identity = only(resources(stack, "aws_ses_domain_identity"))
    assert identity["domain"] == f"mail.{env.domain}"
    _, dkim = only(resources(stack, "aws_ses_domain_dkim"))
    assert dkim["domain"] == ref("aws_ses_domain_identity", identity_id, "domain")
    (statement,) = group_statements(stack, f"LITTIL-NL-{env.name}-littil-api-ses-send")
    assert statement["actions"] == ["ses:SendRawEmail"]
    assert statement["resources"] == [ref("aws_ses_domain_identity", identity_id, "arn")]
    user_id, _ = named(stack, "aws_iam_user", f"LITTIL-NL-{env.name}-littil-api-SMTP-User")
    key_id = access_key_of(stack, user_id)
    assert secret_value_of(stack, f"littil/backend/{env.name}/smtp") == (
        f'${{jsonencode({{"smtpHost" = "email-smtp.{env.region}.amazonaws.com", '
        f'"smtpUsername" = aws_iam_access_key.{key_id}.id, '
        f'"smtpPassword" = aws_iam_access_key.{key_id}.ses_smtp_password_v4}})}}'
    )
    # Without a hosted zone the four records are outputs for whoever runs DNS.
    assert not resources(stack, "aws_route53_record")
    records = stack["output"]["mail-dns-records"]["value"]
    assert (
        records[0] == f"_amazonses.mail.{env.domain} TXT ${{aws_ses_domain_identity.{identity_id}.verification_token}}"
    )
    assert len(records) == 4
    assert all(re.search(r"\._domainkey\.mail\.", record) and " CNAME " in record for record in records[1:])


@pytest.mark.parametrize("stack_name", ["api-staging", "api-production"])
def test_adopted_secrets_are_imported_by_their_exact_name_and_never_written(
    config: AppConfig, stacks: dict[str, Stack], stack_name: str
) -> None:
    env = env_named(config, stack_name)
    assert env.adopt_legacy
    stack = stacks[stack_name]
    imports = {block["to"]: block["id"] for block in stack["import"]}
    lookups = data_sources(stack, "aws_secretsmanager_secret")
    for secret in ("oidc", "smtp"):
        secret_id, _ = named(stack, "aws_secretsmanager_secret", f"littil/backend/{env.name}/{secret}")
        # Imported by the ARN AWS gave it, found by the same name; no version of ours replaces the value.
        (lookup_id,) = [key for key, body in lookups.items() if body["name"] == f"littil/backend/{env.name}/{secret}"]
        assert imports[f"aws_secretsmanager_secret.{secret_id}"] == data_ref(
            "aws_secretsmanager_secret", lookup_id, "arn"
        )
        versions = resources(stack, "aws_secretsmanager_secret_version").values()
        assert all(v["secret_id"] != ref("aws_secretsmanager_secret", secret_id, "id") for v in versions)
    # The operators' SMTP credentials stay: no SES user or key of ours is made for them.
    users = {user["name"] for user in resources(stack, "aws_iam_user").values()}
    assert f"LITTIL-NL-{env.name}-littil-api-SMTP-User" not in users
    log_writer_id, _ = named(stack, "aws_iam_user", f"LITTIL-NL-{env.name}-littil-api-CloudWatch-User")
    assert set(resources(stack, "aws_iam_access_key")) == {access_key_of(stack, log_writer_id)}
    # The old system's log group, with its logs (731 days in the old stacks).
    group_id, group = named(stack, "aws_cloudwatch_log_group", f"LITTILBackendApiEcsLogs-{env.name}")
    assert imports[f"aws_cloudwatch_log_group.{group_id}"] == f"LITTILBackendApiEcsLogs-{env.name}"
    assert group["retention_in_days"] >= 731


def test_mail_dns_records_go_to_route53_when_a_zone_is_configured(opt_ins: dict[str, Stack]) -> None:
    stack = opt_ins["api-staging"]
    records = resources(stack, "aws_route53_record")
    assert {record["zone_id"] for record in records.values()} == {"Z0123456789ABC"}
    assert sorted(record["type"] for record in records.values()) == ["CNAME", "CNAME", "CNAME", "TXT"]
    _, verification = only(resources(stack, "aws_ses_domain_identity_verification"))
    identity_id, _ = only(resources(stack, "aws_ses_domain_identity"))
    assert verification["domain"] == ref("aws_ses_domain_identity", identity_id, "domain")


def test_oidc_secret_is_an_empty_container_for_operators(config: AppConfig, ecs_api: EcsApi) -> None:
    stacks, stack_name = ecs_api
    env = env_named(config, stack_name)
    stack = stacks[stack_name]
    secret_id, _ = named(stack, "aws_secretsmanager_secret", f"littil/backend/{env.name}/oidc")
    versions = resources(stack, "aws_secretsmanager_secret_version").values()
    assert all(v["secret_id"] != ref("aws_secretsmanager_secret", secret_id, "id") for v in versions)
    assert stack["output"]["oidc-secret-name"]["value"] == ref("aws_secretsmanager_secret", secret_id, "name")
