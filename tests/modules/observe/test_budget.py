"""modules/observe/budget.py alone: a monthly cost budget that mails at 80 % forecast and 100 % actual spend."""

from __future__ import annotations

import pytest

from modules.observe.budget import MonthlyBudget
from tests.modules.alone import Built, build, has_no_resource, has_resource
from tests.tf import only, resources

EMAIL = "alerts@example.org"


@pytest.fixture(scope="module")
def budget() -> Built[MonthlyBudget]:
    return build(
        lambda stack: MonthlyBudget(stack, "budget", name="LITTIL-NL-test-monthly-cost", amount_usd=35, email=EMAIL)
    )


def test_budget_is_a_monthly_cost_limit_in_dollars(budget: Built[MonthlyBudget]) -> None:
    assert has_resource(
        budget,
        "aws_budgets_budget",
        {
            "name": "LITTIL-NL-test-monthly-cost",
            "budget_type": "COST",
            "time_unit": "MONTHLY",
            "limit_amount": "35.0",
            "limit_unit": "USD",
        },
    )


def test_budget_mails_the_address_at_80_percent_forecast_and_100_percent_actual(budget: Built[MonthlyBudget]) -> None:
    _, body = only(resources(budget.stack, "aws_budgets_budget"))
    assert body["notification"] == [
        {
            "notification_type": "FORECASTED",
            "comparison_operator": "GREATER_THAN",
            "threshold": 80,
            "threshold_type": "PERCENTAGE",
            "subscriber_email_addresses": [EMAIL],
        },
        {
            "notification_type": "ACTUAL",
            "comparison_operator": "GREATER_THAN",
            "threshold": 100,
            "threshold_type": "PERCENTAGE",
            "subscriber_email_addresses": [EMAIL],
        },
    ]


def test_budget_mails_directly_without_a_topic_to_confirm(budget: Built[MonthlyBudget]) -> None:
    _, body = only(resources(budget.stack, "aws_budgets_budget"))
    for notification in body["notification"]:
        assert "subscriber_sns_topic_arns" not in notification
    assert has_no_resource(budget, "aws_sns_topic")
    # A budget only watches: no action stops anything when it is exceeded.
    assert has_no_resource(budget, "aws_budgets_budget_action")
