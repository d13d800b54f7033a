# Defaults every environment starts from. envs/<name>.hcl states only what differs.
# Keys that do not apply to an environment (e.g. database for the shared registry
# account) are ignored for it. Each key's type and rules: config/settings.py (blocks) and config/model.py.

region  = "eu-west-1"
country = "NL"

# true for an account that still holds what the old CDK system made (docs/migration.md): the
# stacks import its data holders (ECR repositories, the oidc/smtp secrets, the GitHub OIDC
# provider, the retained log groups) instead of creating them, and never write the smtp secret.
# false for a new environment. Once imported, the import blocks are no-ops.
adopt_legacy = false

# Set per environment only, never here (each environment has its own):
#   domain      = "staging.littil.org"          the API answers at api.<domain>
#   cors_origin = "https://staging.littil.org"  the web front end that calls the API
#   mail_domain = "mail.staging.littil.org"     where mail comes from (SES identity, DKIM); default mail.<domain>
#   route53_zone_id = "Z0123456789ABCDEFGHIJK"  the Route53 hosted zone of <domain> in the environment's own
#       account: the certificate's validation and the mail domain's DKIM records are written there. Without it,
#       they are stack outputs to create at whoever runs DNS (docs/runbooks/first-deploy.md, steps 5 and 8).

# true for an environment with real users' data: validation then requires database deletion
# protection, at least 7 days of backups and both backup copies. production must be; copies of it stay so.
production_grade = false

state {
  # Old versions of state files are kept this long after being overwritten.
  noncurrent_version_expiration_days = 90
  # Bootstrap with false (local state file); after the first deploy set true and push the
  # local state into the bucket (docs/runbooks/bootstrap-state.md).
  store_own_state_in_bucket = false
}

github {
  # The application repository; its workflows on main and v* tags push images and restart the API.
  org  = "Devoxx4Kids-NPO"
  repo = "littil-backend"
  # An account holds one token.actions.githubusercontent.com provider: false looks up the existing one.
  create_oidc_provider = true
}

ci {
  # This repository on GitHub: its main branch, and its pull requests' jobs a reviewer approved in the GitHub
  # environment plan-<env>, may assume each account's read-only LITTIL-NL-<env>-terraform-plan role
  # (docs/development.md, "CI"). No one else may.
  github_org  = "Devoxx4Kids-NPO"
  github_repo = "littil-infrastructure"
}

registry {
  untagged_image_expiry_days = 14
  tagged_images_to_keep      = 30
  # Tags of littil-backend that may be pushed again; every other tag is immutable. The application's
  # CI pushes `latest` on every build of main, so it must stay re-pushable.
  api_mutable_tags = ["latest"]
}

network {
  vpc_cidr           = "10.0.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
  nat_gateway        = false # opt-in: ~35 USD/month per environment
}

database {
  name                     = "littil"
  engine_version           = "10.11"
  instance_class           = "db.t4g.micro"
  allocated_storage_gb     = 20
  max_allocated_storage_gb = 100
  backup_retention_days    = 7
  deletion_protection      = true
  multi_az                 = false # opt-in: doubles the database cost
  require_secure_transport = false # docs/design.md, "Secrets": the API must ask for TLS first
  slow_query_seconds       = 2     # statements slower than this reach the slowquery log in CloudWatch
  # true only for the apply that moves engine_version to a new major version.
  allow_major_version_upgrade = false
  # Restore from a snapshot instead of starting empty (docs/migration.md). RDS restores at the
  # snapshot's engine version and size, so state both (aws rds describe-db-snapshots).
  snapshot_identifier           = null
  snapshot_engine_version       = null
  snapshot_allocated_storage_gb = null
}

# Copies of the database's backups outside its account and region (docs/decisions/0006-backup-copies.md).
# production_grade requires both; elsewhere they are opt-in (they cost storage, docs/design.md "Cost").
backup_copies {
  region         = null  # a second region for RDS's backups (restore to a point in time there), e.g. "eu-central-1"
  shared_account = false # a daily copy into a locked vault of the shared account (needs a customer-managed key)
  retention_days = 35    # how long each copy is kept (the second region keeps at most 35, RDS's limit)
}

api {
  variant            = "ecs" # "ecs" (Fargate + ALB) or "ec2" (one instance)
  # A release of littil-backend (its git tag without the "v"; docs/runbooks/roll-out-image.md).
  image_tag          = "1.6.0"
  log_retention_days = 30

  ecs {
    cpu           = 256
    memory_mib    = 512
    desired_count = 1
  }

  ec2 {
    instance_type  = "t3a.micro"
    root_volume_gb = 20
    certbot_email  = "info@littil.org" # Let's Encrypt account: its policy and incident mail
    ssh_public_key = null # SSM Session Manager is the shell; set a key to allow SSH
    # SSH sources, e.g. ["203.0.113.7/32"]; empty: port 22 stays closed.
    ssh_allowed_cidrs = []
  }
}

maintenance {
  enabled   = false
  image_tag = "1.0.0"
}

# Every account: the budget, and where its mail goes. AWS sends a confirmation mail per alarm topic
# (two per workload environment with the outside health check): alarms reach nobody until someone
# clicks "Confirm subscription" in it (docs/runbooks/answer-alarm.md).
alerts {
  email              = "info@littil.org" # confirm the address
  monthly_budget_usd = 80 # a new environment (ECS, 20 GB database) costs about 60 (docs/design.md, "Cost")
}

# Workload environments: alarm thresholds (docs/runbooks/answer-alarm.md says what each means and what to do).
alarms {
  outside_health_check         = true # Route53 HTTPS check from outside AWS: about 1.50 USD a month
  http_5xx_per_5_minutes       = 10
  unhealthy_target_minutes     = 5
  certificate_days_left        = 21 # ACM renews at 60 days left, certbot at 30
  cpu_credit_balance           = 20 # burstable instance; t3a.micro earns 12 an hour
  database_free_storage_gb     = 5
  database_cpu_percent         = 80
  database_freeable_memory_mib = 100
}
