"""Kinds of mistakes that used to pass and fail at deploy, or never work: each refused at load with the key to fix.

Each kind is tried on every field it applies to where the app has several (domains, SSH sources).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from config.envfiles import read_hcl
from config.settings import Ec2ApiConfig, EcsApiConfig
from tests.conftest import ENVS_DIR
from tests.envs_copy import (
    COMMON,
    PRODUCTION,
    SHARED,
    STAGING,
    UAT,
    assert_refused,
    load_config_of,
    with_ec2_setting,
)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"


def with_ssh(*lines: str) -> str:
    return with_ec2_setting("\n    ".join(lines))


@pytest.mark.parametrize("name", ["mysql", "sys", "information_schema", "performance_schema", "MySQL"])
def test_a_database_named_like_one_of_mariadbs_own_is_refused(tmp_path: Path, name: str) -> None:
    text = STAGING.replace('name                     = "LittilDatabase"', f'name                     = "{name}"')
    assert_refused(tmp_path, {"staging": text}, "staging.hcl", "database.name", "a database name of your own")


@pytest.mark.parametrize("cidr", ["11.0.0.0/16", "172.32.0.0/16", "192.169.0.0/16", "100.64.0.0/16"])
def test_a_vpc_outside_private_address_space_is_refused(tmp_path: Path, cidr: str) -> None:
    text = COMMON.replace('vpc_cidr           = "10.0.0.0/16"', f'vpc_cidr           = "{cidr}"')
    assert_refused(tmp_path, {"common": text}, "common.hcl", "network.vpc_cidr", "a private IPv4 network (RFC 1918")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("domain", "staging.example.com"),
        ("domain", "littil.test"),
        ("cors_origin", "https://www.example.org"),
        ("cors_origin", "https://app.localhost:8443"),
        ("mail_domain", "mail.example.net"),
    ],
)
def test_a_reserved_domain_is_refused_wherever_a_domain_is_taken(tmp_path: Path, field: str, value: str) -> None:
    text = (
        UAT + f'{field} = "{value}"\n'
        if field == "mail_domain"
        else UAT.replace(
            f'{field} = "{"uat.littil.org" if field == "domain" else "https://uat.littil.org"}"', f'{field} = "{value}"'
        )
    )
    assert_refused(tmp_path, {"uat": text}, "uat.hcl", field, "a domain of your own")


def test_a_domain_too_long_for_the_apis_certificate_is_refused(tmp_path: Path) -> None:
    long = "a" * 50 + ".littil.org"  # api.<it> is 65 characters: ACM refuses more than 64
    text = UAT.replace('domain = "uat.littil.org"', f'domain = "{long}"')
    assert_refused(tmp_path, {"uat": text}, "uat.hcl", "domain", "at most 60 characters")
    # Its own account id: the added-environment run of the suite holds another environment in UAT's.
    fits = UAT.replace('domain = "uat.littil.org"', f'domain = "{long[1:]}"').replace("333333333333", "345678901234")
    assert load_config_of(tmp_path / "fits", uat=fits).workload("uat").api_domain == f"api.{long[1:]}"


def test_the_plan_roles_trust_never_goes_to_the_application_repository(tmp_path: Path) -> None:
    text = COMMON.replace('github_repo = "littil-infrastructure"', 'github_repo = "Littil-Backend"')
    assert_refused(tmp_path, {"common": text}, "common.hcl", "ci.github_repo", "is the application's repository")


def test_the_registry_keeps_latest_pushable_for_the_applications_ci(tmp_path: Path) -> None:
    text = SHARED + "registry {\n  api_mutable_tags = []\n}\n"
    assert_refused(tmp_path, {"shared": text}, "shared.hcl", "registry.api_mutable_tags", 'must hold "latest"')


@pytest.mark.parametrize(
    ("lines", "key", "expected"),
    [
        (['ssh_allowed_cidrs = ["198.51.100.7/32"]'], "api.ec2.ssh_allowed_cidrs", "with no key on the instance"),
        (
            [f'ssh_public_key = "{KEY}"', 'ssh_allowed_cidrs = ["198.51.100.7/32", "198.51.100.7/32"]'],
            "api.ec2.ssh_allowed_cidrs[1]",
            "is given twice",
        ),
        *(
            ([f'ssh_public_key = "{KEY}"', f'ssh_allowed_cidrs = ["{private}"]'], "api.ec2.ssh_allowed_cidrs[0]",
             "a source on the internet")
            for private in ("10.1.2.3/32", "172.20.0.0/16", "192.168.1.0/24", "100.100.0.1/32", "127.0.0.1/32")
        ),
    ],
    ids=["sources-without-a-key", "a-source-twice", "10-x", "172-20-x", "192-168-x", "cgnat", "loopback"],
)  # fmt: skip
def test_ssh_sources_that_could_never_log_in_are_refused(
    tmp_path: Path, lines: list[str], key: str, expected: str
) -> None:
    assert_refused(tmp_path, {"production": with_ssh(*lines)}, "production.hcl", key, expected)


@pytest.mark.parametrize("cut", [1, 10, 30])
def test_a_key_line_cut_short_is_refused_and_says_so(tmp_path: Path, cut: int) -> None:
    kind, data, comment = KEY.split()
    blob = base64.b64decode(data)[:-cut]
    short = f"{kind} {base64.b64encode(blob).decode()} {comment}"
    text = with_ssh(f'ssh_public_key = "{short}"')
    assert_refused(tmp_path, {"production": text}, "production.hcl", "api.ec2.ssh_public_key", "cut short or damaged")


def hcl(value: object) -> str:
    """A Python value as an HCL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(hcl(item) for item in value) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


def common_default(*path: str) -> object:
    tree: object = read_hcl(ENVS_DIR / "common.hcl")
    for part in path:
        assert isinstance(tree, dict)
        tree = tree[part]
    return tree


def in_block(text: str, block: str, inner: str) -> str:
    """`text` with `inner` (lines, or a nested block) added inside its top-level `block { ... }`, made if missing."""
    if f"\n{block} {{\n" in f"\n{text}":
        return text.replace(f"{block} {{\n", f"{block} {{\n  {inner}\n", 1)
    return f"{text}\n{block} {{\n  {inner}\n}}\n"


# Every setting of the other variant's block, set in an environment's own file (even to its default).
OTHER_VARIANT = [
    *((PRODUCTION, "production", "ecs", key) for key in EcsApiConfig.model_fields),
    *((STAGING, "staging", "ec2", key) for key in Ec2ApiConfig.model_fields if not key.startswith("ssh_")),
]


@pytest.mark.parametrize(
    ("text", "env", "block", "key"), OTHER_VARIANT, ids=[f"{e}-{b}.{k}" for _, e, b, k in OTHER_VARIANT]
)
def test_a_setting_of_the_other_variant_in_an_environments_file_has_no_effect_and_is_refused(
    tmp_path: Path, text: str, env: str, block: str, key: str
) -> None:
    changed = in_block(text, "api", f"{block} {{\n    {key} = {hcl(common_default('api', block, key))}\n  }}")
    assert_refused(tmp_path, {env: changed}, f"{env}.hcl", f"api.{block}.{key}", "has no effect: only applies with")


@pytest.mark.parametrize(
    ("env", "key", "instance", "expected"),
    [
        ("production", "http_5xx_per_5_minutes", None, "its alarm belongs to the other API variant"),
        ("production", "unhealthy_target_minutes", None, "its alarm belongs to the other API variant"),
        ("staging", "cpu_credit_balance", None, "its alarm belongs to the other API variant"),
        ("production", "cpu_credit_balance", "m7i.large", "is not burstable"),
        ("production", "cpu_credit_balance", "t3.small", None),
    ],
)
def test_an_alarm_threshold_this_environment_never_uses_is_refused(
    tmp_path: Path, env: str, key: str, instance: str | None, expected: str | None
) -> None:
    text = {"production": PRODUCTION, "staging": STAGING}[env]
    if instance is not None:
        text = in_block(text, "api", f'ec2 {{\n    instance_type = "{instance}"\n  }}')
    text = in_block(text, "alarms", f"{key} = 5")
    if expected is None:
        assert load_config_of(tmp_path, **{env: text}).workload(env).alarms.cpu_credit_balance == 5
    else:
        assert_refused(tmp_path, {env: text}, f"{env}.hcl", f"alarms.{key}", expected)


def test_a_region_without_ses_is_refused_for_an_environment_that_sends_mail(tmp_path: Path) -> None:
    # The one region of the commercial partition botocore's endpoint data gives no SES endpoint.
    zones = 'network {\n  availability_zones = ["ap-east-1a", "ap-east-1b"]\n}\n'
    text = UAT + 'region = "ap-east-1"\n' + zones
    assert_refused(tmp_path, {"uat": text}, "uat.hcl", "region", "ap-east-1 has no SES")


def test_another_environments_origin_copied_into_a_new_one_is_refused(tmp_path: Path) -> None:
    text = UAT.replace('cors_origin = "https://uat.littil.org"', 'cors_origin = "https://staging.littil.org"')
    text = text.replace("333333333333", "345678901234")  # the added-environment run holds another env in UAT's
    assert_refused(tmp_path, {"uat": text}, "uat.hcl", "cors_origin", "is also staging's (copied from its file?)")
