"""Logging set-up: one line per event, text or JSON, with registered secrets masked everywhere."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Iterable

_MASK = "********"
# Standard LogRecord attributes; anything else passed via `extra=` is a structured field.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class SecretMasker(logging.Filter):
    """Replaces every registered secret value in a record's message and fields with a mask.

    A backstop, not the first defence: code never logs secrets on purpose, but an upstream
    library's exception text might echo one back.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def register(self, values: Iterable[str]) -> None:
        """Add values to mask (values shorter than 4 characters are ignored: too many false hits)."""
        self._secrets.update(v for v in values if v and len(v) >= 4)

    def mask(self, text: str) -> str:
        """The text with every registered secret masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(vars(record).items()):
            if key not in _RESERVED and isinstance(value, str):
                setattr(record, key, self.mask(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value…` for people reading a terminal, one line per event."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        # Messages carry values from requests (ids, names); a line break in one would let a
        # sender forge log lines of its own. The traceback after it keeps its lines.
        line = one_line(super().formatMessage(record))
        fields = {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}
        if fields:
            line += " " + " ".join(f"{k}={one_line(str(v))}" for k, v in fields.items())
        return line


def one_line(text: str) -> str:
    """Text with its line breaks written out (\\r, \\n), so it stays on one log line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


MASKER = SecretMasker()


def configure_logging(level: str = "INFO", fmt: str = "text", *, stream=None, secrets: Iterable[str] = ()) -> None:
    """Install one handler on the root logger (idempotent) with the masker attached."""
    MASKER.register(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(MASKER)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_mlc", False)]:
        root.removeHandler(old)
    handler._mlc = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Chatty libraries: their INFO lines are per-request noise, not operator information.
    for name in ("aiohttp.access", "msal", "msrest", "botframework", "apscheduler", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # aiosqlite's DEBUG lines print every statement WITH its parameters: stored data and Graph's
    # clientState would reach the log at LOG_LEVEL=DEBUG. Never below INFO, whatever the level.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLevelName(level)))
