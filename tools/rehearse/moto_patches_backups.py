"""The emulator's gaps around the database's backup copies (docs/decisions/0006-backup-copies.md), one patch each.

moto 5.2.5 has AWS Backup vaults, plans and vault locks, but no vault access policies and no
backup selections (and reads no tags for the provider), and RDS without the replication of
automated backups to another region.
Each patch gives the provider what AWS would for create, read and delete, no more; each is
listed in tools/rehearse/GAPS.md. `tools.rehearse.moto_patches.PATCHES` applies them.
"""

from __future__ import annotations

import json
from typing import Any


def patch_backup_vault_access_policy() -> None:
    """Put/Get/DeleteBackupVaultAccessPolicy (moto: no route at all, HTTP 404).

    The shared account's vaults admit their environment's account through an access policy.
    As AWS: the vault must exist, and a vault without a policy answers ResourceNotFoundException.
    """
    from moto.backup import urls
    from moto.backup.exceptions import ResourceNotFoundException
    from moto.backup.models import BackupBackend
    from moto.backup.responses import BackupResponse

    urls.url_paths["{0}/backup-vaults/(?P<name>[^/]+)/access-policy$"] = BackupResponse.dispatch

    def policies(backend: BackupBackend) -> dict[str, str]:  # vault name -> policy JSON
        found: dict[str, str] = backend.__dict__.setdefault("_littil_access_policies", {})
        return found

    def vault_named(self: BackupResponse) -> Any:
        name = self.uri_match.get("backupVaultName") or self.path.split("/")[-2]
        return self.backup_backend.describe_backup_vault(name)  # ResourceNotFoundException if there is none

    def put_backup_vault_access_policy(self: BackupResponse) -> str:
        vault = vault_named(self)
        policies(self.backup_backend)[vault.backup_vault_name] = json.loads(self.body)["Policy"]
        return "{}"

    def get_backup_vault_access_policy(self: BackupResponse) -> str:
        vault = vault_named(self)
        policy = policies(self.backup_backend).get(vault.backup_vault_name)
        if policy is None:
            raise ResourceNotFoundException(f"Backup vault {vault.backup_vault_name} has no access policy")
        return json.dumps(
            {"BackupVaultName": vault.backup_vault_name, "BackupVaultArn": vault.backup_vault_arn, "Policy": policy}
        )

    def delete_backup_vault_access_policy(self: BackupResponse) -> str:
        policies(self.backup_backend).pop(vault_named(self).backup_vault_name, None)
        return "{}"

    BackupResponse.put_backup_vault_access_policy = put_backup_vault_access_policy  # type: ignore[attr-defined]
    BackupResponse.get_backup_vault_access_policy = get_backup_vault_access_policy  # type: ignore[attr-defined]
    BackupResponse.delete_backup_vault_access_policy = delete_backup_vault_access_policy  # type: ignore[attr-defined]


def patch_backup_list_tags() -> None:
    """ListTags reads the resource ARN from the whole path (moto: from the second-to-last segment).

    moto expects the trailing slash of the API model's `/tags/{resourceArn}/`; the provider's
    SDK sends none, so moto looked up the tags of "tags" and every vault and plan read back
    without the default tags, which every plan then wanted to add again.
    """
    from urllib.parse import unquote

    from moto.backup.responses import BackupResponse

    def list_tags(self: BackupResponse) -> str:
        resource_arn = unquote(self.path.split("/tags/", 1)[1].rstrip("/"))
        return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=resource_arn)})

    BackupResponse.list_tags = list_tags  # type: ignore[method-assign]


def patch_backup_selections() -> None:
    """Create/Get/DeleteBackupSelection (moto: NotImplementedError, an HTTP 500 the provider retries).

    A selection names what a plan backs up (the database) and the role AWS Backup uses. As AWS:
    the plan must exist; the selection comes back as given, with an id and its plan's id.
    """
    import time
    import uuid

    from moto.backup.exceptions import ResourceNotFoundException
    from moto.backup.models import BackupBackend
    from moto.backup.responses import BackupResponse

    def selections(backend: BackupBackend) -> dict[str, dict[str, Any]]:  # selection id -> what AWS returns
        found: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_littil_selections", {})
        return found

    def plan_id(self: BackupResponse) -> str:
        backup_plan_id: str = self.uri_match.get("backupPlanId") or self.path.split("/plans/")[1].split("/")[0]
        self.backup_backend.get_backup_plan(backup_plan_id, None)  # ResourceNotFoundException for an unknown plan
        return backup_plan_id

    def selection(self: BackupResponse) -> dict[str, Any]:
        selection_id = self.uri_match.get("selectionId") or self.path.rstrip("/").split("/")[-1]
        found = selections(self.backup_backend).get(selection_id)
        if found is None or found["BackupPlanId"] != plan_id(self):
            raise ResourceNotFoundException(f"Failed reading backup selection {selection_id}")
        return found

    def create_backup_selection(self: BackupResponse) -> str:
        body = json.loads(self.body)
        made = {
            "SelectionId": str(uuid.uuid4()),
            "BackupPlanId": plan_id(self),
            "BackupSelection": body["BackupSelection"],
            "CreationDate": time.time(),
            "CreatorRequestId": body.get("CreatorRequestId"),
        }
        selections(self.backup_backend)[made["SelectionId"]] = made
        return json.dumps({key: made[key] for key in ("SelectionId", "BackupPlanId", "CreationDate")})

    def get_backup_selection(self: BackupResponse) -> str:
        return json.dumps({key: value for key, value in selection(self).items() if value is not None})

    def delete_backup_selection(self: BackupResponse) -> str:
        selections(self.backup_backend).pop(selection(self)["SelectionId"])
        return "{}"

    BackupResponse.create_backup_selection = create_backup_selection  # type: ignore[attr-defined]
    BackupResponse.get_backup_selection = get_backup_selection  # type: ignore[attr-defined]
    BackupResponse.delete_backup_selection = delete_backup_selection  # type: ignore[attr-defined]


def patch_automated_backups_replication() -> None:
    """Start/StopDBInstanceAutomatedBackupsReplication (moto: NotImplementedError, HTTP 500).

    Called in the destination region with the source instance's ARN. As AWS: the source instance
    must exist in its region and the key in this one; the replicated backups appear in this
    region's DescribeDBInstanceAutomatedBackups (by their own ARN too) as `replicating`, and
    stopping leaves them `retained`. Nothing is copied: moto keeps no backup data.
    """
    from moto.core.responses import ActionResult
    from moto.moto_api._internal import mock_random
    from moto.rds.exceptions import DBInstanceNotFoundError, InvalidDBInstanceStateFault, RDSClientError
    from moto.rds.models import RDSBackend, rds_backends
    from moto.rds.responses import RDSResponse

    def replicated(backend: RDSBackend) -> dict[str, dict[str, Any]]:  # automated-backups ARN -> what AWS returns
        found: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_littil_replicated_backups", {})
        return found

    def start_db_instance_automated_backups_replication(self: RDSResponse) -> ActionResult:
        source_arn = self.params.get("SourceDBInstanceArn")
        _, _, _, region, account, _, identifier = source_arn.split(":", 6)
        database = rds_backends[account][region].databases.get(identifier)
        if database is None:
            raise DBInstanceNotFoundError(identifier)
        key = self.params.get("KmsKeyId")
        suffix = mock_random.get_random_string(26, lower_case=True)
        arn = f"arn:aws:rds:{self.region}:{self.current_account}:auto-backup:ab-{suffix}"
        record = {
            "DBInstanceArn": source_arn,
            "DbiResourceId": database.dbi_resource_id,
            "Region": region,
            "DBInstanceIdentifier": identifier,
            "Status": "replicating",
            "Engine": database.engine,
            "EngineVersion": database.engine_version,
            "AllocatedStorage": database.allocated_storage,
            "Encrypted": bool(key),
            "KmsKeyId": self.backend._validate_kms_key(key) if key else None,
            "BackupRetentionPeriod": int(self.params.get("BackupRetentionPeriod") or 7),
            "DBInstanceAutomatedBackupsArn": arn,
        }
        replicated(self.backend)[arn] = record
        return ActionResult({"DBInstanceAutomatedBackup": record})

    def stop_db_instance_automated_backups_replication(self: RDSResponse) -> ActionResult:
        source_arn = self.params.get("SourceDBInstanceArn")
        for record in replicated(self.backend).values():
            if record["DBInstanceArn"] == source_arn and record["Status"] == "replicating":
                record["Status"] = "retained"
                return ActionResult({"DBInstanceAutomatedBackup": record})
        raise InvalidDBInstanceStateFault(f"{source_arn} is not replicating to the current region")

    def describe_db_instance_automated_backups(self: RDSResponse) -> ActionResult:
        records = replicated(self.backend)
        wanted = self.params.get("DBInstanceAutomatedBackupsArn")
        if wanted is not None:
            if wanted not in records:
                raise RDSClientError("DBInstanceAutomatedBackupNotFound", f"Automated backup {wanted} not found.")
            return ActionResult({"DBInstanceAutomatedBackups": [records[wanted]]})
        identifier = self.params.get("DBInstanceIdentifier")
        own = self.backend.describe_db_instance_automated_backups(**self.params)  # this region's instances
        found = [r for r in records.values() if identifier in (None, r["DBInstanceIdentifier"])]
        return ActionResult({"DBInstanceAutomatedBackups": [*own, *found]})

    RDSResponse.start_db_instance_automated_backups_replication = start_db_instance_automated_backups_replication  # type: ignore[attr-defined]
    RDSResponse.stop_db_instance_automated_backups_replication = stop_db_instance_automated_backups_replication  # type: ignore[attr-defined]
    RDSResponse.describe_db_instance_automated_backups = describe_db_instance_automated_backups  # type: ignore[method-assign]


PATCHES = (
    patch_backup_vault_access_policy,
    patch_backup_list_tags,
    patch_backup_selections,
    patch_automated_backups_replication,
)
