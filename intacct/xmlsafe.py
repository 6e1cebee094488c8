"""XML safety both ways: strip what XML 1.0 forbids before writing, parse answers with a hardened lxml.

Decision on control characters in *responses*: a body that fails to parse only because it holds
characters XML forbids (raw C0 controls, ``&#1;``-style references, invalid UTF-8) is repaired
once — those characters are removed (invalid UTF-8 becomes U+FFFD) and a warning is logged with
the count — because one vendor name with a stray control character must not stop every poll.
Anything still not well formed after that is a `MalformedResponseError`.
"""

from __future__ import annotations

import functools
import logging
import re

from lxml import etree

from intacct.errors import MalformedResponseError, UnsafeResponseError

log = logging.getLogger(__name__)

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Everything else — C0 controls, lone surrogates, U+FFFE/U+FFFF — is removed.
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def strip_forbidden(text: str) -> str:
    """The text without the characters XML 1.0 cannot carry (lxml raises on them otherwise)."""
    if text.isprintable() or not _FORBIDDEN.search(text):
        return text
    return _FORBIDDEN.sub("", text)


@functools.cache
def _parser() -> etree.XMLParser:
    # Built on first use (nothing at import). No entity expansion, no DTD, no network, no
    # "huge tree" lifting of libxml2's size limits; blank text, comments and PIs are dropped.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
    )


_BOM = b"\xef\xbb\xbf"
_PROLOG_SCAN_LIMIT = 65536


def _after_prolog(body: bytes) -> bytes:
    """The bytes where the first real markup starts, skipping BOM, blanks, PIs and comments.

    A linear scan rather than a regular expression: nested quantifiers over hostile input can
    backtrack for minutes.
    """
    head = body[:_PROLOG_SCAN_LIMIT]
    i = len(_BOM) if head.startswith(_BOM) else 0
    while i < len(head):
        if head[i] in b" \t\r\n":
            i += 1
        elif head.startswith(b"<?", i):
            end = head.find(b"?>", i + 2)
            if end < 0:
                return b""
            i = end + 2
        elif head.startswith(b"<!--", i):
            end = head.find(b"-->", i + 4)
            if end < 0:
                return b""
            i = end + 3
        else:
            return head[i : i + 64]
    return b""


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """Whether the body is an HTML page (a CDN or proxy error page) rather than gateway XML."""
    if content_type and content_type.split(";")[0].strip().lower() == "text/html":
        return True
    start = _after_prolog(body).lower()
    return start.startswith(b"<html") or (start.startswith(b"<!doctype") and b"html" in start[:20])


def declares_doctype(body: bytes) -> bool:
    """Whether the document (byte-encoded, ASCII-compatible) opens with a DOCTYPE declaration."""
    return _after_prolog(body).startswith(b"<!DOCTYPE")


def parse_xml(body: bytes, *, content_type: str | None = None) -> etree._Element:
    """Parse a gateway answer safely; raise MalformedResponseError or UnsafeResponseError."""
    if not body.strip():
        raise MalformedResponseError("empty response body")
    if looks_like_html(body, content_type):
        raise MalformedResponseError("the gateway answered with an HTML page instead of XML (CDN or proxy error page)")
    if declares_doctype(body):
        raise UnsafeResponseError("response refused: it declares a DOCTYPE (entity declarations are never expanded)")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        root = _parse_repaired(body, exc)
    docinfo = root.getroottree().docinfo
    # Belt and braces for encodings the byte scan cannot read (e.g. UTF-16): lxml did not
    # expand anything (resolve_entities=False), but the document is still refused.
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeResponseError("response refused: it declares a DOCTYPE (entity declarations are never expanded)")
    return root


_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")
_DECLARED_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def _forbidden_reference(match: re.Match[str]) -> str:
    ref = match.group(1)
    try:
        code = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
        allowed = not _FORBIDDEN.match(chr(code))
    except (ValueError, OverflowError):
        allowed = False
    return match.group(0) if allowed else ""


def _parse_repaired(body: bytes, original: etree.XMLSyntaxError) -> etree._Element:
    declared = _DECLARED_ENCODING.match(body)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise MalformedResponseError(f"response is not well-formed XML: {original.msg}") from original
    try:
        text = body.decode("utf-8")
        bad_bytes = 0
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        bad_bytes = 1
    removed_chars = len(_FORBIDDEN.findall(text))
    text = _FORBIDDEN.sub("", text)
    before = len(text)
    text = _CHAR_REF.sub(_forbidden_reference, text)
    removed_refs = int(before != len(text))
    if not (bad_bytes or removed_chars or removed_refs):
        raise MalformedResponseError(f"response is not well-formed XML: {original.msg}") from original
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedResponseError(f"response is not well-formed XML: {exc.msg}") from exc
    log.warning(
        "intacct response repaired: removed %d forbidden character(s)%s%s before parsing",
        removed_chars,
        " and forbidden character references" if removed_refs else "",
        " and replaced invalid UTF-8" if bad_bytes else "",
    )
    return root
