"""Company facts: the company's name and the web-services user's formatting (time zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """What `check` shows about the company it reached."""

    company_id: str
    name: str
    entity_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserFormatting:
    """The web-services user's preferences; `gmt_offset` is the zone of every Intacct timestamp."""

    gmt_offset: timedelta
    locale: str = "en_US"
    date_format: str = "/mdY"
    clock: int = 24
