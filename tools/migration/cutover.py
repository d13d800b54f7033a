"""Walk the cut-over plan over the old system and our synthesis: what would go wrong, and each old resource's fate.

The walk keeps, per account, which names exist and who owns them: a live old stack, nobody
(retained by CloudFormation after its stack went, or made by hand), or one of our stacks.
At every step it checks what AWS or the plan's promises would refuse:
  - a deploy creates no name that already exists (the old system's or an orphan's);
  - an import targets a name that exists, that no live old stack owns (never two owners), with
    the old resource's own physical id, and keeps at least as much of its data (log retention);
  - a retire deletes no data before its copy exists, no stack another live stack imports from,
    and no stack that serves api.<domain> before the switch (unless the step accepts the outage);
  - our stacks deploy after the stacks they read, the restore after the final snapshot, the
    switch after the check, and nothing at all before the freeze.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tools.migration.legacy import HandMade, LegacyResource, LegacyStack, Name, hand_made
from tools.migration.ours import Adoption, OurStack
from tools.migration.plan import SERVING, Step

# The old stack each of ours takes over from ({env} is the account).
SUCCESSOR = {
    "ApiEcrStack": "registry",
    "MaintenanceEcrStack": "registry",
    "ApiCertificatesStack": "certificate-{env}",
    "ApiVpcStack": "network-{env}",
    "ApiDatabaseStack": "database-{env}",
    "ApiStack": "api-{env}",
    "ApiEc2Stack": "api-{env}",
    "ApiElasticIpStack": "network-{env}",
    "MaintenanceServiceStack": "maintenance-{env}",
}


def legacy_import_id(resource: LegacyResource) -> str:
    """How Terraform addresses the old resource: its physical id, which for the named types is its name."""
    assert resource.name is not None
    return resource.name.value


@dataclass
class Walk:
    """The outcome: problems (empty when the plan is sound) and where each old resource ended up."""

    problems: list[str] = field(default_factory=list)
    order: dict[str, int] = field(default_factory=dict)  # step id -> position in the plan
    retired_at: dict[tuple[str, str], str] = field(default_factory=dict)
    deployed_at: dict[str, str] = field(default_factory=dict)
    adopted_by: dict[tuple[str, Name], tuple[str, str]] = field(default_factory=dict)
    created_by: dict[tuple[str, Name], tuple[str, str]] = field(default_factory=dict)


class _World:
    def __init__(self, legacy: dict[str, list[LegacyStack]], ours: dict[str, OurStack], walk: Walk) -> None:
        self.live = {(stack.account, stack.name): stack for stacks in legacy.values() for stack in stacks}
        self.orphans: dict[tuple[str, Name], LegacyResource] = {}
        self.by_hand: dict[tuple[str, Name], HandMade] = {
            (made.account, made.name): made for account in legacy for made in hand_made(account)
        }
        self.ours = ours
        self.walk = walk
        self.frozen = False
        self.done: set[tuple[str, str]] = set()  # (account, kind) of snapshot/check/switch steps

    def owner(self, account: str, name: Name) -> str | None:
        """Who holds `name` in `account` now, or None if nobody has it."""
        for (stack_account, stack_name), stack in self.live.items():
            if stack_account == account and any(resource.name == name for resource in stack.resources):
                return f"the old {stack_name}"
        if (account, name) in self.orphans:
            return f"nobody (retained from the old {self.orphans[account, name].stack})"
        if (account, name) in self.by_hand:
            return "nobody (made by hand)"
        for key in (self.walk.adopted_by, self.walk.created_by):
            if (account, name) in key:
                return key[account, name][0]
        return None

    def problem(self, step: Step, message: str) -> None:
        self.walk.problems.append(f"{step.id} ({step.title}): {message}")

    def deploy(self, step: Step) -> None:
        assert step.target is not None
        stack = self.ours.get(step.target)
        if stack is None:
            self.problem(step, f"no synthesized stack {step.target}")
            return
        for needed in sorted(stack.dependencies - set(self.walk.deployed_at)):
            self.problem(step, f"{needed} must be deployed first (it reads its outputs)")
        if step.restore:
            if (step.account, "snapshot") not in self.done:
                self.problem(step, "restores the database before its final snapshot exists")
            self.done.add((step.account, "restore"))
        for name, address in sorted(stack.creates.items()):
            key = (step.account, name)
            if self.walk.created_by.get(key, (None,))[0] == stack.name:
                continue  # a later deploy of the same stack
            holder = self.owner(step.account, name)
            if holder is not None:
                self.problem(step, f"collision: {address} creates {name}, which {holder} holds")
            self.walk.created_by[key] = (stack.name, step.id)
        for name, adoption in sorted(stack.adopts.items()):
            self.adopt(step, stack, name, adoption)
        self.walk.deployed_at.setdefault(stack.name, step.id)

    def adopt(self, step: Step, stack: OurStack, name: Name, adoption: Adoption) -> None:
        key = (step.account, name)
        if self.walk.adopted_by.get(key, (None,))[0] == stack.name:
            return  # imported by an earlier deploy of the same stack: the import block is a no-op now
        holder = self.owner(step.account, name)
        if holder is None:
            self.problem(step, f"{adoption.address} imports {name}, which does not exist")
            return
        if key not in self.orphans and key not in self.by_hand:
            self.problem(step, f"{adoption.address} imports {name} while {holder} still owns it (two owners)")
            return
        if key in self.orphans:
            old = self.orphans.pop(key)
            expected = legacy_import_id(old)
            retention = old.properties.get("RetentionInDays")  # absent: the old group keeps logs forever
            kept = adoption.log_retention_days  # None or 0: kept forever
            if kept and retention is not None and kept < int(retention):
                self.problem(
                    step, f"{adoption.address} keeps logs {kept} days: the old {retention} days' logs would go"
                )
            elif kept and retention is None and old.type == "AWS::Logs::LogGroup":
                self.problem(step, f"{adoption.address} would expire logs the old group kept forever")
        else:
            expected = self.by_hand.pop(key).import_id
        if adoption.import_id != expected:
            self.problem(
                step, f"{adoption.address} imports id {adoption.import_id!r}, the old resource is {expected!r}"
            )
        self.walk.adopted_by[key] = (stack.name, step.id)

    def retire(self, step: Step, serving: Sequence[str]) -> None:
        assert step.target is not None
        stack = self.live.pop((step.account, step.target), None)
        if stack is None:
            self.problem(step, f"no live old stack {step.target} in {step.account}")
            return
        importers = sorted(
            other.name
            for other in self.live.values()
            if other.account == step.account and other.imports & stack.exports
        )
        if importers:
            self.problem(step, f"CloudFormation refuses: {', '.join(importers)} still import its exports")
        if stack.name in serving and (step.account, "switch") not in self.done and step.outage is None:
            self.problem(step, f"{stack.name} serves api.<domain>: retiring it before the switch is an outage")
        if step.outage is not None and stack.name not in serving:
            self.problem(step, f"marked as an outage, but {stack.name} serves nothing")
        for resource in stack.resources:
            if resource.retained:
                if resource.name is not None:
                    self.orphans[step.account, resource.name] = resource
                continue
            if resource.holds_data:
                copied = resource.type == "AWS::RDS::DBInstance" and (step.account, "restore") in self.done
                if not copied:
                    self.problem(step, f"deletes {resource} before its data has a copy")
        self.walk.retired_at[step.account, stack.name] = step.id

    def run(self, plan: Sequence[Step]) -> None:
        for step in plan:
            if step.kind == "freeze":
                self.frozen = True
                continue
            if not self.frozen and step.kind in ("deploy", "retire", "snapshot"):
                self.problem(step, "before the freeze: the application's workflows could still deploy")
            if step.kind == "deploy":
                self.deploy(step)
            elif step.kind == "retire":
                self.retire(step, SERVING.get(step.account, ()))
            elif step.kind == "snapshot":
                if (step.account, "ApiDatabaseStack") not in self.live:
                    self.problem(step, "the old database is already gone")
                self.done.add((step.account, "snapshot"))
            elif step.kind == "check":
                if f"api-{step.account}" not in self.walk.deployed_at:
                    self.problem(step, f"api-{step.account} is not deployed")
                self.done.add((step.account, "check"))
            elif step.kind == "switch":
                if (step.account, "check") not in self.done:
                    self.problem(step, "switches to an API nobody checked")
                self.done.add((step.account, "switch"))
        for account, stack_name in sorted(self.live):
            self.walk.problems.append(f"the old {stack_name} in {account} is never retired")
        accounts = {step.account for step in plan}  # the old system's; a new environment is no part of it
        for stack_name in sorted(set(self.ours) - set(self.walk.deployed_at)):
            if self.ours[stack_name].account in accounts:
                self.walk.problems.append(f"{stack_name} is never deployed")


def walk(plan: Sequence[Step], legacy: dict[str, list[LegacyStack]], ours: dict[str, OurStack]) -> Walk:
    """Walk `plan` over the old system and our stacks; see the module docstring for what is checked."""
    result = Walk(order={step.id: index for index, step in enumerate(plan)})
    _World(legacy, ours, result).run(plan)
    return result


def fates(
    account: str, legacy: dict[str, list[LegacyStack]], ours: dict[str, OurStack], result: Walk
) -> list[tuple[str, str]]:
    """(old resource, what becomes of it) for every resource of `account` the old system has."""
    lines = []
    for stack in legacy[account]:
        retired = result.retired_at.get((account, stack.name), "never")
        successor = SUCCESSOR[stack.name].format(env=account)
        for resource in stack.resources:
            lines.append((str(resource), _fate(account, resource, retired, successor, result)))
    for made in hand_made(account):
        adopted = result.adopted_by.get((account, made.name))
        created = result.created_by.get((account, made.name))
        if adopted:
            fate = f"adopted by {adopted[0]} (import at {adopted[1]})"
        elif created:
            fate = f"UNRESOLVED COLLISION: {created[0]} creates it at {created[1]}"
        else:
            fate = f"left as it is: {made.advice}"
        lines.append((f"by hand: {made.name}", fate))
    return lines


def _fate(account: str, resource: LegacyResource, retired: str, successor: str, result: Walk) -> str:
    if resource.name is not None:
        adopted = result.adopted_by.get((account, resource.name))
        if adopted:
            return f"adopted by {adopted[0]} (import at {adopted[1]}, after its stack let go at {retired})"
        created = result.created_by.get((account, resource.name))
        if created:
            collides = retired == "never" or result.order[created[1]] < result.order[retired]
            prefix = "UNRESOLVED COLLISION: " if collides else ""
            return (
                f"{prefix}replaced by {created[0]} under the same name at {created[1]}; the old one goes at {retired}"
            )
    if resource.retained:
        return f"left behind by DeletionPolicy Retain at {retired}: keep it or delete it by hand (docs/migration.md)"
    if resource.type == "AWS::RDS::DBInstance":
        deployed = result.deployed_at.get(successor, "never")
        return (
            f"restored into {successor} at {deployed} from its final snapshot;"
            f" deleted at {retired} (CloudFormation snapshots it)"
        )
    deployed = result.deployed_at.get(successor, "never")
    return f"replaced by {successor} (deployed at {deployed}); deleted with its stack at {retired}"
