"""The AP team's zone and the company's name, as the bot learns them from Intacct (the sandbox's
demo user works at GMT-08:00), and schedules in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.context import CompanyContext
from bot.chat.status import schedule_view
from cards.links import IntacctLinks
from cards.status import schedule_words
from tests.fakes.sandbox import running_sandbox

LINKS = IntacctLinks("https://www.intacct.com", "DEMO-CO")


async def test_the_zone_is_the_intacct_users_unless_the_company_has_its_own(clock):
    async with running_sandbox(clock, "demo") as sandbox:
        company = CompanyContext("DEMO-CO", sandbox.client(clock), LINKS)
        before = await company.zone(ask=False)  # nothing read yet: no request while a card is sent
        asked = await company.zone()
        after = await company.zone(ask=False)
        configured = CompanyContext("DEMO-CO", sandbox.client(clock), LINKS, timezone="America/Chicago")
        fixed = CompanyContext("DEMO-CO", sandbox.client(clock, gmt_offset=timedelta(hours=5, minutes=30)), LINKS)
        assert ((await configured.zone(ask=False)).name, (await fixed.zone(ask=False)).name) == ("America/Chicago", "UTC+05:30")
        functions = (await sandbox.stats())["functions"]

    assert before.name == "UTC"
    assert asked.name == after.name == "UTC-08:00"
    assert asked.today(clock()) == (clock() - timedelta(hours=8)).date()
    assert functions.get("readUserFormatting") == 1


async def test_without_a_company_definition_in_lookup_the_name_is_none_and_not_asked_again(clock):
    # No recorded real definition of COMPANY exists, so the sandbox has none: cards show the key.
    async with running_sandbox(clock, "demo") as sandbox:
        company = CompanyContext("DEMO-CO", sandbox.client(clock), LINKS)
        assert await company.known_name() is None
        assert await company.name() is None and await company.name() is None
        assert await company.known_name() is None
        functions = (await sandbox.stats())["functions"]
        assert functions.get("lookup") == 1 and "readByQuery" not in functions


async def test_a_company_name_intacct_cannot_give_is_none_and_asked_again_later(clock):
    async with running_sandbox(clock, "demo") as sandbox:
        company = CompanyContext("DEMO-CO", sandbox.client(clock, max_attempts=1), LINKS)
        await sandbox.fault("http_503", count=1)
        assert await company.name() is None
        assert await company.name() is None  # Intacct is back: asked (and has no COMPANY definition)
        assert (await sandbox.stats())["functions"].get("lookup") == 1


@pytest.mark.parametrize(
    ("expression", "zone", "words"),
    [
        ("*/2 6-19 * * mon-fri", "America/Chicago", "every 2 minutes, Mon–Fri 06:00–20:00 America/Chicago"),
        ("0 8 * * mon-fri", "Europe/London", "Mon–Fri at 08:00 Europe/London"),
        ("17 6-19 * * mon-fri", "UTC", "every hour, Mon–Fri 06:17–19:17 UTC"),
        ("0 8,12,17 * * *", "UTC", "every day at 08:00, 12:00, 17:00 UTC"),
        ("*/5 * * * *", "UTC", "every 5 minutes"),
        ("every 30s", "UTC", "every 30 seconds"),
        ("every 2m", "America/Chicago", "every 2 minutes"),
        ("0 9 * * sat,sun", "UTC", "Sat, Sun at 09:00 UTC"),
        # Crontab's numbers: 1-5 is Monday to Friday, 0 and 7 are Sunday (poller/schedules.py).
        ("0 8 * * 1-5", "UTC", "Mon–Fri at 08:00 UTC"),
        ("0 9 * * 0,6", "UTC", "Sat, Sun at 09:00 UTC"),
        ("5 4 1,15 * *", "UTC", "cron 5 4 1,15 ∗ ∗ (UTC)"),  # days of the month: as written
        ("0,30 8 * * *", "UTC", "every day at 08:00, 08:30 UTC"),
    ],
)
def test_schedules_in_words(expression: str, zone: str, words: str) -> None:
    assert schedule_words(schedule_view(expression, zone)) == words
