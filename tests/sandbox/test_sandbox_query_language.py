"""The readByQuery language: tokenizer, parser and compiled predicates, table-driven, hostile input included."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sandbox.errors import QuerySyntaxError
from sandbox.objects import APBILL
from sandbox.predicate import compile_condition
from sandbox.query import MAX_DEPTH, MAX_IN_VALUES, And, Comparison, Not, Or, parse_query, tokenize

PACIFIC = timezone(timedelta(hours=-8))
UTC = timezone.utc


def _bill(record_no: int, **values: object) -> list:
    return APBILL.new_row({"RECORDNO": record_no, **values})


ROWS = [
    _bill(1, RECORDID="INV-001", VENDORNAME="O'Brien Abrasives Co.", RAWSTATE="S", TOTALENTERED=Decimal("100.00"),
          WHENDUE=date(2026, 11, 20), WHENMODIFIED=datetime(2026, 11, 23, 14, 0, 0, tzinfo=UTC),
          DESCRIPTION="Steel coil", ONHOLD=False),
    _bill(2, RECORDID="INV-002", VENDORNAME="Pacific Steel Supply", RAWSTATE="A", TOTALENTERED=Decimal("2500.50"),
          WHENDUE=date(2026, 12, 1), WHENMODIFIED=datetime(2026, 11, 23, 13, 59, 59, tzinfo=UTC),
          DESCRIPTION=None, ONHOLD=True),
    _bill(3, RECORDID="INV_003", VENDORNAME="Acme 100% Co", RAWSTATE="P", TOTALENTERED=Decimal("99.99"),
          WHENDUE=date(2026, 10, 15), WHENMODIFIED=datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC),
          DESCRIPTION="x' OR 1=1", ONHOLD=False),
    _bill(4, RECORDID="inv-004", VENDORNAME="acme lowercase", RAWSTATE="PA", TOTALENTERED=Decimal("0.01"),
          WHENDUE=None, WHENMODIFIED=None, DESCRIPTION="back\\slash", ONHOLD=None),
    _bill(5, RECORDID="INV-005", VENDORNAME="Zed", RAWSTATE="U", TOTALENTERED=Decimal("1000"),
          WHENDUE=date(2026, 11, 23), WHENMODIFIED=datetime(2026, 11, 24, 7, 59, 59, tzinfo=UTC),
          DESCRIPTION="Steel", ONHOLD=False),
]


def matching(query: str) -> set[int]:
    predicate = compile_condition(parse_query(query), APBILL, PACIFIC)
    return {row[0] for row in ROWS if predicate(row)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {1, 2, 3, 4, 5}),
        ("   ", {1, 2, 3, 4, 5}),
        # each comparison operator, on integers, decimals and numeric strings
        ("RECORDNO = 2", {2}),
        ("RECORDNO != 2", {1, 3, 4, 5}),
        ("RECORDNO <> 2", {1, 3, 4, 5}),
        ("TOTALENTERED > 100", {2, 5}),
        ("TOTALENTERED >= 100", {1, 2, 5}),
        ("TOTALENTERED < 100", {3, 4}),
        ("TOTALENTERED <= 99.99", {3, 4}),
        ("TOTALENTERED = '100.00'", {1}),
        ("RECORDNO = '2'", {2}),
        ("RECORDNO > -1", {1, 2, 3, 4, 5}),
        ("RECORDNO<3", {1, 2}),
        # enumerations compare on stored codes, never on display values
        ("STATE = 'A'", {2}),
        ("STATE = 'Posted'", set()),
        ("STATE IN ('S', 'PA')", {1, 4}),
        ("STATE NOT IN ('S', 'PA')", {2, 3, 5}),
        ("RECORDNO IN (1, 2, 3)", {1, 2, 3}),
        ("RECORDNO IN ('1','2')", {1, 2}),
        # LIKE: % and _, case-sensitive
        ("VENDORNAME LIKE 'Pacific%'", {2}),
        ("VENDORNAME LIKE 'acme%'", {4}),
        ("VENDORNAME LIKE 'Acme 100% Co'", {3}),
        ("RECORDID LIKE 'INV_00_'", {1, 2, 3, 5}),
        ("RECORDID LIKE 'INV-00_'", {1, 2, 5}),
        ("VENDORNAME NOT LIKE '%Co%'", {2, 4, 5}),
        ("TOTALENTERED LIKE '%.50'", {2}),
        # NULL handling
        ("DESCRIPTION IS NULL", {2}),
        ("DESCRIPTION IS NOT NULL", {1, 3, 4, 5}),
        ("WHENDUE IS NULL AND WHENMODIFIED IS NULL", {4}),
        # dates, and timestamps read in the user's gmtoffset (-08:00)
        ("WHENDUE < '11/23/2026'", {1, 3}),
        ("WHENDUE = '11/23/2026'", {5}),
        ("WHENDUE >= '11/23/2026'", {2, 5}),
        ("WHENMODIFIED >= '11/23/2026 06:00:00'", {1, 5}),
        ("WHENMODIFIED > '11/23/2026 05:59:59'", {1, 5}),
        ("WHENMODIFIED >= '11/23/2026 05:59:59'", {1, 2, 5}),
        ("WHENMODIFIED >= '11/23/2026'", {1, 2, 5}),
        ("WHENMODIFIED < '11/22/2026 00:00:01'", {3}),
        ("WHENMODIFIED <= '11/23/2026 23:59:59'", {1, 2, 3, 5}),
        # booleans compare as T/F codes
        ("ONHOLD = 'T'", {2}),
        ("ONHOLD = 'F'", {1, 3, 5}),
        ("ONHOLD = 'true'", set()),
        # precedence: NOT > AND > OR, parentheses override
        ("STATE = 'S' OR STATE = 'A' AND TOTALENTERED > 5000", {1}),
        ("(STATE = 'S' OR STATE = 'A') AND TOTALENTERED > 1000", {2}),
        ("STATE = 'S' OR (STATE = 'A' AND TOTALENTERED > 1000) OR RECORDNO = 5", {1, 2, 5}),
        ("NOT STATE = 'S'", {2, 3, 4, 5}),
        ("NOT NOT RECORDNO = 1", {1}),
        ("NOT STATE = 'S' AND RECORDNO < 3", {2}),
        ("((((RECORDNO = 3))))", {3}),
        # three-valued logic: NOT over an unknown (NULL) comparison stays unknown
        ("NOT (DESCRIPTION = 'Steel')", {1, 3, 4}),
        ("DESCRIPTION != 'Steel'", {1, 3, 4}),
        ("DESCRIPTION = 'Steel' OR RECORDNO = 2", {2, 5}),
        # escapes: \' is a quote inside one literal, \\ a backslash
        ("VENDORNAME = 'O\\'Brien Abrasives Co.'", {1}),
        ("DESCRIPTION = 'x\\' OR 1=1'", {3}),
        ("VENDORNAME = 'x\\' OR 1=1'", set()),
        ("DESCRIPTION = 'back\\\\slash'", {4}),
        ("DESCRIPTION LIKE 'back\\\\%'", {4}),
        ("VENDORNAME = 'Zéd'", set()),
        # keywords and field names are case-insensitive; string values are not
        ("state in ('S') and recordno = 1", {1}),
        ("VENDORNAME = 'zed'", set()),
    ],
)
def test_query_selects_the_expected_rows(query: str, expected: set[int]) -> None:
    assert matching(query) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("RECORDNO = ", "expected a quoted string or a number, found the end of the query"),
        ("RECORDNO 5", "expected an operator"),
        ("= 5", "expected a field name"),
        ("FOO = 1", "FOO is not a field of APBILL"),
        ("RECORD_URL = 'x'", "RECORD_URL cannot be used in a query condition"),
        ("RECORDID = INV", "quote text values"),
        ("RECORDID = 142507-P", "unexpected character '-'"),
        ("RECORDNO = 'abc'", "'abc' is not a number"),
        ("TOTALENTERED > 'NaN'", "'NaN' is not a number"),
        ("WHENDUE = '2026-11-23'", "not a valid value for WHENDUE"),
        ("WHENDUE = '11/23/2026 10:00:00'", "not a valid value for WHENDUE"),
        ("WHENMODIFIED > '13/45/2026 99:00:00'", "not a valid value for WHENMODIFIED"),
        ("WHENMODIFIED > 5", "takes a quoted date"),
        ("RECORDID = 'abc", "unterminated string literal"),
        ("RECORDID = 'abc\\'", "unterminated string literal"),
        ("(RECORDNO = 1", "expected ')'"),
        ("RECORDNO = 1)", "unexpected ')' after a complete condition"),
        ("RECORDNO IN ()", "expected a quoted string or a number"),
        ("RECORDNO IN (1,)", "expected a quoted string or a number"),
        ("RECORDNO IN 1", "expected '(' after IN"),
        ("DESCRIPTION LIKE 5", "LIKE needs a quoted pattern"),
        ("DESCRIPTION IS 'x'", "expected NULL"),
        ("DESCRIPTION IS NOT", "expected NULL"),
        ("DESCRIPTION = NULL", "use IS NULL"),
        ("DESCRIPTION NOT = 'x'", "expected IN or LIKE after NOT"),
        ("RECORDNO = 1 AND", "expected a field name"),
        ("RECORDNO = 1 OR OR RECORDNO = 2", "expected a field name"),
        ("RECORDNO == 1", "expected a quoted string or a number, found '='"),
        ("RECORDNO = 1.2.3", "malformed number"),
        ("RECORDNO = 5abc", "malformed number"),
        ('RECORDID = "x"', "unexpected character '\"'"),
        ("RECORDNO = 1; DROP TABLE APBILL", "unexpected character ';'"),
        ("VENDORNAME = 'x' OR 1=1", "expected a field name, found '1'"),
        ("VENDORNAME = 'x' --", "unexpected character '-'"),
        ("VENDORNAME = 'x\\\\' OR RECORDNO > 0 OR VENDORNAME = '", "unterminated string literal"),
        ("VENDORNAME = 'a' UNION SELECT PASSWORD", "unexpected 'UNION'"),
        ("RECORDNO = 1 /* comment */", "unexpected character '/'"),
        ("ÄNDERUNG = 1", "unexpected character 'Ä'"),
    ],
)
def test_unreadable_queries_raise_a_clear_error(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_condition(parse_query(query), APBILL, PACIFIC)
    assert message in str(caught.value)


def test_hostile_sizes_are_refused_not_recursed() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "RECORDNO = 1" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(QuerySyntaxError, match="nested deeper"):
        parse_query(deep)
    nots = "NOT " * 10_000 + "RECORDNO = 1"
    with pytest.raises(QuerySyntaxError, match="nested deeper"):
        parse_query(nots)
    values = ", ".join(str(n) for n in range(MAX_IN_VALUES + 1))
    with pytest.raises(QuerySyntaxError, match="more than 1000 values"):
        parse_query(f"RECORDNO IN ({values})")
    with pytest.raises(QuerySyntaxError, match="longer than"):
        parse_query("RECORDNO = 1 OR " * 20_000 + "RECORDNO = 1")


def test_the_biggest_allowed_in_list_still_works() -> None:
    values = ", ".join(str(n) for n in range(MAX_IN_VALUES))
    assert matching(f"RECORDNO IN ({values})") == {1, 2, 3, 4, 5}


def test_errors_carry_the_position_of_the_offending_token() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("RECORDNO = 1 AND ; x")
    assert caught.value.position == 17
    with pytest.raises(QuerySyntaxError) as caught:
        compile_condition(parse_query("RECORDNO = 1 OR NOPE = 2"), APBILL, PACIFIC)
    assert caught.value.position == 16


def test_tokens_decode_escapes_numbers_and_operators() -> None:
    tokens = tokenize("DISPLAYCONTACT.EMAIL1 >= 'x\\'y\\\\z' and not C in (1,-2.5) <> !=")
    assert [(t.kind, t.value) for t in tokens] == [
        ("WORD", "DISPLAYCONTACT.EMAIL1"), ("OP", ">="), ("STRING", "x'y\\z"), ("KEYWORD", "AND"),
        ("KEYWORD", "NOT"), ("WORD", "C"), ("KEYWORD", "IN"), ("LPAREN", "("), ("NUMBER", "1"), ("COMMA", ","),
        ("NUMBER", "-2.5"), ("RPAREN", ")"), ("OP", "!="), ("OP", "!="), ("EOF", ""),
    ]
    assert tokens[2].position == 25  # where the quote opens, not where the decoded text would start


def test_a_backslash_before_another_character_is_kept_as_written() -> None:
    (token, _) = tokenize("'a\\%b'")
    assert token.value == "a\\%b"


def test_the_parser_builds_the_precedence_tree() -> None:
    tree = parse_query("A = 1 OR NOT B = 2 AND C = 3")
    assert isinstance(tree, Or)
    first, second = tree.parts
    assert isinstance(first, Comparison) and first.field == "A"
    assert isinstance(second, And)
    assert isinstance(second.parts[0], Not) and second.parts[1].field == "C"
