"""The README (and docs/architecture.md) say what the code does: every command and flag they
name exists in `--help` and every flag in `--help` is documented; every metric they name is
served on /metrics, with the labels they use; every configuration key in the README's table is
one the settings read and .env.example documents."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

import app
from sandbox import create_sandbox_app
from settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = {name: (ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "docs/architecture.md")}
README = DOCS["README.md"]
INVOCATION = re.compile(r"`python app\.py ([a-z]+)([^`]*)`")
METRIC = re.compile(r"\b(mlc_[a-z_]+)(\{[^}]*\})?")


def subparsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser (routes' actions as `routes list`, `routes add`, …)."""
    parser = app.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = dict(commands.choices)
    (actions,) = [a for a in found["routes"]._actions if isinstance(a, argparse._SubParsersAction)]
    found.update({f"routes {name}": sub for name, sub in actions.choices.items()})
    return found


def flags_of(parser: argparse.ArgumentParser) -> set[str]:
    """The options its --help lists."""
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", parser.format_help())) - {"--help"}


def invocations(text: str) -> list[tuple[str, set[str]]]:
    """(command, flags) of every `python app.py …` in a text; `routes add` counts as its own command."""
    found = []
    for command, rest in INVOCATION.findall(text):
        action = re.match(r"\s+(list|add|remove|channels)\b", rest) if command == "routes" else None
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest))
        found.append((f"routes {action.group(1)}" if action else command, flags))
    return found


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_command_and_flag_the_docs_name_exists_in_help(doc):
    parsers = subparsers()
    problems = []
    for command, flags in invocations(DOCS[doc]):
        if command not in parsers:
            problems.append(f"{doc}: `python app.py {command}` is not a command")
            continue
        for flag in sorted(flags - flags_of(parsers[command])):
            problems.append(f"{doc}: `{command} {flag}` is not in `python app.py {command} --help`")
    assert problems == []


def test_the_readme_documents_every_command_and_flag():
    documented: dict[str, set[str]] = {}
    for command, flags in invocations(README):
        documented.setdefault(command, set()).update(flags)
    for command, parser in subparsers().items():
        if command == "routes":
            continue  # its actions are documented one by one
        assert command in documented, f"README does not show `python app.py {command}`"
        assert flags_of(parser) <= documented[command], f"README's `{command}` lacks {sorted(flags_of(parser) - documented[command])}"


async def test_every_metric_the_docs_name_is_served_on_metrics(tmp_path):
    gateway = TestServer(create_sandbox_app("demo", clock=app.utc_now, web_url=None))
    await gateway.start_server()
    settings = load_settings({
        "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
        "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass", "INTACCT_EVENTS_SECRET": "s" * 24,
        "INTACCT_ENDPOINT_URL": str(gateway.make_url("/ia/xml/xmlgw.phtml")), "DATA_DIR": str(tmp_path),
        "POLL_SCHEDULE": "0 0 1 1 *", "DIGEST_SCHEDULE": "0 0 1 1 *", "RECONCILE_SCHEDULE": "0 0 1 1 *",
        "REFERENCE_SCHEDULE": "0 0 1 1 *",
    })
    runtime = await app.build_runtime(settings)
    try:
        web_app, _ = await app.build_web_app(runtime)
        async with TestClient(TestServer(web_app)) as client:
            response = await client.get("/metrics")
            assert response.status == 200
            exposition = await response.text()
    finally:
        await runtime.close()
        await gateway.close()
    served = set(re.findall(r"^# TYPE (\S+) ", exposition, re.M)) | set(re.findall(r"^(mlc_[a-z_]+)", exposition, re.M))
    labels = {name: set(collector._labelnames) for name, collector in runtime.metrics.registry._names_to_collectors.items()}
    mentioned = {(doc, name, selector) for doc, text in DOCS.items() for name, selector in METRIC.findall(text)}
    assert mentioned, "the docs name no metric: the pattern is wrong"
    problems = []
    for doc, name, selector in sorted(mentioned):
        if name not in served:
            problems.append(f"{doc}: {name} is not on /metrics")
        for label in re.findall(r"(\w+)\s*=", selector):
            if label not in labels.get(name, set()):
                problems.append(f"{doc}: {name} has no label {label!r}")
    assert problems == []


def test_every_key_in_the_readme_configuration_table_is_read_and_documented():
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    keys = {k for row in section.splitlines() if row.startswith("| `") for k in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    example = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert keys and keys - example == set()
