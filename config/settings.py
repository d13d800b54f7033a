"""The blocks of an env file (`database { ... }`, `api { ... }`, ...) as typed, frozen models.

A setting is declared once, here: its type and rules on its annotation (formats in
`config.rules`), its meaning in the comment above it. Its default is in
`envs/common.hcl`. Rules that span keys of one block are that block's validators.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictInt, StrictStr, model_validator

from config import aws, rules, ssh
from config.checks import Accepts, OnlyWith, checked, refuse, within


class Settings(BaseModel):
    """A block of an env file: typed, frozen, and no key it does not declare."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ApiVariant(StrEnum):
    """How the API runs: ECS Fargate behind an ALB, or one EC2 instance."""

    ECS = "ecs"
    EC2 = "ec2"


AccountId = Annotated[StrictStr, checked(rules.account_id)]
Region = Annotated[StrictStr, checked(rules.region, aws.known_region)]
CountryCode = Annotated[StrictStr, checked(rules.country_code)]
DomainName = Annotated[StrictStr, checked(rules.own_domain_name)]
EnvironmentDomain = Annotated[StrictStr, checked(rules.environment_domain)]
HttpsOrigin = Annotated[StrictStr, checked(rules.https_origin)]
VpcCidr = Annotated[StrictStr, checked(rules.vpc_cidr)]
ImageTag = Annotated[StrictStr, checked(rules.image_tag)]
ReleaseTag = Annotated[StrictStr, checked(rules.image_tag, rules.release_tag)]
GithubName = Annotated[StrictStr, checked(rules.github_name)]
Email = Annotated[
    StrictStr,
    checked(rules.email),
    Accepts(
        "other-case", "mail domains are case-insensitive (RFC 5321), and mailboxes treat local parts so in practice"
    ),
]
PositiveInt = Annotated[StrictInt, checked(rules.positive)]
AvailabilityZone = Annotated[StrictStr, checked(rules.availability_zone)]
EngineVersion = Annotated[StrictStr, checked(rules.engine_version)]
StorageGb = Annotated[StrictInt, within(20, 65536, "RDS MariaDB gp3 storage in GB")]


class StateConfig(Settings):
    """The environment's Terraform state bucket."""

    noncurrent_version_expiration_days: PositiveInt
    # false: state-<env> keeps its own state in a local file (bootstrap). After the bucket
    # exists, true moves it into the bucket (docs/runbooks/bootstrap-state.md).
    store_own_state_in_bucket: StrictBool


class GithubConfig(Settings):
    """The GitHub repository whose Actions workflows may push images and redeploy."""

    org: GithubName
    repo: GithubName
    # true: this account gets a token.actions.githubusercontent.com OIDC provider;
    # false: an existing one is looked up (an account holds one provider per URL).
    create_oidc_provider: StrictBool


class CiConfig(Settings):
    """This repository (the infrastructure code) on GitHub: its workflows may plan, read-only."""

    github_org: GithubName
    github_repo: GithubName


class RegistryConfig(Settings):
    """ECR settings of the shared account."""

    untagged_image_expiry_days: PositiveInt
    tagged_images_to_keep: Annotated[StrictInt, within(1, 10000, "images an ECR lifecycle rule counts")]
    # Tags of littil-backend that may be overwritten (e.g. "latest"); empty = all immutable.
    api_mutable_tags: Annotated[tuple[ImageTag, ...], checked(rules.each_once)]


class NetworkConfig(Settings):
    vpc_cidr: VpcCidr
    availability_zones: tuple[AvailabilityZone, ...]
    # Opt-in (costs money): private subnets with a NAT gateway for the API tasks.
    nat_gateway: StrictBool

    @model_validator(mode="after")
    def _two_to_four_zones(self) -> Self:
        zones = self.availability_zones
        if not 2 <= len(set(zones)) == len(zones) <= 4:
            raise refuse("expected two to four different availability zones", "availability_zones")
        return self


class DatabaseConfig(Settings):
    name: Annotated[
        StrictStr,
        checked(rules.database_name),
        Accepts("other-case", "MariaDB keeps a database name as written, and the API is given it so"),
        Accepts("another-environment", "each environment's instance is its own; the old system used one name in all"),
    ]
    engine_version: Annotated[StrictStr, checked(rules.engine_version, rules.offered_engine_version)]
    instance_class: Annotated[StrictStr, checked(aws.rds_instance_class)]
    allocated_storage_gb: StorageGb
    max_allocated_storage_gb: StorageGb
    backup_retention_days: Annotated[StrictInt, checked(rules.backup_retention)]
    deletion_protection: StrictBool
    multi_az: StrictBool
    # Off by default: the application's JDBC URL does not ask for TLS (docs/design.md, "Secrets").
    require_secure_transport: StrictBool
    # Statements slower than this go to the slow-query log, which CloudWatch Logs receives.
    slow_query_seconds: Annotated[StrictInt, within(1, 3600, "seconds (MariaDB long_query_time)")]
    # true only while an engine_version of a new major version is being applied (RDS refuses it otherwise).
    allow_major_version_upgrade: StrictBool = False
    # Create the instance from this snapshot (docs/migration.md). RDS restores it at its own engine
    # version and size: state both (`aws rds describe-db-snapshots`), so validation can refuse what RDS would.
    snapshot_identifier: (
        Annotated[
            StrictStr,
            checked(rules.snapshot_identifier),
            Accepts("other-case", "RDS stores snapshot identifiers in lower case and finds them in any (RDS API)"),
        ]
        | None
    ) = None
    snapshot_engine_version: EngineVersion | None = None
    snapshot_allocated_storage_gb: Annotated[StrictInt, within(20, 65536, "RDS storage in GB")] | None = None

    @model_validator(mode="after")
    def _storage_can_grow(self) -> Self:
        # RDS refuses a storage autoscaling limit less than 10 % above the allocated storage.
        least = -(-self.allocated_storage_gb * 11 // 10)
        if self.max_allocated_storage_gb < least:
            raise refuse(
                f"must be at least 10 % above database.allocated_storage_gb ({least} or more):"
                " RDS refuses a smaller storage autoscaling limit",
                "max_allocated_storage_gb",
            )
        return self

    @model_validator(mode="after")
    def _rds_can_restore_the_snapshot(self) -> Self:
        """What RestoreDBInstanceFromDBSnapshot would refuse, said before anything is applied."""
        restore_keys = ("snapshot_engine_version", "snapshot_allocated_storage_gb")
        if self.snapshot_identifier is None:
            for key in restore_keys:
                if getattr(self, key) is not None:
                    raise refuse("only applies with database.snapshot_identifier", key)
            return self
        for key in restore_keys:
            if getattr(self, key) is None:
                raise refuse(
                    f"needs database.{key} too (aws rds describe-db-snapshots shows it)", "snapshot_identifier"
                )
        snapshot_version, snapshot_storage = self.snapshot_engine_version, self.snapshot_allocated_storage_gb
        assert snapshot_version is not None
        assert snapshot_storage is not None
        major = rules.major_version(snapshot_version)
        if major != rules.major_version(self.engine_version):
            raise refuse(
                f"RDS restores the snapshot at its engine version {snapshot_version} with a parameter group of that"
                f" major version, so engine_version must be {major}.x for the restore: upgrade the snapshot first"
                " (aws rds modify-db-snapshot --engine-version, docs/migration.md) or restore at the old version"
                " and upgrade afterwards with allow_major_version_upgrade",
                "engine_version",
            )
        if self.engine_version.count(".") == 2 and _version(self.engine_version) < _version(snapshot_version):
            raise refuse(
                f"cannot be older than the snapshot's {snapshot_version} (RDS never downgrades)", "engine_version"
            )
        if self.allocated_storage_gb < snapshot_storage:
            raise refuse(
                f"must be at least the snapshot's {snapshot_storage} GB (RDS cannot shrink storage)",
                "allocated_storage_gb",
            )
        return self


class BackupCopiesConfig(Settings):
    """Copies of the database's backups that outlive its account and its region (docs/decisions/0006)."""

    # A second region for RDS's own backups (point-in-time restore there); null: none. Not the environment's region.
    region: Annotated[Region, Accepts("without-ses", "backup copies send no mail")] | None
    # A daily copy into a vault of the shared account that nobody in this account can delete (AWS Backup, locked).
    shared_account: StrictBool
    # Days each copy is kept, in both places: the shared account's vault locks each copy at least this long and
    # refuses any kept longer than a year; the second region keeps at most 35 (RDS's limit for replicated backups).
    retention_days: Annotated[
        StrictInt, within(1, rules.BACKUP_COPY_MAX_DAYS, "days; the locked copy vaults keep no copy longer")
    ]


def _version(text: str) -> tuple[int, ...]:
    return tuple(map(int, text.split(".")))


class EcsApiConfig(Settings):
    cpu: Annotated[StrictInt, checked(rules.fargate_cpu)]
    memory_mib: PositiveInt
    desired_count: Annotated[StrictInt, within(0, 5000, "tasks per ECS service")]

    @model_validator(mode="after")
    def _memory_fits_the_cpu(self) -> Self:
        allowed = rules.FARGATE_MEMORY[self.cpu]
        if self.memory_mib not in allowed:
            sizes = (
                f"{allowed.start} to {allowed.stop - 1} in steps of {allowed.step}"
                if isinstance(allowed, range)
                else ", ".join(map(str, allowed))
            )
            raise refuse(
                f"expected a Fargate memory size for cpu {self.cpu}: {sizes}, got {self.memory_mib}", "memory_mib"
            )
        return self


class Ec2ApiConfig(Settings):
    instance_type: Annotated[StrictStr, checked(aws.x86_64_instance_type)]
    # The Amazon Linux 2023 AMI's snapshot is 8 GB; gp3 volumes end at 16 TiB.
    root_volume_gb: Annotated[StrictInt, within(8, 16384, "gp3 root volume in GB")]
    # Let's Encrypt account address (it mails policy changes and incidents; expiry mail ended in 2025).
    certbot_email: Email
    # OpenSSH public key for ec2-user; null: no key pair, SSM Session Manager only.
    ssh_public_key: Annotated[StrictStr, BeforeValidator(ssh.one_line), checked(ssh.ssh_public_key)] | None
    # Who may reach port 22; empty: nobody (use SSM).
    ssh_allowed_cidrs: Annotated[
        tuple[Annotated[StrictStr, checked(ssh.ssh_cidr)], ...],
        Accepts("empty-list", "nobody may reach port 22; Session Manager is the shell"),
    ]


class ApiConfig(Settings):
    variant: ApiVariant
    image_tag: ReleaseTag
    log_retention_days: Annotated[StrictInt, checked(rules.log_retention)]
    ecs: Annotated[EcsApiConfig, OnlyWith("ecs")]
    ec2: Annotated[Ec2ApiConfig, OnlyWith("ec2")]


class MaintenanceConfig(Settings):
    enabled: StrictBool
    image_tag: ReleaseTag


class AlertsConfig(Settings):
    """Who hears about trouble in this account, and what it may cost."""

    # Alarm mail (workload environments) and budget mail (every account) go here.
    email: Email
    # AWS Budgets mails at 80 % of this (forecast) and at 100 % (actual).
    monthly_budget_usd: Annotated[StrictInt, within(1, 1_000_000, "US dollars a month")]


class AlarmsConfig(Settings):
    """Thresholds of the workload alarms (docs/runbooks/answer-alarm.md); each mails again when it returns to OK."""

    # Route53 HTTPS check of https://api.<domain>/q/health/ready from outside AWS (about 1.50 USD a month).
    outside_health_check: StrictBool
    # 5xx answers (from the load balancer or from the API) within 5 minutes (ECS variant).
    http_5xx_per_5_minutes: Annotated[StrictInt, within(1, 100_000, "5xx answers per 5 minutes"), OnlyWith("ecs")]
    # How long a target may fail the load balancer's health check (ECS variant).
    unhealthy_target_minutes: Annotated[StrictInt, within(1, 60, "minutes"), OnlyWith("ecs")]
    # Days the API's certificate has left. ACM renews at 60, certbot at 30 days: below 30 only a failed renewal alarms.
    certificate_days_left: Annotated[StrictInt, within(1, 29, "days; certbot renews at 30 left")]
    # CPU credits of a burstable instance (t2/t3/t3a/t4g; EC2 variant); standard credits throttle at 0.
    cpu_credit_balance: Annotated[
        StrictInt, within(1, 10_000, "CPU credits; the alarm fires below it, never below 0"), OnlyWith("ec2")
    ]
    database_free_storage_gb: Annotated[StrictInt, within(1, 65536, "GB")]
    # The alarm fires above it: at 100 it never would.
    database_cpu_percent: Annotated[StrictInt, within(1, 99, "percent; CPU never rises above 100")]
    database_freeable_memory_mib: Annotated[StrictInt, within(1, 1_000_000, "MiB")]
