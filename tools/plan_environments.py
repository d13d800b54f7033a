"""Are the GitHub environments that pull requests' plans run in protected as docs/development.md ("CI") says?

    python -m tools.plan_environments plannable.json

A pull request's plan job runs in its account's environment `plan-<env>`, and that account's plan role trusts a
pull request only through it: the environment's protection is all that stands between an unreviewed change and
what the role reads. GitHub creates an environment that a job names and that does not exist, unprotected, so a
missing one is as bad as an open one. Each environment of the plans at hand is read from GitHub's REST API
(`GET /repos/{repo}/environments/{name}`, with the job's token) and must have required reviewers, forbid a person
to approve their own run, and let no administrator bypass them. Exit 1 with one line per problem.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

DOCS = 'docs/development.md, "CI"'


def problems(name: str, environment: dict[str, Any] | None) -> list[str]:
    """What is wrong with environment `name` as GitHub describes it (None: it does not exist)."""
    if environment is None:
        return [f"{name}: no such GitHub environment; the plan job would create it unprotected ({DOCS})"]
    found = []
    rules = [rule for rule in environment.get("protection_rules", []) if rule.get("type") == "required_reviewers"]
    if not rules or not any(rule.get("reviewers") for rule in rules):
        found.append(f"{name}: no required reviewers: a pull request's plan would run unapproved")
    elif not all(rule.get("prevent_self_review") is True for rule in rules):
        found.append(f"{name}: 'Prevent self-review' is off: the author of a pull request may approve its plan")
    if environment.get("can_admins_bypass", True) is not False:
        found.append(f"{name}: 'Allow administrators to bypass configured protection rules' is on")
    return found


def read_environment(name: str, *, api: str, repository: str, token: str) -> dict[str, Any] | None:
    request = urllib.request.Request(
        f"{api}/repos/{repository}/environments/{name}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    names = sorted({entry["github_environment"] for entry in json.loads(Path(argv[0]).read_text())})
    api, repository, token = os.environ["GITHUB_API_URL"], os.environ["GITHUB_REPOSITORY"], os.environ["GH_TOKEN"]
    found = [
        p for name in names for p in problems(name, read_environment(name, api=api, repository=repository, token=token))
    ]
    for problem in found:
        print(f"::error title=Plan environment::{problem}")
    if not found:
        print(f"protected: {', '.join(names)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
