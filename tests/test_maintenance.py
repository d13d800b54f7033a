"""maintenance-<env>: the exec user always; the MySQL-client service only while enabled."""

from __future__ import annotations

import json

import pytest

from modules.access.aws_actions import ECR_PULL_ACTIONS
from tests.tf import Stack, follow, only, policy_statements, ref, resources, subnet_tiers

USER = "LITTIL-NL-{env}-maintenance-ECSExec-User"
# Nothing that stores data or shapes the network may live in the maintenance stack (its own
# security group and rules, including its 3306 rule on the database's group, may).
FORBIDDEN_TYPES = {
    "aws_vpc",
    "aws_subnet",
    "aws_route",
    "aws_route_table",
    "aws_route_table_association",
    "aws_internet_gateway",
    "aws_nat_gateway",
    "aws_eip",
    "aws_default_security_group",
}
FORBIDDEN_PREFIXES = ("aws_db_", "aws_rds_")


@pytest.mark.parametrize("env_name", ["staging", "production"])
def test_disabled_maintenance_is_only_its_exec_user_without_permissions(
    stacks: dict[str, Stack], env_name: str
) -> None:
    stack = stacks[f"maintenance-{env_name}"]
    assert set(stack["resource"]) == {"aws_iam_user"}
    _, user = only(resources(stack, "aws_iam_user"))
    assert user["name"] == USER.format(env=env_name)
    assert "data" not in stack  # reads nothing from other stacks while disabled


def test_exec_user_keeps_its_address_when_maintenance_is_switched_on(
    stacks: dict[str, Stack], toggled: dict[str, Stack]
) -> None:
    # Same logical id in both states: the user's access keys survive enabling and disabling.
    assert (
        resources(stacks["maintenance-staging"], "aws_iam_user").keys()
        == resources(toggled["maintenance-staging"], "aws_iam_user").keys()
    )


def test_enabled_maintenance_runs_the_maintenance_image_with_exec_and_database_wiring(
    toggled: dict[str, Stack],
) -> None:
    stack = toggled["maintenance-staging"]
    _, service = only(resources(stack, "aws_ecs_service"))
    assert service["enable_execute_command"] is True
    assert service["desired_count"] == 1
    network = service["network_configuration"]
    assert network["assign_public_ip"] is True
    assert subnet_tiers(toggled, "maintenance-staging", network["subnets"]) == ("network-staging", ["public", "public"])
    (task,) = resources(stack, "aws_ecs_task_definition").values()
    (container,) = json.loads(task["container_definitions"])
    assert container["name"] == "maintenance"
    assert container["image"] == "680278545709.dkr.ecr.eu-west-1.amazonaws.com/littil-backend-maintenance:1.0.0"
    environment = {item["name"]: item["value"] for item in container["environment"]}
    db_name, _ = only(resources(toggled["database-staging"], "aws_db_instance"))
    assert follow(toggled, "maintenance-staging", environment["DB_HOST"]) == (
        "database-staging",
        ref("aws_db_instance", db_name, "address"),
    )
    assert environment["DB_NAME"] == "LittilDatabase"  # the old system's database, restored
    secrets = {item["name"]: item["valueFrom"] for item in container["secrets"]}
    secret_arn = f"${{aws_db_instance.{db_name}.master_user_secret[0].secret_arn}}"
    for variable, key in (("DB_USER", "username"), ("DB_PASSWORD", "password")):
        arn, json_key = secrets[variable].rsplit(":", 3)[:2]
        assert json_key == key
        assert follow(toggled, "maintenance-staging", arn) == ("database-staging", secret_arn)


def test_enabled_maintenance_has_no_inbound_rule_and_owns_its_database_rule(toggled: dict[str, Stack]) -> None:
    stack = toggled["maintenance-staging"]
    _, service = only(resources(stack, "aws_ecs_service"))
    (group,) = service["network_configuration"]["security_groups"]
    rules = resources(stack, "aws_vpc_security_group_ingress_rule").values()
    assert [rule for rule in rules if rule["security_group_id"] == group] == []
    (database_rule,) = rules
    db_group, _ = only(resources(toggled["database-staging"], "aws_security_group"))
    assert follow(toggled, "maintenance-staging", database_rule["security_group_id"]) == (
        "database-staging",
        ref("aws_security_group", db_group, "id"),
    )
    assert database_rule["referenced_security_group_id"] == group
    assert (database_rule["from_port"], database_rule["to_port"], database_rule["ip_protocol"]) == (3306, 3306, "tcp")


def test_enabled_maintenance_roles_and_exec_user_are_scoped_to_it(toggled: dict[str, Stack]) -> None:
    stack = toggled["maintenance-staging"]
    documents = stack["data"]["aws_iam_policy_document"]
    (execution,) = [body for name, body in documents.items() if "execution-role_document" in name]
    statements = {s["sid"]: s for s in execution["statement"]}
    assert statements["PullImage"]["resources"] == [
        "arn:aws:ecr:eu-west-1:680278545709:repository/littil-backend-maintenance"
    ]
    assert sorted(statements["PullImage"]["actions"]) == sorted(ECR_PULL_ACTIONS)
    (read,) = statements["ReadSecrets"]["resources"]
    assert follow(toggled, "maintenance-staging", read)[0] == "database-staging"
    user_id, user = only(resources(stack, "aws_iam_user"))
    assert user["name"] == USER.format(env="staging")
    _, policy = only(resources(stack, "aws_iam_policy"))
    exec_statements = {s["sid"]: s for s in policy_statements(stack, policy["policy"])}
    cluster = "LITTIL-NL-staging-maintenance"
    account = "${data.aws_caller_identity.current-account.account_id}"
    assert exec_statements["ExecIntoClusterTasks"]["resources"] == [
        f"arn:aws:ecs:eu-west-1:{account}:cluster/{cluster}",
        f"arn:aws:ecs:eu-west-1:{account}:task/{cluster}/*",
    ]
    assert exec_statements["ListClusterTasks"]["resources"] == ["*"]
    assert exec_statements["ListClusterTasks"]["condition"][:1] == [
        {
            "test": "ArnEquals",
            "variable": "ecs:cluster",
            "values": [f"arn:aws:ecs:eu-west-1:{account}:cluster/{cluster}"],
        }
    ]
    (membership,) = resources(stack, "aws_iam_user_group_membership").values()
    assert membership["user"] == ref("aws_iam_user", user_id, "name")
    (cluster_body,) = resources(stack, "aws_ecs_cluster").values()
    assert cluster_body["name"] == cluster
    command = stack["output"]["exec-command"]["value"]
    assert f'--cluster {cluster} --task "$(aws ecs list-tasks' in command
    assert f"--service-name {cluster} " in command
    assert command.endswith('--container maintenance --command "sh" --interactive')


@pytest.mark.parametrize("source", ["stacks", "toggled"])
def test_maintenance_stack_holds_nothing_of_the_database_or_network(
    request: pytest.FixtureRequest, source: str
) -> None:
    stacks: dict[str, Stack] = request.getfixturevalue(source)
    for name in (n for n in stacks if n.startswith("maintenance-")):
        types = set(stacks[name].get("resource", {}))
        assert not {t for t in types if t in FORBIDDEN_TYPES or t.startswith(FORBIDDEN_PREFIXES)}, name
