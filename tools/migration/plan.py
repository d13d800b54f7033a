"""The cut-over, step by step: the order docs/migration.md walks, as data the tests can walk too.

Each step has the id and title of its heading in docs/migration.md (the tests hold the two
together). Kinds:
  freeze   - the application's deploy workflows are disabled (nothing else changes)
  deploy   - `make deploy STACK=<stack>` of one of our stacks
  retire   - `aws cloudformation delete-stack` of one old stack
  snapshot - writes to the old database stop; its final snapshot, an encrypted and upgraded copy
  check    - the new API answers /q/health/ready under its own name
  switch   - api.<domain> points at the new API
  manual   - by hand, changes nothing we model (clean-up, unfreeze)
`outage` marks the one step after which the old API is gone before the new one answers; the
walk refuses any other such step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    id: str
    account: str
    kind: str
    title: str
    target: str | None = None  # our stack (deploy) or the old stack (retire)
    outage: str | None = None  # why the old API may stop before the new one answers
    restore: bool = False  # a deploy with database.snapshot_identifier set to the final snapshot's copy


# The old stacks that answer api.<domain> today. Staging's API runs on ECS (the application's
# restart-staging workflow restarts it there); production's on the EC2 instance behind the
# Elastic IP. The other old API stacks of each account serve nothing.
SERVING = {"staging": ("ApiStack",), "production": ("ApiEc2Stack", "ApiElasticIpStack")}
IDLE_API = {"staging": ("ApiEc2Stack", "ApiElasticIpStack"), "production": ("ApiStack",)}


def _workload(env: str, prefix: str) -> list[Step]:
    """One workload account, from its new state bucket to the last old stack."""
    serving, idle_api = SERVING[env], IDLE_API[env]
    steps = [
        Step(f"{prefix}1", env, "deploy", f"Deploy state-{env}", f"state-{env}"),
        Step(f"{prefix}2", env, "deploy", f"Deploy alerts-{env}", f"alerts-{env}"),
        Step(f"{prefix}3", env, "deploy", f"Deploy certificate-{env}", f"certificate-{env}"),
        Step(f"{prefix}4", env, "deploy", f"Deploy network-{env}", f"network-{env}"),
        Step(f"{prefix}5", env, "retire", "Retire MaintenanceServiceStack", "MaintenanceServiceStack"),
    ]
    steps += [
        Step(f"{prefix}{6 + index}", env, "retire", f"Retire {stack} (it serves nothing)", stack)
        for index, stack in enumerate(idle_api)
    ]
    number = 6 + len(idle_api)

    def step(
        kind: str, title: str, target: str | None = None, outage: str | None = None, restore: bool = False
    ) -> None:
        nonlocal number
        steps.append(Step(f"{prefix}{number}", env, kind, title, target, outage, restore))
        number += 1

    step("snapshot", "Stop writes, take the final snapshot, make an encrypted 10.11 copy")
    step("deploy", f"Deploy database-{env} from the copy", f"database-{env}", restore=True)
    api_collides = "ApiStack" in serving  # it owns names api-<env> creates: it must go first
    if api_collides:
        step(
            "retire",
            "Retire ApiStack (the outage starts)",
            "ApiStack",
            outage="ApiStack owns the log group, redeploy role and ECS Exec user api-<env> takes over",
        )
    step("deploy", f"Deploy api-{env}", f"api-{env}")
    step("check", "Check the new API under its own name")
    step("switch", f"Switch api.<domain> to the new API{' (the outage ends)' if api_collides else ''}")
    for stack in serving:
        if stack != "ApiStack":
            step("retire", f"Retire {stack}", stack)
    for stack in ("ApiDatabaseStack", "ApiCertificatesStack", "ApiVpcStack"):
        step("retire", f"Retire {stack}", stack)
    step("deploy", f"Deploy maintenance-{env}", f"maintenance-{env}")
    step("manual", f"Delete what is left in {env}")
    return steps


PLAN: tuple[Step, ...] = (
    Step("S1", "shared", "freeze", "Freeze deploys"),
    Step("S2", "shared", "deploy", "Deploy state-shared", "state-shared"),
    Step("S3", "shared", "retire", "Retire ApiEcrStack", "ApiEcrStack"),
    Step("S4", "shared", "retire", "Retire MaintenanceEcrStack", "MaintenanceEcrStack"),
    Step("S5", "shared", "deploy", "Deploy registry", "registry"),
    Step("S6", "shared", "deploy", "Deploy alerts-shared", "alerts-shared"),
    Step("S7", "shared", "deploy", "Deploy backup-vaults-shared", "backup-vaults-shared"),
    # Staging first: it rehearses production's procedure on real data.
    *_workload("staging", "T"),
    *_workload("production", "P"),
    Step("Z1", "shared", "manual", "Unfreeze deploys and check the GitHub secrets"),
)
