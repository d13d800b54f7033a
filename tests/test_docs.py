"""The docs a reader of the repository has: links that resolve, and nothing of one machine or one run.

The commands in them are checked by test_commands.py, the alarm table by test_alarms.py, the plan role
variables by test_workflows.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

# Reading the docs depends on no environment: the added-environment run leaves this file out.
pytestmark = pytest.mark.same_for_any_environments

DOCS = sorted(
    [
        REPO / "README.md",
        REPO / "tests" / "README.md",
        REPO / "maintenance-container" / "README.md",
        REPO / "tools" / "rehearse" / "GAPS.md",
        *(REPO / "docs").rglob("*.md"),
    ]
)
# [text](target) and ![alt](target); a target may carry a #fragment.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
# What a reader elsewhere does not have: a path of one machine, the design file outside the repository, a run's log.
FOREIGN = {
    "a file outside the repository": re.compile(r"\.\./shared|SPEC\.md"),
    "this machine": re.compile(r"\bthis (shared )?(2-core )?machine\b", re.IGNORECASE),
    "an absolute local path": re.compile(r"(?<![\w.])/(opt|work|tmp|home|Users)/\w"),
    "a log of a past run": re.compile(r"\b(wall times?|took \d+(\.\d+)? min)", re.IGNORECASE),
}


def relative_links(doc: Path) -> list[str]:
    return [
        target.split("#", 1)[0]
        for target in LINK.findall(doc.read_text())
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]


def test_the_docs_are_the_ones_the_readme_indexes() -> None:
    assert len(DOCS) > 20
    readme = (REPO / "README.md").read_text()
    for doc in (REPO / "docs").rglob("*.md"):
        indexed = doc.relative_to(REPO).as_posix()
        # Each runbook and top-level doc by name; the decision records through their folder.
        assert indexed in readme or (doc.parent.name == "decisions" and "docs/decisions/" in readme), indexed


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.relative_to(REPO).as_posix())
def test_every_relative_link_reaches_a_file_of_the_repository(doc: Path) -> None:
    broken = [link for link in relative_links(doc) if not (doc.parent / link).resolve().exists()]
    outside = [link for link in relative_links(doc) if REPO not in (doc.parent / link).resolve().parents]
    assert broken == []
    assert outside == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.relative_to(REPO).as_posix())
def test_no_doc_speaks_of_one_machine_or_one_run(doc: Path) -> None:
    text = doc.read_text()
    found = {what: [m.group(0) for m in pattern.finditer(text)] for what, pattern in FOREIGN.items()}
    found = {what: matches for what, matches in found.items() if matches}
    assert found == {}


def test_a_broken_link_and_a_local_path_are_caught(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("See [the runbook](runbooks/nowhere.md) and /opt/tf-plugins on this machine.\n")
    assert relative_links(doc) == ["runbooks/nowhere.md"]
    assert not (doc.parent / "runbooks/nowhere.md").exists()
    text = doc.read_text()
    assert {what for what, pattern in FOREIGN.items() if pattern.search(text)} == {
        "this machine",
        "an absolute local path",
    }


# A profile the docs use: `AWS_PROFILE=<name>` or `--profile <name>`.
PROFILE = re.compile(r"(?:AWS_PROFILE=|--profile )([\w<>-]+)")


def test_every_profile_the_docs_use_is_in_the_readmes_credentials_table() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Credentials", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `littil-")]
    # Each row's first cell names profile patterns (`littil-<env>-admin`) and examples; `<env>` is any environment.
    patterns = [
        re.compile("^" + re.escape(name).replace(re.escape("<env>"), r"[a-z][a-z0-9-]*") + "$")
        for row in rows
        for name in re.findall(r"`(littil-[\w<>-]+)`", row.split("|")[1])
    ]
    used = {name for doc in DOCS for name in PROFILE.findall(doc.read_text()) if not name.startswith("$")}
    assert used  # the runbooks name profiles
    unexplained = sorted(name for name in used if not any(pattern.match(name) for pattern in patterns))
    assert unexplained == []
