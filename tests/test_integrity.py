"""Whole-app rules: references resolve, IAM stays narrow, policies come from documents."""

from __future__ import annotations

import json
import re
from typing import Any

from config.model import AppConfig
from modules.access.aws_actions import ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE, ACTIONS_SCOPED_BY_CLUSTER
from tests.tf import Stack, dangling_references, remote_state_reads

POLICY_ATTRIBUTES = {
    "aws_iam_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_ecr_repository_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_secretsmanager_secret_policy": "policy",
}
DOCUMENT_REF = re.compile(r"\$\{data\.aws_iam_policy_document\.[\w-]+\.json\}")


def test_every_reference_points_to_something_its_stack_declares(stacks: dict[str, Stack]) -> None:
    assert {name: dangling_references(stack) for name, stack in stacks.items()} == {name: [] for name in stacks}


def test_every_remote_state_read_names_an_output_the_producing_stack_declares(stacks: dict[str, Stack]) -> None:
    producers = {
        stack["terraform"]["backend"]["s3"]["key"]: stack
        for stack in stacks.values()
        if "s3" in stack["terraform"]["backend"]
    }
    for name, stack in stacks.items():
        for key, output in remote_state_reads(stack):
            assert key in producers, f"{name} reads state {key}, which no stack writes"
            assert output in producers[key].get("output", {}), f"{name} reads output {output} missing from {key}"


def test_reference_checker_catches_dangling_and_accepts_declared_references() -> None:
    stack: dict[str, Any] = {
        "resource": {
            "aws_s3_bucket": {"b": {"bucket": "x"}},
            "aws_s3_bucket_policy": {"p": {"bucket": "${aws_s3_bucket.b.id}"}},
        },
        "data": {"aws_iam_policy_document": {"d": {}}},
        "output": {
            "ok": {"value": '${split("/", data.aws_iam_policy_document.d.json)[0]}'},
            "bad": {"value": "${aws_s3_bucket.gone.arn}"},
            "bad-data": {"value": "${data.aws_iam_policy_document.missing.json}"},
            "bad-var": {"value": "${var.nothing}"},
        },
    }
    assert sorted(dangling_references(stack)) == [
        "aws_s3_bucket.gone",
        "data.aws_iam_policy_document.missing",
        "var.nothing",
    ]


def test_remote_state_reader_maps_outputs_to_state_keys() -> None:
    stack = {
        "data": {
            "terraform_remote_state": {"net": {"backend": "s3", "config": {"key": "littil/staging/network.tfstate"}}}
        },
        "resource": {
            "aws_db_subnet_group": {"s": {"subnet_ids": "${data.terraform_remote_state.net.outputs.subnets}"}}
        },
    }
    assert remote_state_reads(stack) == [("littil/staging/network.tfstate", "subnets")]


def allow_statements(stacks: dict[str, Stack]) -> list[tuple[str, str, dict[str, Any]]]:
    """Allow statements of IAM policies; a KMS key policy's `*` is the key itself, so those are checked elsewhere."""
    found = []
    for stack_name, stack in stacks.items():
        key_policies = {key["policy"] for key in stack.get("resource", {}).get("aws_kms_key", {}).values()}
        for document_name, document in stack.get("data", {}).get("aws_iam_policy_document", {}).items():
            if f"${{data.aws_iam_policy_document.{document_name}.json}}" in key_policies:
                continue
            for statement in document["statement"]:
                if statement.get("effect", "Allow") == "Allow":
                    found.append((stack_name, document_name, statement))
    return found


def test_no_iam_statement_allows_any_resource_except_actions_aws_grants_only_that_way(stacks: dict[str, Stack]) -> None:
    statements = allow_statements(stacks)
    assert any("*" in statement.get("resources", []) for _, _, statement in statements), "expected the ECR token grant"
    for stack_name, document, statement in statements:
        if "*" in statement.get("resources", []):
            actions = set(statement["actions"])
            cluster_conditions = [c for c in statement.get("condition", []) if c["variable"] == "ecs:cluster"]
            if actions <= ACTIONS_SCOPED_BY_CLUSTER:
                # Listing on `*` is allowed only for one named cluster.
                assert [(c["test"], len(c["values"])) for c in cluster_conditions] == [("ArnEquals", 1)], (
                    stack_name,
                    document,
                )
            else:
                assert actions <= ACTIONS_ONLY_GRANTED_ON_ANY_RESOURCE, (stack_name, document)
        assert not any(action == "*" or action.endswith(":*") for action in statement.get("actions", [])), (
            stack_name,
            document,
        )


def test_every_policy_is_a_generated_policy_document_not_hand_written_json(stacks: dict[str, Stack]) -> None:
    checked = 0
    for stack_name, stack in stacks.items():
        for resource_type, attribute in POLICY_ATTRIBUTES.items():
            for name, body in stack.get("resource", {}).get(resource_type, {}).items():
                assert DOCUMENT_REF.fullmatch(body[attribute]), f"{stack_name}/{resource_type}.{name}"
                checked += 1
    assert checked > 0


def test_no_policy_names_a_placeholder_account(stacks: dict[str, Stack], config: AppConfig) -> None:
    """Placeholder ids (envs/ today) reach no policy: own-account ARNs use the provider's account."""
    placeholders = [env.account_id for env in config.placeholder_environments]
    assert placeholders, "the shipped envs hold placeholders; this test would prove nothing"
    for stack_name, stack in stacks.items():
        for document_name, document in stack.get("data", {}).get("aws_iam_policy_document", {}).items():
            text = json.dumps(document)
            assert not any(account in text for account in placeholders), f"{stack_name}/{document_name}"


def test_every_iam_user_can_be_destroyed_with_the_keys_administrators_made_by_hand(stacks: dict[str, Stack]) -> None:
    # Without force_destroy, deleting a user that has an access key fails with DeleteConflict.
    users = {
        f"{stack_name}/{name}": body.get("force_destroy")
        for stack_name, stack in stacks.items()
        for name, body in stack.get("resource", {}).get("aws_iam_user", {}).items()
    }
    assert users
    assert set(users.values()) == {True}, users
