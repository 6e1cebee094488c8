"""Web Services credentials for one company (and optionally one entity); passwords never in a repr."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IntacctCredentials:
    """Sender (partner) credentials plus the Web Services user of one company or entity."""

    sender_id: str
    sender_password: str = field(repr=False)
    company_id: str
    user_id: str
    user_password: str = field(repr=False)
    entity_id: str | None = None

    def __post_init__(self) -> None:
        missing = [name for name in ("sender_id", "sender_password", "company_id", "user_id", "user_password") if not getattr(self, name)]
        if missing:
            raise ValueError(f"Intacct credentials incomplete: {', '.join(missing)} missing")

    @property
    def secrets(self) -> tuple[str, str]:
        """The two passwords, for scrubbing from any text that might be logged or raised."""
        return (self.sender_password, self.user_password)
