"""The mistake table's second part: the combinations the rules across settings cover, generated from the data those
rules read (Fargate's sizes, each region's zones, each instance's memory and CPU credits, RDS's storage step) and
tried on both sides of each rule's edge: the last combination accepted and the first refused, at the key to fix.

What the rules compare is AWS's data; this file takes the edges from the same data, never from the rules' code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config import aws, rules
from config.loader import ConfigError, load_config
from config.model import MIN_PRODUCTION_BACKUP_DAYS
from tests.envs_copy import one_file_changed
from tests.test_config_table import NEW, put, render


@dataclass(frozen=True)
class Combination:
    rule: str
    settings: dict[Any, Any]  # key path -> value
    refused_at: str | None  # the key named, or None: accepted
    id: str = field(default="")

    def file(self) -> str:
        tree: dict[str, Any] = dict(NEW)
        for path, value in self.settings.items():
            put(tree, path, value)
        return render(tree)


def _sizes(memories: range | tuple[int, ...]) -> tuple[list[int], list[int]]:
    """A Fargate CPU size's memory: its ends (accepted), and just beyond each end and between two steps (refused)."""
    allowed = list(memories)
    step = allowed[1] - allowed[0]
    return [allowed[0], allowed[-1]], [allowed[0] - 1, allowed[-1] + step, allowed[0] + 1]


def fargate_memory() -> Iterator[Combination]:
    for cpu, memories in rules.FARGATE_MEMORY.items():
        accepted, refused = _sizes(memories)
        for memory in accepted + refused:
            settings = {("api", "ecs", "cpu"): cpu, ("api", "ecs", "memory_mib"): memory}
            yield Combination("fargate", settings, None if memory in accepted else "api.ecs.memory_mib")


def zones() -> Iterator[Combination]:
    """Each region's last zone letter and the one after it (regions with SES: an environment there sends mail)."""
    for region, letters in sorted(aws.ZONE_LETTERS.items()):
        if region not in aws.ses_regions():
            continue
        beyond = chr(ord(letters[-1]) + 1)
        for last, refused in ((letters[-1], None), (beyond, "network.availability_zones[1]")):
            zones_ = (f"{region}{letters[0]}", f"{region}{last}")
            yield Combination("zones", {("region",): region, ("network", "availability_zones"): zones_}, refused)


def database_memory_alarm() -> Iterator[Combination]:
    """Freeable memory can never reach the instance's memory: the threshold just below it, and at it."""
    for size in ("micro", "small", "medium", "large", "xlarge", "2xlarge"):
        instance_class = f"db.t4g.{size}"
        memory = aws.memory_mib(instance_class)
        assert memory is not None
        for threshold, refused in ((memory - 1, None), (memory, "alarms.database_freeable_memory_mib")):
            settings = {
                ("database", "instance_class"): instance_class,
                ("alarms", "database_freeable_memory_mib"): threshold,
            }
            yield Combination("memory-alarm", settings, refused)


def cpu_credit_alarm() -> Iterator[Combination]:
    """A burstable instance holds at most a day of credits: the threshold just below, and at it (EC2 variant)."""
    for size, most in aws.MAX_CPU_CREDITS["t3a"].items():
        for threshold, refused in ((most - 1, None), (most, "alarms.cpu_credit_balance")):
            settings = {
                ("api", "variant"): "ec2",
                ("api", "ec2", "instance_type"): f"t3a.{size}",
                ("alarms", "cpu_credit_balance"): threshold,
            }
            yield Combination("credit-alarm", settings, refused)


def storage() -> Iterator[Combination]:
    """RDS's autoscaling limit at least 10 % above the storage; the free-storage alarm below the storage."""
    for allocated in (20, 21, 99, 100, 59578):
        least = (allocated * 11 + 9) // 10  # 10 % above, rounded up, in whole GB
        for limit, refused in ((least, None), (least - 1, "database.max_allocated_storage_gb")):
            settings = {
                ("database", "allocated_storage_gb"): allocated,
                ("database", "max_allocated_storage_gb"): limit,
            }
            yield Combination("autoscaling", settings, refused)
        for free, refused in ((allocated - 1, None), (allocated, "alarms.database_free_storage_gb")):
            settings = {
                ("database", "allocated_storage_gb"): allocated,
                ("database", "max_allocated_storage_gb"): least,
                ("alarms", "database_free_storage_gb"): free,
            }
            yield Combination("free-storage-alarm", settings, refused)


# What production_grade requires, each as (key, a value it refuses). The environment starts meeting every one.
PRODUCTION_GRADE: dict[tuple[str, ...], tuple[Any, Any]] = {
    ("database", "deletion_protection"): (True, False),
    ("database", "backup_retention_days"): (MIN_PRODUCTION_BACKUP_DAYS, MIN_PRODUCTION_BACKUP_DAYS - 1),
    ("backup_copies", "region"): ("eu-central-1", None),
    ("backup_copies", "shared_account"): (True, False),
    ("backup_copies", "retention_days"): (MIN_PRODUCTION_BACKUP_DAYS, MIN_PRODUCTION_BACKUP_DAYS - 1),
}


def production_grade() -> Iterator[Combination]:
    """Each requirement broken alone: refused with production_grade, accepted without it."""
    meeting: dict[tuple[str, ...], Any] = {path: good for path, (good, _) in PRODUCTION_GRADE.items()}
    for grade in (True, False):
        yield Combination("production-grade", {**meeting, ("production_grade",): grade}, None)
        for path, (_, bad) in PRODUCTION_GRADE.items():
            settings = {**meeting, path: bad, ("production_grade",): grade}
            yield Combination("production-grade", settings, ".".join(path) if grade else None)


def copies_in_a_second_region() -> Iterator[Combination]:
    """RDS replicates backups to a second region for at most 35 days; the shared account's vault keeps up to 365."""
    most = rules.RDS_MAX_BACKUP_RETENTION_DAYS
    for region in ("eu-central-1", None):
        for days in (most, most + 1):
            refused = "backup_copies.retention_days" if region and days > most else None
            settings = {("backup_copies", "region"): region, ("backup_copies", "retention_days"): days}
            yield Combination("copies-retention", settings, refused)


def combinations() -> list[Any]:
    found = [*fargate_memory(), *zones(), *database_memory_alarm(), *cpu_credit_alarm(), *storage()]
    found += [*production_grade(), *copies_in_a_second_region()]
    return [pytest.param(c, id=f"{c.rule}:{','.join(f'{p[-1]}={v}' for p, v in c.settings.items())}") for c in found]


COMBINATIONS = combinations()


def test_each_rule_is_tried_on_both_sides_of_its_edge() -> None:
    by_rule: dict[str, set[bool]] = {}
    for param in COMBINATIONS:
        by_rule.setdefault(param.values[0].rule, set()).add(param.values[0].refused_at is None)
    assert by_rule
    assert {rule: sides for rule, sides in by_rule.items() if sides != {True, False}} == {}


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_a_combination_is_refused_at_the_key_to_fix_or_accepted(scratch_envs: Path, combination: Combination) -> None:
    with one_file_changed(scratch_envs, "uat", combination.file()) as envs:
        check(envs, combination)


def check(envs: Path, combination: Combination) -> None:
    if combination.refused_at is None:
        env = load_config(envs).workload("uat")
        for path, value in combination.settings.items():
            got: Any = env
            for part in path:
                got = getattr(got, part)
            assert got == value or getattr(got, "value", None) == value
        return
    with pytest.raises(ConfigError) as caught:
        load_config(envs)
    assert (caught.value.file.name, caught.value.key) == ("uat.hcl", combination.refused_at), str(caught.value)
