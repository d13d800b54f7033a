"""Environment config: deltas on common.hcl, typed values, and one clear error per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config.loader import ConfigError, load_config
from config.model import AppConfig
from config.rules import is_placeholder_account_id
from config.settings import ApiVariant
from tests.conftest import ENVS_DIR
from tests.envs_copy import PRODUCTION, RESTORE, STAGING, envs_with, load_error


def test_environments_are_common_defaults_plus_their_own_deltas(config: AppConfig) -> None:
    staging, production = (config.workload(name) for name in ("staging", "production"))
    # Each file states only its differences ...
    assert (staging.domain, production.domain) == ("staging.littil.org", "littil.org")
    assert (staging.cors_origin, production.cors_origin) == ("https://staging.littil.org", "https://www.littil.org")
    assert staging.database.deletion_protection is False
    assert production.database.backup_retention_days == 14
    # ... and everything else comes from common.hcl.
    assert staging.database.backup_retention_days == 7
    assert production.database.deletion_protection is True
    assert staging.database.instance_class == production.database.instance_class == "db.t4g.micro"
    assert staging.region == production.region == config.shared.region == "eu-west-1"
    assert staging.api.variant is ApiVariant.ECS
    assert production.api.variant is ApiVariant.EC2
    assert staging.effective_mail_domain == "mail.staging.littil.org"
    assert staging.api_domain == "api.staging.littil.org"
    # The application's latest release when this was written (the old stacks ran 1.3.x).
    assert staging.api.image_tag == production.api.image_tag == "1.6.0"


def test_a_restore_that_rds_accepts_loads(tmp_path: Path) -> None:
    # The old database's facts (docs/migration.md): its copy upgraded to 10.11, 100 GB, restored as is.
    staging = STAGING.replace("database {\n", "database {\n" + RESTORE.format(version="10.11.9", size=100))
    database = load_config(envs_with(tmp_path, staging=staging)).workload("staging").database
    assert (database.snapshot_identifier, database.snapshot_engine_version) == ("littil-final-10-11", "10.11.9")
    assert database.allocated_storage_gb == database.snapshot_allocated_storage_gb == 100


def test_backup_copies_are_on_in_production_and_opt_in_elsewhere(tmp_path: Path, config: AppConfig) -> None:
    production, staging = config.workload("production").backup_copies, config.workload("staging").backup_copies
    assert (production.region, production.shared_account) == ("eu-central-1", True)
    assert (staging.region, staging.shared_account) == (None, False)
    opted_in = STAGING + 'backup_copies {\n  region = "eu-north-1"\n  shared_account = true\n  retention_days = 30\n}\n'
    copies = load_config(envs_with(tmp_path, staging=opted_in)).workload("staging").backup_copies
    assert (copies.region, copies.shared_account, copies.retention_days) == ("eu-north-1", True, 30)


def test_shared_environment_is_the_registry_account(config: AppConfig) -> None:
    assert config.shared.name == "shared"
    assert config.shared.account_id == "680278545709"
    assert config.shared.registry_host == "680278545709.dkr.ecr.eu-west-1.amazonaws.com"


def test_every_real_workload_account_may_pull_and_no_placeholder_ever_does(tmp_path: Path) -> None:
    # Today staging and production hold placeholders: neither is granted anything yet.
    shipped = load_config(ENVS_DIR)
    assert {"production", "staging"} <= {env.name for env in shipped.placeholder_environments}
    assert not {"111111111111", "222222222222"} & set(shipped.pull_account_ids)
    # Filling in one id grants exactly that account more; the other placeholder still gets nothing.
    filled = load_config(envs_with(tmp_path, staging=STAGING.replace('"111111111111"', '"210987654321"')))
    assert set(filled.pull_account_ids) - set(shipped.pull_account_ids) == {"210987654321"}
    assert "production" in {env.name for env in filled.placeholder_environments}
    assert "staging" not in {env.name for env in filled.placeholder_environments}


@pytest.mark.parametrize(
    ("account_id", "placeholder"),
    [
        ("111111111111", True),
        ("000000000000", True),
        ("123456789012", True),  # AWS documentation examples
        ("111122223333", True),
        ("680278545709", False),
        ("210987654321", False),
        ("111111111112", False),
    ],
)
def test_placeholder_account_ids_are_recognised(account_id: str, placeholder: bool) -> None:
    assert is_placeholder_account_id(account_id) is placeholder


def test_config_objects_are_frozen(config: AppConfig) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        config.shared.account_id = "000000000000"


def test_both_api_variants_are_accepted(tmp_path: Path) -> None:
    loaded = load_config(envs_with(tmp_path, production=PRODUCTION.replace('variant = "ec2"', 'variant = "ecs"')))
    production = loaded.workload("production")
    assert production.api.variant is ApiVariant.ECS
    assert loaded.workload("staging").api.variant is ApiVariant.ECS


def test_adding_an_environment_is_adding_a_file(tmp_path: Path) -> None:
    extra = 'account_id = "303132333435"\ndomain = "test.littil.org"\ncors_origin = "https://test.littil.org"\n'
    loaded = load_config(envs_with(tmp_path, acceptance=extra))
    acceptance = loaded.workload("acceptance")
    assert acceptance.database.engine_version == "10.11"
    assert "303132333435" in loaded.pull_account_ids


def test_hcl_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, staging=STAGING + "database {\n  multi_az = \n}\n")
    assert error.file.name == "staging.hcl"
    multi_az_line = len(STAGING.splitlines()) + 2
    assert f"HCL syntax error at line {multi_az_line}" in error.problem


def test_missing_shared_environment_is_an_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, shared="")
    assert error.file.name == "shared.hcl"
    assert "registry" in error.problem


def test_missing_envs_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment directory not found"):
        load_config(tmp_path / "nope")


def test_a_copy_of_production_under_another_name_keeps_production_rules(tmp_path: Path) -> None:
    # Production safety follows the explicit setting the copy carries, not the file name.
    prod = PRODUCTION.replace('account_id = "222222222222"', 'account_id = "333333333333"').replace(
        "backup_retention_days    = 14", "backup_retention_days    = 1"
    )
    error = load_error(tmp_path, prod=prod)
    assert (error.file.name, error.key) == ("prod.hcl", "database.backup_retention_days")
    assert error.problem == "production_grade requires at least 7 days of backups, got 1"


def test_a_byte_order_mark_is_named_as_the_syntax_problem(tmp_path: Path) -> None:
    envs = envs_with(tmp_path)
    (envs / "staging.hcl").write_text("\ufeff" + STAGING, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(envs)
    assert caught.value.problem == "starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM"


def test_messages_use_project_paths_and_name_the_environment_a_default_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs_with(tmp_path, staging=STAGING + 'region = "eu-central-1"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(Path("envs"))
    assert str(caught.value) == (
        "envs/common.hcl: network.availability_zones[0]: expected a zone region eu-central-1 has: eu-central-1a,"
        ' eu-central-1b, eu-central-1c, got "eu-west-1a"'
        " (the default staging inherits; override it in envs/staging.hcl)"
    )


def test_the_largest_fargate_sizes_are_accepted(tmp_path: Path) -> None:
    # 8 and 16 vCPU tasks (Fargate platform 1.4.0) take 16-60 GB in 4 GB steps and 32-120 GB in 8 GB steps.
    largest = STAGING.replace("api {\n", "api {\n  ecs {\n    cpu = 16384\n    memory_mib = 122880\n  }\n", 1)
    ecs = load_config(envs_with(tmp_path, staging=largest)).workload("staging").api.ecs
    assert (ecs.cpu, ecs.memory_mib) == (16384, 122880)
