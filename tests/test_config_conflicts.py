"""What validation refuses in values that are right alone but wrong together.

Across the keys of a block and the blocks of an environment (its variant, its instance, its past), and the
production rules. Across environments: test_config_across.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envs_copy import (
    COMMON,
    PRODUCTION,
    RESTORE,
    STAGING,
    UAT,
    assert_refused,
)


@pytest.mark.parametrize(
    ("files", "file", "key", "expected"),
    [
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
            {"production": PRODUCTION.replace("shared_account = true", "shared_account = true\n  retention_days = 36")},
            "production.hcl",
            "backup_copies.retention_days",
            "RDS keeps backups replicated to backup_copies.region (eu-central-1) at most 35 days, got 36:"
            " set 35 or less",
            id="second-region-copies-kept-longer-than-rds-keeps-them",
        ),
        pytest.param(
            {"production": PRODUCTION.replace("shared_account = true", "shared_account = true\n  retention_days = 13")},
            "production.hcl",
            "backup_copies.retention_days",
            "production_grade requires copies kept at least as long as the database's own backups"
            " (database.backup_retention_days = 14), got 13",
            id="production-copies-shorter-than-its-backups",
        ),
        pytest.param(
            {"staging": STAGING + 'backup_copies {\n  region = "eu-west-1"\n}\n'},
            "staging.hcl",
            "backup_copies.region",
            "must be another region than the environment's own (eu-west-1): a copy there dies with it",
            id="copy-in-the-environments-own-region",
        ),
        pytest.param(
            {"common": COMMON.replace("deletion_protection      = true", "deletion_protection      = false")},
            "common.hcl",
            "database.deletion_protection",
            "production_grade requires deletion protection",
            id="unsafe-default-blamed-on-common-when-production-inherits-it",
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
            {"production": PRODUCTION.replace("production_grade = true", "production_grade = false")},
            "production.hcl",
            "production_grade",
            "production must be production-grade",
            id="production-not-production-grade",
        ),
        pytest.param(
            {"staging": STAGING + "alarms {\n  database_free_storage_gb = 100\n}\n"},
            "staging.hcl",
            "alarms.database_free_storage_gb",
            "must be below database.allocated_storage_gb (100), or the alarm would fire on an empty database",
            id="alarm-that-always-fires",
        ),
        pytest.param(
            {"staging": STAGING + 'network {\n  availability_zones = ["eu-west-1a", "eu-west-1d"]\n}\n'},
            "staging.hcl",
            "network.availability_zones[1]",
            'expected a zone region eu-west-1 has: eu-west-1a, eu-west-1b, eu-west-1c, got "eu-west-1d"',
            id="zone-the-region-does-not-have",
        ),
        pytest.param(
            {"staging": STAGING.replace("max_allocated_storage_gb = 200", "max_allocated_storage_gb = 105")},
            "staging.hcl",
            "database.max_allocated_storage_gb",
            "must be at least 10 % above database.allocated_storage_gb (110 or more)",
            id="storage-limit-under-10-percent-above",
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
            {"staging": STAGING.replace("api {\n", "api {\n  ecs {\n    cpu = 256\n    memory_mib = 1536\n  }\n", 1)},
            "staging.hcl",
            "api.ecs.memory_mib",
            "expected a Fargate memory size for cpu 256: 512, 1024, 2048, got 1536",
            id="fargate-memory-the-cpu-size-does-not-take",
        ),
        pytest.param(
            {
                "staging": STAGING
                + 'region = "eu-central-1"\nnetwork {\n  availability_zones = ["eu-central-1a", "eu-central-1b"]\n}\n'
            },
            "staging.hcl",
            "region",
            "the old system's data is in eu-west-1: adopting in eu-central-1 imports nothing",
            id="adopted-environment-moved-to-another-region",
        ),
    ],
)
def test_values_that_do_not_fit_together_name_file_key_and_expectation(
    tmp_path: Path, files: dict[str, str], file: str, key: str, expected: str
) -> None:
    assert_refused(tmp_path, files, file, key, expected)
