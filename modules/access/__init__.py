"""Who and what may reach what: IAM, secrets, security groups, GitHub's OIDC roles.

- `iam`: policy documents, service roles, grants and users (no hand-built policy JSON).
- `aws_actions`: the IAM action lists the policies share.
- `github_oidc`: the GitHub OIDC provider, the image-push role and the read-only plan role.
- `secrets`: Secrets Manager secrets and the keys the API reads from them.
- `security_group`: one ingress or egress rule per peer.
"""
