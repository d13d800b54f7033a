"""Where moto differs from AWS in a way the rehearsal would trip over: one patch per gap.

Each patch names the moto behaviour it changes and why AWS behaves otherwise; each is
listed in tools/rehearse/GAPS.md. `tools.rehearse.emulator` applies `PATCHES` in the
emulator's own process, before the server starts; those of the backup copies are in
`tools.rehearse.moto_patches_backups`.
"""

from __future__ import annotations

from typing import Any

from tools.rehearse import moto_patches_backups as backups


def patch_bucket_policy_conditions() -> None:
    """A bucket-policy Deny whose condition moto cannot evaluate does not apply (moto: it always applies).

    moto evaluates only a few condition operators and treats every other condition as
    met, so the state bucket's "deny unless aws:SecureTransport" statement denied every
    request. Requests to AWS are TLS, so such a Deny would not apply there either.
    """
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.policy_conditions import CONDITION_OPERATIONS
    from moto.s3.models import FakeBucket

    def evaluable(statement: dict[str, Any]) -> bool:
        return all(operator in CONDITION_OPERATIONS for operator in statement.get("Condition", {}))

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy.decode())
        statements = policy.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        policy["Statement"] = [s for s in statements if s.get("Effect") != "Deny" or evaluable(s)]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def patch_parameter_source() -> None:
    """Parameters set through ModifyDBParameterGroup are `Source: user` (moto: no Source at all).

    The provider keeps only user-set parameters when it reads a group, so without a
    Source every plan wants to add `log_bin_trust_function_creators` again.
    """
    from moto.rds.models import DBParameterGroup

    original = DBParameterGroup.update_parameters

    def update_parameters(self: Any, new_parameters: Any) -> None:
        original(self, [{**parameter, "Source": "user"} for parameter in new_parameters])

    DBParameterGroup.update_parameters = update_parameters  # type: ignore[method-assign]


def patch_rotation_schedule() -> None:
    """RotateSecret keeps `ScheduleExpression` and `Duration` (moto: only AutomaticallyAfterDays).

    Without them every plan wants to set the database password's rotation window again.
    """
    from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

    original_rotate = SecretsManagerBackend.rotate_secret
    original_to_dict = FakeSecret.to_dict

    def rotate_secret(self: Any, secret_id: str, *args: Any, **kwargs: Any) -> Any:
        result = original_rotate(self, secret_id, *args, **kwargs)
        rules = kwargs.get("rotation_rules") or (args[2] if len(args) > 2 else None)
        if rules:
            secret = self.secrets[secret_id]
            secret.rotation_rules = dict(rules)
            secret.rotation_enabled = True
        return result

    def to_dict(self: Any) -> Any:
        result = original_to_dict(self)
        rules = getattr(self, "rotation_rules", None)
        if rules and "RotationRules" in result:
            result["RotationRules"] = {key: value for key, value in rules.items() if value}
        return result

    SecretsManagerBackend.rotate_secret = rotate_secret  # type: ignore[method-assign]
    FakeSecret.to_dict = to_dict  # type: ignore[method-assign]


def patch_instance_groups_from_network_interface() -> None:
    """An instance launched with a network-interface specification has that interface's groups.

    The provider sends the security groups inside `NetworkInterfaces` when it asks for a
    public address at launch; moto puts them on the interface only, so the instance
    reads back without groups and every plan wants to add them.
    """
    from moto.ec2.models.instances import Instance

    original = Instance.prep_nics

    def prep_nics(self: Any, nic_spec: Any, *args: Any, **kwargs: Any) -> None:
        original(self, nic_spec, *args, **kwargs)
        primary = self.nics.get(0)
        if not self.security_groups and primary is not None:
            self.security_groups = list(primary._group_set)

    Instance.prep_nics = prep_nics  # type: ignore[method-assign]


def patch_service_specific_credentials() -> None:
    """`ListServiceSpecificCredentials` answers (moto: NotImplementedError, an HTTP 500).

    Destroying an IAM user with `force_destroy` lists them; the provider retries the 500
    until it gives up, so every destroy of a stack with a user hangs for many minutes.
    Nobody creates such credentials here, so the list is empty.
    """
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

    def list_service_specific_credentials(self: Any) -> Any:
        self.backend.get_user(self._get_param("UserName"))  # NoSuchEntity for an unknown user
        return ActionResult({"ServiceSpecificCredentials": []})

    IamResponse.list_service_specific_credentials = list_service_specific_credentials  # type: ignore[attr-defined]


def patch_rule_referenced_group() -> None:
    """ModifySecurityGroupRules moves a rule to another `ReferencedGroupId` (moto: ignores it).

    Switching the API variant changes which security group the database admits (ECS tasks
    or the EC2 instance); the provider updates that rule in place, and moto kept the old
    group forever.
    """
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original = SecurityGroupBackend.modify_security_group_rules

    def modify_security_group_rules(self: Any, group_id: str, rules: dict[str, dict[str, Any]]) -> None:
        original(self, group_id, rules)
        group = self.get_security_group_by_name_or_id(group_id)
        for rule_id, new_rule in rules.items():
            referenced = new_rule.get("ReferencedGroupId")
            if referenced is not None:
                group.get_rule(rule_id).source_group = {"GroupId": referenced}

    SecurityGroupBackend.modify_security_group_rules = modify_security_group_rules  # type: ignore[method-assign]


def patch_cancel_managed_rotation() -> None:
    """CancelRotateSecret works on a secret whose rotation is managed, without a Lambda (moto: refuses).

    RDS-managed master secrets rotate without a Lambda; replacing or destroying the
    database removes the rotation schedule Terraform set, which cancels it first. moto
    demands a Lambda ARN for that (its error quotes the API reference's generic list).
    """
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.cancel_rotate_secret

    def cancel_rotate_secret(self: Any, secret_id: str) -> Any:
        secret = self.secrets[secret_id] if self._is_valid_identifier(secret_id) else None
        if secret is not None and not secret.rotation_lambda_arn and getattr(secret, "rotation_rules", None):
            secret.rotation_enabled = False
            return secret.to_short_dict()
        return original(self, secret_id)

    SecretsManagerBackend.cancel_rotate_secret = cancel_rotate_secret  # type: ignore[method-assign]


def patch_budget_subscribers() -> None:
    """`DescribeSubscribersForNotification` answers (moto: NotImplementedError, an HTTP 500).

    The provider reads every budget notification's subscribers after each apply and
    retries the 500 until it gives up. moto keeps the subscribers it was given; this
    returns them for the notification with the same type, operator and threshold.
    """
    import json

    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.responses import BudgetsResponse

    keys = ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")

    def describe_subscribers_for_notification(self: Any) -> str:
        budgets = self.backend.budgets[self._get_param("AccountId")]
        budget = budgets.get(self._get_param("BudgetName"))
        if budget is None:
            raise NotFoundException("Unable to get subscribers - the budget doesn't exist.")
        wanted = self._get_param("Notification")
        for notification in budget.notifications:
            if all(notification.details.get(key) == wanted.get(key) for key in keys):
                return json.dumps({"Subscribers": notification.subscribers})
        raise NotFoundException("Unable to get subscribers - the notification doesn't exist.")

    BudgetsResponse.describe_subscribers_for_notification = describe_subscribers_for_notification  # type: ignore[attr-defined]


def patch_budget_tags() -> None:
    """Budgets keep tags (moto: `ListTagsForResource`, `TagResource`, `UntagResource` are HTTP 500s).

    The provider tags every budget (the stacks' default tags) and reads them back after
    each apply; it retries the 500 until it gives up.
    """
    import json

    from moto.budgets.responses import BudgetsResponse

    tags: dict[str, dict[str, str]] = {}  # budget ARN -> tags (one emulator per account)

    def list_tags_for_resource(self: Any) -> str:
        found = tags.get(self._get_param("ResourceARN"), {})
        return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in sorted(found.items())]})

    def tag_resource(self: Any) -> str:
        added = {tag["Key"]: tag["Value"] for tag in self._get_param("ResourceTags", [])}
        tags.setdefault(self._get_param("ResourceARN"), {}).update(added)
        return "{}"

    def untag_resource(self: Any) -> str:
        for key in self._get_param("ResourceTagKeys", []):
            tags.get(self._get_param("ResourceARN"), {}).pop(key, None)
        return "{}"

    original_create = BudgetsResponse.create_budget

    def create_budget(self: Any) -> str:  # the provider tags a new budget in CreateBudget itself
        result = original_create(self)
        name = self._get_param("Budget")["BudgetName"]
        arn = f"arn:aws:budgets::{self._get_param('AccountId')}:budget/{name}"
        tags[arn] = {tag["Key"]: tag["Value"] for tag in self._get_param("ResourceTags", [])}
        return result

    BudgetsResponse.create_budget = create_budget  # type: ignore[method-assign]
    BudgetsResponse.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    BudgetsResponse.tag_resource = tag_resource  # type: ignore[attr-defined]
    BudgetsResponse.untag_resource = untag_resource  # type: ignore[attr-defined]


def patch_service_settings_on_create() -> None:
    """CreateService keeps the settings UpdateService keeps (moto: it drops them).

    moto's CreateService ignores `enableExecuteCommand`, `healthCheckGracePeriodSeconds`, `enableECSManagedTags` and
    `availabilityZoneRebalancing`, so the first plan after creating a service wants to change them.
    """
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service
    settings = ("enableExecuteCommand", "healthCheckGracePeriodSeconds", "enableECSManagedTags")

    def create_service(self: Any) -> Any:
        result = original(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        for name in (*settings, "availabilityZoneRebalancing"):
            if self._get_param(name) is not None:
                setattr(service, camelcase_to_underscores(name), self._get_param(name))
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]


def patch_referenced_rule_description() -> None:
    """A rule that references a security group reads back with its description (moto: only CIDR rules do)."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self: Any) -> str | None:
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(description)  # type: ignore[method-assign,assignment]


PATCHES = (
    *backups.PATCHES,
    patch_bucket_policy_conditions,
    patch_rule_referenced_group,
    patch_cancel_managed_rotation,
    patch_service_specific_credentials,
    patch_parameter_source,
    patch_rotation_schedule,
    patch_instance_groups_from_network_interface,
    patch_budget_subscribers,
    patch_budget_tags,
    patch_service_settings_on_create,
    patch_referenced_rule_description,
)
