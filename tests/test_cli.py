"""The real CDKTF CLI (pinned in package-lock.json) runs the app through cdktf.json.

Its run is the first step of the added-environment run (tests/test_adding_an_environment.py),
which runs this test against it; the same run is tests/test_lazy_provider.py's eager-import
reference.
"""

from __future__ import annotations

import pytest

from tests.conftest import CliRun
from tests.tf import Stack

pytestmark = pytest.mark.reads_cli_run


def test_real_cdktf_cli_lists_every_stack(cli_list: CliRun, stacks: dict[str, Stack]) -> None:
    assert cli_list.returncode == 0, cli_list.output
    output = cli_list.output
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("Stack name"))
    # Rows start at column 0; the CLI wraps long paths onto indented continuation lines.
    listed = {line.split()[0] for line in lines[header + 1 :] if line.strip() and not line[0].isspace()}
    assert listed == set(stacks)
    # No jsii banner about Node's end of life, no failed checkpoint (telemetry) call.
    assert "end-of-life" not in output
    assert "checkpoint" not in output.lower()
