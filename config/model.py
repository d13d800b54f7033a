"""The environments (`envs/<name>.hcl` on top of `envs/common.hcl`) and the whole app's config.

`config.loader` validates each file into one of these; rules that span blocks of
an environment are its validators, rules across environments are `AppConfig`'s.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import StrictBool, StrictStr, model_validator

from config import aws, coherence, rules
from config.checks import Accepts, checked, refuse
from config.settings import (
    AccountId,
    AlarmsConfig,
    AlertsConfig,
    ApiConfig,
    ApiVariant,
    BackupCopiesConfig,
    CiConfig,
    CountryCode,
    DatabaseConfig,
    DomainName,
    EnvironmentDomain,
    GithubConfig,
    HttpsOrigin,
    MaintenanceConfig,
    NetworkConfig,
    Region,
    RegistryConfig,
    Settings,
    StateConfig,
)

PRODUCTION_ENV = "production"
MIN_PRODUCTION_BACKUP_DAYS = 7
# The environments the old CDK system ran (docs/migration.md): only there is anything to adopt.
LEGACY_ENVIRONMENTS = ("shared", "staging", "production")
LEGACY_REGION = "eu-west-1"
# Days the old system kept its API log group (LITTILBackendApiEcsLogs-<env>), which the api stack adopts.
LEGACY_LOG_RETENTION_DAYS = 731


def refuse_unless_legacy(name: str, region: str, adopt_legacy: bool) -> None:
    """adopt_legacy only where the old system's data is: its environments, in its region."""
    if adopt_legacy and name not in LEGACY_ENVIRONMENTS:
        raise refuse(
            f"the old CDK system never ran in {name} (only {', '.join(LEGACY_ENVIRONMENTS)}): there is nothing to"
            " adopt, and each import would fail; set it to false",
            "adopt_legacy",
        )
    if adopt_legacy and region != LEGACY_REGION:
        raise refuse(
            f"the old system's data is in {LEGACY_REGION}: adopting in {region} imports nothing (before the"
            f" cut-over) or builds an empty {name} beside the running one (after it); keep {LEGACY_REGION}",
            "region",
        )


class SharedEnvironment(Settings):
    """The registry account (`envs/shared.hcl`)."""

    name: StrictStr
    account_id: AccountId
    region: Annotated[Region, Accepts("without-ses", "the shared account sends no mail")]
    country: CountryCode
    state: StateConfig
    github: GithubConfig
    registry: RegistryConfig
    ci: CiConfig
    alerts: AlertsConfig
    # true: the account still holds the old CDK system's data (docs/migration.md); import it, never create it.
    adopt_legacy: StrictBool

    @property
    def has_placeholder_account(self) -> bool:
        return rules.is_placeholder_account_id(self.account_id)

    @model_validator(mode="after")
    def _legacy_exists(self) -> Self:
        refuse_unless_legacy(self.name, self.region, self.adopt_legacy)
        coherence.ci_is_this_repository(self.ci, self.github)
        coherence.registry_takes_what_ci_pushes(self.registry)
        return self

    @property
    def registry_host(self) -> str:
        """Docker registry host of the shared account's ECR."""
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"


class WorkloadEnvironment(Settings):
    """An account that runs LITTIL (`envs/staging.hcl`, `envs/production.hcl`, ...)."""

    name: StrictStr
    account_id: AccountId
    region: Region
    country: CountryCode
    domain: EnvironmentDomain
    cors_origin: HttpsOrigin
    state: StateConfig
    github: GithubConfig
    network: NetworkConfig
    database: DatabaseConfig
    backup_copies: BackupCopiesConfig
    api: ApiConfig
    maintenance: MaintenanceConfig
    ci: CiConfig
    alerts: AlertsConfig
    alarms: AlarmsConfig
    # true: the account still holds the old CDK system's data (docs/migration.md); import it, never create it.
    adopt_legacy: StrictBool
    # true: real users' data; the production rules apply (deletion protection, >= 7 days of backups, both copies).
    production_grade: StrictBool
    # Defaults to mail.<domain>.
    mail_domain: DomainName | None = None
    # With a hosted zone, DNS records (certificate validation, DKIM) are managed here;
    # without one they are stack outputs for whoever runs DNS.
    route53_zone_id: Annotated[StrictStr, checked(rules.hosted_zone_id)] | None = None

    @property
    def has_placeholder_account(self) -> bool:
        return rules.is_placeholder_account_id(self.account_id)

    @model_validator(mode="after")
    def _fits_together(self) -> Self:
        for index, zone in enumerate(self.network.availability_zones):
            if (expected := aws.zone_in(self.region, zone)) is not None:
                raise refuse(f'expected {expected}, got "{zone}"', "network", "availability_zones", index)
        database = self.database
        if self.alarms.database_free_storage_gb >= database.allocated_storage_gb:
            raise refuse(
                f"must be below database.allocated_storage_gb ({database.allocated_storage_gb}),"
                " or the alarm would fire on an empty database",
                "alarms",
                "database_free_storage_gb",
            )
        if self.name == PRODUCTION_ENV and not self.production_grade:
            raise refuse("production must be production-grade: set it to true", "production_grade")
        if self.production_grade and not database.deletion_protection:
            raise refuse(
                "production_grade requires deletion protection: set it to true", "database", "deletion_protection"
            )
        if self.production_grade and database.backup_retention_days < MIN_PRODUCTION_BACKUP_DAYS:
            raise refuse(
                f"production_grade requires at least {MIN_PRODUCTION_BACKUP_DAYS} days of backups,"
                f" got {database.backup_retention_days}",
                "database",
                "backup_retention_days",
            )
        self._settings_take_effect()
        coherence.ci_is_this_repository(self.ci, self.github)
        coherence.ssh_has_a_way_in(self.api)
        coherence.region_sends_mail(self.region)
        self._alarms_can_fire()
        self._snapshot_is_here()
        return self._backup_copies_fit()

    def _settings_take_effect(self) -> None:
        """Nothing set that the chosen variant or the account's past ignores (or that breaks what it adopts)."""
        refuse_unless_legacy(self.name, self.region, self.adopt_legacy)
        if self.adopt_legacy and self.api.log_retention_days < LEGACY_LOG_RETENTION_DAYS:
            raise refuse(
                f"the adopted log group LITTILBackendApiEcsLogs-{self.name} keeps {LEGACY_LOG_RETENTION_DAYS} days of"
                f" logs; {self.api.log_retention_days} would delete the older ones within a day: keep"
                f" {LEGACY_LOG_RETENTION_DAYS} or more",
                "api",
                "log_retention_days",
            )
        if self.cors_origin == f"https://{self.api_domain}":
            raise refuse(
                "must be the web app's origin (such as https://www.<domain>), not the API's own: browsers send the"
                " API's own origin no CORS request, and the web app's would be refused",
                "cors_origin",
            )
        if self.api.variant is ApiVariant.EC2 and self.network.nat_gateway:
            raise refuse(
                'only the ECS variant\'s tasks route through it: with api.variant = "ec2" nothing does, and it costs'
                " about 35 USD a month; set it to false",
                "network",
                "nat_gateway",
            )

    def _alarms_can_fire(self) -> None:
        """No threshold the configured instance can never cross, or always has."""
        instance_class = self.database.instance_class
        memory = aws.memory_mib(instance_class)
        if memory is not None and self.alarms.database_freeable_memory_mib >= memory:
            raise refuse(
                f"must be below the {memory} MiB of database.instance_class {instance_class}, or the alarm fires"
                " all the time",
                "alarms",
                "database_freeable_memory_mib",
            )
        credits = aws.max_cpu_credits(self.api.ec2.instance_type)
        if self.api.variant is ApiVariant.EC2 and credits is not None and self.alarms.cpu_credit_balance >= credits:
            raise refuse(
                f"must be below the {credits} CPU credits a {self.api.ec2.instance_type} holds at most, or the alarm"
                " fires all the time",
                "alarms",
                "cpu_credit_balance",
            )

    def _snapshot_is_here(self) -> None:
        arn = rules.SNAPSHOT_ARN.fullmatch(self.database.snapshot_identifier or "")
        if arn and arn["region"] != self.region:
            raise refuse(
                f"RDS restores only a snapshot of the environment's region ({self.region}), not of {arn['region']}:"
                f" copy it here first (aws rds copy-db-snapshot --region {self.region} --source-region"
                f" {arn['region']} ...) and name the copy",
                "database",
                "snapshot_identifier",
            )

    def _backup_copies_fit(self) -> Self:
        copies = self.backup_copies
        if copies.region == self.region:
            raise refuse(
                f"must be another region than the environment's own ({self.region}): a copy there dies with it",
                "backup_copies",
                "region",
            )
        if self.production_grade and copies.region is None:
            raise refuse(
                'production_grade requires a copy of the backups in a second region: set it, e.g. "eu-central-1"',
                "backup_copies",
                "region",
            )
        if self.production_grade and not copies.shared_account:
            raise refuse(
                "production_grade requires a copy of the backups in the shared account: set it to true",
                "backup_copies",
                "shared_account",
            )
        if copies.region is not None and copies.retention_days > rules.RDS_MAX_BACKUP_RETENTION_DAYS:
            raise refuse(
                f"RDS keeps backups replicated to backup_copies.region ({copies.region}) at most"
                f" {rules.RDS_MAX_BACKUP_RETENTION_DAYS} days, got {copies.retention_days}: set"
                f" {rules.RDS_MAX_BACKUP_RETENTION_DAYS} or less",
                "backup_copies",
                "retention_days",
            )
        floor = self.database.backup_retention_days
        if self.production_grade and copies.retention_days < floor:
            raise refuse(
                f"production_grade requires copies kept at least as long as the database's own backups"
                f" (database.backup_retention_days = {floor}), got {copies.retention_days}: the vault's lock would"
                " hold this shorter time for good",
                "backup_copies",
                "retention_days",
            )
        return self

    @property
    def api_domain(self) -> str:
        return f"api.{self.domain}"

    @property
    def effective_mail_domain(self) -> str:
        return self.mail_domain or f"mail.{self.domain}"


class AppConfig(Settings):
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
