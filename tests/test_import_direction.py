"""Import direction (docs/architecture.md §2, docs/design.md): libraries and the Intacct emulator import
nothing of ours; arrows point one way; inside bot/ the chat side and the delivery side never import
each other, and botbuilder stays inside the boundary (bot/teams/)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"intacct", "sandbox", "graph", "store", "observability", "poller", "cards", "bot", "ops", "settings", "app"}
ALLOWED = {
    "intacct": set(),
    "sandbox": set(),  # the Intacct emulator stands alone: nothing of the client it is tested against
    "graph": set(),
    "store": set(),
    "observability": set(),
    "settings": {"poller"},  # only poller.schedules (below): one parser of schedule expressions
    "poller": {"intacct", "store", "observability"},
    "cards": {"intacct", "poller"},
    "bot": {"cards", "store", "poller", "graph", "intacct", "observability"},
    "ops": {"intacct", "graph", "store", "poller", "cards", "bot", "observability", "settings"},
}
# settings validates schedules with the very parser the scheduler runs (a leaf: stdlib + APScheduler).
SETTINGS_MAY_IMPORT = {"poller.schedules"}
# cards may only see record and event types, not the client or the poller's machinery.
CARDS_MAY_IMPORT = {
    "intacct.bills", "intacct.payments", "intacct.vendors", "intacct.dimensions", "intacct.company", "intacct.figures", "intacct.record_links",
    "poller.events",
}


# bot/ holds two halves and the boundary between them and Teams. Its own modules (directly in bot/:
# texts, the run-time context and what it holds, origins, pacing, waits) are shared by every part
# and import none of its folders. The chat side is plain Python answering plain values; the
# boundary hands it activities and invokes (so it may import the chat side) and sends for the
# delivery side; the delivery side and the wake-up intake build on the boundary. So no folder
# is imported by one it imports, and chat and delivery never see each other.
BOT_SHARED = "bot"
BOT_PARTS = {
    BOT_SHARED: set(),
    "bot.chat": set(),
    "bot.teams": {"bot.chat"},
    "bot.delivery": {"bot.teams"},
    "bot.wakeups": {"bot.teams"},
}
SDK = {"botbuilder", "botframework", "msrest"}
PLAIN_BOT_PARTS = {BOT_SHARED, "bot.chat", "bot.delivery"}  # neither the Bot Framework SDK nor aiohttp


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from intacct import bills` imports the module intacct.bills
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            names.update(submodules if node.module in OURS else {node.module})
    return names


def _modules(package: str):
    target = ROOT / package
    return [target.with_suffix(".py")] if (ROOT / f"{package}.py").is_file() else sorted(target.rglob("*.py"))


def test_packages_import_only_what_the_design_allows():
    problems = []
    for package, allowed in ALLOWED.items():
        for path in _modules(package):
            for name in _imports(path):
                top = name.split(".")[0]
                if top in OURS and top != package and top not in allowed:
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
                if package == "cards" and top in {"intacct", "poller"} and not any(
                    name == allowed_module or name.startswith(allowed_module + ".") for allowed_module in CARDS_MAY_IMPORT
                ):
                    problems.append(f"{path.relative_to(ROOT)} imports {name} (cards see record/event types only)")
                if package == "settings" and top in OURS and name not in SETTINGS_MAY_IMPORT:
                    problems.append(f"{path.relative_to(ROOT)} imports {name} (settings may use only the schedule parser)")
    assert problems == []


def _bot_part(module: str) -> str:
    """The part of bot/ a module belongs to: `bot.<folder>`, or `bot` for the shared modules."""
    parts = module.split(".")
    candidate = ".".join(parts[:2])
    return candidate if candidate in BOT_PARTS else BOT_SHARED


def _bot_modules():
    for path in _modules("bot"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield path, module.removesuffix(".__init__"), _bot_part(module)


def test_bot_parts_import_only_what_the_design_allows():
    assert {part for _, _, part in _bot_modules()} == set(BOT_PARTS), "a folder of bot/ has no rule (or a rule no folder)"
    problems = []
    for path, module, part in _bot_modules():
        for name in _imports(path):
            if name.split(".")[0] != "bot":
                continue
            target = _bot_part(name)
            if target != part and target != BOT_SHARED and target not in BOT_PARTS[part]:
                problems.append(f"{path.relative_to(ROOT)} ({part}) imports {name} ({target})")
            if part == BOT_SHARED and target != BOT_SHARED:
                problems.append(f"{path.relative_to(ROOT)} (shared by every part of bot/) imports {name}")
    assert problems == []


def test_the_chat_side_and_the_delivery_side_never_import_each_other():
    """The rule above implies it; stated on its own because it is the point of the layout."""
    crossings = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, _, part in _bot_modules()
        for name in _imports(path)
        if {part, _bot_part(name)} == {"bot.chat", "bot.delivery"}
    ]
    assert crossings == []


def test_botbuilder_is_touched_only_inside_the_boundary():
    offenders = [
        str(path.relative_to(ROOT))
        for package in ALLOWED
        for path in _modules(package)
        if not (package == "bot" and _bot_part(".".join(path.relative_to(ROOT).parts)) == "bot.teams")
        if any(n.split(".")[0] in SDK for n in _imports(path))
    ]
    assert offenders == []


def test_the_shared_modules_the_chat_side_and_the_delivery_side_are_plain_python():
    """No SDK and no web server: they answer and decide on plain values, testable without Teams."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, _, part in _bot_modules()
        if part in PLAIN_BOT_PARTS
        for name in _imports(path)
        if name.split(".")[0] in SDK | {"aiohttp"}
    ]
    assert offenders == []


def test_no_module_does_work_at_import_time_beyond_definitions():
    """Module bodies hold imports, definitions, constants and docstrings only."""
    allowed_nodes = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Expr, ast.If, ast.Try)
    problems = []
    for package in ALLOWED:
        for path in _modules(package):
            if "migrations" in path.parts:
                continue  # alembic's env.py runs when alembic loads it, by design
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if not isinstance(node, allowed_nodes):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} {type(node).__name__}")
                if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} runs an expression at import")
    assert problems == []


def test_every_module_has_a_docstring():
    missing = [
        str(path.relative_to(ROOT))
        for package in ALLOWED
        for path in _modules(package)
        if "migrations" not in path.parts and ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []


def test_the_schedule_parser_settings_uses_stays_a_leaf():
    names = {name.split(".")[0] for name in _imports(ROOT / "poller" / "schedules.py")}
    assert names & OURS == set()
