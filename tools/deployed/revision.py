"""The commit a deploy would deploy, and whether it is what was reviewed: committed, and on main."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Where a reviewed commit lands. The remote's branch is fetched first: a merge a minute ago counts.
MAIN_REFS = ("origin/main", "main")


@dataclass(frozen=True)
class Revision:
    commit: str
    uncommitted: tuple[str, ...]  # `git status` paths: changed, staged or untracked (ignored files are not)
    main: str | None  # the ref main was found at, or None
    on_main: bool  # the commit is main's or one of its ancestors


def git(repo: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *arguments], cwd=repo, capture_output=True, text=True, check=False)


def current(repo: Path, *, fetch: bool = True) -> Revision:
    if fetch:  # best effort: offline or slow, the last fetched main is what there is
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                ["git", "fetch", "--quiet", "origin", "main"], cwd=repo, capture_output=True, timeout=30, check=False
            )
    commit = git(repo, "rev-parse", "HEAD").stdout.strip()
    status = git(repo, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    uncommitted = tuple(sorted(line[3:] for line in status))
    main = next((ref for ref in MAIN_REFS if git(repo, "rev-parse", "--verify", "--quiet", ref).returncode == 0), None)
    on_main = main is not None and git(repo, "merge-base", "--is-ancestor", commit, main).returncode == 0
    return Revision(commit, uncommitted, main, on_main)


def problems(revision: Revision) -> list[str]:
    """What makes the revision something other than what was reviewed: empty when it is committed and on main."""
    found = []
    if revision.uncommitted:
        shown = ", ".join(revision.uncommitted[:5]) + (", ..." if len(revision.uncommitted) > 5 else "")
        found.append(f"the working tree has changes nobody reviewed ({shown})")
    if revision.main is None:
        found.append(f"no main branch to compare with ({' or '.join(MAIN_REFS)}: git fetch origin main)")
    elif not revision.on_main:
        found.append(f"commit {revision.commit[:12]} is not on {revision.main} (merge the pull request first)")
    return found


def refusal(action: str, found: list[str]) -> str:
    return (
        f"make {action}: refused before Terraform starts: {'; and '.join(found)}. Deploy what was reviewed and"
        f' merged, or say why not: make {action} ... REASON="<why>" (the reason is kept with the deployed record).'
    )
