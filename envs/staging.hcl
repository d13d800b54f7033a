# PLACEHOLDER account id: replace with the real staging account id before deploying.
account_id = "111111111111"

domain      = "staging.littil.org"
cors_origin = "https://staging.littil.org"

# The old CDK system runs here: import its data holders (docs/migration.md).
adopt_legacy = true

database {
  # What the old system's database holds and needs (restored from its final snapshot, docs/migration.md).
  name                     = "LittilDatabase"
  allocated_storage_gb     = 100 # the old instance's size: RDS cannot shrink a restored instance
  max_allocated_storage_gb = 200
  deletion_protection      = false # staging may be torn down
}

api {
  # The adopted log group keeps the old system's two years of logs (a shorter period deletes them).
  log_retention_days = 731
}

alerts {
  monthly_budget_usd = 95 # ECS with the 100 GB database: about 70 USD a month (docs/design.md, "Cost")
}
