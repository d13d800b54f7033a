"""Messages that point at the line to fix: syntax errors with their likely cause, bare words, invisible characters,
problems of common.hcl named in common.hcl, and files in envs/ that are not environments."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import ConfigError, load_config
from tests.envs_copy import COMMON, STAGING, envs_with, with_ec2_setting


def problem(tmp_path: Path, **files: str) -> str:
    """`<file>: <key>: <problem>`, the file by its name alone."""
    with pytest.raises(ConfigError) as caught:
        load_config(envs_with(tmp_path, **files))
    error = caught.value
    return f"{error.file.name}: {error.key}: {error.problem}" if error.key else f"{error.file.name}: {error.problem}"


def after(text: str, anchor: str, insert: str) -> str:
    assert anchor in text
    return text.replace(anchor, anchor + insert, 1)


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def broken(text: str, old: str, new: str) -> tuple[str, int]:
    """`text` with `old` replaced by `new`, and the line `new` begins on."""
    assert old in text
    return text.replace(old, new, 1), text[: text.index(old)].count("\n") + 1


DATABASE_END = "  deletion_protection      = false # staging may be torn down\n}"
CORS = 'cors_origin = "https://staging.littil.org"'
STORAGE = "  max_allocated_storage_gb = 200"


# Each broken construct: the file and the line the construct began on, and the cause the message gives.
@pytest.mark.parametrize(
    ("broken_file", "cause"),
    [
        pytest.param(
            broken(STAGING, '"staging.littil.org"', "\u201cstaging.littil.org\u201d"),
            'curly quotes; type straight ones (")',
            id="curly-quotes",
        ),
        pytest.param(
            broken(STAGING, STORAGE, f"{STORAGE[:-3]}1,000"),
            "a thousands separator; write the number without it (1000)",
            id="thousands",
        ),
        pytest.param(
            broken(STAGING, CORS, CORS.replace(" = ", " ")), "a missing '=' between the key and its value", id="equals"
        ),
        pytest.param(
            (STAGING.replace(DATABASE_END, "  deletion_protection = false\n"), line_of(STAGING, "database {")),
            "the '{' opened there is never closed (a missing '}')",
            id="missing-brace",
        ),
        pytest.param(
            (STAGING.replace(CORS, CORS + "\n}"), line_of(STAGING, CORS) + 1), "a '}' that closes nothing", id="extra"
        ),
    ],
)
def test_a_syntax_error_names_the_line_where_the_construct_began_and_its_likely_cause(
    tmp_path: Path, broken_file: tuple[str, int], cause: str
) -> None:
    text, began = broken_file
    assert problem(tmp_path, staging=text) == f"staging.hcl: HCL syntax error at line {began}: {cause}"


def bare_variant(text: str) -> str:
    return after(text, "api {", "\n  variant = ecs")


@pytest.mark.parametrize(
    ("edit", "key", "word"),
    [
        (lambda t: t.replace('region  = "eu-west-1"', "region  = eu-west-1"), "region", "eu-west-1"),
        (bare_variant, "api.variant", "ecs"),
    ],
    ids=["top-level", "in-a-block"],
)  # fmt: skip
def test_a_bare_word_is_refused_with_the_quotes_to_add(tmp_path: Path, edit: object, key: str, word: str) -> None:
    assert callable(edit)
    text = edit(COMMON) if key == "region" else edit(STAGING)
    said = problem(tmp_path, **({"common": text} if key == "region" else {"staging": text}))
    assert f': {key}: {word} is a bare word, which HCL reads as a reference: put it in quotes, "{word}"' in said


@pytest.mark.parametrize("character", ["\u200b", "\u00a0", "\u2060", "\ufeff"])
def test_an_invisible_character_in_a_value_is_shown_escaped(tmp_path: Path, character: str) -> None:
    text = STAGING.replace('"staging.littil.org"', f'"staging{character}.littil.org"', 1)
    said = problem(tmp_path, staging=text)
    assert f"staging\\u{ord(character):04x}.littil.org" in said
    assert character not in said


@pytest.mark.parametrize(
    ("misspelt", "meant"),
    [("nmae", "name"), ("instance_clas", "instance_class"), ("multiaz", "multi_az")],
)
def test_a_misspelt_key_of_common_hcl_is_named_there_with_the_closest_valid_one(
    tmp_path: Path, misspelt: str, meant: str
) -> None:
    text = after(COMMON, "database {", f'\n  {misspelt} = "x"')
    said = problem(tmp_path, common=text)
    assert said.startswith(f"common.hcl: database.{misspelt}: unknown key; did you mean {meant}?")


def test_a_default_deleted_from_common_hcl_is_missing_in_common_hcl_not_in_an_environment(tmp_path: Path) -> None:
    text = "\n".join(line for line in COMMON.splitlines() if not line.strip().startswith("instance_class"))
    said = problem(tmp_path, common=text)
    assert said.startswith("common.hcl: database.instance_class: required value is missing")
    assert "staging.hcl" not in said
    assert "production.hcl" not in said


def test_a_key_each_environment_gives_is_missing_in_that_environments_file(tmp_path: Path) -> None:
    text = "\n".join(line for line in STAGING.splitlines() if not line.startswith("cors_origin"))
    assert problem(tmp_path, staging=text) == "staging.hcl: cors_origin: required value is missing"


@pytest.mark.parametrize("name", ["common2", "common-old", "commonbackup"])
def test_a_copy_of_common_hcl_says_it_is_not_an_environment(tmp_path: Path, name: str) -> None:
    said = problem(tmp_path, **{name: COMMON})
    assert said.startswith(f"{name}.hcl: is not an environment, and only common.hcl holds defaults")


# Valid choices.


def test_an_editors_metadata_file_is_ignored_like_other_hidden_files(tmp_path: Path) -> None:
    envs = envs_with(tmp_path)
    (envs / "._staging.hcl").write_bytes(b"\x00\x05\x16\x07 Mac OS X metadata")
    assert load_config(envs).workload("staging").name == "staging"


def test_an_origin_with_a_port_is_an_origin(tmp_path: Path) -> None:
    text = STAGING.replace('"https://staging.littil.org"', '"https://staging.littil.org:8443"')
    assert load_config(envs_with(tmp_path, staging=text)).workload("staging").cors_origin.endswith(":8443")


@pytest.mark.parametrize("port", ["0", "65536", "80a", ""])
def test_an_origin_with_a_port_no_browser_sends_is_refused(tmp_path: Path, port: str) -> None:
    text = STAGING.replace('"https://staging.littil.org"', f'"https://staging.littil.org:{port}"')
    assert "cors_origin: expected an https origin without path" in problem(tmp_path, staging=text)


def test_a_public_key_given_as_a_heredoc_is_the_key_without_its_last_newline(tmp_path: Path) -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"
    text = with_ec2_setting(f"ssh_public_key = <<-EOT\n      {key}\n    EOT")
    ec2 = load_config(envs_with(tmp_path, production=text)).workload("production").api.ec2
    assert ec2.ssh_public_key == key
