"""Copies of the database's backups that outlive its account and its region (docs/decisions/0006-backup-copies.md).

- `key`: a customer-managed KMS key for data, which other accounts may be allowed to copy with.
- `region_copy`: RDS's automated backups replicated to a second region, under a key there.
- `account_copy`: AWS Backup's daily copy into another account's vault, and the mail when a job fails.
- `vault`: that vault in the shared account, locked so nobody deletes a copy early.
"""
