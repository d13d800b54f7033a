"""An IAM user that may open ECS Exec sessions into the tasks of one cluster."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.access.aws_actions import CLUSTER_CONDITION_KEY
from modules.access.iam import PolicyUser, allow, arn, condition, mfa_sign_in


class EcsExecUser(Construct):
    """`aws ecs execute-command` into tasks of `cluster_name`, and finding those tasks.

    `ecs:ListTasks --service-name` is authorized against `*`, so it is granted on `*`
    with an `ecs:cluster` condition naming this cluster. Each only with credentials from
    an MFA sign-in (`aws sts get-session-token`) at most 12 hours old, never with the
    user's access key alone. With `enabled=False` the user exists without
    permissions (nothing to exec into). Exposes `access` (a `PolicyUser`).
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
        self.access = PolicyUser(
            self,
            "access",
            user_name=user_name,
            policy_name=policy_name,
            description=f"ECS Exec into tasks of cluster {cluster_name}",
            statements=[]
            if not enabled
            else [
                allow(
                    ["ecs:ExecuteCommand"], [cluster_arn, tasks], conditions=mfa_sign_in(), sid="ExecIntoClusterTasks"
                ),
                allow(["ecs:DescribeTasks"], [tasks], conditions=mfa_sign_in(), sid="DescribeClusterTasks"),
                allow(
                    ["ecs:ListTasks"],
                    ["*"],
                    conditions=[condition("ArnEquals", CLUSTER_CONDITION_KEY, [cluster_arn]), *mfa_sign_in()],
                    sid="ListClusterTasks",
                ),
            ],
        )


def exec_command(*, region: str, cluster_name: str, service_name: str, container_name: str) -> str:
    """One pasteable line: find the service's running task, then open a shell in its container."""
    find_task = (
        f"aws ecs list-tasks --region {region} --cluster {cluster_name} --service-name {service_name}"
        " --desired-status RUNNING --query 'taskArns[0]' --output text"
    )
    return (
        f'aws ecs execute-command --region {region} --cluster {cluster_name} --task "$({find_task})"'
        f' --container {container_name} --command "sh" --interactive'
    )


def exec_command_output(scope: Construct, *, region: str, cluster_name: str, container_name: str, user: str) -> None:
    """The `exec-command` output (the service is named like its cluster)."""
    TerraformOutput(
        scope,
        "exec-command",
        value=exec_command(
            region=region, cluster_name=cluster_name, service_name=cluster_name, container_name=container_name
        ),
        description=f"Run with AWS_PROFILE set to the MFA profile of {user} (docs/runbooks/shell-access.md,"
        " step 3): it reaches the task search inside too; needs the Session Manager plugin",
    )
