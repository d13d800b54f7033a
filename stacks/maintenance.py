"""`maintenance-<env>`: the exec user always; the MySQL-client service while enabled.

Nothing of the database or network lives here, so `cdktf destroy maintenance-<env>`
removes only this: the service, its roles, and its own 3306 rule on the database. Its logs,
the ECS Exec sessions' included, live in `api-<env>` and stay.
"""

from __future__ import annotations

from cdktf import Token
from constructs import Construct

from config.model import SharedEnvironment, WorkloadEnvironment
from modules.access.iam import arn
from modules.api.ecs_exec import EcsExecUser, exec_command_output
from modules.database import allow_client
from modules.ecr import MAINTENANCE_REPOSITORY
from modules.maintenance import CONTAINER_NAME, MAINTENANCE_NAME, MaintenanceService
from stacks.base import LittilStack
from stacks.database import DatabaseStack
from stacks.network import NetworkStack


class MaintenanceStack(LittilStack):
    def __init__(
        self,
        scope: Construct,
        *,
        env: WorkloadEnvironment,
        shared: SharedEnvironment,
        network: NetworkStack,
        database: DatabaseStack,
    ) -> None:
        super().__init__(scope, component="maintenance", env=env)
        name = self.physical_name(MAINTENANCE_NAME)
        enabled = env.maintenance.enabled
        user_name = self.physical_name("maintenance", "ECSExec-User")
        # Disabled, the stack is the user alone: no account lookup, no reads from other stacks.
        account_id = self.current_account_id if enabled else ""
        self.exec_user = EcsExecUser(
            self,
            "exec-user",
            user_name=user_name,
            policy_name=self.physical_name("maintenance", "ECSExec"),
            cluster_name=name,
            region=env.region,
            account_id=account_id,
            enabled=enabled,
        )
        if not enabled:
            return
        self.refuse_placeholder_accounts([shared], why="the task's role may pull from the shared registry account")
        db = database.database
        self.service = MaintenanceService(
            self,
            "service",
            name=name,
            region=env.region,
            account_id=account_id,
            vpc_id=network.network.vpc.id,
            subnet_ids=network.network.public_subnet_ids,
            image=f"{shared.registry_host}/{MAINTENANCE_REPOSITORY}:{env.maintenance.image_tag}",
            repository_arn=arn(
                "ecr", f"repository/{MAINTENANCE_REPOSITORY}", region=shared.region, account=shared.account_id
            ),
            database_host=db.address,
            database_port=Token.as_string(db.port),
            database_name=db.database_name,
            database_secret_arn=db.secret_arn,
            database_security_group_id=db.security_group.id,
        )
        allow_client(
            self,
            "database-access",
            database_security_group_id=db.security_group.id,
            client_security_group_id=self.service.security_group.id,
        )
        exec_command_output(self, region=env.region, cluster_name=name, container_name=CONTAINER_NAME, user=user_name)
