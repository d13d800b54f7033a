"""database-<env>: private, encrypted MariaDB whose password nobody writes down."""

from __future__ import annotations

import json

import pytest

from config.model import AppConfig
from tests.tf import Stack, follow, only, ref, resources, subnet_tiers

DATABASE_STACKS = ["database-staging", "database-production"]


def instance(stack: Stack) -> tuple[str, dict[str, object]]:
    return only(resources(stack, "aws_db_instance"))


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
