"""Log groups kept apart from what writes to them, so that routine operations never take the logs along.

ECS Exec sessions are the audit trail of the environment's shells. They are written by clusters that come and go:
the maintenance service is switched on and off and its stack destroyed, and switching the API's variant removes its
ECS cluster. Their log groups live in `api-<env>`, which those operations change but never destroy, and keep every
session for the configured retention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from modules.access.iam import arn


def container_log_group_name(cluster_name: str) -> str:
    """Where the containers of a cluster's tasks write (awslogs)."""
    return f"/ecs/{cluster_name}"


def exec_log_group_name(cluster_name: str) -> str:
    """Where a cluster's ECS Exec sessions are logged."""
    return f"/ecs/{cluster_name}/exec-sessions"


class LogGroup(Protocol):
    """What a task needs of a log group: a CloudwatchLogGroup of the same stack, or a `LogGroupRef`."""

    @property
    def name(self) -> str: ...

    @property
    def arn(self) -> str: ...


@dataclass(frozen=True)
class LogGroupRef:
    """A log group made in another stack, known by its name (no state is read across stacks for it)."""

    name: str
    arn: str

    @classmethod
    def named(cls, name: str, *, region: str, account_id: str) -> LogGroupRef:
        return cls(name, arn("logs", f"log-group:{name}", region=region, account=account_id))


class KeptLogGroups(Construct):
    """A log group for each of `names` (construct id -> log group name), each keeping its events `retention_days`.

    Exposes `log_groups` by log group name.
    """

    def __init__(self, scope: Construct, construct_id: str, *, names: Mapping[str, str], retention_days: int) -> None:
        super().__init__(scope, construct_id)
        self.log_groups = {
            name: CloudwatchLogGroup(self, group_id, name=name, retention_in_days=retention_days)
            for group_id, name in names.items()
        }
