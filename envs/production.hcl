# PLACEHOLDER account id: replace with the real production account id before deploying.
account_id = "222222222222"

domain      = "littil.org"
cors_origin = "https://www.littil.org"

# Real users' data: deletion protection, at least 7 days of backups and both backup copies are enforced.
production_grade = true

# The old CDK system runs here: import its data holders (docs/migration.md).
adopt_legacy = true

database {
  # What the old system's database holds and needs (restored from its final snapshot, docs/migration.md).
  name                     = "LittilDatabase"
  allocated_storage_gb     = 100 # the old instance's size: RDS cannot shrink a restored instance
  max_allocated_storage_gb = 200
  backup_retention_days    = 14
}

# Backups that outlive the account and the region (docs/decisions/0006-backup-copies.md).
backup_copies {
  region         = "eu-central-1"
  shared_account = true
}

api {
  # One EC2 instance with nginx + Let's Encrypt instead of Fargate + ALB: the cost-saving mode.
  variant = "ec2"
  # The adopted log group keeps the old system's two years of logs (a shorter period deletes them).
  log_retention_days = 731
}

alerts {
  monthly_budget_usd = 60 # EC2 with the 100 GB database: about 44 USD a month (docs/design.md, "Cost")
}
