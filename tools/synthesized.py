"""Reading what `main.py` wrote: one place for the tools and the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    """Every synthesized stack under a cdktf.out directory, by stack name."""
    return {path.parent.name: json.loads(path.read_text()) for path in sorted(outdir.glob("stacks/*/cdk.tf.json"))}
