"""lazy_provider: the app synthesizes byte-identically with and without it, loads only what it uses,
and steps aside (saying so once) for a package shape it does not know."""

from __future__ import annotations

import ast
import os
import subprocess
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
    # This session synthesized through the loader, the jsii runtime's Node process with its lazy index...
    assert LAZY_PROVIDER is not None
    assert LAZY_PROVIDER.fell_back is None
    assert str(lazy_provider.NODE_PRELOAD) in os.environ["NODE_OPTIONS"]
    # ...and loaded a small part of the package (the eager __init__ imports every one of them).
    package_file = sys.modules[lazy_provider.PACKAGE].__file__
    assert package_file is not None
    loaded = {name for name in sys.modules if name.startswith(f"{lazy_provider.PACKAGE}.")}
    available = {path.parent.name for path in Path(package_file).parent.glob("*/__init__.py")}
    assert len(available) > 2000
    assert len(loaded) < len(available) / 5, len(loaded)

    # The reference: the same environments, synthesized by the real CLI with the package's own
    # eager __init__ and main file (tests/conftest.py's cli_list_command turns both halves off).
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


def fake_node_package(root: Path, *, lazy_index: bool, name: str = "@cdktf/provider-aws") -> None:
    """node_modules/<name> shaped like the provider's: an eager main file, and its lazy index beside it."""
    lib = root / "node_modules" / name / "lib"
    lib.mkdir(parents=True)
    (lib.parent / "package.json").write_text(f'{{"name": "{name}", "main": "lib/index.js"}}')
    (lib / "index.js").write_text('exports.loaded = "eagerly";\n')
    if lazy_index:
        (lib / "lazy-index.js").write_text('exports.loaded = "lazily";\n')


def node_loads(root: Path, *, eager_variable: bool = False, other: str = "") -> subprocess.CompletedProcess[str]:
    """What `require("@cdktf/provider-aws")` (and the package `other`) load in a Node process started after
    `preload_in_node()`, as jsii's is."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NODE_OPTIONS", lazy_provider.DISABLE_VARIABLE)}
    lazy_provider.preload_in_node(environment)
    if eager_variable:
        environment[lazy_provider.DISABLE_VARIABLE] = "1"
    script = (
        'console.log(require("@cdktf/provider-aws").loaded, process.argv[1] ? require(process.argv[1]).loaded : "")'
    )
    return subprocess.run(
        ["node", "-e", script, other], cwd=root, env=environment, capture_output=True, text=True, timeout=60, check=True
    )


def test_node_loads_the_lazy_index_of_the_provider_package_and_nothing_else_changes(tmp_path: Path) -> None:
    fake_node_package(tmp_path, lazy_index=True)
    fake_node_package(tmp_path, lazy_index=True, name="@cdktf/provider-google")  # shaped alike, not ours
    done = node_loads(tmp_path, other="@cdktf/provider-google")
    assert done.stdout.split() == ["lazily", "eagerly"]
    assert done.stderr == ""


def test_node_loads_the_package_eagerly_without_a_lazy_index_saying_so_or_when_turned_off(tmp_path: Path) -> None:
    fake_node_package(tmp_path, lazy_index=False)
    without = node_loads(tmp_path)
    assert without.stdout.split()[0] == "eagerly"
    assert without.stderr.count("lazy_provider: @cdktf/provider-aws loaded eagerly: no lazy-index.js") == 1
    fake_node_package(tmp_path / "turned-off", lazy_index=True)
    turned_off = node_loads(tmp_path / "turned-off", eager_variable=True)
    assert turned_off.stdout.split()[0] == "eagerly"
    assert turned_off.stderr == ""


def test_the_node_preload_comes_after_an_operators_options_once() -> None:
    environment = {"NODE_OPTIONS": "--max-old-space-size=2048"}
    lazy_provider.preload_in_node(environment)
    lazy_provider.preload_in_node(environment)
    options = environment["NODE_OPTIONS"]
    assert options.startswith("--max-old-space-size=2048 --require ")
    assert options.count(str(lazy_provider.NODE_PRELOAD)) == 1
