"""This repository's GitHub workflows: tests and the change report on every pull request, read-only
plans with each account's plan role, pinned actions and least privilege; never an apply."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from config.model import AppConfig
from modules.naming import plan_environment, plan_role_variable, state_bucket_name
from tests.conftest import REPO
from tests.tf import Stack, data_ref, data_sources, named, only, policy_statements, ref, resources, state_bucket

WORKFLOWS = REPO / ".github" / "workflows"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


def workflows() -> dict[str, dict[Any, Any]]:
    found = {path.name: yaml.safe_load(path.read_text()) for path in sorted(WORKFLOWS.glob("*.yml"))}
    assert found, "no workflows"
    return found


def steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    return list(workflow["jobs"][job]["steps"])


def test_every_action_is_pinned_by_commit_with_its_version_named() -> None:
    for name in sorted(WORKFLOWS.glob("*.yml")):
        text = name.read_text()
        uses = re.findall(r"uses: (\S+)(.*)", text)
        assert uses, name
        for action, comment in uses:
            assert PINNED.fullmatch(action), f"{name.name}: {action} is not pinned to a commit"
            assert re.fullmatch(r" # v\d+(\.\d+)*", comment), f"{name.name}: {action} names no version"


def test_workflows_grant_nothing_by_default_and_each_job_only_what_it_needs() -> None:
    allowed = {
        "ci.yml": {
            "test": {"contents": "read", "actions": "read"},  # actions: the plan environments' protection rules
            "rehearse": {"contents": "read"},
            "provider-lock": {"contents": "read"},
            "plan": {"contents": "read", "id-token": "write"},
        },
        "drift.yml": {
            "stacks": {"contents": "read"},
            "check": {"contents": "read", "id-token": "write"},
            "report": {"contents": "read", "issues": "write"},
        },
    }
    assert set(workflows()) == set(allowed)
    for name, workflow in workflows().items():
        assert workflow["permissions"] == {}, name
        assert {job_name: job["permissions"] for job_name, job in workflow["jobs"].items()} == allowed[name], name
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


def test_nothing_is_ever_applied_from_ci() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for forbidden in ("terraform apply", "cdktf deploy", "make deploy", "terraform destroy", "cdktf destroy"):
            assert forbidden not in text, (path.name, forbidden)
    (ci,) = [w for w in workflows().values() if "plan" in w["jobs"]]
    (plan,) = [s["run"] for s in steps(ci, "plan") if "terraform plan" in s.get("run", "")]
    assert "terraform plan -lock=false" in plan


def test_github_rehearses_with_the_pinned_provider_and_the_same_terraform_as_the_tests() -> None:
    (ci,) = [w for w in workflows().values() if "rehearse" in w["jobs"]]
    rehearse = steps(ci, "rehearse")
    assert [s["run"] for s in rehearse if "run" in s] == ["make rehearse REHEARSE_FLAGS=--pinned-provider"]
    terraform = [
        s["with"]["terraform_version"]
        for s in (*rehearse, *steps(ci, "test"))
        if "setup-terraform" in s.get("uses", "")
    ]
    assert len(terraform) == 2
    assert len(set(terraform)) == 1
    # The flag reaches the rehearsal, which knows it.
    assert "$(VENV)/bin/python -m tools.rehearse $(REHEARSE_FLAGS) $(ENVS)" in (REPO / "Makefile").read_text()
    usage = subprocess.run(
        [sys.executable, "-m", "tools.rehearse", "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "--pinned-provider" in usage.stdout


def test_ci_runs_the_readmes_test_command_with_the_readmes_versions() -> None:
    (ci,) = [w for w in workflows().values() if "test" in w["jobs"]]
    assert set(ci[True]) == {"pull_request", "push"}  # YAML 1.1 reads the key `on` as true
    assert ci[True]["push"] == {"branches": ["main"]}
    test = steps(ci, "test")
    assert [s["run"] for s in test if s.get("name") == "make test"] == ["make test"]
    python = next(s for s in test if s.get("uses", "").startswith("actions/setup-python@"))
    node = next(s for s in test if s.get("uses", "").startswith("actions/setup-node@"))
    assert python["with"] == {"python-version-file": ".python-version"}
    assert node["with"] == {"node-version-file": ".nvmrc", "cache": "npm"}
    python_version = (REPO / ".python-version").read_text().strip()
    node_version = (REPO / ".nvmrc").read_text().strip()
    readme = (REPO / "README.md").read_text()
    assert f"Python {python_version}, Node.js {node_version}+" in readme
    assert f"PYTHON ?= python{python_version}" in (REPO / "Makefile").read_text()
    terraform = [s for s in test if s.get("uses", "").startswith("hashicorp/setup-terraform@")]
    pinned = terraform[0]["with"]["terraform_version"]
    assert f"CI runs {pinned}" in readme
    assert f"tfenv install {pinned}" in readme
    # The pin satisfies every stack's required_version (">= 1.11": S3 native locking's GA).
    assert tuple(int(part) for part in pinned.split(".")[:2]) >= (1, 11)
    cache = next(s for s in test if s.get("uses", "").startswith("actions/cache@"))
    assert "Pipfile.lock" in cache["with"]["key"]


def run_step(script: str, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], str, str]:
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    summary.write_text("")
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        env={**os.environ, **env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
        capture_output=True,
        text=True,
        check=False,
    )
    return result, output.read_text(), summary.read_text()


def test_a_plan_is_skipped_with_a_note_until_its_role_variable_is_set(tmp_path: Path) -> None:
    (ci,) = [w for w in workflows().values() if "plan" in w["jobs"]]
    plan = ci["jobs"]["plan"]
    assert plan["env"]["ROLE_ARN"] == "${{ vars[matrix.role_variable] }}"
    check, *rest = plan["steps"]
    # Every step after the check runs only when the role is configured.
    assert {step["if"] for step in rest} == {"steps.role.outputs.configured == 'true'"}
    env = {"STACK": "api-staging", "ROLE_VARIABLE": "LITTIL_PLAN_ROLE_STAGING"}
    result, output, summary = run_step(check["run"], tmp_path, ROLE_ARN="", **env)
    assert result.returncode == 0, result.stderr
    assert output == "configured=false\n"
    assert "the repository variable `LITTIL_PLAN_ROLE_STAGING` is not set" in summary
    result, output, summary = run_step(
        check["run"], tmp_path, ROLE_ARN="arn:aws:iam::111111111111:role/LITTIL-NL-staging-terraform-plan", **env
    )
    assert (result.returncode, output, summary) == (0, "configured=true\n", "")
    # Forks have no OIDC token for this repository's roles: their pull requests stop at the report.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in plan["if"]


def test_a_pull_requests_plan_runs_in_its_accounts_reviewed_environment() -> None:
    """tools/review/render.plannable names the environment (`github_environment`); a push to main plans without one,
    as the role's trust admits main. An empty name is no environment on GitHub."""
    (ci,) = [w for w in workflows().values() if "plan" in w["jobs"]]
    assert ci["jobs"]["plan"]["environment"] == (
        "${{ github.event_name == 'pull_request' && matrix.github_environment || '' }}"
    )


def test_a_pull_requests_plans_wait_until_their_environments_are_known_to_be_protected() -> None:
    (ci,) = [w for w in workflows().values() if "plan" in w["jobs"]]
    names = [s.get("name") for s in ci["jobs"]["test"]["steps"]]
    check = dict(ci["jobs"]["test"]["steps"][names.index("The plan environments are protected")])
    # In the job whose output starts the plan jobs, after the report that names their environments.
    assert names.index("Change report") < names.index("The plan environments are protected")
    assert check["run"] == ".venv/bin/python -m tools.plan_environments plannable.json"
    assert check["env"] == {"GH_TOKEN": "${{ github.token }}"}
    # Whenever a pull request's plan job would run in an environment: the plan job's own condition, for pull requests.
    for condition in ("github.event_name == 'pull_request'", "head.repo.full_name == github.repository"):
        assert condition in check["if"]
        assert condition.split(" == ")[0].split(".")[-1] in ci["jobs"]["plan"]["if"] + ci["jobs"]["plan"]["environment"]


def plan_role(stack: Stack, env_name: str) -> tuple[str, dict[str, Any]]:
    return named(stack, "aws_iam_role", f"LITTIL-NL-{env_name}-terraform-plan")


def test_every_account_has_a_read_only_plan_role_for_this_repository_only(
    stacks: dict[str, Stack], toggled: dict[str, Stack], config: AppConfig
) -> None:
    homes = {config.shared.name: "registry"} | {env.name: f"api-{env.name}" for env in config.workloads}
    for env in config.environments:
        stack = stacks[homes[env.name]]
        role_id, role = plan_role(stack, env.name)
        (trust,) = policy_statements(stack, role["assume_role_policy"])
        (provider_id, _) = only(resources(stack, "aws_iam_openid_connect_provider"))
        assert trust["principals"] == [
            {"type": "Federated", "identifiers": [ref("aws_iam_openid_connect_provider", provider_id, "arn")]}
        ]
        repository = f"repo:{env.ci.github_org}/{env.ci.github_repo}"
        # Every account: main, or a job of its GitHub environment (required reviewers), never a pull request as such.
        subjects = [f"{repository}:ref:refs/heads/main", f"{repository}:environment:{plan_environment(env.name)}"]
        assert {c["variable"]: (c["test"], c["values"]) for c in trust["condition"]} == {
            "token.actions.githubusercontent.com:aud": ("StringEquals", ["sts.amazonaws.com"]),
            "token.actions.githubusercontent.com:sub": ("StringLike", subjects),
        }, env.name
        attached = [
            a["policy_arn"]
            for a in resources(stack, "aws_iam_role_policy_attachment").values()
            if a["role"] == ref("aws_iam_role", role_id, "name")
        ]
        assert attached == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        (policy,) = [
            p
            for p in resources(stack, "aws_iam_role_policy").values()
            if p["role"] == ref("aws_iam_role", role_id, "id")
        ]
        document = policy_statements(stack, policy["policy"])
        statements = {s["sid"]: (s["actions"], s["resources"]) for s in document if s["effect"] == "Allow"}
        # The data denials carve out exactly this account's state bucket and the parameters this stack writes.
        carved = {s["sid"]: s["not_resources"] for s in document if "not_resources" in s}
        # The provider's own account (never a placeholder from config): with the configured account, that is the
        # bucket state-<env> creates and every backend of the account names.
        caller, _ = only(data_sources(stack, "aws_caller_identity"))
        bucket = state_bucket_name(env.country, env.name, data_ref("aws_caller_identity", caller, "account_id"))
        (_, bucket_body) = state_bucket(stacks[f"state-{env.name}"])
        assert bucket_body["bucket"] == state_bucket_name(env.country, env.name, env.account_id)
        expected = {
            "ListState": (["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"]),
            "ReadState": (["s3:GetObject"], [f"arn:aws:s3:::{bucket}/*"]),
        }
        if env.name != config.shared.name:
            # What Terraform wrote, so the state holds it: the log writer's key, and the SMTP credentials unless
            # adopted (then the secret holds the operators' value).
            written = ("cloudwatch",) if env.adopt_legacy else ("cloudwatch", "smtp")
            secrets = {body["name"]: key for key, body in resources(stack, "aws_secretsmanager_secret").items()}
            expected["ReadSecretsInState"] = (
                ["secretsmanager:GetSecretValue"],
                [
                    ref("aws_secretsmanager_secret", secrets[f"littil/backend/{env.name}/{kind}"], "arn")
                    for kind in written
                ],
            )
        assert statements == expected, env.name
        assert carved["NoObjectsButState"] == [f"arn:aws:s3:::{bucket}/*"], env.name
        own_parameters = (
            []
            if env.name == config.shared.name
            else [
                f"arn:aws:ssm:{env.region}:{data_ref('aws_caller_identity', caller, 'account_id')}"
                f":parameter/littil/{env.name}/*"
            ]
        )
        # ... so a plan can still refresh every parameter the stack writes.
        for parameter in resources(stack, "aws_ssm_parameter").values():
            assert parameter["name"].startswith(f"/littil/{env.name}/"), parameter["name"]
        assert carved["NoParametersButTerraforms"] == [
            *own_parameters,
            f"arn:aws:ssm:{env.region}::parameter/aws/service/*",
        ], env.name
        (output,) = [o for key, o in stack["output"].items() if key == "plan-role-arn"]
        assert output["value"] == ref("aws_iam_role", role_id, "arn")
        assert output["description"] == f"GitHub repository variable {plan_role_variable(env.name)}"
    # A new environment (nothing adopted) wrote its smtp secret too: the role may read that one as well.
    stack = toggled["api-production"]
    role_id, _ = plan_role(stack, "production")
    (policy,) = [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", role_id, "id")
    ]
    (readable,) = [
        s["resources"] for s in policy_statements(stack, policy["policy"]) if s["sid"] == "ReadSecretsInState"
    ]
    names = {
        ref("aws_secretsmanager_secret", k, "arn"): b["name"]
        for k, b in resources(stack, "aws_secretsmanager_secret").items()
    }
    assert sorted(names[arn] for arn in readable) == [
        "littil/backend/production/cloudwatch",
        "littil/backend/production/smtp",
    ]


def test_the_development_guide_names_the_plan_role_variable_of_every_environment_by_its_pattern() -> None:
    readme = " ".join((REPO / "docs" / "development.md").read_text().split())
    # The pattern, which covers every environment, an added one too; the shipped ones as its examples.
    assert plan_role_variable("<name>") == "LITTIL_PLAN_ROLE_<NAME>"
    assert "(an added environment: `LITTIL_PLAN_ROLE_<NAME>`)" in readme
    for name in ("shared", "staging", "production"):
        assert f"`{plan_role_variable(name)}`" in readme


def test_dependabot_watches_every_lock_file_in_one_monthly_pull_request() -> None:
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    (group,) = config["multi-ecosystem-groups"]
    assert config["multi-ecosystem-groups"][group]["schedule"] == {"interval": "monthly"}
    watched = set()
    for update in config["updates"]:
        assert update["multi-ecosystem-group"] == group
        assert update["patterns"] == ["*"]
        assert update["cooldown"]["default-days"] >= 7
        for directory in update.get("directories", [update.get("directory")]):
            watched.add((update["package-ecosystem"], directory.strip("/")))
    ecosystem = {"Pipfile.lock": "pip", "package-lock.json": "npm"}
    locks = {
        (ecosystem[path.name], path.parent.relative_to(REPO).as_posix().removeprefix("."))
        for name in ecosystem
        for path in REPO.glob(f"**/{name}")
        if not {"node_modules", ".venv", ".tools"} & set(path.relative_to(REPO).parts)
    }
    assert locks == {("pip", ""), ("pip", "tools/checkov"), ("npm", "")}
    assert watched == locks | {("github-actions", "")}


def test_github_holds_the_committed_provider_lock_to_the_pin_or_writes_one_to_commit() -> None:
    (ci,) = [w for w in workflows().values() if "provider-lock" in w["jobs"]]
    lock = steps(ci, "provider-lock")
    runs = [s["run"] for s in lock if "run" in s]
    assert runs[0] == "make synth"  # which copies terraform.lock.hcl into every stack (tools/provider_lock.py)
    check = runs[1]
    assert "if [ -f .terraform.lock.hcl ]" in check
    assert "terraform init -backend=false -input=false -no-color -lockfile=readonly" in check
    # The platforms operators and CI use; every stack pins the same providers, so one stack's lock serves all.
    for platform in ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"):
        assert f"-platform={platform}" in check
    assert "terraform.lock.hcl" in (REPO / "tools" / "provider_lock.py").read_text()
