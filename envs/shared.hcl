# The shared account: ECR registry and the GitHub push role.
account_id = "680278545709"

# The old CDK system's ECR stacks made littil-backend and littil-backend-maintenance here, and
# this account's GitHub OIDC provider was made by hand: import them (docs/migration.md).
adopt_legacy = true

alerts {
  monthly_budget_usd = 10 # ECR storage: about 1 USD a month (docs/design.md, "Cost")
}
