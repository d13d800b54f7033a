"""`make deploy ENV=<env>`: the stacks of one environment, in the order they must be deployed.

Reads what `make synth` wrote: the environment of a stack is its provider's
`Environment` tag, the dependencies are CDKTF's manifest. `state-<env>` comes first
(every other stack keeps its state in its bucket, though none references it), then
each stack after the stacks it reads remote state from. Among stacks that are ready,
those another stack waits for go first, so leaves such as `maintenance-<env>` (which
needs nothing while it is disabled) come last: certificate, network, database, api,
maintenance.

`python -m tools.stacks readers <cdktf.out> <stack> ...` is `make destroy`'s check: every stack that
reads one of the given stacks (directly or through another) must be destroyed with it; if one is
missing, it prints the command that destroys them together and exits 2.

Usage: python -m tools.stacks <cdktf.out> <env>   (prints one stack name per line)
       python -m tools.stacks readers <cdktf.out> <stack> ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tools.synthesized import read_stacks


def default_provider(stack: dict[str, Any]) -> dict[str, Any]:
    """A synthesized stack's AWS provider without alias (a stack may add one for another region)."""
    (provider,) = (provider for provider in stack["provider"]["aws"] if "alias" not in provider)
    return dict(provider)


def environment_of(stack: dict[str, Any]) -> str:
    """The environment a synthesized stack belongs to: its provider's `Environment` tag."""
    return str(default_provider(stack)["default_tags"][0]["tags"]["Environment"])


def deploy_order(outdir: Path, env: str) -> list[str]:
    """Stacks of `env`, state first, every stack after its dependencies, leaves last (ties by name)."""
    stacks = read_stacks(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())["stacks"]
    members = {name for name, stack in stacks.items() if environment_of(stack) == env}
    pending = {name: set(manifest[name]["dependencies"]) & members for name in members}
    order: list[str] = []
    state = f"state-{env}"
    while pending:
        awaited = set().union(*pending.values())
        ready = sorted((name not in awaited, name) for name, needs in pending.items() if not needs)
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(pending)}")
        chosen = state if state in pending else ready[0][1]
        order.append(chosen)
        del pending[chosen]
        for needs in pending.values():
            needs.discard(chosen)
    return order


def readers(outdir: Path, targets: list[str]) -> list[str]:
    """Every stack that reads one of `targets`, directly or through others, and is not one of them."""
    manifest = json.loads((outdir / "manifest.json").read_text())["stacks"]
    found: set[str] = set()
    reached = set(targets)
    while True:
        more = {name for name, entry in manifest.items() if set(entry["dependencies"]) & reached} - reached
        if not more:
            return sorted(found)
        found |= more
        reached |= more


def check_destroy(outdir: Path, targets: list[str]) -> int:
    known = {path.parent.name for path in outdir.glob("stacks/*/cdk.tf.json")}
    unknown = [name for name in targets if name not in known]
    if unknown:
        print(f"make destroy: no stack {', '.join(unknown)} (see: npx cdktf list)", file=sys.stderr)
        return 2
    stacks = read_stacks(outdir)
    serving = [
        name
        for name in targets
        if name.startswith("maintenance-") and "aws_ecs_service" in stacks[name].get("resource", {})
    ]
    if serving:
        print(
            f"make destroy: {', '.join(serving)}: maintenance is switched on in this synthesis, so the next deploy of"
            " the environment would bring the service back unasked. Switch it off first (maintenance { enabled ="
            " false }, merged, deployed: docs/runbooks/maintenance.md, step 4), then destroy.",
            file=sys.stderr,
        )
        return 2
    missing = readers(outdir, targets)
    if missing:
        together = " ".join([*missing, *targets])
        print(
            f"make destroy: {', '.join(missing)} read(s) {' '.join(targets)}: a stack is destroyed only together with"
            f" the stacks that read it. Destroy them together (the CLI asks first, readers first):\n"
            f'  make destroy STACK="{together}"',
            file=sys.stderr,
        )
        return 2
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["readers"] and len(argv) >= 3:
        return check_destroy(Path(argv[1]), argv[2:])
    if len(argv) != 2:
        print("usage: python -m tools.stacks <cdktf.out> <env>", file=sys.stderr)
        return 2
    outdir, env = Path(argv[0]), argv[1]
    order = deploy_order(outdir, env)
    if not order:
        known = sorted({environment_of(stack) for stack in read_stacks(outdir).values()})
        print(f"error: no stacks for environment {env!r}; environments: {', '.join(known)}", file=sys.stderr)
        return 2
    print("\n".join(order))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
