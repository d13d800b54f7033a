"""database-<env>: private, encrypted MariaDB whose password nobody writes down."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config.model import AppConfig
from config.rules import BACKUP_COPY_MAX_DAYS
from modules.backup.account_copy import COPY_ROLE_POLICIES
from modules.backup.vault import vault_arn
from modules.naming import copy_vault_name
from tests.tf import Stack, follow, managed_policies_of, only, policy_statements, ref, resources, subnet_tiers

DATABASE_STACKS = ["database-staging", "database-production"]


def instance(stack: Stack) -> tuple[str, dict[str, object]]:
    return only(resources(stack, "aws_db_instance"))


def in_its_region(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the stack's default provider makes: not the second region's key, not us-east-1's topic."""
    return {name: body for name, body in found.items() if "provider" not in body}


@pytest.mark.parametrize("env_name", ["staging", "production"])
def test_database_follows_config(stacks: dict[str, Stack], config: AppConfig, env_name: str) -> None:
    """Wiring only: privacy, encryption and final snapshots are the construct's (tests/modules/test_database.py)."""
    database = config.workload(env_name).database
    _, db = instance(stacks[f"database-{env_name}"])
    assert (db["engine_version"], db["instance_class"], db["db_name"]) == (
        database.engine_version,
        database.instance_class,
        database.name,
    )
    assert (db["allocated_storage"], db["max_allocated_storage"]) == (
        database.allocated_storage_gb,
        database.max_allocated_storage_gb,
    )
    assert db["backup_retention_period"] == database.backup_retention_days
    assert db["deletion_protection"] is database.deletion_protection
    assert db["multi_az"] is database.multi_az


def test_production_database_is_protected_and_keeps_a_week_of_backups(stacks: dict[str, Stack]) -> None:
    _, db = instance(stacks["database-production"])
    assert db["deletion_protection"] is True
    assert int(str(db["backup_retention_period"])) >= 7


@pytest.mark.parametrize("stack_name", DATABASE_STACKS)
def test_master_password_is_managed_by_rds_and_no_stack_writes_one(stacks: dict[str, Stack], stack_name: str) -> None:
    """A ground rule of the whole app, so it stays here too (the construct's side: tests/modules/test_database.py)."""
    stack = stacks[stack_name]
    _, db = instance(stack)
    assert db["manage_master_user_password"] is True
    assert "password" not in db
    assert "password_wo" not in db
    assert not resources(stack, "aws_secretsmanager_secret_version")
    assert "random_password" not in stack.get("resource", {})


@pytest.mark.parametrize("stack_name", DATABASE_STACKS)
def test_database_lives_in_the_isolated_subnets_of_its_environment(stacks: dict[str, Stack], stack_name: str) -> None:
    stack = stacks[stack_name]
    _, db = instance(stack)
    group_name, group = only(resources(stack, "aws_db_subnet_group"))
    assert db["db_subnet_group_name"] == ref("aws_db_subnet_group", group_name, "name")
    network_stack, tiers = subnet_tiers(stacks, stack_name, group["subnet_ids"])
    assert network_stack == stack_name.replace("database-", "network-")
    assert tiers == ["isolated", "isolated"]


@pytest.mark.parametrize("stack_name", DATABASE_STACKS)
def test_parameter_group_follows_the_engine_and_the_configured_slow_query_threshold(
    stacks: dict[str, Stack], config: AppConfig, stack_name: str
) -> None:
    stack = stacks[stack_name]
    env = config.workload(stack_name.removeprefix("database-"))
    _, db = instance(stack)
    group_name, group = only(resources(stack, "aws_db_parameter_group"))
    assert db["parameter_group_name"] == ref("aws_db_parameter_group", group_name, "name")
    assert group["family"] == "mariadb" + ".".join(env.database.engine_version.split(".")[:2])
    parameters = {item["name"]: item["value"] for item in group["parameter"]}
    assert parameters["long_query_time"] == str(env.database.slow_query_seconds)
    assert "require_secure_transport" not in parameters  # the opt-in is off in the committed envs


@pytest.mark.parametrize("stack_name", DATABASE_STACKS)
def test_database_security_group_has_no_rules_of_its_own(stacks: dict[str, Stack], stack_name: str) -> None:
    stack = stacks[stack_name]
    _, db = instance(stack)
    group_name, group = only(resources(stack, "aws_security_group"))
    assert db["vpc_security_group_ids"] == [ref("aws_security_group", group_name, "id")]
    assert "ingress" not in group
    assert "egress" not in group
    assert not resources(stack, "aws_vpc_security_group_ingress_rule")
    assert not resources(stack, "aws_security_group_rule")


def test_database_accepts_3306_only_from_the_api_tasks(stacks: dict[str, Stack]) -> None:
    for env_name in ("staging", "production"):
        database_stack = f"database-{env_name}"
        db_group = only(resources(stacks[database_stack], "aws_security_group"))[0]
        rules = [
            (stack_name, rule)
            for stack_name, stack in stacks.items()
            for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
            if follow(stacks, stack_name, rule["security_group_id"])
            == (database_stack, ref("aws_security_group", db_group, "id"))
        ]
        assert len(rules) == 1, rules
        (stack_name, rule) = rules[0]
        assert stack_name == f"api-{env_name}"
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 3306, 3306)
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule  # noqa: PT018
        assert rule["referenced_security_group_id"] == api_client_group(stacks[stack_name])


def api_client_group(stack: Stack) -> str:
    """The security group the API's own compute runs in: Fargate tasks, or the instance."""
    services = resources(stack, "aws_ecs_service")
    if services:
        (service,) = services.values()
        (group,) = service["network_configuration"]["security_groups"]
    else:
        (instance,) = resources(stack, "aws_instance").values()
        (group,) = instance["vpc_security_group_ids"]
    return str(group)


def test_tls_opt_in_enforces_it_on_the_server_and_tells_the_api(opt_ins: dict[str, Stack]) -> None:
    _, group = only(resources(opt_ins["database-staging"], "aws_db_parameter_group"))
    assert {"name": "require_secure_transport", "value": "1"} in group["parameter"]
    (task,) = resources(opt_ins["api-staging"], "aws_ecs_task_definition").values()
    (container,) = json.loads(task["container_definitions"])
    environment = {item["name"]: item["value"] for item in container["environment"]}
    url = environment["_PROD_QUARKUS_DATASOURCE_JDBC_URL"]
    assert url.startswith("jdbc:mariadb://")
    assert url.endswith("/LittilDatabase?sslMode=trust")
    assert environment["DATASOURCE_HOST"] in url


def test_a_configured_snapshot_is_what_the_database_is_restored_from(
    stacks: dict[str, Stack], opt_ins: dict[str, Stack]
) -> None:
    # The config's snapshot reaches the instance (what restoring does to it: tests/modules/test_database.py).
    assert "snapshot_identifier" not in instance(stacks["database-staging"])[1]
    _, db = instance(opt_ins["database-staging"])
    assert db["snapshot_identifier"] == "littil-staging-before-upgrade"


def test_a_major_upgrade_is_allowed_only_where_config_says_so(
    stacks: dict[str, Stack], opt_ins: dict[str, Stack]
) -> None:
    # RDS refuses a new major engine_version unless the apply that brings it allows it.
    assert instance(stacks["database-staging"])[1]["allow_major_version_upgrade"] is False
    assert instance(stacks["database-production"])[1]["allow_major_version_upgrade"] is False
    _, upgrading = instance(opt_ins["database-staging"])
    assert upgrading["allow_major_version_upgrade"] is True
    assert upgrading["engine_version"] == "10.11"


def test_production_grade_databases_copy_their_backups_to_a_second_region_and_others_opt_in(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    """Wiring only: what RDS replicates and how (tests/modules/backup/test_region_copy.py)."""
    for env in config.workloads:
        stack = stacks[f"database-{env.name}"]
        replications = resources(stack, "aws_db_instance_automated_backups_replication")
        region = env.backup_copies.region
        assert env.production_grade <= (region is not None), env.name
        if region is None:
            assert not replications, env.name
            assert [provider.get("alias") for provider in stack["provider"]["aws"]] == [None], env.name
            continue
        database_id, _ = instance(stack)
        _, replication = only(replications)
        assert replication["source_db_instance_arn"] == ref("aws_db_instance", database_id, "arn")
        assert replication["retention_period"] == env.backup_copies.retention_days
        (provider,) = [p for p in stack["provider"]["aws"] if p.get("alias") == replication["provider"].split(".")[1]]
        assert provider["region"] == region
        assert provider["allowed_account_ids"] == [env.account_id]


def test_production_grade_databases_copy_their_backups_into_their_vault_of_the_shared_account(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    """Wiring only: the plan, the key's grant and the alarm are tests/modules/backup's."""
    for env in config.workloads:
        stack = stacks[f"database-{env.name}"]
        database_id, db = instance(stack)
        plans = resources(stack, "aws_backup_plan")
        assert env.production_grade <= env.backup_copies.shared_account, env.name
        if not env.backup_copies.shared_account:
            assert not plans, env.name
            assert "kms_key_id" not in db, env.name  # aws/rds, as before
            continue
        # The database is under the stack's own key, which the shared account may copy with.
        key_id, key = only(in_its_region(resources(stack, "aws_kms_key")))
        assert db["kms_key_id"] == ref("aws_kms_key", key_id, "arn")
        grantees = {
            identifier
            for statement in policy_statements(stack, key["policy"])
            if statement["sid"].startswith("OtherAccounts")
            for principal in statement["principals"]
            for identifier in principal["identifiers"]
        }
        assert grantees == {f"arn:aws:iam::{config.shared.account_id}:root"}
        _, plan = only(plans)
        (rule,) = plan["rule"]
        (copy,) = rule["copy_action"]
        assert copy["destination_vault_arn"] == vault_arn(
            copy_vault_name(env.country, env.name), region=env.region, account_id=config.shared.account_id
        )
        assert (
            rule["lifecycle"]["delete_after"] == copy["lifecycle"]["delete_after"] == env.backup_copies.retention_days
        )
        _, selection = only(resources(stack, "aws_backup_selection"))
        assert selection["resources"] == [ref("aws_db_instance", database_id, "arn")]
        # A day without a copy arriving in that vault mails (its count is published under the destination's name).
        (silence,) = [
            a for a in resources(stack, "aws_cloudwatch_metric_alarm").values() if "copy-missing" in a["alarm_name"]
        ]
        assert silence["dimensions"] == {"BackupVaultName": copy_vault_name(env.country, env.name)}


def test_a_copy_that_fails_mails_the_environments_own_alert_topic(stacks: dict[str, Stack], config: AppConfig) -> None:
    for env in config.workloads:
        targets = resources(stacks[f"database-{env.name}"], "aws_cloudwatch_event_target")
        if not env.backup_copies.shared_account:
            assert not targets, env.name
            continue
        _, target = only(targets)
        topic_id, _ = only(in_its_region(resources(stacks[f"alerts-{env.name}"], "aws_sns_topic")))
        assert follow(stacks, f"database-{env.name}", target["arn"]) == (
            f"alerts-{env.name}",
            ref("aws_sns_topic", topic_id, "arn"),
        )


FILLED_IN = "210987654321"


@pytest.fixture(scope="module")
def filled_in_vaults(config: AppConfig) -> Stack:
    """backup-vaults-shared once production's account id is filled in (the shipped one is a placeholder)."""
    from cdktf import Testing

    from stacks.backup_vaults import BackupVaultsStack
    from tests.modules.alone import scratch_app

    production = config.workload("production").model_copy(update={"account_id": FILLED_IN})
    with scratch_app() as app:
        return dict(json.loads(Testing.synth(BackupVaultsStack(app, env=config.shared, copying=[production]))))


def test_the_shared_vault_admits_copies_from_its_environments_account_alone(
    filled_in_vaults: Stack, config: AppConfig
) -> None:
    production = config.workload("production")
    vault_id, vault = only(resources(filled_in_vaults, "aws_backup_vault"))
    assert vault["name"] == copy_vault_name(production.country, production.name)
    _, policy = only(resources(filled_in_vaults, "aws_backup_vault_policy"))
    (statement,) = policy_statements(filled_in_vaults, policy["policy"])
    assert statement["principals"] == [{"type": "AWS", "identifiers": [f"arn:aws:iam::{FILLED_IN}:root"]}]
    assert statement["actions"] == ["backup:CopyIntoBackupVault"]
    _, lock = only(resources(filled_in_vaults, "aws_backup_vault_lock_configuration"))
    assert lock["backup_vault_name"] == ref("aws_backup_vault", vault_id, "name")
    assert lock["min_retention_days"] == production.backup_copies.retention_days
    assert lock["max_retention_days"] == BACKUP_COPY_MAX_DAYS
    assert "placeholder-account-ids" not in filled_in_vaults.get("output", {})


def test_the_shared_account_can_copy_a_copy_back_with_aws_backups_own_role(filled_in_vaults: Stack) -> None:
    role_id, role = only(resources(filled_in_vaults, "aws_iam_role"))
    (trust,) = policy_statements(filled_in_vaults, role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}]
    assert managed_policies_of(filled_in_vaults, role["name"]) == list(COPY_ROLE_POLICIES)
    assert filled_in_vaults["output"]["copy-back-role-arn"]["value"] == ref("aws_iam_role", role_id, "arn")


def test_no_vault_waits_for_a_placeholder_account_and_deploying_the_vaults_refuses(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    stack = stacks[f"backup-vaults-{config.shared.name}"]
    copying = [env for env in config.workloads if env.backup_copies.shared_account]
    waiting = [env for env in copying if env.has_placeholder_account]
    assert waiting, "the shipped production account id is a placeholder"
    assert len(resources(stack, "aws_backup_vault")) == len(copying) - len(waiting)
    assert stack["locals"]["placeholder-accounts"] == [env.account_id for env in waiting]
