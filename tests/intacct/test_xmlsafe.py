"""Hardened parsing and sanitising: hostile or broken XML is refused or repaired, never expanded or crashed on."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from intacct.errors import MalformedResponseError, UnsafeResponseError
from intacct.protocol import LoginAuth, build_request, get_api_session, parse_response, read_by_query
from intacct.xmlsafe import declares_doctype, parse_xml, strip_forbidden

OK = b"<response><control><status>success</status></control></response>"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<response><control><status>&lol9;</status></control></response>"""

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<response><control><status>success</status></control><operation><result><data><vendor><NAME>&xxe;</NAME></vendor></data></result></operation></response>"""


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(UnsafeResponseError, match="DOCTYPE"):
        parse_response(BILLION_LAUGHS)


def test_external_entity_is_refused_and_never_read() -> None:
    with pytest.raises(UnsafeResponseError) as raised:
        parse_response(XXE)
    assert "root:" not in str(raised.value)


@pytest.mark.parametrize(
    "prefix",
    [b"", b"\xef\xbb\xbf", b"<!-- a comment -->\n", b"<?xml version='1.0'?>\n<?pi data?>\n  "],
)
def test_a_doctype_after_any_prolog_is_refused(prefix: bytes) -> None:
    with pytest.raises(UnsafeResponseError):
        parse_xml(prefix + b'<!DOCTYPE response [<!ENTITY a "b">]><response>&a;</response>')


def test_a_utf16_doctype_the_byte_scan_cannot_read_is_refused_after_parsing() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE response [<!ENTITY a "b">]><response>&a;</response>'.encode("utf-16")
    with pytest.raises(UnsafeResponseError):
        parse_xml(body)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"<!DOCTYPE html><html><head><title>502 Bad gateway</title></head><body>cf-error-details</body></html>", None),
        (b"\n<html><body>Error 524</body></html>", None),
        (b"<response>fine but</response>", "text/html; charset=UTF-8"),
    ],
)
def test_html_pages_are_a_typed_malformed_response(body: bytes, content_type: str | None) -> None:
    with pytest.raises(MalformedResponseError, match="HTML"):
        parse_xml(body, content_type=content_type)


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"<response><control>", b"not xml at all", b"<response><a></b></response>", b"\x00\x01\x02"],
)
def test_malformed_bodies_are_a_typed_error(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        parse_xml(body)


def test_a_document_that_is_not_a_response_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="<response>"):
        parse_response(b"<request/>")
    with pytest.raises(MalformedResponseError, match="control"):
        parse_response(b"<response/>")


def test_hostile_prolog_does_not_hang_the_scan() -> None:
    body = b"<?xml version='1.0'?>" + b" " * 60000 + b"<?" * 3000 + b"x"
    started = time.perf_counter()
    with pytest.raises(MalformedResponseError):
        parse_xml(body)
    assert time.perf_counter() - started < 1.0


def _vendor_page(name: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control>'
        b"<operation><authentication><status>success</status></authentication><result><status>success</status>"
        b"<function>readByQuery</function><controlid>f1</controlid>"
        b'<data listtype="vendor" count="1" totalcount="1" numremaining="0" resultId=""><vendor><RECORDNO>1</RECORDNO>'
        b"<NAME>" + name + b"</NAME></vendor></data></result></operation></response>"
    )


@pytest.mark.parametrize(
    "name, expected",
    [
        (b"Acme\x01 \x1fLtd", "Acme Ltd"),  # raw C0 controls
        (b"Acme&#1; Ltd&#x1F;", "Acme Ltd"),  # references to them
        (b"Acme \xff\xfeLtd", "Acme \ufffd\ufffdLtd"),  # invalid UTF-8
        (b"Acme\x0b&#xFFFE;", "Acme"),
    ],
)
def test_control_characters_in_an_answer_are_removed_and_the_rest_kept(name: bytes, expected: str, caplog) -> None:
    caplog.set_level("WARNING")
    response = parse_response(_vendor_page(name))
    assert next(response.results[0].rows())["NAME"] == expected
    assert "repaired" in caplog.text


def test_allowed_character_references_survive_repair() -> None:
    response = parse_response(_vendor_page(b"Caf&#233; &amp; Co\x02"))
    assert next(response.results[0].rows())["NAME"] == "Café & Co"


def test_a_broken_document_with_control_characters_is_still_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        parse_xml(b"<response>\x01<unclosed></response>")


@pytest.mark.parametrize(
    "text, clean",
    [
        ("plain", "plain"),
        ("tab\tlf\ncr\r", "tab\tlf\ncr\r"),
        ("nul\x00bell\x07esc\x1b", "nulbellesc"),
        ("lone \ud800 surrogate \udfff", "lone  surrogate "),
        ("non\ufffe chars\uffff", "non chars"),
        ("emoji 😀 and ü, 中文, \u2028", "emoji 😀 and ü, 中文, \u2028"),
        ("\x7f del is allowed \x85", "\x7f del is allowed \x85"),
    ],
)
def test_strip_forbidden(text: str, clean: str) -> None:
    assert strip_forbidden(text) == clean


def test_requests_with_forbidden_characters_serialise_and_round_trip() -> None:
    hostile = "Acme\x00 \x08Co\ud800\uffff'\"<&>"
    body = build_request(
        sender_id="sender\x01",
        sender_password="pw\x1f",
        auth=LoginAuth("user\x0b", "co", "pw\x00"),
        functions=[get_api_session()],
    )
    root = etree.fromstring(body)  # a strict parser: would raise on any forbidden character
    assert root.findtext("control/senderid") == "sender"
    assert root.findtext("operation/authentication/login/userid") == "user"
    query = read_by_query("VENDOR", ["NAME"], f"NAME = '{hostile}'")
    body = build_request(sender_id="s", sender_password="p", auth=LoginAuth("u", "c", "p"), functions=[query])
    assert etree.fromstring(body).findtext("operation/content/function/readByQuery/query") == "NAME = 'Acme Co'\"<&>'"
    with pytest.raises(ValueError):
        etree.Element("x").text = hostile  # what would happen without stripping


def test_the_doctype_is_refused_before_any_parsing() -> None:
    # Not even well formed: only a scan ahead of the parser can call this unsafe rather than malformed.
    with pytest.raises(UnsafeResponseError):
        parse_xml(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a SYSTEM "file:///etc/passwd">]><response>&a;<unclosed>')
    assert declares_doctype(b"\xef\xbb\xbf<!-- c --><?pi x?>\n<!DOCTYPE r>") and not declares_doctype(b"<response>&lt;!DOCTYPE</response>")
