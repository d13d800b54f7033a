"""The maintenance image's `db` helper: connects with TLS, password never on the command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO

DB = REPO / "maintenance-container" / "db"
FAKE_MARIADB = """#!/bin/sh
printf '%s\\n' "$@" > "$STUB_DIR/args"
echo "MYSQL_PWD=$MYSQL_PWD" > "$STUB_DIR/env"
"""
SETTINGS = {"DB_HOST": "db.example.internal", "DB_PORT": "3306", "DB_NAME": "littil", "DB_USER": "littil_admin"}


def run_db(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "mariadb").write_text(FAKE_MARIADB)
    (tmp_path / "mariadb").chmod(0o755)
    return subprocess.run(
        ["sh", str(DB), *args],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "STUB_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_db_connects_to_the_configured_database_with_verified_tls_and_password_via_environment(tmp_path: Path) -> None:
    result = run_db(tmp_path, "-e", "SELECT 1", **SETTINGS, DB_PASSWORD="s3cr3t-from-ecs")
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "args").read_text().splitlines()
    assert args == [
        "--host=db.example.internal",
        "--port=3306",
        "--user=littil_admin",
        "--ssl-ca=/etc/ssl/rds-global-bundle.pem",
        "--ssl-verify-server-cert",
        "-e",
        "SELECT 1",
        "littil",
    ]
    assert not any("s3cr3t" in arg for arg in args)
    assert (tmp_path / "env").read_text().strip() == "MYSQL_PWD=s3cr3t-from-ecs"


def test_db_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    result = run_db(tmp_path, **SETTINGS)
    assert result.returncode != 0
    assert "DB_PASSWORD" in result.stderr
    assert not (tmp_path / "args").exists()


def test_image_stays_up_for_exec_and_ships_the_helper() -> None:
    dockerfile = (REPO / "maintenance-container" / "Dockerfile").read_text()
    assert dockerfile.rstrip().endswith('CMD ["sleep", "infinity"]')
    assert "mariadb-client" in dockerfile
    assert "COPY --chmod=0755 db /usr/local/bin/db" in dockerfile
    assert os.access(DB, os.X_OK)
