"""Injected faults: what the admin API can queue, which request each hits, and how it looks on the wire.

Faults wait in arrival order. Each gateway request consumes at most one: the oldest queued fault
that applies to it. Every kind applies to any gateway request except `error_response`, which
waits for a request carrying a function it targets (by function controlid, object name or
function name; any function when untargeted) and then fails the first such function. A fault
with `count` N is consumed by N requests. If the request it lands on then fails authentication,
an `error_response` fault is spent without effect.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol

from sandbox.errors import AdminInputError, IntacctError

MAX_COUNT = 10_000
MAX_DELAY_SECONDS = 3600.0
DEFAULT_DELAY_SECONDS = 5.0
_CONTROL_CHARS = "\x01\x0b\x1b"
_MARKER = "\ue000sandbox-control-chars\ue000"  # a private-use placeholder, swapped after serialising


class FaultKind(enum.Enum):
    """The kinds of docs/architecture.md §6.4."""

    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    DELAY = "delay"
    MALFORMED_XML = "malformed_xml"
    CONTROL_CHARS = "control_chars"
    ERROR_RESPONSE = "error_response"
    EXPIRE_SESSIONS = "expire_sessions"
    CONCURRENCY_LIMIT = "concurrency_limit"


class Targetable(Protocol):
    """What error_response matches on (envelope.FunctionCall has it)."""

    controlid: str
    name: str

    @property
    def object_name(self) -> str | None:
        """The upper-cased <object> of the function, if it has one."""


@dataclass(slots=True)
class Fault:
    """One queued fault and how many more requests it will hit."""

    kind: FaultKind
    remaining: int = 1
    seconds: float = 0.0
    target: str | None = None  # error_response: controlid, object name or function name
    transient: bool = False  # error_response: answer Intacct's "Temporarily Off-line" text

    def matches(self, call: Targetable) -> bool:
        """Whether an error_response fault targets this function."""
        if self.target is None:
            return True
        function, _, obj = self.target.partition(":")
        if obj:  # "readByQuery:APPYMT": that function on that object only
            return function == call.name and obj.upper() == (call.object_name or "")
        return self.target in (call.controlid, call.name) or self.target.upper() == (call.object_name or "")

    def as_json(self) -> dict[str, Any]:
        """The admin API's view of the fault."""
        out: dict[str, Any] = {"kind": self.kind.value, "remaining": self.remaining}
        if self.kind is FaultKind.DELAY:
            out["seconds"] = self.seconds
        if self.kind is FaultKind.ERROR_RESPONSE:
            out["function"] = self.target
            out["transient"] = self.transient
        return out


class FaultQueue:
    """The faults waiting for gateway requests."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()

    def __len__(self) -> int:
        return len(self._faults)

    def add(self, fault: Fault) -> None:
        """Queue a fault behind the others."""
        self._faults.append(fault)

    def take(self, calls: Iterable[Targetable]) -> Fault | None:
        """Consume one hit of the oldest fault that applies to a request with these functions."""
        calls = list(calls)
        for fault in self._faults:
            if fault.kind is FaultKind.ERROR_RESPONSE and not any(fault.matches(call) for call in calls):
                continue
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.remove(fault)
            return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        """The queued faults, oldest first."""
        return [fault.as_json() for fault in self._faults]

    def clear(self) -> None:
        """Drop every queued fault (reset)."""
        self._faults.clear()


def parse_fault(payload: Mapping[str, Any]) -> Fault:
    """A Fault from the admin API's JSON ({kind, count?, seconds?, function?, transient?})."""
    allowed = {"kind", "count", "seconds", "function", "transient"}
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise AdminInputError(f"unknown field(s) {unknown}; a fault takes {sorted(allowed)}")
    try:
        kind = FaultKind(payload.get("kind"))
    except ValueError:
        raise AdminInputError(f"kind must be one of {[k.value for k in FaultKind]}") from None
    count = payload.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise AdminInputError(f"count must be an integer from 1 to {MAX_COUNT}")
    fault = Fault(kind, count)
    if "seconds" in payload:
        if kind is not FaultKind.DELAY:
            raise AdminInputError("seconds applies to the delay fault only")
        seconds = payload["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_DELAY_SECONDS:
            raise AdminInputError(f"seconds must be a number from 0 to {MAX_DELAY_SECONDS:g}")
        fault.seconds = float(seconds)
    elif kind is FaultKind.DELAY:
        fault.seconds = DEFAULT_DELAY_SECONDS
    for key in ("function", "transient"):
        if key in payload and kind is not FaultKind.ERROR_RESPONSE:
            raise AdminInputError(f"{key} applies to the error_response fault only")
    target = payload.get("function")
    if target is not None and (not isinstance(target, str) or not 1 <= len(target) <= 256):
        raise AdminInputError("function must be a controlid, an object name or a function name")
    fault.target = target
    transient = payload.get("transient", False)
    if not isinstance(transient, bool):
        raise AdminInputError("transient must be true or false")
    fault.transient = transient
    return fault


def injected_error(function: str, *, transient: bool) -> IntacctError:
    """The result-level error an error_response fault answers."""
    if transient:
        # The wording real outages use, which clients classify as retryable (§6 of the protocol
        # doc); no errorno is documented for it, so the sandbox writes a plain-text one.
        return IntacctError("Service Unavailable", "", "The Service is Temporarily Off-line", "Please Try Again Later")
    return IntacctError(
        "BL01001973", "", f"Sandbox fault: {function} failed as requested through /sandbox/faults.", ""
    )


def http_error_body(status: int) -> bytes:
    """The HTML page a CDN or web server answers for a 500 or 503 (not XML)."""
    if status == 503:
        return (
            b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>"
            b"<div id=\"cf-error-details\"><h1>Error 503</h1><p>Service Temporarily Unavailable</p></div>"
            b"</body></html>"
        )
    return (
        b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
        b"<h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>"
    )


CONCURRENCY_ERROR = IntacctError(
    "GW-0010",
    "Too many requests",
    "The company has reached its limit of concurrent API requests.",
    "Wait a few seconds and send the request again.",
)


def truncate(body: bytes) -> bytes:
    """A body cut in the middle, as a dropped connection or a proxy would leave it."""
    return body[: max(1, len(body) // 2)]


def mark_for_control_chars(text: str | None) -> str:
    """A value with a placeholder where `insert_control_chars` will put control characters."""
    return f"{text or ''}{_MARKER}"


def insert_control_chars(body: bytes) -> bytes:
    """Replace the placeholder with characters XML 1.0 forbids (the response stops being valid XML)."""
    return body.replace(_MARKER.encode("utf-8"), _CONTROL_CHARS.encode("ascii"), 1)
