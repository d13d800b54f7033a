"""Which file a setting of an environment came from: its own file, or common.hcl's default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.envfiles import ConfigError, Path_, format_key, shown


class Sources:
    """Says which file a key path came from, so errors name the right one."""

    def __init__(self, common: dict[str, Any], common_path: Path, overrides: dict[str, Any], env_path: Path) -> None:
        self.common, self.common_path = common, common_path
        self.overrides, self.env_path, self.name = overrides, env_path, env_path.stem

    def file_of(self, path: Path_) -> Path:
        if has_path(self.overrides, path) or not has_path(self.common, path):
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


def has_path(tree: Any, path: Path_) -> bool:
    for part in path:
        in_dict = isinstance(part, str) and isinstance(tree, dict) and part in tree
        in_list = isinstance(part, int) and isinstance(tree, list) and part < len(tree)
        if in_dict or in_list:
            tree = tree[part]
        else:
            return False
    return True
