"""Physical names: the one place that knows the `LITTIL-<country>-<env>-...` convention."""

from __future__ import annotations

PROJECT = "LITTIL"


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


def environment_prefix(country: str, env: str) -> str:
    """`LITTIL-<country>-<env>`: what names made of several parts (alarm names) start with."""
    return "-".join((PROJECT, country, env))


def state_bucket_name(country: str, env: str, account_id: str) -> str:
    """Globally unique, DNS-compatible name of an environment's Terraform state bucket."""
    return physical_name(country, env, "terraform-state", account_id).lower()


def state_key(env: str, component: str) -> str:
    """Key of a stack's state object inside its environment's bucket."""
    return f"littil/{env}/{component}.tfstate"
