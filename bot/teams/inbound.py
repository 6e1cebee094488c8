"""Request bodies from the outside, read defensively: nesting bounded before JSON parsing, then
the activity fields the bot relies on checked before anything else sees them.

aiohttp already refuses bodies above the policy's size (413) before a handler runs. What is left:

- depth: `json.loads` and msrest's model walk both recurse once per nesting level, so 100,000 `[`
  end in a RecursionError (and a traceback per request). `nesting_depth` measures the depth on
  the raw bytes, in linear time and without recursing, and `read_json` refuses anything deeper
  than MAX_JSON_DEPTH before the parser runs;
- encoding: JSON between systems is UTF-8 (RFC 8259 §8.1); anything else is refused;
- activity fields: the Bot Framework Activity schema (microsoft/botframework-sdk,
  specs/botframework-activity/botframework-activity.md) says channels MUST send `type` (A2010),
  `channelId` (A2020), `from.id` (A2060), `recipient.id` (A2070), `conversation.id` (A2080) and
  `serviceUrl` (A2300), and receivers SHOULD reject values of the wrong type (A2003).
  `activity_problem` checks those and the types of the fields the bot reads, so an activity
  without a conversation is a 400, not a turn that stores a conversation with id ''.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, Mapping

# Recorded Teams activities and Graph notifications nest at most 6 levels deep; card data
# (Action.Submit values, channelData) can go deeper, so the bound leaves generous room.
MAX_JSON_DEPTH = 64

# A JSON string (escapes included) or, at the very end, an unterminated one. Possessive, and
# matching to the end when unterminated, so each quote starts at most one scan: linear time.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 once read as signed bytes

# Fields the bot reads, with their type in the Activity schema (A2003: reject mismatches).
_REQUIRED_TEXT = ("type", "channelId", "serviceUrl")
_REQUIRED_ACCOUNTS = ("conversation", "from", "recipient")
_OPTIONAL_TEXT = ("id", "text", "textFormat", "name", "action", "replyToId", "locale", "summary")
_OPTIONAL_LISTS = ("entities", "attachments", "membersAdded", "membersRemoved")
_ACCOUNT_TEXT = ("name", "aadObjectId", "conversationType", "tenantId", "role")


class RefusedBodyError(ValueError):
    """The body is not something to act on; `reason` is a short fixed label for logs and metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count).

    Linear and iteration-free in Python: strings are cut out by one regular expression, the
    brackets left are turned into +1/-1 steps, and the deepest running sum is the depth.
    """
    steps = _STRING.sub(b"", body).translate(_STEP, _NOT_BRACKET)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def too_deep(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests deeper than `max_depth`."""
    # Cheap bound first: with no more brackets than the limit, no nesting can exceed it.
    return body.count(b"[") + body.count(b"{") > max_depth and nesting_depth(body) > max_depth


def read_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in `body`; RefusedBodyError when it is not UTF-8 JSON nested at most `max_depth` deep."""
    if too_deep(body, max_depth):
        raise RefusedBodyError("too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RefusedBodyError("not_utf8", "the body is not UTF-8") from None
    except ValueError:
        raise RefusedBodyError("not_json", "the body is not JSON") from None


def activity_problem(document: Any) -> str | None:
    """What makes `document` unusable as a Bot Framework activity, or None when it is usable."""
    if not isinstance(document, Mapping):
        return "the body is not a JSON object"
    for name in _REQUIRED_TEXT:
        if not _text(document.get(name)):
            return f"{name} is missing or not a string"
    for name in _REQUIRED_ACCOUNTS:
        account = document.get(name)
        if not isinstance(account, Mapping) or not _text(account.get("id")):
            return f"{name}.id is missing or not a string"
        for field in _ACCOUNT_TEXT:
            if account.get(field) is not None and not isinstance(account[field], str):
                return f"{name}.{field} is not a string"
    for name in _OPTIONAL_TEXT:
        if document.get(name) is not None and not isinstance(document[name], str):
            return f"{name} is not a string"
    for name in _OPTIONAL_LISTS:
        items = document.get(name)
        if items is not None and not (isinstance(items, list) and all(isinstance(item, Mapping) for item in items)):
            return f"{name} is not a list of objects"
    return None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
