"""modules/api/ssm_session.py alone: the default shell on one instance, and only the user's own sessions."""

from __future__ import annotations

from typing import Any

import pytest

from modules.api.ssm_session import SsmSessionUser
from tests.modules.alone import (
    ACCOUNT_ID,
    REGION,
    Built,
    attached_to_group,
    build,
    has_no_resource,
    in_group,
)
from tests.tf import group_statements, named

USER = "LITTIL-NL-test-littil-api-SSMSession-User"
POLICY = "LITTIL-NL-test-littil-api-SSMSession"
INSTANCE_ID = "i-0123456789abcdef0"


def user() -> Built[SsmSessionUser]:
    return build(
        lambda stack: SsmSessionUser(
            stack,
            "session-user",
            user_name=USER,
            policy_name=POLICY,
            instance_id=INSTANCE_ID,
            region=REGION,
            account_id=ACCOUNT_ID,
        )
    )


@pytest.fixture(scope="module")
def session_user() -> Built[SsmSessionUser]:
    return user()


def statements(built: Built[SsmSessionUser]) -> dict[str, dict[str, Any]]:
    return {statement["sid"]: statement for statement in group_statements(built.stack, POLICY)}


def test_user_may_start_the_default_shell_on_exactly_this_instance(session_user: Built[SsmSessionUser]) -> None:
    by_sid = statements(session_user)
    assert set(by_sid) == {"ShellOnTheApiInstance", "OwnSessionsOnly", "OwnDataChannelsOnly"}
    shell = by_sid["ShellOnTheApiInstance"]
    assert shell["effect"] == "Allow"
    assert shell["actions"] == ["ssm:StartSession"]
    assert shell["resources"] == [
        f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/{INSTANCE_ID}",
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:document/SSM-SessionManagerRunShell",
    ]
    # Without the check a session could name any document the user can see.
    assert shell["condition"][0] == {
        "test": "BoolIfExists",
        "variable": "ssm:SessionDocumentAccessCheck",
        "values": ["true"],
    }


def test_starting_resuming_ending_and_carrying_a_session_all_need_a_recent_mfa_sign_in(
    session_user: Built[SsmSessionUser],
) -> None:
    # `Bool`: a request signed with the long-term key alone has no such key, and fails the condition; a session
    # token lasts up to 36 hours, so its sign-in's age is bounded too.
    mfa = [
        {"test": "Bool", "variable": "aws:MultiFactorAuthPresent", "values": ["true"]},
        {"test": "NumericLessThan", "variable": "aws:MultiFactorAuthAge", "values": ["43200"]},
    ]
    for sid, statement in statements(session_user).items():
        assert statement["condition"][-2:] == mfa, sid


def test_user_may_end_resume_and_open_the_data_channel_of_only_the_sessions_it_started(
    session_user: Built[SsmSessionUser],
) -> None:
    by_sid = statements(session_user)
    # `&{...}` is the policy document's spelling of the IAM variables `${aws:username}` and `${aws:userid}`.
    own_sessions = [
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:session/&{{aws:username}}-*",
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:session/&{{aws:userid}}-*",
    ]
    own = by_sid["OwnSessionsOnly"]
    assert (own["actions"], own["resources"]) == (["ssm:TerminateSession", "ssm:ResumeSession"], own_sessions)
    channel = by_sid["OwnDataChannelsOnly"]
    assert (channel["actions"], channel["resources"]) == (["ssmmessages:OpenDataChannel"], own_sessions)


def test_permissions_reach_the_user_only_through_its_group_and_terraform_makes_no_key(
    session_user: Built[SsmSessionUser],
) -> None:
    _, policy = named(session_user.stack, "aws_iam_policy", POLICY)
    assert INSTANCE_ID in policy["description"]
    assert attached_to_group(session_user, policy=POLICY, group=POLICY)
    assert in_group(session_user, user=USER, group=POLICY)
    assert has_no_resource(session_user, "aws_iam_user_policy")
    assert has_no_resource(session_user, "aws_iam_user_policy_attachment")
    assert has_no_resource(session_user, "aws_iam_access_key")
