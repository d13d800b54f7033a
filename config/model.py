"""Typed, frozen environment configuration.

`config.loader` turns the HCL files in `envs/` into these objects and rejects
anything that does not fit, so nothing downstream re-checks strings. Field
annotations carry the validation rules (see `config.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from config import rules


class ApiVariant(StrEnum):
    """How the API runs: ECS Fargate behind an ALB, or one EC2 instance."""

    ECS = "ecs"
    EC2 = "ec2"


AccountId = Annotated[str, rules.account_id]
Region = Annotated[str, rules.region]
CountryCode = Annotated[str, rules.country_code]
DomainName = Annotated[str, rules.domain_name]
HttpsOrigin = Annotated[str, rules.https_origin]
VpcCidr = Annotated[str, rules.vpc_cidr]
ImageTag = Annotated[str, rules.image_tag]
ReleaseTag = Annotated[str, rules.image_tag, rules.release_tag]
GithubName = Annotated[str, rules.github_name]
PositiveInt = Annotated[int, rules.positive]
AvailabilityZone = Annotated[str, rules.availability_zone]


@dataclass(frozen=True)
class StateConfig:
    """The environment's Terraform state bucket."""

    noncurrent_version_expiration_days: PositiveInt
    # false: state-<env> keeps its own state in a local file (bootstrap). After the bucket
    # exists, true moves it into the bucket (see README, "Bootstrapping state").
    store_own_state_in_bucket: bool


@dataclass(frozen=True)
class GithubConfig:
    """The GitHub repository whose Actions workflows may push images and redeploy."""

    org: GithubName
    repo: GithubName
    # true: this account gets a token.actions.githubusercontent.com OIDC provider;
    # false: an existing one is looked up (an account holds one provider per URL).
    create_oidc_provider: bool


@dataclass(frozen=True)
class CiConfig:
    """This repository (the infrastructure code) on GitHub: its workflows may plan, read-only."""

    github_org: GithubName
    github_repo: GithubName


@dataclass(frozen=True)
class RegistryConfig:
    """ECR settings of the shared account."""

    untagged_image_expiry_days: PositiveInt
    tagged_images_to_keep: Annotated[int, rules.within(1, 10000, "images an ECR lifecycle rule counts")]
    # Tags of littil-backend that may be overwritten (e.g. "latest"); empty = all immutable.
    api_mutable_tags: tuple[ImageTag, ...]


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: VpcCidr
    availability_zones: tuple[AvailabilityZone, ...]
    # Opt-in (costs money): private subnets with a NAT gateway for the API tasks.
    nat_gateway: bool


@dataclass(frozen=True)
class DatabaseConfig:
    name: Annotated[str, rules.database_name]
    engine_version: Annotated[str, rules.engine_version, rules.offered_engine_version]
    instance_class: Annotated[str, rules.db_instance_class]
    allocated_storage_gb: Annotated[int, rules.within(20, 65536, "RDS MariaDB gp3 storage in GB")]
    max_allocated_storage_gb: Annotated[int, rules.within(20, 65536, "RDS MariaDB gp3 storage in GB")]
    backup_retention_days: Annotated[int, rules.backup_retention]
    deletion_protection: bool
    multi_az: bool
    # Off by default: the application's JDBC URL does not ask for TLS (see README).
    require_secure_transport: bool
    # Statements slower than this go to the slow-query log, which CloudWatch Logs receives.
    slow_query_seconds: Annotated[int, rules.within(1, 3600, "seconds (MariaDB long_query_time)")]
    # true only while an engine_version of a new major version is being applied (RDS refuses it otherwise).
    allow_major_version_upgrade: bool = False
    # Create the instance from this snapshot (docs/migration.md). RDS restores it at its own engine
    # version and size: state both (`aws rds describe-db-snapshots`), so validation can refuse what RDS would.
    snapshot_identifier: Annotated[str, rules.snapshot_identifier] | None = None
    snapshot_engine_version: Annotated[str, rules.engine_version] | None = None
    snapshot_allocated_storage_gb: Annotated[int, rules.within(20, 65536, "RDS storage in GB")] | None = None


@dataclass(frozen=True)
class EcsApiConfig:
    cpu: Annotated[int, rules.fargate_cpu]
    memory_mib: PositiveInt
    desired_count: Annotated[int, rules.within(0, 5000, "tasks per ECS service")]


@dataclass(frozen=True)
class Ec2ApiConfig:
    instance_type: Annotated[str, rules.ec2_instance_type]
    # The Amazon Linux 2023 AMI's snapshot is 8 GB; gp3 volumes end at 16 TiB.
    root_volume_gb: Annotated[int, rules.within(8, 16384, "gp3 root volume in GB")]
    # Let's Encrypt account and expiry mail.
    certbot_email: Annotated[str, rules.email]
    # OpenSSH public key for ec2-user; null: no key pair, SSM Session Manager only.
    ssh_public_key: Annotated[str, rules.ssh_public_key] | None
    # Who may reach port 22; empty: nobody (use SSM).
    ssh_allowed_cidrs: tuple[Annotated[str, rules.ssh_cidr], ...]


@dataclass(frozen=True)
class ApiConfig:
    variant: ApiVariant
    image_tag: ReleaseTag
    log_retention_days: Annotated[int, rules.log_retention]
    ecs: EcsApiConfig
    ec2: Ec2ApiConfig


@dataclass(frozen=True)
class MaintenanceConfig:
    enabled: bool
    image_tag: ReleaseTag


@dataclass(frozen=True)
class AlertsConfig:
    """Who hears about trouble in this account, and what it may cost."""

    # Alarm mail (workload environments) and budget mail (every account) go here.
    email: Annotated[str, rules.email]
    # AWS Budgets mails at 80 % of this (forecast) and at 100 % (actual).
    monthly_budget_usd: Annotated[int, rules.within(1, 1_000_000, "US dollars a month")]


@dataclass(frozen=True)
class AlarmsConfig:
    """Thresholds of the workload alarms (README, "Alarms"); each alarm mails again when it returns to OK."""

    # Route53 HTTPS check of https://api.<domain>/q/health/ready from outside AWS (about 1.50 USD a month).
    outside_health_check: bool
    # 5xx answers (from the load balancer or from the API) within 5 minutes (ECS variant).
    http_5xx_per_5_minutes: Annotated[int, rules.within(1, 100_000, "5xx answers per 5 minutes")]
    # How long a target may fail the load balancer's health check (ECS variant).
    unhealthy_target_minutes: Annotated[int, rules.within(1, 60, "minutes")]
    # Days the API's certificate has left. ACM renews at 60, certbot at 30 days: below 30 only a failed renewal alarms.
    certificate_days_left: Annotated[int, rules.within(1, 29, "days; certbot renews at 30 left")]
    # CPU credits of a burstable instance (t2/t3/t3a/t4g; EC2 variant); standard credits throttle at 0.
    cpu_credit_balance: Annotated[int, rules.within(0, 10_000, "CPU credits")]
    database_free_storage_gb: Annotated[int, rules.within(1, 65536, "GB")]
    database_cpu_percent: Annotated[int, rules.within(1, 100, "percent")]
    database_freeable_memory_mib: Annotated[int, rules.within(1, 1_000_000, "MiB")]


@dataclass(frozen=True)
class SharedEnvironment:
    """The registry account (`envs/shared.hcl`)."""

    name: str
    account_id: AccountId
    region: Region
    country: CountryCode
    state: StateConfig
    github: GithubConfig
    registry: RegistryConfig
    ci: CiConfig
    alerts: AlertsConfig
    # true: the account still holds the old CDK system's data (docs/migration.md); import it, never create it.
    adopt_legacy: bool

    @property
    def has_placeholder_account(self) -> bool:
        return rules.is_placeholder_account_id(self.account_id)

    @property
    def registry_host(self) -> str:
        """Docker registry host of the shared account's ECR."""
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"


@dataclass(frozen=True)
class WorkloadEnvironment:
    """An account that runs LITTIL (`envs/staging.hcl`, `envs/production.hcl`, ...)."""

    name: str
    account_id: AccountId
    region: Region
    country: CountryCode
    domain: DomainName
    cors_origin: HttpsOrigin
    state: StateConfig
    github: GithubConfig
    network: NetworkConfig
    database: DatabaseConfig
    api: ApiConfig
    maintenance: MaintenanceConfig
    ci: CiConfig
    alerts: AlertsConfig
    alarms: AlarmsConfig
    # true: the account still holds the old CDK system's data (docs/migration.md); import it, never create it.
    adopt_legacy: bool
    # true: real users' data; the production rules apply (deletion protection, >= 7 days of backups).
    production_grade: bool
    # Defaults to mail.<domain>.
    mail_domain: DomainName | None = None
    # With a hosted zone, DNS records (certificate validation, DKIM) are managed here;
    # without one they are stack outputs for whoever runs DNS.
    route53_zone_id: Annotated[str, rules.hosted_zone_id] | None = None

    @property
    def has_placeholder_account(self) -> bool:
        return rules.is_placeholder_account_id(self.account_id)

    @property
    def api_domain(self) -> str:
        return f"api.{self.domain}"

    @property
    def effective_mail_domain(self) -> str:
        return self.mail_domain or f"mail.{self.domain}"


@dataclass(frozen=True)
class AppConfig:
    """Every environment of the app, validated."""

    shared: SharedEnvironment
    workloads: tuple[WorkloadEnvironment, ...]

    def workload(self, name: str) -> WorkloadEnvironment:
        """The workload environment from `envs/<name>.hcl`."""
        for env in self.workloads:
            if env.name == name:
                return env
        raise KeyError(f"no workload environment {name!r}")

    @property
    def pull_account_ids(self) -> tuple[str, ...]:
        """Workload accounts allowed to pull images from the shared registry (placeholders never are)."""
        real = {env.account_id for env in self.workloads if not env.has_placeholder_account}
        return tuple(sorted(real - {self.shared.account_id}))

    @property
    def placeholder_environments(self) -> tuple[SharedEnvironment | WorkloadEnvironment, ...]:
        """Environments whose `account_id` still stands in for the real one."""
        return tuple(env for env in self.environments if env.has_placeholder_account)

    @property
    def environments(self) -> tuple[SharedEnvironment | WorkloadEnvironment, ...]:
        return (self.shared, *self.workloads)
