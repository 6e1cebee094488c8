"""The manifest's compose extension (the bill search and Intacct link unfurling), through Microsoft's
v1.25 schema (tests/fixtures/schemas/teams-manifest-v1.25.schema.json)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.chat.invoke_values import SEARCH_COMMAND_ID, SEARCH_PARAMETER, manifest_compose_extensions
from ops.package import APP_PACKAGE, Publisher, build_manifest, link_domains, validate_manifest

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
PUBLISHER = Publisher(APP_ID, "Contoso Finance IT", "https://it.contoso.example/ap-bot", "https://it.contoso.example/privacy",
                      "https://it.contoso.example/terms", public_url="https://mlc.contoso.example")


@pytest.fixture
def official_schema(fixtures_dir):
    return fixtures_dir / "schemas/teams-manifest-v1.25.schema.json"


def test_the_package_declares_the_bill_search_and_intacct_links_for_the_bot(official_schema):
    manifest = build_manifest(replace(PUBLISHER, intacct_web_urls=("https://www.intacct.com",)))

    assert validate_manifest(manifest, schema_file=official_schema) == []
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"] == APP_ID  # Universal Actions in results need the same bot
    [command] = extension["commands"]
    assert (command["id"], command["type"], [p["name"] for p in command["parameters"]]) == (SEARCH_COMMAND_ID, "query", [SEARCH_PARAMETER])
    assert extension["messageHandlers"] == [{"type": "link", "value": {"domains": ["*.intacct.com"]}}]
    assert {"team", "groupChat"} <= set(manifest["bots"][0]["scopes"])


def test_a_configured_web_host_outside_intacct_com_is_added_once(official_schema):
    manifest = build_manifest(replace(PUBLISHER, intacct_web_urls=("https://intacct.acme.example", "https://intacct.acme.example/",
                                                                   "https://www-p02.intacct.com")))

    assert manifest["composeExtensions"][0]["messageHandlers"][0]["value"]["domains"] == ["*.intacct.com", "intacct.acme.example"]
    assert validate_manifest(manifest, schema_file=official_schema) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8090", "http://localhost:8090", "http://[::1]:8090"])
def test_loopback_hosts_are_never_declared(url):
    assert link_domains((url,)) == ["*.intacct.com"]


def test_the_committed_template_carries_the_same_compose_extension(official_schema):
    manifest = json.loads((APP_PACKAGE / "manifest.json").read_text(encoding="utf-8"))

    assert validate_manifest(manifest, schema_file=official_schema) == []
    assert manifest["composeExtensions"] == manifest_compose_extensions(manifest["bots"][0]["botId"], ["*.intacct.com"])


def test_the_schema_refuses_what_teams_would(official_schema):
    manifest = build_manifest(PUBLISHER)
    manifest["composeExtensions"][0]["commands"][0]["title"] = "x" * 33  # titles are at most 32 characters
    manifest["composeExtensions"].append(dict(manifest["composeExtensions"][0]))  # one compose extension per app

    problems = validate_manifest(manifest, schema_file=official_schema)

    assert any("composeExtensions/0/commands/0/title" in p for p in problems)
    assert any(p.startswith("composeExtensions:") for p in problems)
