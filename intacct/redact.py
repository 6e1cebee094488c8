"""Redaction of secrets and sensitive fields in request/response XML before anything is logged."""

from __future__ import annotations

import re
from typing import Iterable
from xml.sax.saxutils import escape

REDACTED = "[REDACTED]"

# The official SDKs' list (case-insensitive, so upper-case object fields are covered too), plus
# the sender id, which MeltanoLabs also treats as secret.
SENSITIVE_ELEMENTS = (
    "password",
    "sessionid",
    "senderid",
    "accountnumber",
    "achaccountnumber",
    "wireaccountnumber",
    "cardnum",
    "ssn",
    "taxid",
)

# A regular expression rather than an XML parser, so malformed bodies are redacted too.
# Tags may carry a namespace-less prefix such as DISPLAYCONTACT. or attributes.
_ELEMENT = re.compile(
    r"<(?P<tag>(?:[A-Za-z0-9_]+\.)?(?:" + "|".join(SENSITIVE_ELEMENTS) + r"))(?P<attrs>\s[^>]*)?>"
    r"(?P<value>.*?)</(?P=tag)\s*>",
    re.IGNORECASE | re.DOTALL,
)


def redact_xml(xml: str | bytes, *, secrets: Iterable[str] = ()) -> str:
    """The XML text with sensitive element values and any known secret value replaced by a marker."""
    text = xml.decode("utf-8", errors="replace") if isinstance(xml, bytes) else xml
    text = _ELEMENT.sub(lambda m: f"<{m.group('tag')}{m.group('attrs') or ''}>{REDACTED}</{m.group('tag')}>", text)
    return scrub(text, secrets)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every occurrence of a known secret value (password, session id) replaced."""
    # Shorter values would blank out ordinary words; the XML-escaped form covers "p&ss" in a body.
    forms = {form for s in secrets if s and len(s) >= 3 for form in (s, escape(s, {'"': "&quot;"}))}
    for secret in sorted(forms, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
