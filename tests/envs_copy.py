"""Copies of envs/ with a file changed, as an operator would change it: the config tests' raw material."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
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


# envs/ read once: the config tests copy it a few hundred times.
ENV_FILES = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in ENVS_DIR.iterdir()}


def envs_with(tmp_path: Path, **files: str) -> Path:
    """A copy of envs/ with some files replaced (keyword = file stem) or removed (value "").

    Each copied file keeps its modification time, as `cp -p` would: which file was edited last is part of what
    the loader reports (config/across.py)."""
    envs = tmp_path / "envs"
    envs.mkdir(parents=True)
    for name, (data, modified) in ENV_FILES.items():
        (envs / name).write_bytes(data)
        os.utime(envs / name, ns=(modified, modified))
    for stem, text in files.items():
        path = envs / f"{stem}.hcl"
        if text:
            path.write_text(text)
        else:
            path.unlink()
    return envs


@contextlib.contextmanager
def one_file_changed(envs: Path, stem: str, text: str) -> Iterator[Path]:
    """`envs` with `<stem>.hcl` written as `text` (the file edited last), then put back as it was, text and time.

    For the generated tables, hundreds of variants in one directory rather than hundreds of copies of it."""
    path = envs / f"{stem}.hcl"
    before = (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None
    path.write_text(text)
    try:
        yield envs
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before[0])
            os.utime(path, ns=(before[1], before[1]))


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
