"""Import the AWS provider bindings without importing all of them.

`cdktf_cdktf_provider_aws/__init__.py` ends with one `from . import <resource>` line per
resource and data source, about 2,200 of them, so `import cdktf_cdktf_provider_aws.instance`
executes every module of the package first; the app uses about 120. `install()` puts a
finder in front of Python's own that executes the package's `__init__` without those lines
and changes nothing else: the jsii assembly loads as before, a submodule is imported the
first time something imports it (`from cdktf_cdktf_provider_aws.instance import Instance`,
as Python does for any package), and `cdktf_cdktf_provider_aws.<name>` imports it on first
attribute access (PEP 562), so code written for the eager package keeps working.

The jsii runtime's Node process does the same on its side: the package's main file requires
every resource module too, and `install()` has Node preload lazy_provider.js, which loads the
lazy index the package ships beside it instead (about 4 s of every synthesis).

If the installed package does not have that shape (a provider upgrade changed it), the
finder says so once on stderr and steps aside: the package is imported the normal way.
`LITTIL_EAGER_PROVIDER=1` turns both halves off. Types are untouched: mypy reads the real
submodules (it skips only the package's top level, see pyproject.toml).
tests/test_lazy_provider.py proves the output is byte-identical either way.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import re
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "cdktf_cdktf_provider_aws"
DISABLE_VARIABLE = "LITTIL_EAGER_PROVIDER"
# The Node half, for the jsii runtime's process (it inherits this process's environment).
NODE_PRELOAD = Path(__file__).resolve().with_name("lazy_provider.js")
# One eager import per line, exactly as the generated package writes them.
EAGER_IMPORT = re.compile(r"^from \. import (\w+)\n", re.MULTILINE)
# What must come before them: the jsii assembly (every submodule needs it loaded).
ASSEMBLY_IMPORT = "from ._jsii import *\n"
# Fewer eager imports than this is not the package this loader was written for.
MIN_EAGER_IMPORTS = 1000


class UnexpectedShape(Exception):
    """The package's `__init__` is not the generated one this loader knows."""


def lazy_source(source: str, package_dir: Path, *, min_eager_imports: int = MIN_EAGER_IMPORTS) -> tuple[str, list[str]]:
    """The package's `__init__` without its eager submodule imports, and the submodules they named."""
    names = EAGER_IMPORT.findall(source)
    if len(names) < min_eager_imports:
        raise UnexpectedShape(f"{len(names)} eager submodule imports, expected at least {min_eager_imports}")
    if ASSEMBLY_IMPORT not in source or source.index(ASSEMBLY_IMPORT) > source.index(f"from . import {names[0]}\n"):
        raise UnexpectedShape("the jsii assembly is not imported before the submodules")
    missing = [name for name in names if not (package_dir / name / "__init__.py").is_file()]
    if missing:
        raise UnexpectedShape(f"eager imports of what is not a subpackage: {', '.join(missing[:3])}")
    return EAGER_IMPORT.sub("", source), names


class _LazyPackageLoader(importlib.abc.Loader):
    """Executes the shortened `__init__` and gives the package a `__getattr__` for its submodules."""

    def __init__(self, name: str, origin: str, source: str, submodules: Sequence[str]) -> None:
        self.name, self.origin, self.source, self.submodules = name, origin, source, frozenset(submodules)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.source, self.origin, "exec"), module.__dict__)
        name, submodules = self.name, self.submodules

        def __getattr__(attribute: str) -> Any:
            if attribute in submodules:
                return importlib.import_module(f"{name}.{attribute}")
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

        # The package ends with `publication.publish()`, which puts a new module holding only `__all__`
        # in sys.modules: that one is what importers get, so it needs the hook too.
        for published in {module, sys.modules[name]}:
            published.__getattr__ = __getattr__  # type: ignore[method-assign]


class LazyPackageFinder(importlib.abc.MetaPathFinder):
    """Finds `package` the normal way, then hands it to `_LazyPackageLoader` if its shape is known."""

    def __init__(self, package: str = PACKAGE, *, min_eager_imports: int = MIN_EAGER_IMPORTS) -> None:
        self.package, self.min_eager_imports = package, min_eager_imports
        self.fell_back: str | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.package:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.submodule_search_locations:
            return spec
        origin = Path(spec.origin)
        try:
            source, names = lazy_source(
                origin.read_text(encoding="utf-8"), origin.parent, min_eager_imports=self.min_eager_imports
            )
        except (OSError, UnexpectedShape) as problem:
            self.fell_back = str(problem)
            print(f"lazy_provider: {fullname} imported eagerly: {problem}", file=sys.stderr)
            return spec
        spec.loader = _LazyPackageLoader(fullname, str(origin), source, names)
        return spec


def install(package: str = PACKAGE, *, min_eager_imports: int = MIN_EAGER_IMPORTS) -> LazyPackageFinder | None:
    """Load `package` lazily from now on (call before anything imports it); None when turned off or too late."""
    if os.environ.get(DISABLE_VARIABLE) == "1" or package in sys.modules:
        return None
    for finder in sys.meta_path:
        if isinstance(finder, LazyPackageFinder) and finder.package == package:
            return finder
    if package == PACKAGE:
        preload_in_node()
    finder = LazyPackageFinder(package, min_eager_imports=min_eager_imports)
    sys.meta_path.insert(0, finder)
    return finder


def preload_in_node(environ: MutableMapping[str, str] = os.environ) -> None:
    """Have every Node process started from here on preload lazy_provider.js, after any options already set.

    The jsii runtime starts its Node process at the first import of a jsii package (cdktf, constructs), so
    this must come before that. Other Node processes (the CDKTF CLI) preload it too and are not changed by
    it: it acts only on the resolution of the provider package.
    """
    option = f"--require {json.dumps(str(NODE_PRELOAD), ensure_ascii=False)}"
    current = environ.get("NODE_OPTIONS", "")
    if option not in current:
        environ["NODE_OPTIONS"] = f"{current} {option}".strip()
