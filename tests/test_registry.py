"""The shared registry: who may pull, who may push, and what images survive."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from config.model import AppConfig
from modules.aws_actions import ECR_PULL_ACTIONS
from tests.tf import Stack, data_ref, only, policy_statements, ref, resources

REPOSITORIES = {"api": "littil-backend", "maintenance": "littil-backend-maintenance"}


def repository(stack: Stack, name: str) -> tuple[str, dict[str, Any]]:
    return only({key: body for key, body in resources(stack, "aws_ecr_repository").items() if body["name"] == name})


def attached_to(stack: Stack, resource_type: str, key: str, value: str) -> dict[str, Any]:
    return only({name: body for name, body in resources(stack, resource_type).items() if body[key] == value})[1]


@pytest.mark.parametrize("repo_name", REPOSITORIES.values())
def test_repositories_scan_on_push_encrypt_and_keep_tags_immutable(stacks: dict[str, Stack], repo_name: str) -> None:
    _, repo = repository(stacks["registry"], repo_name)
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["encryption_configuration"] == [{"encryption_type": "AES256"}]
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert "image_tag_mutability_exclusion_filter" not in repo
    assert "force_delete" not in repo


@pytest.mark.parametrize("repo_name", REPOSITORIES.values())
def test_lifecycle_expires_untagged_images_and_keeps_the_last_tagged(
    stacks: dict[str, Stack], config: AppConfig, repo_name: str
) -> None:
    stack = stacks["registry"]
    name, _ = repository(stack, repo_name)
    lifecycle = attached_to(stack, "aws_ecr_lifecycle_policy", "repository", ref("aws_ecr_repository", name, "name"))
    untagged, tagged = json.loads(lifecycle["policy"])["rules"]
    registry = config.shared.registry
    assert untagged["selection"]["tagStatus"] == "untagged"
    assert untagged["selection"]["countType"] == "sinceImagePushed"
    assert untagged["selection"]["countNumber"] == registry.untagged_image_expiry_days
    assert tagged["selection"]["tagStatus"] == "tagged"
    assert tagged["selection"]["countType"] == "imageCountMoreThan"
    assert tagged["selection"]["countNumber"] == registry.tagged_images_to_keep
    assert untagged["rulePriority"] < tagged["rulePriority"]


@pytest.mark.parametrize("repo_name", REPOSITORIES.values())
def test_each_workload_account_may_pull_and_nothing_more(
    stacks: dict[str, Stack], config: AppConfig, repo_name: str
) -> None:
    stack = stacks["registry"]
    name, _ = repository(stack, repo_name)
    policy = attached_to(stack, "aws_ecr_repository_policy", "repository", ref("aws_ecr_repository", name, "name"))
    (statement,) = policy_statements(stack, policy["policy"])
    assert statement["effect"] == "Allow"
    assert sorted(statement["actions"]) == sorted(ECR_PULL_ACTIONS)
    workloads = {env.account_id for env in config.workloads}
    assert workloads, "config has no workload account"
    assert statement["principals"] == [
        {"type": "AWS", "identifiers": [f"arn:aws:iam::{account}:root" for account in sorted(workloads)]}
    ]


@pytest.mark.parametrize("repo_name", REPOSITORIES.values())
def test_push_pull_policy_covers_exactly_its_repository_and_reaches_a_user_through_a_group(
    stacks: dict[str, Stack], repo_name: str
) -> None:
    stack = stacks["registry"]
    repo_id, _ = repository(stack, repo_name)
    policy_name, policy = only(
        {
            name: body
            for name, body in resources(stack, "aws_iam_policy").items()
            if repo_name + "-ecr-pushpull" in body["name"]
        }
    )
    token, images = policy_statements(stack, policy["policy"])
    assert (token["actions"], token["resources"]) == (["ecr:GetAuthorizationToken"], ["*"])
    assert images["resources"] == [ref("aws_ecr_repository", repo_id, "arn")]
    assert {"ecr:PutImage", "ecr:BatchGetImage", "ecr:InitiateLayerUpload"} <= set(images["actions"])
    assert not any(action.endswith("*") for action in images["actions"])

    group_id, group = only(
        {name: body for name, body in resources(stack, "aws_iam_group").items() if body["name"] == policy["name"]}
    )
    attachment = attached_to(stack, "aws_iam_group_policy_attachment", "group", ref("aws_iam_group", group_id, "name"))
    assert attachment["policy_arn"] == ref("aws_iam_policy", policy_name, "arn")
    user_id, user = only(
        {
            name: body
            for name, body in resources(stack, "aws_iam_user").items()
            if body["name"] == f"{group['name']}-User"
        }
    )
    membership = attached_to(stack, "aws_iam_user_group_membership", "user", ref("aws_iam_user", user_id, "name"))
    assert membership["groups"] == [ref("aws_iam_group", group_id, "name")]
    assert user["name"] == f"LITTIL-NL-shared-{repo_name}-ecr-pushpull-User"
    # No access key in Terraform: its secret would sit in state. Operators create keys (README).
    assert not resources(stack, "aws_iam_access_key")


def test_ci_push_role_trusts_only_the_configured_repository_and_may_push_only_the_api_image(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    stack = stacks["registry"]
    role_id, role = only(resources(stack, "aws_iam_role"))
    assert role["name"] == "LITTIL-NL-api-ecr-push"
    (trust,) = policy_statements(stack, role["assume_role_policy"])
    provider_id, provider = only(resources(stack, "aws_iam_openid_connect_provider"))
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert trust["principals"] == [
        {"type": "Federated", "identifiers": [ref("aws_iam_openid_connect_provider", provider_id, "arn")]}
    ]
    github = config.shared.github
    assert sorted(trust["condition"], key=lambda c: c["variable"]) == [
        {
            "test": "StringEquals",
            "variable": "token.actions.githubusercontent.com:aud",
            "values": ["sts.amazonaws.com"],
        },
        {
            "test": "StringLike",
            "variable": "token.actions.githubusercontent.com:sub",
            "values": [f"repo:{github.org}/{github.repo}:*"],
        },
    ]
    (attachment,) = resources(stack, "aws_iam_role_policy_attachment").values()
    assert attachment["role"] == ref("aws_iam_role", role_id, "name")
    api_policy = only(
        {
            name: body
            for name, body in resources(stack, "aws_iam_policy").items()
            if body["name"].endswith("littil-backend-ecr-pushpull")
        }
    )[0]
    assert attachment["policy_arn"] == ref("aws_iam_policy", api_policy, "arn")


def test_outputs_give_repository_urls_and_a_ready_docker_login_line(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    stack = stacks["registry"]
    outputs = stack["output"]
    for key, repo_name in REPOSITORIES.items():
        repo_id, _ = repository(stack, repo_name)
        assert outputs[f"{key}-repository-url"]["value"] == ref("aws_ecr_repository", repo_id, "repository_url")
    assert outputs["docker-login-command"]["value"] == (
        "aws ecr get-login-password --region eu-west-1"
        " | docker login --username AWS --password-stdin 680278545709.dkr.ecr.eu-west-1.amazonaws.com"
    )
    assert config.shared.registry_host in outputs["docker-login-command"]["value"]


def test_configured_mutable_tags_exempt_only_the_api_repository(config: AppConfig) -> None:
    from cdktf import Testing

    from stacks.registry import RegistryStack

    shared = dataclasses.replace(
        config.shared,
        registry=dataclasses.replace(config.shared.registry, api_mutable_tags=("latest",)),
        github=dataclasses.replace(config.shared.github, create_oidc_provider=False),
    )
    stack = json.loads(
        Testing.synth(RegistryStack(Testing.app(), env=shared, pull_account_ids=config.pull_account_ids))
    )
    _, api = repository(stack, "littil-backend")
    assert api["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert api["image_tag_mutability_exclusion_filter"] == [{"filter": "latest", "filter_type": "WILDCARD"}]
    assert repository(stack, "littil-backend-maintenance")[1]["image_tag_mutability"] == "IMMUTABLE"

    # With create_oidc_provider = false the existing provider is looked up and trusted instead.
    assert not resources(stack, "aws_iam_openid_connect_provider")
    lookup_id, lookup = only(stack["data"]["aws_iam_openid_connect_provider"])
    assert lookup["url"] == "https://token.actions.githubusercontent.com"
    (trust,) = policy_statements(stack, only(resources(stack, "aws_iam_role"))[1]["assume_role_policy"])
    assert trust["principals"][0]["identifiers"] == [data_ref("aws_iam_openid_connect_provider", lookup_id, "arn")]
