"""The envelope builders and the response parser (pure functions, no network)."""

from __future__ import annotations

import pytest
from lxml import etree

from intacct.errors import FunctionError, MalformedResponseError
from intacct.protocol import (
    MAX_PAGE_SIZE,
    Function,
    LoginAuth,
    SessionAuth,
    build_request,
    get_api_session,
    parse_response,
    read_by_query,
    read_more,
    read_user_formatting,
)


def request(auth: LoginAuth | SessionAuth, functions: list[Function]) -> etree._Element:
    return etree.fromstring(build_request(sender_id="snd", sender_password="snd-pw", auth=auth, functions=functions, control_id="req-1"))


def test_session_request_envelope_is_exactly_the_documented_one() -> None:
    functions = [read_by_query("APBILL", ["RECORDNO", "STATE"], "STATE = 'S'", pagesize=1000), read_more("r1")]
    root = request(SessionAuth("sess-123"), functions)
    assert [child.tag for child in root] == ["control", "operation"]
    control = root.find("control")
    assert [(c.tag, c.text) for c in control] == [
        ("senderid", "snd"),
        ("password", "snd-pw"),
        ("controlid", "req-1"),
        ("uniqueid", "false"),
        ("dtdversion", "3.0"),
        ("includewhitespace", "false"),
    ]
    operation = root.find("operation")
    assert operation.attrib == {"transaction": "false"}
    assert [c.tag for c in operation] == ["authentication", "content"]
    assert [(c.tag, c.text) for c in operation.find("authentication")] == [("sessionid", "sess-123")]
    calls = operation.findall("content/function")
    assert [f.get("controlid") for f in calls] == [f.controlid for f in functions]
    assert [(c.tag, c.text) for c in calls[0].find("readByQuery")] == [
        ("object", "APBILL"),
        ("query", "STATE = 'S'"),
        ("fields", "RECORDNO,STATE"),
        ("pagesize", "1000"),
        ("returnFormat", "xml"),
    ]
    assert calls[1].findtext("readMore/resultId") == "r1"


def test_login_request_has_userid_companyid_password_and_optional_locationid() -> None:
    plain = request(LoginAuth("u", "CO", "pw"), [get_api_session()])
    assert [(c.tag, c.text) for c in plain.find("operation/authentication/login")] == [("userid", "u"), ("companyid", "CO"), ("password", "pw")]
    entity = request(LoginAuth("u", "CO", "pw", "E1"), [get_api_session()])
    assert entity.findtext("operation/authentication/login/locationid") == "E1"
    assert plain.find("operation/content/function/getAPISession") is not None


def test_controlids_are_generated_unique_and_duplicates_refused() -> None:
    functions = [read_more("a"), read_more("b"), read_user_formatting("u")]
    assert len({f.controlid for f in functions}) == 3
    with pytest.raises(ValueError, match="unique"):
        request(SessionAuth("s"), [read_more("a", controlid="x"), read_more("b", controlid="x")])


def test_get_api_session_must_travel_alone_and_a_request_needs_a_function() -> None:
    with pytest.raises(ValueError, match="alone"):
        request(LoginAuth("u", "c", "p"), [get_api_session(), read_more("a")])
    with pytest.raises(ValueError, match="at least one"):
        request(SessionAuth("s"), [])


@pytest.mark.parametrize("fields", [["*"], [], ["RECORDNO,NAME"], [""]])
def test_read_by_query_never_sends_star_or_a_joined_list(fields: list[str]) -> None:
    with pytest.raises(ValueError):
        read_by_query("VENDOR", fields)


@pytest.mark.parametrize("pagesize", [0, -1, MAX_PAGE_SIZE + 1])
def test_read_by_query_pagesize_is_bounded(pagesize: int) -> None:
    with pytest.raises(ValueError, match="pagesize"):
        read_by_query("VENDOR", ["RECORDNO"], pagesize=pagesize)


def test_repr_of_auth_hides_secrets() -> None:
    assert "pw-secret" not in repr(LoginAuth("u", "c", "pw-secret")) and "sess-secret" not in repr(SessionAuth("sess-secret"))


def _answer(results: str, auth: str = "<status>success</status>") -> bytes:
    return (
        f"<response><control><status>success</status><controlid>r</controlid></control>"
        f"<operation><authentication>{auth}</authentication>{results}</operation></response>"
    ).encode()


def test_rows_flatten_nested_fields_and_keep_dotted_tags() -> None:
    body = _answer(
        "<result><status>success</status><function>readByQuery</function><controlid>f</controlid>"
        '<data listtype="vendor" count="2" totalcount="2" numremaining="0" resultId="">'
        "<vendor><RECORDNO>1</RECORDNO><DISPLAYCONTACT><EMAIL1>a@x.test</EMAIL1><PHONE1/></DISPLAYCONTACT></vendor>"
        "<VENDOR><RECORDNO>2</RECORDNO><DISPLAYCONTACT.EMAIL1>b@x.test</DISPLAYCONTACT.EMAIL1></VENDOR>"
        "</data></result>"
    )
    rows = list(parse_response(body).results[0].rows())
    assert rows == [
        {"RECORDNO": "1", "DISPLAYCONTACT.EMAIL1": "a@x.test", "DISPLAYCONTACT.PHONE1": None},
        {"RECORDNO": "2", "DISPLAYCONTACT.EMAIL1": "b@x.test"},
    ]


def test_every_record_of_a_page_has_the_fields_of_its_first_row() -> None:
    body = _answer(
        "<result><status>success</status><function>readByQuery</function><controlid>f</controlid>"
        '<data listtype="apbill" count="3">'
        "<apbill><RECORDNO>1</RECORDNO><STATE>Paid</STATE><DESCRIPTION/></apbill>"
        "<apbill><RECORDNO>2</RECORDNO></apbill>"
        "<apbill><RECORDNO>3</RECORDNO><STATE>Posted</STATE><EXTRA>x</EXTRA></apbill>"
        "</data></result>"
    )
    assert list(parse_response(body).results[0].rows()) == [
        {"RECORDNO": "1", "STATE": "Paid", "DESCRIPTION": None},
        {"RECORDNO": "2", "STATE": None, "DESCRIPTION": None},
        {"RECORDNO": "3", "STATE": "Posted", "DESCRIPTION": None, "EXTRA": "x"},
    ]


def test_results_keep_request_order_and_each_its_own_outcome() -> None:
    body = _answer(
        "<result><status>success</status><function>readByQuery</function><controlid>a</controlid>"
        '<data listtype="vendor" count="1" totalcount="7" numremaining="6" resultId="R"><vendor><RECORDNO>1</RECORDNO></vendor></data></result>'
        "<result><status>failure</status><function>readByQuery</function><controlid>b</controlid>"
        "<errormessage><error><errorno>PL04000005</errorno><description2>No permission</description2></error></errormessage></result>"
    )
    first, second = parse_response(body).results
    assert first.ok and (first.totalcount, first.numremaining, first.result_id) == (7, 6, "R")
    assert not second.ok and second.error.controlid == "b" and second.error.function == "readByQuery"
    with pytest.raises(FunctionError, match="No permission"):
        second.raise_for_error()
    assert list(second.rows()) == []


def test_secrets_are_scrubbed_from_error_texts() -> None:
    body = (
        b"<response><control><status>failure</status></control><errormessage><error><errorno>XL03000003</errorno>"
        b"<description2>bad element near &lt;password&gt;hunter2-pw&lt;/password&gt; session sess-abc123</description2>"
        b"</error></errormessage></response>"
    )
    error = parse_response(body, secrets=["hunter2-pw", "sess-abc123"]).error
    assert error is not None
    assert "hunter2-pw" not in str(error) and "sess-abc123" not in str(error) and "[REDACTED]" in str(error)
    assert "hunter2-pw" not in repr(error) and "hunter2-pw" not in (error.description2 or "")


def test_missing_authentication_block_or_bad_counts_are_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="authentication"):
        parse_response(b"<response><control><status>success</status></control><operation/></response>")
    with pytest.raises(MalformedResponseError, match="count"):
        parse_response(_answer('<result><status>success</status><data count="many"/></result>'))


def test_an_unreadable_sessiontimeout_is_ignored_with_a_warning(caplog) -> None:
    caplog.set_level("WARNING")
    response = parse_response(_answer("", auth="<status>success</status><sessiontimeout>tomorrow</sessiontimeout>"))
    assert response.auth is not None and response.auth.session_timeout is None
    assert "sessiontimeout" in caplog.text
