"""One log line per refused request, and under a flood one summary line per interval with counters.

A refused request (a malformed body, a notification with a wrong clientState) is worth one line
to an operator; a hundred thousand of them are worth one line a minute saying how many and why,
not a hundred thousand lines written from the event loop. The first refusal after a quiet spell
is logged in full; later ones within INTERVAL are only counted, and the counts come out as one
line when the interval is over (at the next refusal, or at shutdown through `flush`).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable

from observability.logs import one_line

log = logging.getLogger("mlc.bot.refused")

INTERVAL = timedelta(minutes=1)
_MAX_SHOWN = 160  # characters of a value taken from the request (ids, reasons) shown in a line


class RefusalLog:
    """Logs refusals of inbound requests: the first in full, then per interval one line of counts."""

    def __init__(self, clock: Callable[[], datetime], *, interval: timedelta = INTERVAL) -> None:
        self._clock = clock
        self._interval = interval
        self._started: datetime | None = None  # the current interval, when one is open
        self._last: datetime | None = None
        self._counts: Counter[tuple[str, str]] = Counter()

    def refused(self, endpoint: str, reason: str, detail: str, *, remote: str | None = None) -> None:
        """Record one refusal: `reason` is a short fixed label (it is counted), `detail` one line."""
        now = self._clock()
        flood_goes_on = False
        if self._started is not None and now - self._started >= self._interval:
            flood_goes_on = self._last is not None and now - self._last < self._interval
            self.flush()
        self._last = now
        if self._started is None:
            self._started = now
            if not flood_goes_on:
                log.warning(
                    "refused a request to %s from %s: %s; more refusals in the next %d s are counted and summed up in one line",
                    endpoint, remote or "an unknown address", shown(detail), self._interval.total_seconds(),
                )  # fmt: skip
                return
        self._counts[(endpoint, reason)] += 1

    def flush(self) -> None:
        """Log the counts of the open interval (if any refusal was only counted) and close it."""
        if self._counts:
            total = sum(self._counts.values())
            seconds = (self._last - self._started).total_seconds() if self._last and self._started else 0.0
            per_endpoint: dict[str, list[str]] = {}
            for (endpoint, reason), count in sorted(self._counts.items()):
                per_endpoint.setdefault(endpoint, []).append(f"{count} {reason}")
            log.warning(
                "refused %d more request(s) in %.0f s: %s", total, seconds,
                "; ".join(f"{endpoint}: {', '.join(reasons)}" for endpoint, reasons in per_endpoint.items()),
            )  # fmt: skip
        self._counts.clear()
        self._started = None


def shown(value: object) -> str:
    """A value from a request made safe for one log line: no line breaks, bounded length."""
    text = one_line(str(value))
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
