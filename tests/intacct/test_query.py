"""Query building: every value is escaped, enumerations use stored codes, timestamps the user's offset."""

from __future__ import annotations

import doctest
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from intacct import query as query_module
from intacct.query import all_of, any_of, clean_search_text, field, literal, quote, render
from intacct.states import (
    BILL_STATE_CODES,
    BILL_STATES,
    PAYMENT_STATE_CODES,
    PAYMENT_STATES,
    StateFilter,
    UnknownStateError,
    bill_state_filter,
    payment_state_filter,
    status_code,
)

PACIFIC = timedelta(hours=-8)


@pytest.mark.parametrize(
    "typed, literal_text",
    [
        ("Acme", "'Acme'"),
        ("Jane's Deli", r"'Jane\'s Deli'"),
        ("' OR 1=1", r"'\' OR 1=1'"),
        ("x' OR NAME != '", r"'x\' OR NAME != \''"),
        ("back\\slash\\'", r"'backslash\''"),  # backslashes never sent: \' cannot end the literal
        ("\\", "''"),
        ("50%_off", "'50%_off'"),  # plain characters in an equality
        ("Müller 中文 😀", "'Müller 中文 😀'"),
        ("tab\tnew\nline\x00nul\x1b", "'tabnewlinenul'"),
        ("lone\ud800", "'lone'"),
    ],
)
def test_typed_text_becomes_one_safe_literal(typed: str, literal_text: str) -> None:
    assert quote(typed) == literal_text
    rendered = render(field("VENDORID").eq(typed))
    assert rendered == f"VENDORID = {literal_text}"
    # A literal is one token: after its opening quote, every quote up to the last is escaped.
    body = rendered[len("VENDORID = '") : -1]
    assert all(body[i - 1] == "\\" for i, ch in enumerate(body) if ch == "'")
    assert "\\\\" not in body


@pytest.mark.parametrize(
    "typed, pattern",
    [
        ("acme", "'%acme%'"),
        ("50%_off", "'%50off%'"),  # the user's wildcards are removed
        ("O'Brien", r"'%O\'Brien%'"),
        ("  spaced  ", "'%spaced%'"),
        ("' OR 1=1 --", r"'%\' OR 1=1 --%'"),
    ],
)
def test_like_searches_cannot_be_widened(typed: str, pattern: str) -> None:
    assert render(field("NAME").contains(typed)) == f"NAME LIKE {pattern}"


@pytest.mark.parametrize("typed", ["%", "%%_", "\\", "\x00\x01", "   "])
def test_a_search_with_nothing_left_is_refused_not_turned_into_match_all(typed: str) -> None:
    assert clean_search_text(typed) == ""
    with pytest.raises(ValueError):
        field("NAME").contains(typed)


def test_values_of_every_type() -> None:
    moment = datetime(2026, 11, 23, 14, 5, 7, 999999, tzinfo=timezone.utc)
    assert literal(moment, PACIFIC) == "'11/23/2026 06:05:07'"  # user's offset, seconds floored
    assert literal(datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc), PACIFIC) == "'12/31/2025 19:00:00'"
    assert literal(date(2026, 3, 4), None) == "'03/04/2026'"
    assert literal(Decimal("500"), None) == "500"
    assert literal(Decimal("1E+3"), None) == "1000"
    assert literal(42, None) == "42"
    with pytest.raises(ValueError, match="offset"):
        literal(moment, None)
    with pytest.raises(ValueError, match="aware"):
        literal(datetime(2026, 1, 1), PACIFIC)
    with pytest.raises(TypeError):
        literal(True, None)
    with pytest.raises(TypeError):
        literal(1.5, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        literal(Decimal("NaN"), None)


def test_operators_and_combinations() -> None:
    condition = all_of(
        field("STATE").in_(bill_state_filter(["Submitted", "partially approved"]).codes_in),
        any_of(field("VENDORID").eq("V1"), field("VENDORNAME").contains("acme")),
        field("TOTALENTERED").ge(Decimal("500")),
        field("WHENDUE").le(date(2026, 12, 31)),
        field("RECORDNO").not_in([1, 2]),
        field("WHENPAID").is_null(),
        field("DESCRIPTION").is_not_null(),
        field("TOTALDUE").gt(0),
        field("RECORDNO").ne(3),
        field("RECORDNO").lt(9),
        field("NAME").starts_with("Ac%"),
    )
    assert render(condition, PACIFIC) == (
        "(STATE IN ('S', 'PA') AND (VENDORID = 'V1' OR VENDORNAME LIKE '%acme%') AND TOTALENTERED >= 500"
        " AND WHENDUE <= '12/31/2026' AND RECORDNO NOT IN (1, 2) AND WHENPAID IS NULL AND DESCRIPTION IS NOT NULL"
        " AND TOTALDUE > 0 AND RECORDNO != 3 AND RECORDNO < 9 AND NAME LIKE 'Ac%')"
    )
    assert render((field("A").eq(1) & field("B").eq(2)) & field("C").eq(3)) == "(A = 1 AND B = 2 AND C = 3)"
    assert render(field("A").eq(1) | field("B").eq(2) & field("C").eq(3)) == "(A = 1 OR (B = 2 AND C = 3))"
    assert render(all_of(field("A").eq(1))) == "A = 1"
    assert render(None) == ""


@pytest.mark.parametrize("name", ["name", "NAME; DROP", "NAME OR 1=1", "", "1ABC", "A..B", "A.B.C"])
def test_field_names_are_validated(name: str) -> None:
    with pytest.raises(ValueError):
        field(name)


def test_empty_in_lists_and_junctions_are_refused() -> None:
    with pytest.raises(ValueError):
        field("RECORDNO").in_([])
    with pytest.raises(ValueError):
        all_of()


def test_only_documented_codes_are_known() -> None:
    # developer.intacct.com documents these and no others; anything more would be a guess.
    assert dict(BILL_STATE_CODES) == {"Draft": "D", "Submitted": "S", "Partially Approved": "PA", "Declined": "U", "Posted": "A"}
    assert dict(PAYMENT_STATE_CODES) == {"Draft": "D", "Submitted": "S", "Approved": "A", "Confirmed": "C", "Voided": "V"}
    assert set(BILL_STATE_CODES) <= set(BILL_STATES) and set(PAYMENT_STATE_CODES) <= set(PAYMENT_STATES)
    assert status_code("Active") == "T" and status_code("inactive") == "F"


def test_states_with_documented_codes_are_filtered_by_intacct() -> None:
    assert bill_state_filter(["Submitted", "partially approved", "submitted"]) == StateFilter(("S", "PA"), (), None)
    assert payment_state_filter(["Approved", "Confirmed"]) == StateFilter(("A", "C"), (), None)


def test_states_without_a_documented_code_are_checked_by_word() -> None:
    # Paid and Selected have no documented code: exclude what documented codes can, keep the words.
    paid = bill_state_filter(["Posted", "Paid", "Selected"])
    assert paid.codes_in is None and paid.codes_out == ("D", "S", "PA", "U")
    assert paid.keeps("Paid") and paid.keeps("posted") and not paid.keeps("Reversed")
    pending = payment_state_filter(["Submitted", "Partially Approved", "Approved", "Delivered"])
    assert pending.codes_in is None and pending.codes_out == ("D", "C", "V")
    assert pending.keeps("Delivered") and not pending.keeps("Print Voided")


def test_unknown_state_words_are_refused() -> None:
    with pytest.raises(UnknownStateError, match="Approved"):
        bill_state_filter(["Approved"])  # a bill is "Posted" once approved
    with pytest.raises(UnknownStateError, match="Complete"):
        payment_state_filter(["Complete"])  # the word is Confirmed


def test_module_docstring_example() -> None:
    outcome = doctest.testmod(query_module)
    assert outcome.attempted >= 1 and outcome.failed == 0
