"""tools/plan_environments.py: a pull request's plan runs only in a GitHub environment protected as the docs say."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tools.plan_environments import main, problems

# Nothing here depends on the environments: the added-environment run leaves this file out.
pytestmark = pytest.mark.same_for_any_environments

# What GET /repos/{owner}/{repo}/environments/{name} answers for a protected environment (trimmed).
PROTECTED: dict[str, Any] = {
    "name": "plan-staging",
    "can_admins_bypass": False,
    "protection_rules": [
        {"id": 3, "type": "required_reviewers", "prevent_self_review": True, "reviewers": [{"type": "Team"}]},
        {"id": 4, "type": "branch_policy"},
    ],
    "deployment_branch_policy": None,
}


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    environment = copy.deepcopy(PROTECTED)
    edit(environment)
    return environment


def reviewers(environment: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in environment["protection_rules"] if r["type"] == "required_reviewers")


def test_a_protected_environment_has_no_problem() -> None:
    assert problems("plan-staging", PROTECTED) == []


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        (None, "no such GitHub environment; the plan job would create it unprotected"),
        (changed(lambda e: e.update(protection_rules=[])), "no required reviewers"),
        (changed(lambda e: reviewers(e).update(reviewers=[])), "no required reviewers"),
        (changed(lambda e: reviewers(e).update(prevent_self_review=False)), "'Prevent self-review' is off"),
        (changed(lambda e: reviewers(e).pop("prevent_self_review")), "'Prevent self-review' is off"),
        (changed(lambda e: e.update(can_admins_bypass=True)), "'Allow administrators to bypass"),
        (changed(lambda e: e.pop("can_admins_bypass")), "'Allow administrators to bypass"),
    ],
    ids=["missing", "no-rules", "no-reviewers", "self-review", "self-review-unsaid", "admins-bypass", "bypass-unsaid"],
)
def test_each_missing_protection_is_one_problem_naming_the_environment(
    environment: dict[str, Any] | None, problem: str
) -> None:
    (found,) = problems("plan-staging", environment)
    assert found.startswith("plan-staging: ")
    assert problem in found


class Environments(BaseHTTPRequestHandler):
    """GitHub's environments endpoint for repository o/r, on the loopback address."""

    known: ClassVar[dict[str, dict[str, Any]]] = {}
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(f"{self.path} {self.headers['Authorization']}")
        name = self.path.rsplit("/", 1)[1]
        found = self.known.get(name) if self.path.startswith("/repos/o/r/environments/") else None
        body = json.dumps(found if found else {"message": "Not Found"}).encode()
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Environments]]:
    server = HTTPServer(("127.0.0.1", 0), Environments)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GH_TOKEN", "job-token")
    Environments.known, Environments.paths = {}, []
    yield Environments
    server.shutdown()


def plannable(tmp_path: Path, *environments: str) -> str:
    path = tmp_path / "plannable.json"
    path.write_text(json.dumps([{"stack": f"api-{e}", "github_environment": e} for e in environments]))
    return str(path)


def test_the_check_reads_each_environment_once_with_the_jobs_token_and_passes_when_all_are_protected(
    github: type[Environments], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.known = {"plan-staging": PROTECTED, "plan-production": {**PROTECTED, "name": "plan-production"}}
    assert main([plannable(tmp_path, "plan-staging", "plan-production", "plan-staging")]) == 0
    assert sorted(github.paths) == [
        "/repos/o/r/environments/plan-production Bearer job-token",
        "/repos/o/r/environments/plan-staging Bearer job-token",
    ]
    assert capsys.readouterr().out == "protected: plan-production, plan-staging\n"


def test_the_check_fails_with_one_annotation_per_problem_for_a_missing_or_open_environment(
    github: type[Environments], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.known = {"plan-staging": changed(lambda e: e.update(can_admins_bypass=True))}
    assert main([plannable(tmp_path, "plan-staging", "plan-production")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("::")[2].split(":")[0] for line in lines] == ["plan-production", "plan-staging"]
    assert all(line.startswith("::error title=Plan environment::") for line in lines)
