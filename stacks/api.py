"""`api-<env>`: the LITTIL API and what it needs, whichever way it runs.

`ApiStack` holds what both variants share: logging, SES SMTP credentials, the
OIDC secret, the account's GitHub OIDC provider, the read-only plan role, the
runtime settings and secrets, and the database access of the API's security
group. Each variant is a subclass that adds how the API runs
(`stacks.api_fargate`, `stacks.api_instance`); `stacks.app` picks one.
Switching variants changes this stack, the Elastic IP in network-<env> and one
output of certificate-<env> (tests/test_safety.py).
"""

from __future__ import annotations

from cdktf import TerraformOutput, Token
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.access.github_oidc import GithubOidcProvider
from modules.access.iam import arn
from modules.access.secrets import adopt_secret, secret
from modules.api.kept_logs import KeptLogGroups, container_log_group_name, exec_log_group_name
from modules.api.logs import ApiLogging
from modules.api.runtime import OIDC_SECRET_KEYS, ApiRuntime, api_runtime
from modules.api.smtp import SesSmtp
from modules.database import allow_client
from modules.ecr import API_REPOSITORY
from modules.maintenance import MAINTENANCE_NAME
from modules.observe.alarms import AlarmSet
from stacks.alerts import AlertsStack
from stacks.base import LittilStack
from stacks.database import DatabaseStack

# Physical names of the API's own resources start with this part (`LITTIL-NL-staging-littil-api-...`).
API_NAME = "littil-api"


class ApiStack(LittilStack):
    """What both variants share. A subclass builds the API, then calls `connect(...)` with its security group."""

    env: WorkloadEnvironment
    alarms: AlarmSet  # the variant's alarms

    def __init__(
        self,
        scope: Construct,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        alerts: AlertsStack,
        database: DatabaseStack,
    ) -> None:
        super().__init__(scope, component="api", env=env)
        self.alerts = alerts
        self.database = database
        self.name = self.physical_name(API_NAME)
        self.repository_arn = arn(
            "ecr", f"repository/{API_REPOSITORY}", region=shared.region, account=shared.account_id
        )
        self.refuse_placeholder_accounts([shared], why="the API pulls its image from the shared registry account")
        self.secret_prefix = secret_prefix = f"littil/backend/{env.name}"
        # SSM parameters this stack writes (and a plan reads back) live under this path.
        self.parameter_path = f"/littil/{env.name}"

        # The old system's name, kept for both variants: its log group (and logs) is adopted.
        log_group_name = f"LITTILBackendApiEcsLogs-{env.name}"
        self.logging = ApiLogging(
            self,
            "logging",
            log_group_name=log_group_name,
            retention_days=env.api.log_retention_days,
            user_name=self.physical_name(API_NAME, "CloudWatch-User"),
            policy_name=self.physical_name(API_NAME, "cloudwatch-logs"),
            secret_name=f"{secret_prefix}/cloudwatch",
        )
        if env.adopt_legacy:  # retained by CloudFormation with the old system's logs
            self.logging.log_group.import_from(log_group_name)
        # Whichever variant runs and whether maintenance is on: the shells' audit trail (ECS Exec sessions) and the
        # maintenance service's logs outlive the clusters that write them (modules/api/kept_logs.py).
        maintenance = self.physical_name(MAINTENANCE_NAME)
        self.kept_logs = KeptLogGroups(
            self,
            "kept-log-groups",
            names={
                "api-exec-sessions": exec_log_group_name(self.name),
                "maintenance-containers": container_log_group_name(maintenance),
                "maintenance-exec-sessions": exec_log_group_name(maintenance),
            },
            retention_days=env.api.log_retention_days,
        )
        self.smtp = SesSmtp(
            self,
            "smtp",
            mail_domain=env.effective_mail_domain,
            region=env.region,
            user_name=self.physical_name(API_NAME, "SMTP-User"),
            policy_name=self.physical_name(API_NAME, "ses-send"),
            secret_name=f"{secret_prefix}/smtp",
            hosted_zone_id=env.route53_zone_id,
            # Adopted, the secret keeps the SMTP credentials operators put there; nothing of ours writes it.
            manage_credentials=not env.adopt_legacy,
        )
        self.oidc_secret = secret(
            self,
            "oidc-secret",
            name=f"{secret_prefix}/oidc",
            description="OIDC (Auth0) settings, filled by operators: " + ", ".join(OIDC_SECRET_KEYS.values()),
        )
        if env.adopt_legacy:  # both made by hand for the old system, holding the live values
            adopt_secret(self.oidc_secret)
            adopt_secret(self.smtp.secret)
        db = database.database
        self.runtime: ApiRuntime = api_runtime(
            database_host=db.address,
            database_port=Token.as_string(db.port),
            database_name=db.database_name,
            database_secret_arn=db.secret_arn,
            require_database_tls=env.database.require_secure_transport,
            cors_origin=env.cors_origin,
            mail_from=f"no-reply@{env.effective_mail_domain}",
            log_group_name=self.logging.log_group.name,
            log_stream_name=f"littil-backend-{env.name}",
            region=env.region,
            oidc_secret_arn=self.oidc_secret.arn,
            smtp=(self.smtp.host, self.smtp.username, self.smtp.password),
            log_writer=(self.logging.access_key_id, self.logging.secret_access_key),
        )

        # The account's GitHub identity provider, in either variant: only the ECS variant's redeploy role
        # uses it, but switching variants must neither delete an adopted provider nor re-import a deleted one.
        self.github_oidc = GithubOidcProvider(
            self,
            "github-oidc",
            create=env.github.create_oidc_provider,
            adopt_in_account=env.account_id if env.adopt_legacy else None,
        )
        # Read-only plans of this account's stacks for this repository's CI (docs/development.md, "CI"). Secrets
        # whose value Terraform wrote are in the state it reads anyway; an adopted smtp secret holds the operators'.
        self.plan_role = self.add_plan_role(
            provider_arn=self.github_oidc.arn,
            readable_secret_arns=[self.logging.secret.arn, *([] if env.adopt_legacy else [self.smtp.secret.arn])],
            readable_parameter_arns=[
                arn("ssm", f"parameter{self.parameter_path}/*", region=env.region, account=self.current_account_id)
            ],
        )

    def connect(self, api_security_group_id: str) -> None:
        """Let the variant's API reach the database; the outputs every variant has."""
        env = self.env
        allow_client(
            self,
            "database-access",
            database_security_group_id=self.database.database.security_group.id,
            client_security_group_id=api_security_group_id,
        )
        TerraformOutput(self, "oidc-secret-name", value=self.oidc_secret.name, description="Fill before first start")
        TerraformOutput(
            self,
            "mail-dns-records",
            value=[f"{record_name} {kind} {value}" for record_name, kind, value in self.smtp.dns_records],
            description="SES verification and DKIM records"
            + (" (managed in Route53)" if env.route53_zone_id else " (create at your DNS provider)"),
        )
