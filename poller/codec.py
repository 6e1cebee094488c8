"""JSON codec for events: the outbox stores an event as a plain dict and reads it back typed."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from poller.events import EVENT_TYPES, Event


def event_to_payload(event: Event) -> dict[str, Any]:
    """Encode an event as a JSON-ready dict carrying its type name."""
    return {"type": type(event).__name__, "data": _encode(event)}


def event_from_payload(payload: dict[str, Any]) -> Event:
    """Decode what `event_to_payload` wrote; unknown types raise ValueError."""
    cls = EVENT_TYPES.get(payload.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown event type {payload.get('type')!r}")
    return _decode(cls, payload["data"])


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(options[0], value)
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        return tuple(_decode(item_type, v) for v in value)
    if origin in (list, dict) or tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value}
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is Decimal:
        return Decimal(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    if tp is timedelta:
        return timedelta(seconds=value)
    return value
