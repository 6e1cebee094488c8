"""The Web Services user's formatting: the time zone of every Intacct timestamp, and how dates read.

readUserFormatting takes the user's USERINFO RECORDNO as `<key>` and answers
`<userformatting><locale/><dateformat/><gmtoffset/><clock/>` (Estuary's connector sends and reads
exactly this; it finds the RECORDNO with readByName on USERINFO by login id, selecting RECORDNO).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from intacct.errors import MalformedRecordError
from intacct.values import Row, parse_gmt_offset

COMPANY_OBJECT = "COMPANY"
COMPANY_NAME_FIELD = "NAME"
"""The company's display name, for cards. No recorded real definition of COMPANY backs it (no
`lookup` of it in the sources of sandbox/definitions), so it is read only when the
company's own `lookup` shows COMPANY with a NAME field (`IntacctClient.fetch_company_name`);
otherwise cards show the configured company key."""

USER_OBJECT = "USERINFO"
USER_FIELDS = ("RECORDNO",)
"""USERINFO fields read: only the RECORDNO readUserFormatting needs."""


@dataclass(frozen=True, slots=True)
class UserFormatting:
    """The web-services user's preferences; `gmt_offset` is the zone of every Intacct timestamp."""

    gmt_offset: timedelta
    locale: str = "en_US"
    date_format: str = "/mdY"
    clock: int = 24


@dataclass(frozen=True, slots=True)
class TeamZone:
    """The AP team's time zone: what "today", due-this-week and every time on a card mean.

    By default it is the Intacct user's own zone (`readUserFormatting`'s ``gmtoffset``, "GMT
    offset in format +/- hh:mm": developer.intacct.com/api/company-console/users/, "User Date and
    Time Formatting Preferences"): the zone Intacct itself dates that user's timestamps in, and,
    when the user picked no zone of their own, the company's (Sage Intacct product help,
    "Regional formatting and general settings — User preferences", .../help_action/Intacct_basics/
    Personal_preferences/general-prefs.htm: "If you do not select a time zone preference, your
    time zone will default to your company's time zone", and "Intacct does not automatically
    update for Standard Time vs. Daylight Savings Time"). No public source shows a company zone in
    the XML API (ml-connector reads COMPANY for its NAME only), so this offset is the company's
    zone as far as the API can tell; it is fixed, so it is named like ``UTC-08:00``. A company configured with
    its own IANA zone gets that zone instead, with daylight saving (`from_name`).
    """

    tzinfo: tzinfo
    name: str

    @classmethod
    def from_offset(cls, offset: timedelta) -> TeamZone:
        """The fixed-offset zone Intacct reports, named `UTC`, `UTC-08:00`, `UTC+05:30`."""
        if not offset:
            return cls(timezone.utc, "UTC")
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        return cls(timezone(offset), f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}")

    @classmethod
    def from_name(cls, name: str) -> TeamZone:
        """An IANA zone (`America/Chicago`); raises ZoneInfoNotFoundError for an unknown name."""
        return cls(ZoneInfo(name), name)

    def local(self, moment: datetime) -> datetime:
        """An aware moment in this zone (a naive one is taken as UTC)."""
        aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
        return aware.astimezone(self.tzinfo)

    def today(self, now: datetime) -> date:
        """The AP team's date at `now`."""
        return self.local(now).date()


UTC_ZONE = TeamZone(timezone.utc, "UTC")
"""For records and views that belong to no company (and for tests)."""


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
