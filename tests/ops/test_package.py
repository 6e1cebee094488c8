"""The Teams app package: manifest valid against the official v1.25 schema, icons, zip layout."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import pytest

from bot.chat.commands import manifest_command_lists
from ops.package import (APP_PACKAGE, SCHEMA_FILE, PackageSettingsError, Publisher, build_manifest, png_facts,
                         validate_icons, validate_manifest, write_package)

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
PUBLISHER = Publisher(APP_ID, "Contoso Finance IT", "https://it.contoso.example/ap-bot", "https://it.contoso.example/privacy",
                      "https://it.contoso.example/terms", public_url="https://mlc.contoso.example")


def test_the_shipped_schema_is_the_official_one(fixtures_dir):
    assert SCHEMA_FILE.read_bytes() == (fixtures_dir / "schemas/teams-manifest-v1.25.schema.json").read_bytes()


def test_committed_manifest_is_valid_and_lists_the_commands(fixtures_dir):
    manifest = json.loads((APP_PACKAGE / "manifest.json").read_text())
    assert validate_manifest(manifest, schema_file=fixtures_dir / "schemas/teams-manifest-v1.25.schema.json") == []
    assert manifest["manifestVersion"] == "1.25"
    assert manifest["bots"][0]["commandLists"] == manifest_command_lists()
    assert not manifest["bots"][0]["isNotificationOnly"], "people type commands"


def test_package_has_the_real_app_id_publisher_and_domain_and_files_at_the_zip_root(tmp_path, fixtures_dir):
    path = write_package(PUBLISHER, output=tmp_path / "ml-connector.zip")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"] == {"name": "Contoso Finance IT", "websiteUrl": "https://it.contoso.example/ap-bot",
                                     "privacyUrl": "https://it.contoso.example/privacy", "termsOfUseUrl": "https://it.contoso.example/terms"}
    assert manifest["validDomains"] == ["mlc.contoso.example"]
    assert validate_manifest(manifest, schema_file=fixtures_dir / "schemas/teams-manifest-v1.25.schema.json") == []


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "12345"])
def test_package_refuses_without_a_real_app_id(app_id, tmp_path):
    with pytest.raises(PackageSettingsError, match="APP_ID"):
        write_package(replace(PUBLISHER, app_id=app_id), output=tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_package_names_each_missing_publisher_setting(tmp_path):
    with pytest.raises(PackageSettingsError) as info:
        write_package(replace(PUBLISHER, developer="", privacy_url=""), output=tmp_path / "x.zip")
    assert [p.split(" ")[0] for p in info.value.problems] == ["TEAMS_APP_DEVELOPER", "TEAMS_APP_PRIVACY_URL"]
    assert not (tmp_path / "x.zip").exists()


def test_without_a_public_url_no_domain_is_listed():
    assert build_manifest(replace(PUBLISHER, public_url=""))["validDomains"] == []


def test_an_invalid_manifest_is_refused_before_writing(tmp_path):
    manifest = build_manifest(PUBLISHER)
    manifest["name"]["short"] = "x" * 31
    manifest["bots"][0]["scopes"] = ["channel"]
    problems = validate_manifest(manifest)
    assert any("name/short" in p for p in problems) and any("scopes" in p for p in problems)


def test_icons_follow_teams_rules(tmp_path):
    assert validate_icons() == []
    assert png_facts((APP_PACKAGE / "color.png").read_bytes())[:2] == (192, 192)
    width, height, transparent = png_facts((APP_PACKAGE / "outline.png").read_bytes())
    assert (width, height, transparent) == (32, 32, True)
    (tmp_path / "manifest.json").write_text((APP_PACKAGE / "manifest.json").read_text())
    (tmp_path / "color.png").write_bytes((APP_PACKAGE / "outline.png").read_bytes())  # wrong size
    problems = validate_icons(tmp_path)
    assert "color.png must be 192×192 pixels (is 32×32)" in problems and "outline.png is missing" in problems


def test_outline_icon_is_white_only():
    from ops.package import _unfilter
    import struct
    import zlib

    data = (APP_PACKAGE / "outline.png").read_bytes()
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    rows = _unfilter(zlib.decompress(b"".join(chunks)), 32, 32, bpp=4)
    assert all(row[x * 4:x * 4 + 3] == b"\xff\xff\xff" for row in rows for x in range(32) if row[x * 4 + 3])


def test_the_rsc_package_asks_each_team_for_what_graph_reads_and_stays_valid():
    app_id = "0b4e8a1c-5f6d-4e2a-8c3b-9a7d6e5f4c21"
    publisher = replace(PUBLISHER, app_id=app_id)
    plain, rsc = build_manifest(publisher), build_manifest(publisher, rsc=True)

    assert "authorization" not in plain and "webApplicationInfo" not in plain
    assert rsc["webApplicationInfo"] == {"id": app_id}
    assert rsc["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelSettings.Read.Group", "type": "Application"},
        {"name": "TeamMember.Read.Group", "type": "Application"},
    ]
    assert validate_manifest(rsc) == []
