# PLACEHOLDER account id: replace with the real production account id before deploying.
account_id = "222222222222"

domain      = "littil.org"
cors_origin = "https://www.littil.org"

database {
  backup_retention_days = 14
}

api {
  # One EC2 instance with nginx + Let's Encrypt instead of Fargate + ALB: the cost-saving mode.
  variant = "ec2"
}
