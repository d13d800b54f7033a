# PLACEHOLDER account id: replace with the real staging account id before deploying.
account_id = "111111111111"

domain      = "staging.littil.org"
cors_origin = "https://staging.littil.org"

database {
  deletion_protection = false # staging may be torn down
}
