"""`python app.py package`: the Teams app package (manifest with the real bot id + icons), validated.

The committed appPackage/manifest.json is the template: the app and bot id (APP_ID), the
publisher's name and pages (TEAMS_APP_*) and the valid domain (PUBLIC_URL's host) come from
settings when the package is built, so no placeholder reaches a tenant.

The zip holds manifest.json, color.png and outline.png at its root, as Teams requires. The
manifest is checked against the official v1.25 JSON schema (a copy ships in appPackage/) and
the icons against Teams' size and transparency rules before anything is written.
"""

from __future__ import annotations

import ipaddress
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.chat.commands import manifest_command_lists
from bot.chat.invoke_values import manifest_compose_extensions
from intacct.record_links import INTACCT_DOMAIN, is_intacct_host

APP_PACKAGE = Path(__file__).resolve().parent.parent / "appPackage"
SCHEMA_FILE = APP_PACKAGE / "schema" / "teams-manifest-v1.25.schema.json"
ZIP_NAME = "ml-connector.zip"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(Exception):
    """The package cannot be built: every problem is listed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the Teams app package is not valid:\n" + "\n".join(f"  - {p}" for p in problems))


# Resource-specific consent: what the bot reads through Graph, granted per team by whoever installs
# the app there instead of tenant-wide by an admin (Graph permission reference: the RSC
# alternatives of GET /teams/{id}/channels, channel change notifications, GET /teams/{id}/members).
RSC_PERMISSIONS = (
    {"name": "ChannelSettings.Read.Group", "type": "Application"},  # channel names, kinds and change notifications
    {"name": "TeamMember.Read.Group", "type": "Application"},  # who owns the team (ROUTE_ADMINS=team-owners)
)


class PackageSettingsError(PackageError):
    """The settings the manifest needs are missing or malformed (a configuration error)."""


@dataclass(frozen=True)
class Publisher:
    """What the manifest says about the app and who publishes it, from settings (never placeholders)."""

    app_id: str  # APP_ID: the Azure Bot's Microsoft App ID, the app's and the bot's id
    developer: str  # TEAMS_APP_DEVELOPER
    website_url: str  # TEAMS_APP_WEBSITE_URL
    privacy_url: str  # TEAMS_APP_PRIVACY_URL
    terms_url: str  # TEAMS_APP_TERMS_URL
    public_url: str = ""  # PUBLIC_URL: its host becomes the one valid domain
    intacct_web_urls: tuple[str, ...] = ()  # every company's INTACCT_WEB_URL: their hosts' links unfurl too

    def problems(self) -> list[str]:
        """What is missing, by settings key."""
        problems = []
        if not _GUID.match(self.app_id or ""):
            problems.append("APP_ID must be the Azure Bot's Microsoft App ID (a GUID); it is empty or malformed")
        for key, value in (("TEAMS_APP_DEVELOPER", self.developer), ("TEAMS_APP_WEBSITE_URL", self.website_url),
                           ("TEAMS_APP_PRIVACY_URL", self.privacy_url), ("TEAMS_APP_TERMS_URL", self.terms_url)):
            if not value:
                problems.append(f"{key} is not set: Teams shows it in the app's details (README, Deployment)")
        return problems


def build_manifest(publisher: Publisher, *, source: Path = APP_PACKAGE / "manifest.json", rsc: bool = False) -> dict[str, Any]:
    """The manifest with the bot's app id as app id and bot id, the publisher's block, the command
    menu, and as valid domain the host of PUBLIC_URL. The app has no tabs, so Teams loads no page
    from any domain; the bot's own host is the one it may be asked to open. With `rsc`, the
    resource-specific permissions (and the webApplicationInfo naming the app they are for)."""
    problems = publisher.problems()
    if problems:
        raise PackageSettingsError(problems)
    manifest = json.loads(source.read_text(encoding="utf-8"))
    manifest["id"] = publisher.app_id
    manifest["developer"] = {"name": publisher.developer, "websiteUrl": publisher.website_url,
                             "privacyUrl": publisher.privacy_url, "termsOfUseUrl": publisher.terms_url}
    host = urlsplit(publisher.public_url).hostname if publisher.public_url else None
    manifest["validDomains"] = [host] if host else []
    bot = manifest["bots"][0]
    bot["botId"] = publisher.app_id
    bot["commandLists"] = manifest_command_lists()
    manifest["composeExtensions"] = manifest_compose_extensions(publisher.app_id, link_domains(publisher.intacct_web_urls))
    if rsc:
        manifest["webApplicationInfo"] = {"id": publisher.app_id}
        manifest["authorization"] = {"permissions": {"resourceSpecific": [dict(p) for p in RSC_PERMISSIONS]}}
    return manifest


def link_domains(web_urls: tuple[str, ...] = ()) -> list[str]:
    """The domains whose pasted links Teams sends to the bot: `*.intacct.com` (RECORD_URLs live on
    www.intacct.com and its pods; Teams' `*.` matches exactly one label), and the host of any
    configured Intacct web URL outside it. Loopback and IP hosts are left out: no Teams client
    unfurls a link to them."""
    domains = [f"*.{INTACCT_DOMAIN}"]
    for url in web_urls:
        host = (urlsplit(url).hostname or "").lower()
        if host and host != "localhost" and not _is_ip(host) and not is_intacct_host(host) and host not in domains:
            domains.append(host)
    return domains


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def validate_manifest(manifest: dict[str, Any], *, schema_file: Path = SCHEMA_FILE) -> list[str]:
    """Schema problems (empty when valid), as `path: message` lines."""
    from jsonschema import Draft4Validator  # the manifest schema is draft-04

    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    errors = sorted(Draft4Validator(schema).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def png_facts(data: bytes) -> tuple[int, int, bool]:
    """(width, height, has any transparent pixel) of a PNG (8-bit RGB or RGBA, any row filters)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    if depth != 8 or color_type != 6 or interlace:
        return width, height, False  # no alpha channel we can read: treat as opaque
    pixels = _unfilter(zlib.decompress(b"".join(chunks)), width, height, bpp=4)
    transparent = any(row[x * 4 + 3] < 255 for row in pixels for x in range(width))
    return width, height, transparent


def _unfilter(raw: bytes, width: int, height: int, *, bpp: int) -> list[bytes]:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    stride, rows, previous = width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        previous = bytes(line)
        rows.append(previous)
    return rows


def validate_icons(directory: Path = APP_PACKAGE) -> list[str]:
    """Teams' icon rules: color 192×192, outline 32×32 with a transparent background."""
    problems = []
    for name, size, needs_transparency in (("color.png", 192, False), ("outline.png", 32, True)):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        try:
            width, height, transparent = png_facts(path.read_bytes())
        except (ValueError, struct.error, zlib.error) as exc:
            problems.append(f"{name} is not a readable PNG ({exc})")
            continue
        if (width, height) != (size, size):
            problems.append(f"{name} must be {size}×{size} pixels (is {width}×{height})")
        if needs_transparency and not transparent:
            problems.append(f"{name} must have a transparent background")
    return problems


def write_package(publisher: Publisher, *, directory: Path = APP_PACKAGE, output: Path | None = None, rsc: bool = False) -> Path:
    """Validate, then write the zip (files at its root); returns its path. `rsc`: with the
    resource-specific Graph permissions (build_manifest)."""
    manifest = build_manifest(publisher, source=directory / "manifest.json", rsc=rsc)
    problems = validate_manifest(manifest) + validate_icons(directory)
    if problems:
        raise PackageError(problems)
    output = output or directory / "build" / ZIP_NAME
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.write(directory / "color.png", "color.png")
        archive.write(directory / "outline.png", "outline.png")
    return output
