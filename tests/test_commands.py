"""Every `aws ...` line an operator pastes, from the docs and from the stacks' outputs, checked offline.

Each command goes through the AWS CLI's own argument parser and botocore's parameter
validation, up to the request it would send; a hook stops it there, so nothing leaves
the machine. Unknown options, missing required arguments, malformed values and
commands without a region fail here instead of in an operator's terminal. The shell
scripts the project ships (and the rendered boot script) go through shellcheck.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modules.access.iam import MFA_MAX_AGE_SECONDS
from tests.conftest import REPO
from tests.test_ec2 import TF_INTERPOLATION
from tests.tf import Stack, boot_script
from tools.instance_boot import heredoc

DOCS = [REPO / "README.md", REPO / "maintenance-container" / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
# What a pasted line leaves for the operator to fill in, and a value of the right shape for each.
FILL_INS = {
    r"<instance-id>": "i-0123456789abcdef0",
    r"<certificate-arn>": "arn:aws:acm:eu-west-1:210987654321:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    r"<command-id>": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    r"<task-id>": "0123456789abcdef0123456789abcdef",
    r"<email>": "ops@littil.org",
    r"<output master-secret-arn of database-<env>>": "arn:aws:secretsmanager:eu-west-1:210987654321:secret:rds!db-x",
    r"<[a-z-]+>": "littil",
    r"\.\.\.": "filled-in",
}
# Terraform references in outputs, by what they stand for.
TERRAFORM_VALUES = {
    r"\$\{aws_instance\.[\w-]+\.id\}": "i-0123456789abcdef0",
    r"\$\{[^}]*\}": "value",
}
GLOBAL_SERVICES = {"iam", "sts"}  # no region needed
# Commands that send nothing: they write the operator's own CLI configuration (here, a scratch file).
LOCAL_COMMANDS = {("configure", "set")}


class Intercepted(Exception):
    """The command got as far as sending a request."""


def commands_in_markdown(text: str) -> list[str]:
    """`aws ...` commands in fenced blocks (continuation lines joined) and in inline code spans."""
    found: list[str] = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            found.extend(aws_commands_in_shell(line))
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]*\baws [^`\n]*)`", prose):
        found.extend(aws_commands_in_shell(span))
    return found


def aws_commands_in_shell(line: str) -> list[str]:
    """The aws invocations in one shell line: pipelines split, `$(...)` taken out, env prefixes dropped."""
    commands: list[str] = []
    for inner in re.findall(r"\$\((aws [^()]*)\)", line):
        commands.extend(aws_commands_in_shell(inner))
    line = re.sub(r"\"?\$\(aws [^()]*\)\"?", "from-a-subcommand", line)
    for piece in re.split(r"\s*(?:\||&&|;)\s*", line.strip()):
        part = re.sub(r"^(?:run:\s+)?(?:[A-Z_]+=\S+\s+)*", "", piece.strip())
        if part.startswith("aws "):
            commands.append(re.sub(r"\s+", " ", part))
    return commands


def commands_in_outputs(stacks: dict[str, Stack]) -> dict[str, str]:
    found = {}
    for stack_name, stack in stacks.items():
        for output_name, output in stack.get("output", {}).items():
            value = output.get("value")
            if isinstance(value, str) and value.startswith("aws "):
                for index, command in enumerate(aws_commands_in_shell(value)):
                    found[f"{stack_name}/{output_name}/{index}"] = command
    return found


def fill_in(command: str, files: Path) -> list[str]:
    for pattern, value in {**TERRAFORM_VALUES, **FILL_INS}.items():
        command = re.sub(pattern, value, command)
    arguments = shlex.split(command)[1:]
    # `file://x.json` is a file the operator wrote first (values never on the command line).
    for index, argument in enumerate(arguments):
        if argument.startswith("file://"):
            written = files / Path(argument.removeprefix("file://")).name
            written.write_text('{"written": "by the operator"}')
            arguments[index] = f"file://{written}"
    # Profiles live on the operator's machine; the check runs with dummy keys instead.
    while "--profile" in arguments:
        index = arguments.index("--profile")
        del arguments[index : index + 2]
    return arguments


REQUESTS: list[str] = []


def stop_before_sending(request: Any, **_: Any) -> None:
    REQUESTS.append(request.url)
    raise Intercepted("stopped before sending")


@functools.cache
def aws_cli() -> Any:
    """One AWS CLI driver for the session (its setup is the slow part), stopping every request."""
    from awscli.clidriver import create_clidriver  # type: ignore[import-untyped]

    driver = create_clidriver()
    driver.session.register("before-send", stop_before_sending)
    return driver


def check_with_the_aws_cli(arguments: list[str]) -> tuple[bool, int | None, str]:
    """(reached the request, the CLI's exit status (None if it exited on a usage error), what it printed)."""
    sent = len(REQUESTS)
    status = None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.suppress(SystemExit):
        status = aws_cli().main(arguments)
    return len(REQUESTS) > sent, status, err.getvalue()[-2000:]


@pytest.fixture(autouse=True)
def offline_aws_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("tests.test_commands.FILES", tmp_path)
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "offline")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "offline")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # `ecs execute-command` and `ssm start-session` look for the Session Manager plugin first.
    plugin = tmp_path / "bin" / "session-manager-plugin"
    plugin.parent.mkdir()
    plugin.write_text("#!/bin/sh\nexit 0\n")
    plugin.chmod(0o755)
    monkeypatch.setenv("PATH", f"{plugin.parent}:{os.environ['PATH']}")


FILES = Path()


def assert_valid(where: str, command: str) -> None:
    arguments = fill_in(command, FILES)
    if tuple(arguments[:2]) in LOCAL_COMMANDS:
        _, status, printed = check_with_the_aws_cli(arguments)
        assert status == 0, f"{where}: `{command}` is refused by the AWS CLI:\n{printed}"
        return
    service = arguments[0]
    if service not in GLOBAL_SERVICES:
        assert "--region" in arguments, f"{where}: `{command}` names no --region"
    reached, _, printed = check_with_the_aws_cli(arguments)
    assert reached, f"{where}: `{command}` is refused by the AWS CLI:\n{printed}"


@pytest.mark.same_for_any_environments  # the Markdown docs' commands
def test_every_aws_command_in_the_docs_is_one_the_aws_cli_accepts() -> None:
    checked = 0
    for doc in DOCS:
        for command in commands_in_markdown(doc.read_text()):
            assert_valid(doc.name, command)
            checked += 1
    assert checked >= 10, checked


def test_every_aws_command_in_a_stack_output_is_one_the_aws_cli_accepts(
    stacks: dict[str, Stack], toggled: dict[str, Stack], opt_ins: dict[str, Stack]
) -> None:
    commands = {
        **commands_in_outputs(stacks),
        **{f"toggled:{k}": v for k, v in commands_in_outputs(toggled).items()},
        **{f"opt-ins:{k}": v for k, v in commands_in_outputs(opt_ins).items()},
    }
    assert {"registry/docker-login-command/0", "api-staging/exec-command/0", "api-production/rollout-command/0"} <= set(
        commands
    )
    for where, command in commands.items():
        assert_valid(where, command)


def option(command: str, name: str) -> str | None:
    arguments = shlex.split(command)
    return arguments[arguments.index(name) + 1] if name in arguments else None


@pytest.mark.same_for_any_environments  # the shell runbook's commands
def test_the_shell_runbook_opens_every_shell_with_a_recent_mfa_sign_in() -> None:
    """What the shell users' policies ask (modules.access.iam.mfa_sign_in), the runbook's steps do, as written."""
    text = (REPO / "docs" / "runbooks" / "shell-access.md").read_text()
    commands = commands_in_markdown(text)
    (sign_in,) = [c for c in commands if "sts get-session-token" in c]
    key_profile = option(sign_in, "--profile")
    assert key_profile
    assert not key_profile.endswith("-mfa")
    assert int(option(sign_in, "--duration-seconds") or 0) <= MFA_MAX_AGE_SECONDS
    session_profile = f"{key_profile}-mfa"
    written = {c.split()[3] for c in commands if c.startswith("aws configure set") and session_profile in c}
    assert written == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    assert f"export AWS_PROFILE={session_profile}\n" in text
    # Shells run with an -mfa profile only, exported, so that it reaches the `$(aws ...)` inside a command too:
    # never `AWS_PROFILE=x aws ...`, which reaches the outer command alone.
    assert all(profile.endswith("-mfa") for profile in re.findall(r"export AWS_PROFILE=(\S+)", text))
    assert not re.search(r"(?<!export )\bAWS_PROFILE=\S+ aws ", text)
    shells = [c for c in commands if re.match(r"aws (ecs|ssm) ", c)]
    assert shells
    assert all(option(c, "--profile") is None for c in shells), shells


@pytest.mark.parametrize(
    "command",
    [
        "aws ecs list-tasks --region eu-west-1 --clusterx LITTIL",  # unknown option
        "aws rds create-db-snapshot --region eu-west-1 --db-instance-identifier x",  # missing required
        "aws ecs update-service --region eu-west-1 --cluster c --service s --desired-count many",  # not a number
        "aws ecs list-tasks --cluster LITTIL",  # no region
    ],
)
def test_the_check_refuses_what_the_aws_cli_would(command: str) -> None:
    with pytest.raises(AssertionError):
        assert_valid("example", command)


def test_commands_are_found_in_blocks_spans_pipelines_and_subshells() -> None:
    text = (
        "Run `aws iam list-users` first.\n```\nAWS_PROFILE=x aws ecs execute-command --region r --cluster c \\\n"
        '  --task "$(aws ecs list-tasks --region r --cluster c --output text)" --interactive\n'
        "aws ecr get-login-password --region r | docker login --password-stdin host\n```\n"
    )
    assert commands_in_markdown(text) == [
        "aws ecs list-tasks --region r --cluster c --output text",
        "aws ecs execute-command --region r --cluster c --task from-a-subcommand --interactive",
        "aws ecr get-login-password --region r",
        "aws iam list-users",
    ]


SHELL_SCRIPTS = [REPO / "maintenance-container" / "db"]


def shellcheck(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # SC1091: the files they source (/etc/littil/...) exist only on the instance.
        [str(REPO / ".venv" / "bin" / "shellcheck"), "--severity=style", "--exclude=SC1091", "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SHELLCHECK_OPTS": ""},
    )


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=lambda path: str(path.relative_to(REPO)))
def test_shipped_shell_scripts_pass_shellcheck(path: Path) -> None:
    result = shellcheck(path.read_text())
    assert result.returncode == 0, result.stdout


def test_the_rendered_boot_script_and_the_scripts_it_writes_pass_shellcheck(stacks: dict[str, Stack]) -> None:
    script = TF_INTERPOLATION.sub("TF_VALUE", boot_script(stacks["api-production"]))
    result = shellcheck(script)
    assert result.returncode == 0, result.stdout
    # The scripts it writes to disk, each checked on its own.
    for target, marker in (
        ("/usr/local/bin/littil-api-start", "START"),
        ("/usr/local/bin/littil-certificate", "CERT"),
        ("/usr/local/sbin/littil-setup", "SETUP"),
    ):
        result = shellcheck(heredoc(script, target, marker))
        assert result.returncode == 0, f"{target}:\n{result.stdout}"
