"""docs/runbooks/restore-database.md, "Restore from a copy", as far as the emulator goes (tools/rehearse/GAPS.md).

Nothing in the emulator takes a snapshot on a schedule or copies one, so no copy ever exists there.
What can be shown is what the runbook starts from: the replicated backups in the second region,
under that region's key, kept as configured; the shared account's vault, locked, admitting the
environment's account alone; the environment's plan copying into exactly that vault. Then each of
the runbook's commands runs as written: one the emulator answers must end where the runbook says,
one it cannot answer must fail as GAPS.md says, so that a moto which learns it is noticed (and this
rehearsal extended) instead of the step being skipped in silence.
"""

from __future__ import annotations

import json
import time
from typing import Any

from config.model import AppConfig, WorkloadEnvironment
from config.rules import BACKUP_COPY_MAX_DAYS
from modules.access.aws_actions import SEALED_KEY_ACTIONS
from modules.naming import copy_vault_name, physical_name
from tools.rehearse.run import Rehearsal, RehearsalFailure, aws_cli, say

# The shared account's job deploys its stacks side by side with this environment's: wait for the vault.
VAULT_WAIT_SECONDS = 900


def restore_from_copy(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """Both copies of `name`'s backups are where the runbook restores them from; its commands run as far as moto goes.

    Run after `make deploy ENV=<name>` (and the shared account's deploy, which it waits for).
    """
    env = config.workload(name)
    copies = env.backup_copies
    if copies.region is None and not copies.shared_account:
        raise RehearsalFailure(f"{name}: no backup copies to restore from (backup_copies in envs/{name}.hcl)")
    if copies.region is not None:
        from_the_second_region(rehearsal, env)
    if copies.shared_account:
        from_the_shared_account(rehearsal, config, env)


def from_the_second_region(rehearsal: Rehearsal, env: WorkloadEnvironment) -> None:
    region = env.backup_copies.region
    assert region is not None
    identifier = physical_name(env.country, env.name, "db").lower()
    # Runbook "From the second region", step 1.
    listed = json.loads(
        aws_cli(
            rehearsal,
            env.name,
            f"aws rds describe-db-instance-automated-backups --region {region} --db-instance-identifier {identifier}"
            " --query 'DBInstanceAutomatedBackups[].[DBInstanceAutomatedBackupsArn,Status,RestoreWindow.LatestTime]'",
        )
    )
    replicating = [row[0] for row in listed if row[1].lower() == "replicating"]
    if len(replicating) != 1:
        raise RehearsalFailure(f"{env.name}: {region} holds no replicating backups of {identifier}: {listed}")
    (arn,) = replicating
    rds = client(rehearsal, env.name, "rds", region)
    (replica,) = rds.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=arn)[
        "DBInstanceAutomatedBackups"
    ]
    key = client(rehearsal, env.name, "kms", region).describe_key(KeyId=f"alias/{identifier}-backups")["KeyMetadata"]
    kept = env.backup_copies.retention_days
    if (replica["KmsKeyId"], replica["BackupRetentionPeriod"]) != (key["Arn"], kept):
        raise RehearsalFailure(f"{env.name}: {region}'s copies are not under {key['Arn']} for {kept} days: {replica}")
    say(f"   {env.name}: {identifier}'s backups replicate to {region} under its key there, kept {kept} days")
    # Step 2: the emulator cannot restore from replicated backups.
    expect_gap(
        rehearsal,
        env.name,
        f"aws rds restore-db-instance-to-point-in-time --region {region} --source-db-instance-automated-backups-arn"
        f" {arn} --target-db-instance-identifier {identifier}-recovered --use-latest-restorable-time"
        f" --db-instance-class {env.database.instance_class} --no-publicly-accessible --no-multi-az",
        shows="500 Internal Server Error",
    )


def from_the_shared_account(rehearsal: Rehearsal, config: AppConfig, env: WorkloadEnvironment) -> None:
    shared = config.shared.name
    vault_name = copy_vault_name(env.country, env.name)
    wait_for_vault(rehearsal, shared, vault_name, env.region)
    # Runbook "Copies", verify: the vault is locked for the configured days and admits this environment alone.
    vault = json.loads(
        aws_cli(
            rehearsal,
            shared,
            f"aws backup describe-backup-vault --region {env.region} --backup-vault-name {vault_name}",
        )
    )
    locked = (True, env.backup_copies.retention_days, BACKUP_COPY_MAX_DAYS)
    if (vault.get("Locked"), vault.get("MinRetentionDays"), vault.get("MaxRetentionDays")) != locked:
        raise RehearsalFailure(f"{shared}: {vault_name} is not locked for {locked[1]} to {locked[2]} days: {vault}")
    # The vault's key is sealed: its policy denies everyone its deletion, disabling and a new policy.
    key_arn = aws_cli(
        rehearsal,
        shared,
        f"aws kms describe-key --region {env.region} --key-id alias/{vault_name.lower()}"
        " --query KeyMetadata.Arn --output text",
    ).strip()
    key_policy = json.loads(
        aws_cli(
            rehearsal,
            shared,
            f'aws kms get-key-policy --region {env.region} --key-id "{key_arn}" --policy-name default'
            " --query Policy --output text",
        )
    )
    sealed = [s for s in key_policy["Statement"] if s["Effect"] == "Deny" and s.get("Principal") == {"AWS": "*"}]
    if [sorted(s["Action"]) for s in sealed] != [sorted(SEALED_KEY_ACTIONS)]:
        raise RehearsalFailure(f"{shared}: the key of {vault_name} is not sealed: {key_policy}")
    policy = json.loads(
        json.loads(
            aws_cli(
                rehearsal,
                shared,
                f"aws backup get-backup-vault-access-policy --region {env.region} --backup-vault-name {vault_name}",
            )
        )["Policy"]
    )
    granted = [(s["Principal"], s["Action"]) for s in policy["Statement"] if s["Effect"] == "Allow"]
    if granted != [({"AWS": f"arn:aws:iam::{env.account_id}:root"}, "backup:CopyIntoBackupVault")]:
        raise RehearsalFailure(f"{shared}: {vault_name} admits {granted}, not {env.name}'s account alone")
    backup = client(rehearsal, env.name, "backup", env.region)
    (plan,) = [
        backup.get_backup_plan(BackupPlanId=listed["BackupPlanId"])["BackupPlan"]
        for listed in backup.list_backup_plans()["BackupPlansList"]
        if listed["BackupPlanName"] == physical_name(env.country, env.name, "db-backups")
    ]
    destinations = [action["DestinationBackupVaultArn"] for rule in plan["Rules"] for action in rule["CopyActions"]]
    if destinations != [vault["BackupVaultArn"]]:
        raise RehearsalFailure(f"{env.name}: the plan copies into {destinations}, not {vault['BackupVaultArn']}")
    # "Copies", verify: the two alarms of a day without a backup or a copy (the emulator never evaluates them).
    alarm_names = [physical_name(env.country, env.name, kind) for kind in ("db-backup-missing", "db-copy-missing")]
    watched = json.loads(
        aws_cli(
            rehearsal,
            env.name,
            f"aws cloudwatch describe-alarms --region {env.region} --alarm-names {' '.join(alarm_names)}"
            " --query 'MetricAlarms[].[AlarmName,Dimensions[0].Value]'",
        )
    )
    here = physical_name(env.country, env.name, "db-backups")  # the vault of the environment's own account
    if sorted(map(tuple, watched)) != [(alarm_names[0], here), (alarm_names[1], vault_name)]:
        raise RehearsalFailure(f"{env.name}: the alarms of a missing backup or copy watch {watched}")
    say(
        f"   {env.name}: copied daily into {shared}'s {vault_name}, locked {vault['MinRetentionDays']} to"
        f" {vault['MaxRetentionDays']} days under a sealed key; a day without either mails"
    )
    # "From the shared account's vault", step 1: the emulator has no recovery points (and no copy jobs).
    expect_gap(
        rehearsal,
        shared,
        f"aws backup list-recovery-points-by-backup-vault --region {env.region} --backup-vault-name {vault_name}"
        " --query 'RecoveryPoints[].[RecoveryPointArn,CreationDate,Status]'",
        shows="(404)",
    )


def expect_gap(rehearsal: Rehearsal, env: str, command: str, *, shows: str) -> None:
    """`command` fails in the emulator as GAPS.md says; should it ever succeed, the rehearsal must go further."""
    try:
        aws_cli(rehearsal, env, command)
    except RehearsalFailure as failure:
        if shows not in str(failure):
            raise RehearsalFailure(f"`{command}` failed otherwise than GAPS.md says ({shows}): {failure}") from None
        say(f"   {env}: not rehearsed (GAPS.md): {command.split(' --', maxsplit=1)[0]}")
        return
    raise RehearsalFailure(f"the emulator now answers `{command}`: rehearse the runbook further and update GAPS.md")


def wait_for_vault(rehearsal: Rehearsal, env: str, vault_name: str, region: str) -> None:
    backup = client(rehearsal, env, "backup", region)
    deadline = time.monotonic() + VAULT_WAIT_SECONDS
    while True:
        try:
            backup.describe_backup_vault(BackupVaultName=vault_name)
            return
        except backup.exceptions.ResourceNotFoundException:
            if time.monotonic() > deadline:
                raise RehearsalFailure(
                    f"{env}: {vault_name} never appeared (backup-vaults-{env} not deployed)"
                ) from None
            time.sleep(10)


def client(rehearsal: Rehearsal, env: str, service: str, region: str) -> Any:
    """`tools.rehearse.run.client` in another region than eu-west-1."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        region_name=region,
        endpoint_url=rehearsal.workspace.endpoints[env],
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )
