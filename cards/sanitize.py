"""Make text from Intacct or from users harmless on a card, and let only http(s) URLs through.

Decision: neutralise, do not backslash-escape. Teams renders a Markdown subset in TextBlock and
FactSet text, and the Adaptive Cards renderers do not agree on backslash escapes: the shared C++
parser of the native renderers (microsoft/AdaptiveCards, MarkDownBlockParser.cpp) treats `\\` as an
escape only before `*`/`_`, still parses `\\[` as a link start, and leaves the backslash in the
text. So `clean_text` rewrites only what could form markup, keeping the rest readable:

- lone surrogates, control characters and invisible format characters (bidi overrides, zero-width
  spaces, Unicode tag characters; ZWJ/ZWNJ are kept for emoji and scripts that need them) are
  removed; line breaks and tabs become spaces and runs of whitespace collapse, so no block markup
  (lists, headings, quotes, link reference definitions) can start mid-value;
- `<` and `>` (also written `&lt;`, `&#60;`…) become `‹` and `›`, so no HTML tag, `<at>` mention
  or `<https://…>` autolink can form, while placeholders such as `<number>` stay readable;
- `*` becomes `∗` (U+2217) and an `_` at a word edge becomes `ˍ` (U+02CD), so no emphasis can form
  (`snake_case` ids keep their underscores: intra-word `_` is never emphasis);
- `](` becomes `] (`, so `[click](javascript:…)` and `![x](…)` stay literal text;
- `{{` becomes `{ {`, so the Adaptive Cards DATE()/TIME() functions cannot be triggered;
- the result is cut to a limit with an ellipsis.

A bare `https://…` in a description may still be auto-linked by a Teams client; it shows its own
target, so it cannot disguise one. Every transformation is idempotent: cleaning twice changes
nothing (builders rely on it, since elements clean again what callers already cleaned).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ELLIPSIS = "…"

NAME_LIMIT = 120  # vendor names, GL titles, department names
ID_LIMIT = 60  # record ids, bill numbers, account numbers
DESCRIPTION_LIMIT = 300  # descriptions, memos, labels built from several fields
DEFAULT_LIMIT = 500  # anything else (error texts, help lines)
URL_LIMIT = 2000  # longer URLs are dropped, not cut (a cut URL points somewhere else)

# Characters that are invisible or control something rather than show something: C0/C1 controls
# that are not whitespace (whitespace collapses to one space below), every format character (Cf:
# bidi overrides, zero-width spaces, soft hyphen, the tag characters used to hide text) except
# ZWNJ/ZWJ, and lone surrogates. Listed from Python 3.11's Unicode 14 database; a test recomputes
# the set from `unicodedata`, so a Python upgrade that adds one fails loudly.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
_ANGLE_ENTITIES = re.compile(r"&(lt|gt|#0*6[02]|#x0*3[ce]);?", re.IGNORECASE)
_EDGE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*[a-z0-9-]+\.?$|^[0-9a-f:.]+$")  # urlsplit lower-cases hostname


def clean_text(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """Return `value` as one line of plain text that cannot form markup, at most `limit` characters."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if value is None:
        return ""
    text = str(value)
    # Cap the work on absurd inputs; the margin leaves the final cut enough text even after
    # invisible characters and doubled spaces are removed.
    if len(text) > limit * 2 + 16:
        text = text[: limit * 2 + 16]
    if not text.isprintable():  # printable text (the usual case) has nothing invisible to remove
        text = _INVISIBLE.sub("", text)
    if "&" in text:
        text = _ANGLE_ENTITIES.sub(_angle_bracket, text)
    text = text.replace("<", "‹").replace(">", "›")
    text = text.replace("*", "∗")
    if "_" in text:
        text = _EDGE_UNDERSCORE.sub("ˍ", text)
    text = text.replace("](", "] (")
    while "{{" in text:
        text = text.replace("{{", "{ {")
    text = " ".join(text.split())  # str.split() splits on every Unicode whitespace, like \s
    return truncate(text, limit)


def clean_optional(value: object, limit: int = DEFAULT_LIMIT) -> str | None:
    """`clean_text` for optional fields: None when there is nothing to show."""
    return clean_text(value, limit) or None if value is not None else None


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when something was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def clean_url(value: str | None) -> str | None:
    """Return `value` when it is a safe absolute http(s) URL, else None (never a repaired URL).

    Rejected: other schemes (javascript:, data:, file:…), relative URLs, user:password@ parts,
    whitespace, control or non-ASCII characters, backslashes, bad ports, over URL_LIMIT.
    """
    if not value or not isinstance(value, str) or len(value) > URL_LIMIT:
        return None
    if any(not ("\x21" <= ch <= "\x7e") or ch == "\\" for ch in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    if not parts.hostname or not _HOST.match(parts.hostname):
        return None
    return value


def _angle_bracket(match: re.Match[str]) -> str:
    name = match.group(1).lower()
    if name in ("lt", "gt"):
        return "<" if name == "lt" else ">"
    code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
    return "<" if code == 0x3C else ">"
