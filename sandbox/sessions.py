"""API sessions: issue, look up with a sliding timeout, expire — all against the injected clock.

A session lives until `timeout`; every call made with it moves the timeout to now + lifetime
(the API Sessions page: "each call before it moves it"). Expired sessions are dropped when any
lookup happens, so a sandbox running for months holds only live ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the user, the company and the entity ("" = top level)."""

    company_id: str
    user_id: str
    location_id: str = ""


@dataclass(slots=True)
class Session:
    """One API session; `session_id` is a secret and stays out of repr."""

    session_id: str = field(repr=False)
    principal: Principal
    issued_at: datetime
    timeout: datetime


class SessionStore:
    """The live sessions of one sandbox."""

    def __init__(self, lifetime: timedelta) -> None:
        if lifetime <= timedelta(0):
            raise ValueError("the session lifetime must be positive")
        self.lifetime = lifetime
        self._sessions: dict[str, Session] = {}
        self.issued = 0

    def __len__(self) -> int:
        return len(self._sessions)

    def live_ids(self) -> list[str]:
        """The ids of the sessions not yet pruned (tests grep logs and files for them)."""
        return list(self._sessions)

    def issue(self, principal: Principal, now: datetime) -> Session:
        """A new session for `principal`, valid until now + lifetime."""
        self.prune(now)
        session = Session(secrets.token_urlsafe(24) + "..", principal, now, now + self.lifetime)
        self._sessions[session.session_id] = session
        self.issued += 1
        return session

    def touch(self, session_id: str, now: datetime) -> Session | None:
        """The live session with this id, its timeout pushed to now + lifetime; None if unknown or expired."""
        self.prune(now)
        session = self._sessions.get(session_id)
        if session is None:
            return None
        session.timeout = now + self.lifetime
        return session

    def is_live(self, session_id: str, now: datetime) -> bool:
        """Whether the session exists and has not timed out (does not slide it)."""
        session = self._sessions.get(session_id)
        return session is not None and now < session.timeout

    def prune(self, now: datetime) -> None:
        """Forget every session whose timeout has passed."""
        expired = [sid for sid, s in self._sessions.items() if now >= s.timeout]
        for sid in expired:
            del self._sessions[sid]

    def expire_all(self) -> int:
        """Invalidate every session (the expire_sessions fault); returns how many there were."""
        count = len(self._sessions)
        self._sessions.clear()
        return count

    def reset_counter(self) -> None:
        """Start counting issued sessions from zero (stats reset)."""
        self.issued = 0
