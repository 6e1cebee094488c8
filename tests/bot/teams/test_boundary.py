"""The botbuilder boundary: only bot/teams/ (the connector and the activity handler) may import the
Bot Framework SDK, so a port to the Microsoft 365 Agents SDK changes one folder."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BOT = ROOT / "bot"
BOUNDARY = BOT / "teams"
SDK = ("botbuilder", "botframework", "msrest", "msal")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_boundary_imports_the_bot_framework_sdk():
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if name.split(".")[0] in SDK)
        for path in sorted(BOT.rglob("*.py"))
        if BOUNDARY not in path.parents
    }

    assert {name: mods for name, mods in offenders.items() if mods} == {}
    for module in ("connector.py", "handler.py"):  # the rule above is not vacuous: these two do
        assert any(name.split(".")[0] == "botbuilder" for name in imported_modules(BOUNDARY / module)), module


def test_errors_pacing_commands_and_messages_need_nothing_else_of_ours():
    ours = ("intacct", "graph", "store", "poller", "cards", "observability", "settings", "app")
    for name in ("teams/errors.py", "pacing.py", "chat/commands.py", "messages.py"):
        imports = imported_modules(BOT / name)
        assert not [m for m in imports if m.split(".")[0] in ours], name
