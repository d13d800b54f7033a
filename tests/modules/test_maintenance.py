"""modules/maintenance.py alone: one exec-only MySQL-client task wired to the database it is given."""

from __future__ import annotations

import pytest

from modules.access.aws_actions import ECR_PULL_ACTIONS
from modules.maintenance import CONTAINER_NAME, MaintenanceService
from tests.modules.alone import ACCOUNT_ID, REGION, Built, build, has_resource
from tests.tf import container_definition, only, ref, resources, role_statements

NAME = "LITTIL-NL-test-maintenance"
IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/littil-backend-maintenance:1.2.3"
REPOSITORY = "arn:aws:ecr:eu-west-1:111111111111:repository/littil-backend-maintenance"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0123-AbCdEf"
DATABASE_GROUP = "sg-0database"
SUBNETS = ["subnet-public-a", "subnet-public-b"]


@pytest.fixture(scope="module")
def maintenance() -> Built[MaintenanceService]:
    return build(
        lambda stack: MaintenanceService(
            stack,
            "service",
            name=NAME,
            region=REGION,
            account_id=ACCOUNT_ID,
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=SUBNETS,
            image=IMAGE,
            repository_arn=REPOSITORY,
            database_host="littil-test-db.abc.eu-west-1.rds.amazonaws.com",
            database_port="3306",
            database_name="LittilDatabase",
            database_secret_arn=SECRET,
            database_security_group_id=DATABASE_GROUP,
        )
    )


def test_one_task_runs_in_the_given_subnets_with_a_public_ip_and_exec(maintenance: Built[MaintenanceService]) -> None:
    stack = maintenance.stack
    cluster_name, _ = only(resources(stack, "aws_ecs_cluster"))
    task_name, _ = only(resources(stack, "aws_ecs_task_definition"))
    group_name, _ = only(resources(stack, "aws_security_group"))
    assert has_resource(
        maintenance,
        "aws_ecs_service",
        {
            "name": NAME,
            "cluster": ref("aws_ecs_cluster", cluster_name, "arn"),
            "task_definition": ref("aws_ecs_task_definition", task_name, "arn"),
            "desired_count": 1,
            "launch_type": "FARGATE",
            "enable_execute_command": True,
            # No NAT: a public IP to pull its image and reach the SSM endpoints.
            "network_configuration": {
                "subnets": SUBNETS,
                "security_groups": [ref("aws_security_group", group_name, "id")],
                "assign_public_ip": True,
            },
        },
    )


def test_the_container_is_the_given_image_and_finds_the_database(maintenance: Built[MaintenanceService]) -> None:
    definition = container_definition(maintenance.stack)
    assert (definition["name"], definition["image"]) == (CONTAINER_NAME, IMAGE)
    assert {item["name"]: item["value"] for item in definition["environment"]} == {
        "DB_HOST": "littil-test-db.abc.eu-west-1.rds.amazonaws.com",
        "DB_PORT": "3306",
        "DB_NAME": "LittilDatabase",
    }


def test_credentials_come_only_from_the_databases_secret(maintenance: Built[MaintenanceService]) -> None:
    definition = container_definition(maintenance.stack)
    assert {item["name"]: item["valueFrom"] for item in definition["secrets"]} == {
        "DB_USER": f"{SECRET}:username::",
        "DB_PASSWORD": f"{SECRET}:password::",
    }
    statements = {s["sid"]: s for s in role_statements(maintenance.stack, f"{NAME}-execution")}
    assert statements["ReadSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadSecrets"]["resources"] == [SECRET]
    assert sorted(statements["PullImage"]["actions"]) == sorted(ECR_PULL_ACTIONS)
    assert statements["PullImage"]["resources"] == [REPOSITORY]


def test_no_inbound_rule_and_out_only_to_https_and_the_databases_port(
    maintenance: Built[MaintenanceService],
) -> None:
    stack = maintenance.stack
    group_name, group = only(resources(stack, "aws_security_group"))
    assert (group["name"], group["vpc_id"]) == (f"{NAME}-tasks", "vpc-0123456789abcdef0")
    assert "ingress" not in group and "egress" not in group  # noqa: PT018
    assert not resources(stack, "aws_vpc_security_group_ingress_rule")
    group_id = ref("aws_security_group", group_name, "id")
    egress = sorted(
        (
            (
                rule["security_group_id"],
                rule["ip_protocol"],
                rule["from_port"],
                rule["to_port"],
                rule.get("cidr_ipv4"),
                rule.get("referenced_security_group_id"),
            )
            for rule in resources(stack, "aws_vpc_security_group_egress_rule").values()
        ),
        key=str,
    )
    assert egress == sorted(
        [
            (group_id, "tcp", 443, 443, "0.0.0.0/0", None),
            (group_id, "tcp", 3306, 3306, None, DATABASE_GROUP),
        ],
        key=str,
    )


def test_its_logs_go_to_groups_kept_elsewhere_which_it_never_makes_or_destroys(
    maintenance: Built[MaintenanceService],
) -> None:
    stack = maintenance.stack
    # Both live in api-<env> (modules/api/kept_logs.py): off or destroyed, the service takes no log along.
    assert not resources(stack, "aws_cloudwatch_log_group")
    options = container_definition(stack)["logConfiguration"]["options"]
    assert (options["awslogs-group"], options["awslogs-region"]) == (f"/ecs/{NAME}", REGION)
    _, cluster = only(resources(stack, "aws_ecs_cluster"))
    logged_to = cluster["configuration"]["execute_command_configuration"]["log_configuration"]
    assert logged_to == {"cloud_watch_log_group_name": f"/ecs/{NAME}/exec-sessions"}


def test_its_cluster_carries_no_container_insights_cost(maintenance: Built[MaintenanceService]) -> None:
    _, cluster = only(resources(maintenance.stack, "aws_ecs_cluster"))
    assert cluster["name"] == NAME
    assert cluster["setting"] == [{"name": "containerInsights", "value": "disabled"}]
