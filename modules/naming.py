"""Physical names: the one place that knows the `LITTIL-<country>-<env>-...` convention."""

from __future__ import annotations

PROJECT = "LITTIL"
# The local and the output a stack writes while an account id it needs is still a placeholder (the output's
# precondition refuses every plan); the drift check reads them from the synthesized stacks.
PLACEHOLDERS_LOCAL = "placeholder-accounts"
PLACEHOLDERS_OUTPUT = "placeholder-account-ids"


def physical_name(country: str, env: str | None, *parts: str) -> str:
    """`LITTIL-<country>[-<env>]-<parts...>`, e.g. `LITTIL-NL-staging-littil-api-ECSExec-User`.

    `env` is None for names that are the same in every environment (the shared
    account's GitHub push role `LITTIL-NL-api-ecr-push`).
    """
    if not parts:
        raise ValueError("a physical name needs at least one part after the environment")
    words = (PROJECT, country, *([env] if env is not None else []), *parts)
    if any(not word or word != word.strip() or " " in word for word in words):
        raise ValueError(f"name parts must be non-empty and without spaces: {words!r}")
    return "-".join(words)


def copy_vault_name(country: str, env: str) -> str:
    """The shared account's vault that holds `env`'s copies: what the environment's backup plan copies into."""
    return physical_name(country, env, "db-copies")


def environment_prefix(country: str, env: str) -> str:
    """`LITTIL-<country>-<env>`: what names made of several parts (alarm names) start with."""
    return "-".join((PROJECT, country, env))


def state_bucket_name(country: str, env: str, account_id: str) -> str:
    """Globally unique, DNS-compatible name of an environment's Terraform state bucket.

    `account_id` may be a Terraform reference (the provider's own account): it is appended, not lower-cased.
    """
    return f"{physical_name(country, env, 'terraform-state').lower()}-{account_id}"


def state_access_log_bucket_name(country: str, env: str, account_id: str) -> str:
    """The bucket the state bucket's access logs go to: like the state bucket's name, `state-logs` for its purpose."""
    return f"{physical_name(country, env, 'state-logs').lower()}-{account_id}"


def state_key(env: str, component: str) -> str:
    """Key of a stack's state object inside its environment's bucket."""
    return f"littil/{env}/{component}.tfstate"


def plan_role_variable(env: str) -> str:
    """The GitHub repository variable that holds an environment's read-only plan role ARN (.github/workflows)."""
    return f"LITTIL_PLAN_ROLE_{env.upper()}"


def plan_environment(env: str) -> str:
    """The GitHub environment (with required reviewers) whose jobs may plan a production-grade account."""
    return f"plan-{env}"
