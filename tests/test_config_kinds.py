"""Rules across settings that the mistake table (test_config_table.py) does not reach: each refused at load with the
key to fix, and the valid choice at its edge accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envs_copy import COMMON, PRODUCTION, UAT, assert_refused, load_config_of, with_ec2_setting


def test_a_domain_whose_api_host_is_64_characters_is_accepted(tmp_path: Path) -> None:
    # ACM certifies api.<domain>, up to 64 characters; the table tries one more. Its own account id: the
    # added-environment run of the suite holds another environment in UAT's.
    domain = "a" * 49 + ".littil.org"
    fits = UAT.replace('domain = "uat.littil.org"', f'domain = "{domain}"').replace("333333333333", "345678901234")
    assert len(load_config_of(tmp_path, uat=fits).workload("uat").api_domain) == 64


def test_the_plan_roles_trust_never_goes_to_the_application_repository(tmp_path: Path) -> None:
    text = COMMON.replace('github_repo = "littil-infrastructure"', 'github_repo = "Littil-Backend"')
    assert_refused(tmp_path, {"common": text}, "common.hcl", "ci.github_repo", "is the application's repository")


def test_ssh_sources_without_a_key_to_log_in_with_are_refused(tmp_path: Path) -> None:
    text = with_ec2_setting('ssh_allowed_cidrs = ["198.51.100.7/32"]')
    assert_refused(tmp_path, {"production": text}, "production.hcl", "api.ec2.ssh_allowed_cidrs", "with no key on")


def in_block(text: str, block: str, inner: str) -> str:
    """`text` with `inner` (lines, or a nested block) added inside its top-level `block { ... }`, made if missing."""
    if f"\n{block} {{\n" in f"\n{text}":
        return text.replace(f"{block} {{\n", f"{block} {{\n  {inner}\n", 1)
    return f"{text}\n{block} {{\n  {inner}\n}}\n"


@pytest.mark.parametrize(("instance", "refused"), [("m7i.large", True), ("t3.small", False)])
def test_a_cpu_credit_alarm_of_an_instance_without_credits_is_refused(
    tmp_path: Path, instance: str, refused: bool
) -> None:
    text = in_block(PRODUCTION, "api", f'ec2 {{\n    instance_type = "{instance}"\n  }}')
    text = in_block(text, "alarms", "cpu_credit_balance = 5")
    if refused:
        assert_refused(tmp_path, {"production": text}, "production.hcl", "alarms.cpu_credit_balance", "not burstable")
    else:
        assert load_config_of(tmp_path, production=text).workload("production").alarms.cpu_credit_balance == 5
