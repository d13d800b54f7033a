"""The shared registry: who may pull, who may push, and what images survive."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from config.model import AppConfig
from modules.access.aws_actions import ECR_PULL_ACTIONS
from tests.tf import Stack, data_ref, named, only, policy_statements, ref, resources

REPOSITORIES = {"api": "littil-backend", "maintenance": "littil-backend-maintenance"}


def repository(stack: Stack, name: str) -> tuple[str, dict[str, Any]]:
    return only({key: body for key, body in resources(stack, "aws_ecr_repository").items() if body["name"] == name})


def attached_to(stack: Stack, resource_type: str, key: str, value: str) -> dict[str, Any]:
    return only({name: body for name, body in resources(stack, resource_type).items() if body[key] == value})[1]


@pytest.mark.parametrize("repo_name", REPOSITORIES.values())
def test_only_the_backend_repository_lets_latest_move(stacks: dict[str, Stack], repo_name: str) -> None:
    """Which repository gets which tag rule; scanning, encryption and the rule itself: tests/modules/test_ecr.py."""
    _, repo = repository(stacks["registry"], repo_name)
    if repo_name == "littil-backend":
        # The application's CI pushes `latest` on every build of main: the one tag that may move.
        assert repo["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert repo["image_tag_mutability_exclusion_filter"] == [{"filter": "latest", "filter_type": "WILDCARD"}]
    else:
        assert repo["image_tag_mutability"] == "IMMUTABLE"
        assert "image_tag_mutability_exclusion_filter" not in repo


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


FILLED_IN = ("210987654321", "220987654321")


@pytest.fixture(scope="module")
def filled_in_registry(config: AppConfig) -> Stack:
    """The registry once every workload account id is filled in (the shipped envs hold placeholders)."""
    from cdktf import Testing

    from stacks.registry import RegistryStack
    from tests.modules.alone import scratch_app

    with scratch_app() as app:
        return dict(json.loads(Testing.synth(RegistryStack(app, env=config.shared, pull_account_ids=FILLED_IN))))


@pytest.mark.parametrize("repo_name", REPOSITORIES.values())
def test_each_workload_account_may_pull_and_nothing_more(filled_in_registry: Stack, repo_name: str) -> None:
    stack = filled_in_registry
    name, _ = repository(stack, repo_name)
    policy = attached_to(stack, "aws_ecr_repository_policy", "repository", ref("aws_ecr_repository", name, "name"))
    (statement,) = policy_statements(stack, policy["policy"])
    assert statement["effect"] == "Allow"
    assert sorted(statement["actions"]) == sorted(ECR_PULL_ACTIONS)
    assert statement["principals"] == [
        {"type": "AWS", "identifiers": [f"arn:aws:iam::{account}:root" for account in FILLED_IN]}
    ]
    assert "placeholder-account-ids" not in stack.get("output", {})


def test_placeholder_accounts_are_granted_nothing_and_deploying_the_registry_refuses(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    stack = stacks["registry"]
    placeholders = config.placeholder_environments
    assert placeholders, "the shipped envs hold placeholder account ids"
    # Nothing in any policy names them: with no real workload account there is no pull policy at all.
    assert not resources(stack, "aws_ecr_repository_policy")
    for document in stack["data"]["aws_iam_policy_document"].values():
        assert not any(env.account_id in json.dumps(document) for env in placeholders)
    # Plan and apply stop at the output's precondition, naming each file and key to fill in.
    guard = stack["output"]["placeholder-account-ids"]
    (precondition,) = guard["precondition"]
    assert precondition["condition"] == "${length(local.placeholder-accounts) == 0}"
    assert stack["locals"]["placeholder-accounts"] == [env.account_id for env in placeholders]
    for env in placeholders:
        assert f'envs/{env.name}.hcl: account_id: "{env.account_id}" is a placeholder' in precondition["error_message"]


def test_terraform_itself_refuses_to_plan_the_registry_while_placeholders_remain(
    stacks: dict[str, Stack], tmp_path: Path
) -> None:
    """The guard, run by the real Terraform CLI (no provider needed for locals and outputs)."""
    stack = stacks["registry"]
    guard = {
        "terraform": {"required_version": stack["terraform"]["required_version"]},
        "locals": stack["locals"],
        "output": {"placeholder-account-ids": stack["output"]["placeholder-account-ids"]},
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(guard))
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    plan = subprocess.run(
        ["terraform", "plan", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert plan.returncode == 1, plan.stdout
    message = " ".join(plan.stderr.split())
    assert "Module output value precondition failed" in message
    assert 'envs/staging.hcl: account_id: "111111111111" is a placeholder' in message
    assert "before deploying registry" in message


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
    # No access key in Terraform: its secret would sit in state. Operators create keys (docs/runbooks/).
    assert not resources(stack, "aws_iam_access_key")


def test_ci_push_role_trusts_only_the_configured_repository_and_may_push_only_the_api_image(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    stack = stacks["registry"]
    role_id, role = named(stack, "aws_iam_role", "LITTIL-NL-api-ecr-push")
    (trust,) = policy_statements(stack, role["assume_role_policy"])
    provider_id, provider = only(resources(stack, "aws_iam_openid_connect_provider"))
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert trust["principals"] == [
        {"type": "Federated", "identifiers": [ref("aws_iam_openid_connect_provider", provider_id, "arn")]}
    ]
    assert (config.shared.github.org, config.shared.github.repo) == ("Devoxx4Kids-NPO", "littil-backend")
    assert sorted(trust["condition"], key=lambda c: c["variable"]) == [
        {
            "test": "StringEquals",
            "variable": "token.actions.githubusercontent.com:aud",
            "values": ["sts.amazonaws.com"],
        },
        {
            "test": "StringLike",
            "variable": "token.actions.githubusercontent.com:sub",
            "values": [
                "repo:Devoxx4Kids-NPO/littil-backend:ref:refs/heads/main",
                "repo:Devoxx4Kids-NPO/littil-backend:ref:refs/tags/v?*.?*.?*",
            ],
        },
    ]
    (attachment,) = [
        a
        for a in resources(stack, "aws_iam_role_policy_attachment").values()
        if a["role"] == ref("aws_iam_role", role_id, "name")
    ]
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


def test_without_mutable_tags_every_tag_is_immutable_and_an_existing_oidc_provider_is_trusted(
    config: AppConfig,
) -> None:
    from cdktf import Testing

    from stacks.registry import RegistryStack
    from tests.modules.alone import scratch_app

    shared = config.shared.model_copy(
        update={
            "registry": config.shared.registry.model_copy(update={"api_mutable_tags": ()}),
            "github": config.shared.github.model_copy(update={"create_oidc_provider": False}),
        }
    )
    with scratch_app() as app:
        stack = json.loads(Testing.synth(RegistryStack(app, env=shared, pull_account_ids=FILLED_IN)))
    _, api = repository(stack, "littil-backend")
    assert api["image_tag_mutability"] == "IMMUTABLE"
    assert "image_tag_mutability_exclusion_filter" not in api
    assert repository(stack, "littil-backend-maintenance")[1]["image_tag_mutability"] == "IMMUTABLE"

    # With create_oidc_provider = false the existing provider is looked up and trusted instead.
    assert not resources(stack, "aws_iam_openid_connect_provider")
    lookup_id, lookup = only(stack["data"]["aws_iam_openid_connect_provider"])
    assert lookup["url"] == "https://token.actions.githubusercontent.com"
    for role in resources(stack, "aws_iam_role").values():  # the push role and the plan role
        (trust,) = policy_statements(stack, role["assume_role_policy"])
        assert trust["principals"][0]["identifiers"] == [data_ref("aws_iam_openid_connect_provider", lookup_id, "arn")]
