"""The API and what runs next to it, on either variant.

- `fargate`: the ECS Fargate service behind an ALB (the `ecs` variant).
- `ec2`: the single EC2 instance with nginx and certbot (the `ec2` variant), and its boot script.
- `runtime`: what the container is told (environment and secrets), shared by both variants.
- `logs`: the log group and the application's own CloudWatch writer.
- `smtp`: SES sending identity and SMTP credentials.
- `fargate_task`: the ECS cluster and one-off task definitions (also used by maintenance).
- `kept_logs`: the log groups of every ECS cluster, kept apart from the clusters that come and go.
- `ecs_exec`, `ssm_session`: the operator users for ECS Exec and Session Manager.
- `password_rotation`: restarting the API when RDS rotates the database password.
"""
