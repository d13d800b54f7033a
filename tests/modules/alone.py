"""Build one construct alone: a `Testing.app()`, one stack, a stub AWS provider, only the inputs it needs.

Nothing here reads envs/ or builds the app: a construct test states every input itself, so a
failure points at the construct. The provider import is the session's (tests/conftest.py
installs the lazy loader first), so a construct test costs one small synthesis.

    built = build(lambda stack: Network(stack, "network", ...))
    assert has_resource(built, "aws_nat_gateway", {"connectivity_type": "public"})
    name, subnet = only(resources(built.stack, "aws_subnet"))      # tests/tf.py helpers on the same JSON
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cdktf import App, TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider

from tests.tf import Stack, named, ref

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
T = TypeVar("T")


@dataclass(frozen=True)
class Built(Generic[T]):
    """What `build` made: the construct (for what it exposes), and its stack synthesized by `Testing.synth`."""

    construct: T
    json: str  # for CDKTF's matchers (Testing.to_have_resource_with_properties, ...)
    stack: Stack  # the same JSON as a dict, for references and the helpers in tests/tf.py


@contextlib.contextmanager
def scratch_app() -> Iterator[App]:
    """`Testing.app()` whose output folder goes away afterwards (by default CDKTF leaves one per app in /tmp)."""
    with tempfile.TemporaryDirectory(prefix="littil-test-app-") as outdir:
        yield Testing.app(outdir=outdir)


def build(make: Callable[[TerraformStack], T], *, region: str = REGION) -> Built[T]:
    """`make(stack)` in a fresh test app whose only other content is a stub AWS provider."""
    with scratch_app() as app:
        stack = TerraformStack(app, "construct-under-test")
        AwsProvider(stack, "aws", region=region, allowed_account_ids=[ACCOUNT_ID])
        construct = make(stack)
        synthesized = Testing.synth(stack)
    return Built(construct, synthesized, json.loads(synthesized))


def has_resource(built: Built[Any], resource_type: str, properties: Mapping[str, Any]) -> bool:
    """CDKTF's matcher: some `resource_type` has these properties (a subset match; lists must match exactly)."""
    return bool(Testing.to_have_resource_with_properties(built.json, resource_type, dict(properties)))


def has_data_source(built: Built[Any], data_type: str, properties: Mapping[str, Any]) -> bool:
    return bool(Testing.to_have_data_source_with_properties(built.json, data_type, dict(properties)))


def has_no_resource(built: Built[Any], resource_type: str) -> bool:
    return not Testing.to_have_resource(built.json, resource_type)


def in_group(built: Built[Any], *, user: str, group: str) -> bool:
    """The IAM user named `user` is a member of the group named `group` (by reference, not by name)."""
    user_id, _ = named(built.stack, "aws_iam_user", user)
    group_id, _ = named(built.stack, "aws_iam_group", group)
    return has_resource(
        built,
        "aws_iam_user_group_membership",
        {"user": ref("aws_iam_user", user_id, "name"), "groups": [ref("aws_iam_group", group_id, "name")]},
    )


def attached_to_group(built: Built[Any], *, policy: str, group: str) -> bool:
    """The managed policy named `policy` is attached to the group named `group` (by reference)."""
    policy_id, _ = named(built.stack, "aws_iam_policy", policy)
    group_id, _ = named(built.stack, "aws_iam_group", group)
    return has_resource(
        built,
        "aws_iam_group_policy_attachment",
        {"group": ref("aws_iam_group", group_id, "name"), "policy_arn": ref("aws_iam_policy", policy_id, "arn")},
    )
