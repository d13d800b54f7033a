"""What validation refuses in a value on its own: its type and its shape.

Values AWS does not offer are tests/test_config_aws_offers.py's; values that are right alone but
wrong together (across keys, blocks or environments) are tests/test_config_conflicts.py's; the SSH
public key, and a private key pasted in its place, are tests/test_config_ssh_key.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.envs_copy import COMMON, PRODUCTION, STAGING, assert_refused, with_ec2_setting


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
            'expected a fixed release tag such as "1.6.0" (latest moves with every build of main), got "latest"',
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
            {"production": PRODUCTION.replace("shared_account = true", "shared_account = true\n  retention_days = 0")},
            "production.hcl",
            "backup_copies.retention_days",
            "expected a whole number from 1 to 365 (days; the locked copy vaults keep no copy longer), got 0",
            id="copies-kept-no-day",
        ),
        pytest.param(
            {"common": COMMON.replace('region  = "eu-west-1"', 'region  = "Ireland"')},
            "common.hcl",
            "region",
            "AWS region",
            id="bad-default-names-common",
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
            {"common": COMMON.replace("database_cpu_percent         = 80", "database_cpu_percent = 100")},
            "common.hcl",
            "alarms.database_cpu_percent",
            "expected a whole number from 1 to 99 (percent; CPU never rises above 100), got 100",
            id="cpu-alarm-that-never-fires",
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
            {"production": with_ec2_setting('ssh_allowed_cidrs = ["203.0.113.7"]')},
            "production.hcl",
            "api.ec2.ssh_allowed_cidrs[0]",
            'expected an IPv4 network of /16 or narrower, such as "203.0.113.7/32"',
            id="ssh-source-without-its-prefix",
        ),
        pytest.param(
            {"production": PRODUCTION + "alarms {\n  cpu_credit_balance = 0\n}\n"},
            "production.hcl",
            "alarms.cpu_credit_balance",
            "expected a whole number from 1 to 10000 (CPU credits; the alarm fires below it, never below 0), got 0",
            id="credit-alarm-that-never-fires",
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
def test_a_wrong_value_names_file_key_and_expectation(
    tmp_path: Path, files: dict[str, str], file: str, key: str, expected: str
) -> None:
    assert_refused(tmp_path, files, file, key, expected)
