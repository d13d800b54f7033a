# The shared account: ECR registry and the GitHub push role.
account_id = "680278545709"
