"""The code's layout: tests/modules mirrors modules/ (each test built on cdktf.Testing, alone.py), files stay short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "modules"
TESTS = REPO / "tests" / "modules"
# Modules that create nothing (pure functions), tested with plain assertions, and why.
PURE = {
    "naming.py": "turns (country, env, component, purpose) into strings; no construct to build",
    "api/boot_script.py": "renders the instance's boot script from strings; its scripts are run, not synthesized",
    "observe/alarm_kinds.py": "data: each alarm's timing and guide text; the constructs that use it build alarms",
}


def test_every_module_has_its_own_test_file_built_alone() -> None:
    modules = sorted(path.relative_to(MODULES) for path in MODULES.rglob("*.py") if path.name != "__init__.py")
    missing, not_alone = [], []
    for module in modules:
        test_file = TESTS / module.parent / f"test_{module.name}"
        if not test_file.is_file():
            missing.append(str(module))
        elif str(module) not in PURE and "from tests.modules.alone import" not in test_file.read_text():
            not_alone.append(str(test_file.relative_to(REPO)))
    assert len(modules) > 20
    assert missing == []
    assert not_alone == []
    assert set(PURE) <= {str(module) for module in modules}


def test_no_source_file_is_longer_than_a_volunteer_reads_in_one_sitting() -> None:
    # 300 lines: past that, split the file where its seams are (tools/review/, tools/rehearse/, config/).
    lengths = {
        str(path.relative_to(REPO)): len(path.read_text().splitlines())
        for folder in ("config", "stacks", "modules", "tools")
        for path in python_files(REPO / folder)
    }
    assert len(lengths) > 60
    assert {path: lines for path, lines in lengths.items() if lines > 300} == {}


def python_files(folder: Path) -> list[Path]:
    """The .py files under `folder`, not descending into hidden folders (tools/checkov/.venv holds thousands)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        found += [Path(root) / name for name in files if name.endswith(".py")]
    return found


def test_modules_that_create_nothing_load_no_cdktf() -> None:
    """A pure module stays importable without CDKTF: make test-fast runs test_boot_script.py in the process that
    never starts it (Makefile)."""
    names = [f"modules.{module.removesuffix('.py').replace('/', '.')}" for module in PURE]
    probe = "import importlib, sys\n" + "".join(f"importlib.import_module({name!r})\n" for name in names)
    probe += "print(sorted({m.split('.')[0] for m in sys.modules} & {'cdktf', 'constructs', 'jsii'}))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert loaded.strip() == "[]", names
