"""Company facts: the company's name and the web-services user's formatting (time zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from intacct.errors import MalformedRecordError
from intacct.values import Row, parse_gmt_offset, text


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


COMPANY_OBJECT = "COMPANY"

COMPANY_FIELDS = ("NAME", "COMPANYID")
"""COMPANY fields read by `check` (pagesize 1)."""


def parse_company(row: Row, *, company_id: str, entity_id: str | None) -> CompanyInfo:
    """A COMPANY row → CompanyInfo; ``company_id`` (the login's) fills in a missing COMPANYID."""
    name = text(row, "NAME")
    if name is None:
        raise MalformedRecordError("COMPANY row without a NAME")
    return CompanyInfo(company_id=text(row, "COMPANYID") or company_id, name=name, entity_id=entity_id or None)


def parse_user_formatting(row: Row) -> UserFormatting:
    """A readUserFormatting ``<userformatting>`` element → UserFormatting (``gmtoffset`` is required)."""
    # Tags come back in lower case (gmtoffset, dateformat…); accept upper case as well.
    values = {key.lower(): value for key, value in row.items()}
    raw_offset = values.get("gmtoffset")
    if not raw_offset:
        raise MalformedRecordError("readUserFormatting answer without a gmtoffset")
    try:
        offset = parse_gmt_offset(raw_offset)
    except ValueError:
        raise MalformedRecordError(f"readUserFormatting gmtoffset {raw_offset[:20]!r} is not an offset like -08:00") from None
    clock_value = values.get("clock") or "24"
    if not clock_value.isdigit():
        raise MalformedRecordError(f"readUserFormatting clock {clock_value[:10]!r} is not 12 or 24")
    return UserFormatting(
        gmt_offset=offset,
        locale=values.get("locale") or "en_US",
        date_format=values.get("dateformat") or "/mdY",
        clock=int(clock_value),
    )
