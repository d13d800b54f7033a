"""modules/ecr.py alone: an immutable, scanned repository, its lifecycle, cross-account pull and push-pull user."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack

from modules.access.aws_actions import ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS
from modules.ecr import Repository, lifecycle_rules
from tests.modules.alone import Built, attached_to_group, build, has_no_resource, has_resource, in_group
from tests.tf import Stack, only, policy_statements, ref, resources

PULL_ACCOUNTS = ("210987654321", "220987654321")


def repository(
    *, pull_account_ids: Sequence[str], mutable_tags: Sequence[str] = (), **lifecycle: int
) -> Built[Repository]:
    def make(stack: TerraformStack) -> Repository:
        made = Repository(
            stack,
            "repo",
            name="test-images",
            pull_account_ids=pull_account_ids,
            push_pull_name="TEST-test-images-ecr-pushpull",
            mutable_tags=mutable_tags,
            **{"untagged_expiry_days": 14, "tagged_images_to_keep": 30, **lifecycle},
        )
        TerraformOutput(stack, "push-pull-policy-arn", value=made.push_pull_policy_arn)
        return made

    return build(make)


@pytest.fixture(scope="module")
def defaults() -> Built[Repository]:
    return repository(pull_account_ids=())


@pytest.fixture(scope="module")
def shared() -> Built[Repository]:
    return repository(
        pull_account_ids=PULL_ACCOUNTS,
        mutable_tags=("latest", "dev-*"),
        untagged_expiry_days=7,
        tagged_images_to_keep=10,
    )


def repository_id(stack: Stack) -> str:
    return only(resources(stack, "aws_ecr_repository"))[0]


def lifecycle_of(stack: Stack) -> list[dict[str, Any]]:
    _, lifecycle = only(resources(stack, "aws_ecr_lifecycle_policy"))
    assert lifecycle["repository"] == ref("aws_ecr_repository", repository_id(stack), "name")
    return list(json.loads(lifecycle["policy"])["rules"])


def test_lifecycle_expires_untagged_images_first_then_keeps_the_newest_tagged() -> None:
    untagged, tagged = json.loads(lifecycle_rules(untagged_expiry_days=5, tagged_images_to_keep=12))["rules"]
    assert untagged["rulePriority"] < tagged["rulePriority"]
    assert untagged["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 5,
    }
    assert tagged["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["*"],
        "countType": "imageCountMoreThan",
        "countNumber": 12,
    }
    assert untagged["action"] == tagged["action"] == {"type": "expire"}


def test_repository_scans_on_push_encrypts_and_keeps_every_tag_immutable_by_default(
    defaults: Built[Repository],
) -> None:
    _, repo = only(resources(defaults.stack, "aws_ecr_repository"))
    assert has_resource(
        defaults,
        "aws_ecr_repository",
        {
            "name": "test-images",
            "image_scanning_configuration": {"scan_on_push": True},
            "encryption_configuration": [{"encryption_type": "AES256"}],
            "image_tag_mutability": "IMMUTABLE",
        },
    )
    assert "image_tag_mutability_exclusion_filter" not in repo
    assert "force_delete" not in repo  # a destroy never takes images with it


def test_mutable_tags_are_the_only_tags_that_may_move(shared: Built[Repository]) -> None:
    _, repo = only(resources(shared.stack, "aws_ecr_repository"))
    assert repo["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repo["image_tag_mutability_exclusion_filter"] == [
        {"filter": "latest", "filter_type": "WILDCARD"},
        {"filter": "dev-*", "filter_type": "WILDCARD"},
    ]
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}


def test_lifecycle_keeps_thirty_tagged_images_and_untagged_ones_two_weeks_by_default(
    defaults: Built[Repository],
) -> None:
    untagged, tagged = lifecycle_of(defaults.stack)
    assert (untagged["selection"]["countNumber"], tagged["selection"]["countNumber"]) == (14, 30)


def test_lifecycle_takes_the_given_expiry_and_count(shared: Built[Repository]) -> None:
    untagged, tagged = lifecycle_of(shared.stack)
    assert (untagged["selection"]["countNumber"], tagged["selection"]["countNumber"]) == (7, 10)
    assert untagged["selection"]["tagStatus"] == "untagged"


def test_each_pull_account_may_pull_this_repository_and_nothing_more(shared: Built[Repository]) -> None:
    stack = shared.stack
    _, policy = only(resources(stack, "aws_ecr_repository_policy"))
    assert policy["repository"] == ref("aws_ecr_repository", repository_id(stack), "name")
    assert policy_statements(stack, policy["policy"]) == [
        {
            "sid": "WorkloadAccountsPull",
            "effect": "Allow",
            "actions": list(ECR_PULL_ACTIONS),
            "principals": [
                {"type": "AWS", "identifiers": [f"arn:aws:iam::{account}:root" for account in PULL_ACCOUNTS]}
            ],
        }
    ]


def test_without_pull_accounts_no_other_account_may_pull(defaults: Built[Repository]) -> None:
    assert has_no_resource(defaults, "aws_ecr_repository_policy")
    for document in defaults.stack["data"]["aws_iam_policy_document"].values():
        assert not any("principals" in statement for statement in document["statement"])


def test_push_pull_policy_covers_exactly_this_repository_and_the_registry_login(shared: Built[Repository]) -> None:
    stack = shared.stack
    policy_id, policy = only(resources(stack, "aws_iam_policy"))
    assert (policy["name"], policy["description"]) == (
        "TEST-test-images-ecr-pushpull",
        "Push and pull images of ECR repository test-images",
    )
    token, images = policy_statements(stack, policy["policy"])
    assert (token["actions"], token["resources"]) == (["ecr:GetAuthorizationToken"], ["*"])
    assert images["resources"] == [ref("aws_ecr_repository", repository_id(stack), "arn")]
    assert images["actions"] == [*ECR_PULL_ACTIONS, *ECR_PUSH_ACTIONS, "ecr:DescribeImages", "ecr:ListImages"]
    # The construct hands that policy on (the CI push role attaches it).
    assert stack["output"]["push-pull-policy-arn"]["value"] == ref("aws_iam_policy", policy_id, "arn")


def test_push_pull_user_gets_the_policy_through_its_group_and_no_access_key(shared: Built[Repository]) -> None:
    stack = shared.stack
    only(resources(stack, "aws_iam_policy"))  # exactly one
    only(resources(stack, "aws_iam_group"))  # exactly one
    only(resources(stack, "aws_iam_user"))  # exactly one
    assert has_resource(shared, "aws_iam_group", {"name": "TEST-test-images-ecr-pushpull"})
    assert has_resource(shared, "aws_iam_user", {"name": "TEST-test-images-ecr-pushpull-User", "force_destroy": True})
    assert attached_to_group(shared, policy="TEST-test-images-ecr-pushpull", group="TEST-test-images-ecr-pushpull")
    assert in_group(shared, user="TEST-test-images-ecr-pushpull-User", group="TEST-test-images-ecr-pushpull")
    # Operators create the user's keys; Terraform would keep their secret in state.
    assert has_no_resource(shared, "aws_iam_access_key")
