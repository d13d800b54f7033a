"""The account's monthly cost budget (AWS Budgets): mail before the bill surprises anyone."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetNotification
from constructs import Construct

# (notification type, percent of the amount): warned by the forecast, told when it is spent.
BUDGET_ALERTS = (("FORECASTED", 80), ("ACTUAL", 100))


class MonthlyBudget(Construct):
    """A monthly cost budget of `amount_usd` mailing `email` at 80 % forecast and 100 % actual spend.

    Budgets mail the address directly (no topic, nothing to confirm). A budget only
    watches: nothing is stopped when it is exceeded. Exposes `budget`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, amount_usd: int, email: str) -> None:
        super().__init__(scope, construct_id)
        self.budget = BudgetsBudget(
            self,
            "budget",
            name=name,
            budget_type="COST",
            limit_amount=f"{amount_usd}.0",
            limit_unit="USD",
            time_unit="MONTHLY",
            notification=[
                BudgetsBudgetNotification(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                    subscriber_email_addresses=[email],
                )
                for kind, percent in BUDGET_ALERTS
            ],
        )
