"""The one naming helper for physical names."""

from __future__ import annotations

import pytest

from modules.naming import physical_name, state_bucket_name, state_key


def test_names_follow_the_littil_country_env_convention() -> None:
    assert physical_name("NL", "staging", "littil-api", "ECSExec-User") == "LITTIL-NL-staging-littil-api-ECSExec-User"
    assert (
        physical_name("NL", "production", "maintenance", "ECSExec-User")
        == "LITTIL-NL-production-maintenance-ECSExec-User"
    )


def test_names_shared_by_all_environments_leave_the_environment_out() -> None:
    assert physical_name("NL", None, "api", "ecr-push") == "LITTIL-NL-api-ecr-push"


@pytest.mark.parametrize("parts", [(), ("",), ("two words",)])
def test_names_reject_empty_or_spaced_parts(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="name"):
        physical_name("NL", "staging", *parts)


def test_state_bucket_names_are_lower_case_and_unique_per_account() -> None:
    name = state_bucket_name("NL", "staging", "111111111111")
    assert name == "littil-nl-staging-terraform-state-111111111111"
    assert name != state_bucket_name("NL", "staging", "222222222222")
    assert len(name) <= 63


def test_state_keys_are_per_environment_and_component() -> None:
    assert state_key("staging", "database") == "littil/staging/database.tfstate"
