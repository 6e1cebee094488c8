"""The command parser, table-driven, and the command catalogue against the Teams manifest schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from bot import messages
from bot.chat.commands import (
    COMMANDS,
    MAX_COMMAND_CHARS,
    DueThisWeek,
    InvalidCommand,
    ListSubscriptions,
    ShowBill,
    ShowHelp,
    ShowPayments,
    ShowPendingBills,
    ShowStatus,
    ShowVendor,
    Subscribe,
    Unknown,
    Unsubscribe,
    manifest_command_lists,
    parse_amount,
    parse_command,
)

ALL_EVENTS = frozenset({"bills", "payments", "vendors", "digest"})

PARSED = [
    # the commands, plain
    ("show pending bills", ShowPendingBills()),
    ("pending bills", ShowPendingBills()),
    ("show bill 10234", ShowBill("10234")),
    ("bill B-2026-0042", ShowBill("B-2026-0042")),
    ("show bill #10234", ShowBill("10234")),
    ("show vendor Acme", ShowVendor("Acme")),
    ("vendor V-100", ShowVendor("V-100")),
    ("show payments", ShowPayments(pending_only=False)),
    ("payments", ShowPayments(pending_only=False)),
    ("show payments pending", ShowPayments(pending_only=True)),
    ("show pending payments", ShowPayments(pending_only=True)),
    ("pending payments", ShowPayments(pending_only=True)),
    ("due this week", DueThisWeek()),
    ("show bills due this week", DueThisWeek()),
    ("bills due this week", DueThisWeek()),
    ("status", ShowStatus()),
    ("show status", ShowStatus()),
    ("help", ShowHelp()),
    ("?", ShowHelp()),
    ("commands", ShowHelp()),
    ("help subscribe", ShowHelp()),
    ("", ShowHelp()),
    ("subscriptions", ListSubscriptions()),
    ("list subscriptions", ListSubscriptions()),
    ("show subscriptions", ListSubscriptions()),
    # case and spacing
    ("SHOW   Pending\tBILLS", ShowPendingBills()),
    ("  Show Bill   7  ", ShowBill("7")),
    ("show\u00a0pending\u00a0bills", ShowPendingBills()),
    # options, in any order, multi-word and quoted values
    ("show pending bills vendor Acme Ltd over 500", ShowPendingBills(vendor="Acme Ltd", min_amount=Decimal("500.00"))),
    ("show pending bills over 1,200.50 vendor Acme", ShowPendingBills(vendor="Acme", min_amount=Decimal("1200.50"))),
    ('show pending bills department "Sales & Marketing"', ShowPendingBills(department="Sales & Marketing")),
    (
        "show pending bills department “Sales & Marketing” over 1k",
        ShowPendingBills(min_amount=Decimal("1000.00"), department="Sales & Marketing"),
    ),
    ("show pending bills dept 'Over The Top' above $2,500", ShowPendingBills(min_amount=Decimal("2500.00"), department="Over The Top")),
    ('show pending bills vendor "Over The Top Inc"', ShowPendingBills(vendor="Over The Top Inc")),
    ("show pending bills vendor O'Brien & Sons min 10", ShowPendingBills(vendor="O'Brien & Sons", min_amount=Decimal("10.00"))),
    ("show pending bills VENDOR acme", ShowPendingBills(vendor="acme")),
    # subscribe / unsubscribe
    ("subscribe bills", Subscribe(kinds=frozenset({"bills"}))),
    ("subscribe bills, payments and vendors", Subscribe(kinds=frozenset({"bills", "payments", "vendors"}))),
    ("subscribe bill,payment", Subscribe(kinds=frozenset({"bills", "payments"}))),
    ("subscribe all", Subscribe(kinds=ALL_EVENTS)),
    ("subscribe all alerts", Subscribe(kinds=ALL_EVENTS | {"alerts"})),
    ("subscribe digest", Subscribe(kinds=frozenset({"digest"}))),
    (
        'subscribe bills department "Sales & Marketing" location Boston vendor Acme over 5k entity US01',
        Subscribe(
            kinds=frozenset({"bills"}),
            department="Sales & Marketing",
            location="Boston",
            vendor="Acme",
            min_amount=Decimal("5000.00"),
            entity="US01",
        ),
    ),
    ("subscribe payments loc NYC", Subscribe(kinds=frozenset({"payments"}), location="NYC")),
    ("unsubscribe", Unsubscribe(kinds=None)),
    ("unsubscribe all", Unsubscribe(kinds=None)),
    ("unsubscribe bills payments", Unsubscribe(kinds=frozenset({"bills", "payments"}))),
    ("unsubscribe alerts", Unsubscribe(kinds=frozenset({"alerts"}))),
    # not commands
    ("what is this", Unknown("what is this")),
    ("show me the money", Unknown("show me the money")),
    ("bills", Unknown("bills")),
    # hostile text survives as plain values
    ("show vendor ' OR 1=1 --", ShowVendor("' OR 1=1 --")),
    ("show vendor Robert'); DROP TABLE vendors;--", ShowVendor("Robert'); DROP TABLE vendors;--")),
    ("show vendor ]]><x/>", ShowVendor("]]><x/>")),
    ("show bill <at>Alice</at>", ShowBill("<at>Alice</at>")),
    ("show vendor [click](https://evil.example/?a=b)", ShowVendor("[click](https://evil.example/?a=b)")),
    ("show vendor **bold** _it_", ShowVendor("**bold** _it_")),
    ("show pending bills vendor %_\\", ShowPendingBills(vendor="%_\\")),
    ("show vendor Acme\x00\x07Ltd", ShowVendor("Acme Ltd")),
    ("show\r\npending\x1bbills", ShowPendingBills()),
    ("show vendor Ac\u200bme\u202e", ShowVendor("Acme")),
    ("show vendor 株式会社 テスト", ShowVendor("株式会社 テスト")),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[repr(t)[:50] for t, _ in PARSED])
def test_parse(text, expected):
    assert parse_command(text) == expected


INVALID = [
    ("show pending bills over abc", "“abc” is not an amount"),
    ("show pending bills over", "“over” needs a value"),
    ("show pending bills vendor", "“vendor” needs a value"),
    ("show pending bills vendor over 5", "“vendor” needs a value"),
    ("show pending bills over -5", "cannot be negative"),
    ("show pending bills over $-5", "cannot be negative"),
    ("show pending bills over 10.555", "more than 2 decimals"),
    ("show pending bills over 1,20", "not an amount"),
    ("show pending bills over 1.200,50", "not an amount"),
    ("show pending bills over 5000000000000", "larger than any amount"),
    ("show pending bills vendor A vendor B", "given twice"),
    ("show pending bills from Acme", "“from Acme”"),
    ("show pending bills location Boston", "“location Boston”"),
    ('show pending bills vendor "Acme', "never closed"),
    ("show pending bills vendor “Acme", "never closed"),
    ("show bill", "Which bill?"),
    ("show bill #", "Which bill?"),
    ("show vendor", "Which vendor?"),
    ("show payments today", "not “today”"),
    ("status please", "“please”"),
    ("due this week please", "“please”"),
    ("subscribe", "Subscribe to what?"),
    ("subscribe vendor Acme", "Subscribe to what?"),
    ("subscribe bilz", "“bilz” is not something I post"),
    ("subscribe bills over lots", "“lots” is not an amount"),
    ("unsubscribe everything", "“everything” is not something I post"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID, ids=[t for t, _ in INVALID])
def test_invalid_values_get_a_helpful_message_not_unknown(text, fragment):
    result = parse_command(text)

    assert isinstance(result, InvalidCommand), result
    assert fragment in result.message
    assert result.text == " ".join(text.split())


AMOUNTS = [
    ("500", "500.00"),
    ("0", "0.00"),
    ("1,200.50", "1200.50"),
    ("$1,200", "1200.00"),
    ("€ 950.5", "950.50"),
    ("£1,000,000", "1000000.00"),
    ("1.2k", "1200.00"),
    ("1.2K", "1200.00"),
    ("2m", "2000000.00"),
    ("$ 1,200", "1200.00"),
    ("1.5 k", "1500.00"),
    ("1.2345k", "1234.50"),
    ("12,345,678.90", "12345678.90"),
]


@pytest.mark.parametrize(("text", "value"), AMOUNTS)
def test_amounts(text, value):
    assert parse_amount(text) == Decimal(value)
    assert str(parse_amount(text)) == value


NOT_AMOUNTS = ["", "abc", "1e5", "1..2", "1,2345", ",500", ".5", "5 5", "1 000", "1.2kk", "$", "k", "0x10", "NaN", "Infinity", "½", "٥٠٠"]


@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_not_amounts(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_very_long_text_is_refused_without_echoing_it_all():
    result = parse_command("show vendor " + "A" * 100_000)

    assert isinstance(result, InvalidCommand)
    assert str(MAX_COMMAND_CHARS) in result.message
    assert len(result.text) == MAX_COMMAND_CHARS


def test_text_at_the_cap_is_still_parsed():
    text = "show vendor " + "A" * (MAX_COMMAND_CHARS - len("show vendor "))

    assert parse_command(text) == ShowVendor("A" * (MAX_COMMAND_CHARS - len("show vendor ")))


def test_long_echoed_values_are_shortened_in_messages():
    result = parse_command("show pending bills over " + "9" * 20 + "x" * 200)

    assert isinstance(result, InvalidCommand)
    assert len(result.message) < 200


def test_commands_are_frozen_values():
    command = parse_command("show pending bills vendor Acme")

    with pytest.raises(AttributeError):
        command.vendor = "Other"  # type: ignore[misc]
    assert hash(command) == hash(ShowPendingBills(vendor="Acme"))


# --- the catalogue --------------------------------------------------------------------------


def test_every_catalogued_command_parses_as_itself():
    for spec in COMMANDS:
        example = {"show bill": "show bill 1", "show vendor": "show vendor Acme", "subscribe": "subscribe bills"}.get(spec.title, spec.title)
        assert not isinstance(parse_command(example), (Unknown, InvalidCommand)), spec.title


def test_catalogue_fits_the_teams_command_menu():
    # Teams' manifest reference: at most 12 commands, title ≤ 32 and description ≤ 128 characters
    # (stricter than the v1.25 JSON schema's 128 / 4000, which the next test checks).
    assert len(COMMANDS) <= 12
    for spec in COMMANDS:
        assert 0 < len(spec.title) <= 32, spec.title
        assert 0 < len(spec.description) <= 128, spec.title
    assert len({spec.title for spec in COMMANDS}) == len(COMMANDS)


def test_manifest_command_lists_validate_against_the_v1_25_schema(fixtures_dir: Path):
    schema = json.loads((fixtures_dir / "schemas" / "teams-manifest-v1.25.schema.json").read_text(encoding="utf-8"))
    command_lists_schema = schema["properties"]["bots"]["items"]["properties"]["commandLists"]

    lists = manifest_command_lists()

    jsonschema.Draft4Validator(command_lists_schema).validate(lists)
    assert [entry["scopes"] for entry in lists] == [["team"], ["groupChat"], ["personal"]]
    assert [c["title"] for c in lists[0]["commands"]][:1] == ["show pending bills"]


def test_a_too_long_description_would_fail_the_schema(fixtures_dir: Path):
    schema = json.loads((fixtures_dir / "schemas" / "teams-manifest-v1.25.schema.json").read_text(encoding="utf-8"))
    command_lists_schema = schema["properties"]["bots"]["items"]["properties"]["commandLists"]
    too_many = [{"scopes": ["team"], "commands": [{"title": f"c{n}", "description": "d"} for n in range(13)]}]

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(command_lists_schema).validate(too_many)


def test_messages_quote_values_briefly():
    assert messages.quote_value("Acme") == "“Acme”"
    assert len(messages.quote_value("x" * 500)) <= 42
