"""Read `envs/*.hcl`, merge each environment onto `common.hcl`, validate.

Every problem becomes one `ConfigError` naming the file, the key path and what
was expected; `main.py` prints it and exits before anything is synthesized.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from config import aws
from config.envfiles import ConfigError, Path_, format_key, read_hcl, reject_skipped_files, shown
from config.messages import explain, unknown_key
from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from config.settings import ApiVariant

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
    shared_sources: _Sources | None = None
    workloads: list[tuple[WorkloadEnvironment, _Sources]] = []
    accounts: dict[str, Path] = {}
    hosts: dict[str, Path] = {}
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
        sources = _Sources(common, common_path, read_hcl(env_path), env_path)
        environment: SharedEnvironment | WorkloadEnvironment
        if name == SHARED_ENV:
            environment = shared = _load_environment(SharedEnvironment, name, sources)
            shared_sources = sources
        else:
            environment = _load_environment(WorkloadEnvironment, name, sources)
            workloads.append((environment, sources))
            _claim_names(environment, sources, hosts)
        # Account-wide names (the GitHub OIDC provider, LITTIL-NL-api-ecs-redeploy, ...) exist once per account.
        other = accounts.setdefault(environment.account_id, env_path)
        if other != env_path:
            raise sources.error(
                ("account_id",),
                f"{environment.account_id} is also {other.stem}'s account;"
                " each environment needs an account of its own",
            )
    if shared is None:
        raise ConfigError(
            envs_dir / f"{SHARED_ENV}.hcl", None, "file not found: the shared (registry) account is required"
        )
    assert shared_sources is not None
    _registry_keeps_what_runs(shared, shared_sources, workloads)
    _origins_are_web_apps(workloads)
    return AppConfig(shared=shared, workloads=tuple(env for env, _ in workloads))


def _claim_names(env: WorkloadEnvironment, sources: _Sources, hosts: dict[str, Path]) -> None:
    """Each DNS name belongs to one environment: its certificate, mail identity and DNS records are made for it."""
    for key, host in (("domain", env.domain), ("domain", env.api_domain), ("mail_domain", env.effective_mail_domain)):
        other = hosts.setdefault(host, sources.env_path)
        if other != sources.env_path:
            raise sources.error(
                (key,),
                f"{host} is also {other.stem}'s (its domain, API host or mail domain): this environment would request"
                f" {other.stem}'s certificate, verify its mail identity and have its name pointed here",
            )


# Releases pushed before an environment moves to them: the registry keeps room for them beside what runs.
UNRUN_RELEASES = 5


def _registry_keeps_what_runs(
    shared: SharedEnvironment, shared_sources: _Sources, workloads: list[tuple[WorkloadEnvironment, _Sources]]
) -> None:
    """The registry's lifecycle never expires, and no push moves, an image an environment runs."""
    registry = shared.registry
    for env, _ in workloads:
        if env.api.image_tag in registry.api_mutable_tags:
            raise shared_sources.error(
                ("registry", "api_mutable_tags"),
                f'"{env.api.image_tag}" is the api.image_tag {env.name} runs: a push under a mutable tag would change'
                " what it runs; keep release tags immutable",
            )
    for component in ("api", "maintenance"):
        running = sorted({getattr(env, component).image_tag for env, _ in workloads})
        moving = registry.api_mutable_tags if component == "api" else ()
        least = len(running) + len(moving) + UNRUN_RELEASES
        if registry.tagged_images_to_keep < least:
            raise shared_sources.error(
                ("registry", "tagged_images_to_keep"),
                f"must be at least {least}: the environments run {len(running)} {component} image(s)"
                f" ({', '.join(running)}), {len(moving)} mutable tag(s) hold one each, and {UNRUN_RELEASES} releases"
                " may be pushed before an environment moves to them; fewer, and the lifecycle expires a running image",
            )


def _origins_are_web_apps(workloads: list[tuple[WorkloadEnvironment, _Sources]]) -> None:
    """A CORS origin is a web app's, never an environment's API host (its own or another's), and no other
    environment's."""
    api_hosts = {f"https://{env.api_domain}": env.name for env, _ in workloads}
    origins: dict[str, str] = {}
    for env, sources in workloads:
        first = origins.setdefault(env.cors_origin, env.name)
        if first != env.name:
            raise sources.error(
                ("cors_origin",),
                f"{env.cors_origin} is also {first}'s (copied from its file?): each environment's API answers its own"
                " web app, at an origin of its own",
            )
        owner = api_hosts.get(env.cors_origin)
        if owner is not None and owner != env.name:
            raise sources.error(
                ("cors_origin",),
                f"{env.cors_origin} is {owner}'s API, not a web app: browsers would refuse the calls of"
                f" {env.name}'s web app (give its origin, such as https://www.{env.domain})",
            )


def _reject_unknown_common_keys(common: dict[str, Any], common_path: Path) -> None:
    """A key of common.hcl that no environment knows, at any depth, named in common.hcl with the closest known one."""
    schemas: list[type[BaseModel]] = [SharedEnvironment, WorkloadEnvironment]
    _reject_unknown_keys(common, schemas, (), common_path)


def _reject_unknown_keys(tree: dict[str, Any], schemas: list[type[BaseModel]], path: Path_, file: Path) -> None:
    # The environment's name comes from its file's name, never from a key.
    known = set().union(*(set(schema.model_fields) for schema in schemas)) - ({"name"} if not path else set())
    for key, value in tree.items():
        if key not in known:
            raise ConfigError(file, format_key((*path, key)), unknown_key(key, known))
        blocks = [
            annotation
            for schema in schemas
            if key in schema.model_fields
            and isinstance(annotation := schema.model_fields[key].annotation, type)
            and issubclass(annotation, BaseModel)
        ]
        if isinstance(value, dict) and blocks:
            _reject_unknown_keys(value, blocks, (*path, key), file)


def _field_names(schema: type[BaseModel]) -> set[str]:
    return set(schema.model_fields) - {"name"}


def _deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Sources:
    """Says which file a key path came from, so errors name the right one."""

    def __init__(self, common: dict[str, Any], common_path: Path, overrides: dict[str, Any], env_path: Path) -> None:
        self.common, self.common_path = common, common_path
        self.overrides, self.env_path = overrides, env_path

    def file_of(self, path: Path_) -> Path:
        if _has_path(self.overrides, path) or not _has_path(self.common, path):
            return self.env_path
        return self.common_path

    def error(self, path: Path_, problem: str, *, wrong_anywhere: bool = False) -> ConfigError:
        """The error, at the file the value came from; a default from common.hcl also names the environment.

        `wrong_anywhere`: the value itself is wrong (not only for this environment), so the fix is the default.
        """
        file = self.file_of(path)
        env = self.env_path.stem
        if file == self.common_path and wrong_anywhere:
            problem = f"{problem} (a default: fix it here; {env} and every environment that keeps it inherit it)"
        elif file == self.common_path:
            problem = f"{problem} (the default {env} inherits; override it in {shown(self.env_path)})"
        return ConfigError(file, format_key(path), problem)


def _has_path(tree: Any, path: Path_) -> bool:
    for part in path:
        in_dict = isinstance(part, str) and isinstance(tree, dict) and part in tree
        in_list = isinstance(part, int) and isinstance(tree, list) and part < len(tree)
        if in_dict or in_list:
            tree = tree[part]
        else:
            return False
    return True


def _load_environment(schema: type[E], name: str, sources: _Sources) -> E:
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


def _no_setting_without_effect(env: WorkloadEnvironment, sources: _Sources) -> None:
    """A setting the environment's file gives that changes nothing here: of the other API variant, or of an alarm
    this variant or this instance never has. (common.hcl holds defaults for every variant; they are no mistake.)"""
    ec2 = env.api.variant is ApiVariant.EC2
    other = "ecs" if ec2 else "ec2"
    idle: list[Path_] = [("api", other, key) for key in sources.overrides.get("api", {}).get(other, {})]
    why: dict[Path_, str] = {
        path: f'only applies with api.variant = "{other}"; this environment runs "{env.api.variant}"' for path in idle
    }
    for key in ("http_5xx_per_5_minutes", "unhealthy_target_minutes") if ec2 else ("cpu_credit_balance",):
        why[("alarms", key)] = f"its alarm belongs to the other API variant; {env.api.variant} has none"
    if ec2 and env.api.ec2.instance_type.split(".")[0] not in aws.MAX_CPU_CREDITS:
        why[("alarms", "cpu_credit_balance")] = (
            f"{env.api.ec2.instance_type} is not burstable (t2, t3, t3a, t4g): it has no CPU credits to alarm on"
        )
    for path, problem in why.items():
        if _has_path(sources.overrides, path):
            raise ConfigError(sources.env_path, format_key(path), f"has no effect: {problem}; remove it")
