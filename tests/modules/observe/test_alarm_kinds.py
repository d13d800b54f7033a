"""modules/observe/alarm_kinds.py alone: what an alarm's mail says, and timings CloudWatch would refuse."""

from __future__ import annotations

from dataclasses import replace

import pytest

from modules.observe.alarm_kinds import ALARMS


def test_the_description_is_the_meaning_then_the_first_action() -> None:
    kind = ALARMS["db-cpu"]
    assert kind.description == f"{kind.meaning} First: {kind.first_action}"


@pytest.mark.parametrize(
    ("period_seconds", "evaluation_periods", "accepted"),
    [
        (60, 1440, True),  # one day of minutes
        (60, 1441, False),  # below an hour's period, one day at most
        (3600, 168, True),  # a week of hours
        (86400, 8, False),  # more than a week
        (90, 2, False),  # not whole minutes
    ],
)
def test_a_timing_putmetricalarm_would_refuse_is_refused_before_synthesis(
    period_seconds: int, evaluation_periods: int, accepted: bool
) -> None:
    kind = ALARMS["db-cpu"]
    if accepted:
        shaped = replace(kind, period_seconds=period_seconds, evaluation_periods=evaluation_periods)
        assert (shaped.period_seconds, shaped.evaluation_periods) == (period_seconds, evaluation_periods)
    else:
        with pytest.raises(ValueError, match="CloudWatch refuses"):
            replace(kind, period_seconds=period_seconds, evaluation_periods=evaluation_periods)


def test_missing_data_is_one_of_cloudwatchs_choices() -> None:
    with pytest.raises(ValueError, match="none of CloudWatch's"):
        replace(ALARMS["db-cpu"], missing_data="notbreaching")
