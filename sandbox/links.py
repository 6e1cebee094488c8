"""RECORD_URL deep links: an opaque token per record, and the small HTML page the sandbox serves for it.

Intacct's links look like `https://<host>/ia/acct/ur.phtml?.r=<token>` (intacct-xml-api.md §10).
The sandbox's token is URL-safe base64 of "OBJECT:RECORDNO" — opaque to a client, reversible by
the sandbox, so with `web_url` pointing at the sandbox itself a card's link opens the record.
"""

from __future__ import annotations

import base64
import binascii
import html
from datetime import tzinfo
from typing import Any

from sandbox.schema import FieldType, ObjectDef, render_value

RECORD_PAGE_PATH = "/ia/acct/ur.phtml"


def record_token(object_name: str, record_no: int) -> str:
    """The opaque token of one record."""
    return base64.urlsafe_b64encode(f"{object_name}:{record_no}".encode()).decode().rstrip("=")


def record_url(web_url: str, object_name: str, record_no: int) -> str:
    """The RECORD_URL value of one record under `web_url`."""
    return f"{web_url.rstrip('/')}{RECORD_PAGE_PATH}?.r={record_token(object_name, record_no)}"


def parse_record_token(token: str) -> tuple[str, int] | None:
    """(object name, RECORDNO) of a token, or None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        object_name, record_no = text.split(":", 1)
        return object_name, int(record_no)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def record_page(company_name: str, obj: ObjectDef, row: list[Any], zone: tzinfo) -> str:
    """A plain HTML page listing one record's fields, every value escaped."""
    cells = []
    for definition in obj.fields:
        if definition.type is FieldType.URL:
            continue
        value = render_value(definition, row[obj.positions[definition.name]], zone) or ""
        cells.append(f"<tr><th>{html.escape(definition.name)}</th><td>{html.escape(value)}</td></tr>")
    title = f"{obj.name} {row[obj.positions['RECORDNO']]}"
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)} · {html.escape(company_name)} (Intacct sandbox)</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(company_name)} · Intacct sandbox</p>"
        f"<table>{''.join(cells)}</table></body></html>"
    )
