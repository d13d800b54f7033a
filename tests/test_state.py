"""Providers, tags and state: every stack is locked to its account and keeps state safely."""

from __future__ import annotations

import json

import pytest

from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from modules.naming import state_access_log_bucket_name, state_bucket_name
from tests.tf import Stack, data_ref, data_sources, only, policy_statements, ref, resources, state_bucket


def env_of(stack_name: str, config: AppConfig) -> SharedEnvironment | WorkloadEnvironment:
    name = "shared" if stack_name == "registry" else stack_name.rsplit("-", 1)[1]
    return next(env for env in config.environments if env.name == name)


def test_app_has_state_per_environment_the_registry_and_each_workload_component(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    workload_components = ("certificate", "network", "database", "api", "maintenance")
    workloads = [env.name for env in config.workloads]
    assert {"staging", "production"} <= set(workloads)
    assert set(stacks) == {
        "registry",
        "backup-vaults-shared",
        *(f"state-{env.name}" for env in config.environments),
        *(f"alerts-{env.name}" for env in config.environments),
        *(f"{component}-{env}" for component in workload_components for env in workloads),
    }


def test_every_provider_is_locked_to_its_environment_account_region_and_tags(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    for name, stack in stacks.items():
        env = env_of(name, config)
        default, *others = stack["provider"]["aws"]
        assert "alias" not in default, name
        assert default["region"] == env.region, name
        # A second provider only where AWS needs another region: Route53 health-check alarms (us-east-1), the
        # database's copies (backup_copies.region), the shared vault of an environment in another region.
        elsewhere: set[str | None] = {"us-east-1"}
        if name.startswith("database-"):
            elsewhere = {config.workload(env.name).backup_copies.region}
        if name == "backup-vaults-shared":
            elsewhere = {copying.region for copying in config.workloads if copying.backup_copies.shared_account}
        for other in others:
            assert other["alias"] == other["region"], name
            assert other["region"] in elsewhere - {env.region}, name
        for provider in (default, *others):
            assert provider["allowed_account_ids"] == [env.account_id], name
            assert provider["default_tags"] == [
                {"tags": {"Project": "LITTIL", "Environment": env.name, "Stack": name, "ManagedBy": "cdktf"}}
            ], name
            assert not {"access_key", "secret_key", "profile", "token"} & set(provider), name


def test_every_stack_but_state_keeps_state_in_its_environments_bucket(
    stacks: dict[str, Stack], config: AppConfig
) -> None:
    remote = {name: stack for name, stack in stacks.items() if not name.startswith("state-")}
    assert remote, "no stack uses remote state"
    for name, stack in remote.items():
        env = env_of(name, config)
        component = name if name == "registry" else name.rsplit("-", 1)[0]
        bucket_name = state_bucket(stacks[f"state-{env.name}"])[1]["bucket"]
        assert stack["terraform"]["backend"] == {
            "s3": {
                "bucket": bucket_name,
                "key": f"littil/{env.name}/{component}.tfstate",
                "region": env.region,
                "encrypt": True,
                # SSE-KMS with the account's S3 key, like the bucket's default (without it: SSE-S3).
                "kms_key_id": "alias/aws/s3",
                "use_lockfile": True,
            }
        }, name


def test_every_stack_requires_a_terraform_that_knows_s3_lock_files(stacks: dict[str, Stack]) -> None:
    # `use_lockfile` is generally available from Terraform 1.11 (experimental in 1.10).
    assert {name: stack["terraform"]["required_version"] for name, stack in stacks.items()} == {
        name: ">= 1.11" for name in stacks
    }


def test_state_stacks_bootstrap_with_local_state_outside_cdktf_out(stacks: dict[str, Stack], config: AppConfig) -> None:
    for env in config.environments:
        assert env.state.store_own_state_in_bucket is False
        backend = stacks[f"state-{env.name}"]["terraform"]["backend"]
        # Terraform runs in cdktf.out/stacks/<stack>; the file lands in the project root.
        assert backend == {"local": {"path": f"../../../terraform.state-{env.name}.tfstate"}}


@pytest.mark.parametrize("env_name", ["shared", "staging", "production"])
def test_each_accounts_state_bucket_takes_its_name_and_history_from_config_and_is_undestroyable(
    stacks: dict[str, Stack], config: AppConfig, env_name: str
) -> None:
    """The bucket's own rules (versioning, KMS, private, TLS only) are tests/modules/test_state_bucket.py."""
    stack = stacks[f"state-{env_name}"]
    env = env_of(f"state-{env_name}", config)
    name, bucket = state_bucket(stack)
    assert bucket["bucket"] == state_bucket_name(env.country, env.name, env.account_id)
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    (lifecycle,) = [
        body
        for body in resources(stack, "aws_s3_bucket_lifecycle_configuration").values()
        if body["bucket"] == ref("aws_s3_bucket", name, "id")
    ]
    (rule,) = lifecycle["rule"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": env.state.noncurrent_version_expiration_days}]


@pytest.mark.parametrize("env_name", ["shared", "staging", "production"])
def test_each_state_bucket_logs_its_requests_to_the_accounts_state_log_bucket(
    stacks: dict[str, Stack], config: AppConfig, env_name: str
) -> None:
    """The log bucket's own rules are tests/modules/test_state_bucket.py; here: names and the account."""
    stack = stacks[f"state-{env_name}"]
    env = env_of(f"state-{env_name}", config)
    state_id, _ = state_bucket(stack)
    (log_id,) = [
        key
        for key, body in resources(stack, "aws_s3_bucket").items()
        if body["bucket"] == state_access_log_bucket_name(env.country, env.name, env.account_id)
    ]
    (logging,) = resources(stack, "aws_s3_bucket_logging").values()
    assert (logging["bucket"], logging["target_bucket"]) == (
        ref("aws_s3_bucket", state_id, "id"),
        ref("aws_s3_bucket", log_id, "id"),
    )
    # The account that may deliver logs is the provider's own, never a placeholder from config.
    caller, _ = only(data_sources(stack, "aws_caller_identity"))
    (policy,) = [
        p
        for p in resources(stack, "aws_s3_bucket_policy").values()
        if p["bucket"] == ref("aws_s3_bucket", log_id, "id")
    ]
    (delivery,) = [s for s in policy_statements(stack, policy["policy"]) if s["effect"] == "Allow"]
    assert {c["variable"]: c["values"] for c in delivery["condition"]} == {
        "aws:SourceArn": [ref("aws_s3_bucket", state_id, "arn")],
        "aws:SourceAccount": [data_ref("aws_caller_identity", caller, "account_id")],
    }


def test_state_stack_can_move_its_own_state_into_its_bucket(config: AppConfig) -> None:
    """After bootstrap, `store_own_state_in_bucket = true` gives state-<env> the S3 backend too."""

    from cdktf import Testing

    from stacks.state import StateStack
    from tests.modules.alone import scratch_app

    staging = config.workload("staging")
    migrated = staging.model_copy(
        update={"state": staging.state.model_copy(update={"store_own_state_in_bucket": True})}
    )
    with scratch_app() as app:
        stack = json.loads(Testing.synth(StateStack(app, env=migrated)))
    bucket = state_bucket(stack)[1]["bucket"]
    assert stack["terraform"]["backend"]["s3"]["bucket"] == bucket
    assert stack["terraform"]["backend"]["s3"]["key"] == "littil/staging/state.tfstate"
    assert stack["terraform"]["backend"]["s3"]["use_lockfile"] is True
    assert not data_sources(stack, "aws_dynamodb_table")
