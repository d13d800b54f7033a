"""What validation refuses across environments (config/across.py): what one environment claims (its account, its
names, its origin) another may not, the registry keeps what every environment runs, and a GitHub name has one
spelling. Each conflict is named in the file edited last, with the other file beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envs_copy import (
    COMMON,
    PRODUCTION,
    SHARED,
    STAGING,
    UAT,
    assert_refused,
    load_config_of,
    load_error,
)


@pytest.mark.parametrize(
    ("files", "file", "key", "expected"),
    [
        pytest.param(
            {"staging": STAGING.replace('account_id = "111111111111"', 'account_id = "222222222222"')},
            "staging.hcl",
            "account_id",
            "222222222222 is also production's account (",
            id="two-environments-in-one-account",
        ),
        pytest.param(
            # production loads before shared: the file the operator edited is named, not the one loaded last.
            {"production": PRODUCTION.replace('account_id = "222222222222"', 'account_id = "680278545709"')},
            "production.hcl",
            "account_id",
            "680278545709 is also shared's account (",
            id="the-edited-file-named-though-it-loads-first",
        ),
        pytest.param(
            {"staging": STAGING.replace('account_id = "111111111111"', 'account_id = "680278545709"')},
            "staging.hcl",
            "account_id",
            "also shared's account",
            id="workload-in-the-registry-account",
        ),
        pytest.param(
            {"uat": UAT.replace('"uat.littil.org"', '"staging.littil.org"')},
            "uat.hcl",
            "domain",
            "staging.littil.org is also staging's (its domain, API host or mail domain; ",
            id="domain-of-another-environment",
        ),
        pytest.param(
            {"uat": UAT + 'mail_domain = "api.littil.org"\n'},
            "uat.hcl",
            "mail_domain",
            "api.littil.org is also production's",
            id="mail-domain-that-is-another-environments-api-host",
        ),
        pytest.param(
            {"shared": SHARED + 'registry {\n  api_mutable_tags = ["latest", "1.6.0"]\n}\n'},
            "shared.hcl",
            "registry.api_mutable_tags",
            "runs: a push under a mutable tag would change what it runs; keep release tags immutable",
            id="running-a-tag-a-push-can-move",
        ),
        pytest.param(
            {
                "shared": SHARED + "registry {\n  tagged_images_to_keep = 1\n}\n",
                "staging": STAGING.replace("api {\n", 'api {\n  image_tag = "1.6.1"\n'),
            },
            "shared.hcl",
            "registry.tagged_images_to_keep",
            "must be at least 8: the environments run 2 api image(s) (1.6.0, 1.6.1), 1 mutable tag(s) hold one each",
            id="lifecycle-that-expires-a-running-image",
        ),
        pytest.param(
            {
                "staging": STAGING.replace(
                    'cors_origin = "https://staging.littil.org"', 'cors_origin = "https://api.littil.org"'
                )
            },
            "staging.hcl",
            "cors_origin",
            "https://api.littil.org is production's API, not a web app",
            id="cors-origin-of-another-environments-api",
        ),
        pytest.param(
            {"common": COMMON.replace('github_org  = "Devoxx4Kids-NPO"', 'github_org  = "devoxx4kids-npo"')},
            "common.hcl",
            "ci.github_org",
            '"devoxx4kids-npo" is spelt "Devoxx4Kids-NPO" in ',
            id="one-organisation-spelt-two-ways-in-the-defaults",
        ),
    ],
)
def test_a_value_two_environments_claim_names_file_key_and_expectation(
    tmp_path: Path, files: dict[str, str], file: str, key: str, expected: str
) -> None:
    assert_refused(tmp_path, files, file, key, expected)


def test_a_spelling_in_the_defaults_is_fixed_there(tmp_path: Path) -> None:
    text = COMMON.replace('github_org  = "Devoxx4Kids-NPO"', 'github_org  = "devoxx4kids-npo"')
    assert "(a default: fix it here" in load_error(tmp_path, common=text).problem


def test_a_repository_named_like_the_organisation_in_another_case_is_no_second_spelling(tmp_path: Path) -> None:
    # Organisations and repositories are compared among their own kind: this is a repository, not the org misspelt.
    text = COMMON.replace('repo = "littil-backend"', 'repo = "devoxx4kids-npo"')
    assert load_config_of(tmp_path, common=text).shared.github.repo == "devoxx4kids-npo"
