"""Builds every stack of every environment into one CDKTF app."""

from __future__ import annotations

from cdktf import App

from config.model import AppConfig
from stacks.registry import RegistryStack
from stacks.state import StateStack


def build_app(config: AppConfig, *, outdir: str) -> App:
    app = App(outdir=outdir, stack_traces=False)
    for env in config.environments:
        StateStack(app, env=env)
    RegistryStack(app, env=config.shared, pull_account_ids=config.pull_account_ids)
    return app
