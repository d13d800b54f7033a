"""AWS's own data, offline: the endpoint and service models botocore ships (the version Pipfile.lock pins).

A rule here refuses what AWS would refuse at deploy time, without credentials or network. Where
botocore carries no list, `config.rules` names the source and the date of its own.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.loaders  # type: ignore[import-untyped]


@functools.cache
def _loader() -> Any:
    return botocore.loaders.create_loader()


@functools.cache
def regions() -> frozenset[str]:
    """The regions of AWS's commercial partition (`aws`): the ARNs this app composes are `arn:aws:...`."""
    (partition,) = [p for p in _loader().load_data("endpoints")["partitions"] if p["partition"] == "aws"]
    return frozenset(partition["regions"])


def known_region(value: str) -> str | None:
    return None if value in regions() else 'a region of AWS\'s commercial partition such as "eu-central-1"'
