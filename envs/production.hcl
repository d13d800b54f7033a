# PLACEHOLDER account id: replace with the real production account id before deploying.
account_id = "222222222222"

domain      = "littil.org"
cors_origin = "https://www.littil.org"

database {
  backup_retention_days = 14
}

api {
  # Becomes "ec2" (the cost-saving single instance) once that variant exists.
  variant = "ecs"
}
