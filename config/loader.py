"""Read `envs/*.hcl`, merge each environment onto `common.hcl`, validate.

Every problem becomes one `ConfigError` naming the file, the key path and what
was expected; `main.py` prints it and exits before anything is synthesized.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import hcl2
import lark

from config.model import AppConfig, DatabaseConfig, SharedEnvironment, WorkloadEnvironment
from config.rules import major_version

COMMON_FILE = "common.hcl"
SHARED_ENV = "shared"
PRODUCTION_ENV = "production"
MIN_PRODUCTION_BACKUP_DAYS = 7

_ENV_NAME = re.compile(r"[a-z][a-z0-9]{1,10}")
_HCL_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
_MISSING = object()

# Fargate memory (MiB) allowed for each CPU size.
_FARGATE_MEMORY = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
}

Path_ = tuple[str | int, ...]
T = TypeVar("T")


class ConfigError(Exception):
    """A problem in one env file, at one key path (shown relative to the working directory when inside it)."""

    def __init__(self, file: Path, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        self.shown = _shown(file)
        super().__init__(f"{self.shown}: {key}: {problem}" if key else f"{self.shown}: {problem}")


def _shown(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)


def load_config(envs_dir: Path) -> AppConfig:
    """Load and validate every environment in `envs_dir`."""
    if not envs_dir.is_dir():
        raise ConfigError(envs_dir, None, "environment directory not found")
    common_path = envs_dir / COMMON_FILE
    if not common_path.is_file():
        raise ConfigError(common_path, None, "file not found: it holds the defaults every environment starts from")
    common = _read_hcl(common_path)
    _reject_unknown_common_keys(common, common_path)

    for path in sorted(envs_dir.iterdir()):
        if path.suffix.lower() == ".hcl" and path.suffix != ".hcl":
            raise ConfigError(
                path, None, f"would be skipped: environment files end in lower-case .hcl ({path.stem}.hcl)"
            )
    shared: SharedEnvironment | None = None
    workloads: list[WorkloadEnvironment] = []
    accounts: dict[str, Path] = {}
    for env_path in sorted(envs_dir.glob("*.hcl")):
        if env_path.name == COMMON_FILE:
            continue
        name = env_path.stem
        if not _ENV_NAME.fullmatch(name):
            raise ConfigError(
                env_path,
                None,
                "environment file names must be 2-11 lower-case letters or digits (AWS name limits), e.g. staging.hcl",
            )
        sources = _Sources(common, common_path, _read_hcl(env_path), env_path)
        environment: SharedEnvironment | WorkloadEnvironment
        if name == SHARED_ENV:
            environment = shared = _load_environment(SharedEnvironment, name, sources)
        else:
            environment = workload = _load_environment(WorkloadEnvironment, name, sources)
            _check_workload(workload, sources)
            workloads.append(workload)
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
    return AppConfig(shared=shared, workloads=tuple(workloads))


def _read_hcl(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, None, f"cannot read file: {error}") from None
    if text.startswith("\ufeff"):
        raise ConfigError(path, None, "starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM")
    try:
        tree = hcl2.parses_to_tree(text)
    except lark.exceptions.UnexpectedInput as error:
        raise ConfigError(path, None, f"HCL syntax error at line {error.line}, column {error.column}") from None
    except lark.exceptions.LarkError as error:
        raise ConfigError(path, None, f"HCL syntax error: {str(error).splitlines()[0]}") from None
    _reject_repeated_keys(tree, (), path)
    parsed = hcl2.serialize(hcl2.transform(tree), serialization_options=_HCL_OPTIONS)
    normalized = _unwrap_blocks(parsed, (), path)
    assert isinstance(normalized, dict)
    return normalized


def _reject_repeated_keys(node: lark.Tree[Any], path: Path_, file: Path) -> None:
    """A key given twice in one block: HCL keeps the last one silently, so refuse it instead."""
    bodies = (
        [node] if node.data == "body" else [c for c in node.children if isinstance(c, lark.Tree) and c.data == "body"]
    )
    if not bodies:
        return  # an empty file
    (body,) = bodies
    seen: dict[str, int] = {}
    for child in body.children:
        if not isinstance(child, lark.Tree) or child.data not in ("attribute", "block"):
            continue
        token = child.children[0].children[0]
        name = str(token)
        if child.data == "block":
            inner = next(part for part in child.children if isinstance(part, lark.Tree) and part.data == "body")
            _reject_repeated_keys(inner, (*path, name), file)
        elif name in seen:
            line = getattr(token, "line", "?")
            raise ConfigError(
                file, _format_key((*path, name)), f"given twice (lines {seen[name]} and {line}); give it once"
            )
        else:
            seen[name] = getattr(token, "line", 0)


def _unwrap_blocks(value: Any, path: Path_, file: Path) -> Any:
    """python-hcl2 returns each block as a list of one dict; make it the dict."""
    if isinstance(value, dict):
        return {key: _unwrap_blocks(item, (*path, key), file) for key, item in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            if len(value) > 1:
                raise ConfigError(file, _format_key(path), f"block appears {len(value)} times; give it once")
            return _unwrap_blocks(value[0], path, file)
        return [_unwrap_blocks(item, (*path, index), file) for index, item in enumerate(value)]
    return value


def _reject_unknown_common_keys(common: dict[str, Any], common_path: Path) -> None:
    known = _field_names(SharedEnvironment) | _field_names(WorkloadEnvironment)
    for key in common:
        if key not in known:
            raise ConfigError(common_path, key, f"unknown key; expected one of {', '.join(sorted(known))}")


def _field_names(schema: type) -> set[str]:
    return {field.name for field in dataclasses.fields(schema)} - {"name"}


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

    def error(self, path: Path_, problem: str) -> ConfigError:
        """The error, at the file the value came from; a default from common.hcl also names the environment."""
        file = self.file_of(path)
        if file == self.common_path:
            problem = f"{problem} (the default {self.env_path.stem} inherits; override it in {_shown(self.env_path)})"
        return ConfigError(file, _format_key(path), problem)


def _has_path(tree: Any, path: Path_) -> bool:
    for part in path:
        in_dict = isinstance(part, str) and isinstance(tree, dict) and part in tree
        in_list = isinstance(part, int) and isinstance(tree, list) and part < len(tree)
        if in_dict or in_list:
            tree = tree[part]
        else:
            return False
    return True


def _format_key(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _load_environment(schema: type[T], name: str, sources: _Sources) -> T:
    """Merge the environment's file onto the common keys its schema knows, then convert."""
    allowed = _field_names(schema)
    for key in sources.overrides:
        if key not in allowed:
            raise ConfigError(
                sources.env_path, key, f"unknown key for this environment; expected one of {', '.join(sorted(allowed))}"
            )
    base = {key: value for key, value in sources.common.items() if key in allowed}
    return _build_dataclass(schema, _deep_merge(base, sources.overrides), (), sources, fixed={"name": name})


def _build_dataclass(
    schema: type[T], value: Any, path: Path_, sources: _Sources, fixed: dict[str, Any] | None = None
) -> T:
    if not isinstance(value, dict):
        raise sources.error(path, f"expected a block of settings, got {_show(value)}")
    fixed = fixed or {}
    hints = get_type_hints(schema, include_extras=True)
    names = {field.name for field in dataclasses.fields(schema)}  # type: ignore[arg-type]
    for key in value:
        if key not in names or key in fixed:
            allowed = ", ".join(sorted(names - fixed.keys()))
            raise sources.error((*path, key), f"unknown key; expected one of {allowed}")
    arguments = dict(fixed)
    for field in dataclasses.fields(schema):  # type: ignore[arg-type]
        if field.name not in fixed:
            arguments[field.name] = _convert(
                hints[field.name], value.get(field.name, _MISSING), (*path, field.name), sources
            )
    return schema(**arguments)


def _convert(annotation: Any, value: Any, path: Path_, sources: _Sources) -> Any:  # noqa: PLR0911 (one branch per type)
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *rules = get_args(annotation)
        converted = _convert(base, value, path, sources)
        for rule in rules:
            if converted is not None and (expected := rule(converted)) is not None:
                raise sources.error(path, f"expected {expected}, got {_show(value)}")
        return converted
    if origin in (Union, types.UnionType):
        options = [option for option in get_args(annotation) if option is not type(None)]
        if value is None or value is _MISSING:
            return None
        return _convert(options[0], value, path, sources)
    if value is _MISSING:
        raise sources.error(path, "required value is missing")
    if value is None:
        raise sources.error(path, "expected a value, got null")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise sources.error(path, f"expected true or false, got {_show(value)}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise sources.error(path, f"expected a whole number, got {_show(value)}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise sources.error(path, f"expected a string in quotes, got {_show(value)}")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        allowed = [member.value for member in annotation]
        if value in allowed:
            return annotation(value)
        raise sources.error(path, f"expected one of {', '.join(map(_show, allowed))}, got {_show(value)}")
    if origin is tuple:
        if not isinstance(value, list):
            raise sources.error(path, f"expected a list, got {_show(value)}")
        (item_type, _ellipsis) = get_args(annotation)
        return tuple(_convert(item_type, item, (*path, index), sources) for index, item in enumerate(value))
    if dataclasses.is_dataclass(annotation):
        return _build_dataclass(annotation, value, path, sources)  # type: ignore[arg-type]
    raise TypeError(f"config.model uses an annotation the loader does not handle: {annotation!r}")


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a block"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _check_restore(database: DatabaseConfig, sources: _Sources) -> None:
    """What RestoreDBInstanceFromDBSnapshot would refuse, said before anything is applied."""
    restore_keys = ("snapshot_engine_version", "snapshot_allocated_storage_gb")
    if database.snapshot_identifier is None:
        for key in restore_keys:
            if getattr(database, key) is not None:
                raise sources.error(("database", key), "only applies with database.snapshot_identifier")
        return
    for key in restore_keys:
        if getattr(database, key) is None:
            raise sources.error(
                ("database", "snapshot_identifier"),
                f"needs database.{key} too (aws rds describe-db-snapshots shows it)",
            )
    snapshot_version = database.snapshot_engine_version
    snapshot_storage = database.snapshot_allocated_storage_gb
    assert snapshot_version is not None
    assert snapshot_storage is not None
    if major_version(snapshot_version) != major_version(database.engine_version):
        raise sources.error(
            ("database", "engine_version"),
            f"RDS restores the snapshot at its engine version {snapshot_version} with a parameter group of that"
            f" major version, so engine_version must be {major_version(snapshot_version)}.x for the"
            " restore: upgrade the snapshot first (aws rds modify-db-snapshot --engine-version, docs/migration.md)"
            " or restore at the old version and upgrade afterwards with allow_major_version_upgrade",
        )
    if database.engine_version.count(".") == 2 and tuple(map(int, database.engine_version.split("."))) < tuple(
        map(int, snapshot_version.split("."))
    ):
        raise sources.error(
            ("database", "engine_version"),
            f"cannot be older than the snapshot's {snapshot_version} (RDS never downgrades)",
        )
    if database.allocated_storage_gb < snapshot_storage:
        raise sources.error(
            ("database", "allocated_storage_gb"),
            f"must be at least the snapshot's {snapshot_storage} GB (RDS cannot shrink storage)",
        )


def _check_workload(env: WorkloadEnvironment, sources: _Sources) -> None:
    """Rules that span several keys."""
    zones = env.network.availability_zones
    zones_path: Path_ = ("network", "availability_zones")
    if not 2 <= len(set(zones)) == len(zones) <= 4:
        raise sources.error(zones_path, "expected two to four different availability zones")
    for index, zone in enumerate(zones):
        if not zone.startswith(env.region):
            raise sources.error((*zones_path, index), f'expected a zone of region "{env.region}", got "{zone}"')

    database = env.database
    if database.max_allocated_storage_gb < database.allocated_storage_gb:
        raise sources.error(("database", "max_allocated_storage_gb"), "must be at least database.allocated_storage_gb")
    _check_restore(database, sources)
    if env.alarms.database_free_storage_gb >= database.allocated_storage_gb:
        raise sources.error(
            ("alarms", "database_free_storage_gb"),
            f"must be below database.allocated_storage_gb ({database.allocated_storage_gb}),"
            " or the alarm would fire on an empty database",
        )

    ecs = env.api.ecs
    if ecs.memory_mib not in _FARGATE_MEMORY[ecs.cpu]:
        allowed = _FARGATE_MEMORY[ecs.cpu]
        raise sources.error(
            ("api", "ecs", "memory_mib"),
            f"expected a Fargate memory size for cpu {ecs.cpu}: "
            f"{allowed.start} to {allowed.stop - 1} in steps of {allowed.step}",
        )

    if env.name == PRODUCTION_ENV and not env.production_grade:
        raise sources.error(("production_grade",), "production must be production-grade: set it to true")
    if env.production_grade:
        if not database.deletion_protection:
            raise sources.error(
                ("database", "deletion_protection"), "production_grade requires deletion protection: set it to true"
            )
        if database.backup_retention_days < MIN_PRODUCTION_BACKUP_DAYS:
            raise sources.error(
                ("database", "backup_retention_days"),
                f"production_grade requires at least {MIN_PRODUCTION_BACKUP_DAYS} days of backups, "
                f"got {database.backup_retention_days}",
            )
