"""The real CDKTF CLI (pinned in package-lock.json) runs the app through cdktf.json.

The CLI run starts in the background at collection (tests/conftest.py), so its own
synthesis overlaps the in-process one instead of adding to the suite's time; the same
run is tests/test_lazy_provider.py's eager-import reference.
"""

from __future__ import annotations

import pytest

from tests.conftest import CliRun
from tests.tf import Stack

# The real CLI's run of main.py: the outer session has one, and the added-environment run starts from
# `python main.py` on the added environment itself.
pytestmark = pytest.mark.same_for_any_environments


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
