"""Builds every stack of every environment into one CDKTF app."""

from __future__ import annotations

from cdktf import App

from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from config.settings import ApiVariant
from stacks.alerts import AlertsStack
from stacks.api_fargate import FargateApiStack
from stacks.api_instance import InstanceApiStack
from stacks.backup_vaults import BackupVaultsStack
from stacks.certificate import CertificateStack
from stacks.database import DatabaseStack
from stacks.maintenance import MaintenanceStack
from stacks.network import NetworkStack
from stacks.registry import RegistryStack
from stacks.state import StateStack


def build_app(config: AppConfig, *, outdir: str) -> App:
    app = App(outdir=outdir, stack_traces=False)
    for env in config.environments:
        StateStack(app, env=env)
    AlertsStack(app, env=config.shared)
    RegistryStack(
        app,
        env=config.shared,
        pull_account_ids=config.pull_account_ids,
        placeholders=config.placeholder_environments,
    )
    BackupVaultsStack(
        app, env=config.shared, copying=[env for env in config.workloads if env.backup_copies.shared_account]
    )
    for env in config.workloads:
        add_workload_stacks(app, env=env, shared=config.shared)
    return app


def add_workload_stacks(app: App, *, env: WorkloadEnvironment, shared: SharedEnvironment) -> None:
    """The stacks of one workload environment, wired by construct attributes (remote state in Terraform)."""
    on_ecs = env.api.variant is ApiVariant.ECS  # the one place the variant is chosen
    alerts = AlertsStack(app, env=env)
    certificate = CertificateStack(app, env=env)
    network = NetworkStack(app, env=env, api_public_address=not on_ecs)
    database = DatabaseStack(app, env=env, shared=shared, network=network.network, alerts=alerts)
    if on_ecs:
        FargateApiStack(
            app, env=env, shared=shared, alerts=alerts, certificate=certificate, network=network, database=database
        )
    else:
        InstanceApiStack(app, env=env, shared=shared, alerts=alerts, network=network, database=database)
    MaintenanceStack(app, env=env, shared=shared, network=network, database=database)
