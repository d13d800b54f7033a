"""What validation refuses because AWS does not offer it: regions, instance types, RDS classes and versions, limits.

The data comes from botocore's models where they carry it, from config/aws.py's sourced tables where not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from config.aws import is_burstable
from tests.envs_copy import COMMON, STAGING, assert_refused, with_ec2_setting


@pytest.mark.parametrize(
    ("files", "file", "key", "expected"),
    [
        pytest.param(
            {"staging": STAGING + 'backup_copies {\n  region = "eu-moon-1"\n}\n'},
            "staging.hcl",
            "backup_copies.region",
            'expected a region of AWS\'s commercial partition such as "eu-central-1", got "eu-moon-1"',
            id="copy-in-a-region-aws-does-not-have",
        ),
        pytest.param(
            {"common": COMMON.replace('engine_version           = "10.11"', 'engine_version           = "10.6"')},
            "common.hcl",
            "database.engine_version",
            "a major version RDS offers for MariaDB: 10.11, 11.4, 11.8",
            id="engine-version-rds-no-longer-offers",
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
            'expected an RDS for MariaDB instance class such as "db.t4g.micro"',
            id="rds-class-aws-does-not-have",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  snapshot_identifier = "littil--final-"\n')},
            "staging.hcl",
            "database.snapshot_identifier",
            "expected an RDS snapshot name (a letter, then letters, digits and single hyphens",
            id="snapshot-name-rds-refuses",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  instance_class = "db.t4g.nano"\n')},
            "staging.hcl",
            "database.instance_class",
            'expected an RDS for MariaDB instance class such as "db.t4g.micro"',
            id="rds-class-size-rds-does-not-offer",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  instance_class = "db.c6g.large"\n')},
            "staging.hcl",
            "database.instance_class",
            'expected an RDS for MariaDB instance class such as "db.t4g.micro"',
            id="rds-class-family-rds-does-not-offer",
        ),
        pytest.param(
            {"production": with_ec2_setting('instance_type = "mac1.metal"')},
            "production.hcl",
            "api.ec2.instance_type",
            "expected an instance type that runs Amazon Linux",
            id="mac-instance-for-linux",
        ),
        pytest.param(
            {"production": with_ec2_setting('ssh_public_key = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTI= me@host"')},
            "production.hcl",
            "api.ec2.ssh_public_key",
            "expected an OpenSSH ed25519 or RSA public key line, the ones EC2 imports",
            id="ssh-key-type-ec2-does-not-import",
        ),
    ],
)
def test_a_value_aws_does_not_offer_names_file_key_and_expectation(
    tmp_path: Path, files: dict[str, str], file: str, key: str, expected: str
) -> None:
    assert_refused(tmp_path, files, file, key, expected)


@pytest.mark.parametrize(
    ("instance_type", "burstable"),
    [
        ("t2.micro", True),
        ("t3.small", True),
        ("t3a.medium", True),
        ("t4g.nano", True),
        ("m5.large", False),
        ("c6g.medium", False),
        ("m7i-flex.large", False),
    ],
)
def test_only_credit_based_families_are_burstable(instance_type: str, burstable: bool) -> None:
    assert is_burstable(instance_type) is burstable
