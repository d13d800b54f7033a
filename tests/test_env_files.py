"""Reading envs/ (config/envfiles.py): every file meant as an environment is read, whole, or refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.loader import ConfigError, load_config
from tests.conftest import ENVS_DIR

STAGING = (ENVS_DIR / "staging.hcl").read_text()
# A new environment the runbook's way (docs/runbooks/add-environment.md), three lines long.
NEW = 'account_id = "333333333333"\ndomain = "acceptance.littil.org"\ncors_origin = "https://acceptance.littil.org"\n'


def refusal(tmp_path: Path, name: str, content: str | bytes) -> ConfigError:
    """The error loading a copy of envs/ with the file `name` added or replaced."""
    envs = tmp_path / "envs"
    shutil.copytree(ENVS_DIR, envs)
    target = envs / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config(envs)
    return caught.value


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        pytest.param('region = "eu-west-1"\nregion = "eu-central-1"\n', "region", (1, 2), id="attribute-twice"),
        pytest.param(
            "database {\n  multi_az = true\n}\ndatabase = {\n  multi_az = false\n}\n",
            "database",
            (1, 4),
            id="block-then-attribute",
        ),
        pytest.param(
            "database = {\n  multi_az = false\n}\ndatabase {\n  multi_az = true\n}\n",
            "database",
            (1, 4),
            id="attribute-then-block",
        ),
        pytest.param(
            "database {\n  multi_az = true\n}\ndatabase {\n  allocated_storage_gb = 30\n}\n",
            "database",
            (1, 4),
            id="block-twice",
        ),
        pytest.param(
            "database {\n  multi_az = true\n  multi_az = false\n}\n", "database.multi_az", (2, 3), id="nested-attribute"
        ),
        pytest.param(
            "database = {\n  multi_az = true,\n  multi_az = false\n}\n",
            "database.multi_az",
            (2, 3),
            id="object-key-twice",
        ),
    ],
)
def test_a_key_given_twice_in_any_form_is_refused_with_both_lines(
    tmp_path: Path, text: str, key: str, lines: tuple[int, int]
) -> None:
    # One form would replace the other whole: production would get a smaller, differently named database.
    offset = len(NEW.splitlines())
    error = refusal(tmp_path, "acceptance.hcl", NEW + text)
    assert (error.file.name, error.key) == ("acceptance.hcl", key)
    assert error.problem == f"given twice (lines {lines[0] + offset} and {lines[1] + offset}); give it once"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("acceptance.HCL", "would be skipped: environment files end in lower-case .hcl (rename it acceptance.hcl)"),
        ("acceptance.hcl.txt", "would be skipped: environment files end in lower-case .hcl (rename it acceptance.hcl)"),
        ("acceptance.hcl ", "would be skipped: the name has spaces around it; rename it 'acceptance.hcl'"),
        (" acceptance.hcl", "would be skipped: the name has spaces around it; rename it 'acceptance.hcl'"),
        ("acceptance.tfvars", "would be skipped: envs/ holds environment files (<name>.hcl) only; move it elsewhere"),
    ],
)
def test_a_file_meant_as_an_environment_that_would_be_skipped_is_refused(
    tmp_path: Path, name: str, expected: str
) -> None:
    error = refusal(tmp_path, name, NEW)
    assert (error.file.name, error.key, error.problem) == (name, None, expected)


def test_hidden_files_such_as_an_editors_swap_file_are_left_alone(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    shutil.copytree(ENVS_DIR, envs)
    (envs / ".staging.hcl.swp").write_bytes(b"\x00\xffvim swap")
    assert [env.name for env in load_config(envs).workloads] == [env.name for env in load_config(ENVS_DIR).workloads]


def test_a_file_that_is_not_utf8_names_the_line_and_the_fix(tmp_path: Path) -> None:
    latin1 = (STAGING + '# Caf\u00e9 owner\ndomain = "x"\n').encode("latin-1")
    error = refusal(tmp_path, "staging.hcl", latin1)
    assert error.file.name == "staging.hcl"
    assert error.problem == f"is not UTF-8 text (line {len(STAGING.splitlines()) + 1}); save it as UTF-8 in your editor"
    assert "codec" not in str(error)
    assert "byte" not in str(error)
