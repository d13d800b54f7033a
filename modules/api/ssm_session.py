"""An IAM user that may open Session Manager shells on one EC2 instance: the EC2 variant's ECS Exec."""

from __future__ import annotations

from constructs import Construct

from modules.access.iam import PolicyUser, allow, arn, condition, mfa_sign_in

# The document `aws ssm start-session` uses when none is given: an interactive shell.
SHELL_DOCUMENT = "SSM-SessionManagerRunShell"


class SsmSessionUser(Construct):
    """`aws ssm start-session --target <instance_id>` and nothing else.

    Sessions may only use the default shell document (the document check is
    enforced), and the user may end or resume only sessions it started (their ids
    begin with its name) and open only their data channels. Each of these only with credentials from an MFA sign-in
    (`aws sts get-session-token`) at most 12 hours old, never with the user's access key alone. Terraform creates
    no access key:
    an administrator hands one out (docs/runbooks/shell-access.md). Exposes `access` (a `PolicyUser`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_name: str,
        policy_name: str,
        instance_id: str,
        region: str,
        account_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        instance = arn("ec2", f"instance/{instance_id}", region=region, account=account_id)
        shell = arn("ssm", f"document/{SHELL_DOCUMENT}", region=region, account=account_id)
        # `&{...}` is an IAM policy variable (aws_iam_policy_document's escape for `${...}`).
        own_sessions = [
            arn("ssm", f"session/&{{{variable}}}-*", region=region, account=account_id)
            for variable in ("aws:username", "aws:userid")
        ]
        self.access = PolicyUser(
            self,
            "access",
            user_name=user_name,
            policy_name=policy_name,
            description=f"Session Manager shell on the API instance {instance_id}",
            statements=[
                allow(
                    ["ssm:StartSession"],
                    [instance, shell],
                    conditions=[
                        condition("BoolIfExists", "ssm:SessionDocumentAccessCheck", ["true"]),
                        *mfa_sign_in(),
                    ],
                    sid="ShellOnTheApiInstance",
                ),
                allow(
                    ["ssm:TerminateSession", "ssm:ResumeSession"],
                    own_sessions,
                    conditions=mfa_sign_in(),
                    sid="OwnSessionsOnly",
                ),
                # The client's side of the session's data channel (Systems Manager User Guide,
                # quickstart end-user policy), on its own sessions only.
                allow(
                    ["ssmmessages:OpenDataChannel"], own_sessions, conditions=mfa_sign_in(), sid="OwnDataChannelsOnly"
                ),
            ],
        )
