"""Helpers to read synthesized Terraform JSON (plain dicts) in tests."""

from __future__ import annotations

import json
import re
from typing import Any

Stack = dict[str, Any]

# A reference inside ${...}: resource, data source, variable or local.
REFERENCE = re.compile(
    r"(?<![\w.\"-])(?:(data)\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)|(var|local)\.([A-Za-z_][\w-]*)"
    r"|([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*))"
)


def resources(stack: Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get(resource_type, {}))


def data_sources(stack: Stack, data_type: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("data", {}).get(data_type, {}))


def only(items: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The single (name, body) of a mapping; fails loudly when there are more or none."""
    assert len(items) == 1, f"expected exactly one, got {sorted(items)}"
    return next(iter(items.items()))


def ref(resource_type: str, name: str, attribute: str) -> str:
    """The interpolation Terraform JSON uses for a resource attribute."""
    return f"${{{resource_type}.{name}.{attribute}}}"


def data_ref(data_type: str, name: str, attribute: str) -> str:
    return f"${{data.{data_type}.{name}.{attribute}}}"


def policy_statements(stack: Stack, policy_json: str) -> list[dict[str, Any]]:
    """Statements of the aws_iam_policy_document that `policy_json` (`${data...json}`) points to."""
    match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}", policy_json)
    assert match, f"policy is not a reference to an aws_iam_policy_document: {policy_json}"
    return list(stack["data"]["aws_iam_policy_document"][match.group(1)]["statement"])


def named(stack: Stack, resource_type: str, name: str) -> tuple[str, dict[str, Any]]:
    """(logical id, body) of the one resource of `resource_type` whose `name` is `name`."""
    return only({key: body for key, body in resources(stack, resource_type).items() if body.get("name") == name})


def managed_policies_of(stack: Stack, role_name: str) -> list[str]:
    """The ARNs of the managed policies attached to the role named `role_name`, in order."""
    role_id, _ = named(stack, "aws_iam_role", role_name)
    return [
        attachment["policy_arn"]
        for attachment in resources(stack, "aws_iam_role_policy_attachment").values()
        if attachment["role"] == ref("aws_iam_role", role_id, "name")
    ]


def role_statements(stack: Stack, role_name: str) -> list[dict[str, Any]]:
    """Statements of the inline policy of the IAM role named `role_name`."""
    role_id, _ = named(stack, "aws_iam_role", role_name)
    (policy,) = [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == ref("aws_iam_role", role_id, "id")
    ]
    return policy_statements(stack, policy["policy"])


def group_statements(stack: Stack, policy_name: str) -> list[dict[str, Any]]:
    """Statements of the managed policy named `policy_name` (what a PolicyUser's group holds)."""
    _, policy = named(stack, "aws_iam_policy", policy_name)
    return policy_statements(stack, policy["policy"])


def interpolations(value: Any) -> list[str]:
    """The contents of every ${...} in a JSON value (nested braces included)."""
    found: list[str] = []
    if isinstance(value, dict):
        for item in value.values():
            found.extend(interpolations(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(interpolations(item))
    elif isinstance(value, str):
        start = value.find("${")
        while start != -1:
            depth, index = 0, start + 1
            while index < len(value):
                if value[index] == "{":
                    depth += 1
                elif value[index] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                index += 1
            found.append(value[start + 2 : index])
            start = value.find("${", index)
    return found


def dangling_references(stack: Stack) -> list[str]:
    """References in `stack` to resources, data sources, variables or locals it does not declare."""
    body = {key: value for key, value in stack.items() if key != "//"}
    declared_resources = {(kind, name) for kind, items in stack.get("resource", {}).items() for name in items}
    declared_data = {(kind, name) for kind, items in stack.get("data", {}).items() for name in items}
    declared = {"var": set(stack.get("variable", {})), "local": set(stack.get("locals", {}))}
    dangling = []
    for expression in interpolations(body):
        for match in REFERENCE.finditer(expression):
            data, data_type, data_name, scope, scoped_name, resource_type, resource_name = match.groups()
            if (
                (data and (data_type, data_name) not in declared_data)
                or (scope and scoped_name not in declared[scope])
                or (resource_type and (resource_type, resource_name) not in declared_resources)
            ):
                dangling.append(match.group(0))
    return dangling


def remote_state_reads(stack: Stack) -> list[tuple[str, str]]:
    """(state key, output name) for every `data.terraform_remote_state.X.outputs.Y` the stack uses."""
    remote = stack.get("data", {}).get("terraform_remote_state", {})
    reads = []
    for expression in interpolations({k: v for k, v in stack.items() if k != "//"}):
        for name, output in re.findall(r"data\.terraform_remote_state\.([\w-]+)\.outputs\.([\w-]+)", expression):
            reads.append((remote[name]["config"]["key"], output))
    return reads


REMOTE_OUTPUT = re.compile(r"\$\{data\.terraform_remote_state\.([\w-]+)\.outputs\.([\w-]+)\}")


def follow(stacks: dict[str, Stack], stack_name: str, value: str) -> tuple[str, str]:
    """Where a value really comes from: through a remote-state read to the producing stack's output.

    Returns (stack name, expression); values that are not remote-state reads come back as given.
    """
    match = REMOTE_OUTPUT.fullmatch(value)
    if not match:
        return stack_name, value
    remote_name, output = match.groups()
    key = stacks[stack_name]["data"]["terraform_remote_state"][remote_name]["config"]["key"]
    (producer,) = [
        name for name, stack in stacks.items() if stack["terraform"]["backend"].get("s3", {}).get("key") == key
    ]
    return producer, stacks[producer]["output"][output]["value"]


def body_of(stacks: dict[str, Stack], stack_name: str, expression: str) -> tuple[str, str, str, dict[str, Any]]:
    """(stack, type, name, body) of the resource an attribute expression like `${aws_x.y.id}` points to."""
    match = re.fullmatch(r"\$\{([a-z0-9_]+)\.([\w-]+)\.[\w.\[\]]+\}", expression)
    assert match, f"not a resource attribute reference: {expression}"
    resource_type, name = match.groups()
    return stack_name, resource_type, name, stacks[stack_name]["resource"][resource_type][name]


def subnet_tiers(stacks: dict[str, Stack], stack_name: str, subnets: str | list[str]) -> tuple[str, list[str]]:
    """(network stack, tier of each subnet) behind a subnet reference of another stack.

    Handles a list of remote subnet ids, one remote list (a network local), and
    `element(<remote list>, i)`.
    """
    values = subnets if isinstance(subnets, list) else [subnets]
    producers, tiers = set(), []
    for value in values:
        element = re.fullmatch(
            r"\$\{element\((data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+), (\d+)\)\}", value
        )
        producer, expression = follow(stacks, stack_name, f"${{{element.group(1)}}}" if element else value)
        producers.add(producer)
        refs = [expression]
        local = re.fullmatch(r"\$\{local\.([\w-]+)\}", expression)
        if local:
            refs = stacks[producer]["locals"][local.group(1)]
            if element:
                refs = [refs[int(element.group(2))]]
        for ref_ in refs:
            match = re.fullmatch(r"\$\{aws_subnet\.([\w-]+)\.id\}", ref_)
            assert match, ref_
            tiers.append(stacks[producer]["resource"]["aws_subnet"][match.group(1)]["tags"]["Tier"])
    (producer,) = producers
    return producer, tiers


def subnets_by_tier(stack: Stack) -> dict[str, dict[str, dict[str, Any]]]:
    """The stack's subnets grouped by their `Tier` tag (public, private, isolated)."""
    tiers: dict[str, dict[str, dict[str, Any]]] = {}
    for name, subnet in resources(stack, "aws_subnet").items():
        tiers.setdefault(subnet["tags"]["Tier"], {})[name] = subnet
    return tiers


def container_definition(stack: Stack) -> dict[str, Any]:
    """The one container of the stack's one ECS task definition."""
    _, task = only(resources(stack, "aws_ecs_task_definition"))
    (definition,) = json.loads(task["container_definitions"])
    return dict(definition)


def boot_script(stack: Stack) -> str:
    """The one instance's user data as bash will see it: Terraform's escapes undone, references left as written."""
    _, instance = only(resources(stack, "aws_instance"))
    return as_delivered(str(instance["user_data"]))


def as_delivered(user_data: str) -> str:
    """User data as written into Terraform JSON, as the instance gets it: `$${` and `%%{` back to `${` and `%{`."""
    return user_data.replace("$${", "${").replace("%%{", "%{")


def state_bucket(stack: Stack) -> tuple[str, dict[str, Any]]:
    """(logical id, body) of a state-<env> stack's state bucket (the stack also holds its access-log bucket)."""
    return only(
        {key: body for key, body in resources(stack, "aws_s3_bucket").items() if key.startswith("state-bucket")}
    )
