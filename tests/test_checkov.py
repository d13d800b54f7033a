"""Checkov over the synthesized stacks, against one allow-list.

Checkov reads CDKTF output only as `--framework terraform_json`, and the nulls CDKTF
writes for unset inline-block keys make some checks pass that should fail, so it
scans a null-stripped copy. A canary stack (an SG open on SSH) proves the scan bites.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.tf import Stack, resources

# The outer scan already covers a new environment written the documented way's stacks (checkov_findings), which is
# what catches an allow-list entry written per environment.
pytestmark = pytest.mark.same_for_any_environments

CHECKOV = REPO / "tools" / "checkov" / ".venv" / "bin" / "checkov"
ALLOWLIST = REPO / "checkov-allowlist.toml"
CANARY = REPO / "tests" / "fixtures" / "checkov-canary" / "cdk.tf.json"


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [strip_nulls(item) for item in value if item is not None]
    return value


def scan_copy(stack: Stack) -> Stack:
    """What checkov can read: no nulls, no `terraform.required_version`, no `import` blocks.

    Checkov's terraform_json parser expects every key of the `terraform` block, and every
    top-level block, to be a mapping and fails the whole file on that one string or on the
    `import` list ("this method receives only dicts"). Imports configure no resource.
    """
    copy: Stack = strip_nulls(stack)
    copy.get("terraform", {}).pop("required_version", None)
    copy.pop("import", None)
    return copy


def resource_type_of(stack: Stack, name: str) -> str:
    """Checkov names ordinary findings `resource.<name>`; CDKTF logical ids are unique per stack."""
    types: list[str] = [kind for kind, items in stack.get("resource", {}).items() if name in items]
    types += [f"data.{kind}" for kind, items in stack.get("data", {}).items() if name in items]
    assert len(types) == 1, f"{name}: {types}"
    return types[0]


def finding_name(stack_name: str, stack: Stack, checkov_resource: str) -> str:
    prefix, name = checkov_resource.rsplit(".", 1)
    kind = resource_type_of(stack, name) if prefix == "resource" else prefix
    return f"{stack_name}/{kind}.{name}"


def writable_root_findings(stack_name: str, stack: Stack) -> set[tuple[str, str]]:
    """CKV_AWS_336 (read-only root filesystem) as checkov would find it if it could read the task definitions.

    Checkov reads the JSON-string `container_definitions` of Terraform JSON as a value it cannot
    judge, so its check passes whatever the containers say; decoding it for checkov does not help
    either (it sees every scalar wrapped in a list). The check is made here instead, on the decoded
    definitions, and its findings go through the same allow-list.
    """
    found = set()
    for name, body in resources(stack, "aws_ecs_task_definition").items():
        containers = json.loads(body["container_definitions"])
        if any(container.get("readonlyRootFilesystem") is not True for container in containers):
            found.add(("CKV_AWS_336", f"{stack_name}/aws_ecs_task_definition.{name}"))
    return found


@pytest.fixture(scope="session")
def checkov_findings(
    stacks: dict[str, Stack],
    new_environment: dict[str, Stack],
    toggled: dict[str, Stack],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, set[tuple[str, str]]]:
    """Failed checks as {"stacks" or "canary": {(check id, "<stack>/<type>.<name>")}}.

    Besides every stack, a new environment's stacks are scanned (every default, nothing adopted
    from the old system: what other teams copy, and what an added envs/<name>.hcl gets), and the
    maintenance stack as it is while enabled (it holds nothing but its user otherwise).
    """
    scan = tmp_path_factory.mktemp("checkov-scan")
    maintenance_on = {
        name: stack
        for name, stack in toggled.items()
        if name.startswith("maintenance-") and resources(stack, "aws_ecs_service")
    }
    assert maintenance_on, "toggled enables maintenance somewhere"
    # directory -> (stack name, stack)
    scanned = {name: (name, stack) for name, stack in {**stacks, **new_environment}.items()}
    scanned |= {f"{name}+enabled": (name, stack) for name, stack in maintenance_on.items()}
    for directory, (_, stack) in scanned.items():
        (scan / "stacks" / directory).mkdir(parents=True)
        (scan / "stacks" / directory / "cdk.tf.json").write_text(json.dumps(scan_copy(stack), indent=2))
    (scan / "canary").mkdir()
    (scan / "canary" / "cdk.tf.json").write_text(json.dumps(strip_nulls(json.loads(CANARY.read_text())), indent=2))
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(scan),
            "--framework",
            "terraform_json",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    # A file checkov cannot parse is silently a file without findings: refuse that.
    assert [report["summary"]["parsing_errors"] for report in reports] == [0] * len(reports), result.stderr[-3000:]
    findings: dict[str, set[tuple[str, str]]] = {"stacks": set(), "canary": set()}
    for report in reports:
        for check in report["results"]["failed_checks"]:
            parts = Path(check["file_path"].lstrip("/")).parts
            if parts[0] == "canary":
                findings["canary"].add((check["check_id"], check["resource"]))
            else:
                stack_name, stack = scanned[parts[1]]
                findings["stacks"].add((check["check_id"], finding_name(stack_name, stack, check["resource"])))
    for stack_name, stack in scanned.values():
        findings["stacks"] |= writable_root_findings(stack_name, stack)
    return findings


def load_allowlist() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = tomllib.loads(ALLOWLIST.read_text())["allow"]
    for entry in entries:
        assert set(entry) == {"check", "resource", "reason"}, entry
        assert entry["reason"].strip(), entry
    return entries


def allowed(finding: tuple[str, str], entry: dict[str, str]) -> bool:
    check, resource = finding
    return check == entry["check"] and fnmatch.fnmatchcase(resource, entry["resource"])


def test_checkov_finds_nothing_outside_the_allowlist(checkov_findings: dict[str, set[tuple[str, str]]]) -> None:
    entries = load_allowlist()
    unexpected = sorted(f for f in checkov_findings["stacks"] if not any(allowed(f, entry) for entry in entries))
    listing = "\n".join(f"  {check} {resource}" for check, resource in unexpected)
    assert unexpected == [], f"fix these or add them, with a reason, to checkov-allowlist.toml:\n{listing}"


def test_allowlist_has_no_stale_entries(checkov_findings: dict[str, set[tuple[str, str]]]) -> None:
    stale = [entry for entry in load_allowlist() if not any(allowed(f, entry) for f in checkov_findings["stacks"])]
    listing = "\n".join(f"  {entry['check']} {entry['resource']}" for entry in stale)
    assert stale == [], f"these allow-list entries match no finding any more, remove them:\n{listing}"


def test_scan_catches_a_world_open_ssh_group_written_with_cdktf_nulls(
    checkov_findings: dict[str, set[tuple[str, str]]],
) -> None:
    assert ("CKV_AWS_24", "resource.open-ssh") in checkov_findings["canary"]


def test_a_container_without_a_read_only_root_is_a_finding_checkov_alone_would_miss() -> None:
    def task_definition(*containers: dict[str, Any]) -> Stack:
        return {"resource": {"aws_ecs_task_definition": {"task": {"container_definitions": json.dumps(containers)}}}}

    writable = task_definition({"name": "web", "readonlyRootFilesystem": True}, {"name": "sidecar"})
    assert writable_root_findings("api-x", writable) == {("CKV_AWS_336", "api-x/aws_ecs_task_definition.task")}
    read_only = task_definition({"name": "web", "readonlyRootFilesystem": True})
    assert writable_root_findings("api-x", read_only) == set()


def test_strip_nulls_removes_null_keys_at_every_depth() -> None:
    assert strip_nulls({"a": None, "b": [{"c": None, "d": 1}, None], "e": {"f": None}}) == {"b": [{"d": 1}], "e": {}}


def test_scan_copy_keeps_the_backend_but_drops_what_checkov_cannot_parse() -> None:
    stack: Stack = {
        "terraform": {"required_version": ">= 1.11", "backend": {"s3": {"bucket": "b", "kms_key_id": None}}},
        "import": [{"to": "aws_ecr_repository.r", "id": "r"}],
    }
    assert scan_copy(stack) == {"terraform": {"backend": {"s3": {"bucket": "b"}}}}
    assert stack["terraform"]["required_version"] == ">= 1.11"  # the original is left alone
