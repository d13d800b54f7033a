"""lazy_provider: the app synthesizes byte-identically with and without it, loads only what it uses,
and steps aside (saying so once) for a package shape it does not know."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import lazy_provider
from tests.conftest import LAZY_PROVIDER, REPO, CliRun

# What mypy checks (pyproject.toml), tests included.
MYPY_TREES = ("config", "modules", "stacks", "tests", "tools")


@pytest.mark.reads_cli_run
def test_the_app_synthesizes_byte_identically_without_the_eager_imports(synthesized: Path, cli_list: CliRun) -> None:
    # This session synthesized through the loader...
    assert LAZY_PROVIDER is not None
    assert LAZY_PROVIDER.fell_back is None
    # ...and loaded a small part of the package (the eager __init__ imports every one of them).
    package_file = sys.modules[lazy_provider.PACKAGE].__file__
    assert package_file is not None
    loaded = {name for name in sys.modules if name.startswith(f"{lazy_provider.PACKAGE}.")}
    available = {path.parent.name for path in Path(package_file).parent.glob("*/__init__.py")}
    assert len(available) > 2000
    assert len(loaded) < len(available) / 5, len(loaded)

    # The reference: the same environments, synthesized by the real CLI with the package's own
    # eager __init__ (tests/conftest.py's cli_list_command turns the loader off).
    assert cli_list.returncode == 0, cli_list.output[-2000:]
    assert "lazy_provider" not in cli_list.output
    reference = cli_list.outdir
    lazy_files = sorted(p.relative_to(synthesized) for p in synthesized.glob("stacks/*/cdk.tf.json"))
    eager_files = sorted(p.relative_to(reference) for p in reference.glob("stacks/*/cdk.tf.json"))
    assert lazy_files == eager_files
    assert lazy_files
    for relative in lazy_files:
        assert (synthesized / relative).read_bytes() == (reference / relative).read_bytes(), relative


def write_package(root: Path, name: str, init: str, submodules: list[str]) -> None:
    package = root / name
    (package / "_jsii").mkdir(parents=True)
    (package / "_jsii" / "__init__.py").write_text("ASSEMBLY_LOADED = True\n")
    for sub in submodules:
        (package / sub).mkdir()
        (package / sub / "__init__.py").write_text(f"from .._jsii import *\nNAME = {sub!r}\n")
    (package / "__init__.py").write_text(init)


GENERATED = '''"""A package shaped like the generated provider bindings."""
from ._jsii import *

__all__ = ["alpha", "beta", "gamma"]

from . import alpha
from . import beta
from . import gamma
'''


@pytest.fixture
def fake_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(lazy_provider.DISABLE_VARIABLE, raising=False)
    finders = list(sys.meta_path)
    yield tmp_path
    sys.meta_path[:] = finders
    for name in [name for name in sys.modules if name.startswith("fakeprovider")]:
        del sys.modules[name]


def test_submodules_load_on_first_use_and_attribute_access_still_works(fake_packages: Path) -> None:
    write_package(fake_packages, "fakeprovider_known", GENERATED, ["alpha", "beta", "gamma"])
    finder = lazy_provider.install("fakeprovider_known", min_eager_imports=3)
    assert finder is not None
    import fakeprovider_known  # type: ignore[import-not-found]

    assert finder.fell_back is None
    assert fakeprovider_known.ASSEMBLY_LOADED is True  # the rest of __init__ ran
    assert "fakeprovider_known.alpha" not in sys.modules
    from fakeprovider_known.beta import NAME  # type: ignore[import-not-found]

    assert NAME == "beta"
    assert "fakeprovider_known.gamma" not in sys.modules
    assert fakeprovider_known.gamma.NAME == "gamma"  # code written for the eager package keeps working
    with pytest.raises(AttributeError):
        _ = fakeprovider_known.delta


@pytest.mark.parametrize(
    ("init", "why"),
    [
        pytest.param(GENERATED.replace("from . import beta\n", ""), "2 eager submodule imports", id="too-few"),
        pytest.param(
            GENERATED.replace("from ._jsii import *\n", "") + "from ._jsii import *\n",
            "the jsii assembly is not imported before the submodules",
            id="assembly-after-submodules",
        ),
    ],
)
def test_an_unknown_package_shape_is_imported_eagerly_with_one_warning(
    fake_packages: Path, capsys: pytest.CaptureFixture[str], init: str, why: str
) -> None:
    write_package(fake_packages, "fakeprovider_changed", init, ["alpha", "beta", "gamma"])
    finder = lazy_provider.install("fakeprovider_changed", min_eager_imports=3)
    assert finder is not None
    import fakeprovider_changed  # type: ignore[import-not-found]  # noqa: F401

    assert finder.fell_back is not None
    assert why in finder.fell_back
    assert "fakeprovider_changed.alpha" in sys.modules  # the package's own eager imports ran
    assert capsys.readouterr().err.count("lazy_provider: fakeprovider_changed imported eagerly") == 1


def test_the_variable_turns_the_loader_off(fake_packages: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lazy_provider.DISABLE_VARIABLE, "1")
    assert lazy_provider.install("fakeprovider_off", min_eager_imports=3) is None
    assert not any(
        isinstance(f, lazy_provider.LazyPackageFinder) and f.package == "fakeprovider_off" for f in sys.meta_path
    )


def test_the_app_imports_provider_classes_from_their_submodules() -> None:
    """mypy skips the package's top level (pyproject.toml): a name taken from there would be unchecked `Any`."""
    checked = [REPO / "main.py", REPO / "lazy_provider.py"]
    for top in MYPY_TREES:
        for directory, subdirectories, files in os.walk(REPO / top):
            subdirectories[:] = [name for name in subdirectories if name != ".venv"]  # tools/checkov's own
            checked += [Path(directory) / name for name in files if name.endswith(".py")]
    top_level = []
    for path in checked:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                top_level += [
                    f"{path.relative_to(REPO)}: import {a.name}" for a in node.names if a.name == lazy_provider.PACKAGE
                ]
            elif isinstance(node, ast.ImportFrom) and node.module == lazy_provider.PACKAGE:
                top_level.append(f"{path.relative_to(REPO)}: from {node.module} import ...")
    assert len(checked) > 50
    assert top_level == []
