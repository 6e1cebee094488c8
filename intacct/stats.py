"""Counting what crosses the wire: requests, functions (each one an Intacct API transaction), errors.

`StatsRecorder` feeds the client-wide `ClientStats` and, through a context variable, any
`StatsRecorder.scope()` open in the calling task, so one high-level read (e.g. a poll cycle's
`read_changes`) can report exactly the requests and functions it caused, even while other
reads run concurrently on the same client.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator


@dataclass
class ClientStats:
    """Running totals since the client was created (every HTTP attempt counts, retries included)."""

    requests: int = 0
    functions: int = 0
    functions_by_name: Counter[str] = field(default_factory=Counter)
    errors_by_code: Counter[str] = field(default_factory=Counter)
    retries: int = 0

    def copy(self) -> ClientStats:
        """An independent snapshot."""
        return ClientStats(self.requests, self.functions, Counter(self.functions_by_name), Counter(self.errors_by_code), self.retries)


_SCOPES: contextvars.ContextVar[tuple[ClientStats, ...]] = contextvars.ContextVar("intacct_stats_scopes", default=())


class StatsRecorder:
    """Writes every event to the client's totals and to the scopes open in the current context."""

    def __init__(self, totals: ClientStats | None = None) -> None:
        self.totals = totals or ClientStats()

    def _targets(self) -> tuple[ClientStats, ...]:
        return (self.totals, *_SCOPES.get())

    def request(self, function_names: Iterable[str]) -> None:
        """One HTTP request carrying these functions was sent."""
        names = list(function_names)
        for stats in self._targets():
            stats.requests += 1
            stats.functions += len(names)
            stats.functions_by_name.update(names)

    def error(self, code: str) -> None:
        """An error was observed (control, authentication, result or transport level)."""
        for stats in self._targets():
            stats.errors_by_code[code] += 1

    def retry(self) -> None:
        """A request is about to be retried."""
        for stats in self._targets():
            stats.retries += 1

    @contextlib.contextmanager
    def scope(self) -> Iterator[ClientStats]:
        """Count, into a fresh ClientStats, what the code inside the ``with`` block sends."""
        stats = ClientStats()
        token = _SCOPES.set((*_SCOPES.get(), stats))
        try:
            yield stats
        finally:
            _SCOPES.reset(token)
