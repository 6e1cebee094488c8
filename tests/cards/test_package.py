"""The cards package keeps its import direction, documents every public name, and pins the
card version in exactly one place."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CARDS = Path(__file__).resolve().parents[2] / "cards"
MODULES = sorted(CARDS.glob("*.py"))
# design.md: cards imports record types and poller.events, nothing else of ours.
ALLOWED_OURS = {"cards", "intacct.bills", "intacct.payments", "intacct.vendors", "intacct.dimensions", "intacct.company", "intacct.figures", "intacct.record_links", "poller.events",
               "intacct"}
OUR_PACKAGES = {"cards", "intacct", "poller", "store", "bot", "graph", "observability", "settings", "app"}
THIRD_PARTY = {"adaptivecards"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "intacct":  # `from intacct import bills` imports intacct.bills
                names.update(f"intacct.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_follow_the_design(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        if top in OUR_PACKAGES:
            assert name == "cards" or name.startswith("cards.") or name in ALLOWED_OURS, f"{path.name} imports {name}"
        else:
            assert top in sys.stdlib_module_names or top in THIRD_PARTY or top == "__future__", f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_module_and_public_name_has_a_docstring(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            assert ast.get_docstring(node), f"{path.name}: {node.name} has no docstring"
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                        assert ast.get_docstring(item), f"{path.name}: {node.name}.{item.name} has no docstring"


def test_the_card_version_is_written_in_one_place_only() -> None:
    hits = [p.name for p in MODULES if '"1.5"' in p.read_text(encoding="utf-8")]
    assert hits == ["elements.py"]
