# The shared account: ECR registry and the GitHub push role.
account_id = "680278545709"

# The old CDK system's ECR stacks made littil-backend and littil-backend-maintenance here, and
# this account's GitHub OIDC provider was made by hand: import them (docs/migration.md).
adopt_legacy = true
