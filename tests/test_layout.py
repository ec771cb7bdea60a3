"""The package's shape: small modules and classes, one job each (import-linter checks the layers,
mypy the types; both run in the test command)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "schedsearch").rglob("*.py"), *(ROOT / "api").rglob("*.py")])


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n for p in SOURCES if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_no_class_over_200_lines() -> None:
    long = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef) or node.end_lineno is None:
                continue
            if (n := node.end_lineno - node.lineno + 1) > 200:
                long[f"{path.relative_to(ROOT)}:{node.name}"] = n
    assert long == {}


def test_every_layer_is_a_folder_with_its_docstring() -> None:
    """Each layer says what it owns where a reader lands first: its ``__init__``."""
    for layer in ("core", "store", "search", "engine", "worker", "reports"):
        init = ROOT / "schedsearch" / layer / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), layer
