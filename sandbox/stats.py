"""Gateway counters for GET /sandbox/stats: requests received (per path) and functions run, per name."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GatewayStats:
    """Counts since start or the last reset; sessions issued are counted by the SessionStore."""

    requests: int = 0
    functions: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)

    def count_request(self) -> None:
        """One gateway request arrived (whatever its fate: faulted, malformed, refused)."""
        self.requests += 1

    def count_path(self, path: str) -> None:
        """One gateway request arrived at this URL path (the login URL or the session endpoint)."""
        self.paths[path] += 1

    def count_function(self, name: str) -> None:
        """One function ran (after authentication succeeded), whatever its result."""
        self.functions[name] += 1

    def as_json(self, sessions_issued: int) -> dict[str, Any]:
        """The admin API's {requests, functions, paths, sessions_issued}."""
        return {
            "requests": self.requests, "functions": dict(self.functions), "paths": dict(self.paths),
            "sessions_issued": sessions_issued,
        }

    def clear(self) -> None:
        """Back to zero."""
        self.requests = 0
        self.functions.clear()
        self.paths.clear()
