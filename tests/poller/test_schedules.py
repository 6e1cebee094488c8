"""Schedule expressions: crontab's day-of-week numbering (0 and 7 are Sunday), intervals, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from poller.schedules import crontab_weekdays, make_trigger, next_run
from settings import SettingsError, load_settings
from tests.test_settings import COMPANY

SUNDAY = datetime(2026, 12, 6, 0, 0, tzinfo=timezone.utc)  # a Sunday, 00:00 UTC


def weekdays_run(expression: str) -> list[str]:
    """The weekday names (Mon…Sun) on which the schedule fires in the week starting SUNDAY."""
    trigger = make_trigger(expression, "UTC")
    days, moment = [], trigger.get_next_fire_time(None, SUNDAY)
    while moment is not None and moment < SUNDAY + timedelta(days=7):
        days.append(moment.strftime("%a"))
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return sorted(set(days), key=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].index)


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", WEEKDAYS),  # APScheduler's from_crontab ran this Tuesday to Saturday
        ("mon-fri", WEEKDAYS),
        ("MON-FRI", WEEKDAYS),
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("sun", ["Sun"]),
        ("6", ["Sat"]),
        ("0,6", ["Sat", "Sun"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("fri-sun", ["Fri", "Sat", "Sun"]),
        ("1,3,5", ["Mon", "Wed", "Fri"]),
        ("*/2", ["Tue", "Thu", "Sat", "Sun"]),  # 0, 2, 4, 6
        ("1-5/2", ["Mon", "Wed", "Fri"]),
        ("1/2", ["Mon", "Wed", "Fri"]),  # from Monday on, every other day
        ("*", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0-7", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    ],
)
def test_day_of_week_follows_crontab_numbering(field: str, days: list[str]):
    assert weekdays_run(f"0 8 * * {field}") == days


def test_the_weekday_field_becomes_names_apscheduler_cannot_renumber():
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("7") == "sun"
    assert crontab_weekdays("*") == "*"


def test_the_default_poll_schedule_still_runs_every_2_minutes_on_weekdays():
    expression = "*/2 6-19 * * mon-fri"  # README's default POLL_SCHEDULE
    assert weekdays_run(expression) == WEEKDAYS
    assert next_run(expression, "UTC", SUNDAY) == datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("field", "says"),
    [
        ("8", "days are 0–7"),
        ("mo", "not a day name"),
        ("fri-mon", "runs backwards"),
        ("1-5/0", "step of 0"),
        ("1--5", "not a day, a range or a step"),
        ("", "5 fields"),
    ],
)
def test_a_bad_day_of_week_is_refused_with_a_reason(field: str, says: str):
    with pytest.raises(ValueError, match=says):
        make_trigger(f"0 8 * * {field}".strip(), "UTC")


def test_settings_refuse_what_the_scheduler_would_refuse_and_accept_sunday_as_7():
    with pytest.raises(SettingsError, match="POLL_SCHEDULE is not a valid cron expression .*days are 0–7"):
        load_settings(COMPANY | {"POLL_SCHEDULE": "0 8 * * 1-8"})
    (company,) = load_settings(COMPANY | {"POLL_SCHEDULE": "0 8 * * 7"}).companies
    assert company.poll_schedule == "0 8 * * 7" and weekdays_run(company.poll_schedule) == ["Sun"]
