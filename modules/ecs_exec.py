"""An IAM user that may open ECS Exec sessions into the tasks of one cluster."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.iam import PolicyUser, allow, arn, condition


class EcsExecUser(Construct):
    """`aws ecs execute-command` into tasks of `cluster_name`, and finding those tasks.

    `ecs:ListTasks` is authorized on container instances, narrowed here to the
    cluster by ARN and by the `ecs:cluster` condition. With `enabled=False` the
    user exists without permissions (nothing to exec into). Exposes `access` (a
    `PolicyUser`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_name: str,
        policy_name: str,
        cluster_name: str,
        region: str,
        account_id: str,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        cluster_arn = arn("ecs", f"cluster/{cluster_name}", region=region, account=account_id)
        tasks = arn("ecs", f"task/{cluster_name}/*", region=region, account=account_id)
        container_instances = arn("ecs", f"container-instance/{cluster_name}/*", region=region, account=account_id)
        self.access = PolicyUser(
            self,
            "access",
            user_name=user_name,
            policy_name=policy_name,
            description=f"ECS Exec into tasks of cluster {cluster_name}",
            statements=[]
            if not enabled
            else [
                allow(["ecs:ExecuteCommand"], [cluster_arn, tasks], sid="ExecIntoClusterTasks"),
                allow(["ecs:DescribeTasks"], [tasks], sid="DescribeClusterTasks"),
                allow(
                    ["ecs:ListTasks"],
                    [container_instances],
                    conditions=[condition("ArnEquals", "ecs:cluster", [cluster_arn])],
                    sid="ListClusterTasks",
                ),
            ],
        )


def exec_command_outputs(scope: Construct, *, region: str, cluster_name: str, container_name: str, user: str) -> None:
    """Ready-to-paste outputs: find the service's task (service named like its cluster), then exec into it."""
    TerraformOutput(
        scope,
        "find-task-command",
        value=(
            f"aws ecs list-tasks --region {region} --cluster {cluster_name} --service-name {cluster_name}"
            " --query 'taskArns[0]' --output text"
        ),
    )
    TerraformOutput(
        scope,
        "exec-command",
        value=(
            f"aws ecs execute-command --region {region} --cluster {cluster_name} --task <task-id>"
            f' --container {container_name} --command "sh" --interactive'
        ),
        description=f"Run as {user}; <task-id> from find-task-command",
    )
