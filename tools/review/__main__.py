"""`make review BASE=<git rev>`: what a change would do to every stack, before anyone runs a plan.

Synthesizes BASE (in a temporary git worktree) and the working tree side by side
and compares the Terraform JSON per stack: resources added, removed, changed (with
the attribute paths), and above all those Terraform would have to REPLACE or
DESTROY: changed attributes that force a new resource, and construct ids that
were renamed (Terraform sees a destroy plus a create unless the move is declared).
Everything else a deploy would act on is compared too: data sources (an IAM policy
document feeds a policy), outputs, import blocks, the provider (account, region)
and the state backend; a stack reads "no change" only when nothing differs.

Flagged loudly, with exit code 2: destroying or replacing a stateful resource
(database, state bucket, repository, Elastic IP, secret, log group), moving a
stack's state or account, a new database name (Terraform leaves the database alone
and the API looks for one that does not exist), and a major engine upgrade.

Offline: no AWS account, credentials or provider plugin. `terraform plan` against
the real account (`make plan STACK=...`) remains the final word.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.review.compare import compare
from tools.review.render import plannable, render, render_markdown
from tools.synthesized import read_stacks

REPO = Path(__file__).resolve().parents[2]


def synthesize(source: Path, outdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir)}
    env.pop("LITTIL_ENVS_DIR", None)
    return subprocess.Popen([sys.executable, "main.py"], cwd=source, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="git revision to compare the working tree with, e.g. origin/main or HEAD~1")
    parser.add_argument("--repo", type=Path, default=REPO, help="the git work tree holding main.py (default: this one)")
    parser.add_argument("--markdown", type=Path, help="also append the report as Markdown to this file (CI summary)")
    parser.add_argument("--plannable", type=Path, help="write the changed stacks CI can plan to this file (JSON)")
    arguments = parser.parse_args(argv)
    base, repo = arguments.base, arguments.repo.resolve()
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], cwd=repo, capture_output=True, check=False
    )
    if known.returncode != 0:
        print(f"review: BASE {base!r} is not a commit of {repo} (try origin/main or HEAD~1)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="littil-review-") as scratch:
        worktree, before_out, after_out = Path(scratch) / "base", Path(scratch) / "before", Path(scratch) / "after"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), base], cwd=repo, check=True)
        try:
            # Both syntheses at once: each is mostly the provider import, one core each.
            jobs = [synthesize(worktree, before_out), synthesize(repo, after_out)]
            if any(job.wait() != 0 for job in jobs):
                print("review: synthesis failed (see above)", file=sys.stderr)
                return 1
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=repo, check=False)
        before, after = read_stacks(before_out), read_stacks(after_out)
    reports = compare(before, after)
    print(f"make review: what the working tree changes against {base}\n")
    print(render(reports, before, after))
    if arguments.markdown:
        with arguments.markdown.open("a") as summary:
            summary.write(render_markdown(reports, before, after, base))
    if arguments.plannable:
        arguments.plannable.write_text(json.dumps(plannable(reports, after)))
    return 2 if any(report.dangerous for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
