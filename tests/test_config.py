"""Environment config: deltas on common.hcl, typed values, and one clear error per bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.loader import ConfigError, load_config
from config.model import AppConfig
from config.rules import is_placeholder_account_id
from config.settings import ApiVariant
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
    opted_in = STAGING + 'backup_copies {\n  region = "eu-north-1"\n  shared_account = true\n  retention_days = 90\n}\n'
    copies = load_config(envs_with(tmp_path, staging=opted_in)).workload("staging").backup_copies
    assert (copies.region, copies.shared_account, copies.retention_days) == ("eu-north-1", True, 90)


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


@pytest.mark.parametrize(
    ("files", "file", "key", "expected"),
    [
        pytest.param(
            {"staging": STAGING + 'colour = "red"\n'}, "staging.hcl", "colour", "unknown key", id="unknown-key"
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", "api {\n  ecs {\n    cpus = 256\n  }\n")},
            "staging.hcl",
            "api.ecs.cpus",
            "unknown key",
            id="unknown-nested-key",
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", 'api {\n  ecs {\n    desired_count = "two"\n  }\n')},
            "staging.hcl",
            "api.ecs.desired_count",
            'expected a whole number, got "two"',
            id="string-for-count",
        ),
        pytest.param(
            {"production": PRODUCTION.replace('variant = "ec2"', 'variant = "ec2"\n  image_tag = "latest"')},
            "production.hcl",
            "api.image_tag",
            'expected a fixed release tag such as "1.6.0", not "latest", got "latest"',
            id="moving-image-tag",
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", "api {\n  ecs = 5\n")},
            "staging.hcl",
            "api.ecs",
            "expected a block of settings, got 5",
            id="value-for-a-block",
        ),
        pytest.param(
            {"staging": STAGING.replace('domain      = "staging.littil.org"', "domain = null")},
            "staging.hcl",
            "domain",
            "expected a value, got null",
            id="null-for-a-required-value",
        ),
        pytest.param(
            {"staging": STAGING + 'network {\n  availability_zones = "eu-west-1a"\n}\n'},
            "staging.hcl",
            "network.availability_zones",
            'expected a list, got "eu-west-1a"',
            id="string-for-a-list",
        ),
        pytest.param(
            {"staging": STAGING.replace('"111111111111"', '"12345"')},
            "staging.hcl",
            "account_id",
            "12-digit AWS account id",
            id="short-account-id",
        ),
        pytest.param(
            {"staging": STAGING.replace('"111111111111"', "111111111111")},
            "staging.hcl",
            "account_id",
            "expected a string in quotes, got 111111111111",
            id="unquoted-account-id",
        ),
        pytest.param(
            {"production": PRODUCTION.replace('variant = "ec2"', 'variant = "k8s"')},
            "production.hcl",
            "api.variant",
            'expected one of "ecs", "ec2", got "k8s"',
            id="unknown-variant",
        ),
        pytest.param(
            {"staging": STAGING + 'network {\n  vpc_cidr = "10.0.0.0/33"\n}\n'},
            "staging.hcl",
            "network.vpc_cidr",
            "IPv4 network",
            id="malformed-cidr",
        ),
        pytest.param(
            {"staging": STAGING + 'network {\n  vpc_cidr = "10.0.0.1/16"\n}\n'},
            "staging.hcl",
            "network.vpc_cidr",
            "IPv4 network",
            id="cidr-with-host-bits",
        ),
        pytest.param(
            {"staging": STAGING.replace('domain      = "staging.littil.org"', 'domain = "staging_littil"')},
            "staging.hcl",
            "domain",
            "DNS name",
            id="malformed-domain",
        ),
        pytest.param(
            {"staging": STAGING.replace('domain      = "staging.littil.org"', "")},
            "staging.hcl",
            "domain",
            "required value is missing",
            id="missing-required-value",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("database {", "database {\n  deletion_protection = false")},
            "production.hcl",
            "database.deletion_protection",
            "production_grade requires deletion protection",
            id="production-without-deletion-protection",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("backup_retention_days    = 14", "backup_retention_days    = 3")},
            "production.hcl",
            "database.backup_retention_days",
            "production_grade requires at least 7 days of backups, got 3",
            id="production-backups-under-7-days",
        ),
        pytest.param(
            {"staging": STAGING.replace('domain      = "staging.littil.org"', 'domain = "api.staging.littil.org"')},
            "staging.hcl",
            "domain",
            'expected the environment\'s domain without "api." ("staging.littil.org"; the API gets api.<domain>)',
            id="domain-that-is-already-the-api-host",
        ),
        pytest.param(
            {"staging": STAGING.replace("alerts {\n", 'alerts {\n  email = "ops@example.com"\n')},
            "staging.hcl",
            "alerts.email",
            "expected an address that receives mail (example.com/.net/.org and .example",
            id="alerts-to-a-reserved-example-domain",
        ),
        pytest.param(
            {
                "production": PRODUCTION.replace(
                    'variant = "ec2"', 'variant = "ec2"\n  ec2 {\n    certbot_email = "me@littil.test"\n  }'
                )
            },
            "production.hcl",
            "api.ec2.certbot_email",
            "reserved, RFC 2606: nothing is delivered there, and Let's Encrypt refuses them)",
            id="certbot-mail-to-a-reserved-top-level-domain",
        ),
        pytest.param(
            {"common": COMMON.replace('repo = "littil-backend"', 'repo = "littil-backend.git"')},
            "common.hcl",
            "github.repo",
            'expected a GitHub name without the clone URL\'s ".git" ("littil-backend")',
            id="repository-name-with-the-clone-urls-git",
        ),
        pytest.param(
            {"production": PRODUCTION.replace('region         = "eu-central-1"', "region         = null")},
            "production.hcl",
            "backup_copies.region",
            'production_grade requires a copy of the backups in a second region: set it, e.g. "eu-central-1"',
            id="production-without-a-copy-in-another-region",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("shared_account = true", "shared_account = false")},
            "production.hcl",
            "backup_copies.shared_account",
            "production_grade requires a copy of the backups in the shared account: set it to true",
            id="production-without-a-copy-in-another-account",
        ),
        pytest.param(
            {"staging": STAGING + 'backup_copies {\n  region = "eu-west-1"\n}\n'},
            "staging.hcl",
            "backup_copies.region",
            "must be another region than the environment's own (eu-west-1): a copy there dies with it",
            id="copy-in-the-environments-own-region",
        ),
        pytest.param(
            {"staging": STAGING + 'backup_copies {\n  region = "eu-moon-1"\n}\n'},
            "staging.hcl",
            "backup_copies.region",
            'expected a region of AWS\'s commercial partition such as "eu-central-1", got "eu-moon-1"',
            id="copy-in-a-region-aws-does-not-have",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("shared_account = true", "shared_account = true\n  retention_days = 0")},
            "production.hcl",
            "backup_copies.retention_days",
            "expected a whole number from 1 to 36500 (days; a locked AWS Backup vault keeps 1 to 36500), got 0",
            id="copies-kept-no-day",
        ),
        pytest.param(
            {"common": COMMON.replace("deletion_protection      = true", "deletion_protection      = false")},
            "common.hcl",
            "database.deletion_protection",
            "production_grade requires deletion protection",
            id="unsafe-default-blamed-on-common-when-production-inherits-it",
        ),
        pytest.param(
            {"common": COMMON.replace('region  = "eu-west-1"', 'region  = "Ireland"')},
            "common.hcl",
            "region",
            "AWS region",
            id="bad-default-names-common",
        ),
        pytest.param(
            {"staging": STAGING + 'region = "eu-central-1"\n'},
            "common.hcl",
            "network.availability_zones[0]",
            "expected a zone region eu-central-1 has: eu-central-1a, eu-central-1b, eu-central-1c",
            id="zones-outside-region",
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", "api {\n  ecs {\n    cpu = 1024\n  }\n")},
            "common.hcl",
            "api.ecs.memory_mib",
            "Fargate memory size for cpu 1024",
            id="fargate-size-mismatch",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  snapshot_identifier = "littil-final"\n')},
            "staging.hcl",
            "database.snapshot_identifier",
            "needs database.snapshot_engine_version too",
            id="restore-without-the-snapshot-version",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", "database {\n" + RESTORE.format(version="10.6.17", size=100))},
            "common.hcl",
            "database.engine_version",
            "engine_version must be 10.6.x for the restore",
            id="restore-across-a-major-version",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", "database {\n" + RESTORE.format(version="10.11.9", size=150))},
            "staging.hcl",
            "database.allocated_storage_gb",
            "at least the snapshot's 150 GB",
            id="restore-into-less-storage",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  snapshot_engine_version = "10.11.9"\n')},
            "staging.hcl",
            "database.snapshot_engine_version",
            "only applies with database.snapshot_identifier",
            id="snapshot-facts-without-a-snapshot",
        ),
        pytest.param(
            {"staging": STAGING.replace('account_id = "111111111111"', 'account_id = "222222222222"')},
            "staging.hcl",
            "account_id",
            "222222222222 is also production's account; each environment needs an account of its own",
            id="two-environments-in-one-account",
        ),
        pytest.param(
            {"staging": STAGING.replace('account_id = "111111111111"', 'account_id = "680278545709"')},
            "staging.hcl",
            "account_id",
            "also shared's account",
            id="workload-in-the-registry-account",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("production_grade = true", "production_grade = false")},
            "production.hcl",
            "production_grade",
            "production must be production-grade",
            id="production-not-production-grade",
        ),
        pytest.param(
            {"common": COMMON.replace('engine_version           = "10.11"', 'engine_version           = "10.6"')},
            "common.hcl",
            "database.engine_version",
            "a major version RDS offers for MariaDB: 10.11, 11.4, 11.8",
            id="engine-version-rds-no-longer-offers",
        ),
        pytest.param(
            {
                "production": PRODUCTION.replace(
                    'variant = "ec2"',
                    'variant = "ec2"\n  ec2 {\n    ssh_allowed_cidrs = ["0.0.0.0/1", "128.0.0.0/1"]\n  }',
                )
            },
            "production.hcl",
            "api.ec2.ssh_allowed_cidrs[0]",
            "wider ones open port 22 to much of the internet",
            id="ssh-open-to-half-the-internet",
        ),
        pytest.param(
            {
                "production": PRODUCTION.replace(
                    'variant = "ec2"',
                    'variant = "ec2"\n  ec2 {\n    ssh_allowed_cidrs = ["203.0.113.7/32", "2001:db8::/64"]\n  }',
                )
            },
            "production.hcl",
            "api.ec2.ssh_allowed_cidrs[1]",
            "the VPC has no IPv6",
            id="ssh-from-ipv6-into-an-ipv4-only-vpc",
        ),
        pytest.param(
            {"staging": STAGING.replace("allocated_storage_gb     = 100", "allocated_storage_gb     = 70000")},
            "staging.hcl",
            "database.allocated_storage_gb",
            "a whole number from 20 to 65536 (RDS MariaDB gp3 storage in GB)",
            id="storage-beyond-rds-limits",
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", "api {\n  ec2 {\n    root_volume_gb = 4\n  }\n")},
            "staging.hcl",
            "api.ec2.root_volume_gb",
            "a whole number from 8 to 16384",
            id="root-volume-below-the-ami",
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", 'api {\n  ec2 {\n    certbot_email = "ops@littil"\n  }\n')},
            "staging.hcl",
            "api.ec2.certbot_email",
            "an e-mail address",
            id="e-mail-without-a-top-level-domain",
        ),
        pytest.param(
            {"common": COMMON + "colour = 1\n"}, "common.hcl", "colour", "unknown key", id="unknown-key-in-common"
        ),
        pytest.param(
            {"staging": STAGING + "alarms {\n  database_free_storage_gb = 100\n}\n"},
            "staging.hcl",
            "alarms.database_free_storage_gb",
            "must be below database.allocated_storage_gb (100), or the alarm would fire on an empty database",
            id="alarm-that-always-fires",
        ),
        pytest.param(
            {"staging": STAGING + "alarms {\n  certificate_days_left = 30\n}\n"},
            "staging.hcl",
            "alarms.certificate_days_left",
            "expected a whole number from 1 to 29 (days; certbot renews at 30 left), got 30",
            id="certificate-alarm-on-every-healthy-certificate",
        ),
        pytest.param(
            {"shared": 'account_id = "680278545709"\nalerts {\n  email = "ops at littil"\n}\n'},
            "shared.hcl",
            "alerts.email",
            "an e-mail address",
            id="alert-mail-not-an-address",
        ),
        pytest.param(
            {"shared": 'account_id = "680278545709"\nalarms {\n  database_cpu_percent = 90\n}\n'},
            "shared.hcl",
            "alarms",
            "unknown key for this environment",
            id="workload-alarms-in-shared",
        ),
        pytest.param(
            {"shared": 'account_id = "680278545709"\ndomain = "littil.org"\n'},
            "shared.hcl",
            "domain",
            "unknown key for this environment",
            id="workload-key-in-shared",
        ),
        pytest.param(
            {"staging": STAGING + 'network {\n  availability_zones = ["eu-west-1a", "eu-west-1d"]\n}\n'},
            "staging.hcl",
            "network.availability_zones[1]",
            'expected a zone region eu-west-1 has: eu-west-1a, eu-west-1b, eu-west-1c, got "eu-west-1d"',
            id="zone-the-region-does-not-have",
        ),
        pytest.param(
            {"common": COMMON.replace('engine_version           = "10.11"', 'engine_version = "10.11.12"')},
            "common.hcl",
            "database.engine_version",
            "expected a version RDS offers for MariaDB 10.11 (as of February 2026: 10.11.9, 10.11.10, 10.11.11,",
            id="minor-version-rds-skipped",
        ),
        pytest.param(
            {"common": COMMON.replace('region  = "eu-west-1"', 'region  = "eu-west-4"')},
            "common.hcl",
            "region",
            'expected a region of AWS\'s commercial partition such as "eu-central-1", got "eu-west-4"',
            id="region-aws-does-not-have",
        ),
        pytest.param(
            {"production": with_ec2_setting('instance_type = "t3a.mirco"')},
            "production.hcl",
            "api.ec2.instance_type",
            "expected an EC2 instance type AWS has",
            id="instance-type-aws-does-not-have",
        ),
        pytest.param(
            {"production": with_ec2_setting('instance_type = "t4g.small"')},
            "production.hcl",
            "api.ec2.instance_type",
            "expected an x86_64 instance type",
            id="arm64-instance-for-the-x86-image",
        ),
        pytest.param(
            {"common": COMMON.replace('instance_class           = "db.t4g.micro"', 'instance_class = "db.t4g.mirco"')},
            "common.hcl",
            "database.instance_class",
            'expected an RDS instance class such as "db.t4g.micro" (db. and an EC2 instance type)',
            id="rds-class-aws-does-not-have",
        ),
        pytest.param(
            {"staging": STAGING.replace("max_allocated_storage_gb = 200", "max_allocated_storage_gb = 105")},
            "staging.hcl",
            "database.max_allocated_storage_gb",
            "must be at least 10 % above database.allocated_storage_gb (110 or more)",
            id="storage-limit-under-10-percent-above",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  snapshot_identifier = "littil--final-"\n')},
            "staging.hcl",
            "database.snapshot_identifier",
            "expected an RDS snapshot name (a letter, then letters, digits and single hyphens",
            id="snapshot-name-rds-refuses",
        ),
        pytest.param(
            {
                "staging": STAGING.replace(
                    "database {\n",
                    "database {\n"
                    + RESTORE.format(version="10.11.9", size=100).replace(
                        '"littil-final-10-11"', '"arn:aws:rds:eu-central-1:111111111111:snapshot:littil-final"'
                    ),
                )
            },
            "staging.hcl",
            "database.snapshot_identifier",
            "RDS restores only a snapshot of the environment's region (eu-west-1), not of eu-central-1",
            id="snapshot-of-another-region",
        ),
        pytest.param(
            {"common": COMMON.replace("database_cpu_percent         = 80", "database_cpu_percent = 100")},
            "common.hcl",
            "alarms.database_cpu_percent",
            "expected a whole number from 1 to 99 (percent; CPU never rises above 100), got 100",
            id="cpu-alarm-that-never-fires",
        ),
        pytest.param(
            {"common": COMMON.replace("database_freeable_memory_mib = 100", "database_freeable_memory_mib = 1024")},
            "common.hcl",
            "alarms.database_freeable_memory_mib",
            "must be below the 1024 MiB of database.instance_class db.t4g.micro, or the alarm fires all the time",
            id="memory-alarm-that-always-fires",
        ),
        pytest.param(
            {"production": PRODUCTION + "alarms {\n  cpu_credit_balance = 300\n}\n"},
            "production.hcl",
            "alarms.cpu_credit_balance",
            "must be below the 288 CPU credits a t3a.micro holds at most",
            id="credit-alarm-that-always-fires",
        ),
        pytest.param(
            {
                "staging": STAGING.replace(
                    'cors_origin = "https://staging.littil.org"', 'cors_origin = "https://api.staging.littil.org"'
                )
            },
            "staging.hcl",
            "cors_origin",
            "must be the web app's origin (such as https://www.<domain>), not the API's own",
            id="cors-origin-of-the-api-itself",
        ),
        pytest.param(
            {
                "staging": STAGING.replace(
                    "api {\n", 'api {\n  ec2 {\n    ssh_allowed_cidrs = ["203.0.113.7/32"]\n  }\n', 1
                )
            },
            "staging.hcl",
            "api.ec2.ssh_allowed_cidrs",
            'only applies with api.variant = "ec2": the ecs variant has no instance to log in to',
            id="ssh-settings-on-ecs",
        ),
        pytest.param(
            {"production": PRODUCTION + "network {\n  nat_gateway = true\n}\n"},
            "production.hcl",
            "network.nat_gateway",
            'only the ECS variant\'s tasks route through it: with api.variant = "ec2" nothing does',
            id="nat-gateway-nothing-uses",
        ),
        pytest.param(
            {"uat": UAT + "adopt_legacy = true\n"},
            "uat.hcl",
            "adopt_legacy",
            "the old CDK system never ran in uat (only shared, staging, production): there is nothing to adopt",
            id="adopting-where-the-old-system-never-ran",
        ),
        pytest.param(
            {"staging": STAGING.replace("log_retention_days = 731", "log_retention_days = 365")},
            "staging.hcl",
            "api.log_retention_days",
            "the adopted log group LITTILBackendApiEcsLogs-staging keeps 731 days of logs; 365 would delete",
            id="shorter-retention-than-the-adopted-logs",
        ),
        pytest.param(
            {"uat": UAT.replace('"uat.littil.org"', '"staging.littil.org"')},
            "uat.hcl",
            "domain",
            "staging.littil.org is also staging's (its domain, API host or mail domain)",
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
            {"shared": SHARED + 'registry {\n  api_mutable_tags = ["1.6.0"]\n}\n'},
            "common.hcl",
            "api.image_tag",
            '"1.6.0" is a mutable tag of littil-backend (registry.api_mutable_tags in ',
            id="running-a-tag-a-push-can-move",
        ),
        pytest.param(
            {
                "shared": SHARED + "registry {\n  tagged_images_to_keep = 1\n}\n",
                "staging": STAGING.replace("api {\n", 'api {\n  image_tag = "1.6.1"\n'),
            },
            "shared.hcl",
            "registry.tagged_images_to_keep",
            "keeps 1 tagged images, but the environments run 2 api images (1.6.0, 1.6.1)",
            id="lifecycle-that-expires-a-running-image",
        ),
    ],
)
def test_bad_input_names_file_key_and_expectation(
    tmp_path: Path, files: dict[str, str], file: str, key: str, expected: str
) -> None:
    error = load_error(tmp_path, **files)
    assert error.file.name == file
    assert error.key == key
    assert expected in error.problem
    assert str(error).startswith(f"{error.file}: {key}: ")


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


def test_an_ssh_key_whose_data_is_not_the_key_it_names_is_refused(tmp_path: Path) -> None:
    # The line says ssh-rsa, its data is an ed25519 key: sshd would refuse it, and the instance would have no key.
    mislabelled = "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"
    error = load_error(tmp_path, production=with_ec2_setting(f'ssh_public_key = "{mislabelled}"'))
    assert (error.file.name, error.key) == ("production.hcl", "api.ec2.ssh_public_key")
    assert error.problem.startswith("expected an OpenSSH public key line")


def test_a_pasted_private_key_is_refused_without_showing_any_of_it(tmp_path: Path) -> None:
    secret = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    private = f"-----BEGIN OPENSSH PRIVATE KEY-----\\n{secret}\\n-----END OPENSSH PRIVATE KEY-----"
    error = load_error(tmp_path, production=with_ec2_setting(f'ssh_public_key = "{private}"'))
    assert error.key == "api.ec2.ssh_public_key"
    assert "got a private key (not shown" in error.problem
    assert secret[:12] not in str(error)


def test_an_e_mail_address_in_capitals_is_accepted_as_written(tmp_path: Path) -> None:
    loaded = load_config(envs_with(tmp_path, production=with_ec2_setting('certbot_email = "Info@LITTIL.org"')))
    assert loaded.workload("production").api.ec2.certbot_email == "Info@LITTIL.org"


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
