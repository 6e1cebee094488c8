"""The compiled page reader (intacct/_fastpage.pyx) reads every page exactly as the row reader does.

Each page here goes through both readers of the same layout: `RecordReader.page` (compiled) and
`RecordReader.row` over `Result.rows()` (the reference). Random pages mix empty and absent
fields, unknown and repeated elements, entities, non-ASCII text, indentation and comments; the
pages the compiled reader must refuse (nested fields, split values) and the bad values (which must
fail with the row reader's error, naming the field) are checked one by one.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from intacct import records
from intacct.bills import BILL_FIELDS, BILL_LAYOUT, BILL_LINE_FIELDS, BILL_LINE_LAYOUT, Bill, BillLine, parse_bill, parse_bill_line, parse_bill_line_page, parse_bill_page
from intacct.errors import MalformedRecordError
from intacct.protocol import Result, parse_response
from intacct.records import REQUIRED, Layout, amount, constant, integer, text

PACIFIC = timezone(timedelta(hours=-8))
ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Acme", "O'Brien & Sons", "Bürotechnik <West>", "  padded  ", "名前", "a\tb", "x" * 300, "0", "-"]


def page(rows: list[str], *, tag: str = "apbill") -> Result:
    """A readByQuery answer holding ``rows`` (each the inside of one row element)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control><operation>'
        "<authentication><status>success</status></authentication><result><status>success</status>"
        f'<function>readByQuery</function><controlid>q</controlid><data listtype="{tag}" count="{len(rows)}" '
        f'totalcount="{len(rows)}" numremaining="0">' + "".join(f"<{tag}>{row}</{tag}>" for row in rows) + "</data></result>"
        "</operation></response>"
    )
    return parse_response(body.encode()).results[0]


def element(name: str, value: str | None) -> str:
    return f"<{name}/>" if value is None else f"<{name}>{escape(value)}</{name}>"


def random_bill(rng: random.Random, n: int) -> str:
    values = {
        "RECORDNO": str(n), "RECORDID": rng.choice([f"INV-{n}", None]), "VENDORID": rng.choice(["V1", None]),
        "VENDORNAME": rng.choice([*TEXTS, None]), "STATE": rng.choice(["Posted", "Submitted", None]),
        "DESCRIPTION": rng.choice([*TEXTS, None]), "DOCNUMBER": rng.choice(["PO-1", None]),
        "WHENCREATED": rng.choice(["01/31/2026", "12/01/2025", None]), "WHENDUE": rng.choice(["02/28/2026", None]),
        "WHENPAID": rng.choice(["03/01/2026", None]), "TRX_TOTALENTERED": rng.choice(["1250.00", "-3.5", "0", "1E+3", None]),
        "TRX_TOTALDUE": rng.choice(["99.99", "0.00", None]), "TRX_TOTALPAID": rng.choice(["12", None]),
        "CURRENCY": rng.choice(["USD", "EUR", None]), "MEGAENTITYID": rng.choice(["E100", None]),
        "WHENMODIFIED": rng.choice(["11/23/2026 06:00:01", "02/29/2028 23:59:59", None]),
        "RECORD_URL": rng.choice(["https://www.intacct.com/ia/acct/ur.phtml?.r=a&b=c", None]),
    }  # fmt: skip
    fields = [element(name, value) for name, value in values.items() if name == "RECORDNO" or rng.random() > 0.1]
    if rng.random() < 0.2:
        fields.append(element("CUSTOMFIELD", rng.choice(TEXTS)))  # asked-for fields only are read
    if rng.random() < 0.1:
        fields.append(element("STATE", "Paid"))  # a repeated element: the last one counts, as in rows()
    rng.shuffle(fields)
    joiner = rng.choice(["", "\n    ", "<!-- note -->"])
    return joiner + joiner.join(fields) + joiner


def both_ways(result: Result) -> tuple[list[Bill], list[Bill]]:
    """(compiled page reader, row reader) over the same result."""
    return parse_bill_page(result, PACIFIC), [parse_bill(row, PACIFIC) for row in result.rows()]


def test_the_compiled_reader_is_built_and_used() -> None:
    # make builds it (intacct/_fastpage_build.py); without it every page would be read row by row.
    assert records.PAGE_READER == "compiled"
    checked = subprocess.run([sys.executable, "-m", "intacct._fastpage_build", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert (checked.returncode, checked.stdout.strip()) == (0, "intacct page reader: compiled")


@pytest.mark.parametrize("seed", range(8))
def test_random_pages_read_the_same_both_ways(seed: int) -> None:
    rng = random.Random(seed)
    result = page([random_bill(rng, n) for n in range(1, 201)])

    compiled, by_rows = both_ways(result)

    assert compiled == by_rows and len(compiled) == 200
    assert all(type(bill) is Bill for bill in compiled)


def test_values_arrive_unescaped_and_whole() -> None:
    result = page(["<RECORDNO>7</RECORDNO><VENDORNAME>O&apos;Brien &amp; Sons &lt;West&gt; &#x540D;</VENDORNAME>"
                   "<DESCRIPTION><![CDATA[a < b]]></DESCRIPTION><TRX_TOTALDUE> 12.50 </TRX_TOTALDUE>"])  # fmt: skip

    [bill] = parse_bill_page(result, PACIFIC)

    assert (bill.vendor_name, bill.description, bill.total_due) == ("O'Brien & Sons <West> 名", "a < b", Decimal("12.50"))
    assert [bill] == [parse_bill(row, PACIFIC) for row in result.rows()]


def test_an_empty_page_is_no_records() -> None:
    assert both_ways(page([])) == ([], [])


@pytest.mark.parametrize(
    ("inside", "vendor_name"),
    [
        ("<VENDOR><NAME>Acme</NAME></VENDOR><VENDORNAME>Acme</VENDORNAME>", "Acme"),  # an extra nested field
        ("<VENDORNAME><NAME>Acme</NAME></VENDORNAME>", ""),  # an asked-for field that is nested: VENDORNAME.NAME
        ("<VENDORNAME>Acme<NOTE>x</NOTE></VENDORNAME>", ""),  # mixed content
    ],
)
def test_a_page_with_nested_fields_is_read_by_rows(inside: str, vendor_name: str) -> None:
    result = page([f"<RECORDNO>8</RECORDNO>{inside}"])

    compiled, by_rows = both_ways(result)

    assert compiled == by_rows and compiled[0].vendor_name == vendor_name


@pytest.mark.parametrize(
    ("inside", "complaint"),
    [
        ("<TRX_TOTALDUE>12,50</TRX_TOTALDUE>", "TRX_TOTALDUE.*decimal amount"),
        ("<TRX_TOTALDUE>NaN</TRX_TOTALDUE>", "TRX_TOTALDUE.*decimal amount"),
        ("<WHENDUE>2026-02-28</WHENDUE>", r"WHENDUE.*date \(MM/DD/YYYY\)"),
        ("<WHENMODIFIED>11/23/2026</WHENMODIFIED>", "WHENMODIFIED.*timestamp"),
    ],
)
def test_a_bad_value_fails_as_the_row_reader_fails_naming_the_field(inside: str, complaint: str) -> None:
    result = page(["<RECORDNO>1</RECORDNO>", f"<RECORDNO>2</RECORDNO>{inside}"])

    with pytest.raises(MalformedRecordError, match=complaint) as from_page:
        parse_bill_page(result, PACIFIC)

    assert "RECORDNO 2" in str(from_page.value)
    with pytest.raises(MalformedRecordError) as from_rows:
        [parse_bill(row, PACIFIC) for row in result.rows()]
    assert str(from_page.value) == str(from_rows.value)


@pytest.mark.parametrize("record_no", ["", None])
def test_a_row_without_its_record_number_is_malformed(record_no: str | None) -> None:
    result = page(["<RECORDNO>1</RECORDNO>", element("RECORDNO", record_no) + "<RECORDID>INV-2</RECORDID>"])

    with pytest.raises(MalformedRecordError, match="RECORDNO is missing"):
        parse_bill_page(result, PACIFIC)


def test_the_layouts_read_exactly_the_fields_asked_for() -> None:
    assert sorted(BILL_LAYOUT.sources) == sorted(BILL_FIELDS)
    assert sorted(BILL_LINE_LAYOUT.sources) == sorted(BILL_LINE_FIELDS)


@dataclasses.dataclass(frozen=True, slots=True)
class _Pair:
    number: int
    name: str | None
    cost: Decimal
    tags: tuple[str, ...]


def test_a_layout_must_match_its_record() -> None:
    Layout(_Pair, (integer("N"), text("NAME"), amount("COST"), constant(())))
    with pytest.raises(ValueError, match="_Pair has 4 fields; the layout gives 3"):
        Layout(_Pair, (integer("N"), text("NAME"), amount("COST")))
    with pytest.raises(ValueError, match="constants must come after"):
        Layout(_Pair, (integer("N"), constant(()), text("NAME"), amount("COST")))


def test_other_layouts_read_pages_too() -> None:
    layout = Layout(_Pair, (integer("N"), text("NAME"), amount("COST"), constant(("x",))))
    result = page(["<N>1</N><NAME>one</NAME><COST>2.5</COST>", "<N>2</N><NAME/>"], tag="pair")

    assert layout.reader(PACIFIC).page(result) == [_Pair(1, "one", Decimal("2.5"), ("x",)), _Pair(2, None, Decimal(0), ("x",))]
    assert repr(REQUIRED) == "REQUIRED"


def random_line(rng: random.Random, n: int) -> str:
    values = {
        "RECORDNO": str(n), "RECORDKEY": str(n // 3 + 1), "LINE_NO": rng.choice([str(n % 3 + 1), "0", None]),
        "ACCOUNTNO": rng.choice(["6000", None]), "ACCOUNTTITLE": rng.choice([*TEXTS, None]),
        "TRX_AMOUNT": rng.choice(["10.00", "-0.01", None]), "ENTRYDESCRIPTION": rng.choice([*TEXTS, None]),
        "DEPARTMENTID": rng.choice(["D100", None]), "DEPARTMENTNAME": rng.choice(["Finance", None]),
        "LOCATIONID": rng.choice(["L1", None]), "LOCATIONNAME": rng.choice(["Seattle", None]),
        "CLASSID": rng.choice(["C1", None]), "CLASSNAME": rng.choice(["Recurring", None]),
        "PROJECTID": rng.choice(["P1", None]), "PROJECTNAME": rng.choice(["Move", None]),
    }  # fmt: skip
    return "".join(element(name, value) for name, value in values.items() if name in ("RECORDNO", "RECORDKEY") or rng.random() > 0.1)


@pytest.mark.parametrize("seed", range(4))
def test_random_line_pages_read_the_same_both_ways(seed: int) -> None:
    rng = random.Random(seed)
    result = page([random_line(rng, n) for n in range(1, 301)], tag="apbillitem")

    compiled = parse_bill_line_page(result)

    assert compiled == [parse_bill_line(row) for row in result.rows()] and len(compiled) == 300
    assert all(type(key) is int and type(line) is BillLine for key, line in compiled)


def test_a_line_without_its_bill_is_malformed_both_ways() -> None:
    result = page(["<RECORDNO>5</RECORDNO><RECORDKEY>1</RECORDKEY>", "<RECORDNO>6</RECORDNO><RECORDKEY/>"], tag="apbillitem")

    with pytest.raises(MalformedRecordError, match="RECORDKEY is missing"):
        parse_bill_line_page(result)
    with pytest.raises(MalformedRecordError, match="RECORDKEY is missing"):
        [parse_bill_line(row) for row in result.rows()]


@pytest.mark.parametrize(
    "object_name, fields, layout, compiled_reader, row_reader",
    [
        ("APBILL", BILL_FIELDS, BILL_LAYOUT, lambda r: parse_bill_page(r, PACIFIC), lambda row: parse_bill(row, PACIFIC)),
        ("APBILLITEM", BILL_LINE_FIELDS, BILL_LINE_LAYOUT, parse_bill_line_page, parse_bill_line),
    ],
)
async def test_gateway_pages_indented_like_the_real_gateway_read_the_same_both_ways(
    clock, object_name, fields, layout, compiled_reader, row_reader
) -> None:
    # The sandbox answers as the recorded captures are laid out: every level indented by four spaces.
    from tests.fakes.sandbox import running_sandbox
    from tests.sandbox.helpers import read_by_query, request

    async with running_sandbox(clock) as sandbox:
        async with sandbox.http.post(sandbox.gateway_url, data=request([read_by_query(object_name, ",".join(fields), pagesize=1000)])) as answer:
            body = await answer.read()
    assert f"\n                <{object_name.lower()}>\n                    <RECORDNO>".encode() in body
    result = parse_response(body).results[0]
    reader = layout.reader(PACIFIC)
    # The compiled reader takes the indented page itself (it does not hand it back to the row reader).
    assert records._read_records(result.data_element, layout.sources, reader._converters, reader._empties, reader._build,
                                 layout.tail, REQUIRED) is not None
    compiled, by_rows = compiled_reader(result), [row_reader(row) for row in result.rows()]
    assert compiled == by_rows and len(compiled) >= 300
