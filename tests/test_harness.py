"""The suite pays for the AWS provider import once: one whole-app synthesis per session."""

from __future__ import annotations

from pathlib import Path

from tests import conftest


def test_the_whole_app_is_synthesized_once_per_session(synthesized: Path) -> None:
    # Every synthesis registers itself; pytest_sessionfinish fails the run if a second one happens later.
    assert [synthesized] == conftest.SYNTHESES
