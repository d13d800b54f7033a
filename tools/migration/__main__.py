"""`make migration-report`: every resource of the old system per account, and what the cut-over does with it.

Reads the committed old templates (legacy/cdk-templates) and what `make synth` wrote, walks the
steps of docs/migration.md (tools/migration/plan.py) and prints, per account and old stack, each
resource's fate: adopted (import), replaced (by what, and when the old one goes), left behind by
CloudFormation's Retain, or an unresolved collision. Exits 1 when the walk finds a problem.

Usage: python -m tools.migration <cdktf.out>
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.migration.cutover import fates, walk
from tools.migration.legacy import ACCOUNT_IDS, load_stacks
from tools.migration.ours import our_stacks
from tools.migration.plan import PLAN


def report(outdir: Path) -> tuple[str, bool]:
    """(the report, whether the cut-over is sound)."""
    legacy = load_stacks()
    ours = our_stacks(outdir)
    result = walk(PLAN, legacy, ours)
    lines = []
    for account in sorted(legacy, key=list(ACCOUNT_IDS).index):  # in the runbook's order
        lines.append(f"{account} (old templates for account {ACCOUNT_IDS[account]})")
        for resource, fate in fates(account, legacy, ours, result):
            lines.append(f"  {resource}\n      -> {fate}")
        lines.append("")
    if result.problems:
        lines.append(f"{len(result.problems)} problem(s) in the cut-over (docs/migration.md):")
        lines += [f"  - {problem}" for problem in result.problems]
    else:
        lines.append(f"The cut-over's {len(PLAN)} steps (docs/migration.md) walk cleanly: no unresolved collision.")
    return "\n".join(lines), not result.problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tools.migration <cdktf.out>", file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    if not (outdir / "manifest.json").is_file():
        print(f"error: {outdir}/manifest.json not found: run `make synth` first", file=sys.stderr)
        return 2
    text, sound = report(outdir)
    print(text)
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
