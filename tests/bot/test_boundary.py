"""The botbuilder boundary: only bot/connector.py (and the future activity handler) may import the
Bot Framework SDK, so a port to the Microsoft 365 Agents SDK changes one place."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
SDK = ("botbuilder", "botframework", "msrest", "msal")
ALLOWED = {"connector.py", "handler.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_connector_imports_the_bot_framework_sdk():
    offenders = {
        path.name: sorted(name for name in imported_modules(path) if name.split(".")[0] in SDK)
        for path in sorted(BOT.glob("*.py"))
        if path.name not in ALLOWED
    }

    assert {name: mods for name, mods in offenders.items() if mods} == {}
    assert any(name.split(".")[0] == "botbuilder" for name in imported_modules(BOT / "connector.py"))


def test_errors_pacing_commands_and_messages_need_nothing_else_of_ours():
    ours = ("intacct", "graph", "store", "poller", "cards", "observability", "settings", "app")
    for name in ("errors.py", "pacing.py", "commands.py", "messages.py"):
        imports = imported_modules(BOT / name)
        assert not [m for m in imports if m.split(".")[0] in ours], name
