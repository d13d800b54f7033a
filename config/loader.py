"""Read `envs/*.hcl`, merge each environment onto `common.hcl`, validate.

Every problem becomes one `ConfigError` naming the file, the key path and what
was expected; `main.py` prints it and exits before anything is synthesized.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from config import across, aws
from config.checks import OnlyWith, markers
from config.envfiles import ConfigError, Path_, format_key, read_hcl, reject_skipped_files
from config.messages import explain, unknown_key
from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from config.settings import ApiVariant
from config.sources import Sources, has_path

__all__ = ["ConfigError", "load_config"]

COMMON_FILE = "common.hcl"
SHARED_ENV = "shared"

_ENV_NAME = re.compile(r"[a-z][a-z0-9]{1,10}")
# Keys each environment's own file gives, never common.hcl (its comment lists them): missing, the file is to blame.
PER_ENVIRONMENT_KEYS = frozenset({"account_id", "domain", "cors_origin"})

E = TypeVar("E", SharedEnvironment, WorkloadEnvironment)


def load_config(envs_dir: Path) -> AppConfig:
    """Load and validate every environment in `envs_dir`."""
    if not envs_dir.is_dir():
        raise ConfigError(envs_dir, None, "environment directory not found")
    common_path = envs_dir / COMMON_FILE
    if not common_path.is_file():
        raise ConfigError(common_path, None, "file not found: it holds the defaults every environment starts from")
    common = read_hcl(common_path)
    _reject_unknown_common_keys(common, common_path)

    reject_skipped_files(envs_dir)
    shared: SharedEnvironment | None = None
    shared_sources: Sources | None = None
    workloads: list[tuple[WorkloadEnvironment, Sources]] = []
    accounts: dict[str, across.Claim] = {}
    hosts: dict[str, across.Claim] = {}
    for env_path in sorted(envs_dir.glob("*.hcl")):
        if env_path.name == COMMON_FILE or env_path.name.startswith("."):  # hidden: editors' and systems' own files
            continue
        name = env_path.stem
        if name.startswith(COMMON_FILE.removesuffix(".hcl")):
            raise ConfigError(
                env_path,
                None,
                f"is not an environment, and only {COMMON_FILE} holds defaults: a copy of {COMMON_FILE} would be"
                " deployed as an environment of this name; move it out of envs/",
            )
        if not _ENV_NAME.fullmatch(name):
            raise ConfigError(
                env_path,
                None,
                "environment file names must be 2-11 lower-case letters or digits (AWS name limits), e.g. staging.hcl",
            )
        sources = Sources(common, common_path, read_hcl(env_path), env_path)
        environment: SharedEnvironment | WorkloadEnvironment
        if name == SHARED_ENV:
            environment = shared = _load_environment(SharedEnvironment, name, sources)
            shared_sources = sources
        else:
            environment = _load_environment(WorkloadEnvironment, name, sources)
            workloads.append((environment, sources))
            across.claim_names(environment, sources, hosts)
        across.claim_account(environment, sources, accounts)
    if shared is None:
        raise ConfigError(
            envs_dir / f"{SHARED_ENV}.hcl", None, "file not found: the shared (registry) account is required"
        )
    assert shared_sources is not None
    across.registry_keeps_what_runs(shared, shared_sources, workloads)
    across.one_spelling_per_github_name(common, [(shared, shared_sources), *workloads])
    across.origins_are_web_apps(workloads)
    return AppConfig(shared=shared, workloads=tuple(env for env, _ in workloads))


def _reject_unknown_common_keys(common: dict[str, Any], common_path: Path) -> None:
    """A key of common.hcl that no environment knows, at any depth, named in common.hcl with the closest known one."""
    schemas: list[type[BaseModel]] = [SharedEnvironment, WorkloadEnvironment]
    _reject_unknown_keys(common, schemas, (), common_path)


def _reject_unknown_keys(tree: dict[str, Any], schemas: list[type[BaseModel]], path: Path_, file: Path) -> None:
    # The environment's name comes from its file's name, never from a key.
    known = set().union(*(_fields(schema) for schema in schemas)) - ({"name"} if not path else set())
    for key, value in tree.items():
        if key not in known:
            raise ConfigError(file, format_key((*path, key)), unknown_key(key, known))
        blocks = [block for schema in schemas if (block := _fields(schema).get(key)) is not None]
        if isinstance(value, dict) and blocks:
            _reject_unknown_keys(value, blocks, (*path, key), file)


@functools.cache
def _fields(schema: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Each field of `schema`, with the model of its block (None for a value): asked for every key of every load."""
    return {name: _block_model(field.annotation) for name, field in schema.model_fields.items()}


def _field_names(schema: type[BaseModel]) -> set[str]:
    return set(_fields(schema)) - {"name"}


def _deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_environment(schema: type[E], name: str, sources: Sources) -> E:
    """Merge the environment's file onto the common keys its schema knows, then validate."""
    allowed = _field_names(schema)
    for key in sources.overrides:
        if key not in allowed:
            problem = unknown_key(key, allowed).replace("unknown key", "unknown key for this environment")
            raise ConfigError(sources.env_path, key, problem)
    base = {key: value for key, value in sources.common.items() if key in allowed}
    try:
        environment = schema.model_validate({**_deep_merge(base, sources.overrides), "name": name})
    except ValidationError as error:
        first = error.errors()[0]
        path, problem = explain(first, schema)
        if first["type"] == "missing" and path[0] not in PER_ENVIRONMENT_KEYS:
            # A default every environment needs, gone from common.hcl (deleted, or its key misspelt there).
            raise ConfigError(
                sources.common_path,
                format_key(path),
                f"required value is missing: {COMMON_FILE} holds every environment's default for it (deleted, or"
                " misspelt?); add it back here",
            ) from None
        raise sources.error(path, problem, wrong_anywhere=first["type"] != "littil_refusal") from None
    if isinstance(environment, WorkloadEnvironment):
        _no_setting_without_effect(environment, sources)
    return environment


def _no_setting_without_effect(env: WorkloadEnvironment, sources: Sources) -> None:
    """A setting the environment's file gives that changes nothing here: one marked for the other API variant
    (`OnlyWith`), or a CPU-credit alarm of an instance that has no credits. (common.hcl holds defaults for every
    variant; they are no mistake.)"""
    variant = env.api.variant
    other = ApiVariant.EC2 if variant is ApiVariant.ECS else ApiVariant.ECS
    for path in _settings_of_another_variant(WorkloadEnvironment, sources.overrides, variant):
        raise ConfigError(
            sources.env_path,
            format_key(path),
            f'has no effect: only applies with api.variant = "{other}"; this environment runs "{variant}"; remove it',
        )
    instance_type = env.api.ec2.instance_type
    credits_given = has_path(sources.overrides, ("alarms", "cpu_credit_balance"))
    if variant is ApiVariant.EC2 and credits_given and not aws.is_burstable(instance_type):
        raise ConfigError(
            sources.env_path,
            "alarms.cpu_credit_balance",
            f"has no effect: {instance_type} is not burstable (t2, t3, t3a, t4g): it has no CPU credits to alarm on;"
            " remove it",
        )


def _settings_of_another_variant(
    schema: type[BaseModel], given: dict[str, Any], variant: str, path: Path_ = ()
) -> list[Path_]:
    """The paths in `given` (an env file's settings) of fields marked `OnlyWith` another variant (a block: each key)."""
    found: list[Path_] = []
    for key, value in given.items():
        field = schema.model_fields.get(key)
        if field is None:
            continue
        block = _fields(schema)[key]
        if any(marker.variant != variant for marker in markers(field.metadata, OnlyWith)):
            found += [(*path, key, inner) for inner in value] if isinstance(value, dict) else [(*path, key)]
        elif isinstance(value, dict) and block is not None:
            found += _settings_of_another_variant(block, value, variant, (*path, key))
    return found


def _block_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a block field (`api: ApiConfig`), or None for a value."""
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
