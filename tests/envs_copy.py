"""Copies of envs/ with a file changed, as an operator would change it: the config tests' raw material."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.loader import ConfigError, load_config
from config.model import AppConfig
from tests.conftest import ENVS_DIR

STAGING = (ENVS_DIR / "staging.hcl").read_text()
PRODUCTION = (ENVS_DIR / "production.hcl").read_text()
COMMON = (ENVS_DIR / "common.hcl").read_text()
SHARED = (ENVS_DIR / "shared.hcl").read_text()
# A third environment, as docs/runbooks/add-environment.md has an operator write it.
UAT = 'account_id = "333333333333"\ndomain = "uat.littil.org"\ncors_origin = "https://uat.littil.org"\n'
# database keys of a restore, as docs/migration.md has the operator write them.
RESTORE = (
    '  snapshot_identifier = "littil-final-10-11"\n'
    '  snapshot_engine_version = "{version}"\n'
    "  snapshot_allocated_storage_gb = {size}\n"
)


def envs_with(tmp_path: Path, **files: str) -> Path:
    """A copy of envs/ with some files replaced (keyword = file stem) or removed (value "")."""
    envs = tmp_path / "envs"
    shutil.copytree(ENVS_DIR, envs)
    for stem, text in files.items():
        path = envs / f"{stem}.hcl"
        if text:
            path.write_text(text)
        else:
            path.unlink()
    return envs


def with_ec2_setting(line: str) -> str:
    return PRODUCTION.replace('variant = "ec2"', f'variant = "ec2"\n  ec2 {{\n    {line}\n  }}')


def load_error(tmp_path: Path, **files: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(envs_with(tmp_path, **files))
    return caught.value


def assert_refused(tmp_path: Path, files: dict[str, str], file: str, key: str, expected: str) -> None:
    """Loading a copy of envs/ with `files` changed stops with one line: `file`, `key`, then `expected` in it."""
    error = load_error(tmp_path, **files)
    assert error.file.name == file
    assert error.key == key
    assert expected in error.problem
    assert str(error).startswith(f"{error.file}: {key}: ")


def load_config_of(tmp_path: Path, **files: str) -> AppConfig:
    """The config of a copy of envs/ with `files` changed, in its own directory under `tmp_path`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return load_config(envs_with(tmp_path, **files))
