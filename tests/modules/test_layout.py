"""tests/modules mirrors modules/: every module has its own test file, built on cdktf.Testing (alone.py)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "modules"
TESTS = REPO / "tests" / "modules"
# Modules that create nothing (pure functions), tested with plain assertions, and why.
PURE = {"naming.py": "turns (country, env, component, purpose) into strings; no construct to build"}


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
