"""What validation refuses: one line naming the file, the key and what was expected, for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_config
from tests.envs_copy import COMMON, PRODUCTION, RESTORE, SHARED, STAGING, UAT, envs_with, load_error, with_ec2_setting


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
            'expected an RDS for MariaDB instance class such as "db.t4g.micro"',
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
            {"staging": STAGING.replace("api {\n", 'api {\n  image_tag = "v1.7.0"\n', 1)},
            "staging.hcl",
            "api.image_tag",
            'expected the image tag of a release, its git tag without the "v" ("1.7.0")',
            id="image-tag-with-the-git-tags-v",
        ),
        pytest.param(
            {"staging": STAGING.replace("database {\n", 'database {\n  engine_version = "10.11.016"\n')},
            "staging.hcl",
            "database.engine_version",
            'expected a MariaDB engine version such as "10.11", got "10.11.016"',
            id="engine-version-zero-padded",
        ),
        pytest.param(
            {"production": with_ec2_setting('ssh_public_key = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTI= me@host"')},
            "production.hcl",
            "api.ec2.ssh_public_key",
            "expected an OpenSSH ed25519 or RSA public key line, the ones EC2 imports",
            id="ssh-key-type-ec2-does-not-import",
        ),
        pytest.param(
            {"production": with_ec2_setting('ssh_allowed_cidrs = ["203.0.113.7"]')},
            "production.hcl",
            "api.ec2.ssh_allowed_cidrs[0]",
            'expected an IPv4 network of /16 or narrower, such as "203.0.113.7/32"',
            id="ssh-source-without-its-prefix",
        ),
        pytest.param(
            {"staging": STAGING.replace("api {\n", "api {\n  ecs {\n    cpu = 256\n    memory_mib = 1536\n  }\n", 1)},
            "staging.hcl",
            "api.ecs.memory_mib",
            "expected a Fargate memory size for cpu 256: 512, 1024, 2048, got 1536",
            id="fargate-memory-the-cpu-size-does-not-take",
        ),
        pytest.param(
            {"production": PRODUCTION + "alarms {\n  cpu_credit_balance = 0\n}\n"},
            "production.hcl",
            "alarms.cpu_credit_balance",
            "expected a whole number from 1 to 10000 (CPU credits; the alarm fires below it, never below 0), got 0",
            id="credit-alarm-that-never-fires",
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
            {"common": COMMON.replace('region  = "eu-west-1"', 'region  = "eu-west1"')},
            "common.hcl",
            "region",
            "and every environment that keeps it inherit it)",
            id="a-wrong-default-is-fixed-in-the-defaults",
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


def test_an_ssh_key_whose_data_is_not_the_key_it_names_is_refused(tmp_path: Path) -> None:
    # The line says ssh-rsa, its data is an ed25519 key: sshd would refuse it, and the instance would have no key.
    mislabelled = "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u operator@littil"
    error = load_error(tmp_path, production=with_ec2_setting(f'ssh_public_key = "{mislabelled}"'))
    assert (error.file.name, error.key) == ("production.hcl", "api.ec2.ssh_public_key")
    assert error.problem.startswith("expected an OpenSSH ed25519 or RSA public key line")


SECRET = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param(
            f"-----BEGIN OPENSSH PRIVATE KEY-----\\n{SECRET}\\n-----END OPENSSH PRIVATE KEY-----", id="openssh"
        ),
        pytest.param(f"PuTTY-User-Key-File-3: ssh-ed25519\\nPrivate-Lines: 1\\n{SECRET}", id="putty"),
        pytest.param(SECRET, id="the-key-body-alone"),
    ],
)
def test_a_pasted_private_key_is_refused_without_showing_any_of_it(tmp_path: Path, pasted: str) -> None:
    error = load_error(tmp_path, production=with_ec2_setting(f'ssh_public_key = "{pasted}"'))
    assert error.key == "api.ec2.ssh_public_key"
    assert "(not shown" in error.problem
    assert SECRET[:12] not in str(error)


def test_an_e_mail_address_in_capitals_is_accepted_as_written(tmp_path: Path) -> None:
    loaded = load_config(envs_with(tmp_path, production=with_ec2_setting('certbot_email = "Info@LITTIL.org"')))
    assert loaded.workload("production").api.ec2.certbot_email == "Info@LITTIL.org"
