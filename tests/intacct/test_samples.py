"""Every file of tests/fixtures/intacct-samples/ is exercised: responses parse to the right records or the
right typed errors, request fragments match what our builders produce. A new sample fails until
it is classified here."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

import pytest
from lxml import etree

from intacct import errors as e
from intacct.bills import Bill, parse_bill, parse_bill_page
from intacct.dimensions import Dimension, DimensionKind, parse_dimension
from intacct.protocol import (
    LoginAuth,
    Response,
    SessionAuth,
    build_authentication,
    build_control,
    build_function,
    build_operation,
    build_request,
    get_api_session,
    parse_response,
    read_by_query,
    read_more,
)
from intacct.vendors import Vendor, parse_vendor

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "intacct-samples"
PACIFIC = timezone(timedelta(hours=-8))
UTC = timezone.utc


def load(name: str, **kwargs: object) -> Response:
    """Parse one sample as the transport would (the 401 sample is served as HTTP 401)."""
    return parse_response((SAMPLES / name).read_bytes(), **kwargs)  # type: ignore[arg-type]


def result_errors(response: Response) -> list[type | None]:
    """The exact error class of each result (None for success)."""
    return [type(r.error) if r.error else None for r in response.results]


# --- responses: what each must become ---------------------------------------------------------


def _login_failed(r: Response) -> None:
    assert type(r.error) is e.LoginFailedError
    assert r.error.errorno == "XL03000006" and r.error.level == "authentication"
    assert r.error.description2 == "Sign-in information is incorrect"
    assert r.results == ()


def _not_authorized(r: Response) -> None:
    assert type(r.error) is e.SenderNotAuthorizedError
    # &#039; decoded for display, as the SDKs do
    assert r.error.description2 == "The sender ID 'test_sender_id' is not authorized to make Web Services requests to company ID 'test_company_id'."
    assert r.error.description == "Invalid Web Services Authorization"
    assert r.error.correction and r.error.correction.startswith("Contact the company administrator")


def _demo_expired(r: Response) -> None:
    assert type(r.error) is e.CompanyExpiredError
    assert (r.error.errorno, r.error.level, r.error.transient) == ("PL04000055", "control", False)


def _invalid_sender(r: Response) -> None:
    assert type(r.error) is e.SenderAuthenticationError
    assert (r.error.errorno, r.error.level, r.error.controlid) == ("XL03000006", "control", "1559435393")


def _transport_policy(r: Response) -> None:
    # Same errorno as a bad sender, different meaning: a control failure that is not about us logging in.
    assert type(r.error) is e.ControlError
    assert r.error.description2 == "test is not a valid transport policy."


def _xml_parse_error(r: Response) -> None:
    assert type(r.error) is e.RequestRejectedError
    assert [d.errorno for d in r.error.details] == ["XL03000003", "XL03000003"]
    assert "Opening and ending tag mismatch: PROJECT line 17" in str(r.error)


def _api_session(location: str | None, endpoint: str) -> Callable[[Response], None]:
    def check(r: Response) -> None:
        assert r.error is None and result_errors(r) == [None]
        api = next(r.results[0].rows())
        assert api == {"sessionid": "fAkESesSiOnId..", "endpoint": endpoint, "locationid": location}
        assert r.auth is not None and r.auth.location_id == location
        assert r.auth.session_timeout is not None and r.auth.session_timestamp is not None
        assert r.auth.session_timeout - r.auth.session_timestamp == timedelta(hours=24)
        assert r.auth.session_timeout.utcoffset() == timedelta(hours=-8) or r.auth.session_timeout.utcoffset() == timedelta(hours=-7)

    return check


def _http401(r: Response) -> None:
    assert type(r.error) is e.LoginFailedError
    assert (r.error.errorno, r.error.http_status) == ("XMLGW_JPP0002", 401)
    assert r.error.description == "Sign-in information is incorrect. Please check your request."


def _partial_failure_apbill(r: Response) -> None:
    assert r.error is None
    assert result_errors(r) == [e.FunctionError, None, e.FunctionError]
    first, ok, last = r.results
    assert (first.error.errorno, first.error.controlid) == ("Invalid fields list x", "testFunctionId")
    assert last.error.errorno == "Invalid fields list y"
    with pytest.raises(e.FunctionError) as raised:
        first.raise_for_error()
    assert raised.value is first.error
    assert ok.raise_for_error() is ok and ok.controlid == "abcdef" and ok.listtype == "APBILL"
    bills = [parse_bill(row, PACIFIC) for row in ok.rows()]  # upper-case <APBILL> row tag
    assert bills == [Bill(16747, "E18-6465", "407258", "FOSSE BOB", "", Decimal(0), Decimal(0), "")]
    assert parse_bill_page(ok, PACIFIC) == bills  # the compiled page reader, on Intacct's own answer
    assert r.auth is not None and r.auth.session_timeout == datetime(2019, 5, 30, 18, 29, 53, tzinfo=timezone(timedelta(hours=-7)))


def _projects_and_read(r: Response) -> None:
    assert result_errors(r) == [None, None]
    query, read = r.results
    assert (query.count, query.totalcount, query.numremaining, query.result_id) == (5, 35, 30, "7765623336W-ne68CoA4gAAEEhD7EAAAAP4")
    projects = [parse_dimension(DimensionKind.PROJECT, row, PACIFIC) for row in query.rows()]
    assert [(p.record_no, p.id, p.name) for p in projects][:2] == [(989, "A17-ADVC", "Advisory Council"), (1002, "A17-CONF01", "CONF Program")]
    assert len(projects) == 5 and all(p.status == "active" and p.when_modified is None for p in projects)
    assert [parse_dimension(DimensionKind.PROJECT, row, PACIFIC).id for row in read.rows()] == ["Fellow PD1"]


def _transaction_aborted(r: Response) -> None:
    assert result_errors(r) == [e.FunctionAbortedError, e.FunctionError]
    aborted, failed = r.results
    assert aborted.error.errorno == "XL03000009" and aborted.error.controlid == "func1UnitTest"
    assert failed.error.errorno == "Get API Session Failed" and failed.error.controlid == "func2UnitTest"
    assert [d.errorno for d in failed.error.details] == ["Get API Session Failed", "XL03000009"]


def _sensitive_fields(r: Response) -> None:
    assert result_errors(r) == [None, None, None]
    session, legacy, query = r.results
    assert next(session.rows())["sessionid"] == "fAkESesSiOnId.."
    # legacy get_list: lower-case fields are not a readByQuery row; the vendor parser says so
    with pytest.raises(e.MalformedRecordError, match="RECORDNO"):
        parse_vendor(next(legacy.rows()), PACIFIC)
    assert [parse_vendor(row, PACIFIC) for row in query.rows()] == [Vendor(4, "V0004", "Vendor 4", "", False)]


def _read_and_query_vendor(r: Response) -> None:
    assert result_errors(r) == [None, None]
    read, query = r.results
    assert read.listtype == "VENDOR" and query.listtype == "VENDOR"  # the upper-case quirk
    assert [(v.record_no, v.vendor_id, v.name) for v in map(lambda row: parse_vendor(row, PACIFIC), read.rows())] == [
        (29181, "100001TEST", "TEST VENDOR 1099"),
        (29182, "100002TEST", "TEST VENDOR 2"),
    ]
    rows = list(query.rows())
    assert rows[0]["PARENTID"] is None and rows[0]["PARENTKEY"] == "1234"  # empty element → None
    assert (query.numremaining, query.result_id) == (5, "aaaaa")


def _read_customer(r: Response) -> None:
    assert result_errors(r) == [None]
    assert list(r.results[0].rows()) == [{"RECORDNO": "149", "CUSTOMERID": "10074", "STATUS": "active"}]
    assert (r.results[0].count, r.results[0].totalcount, r.results[0].numremaining) == (1, None, None)


def _class_page(expected: list[tuple[int, str, str]], count: int, total: int) -> Callable[[Response], None]:
    def check(r: Response) -> None:
        result = r.results[0]
        assert (result.count, result.totalcount, result.numremaining, result.result_id) == (count, total, 1, "myResultId")
        classes = [parse_dimension(DimensionKind.CLASS, row, PACIFIC) for row in result.rows()]
        modified = datetime(2017, 7, 24, 23, 19, 46, tzinfo=UTC)  # 15:19:46 at -08:00
        assert classes == [Dimension(DimensionKind.CLASS, n, cid, name, "active", modified) for n, cid, name in expected]

    return check


def _empty(r: Response) -> None:
    result = r.results[0]
    assert (result.listtype, result.count, result.totalcount, result.numremaining, result.result_id) == ("department", 0, 0, 0, None)
    assert list(result.rows()) == []


def _glaccount(record_no: int, number: str, title: str, remaining: int) -> Callable[[Response], None]:
    def check(r: Response) -> None:
        result = r.results[0]
        assert result.numremaining == remaining and result.result_id == "7765623330Vqb8pMCoA4IAAEnuglgAAAAL5"
        assert [parse_dimension(DimensionKind.GL_ACCOUNT, row, PACIFIC) for row in result.rows()] == [
            Dimension(DimensionKind.GL_ACCOUNT, record_no, number, title)
        ]
        assert r.auth is not None and r.auth.session_timeout is None  # optional in older captures

    return check


def _projects_without_recordno(count: int, remaining: int, first: str) -> Callable[[Response], None]:
    def check(r: Response) -> None:
        result = r.results[0]
        rows = list(result.rows())
        assert (result.count, len(rows), result.numremaining, rows[0]["PROJECTID"]) == (count, count, remaining, first)
        # These captures selected PROJECTID,NAME only; we always read RECORDNO, so such a row is malformed for us.
        with pytest.raises(e.MalformedRecordError, match="RECORDNO"):
            parse_dimension(DimensionKind.PROJECT, rows[0], PACIFIC)

    return check


def _expired_result_id(r: Response) -> None:
    assert result_errors(r) == [e.ResultIdExpiredError]
    error = r.results[0].error
    assert error.errorno == "readMore failed" and error.function == "readMore" and error.transient is False
    assert "invalid or expired resultId" in (error.description2 or "")


def _aborted_result(r: Response) -> None:
    assert result_errors(r) == [e.FunctionAbortedError]
    assert [d.errorno for d in r.results[0].error.details] == ["Query Failed", "XL03000009"]


def _create_duplicate(r: Response) -> None:
    assert result_errors(r) == [e.FunctionError]
    result = r.results[0]
    assert [d.errorno for d in result.error.details] == ["BL34000061", "BL01001973", "BL01001973"]
    assert result.error.correction == "Use a unique value instead."
    assert list(result.rows()) == [{"RECORDNO": "1424", "PROJECTID": "Fellow PD2"}]  # data and errors coexist


def _object_not_found(r: Response) -> None:
    assert result_errors(r) == [e.FunctionError]
    error = r.results[0].error
    assert (error.errorno, error.description2, error.controlid) == ("Query Failed", "Object definition BADOBJECT not found", "testControlId")


def _session_invalid(r: Response) -> None:
    assert type(r.error) is e.InvalidSessionError
    assert r.error.level == "authentication" and r.results == ()


RESPONSES: dict[str, Callable[[Response], None]] = {
    "response-auth-failure-login-invalid.xml": _login_failed,
    "response-auth-failure-signin-incorrect.xml": _login_failed,
    "response-auth-failure-ws-not-authorized.xml": _not_authorized,
    "response-control-failure-demo-company-expired.xml": _demo_expired,
    "response-control-failure-invalid-sender.xml": _invalid_sender,
    "response-control-failure-transport-policy.xml": _transport_policy,
    "response-control-failure-xml-parse-error.xml": _xml_parse_error,
    "response-getapisession-entity-session.xml": _api_session("testentity", "https://unittest.intacct.com/ia/xml/xmlgw.phtml"),
    "response-getapisession-success.xml": _api_session(None, "https://api.intacct.com/ia/xml/xmlgw.phtml"),
    "response-http401-gateway-signin-incorrect.xml": _http401,
    "response-multi-function-partial-failure-apbill.xml": _partial_failure_apbill,
    "response-multi-function-readbyquery-read-project.xml": _projects_and_read,
    "response-multi-function-transaction-aborted.xml": _transaction_aborted,
    "response-multi-function-vendor-sensitive-fields.xml": _sensitive_fields,
    "response-read-and-readbyquery-vendor.xml": _read_and_query_vendor,
    "response-read-customer.xml": _read_customer,
    "response-readbyquery-class-first-page.xml": _class_page([(8, "C1234", "hello world")], 1, 2),
    "response-readbyquery-class-multiple.xml": _class_page([(8, "C1234", "hello world"), (9, "C1235", "hello world2")], 2, 3),
    "response-readbyquery-empty.xml": _empty,
    "response-readbyquery-glaccount-page1.xml": _glaccount(47, "1010", "Cash in Bank, Checking, BA1145", 1),
    "response-readbyquery-project-first-page.xml": _projects_without_recordno(10, 2, "P01"),
    "response-readmore-failure-expired-resultid.xml": _expired_result_id,
    "response-readmore-glaccount-last-page.xml": _glaccount(55, "1020", "Cash in Bank, Checking, BA1343", 0),
    "response-readmore-project-last-page.xml": _projects_without_recordno(2, 0, "S11"),
    "response-result-aborted-transaction.xml": _aborted_result,
    "response-result-failure-create-duplicate.xml": _create_duplicate,
    "response-result-failure-object-not-found.xml": _object_not_found,
    "response-session-invalid.xml": _session_invalid,
}


# --- requests: what our builders must produce ---------------------------------------------------


def canonical(element: etree._Element) -> tuple:
    """Tag, attributes, trimmed text and children: what "structurally equal" compares."""
    return (
        element.tag,
        tuple(sorted(element.attrib.items())),
        (element.text or "").strip(),
        tuple(canonical(child) for child in element),
    )


def sample_tree(name: str) -> etree._Element:
    return etree.fromstring((SAMPLES / name).read_bytes(), etree.XMLParser(remove_blank_text=True))


def _envelope_session_auth() -> etree._Element:
    built = etree.fromstring(
        build_request(
            sender_id="testsenderid",
            sender_password="pass123!",
            control_id="unittest",
            auth=SessionAuth("testsession.."),
            functions=[read_more("x")],
        )
    )
    # The sample's content is empty; ours always carries at least one function.
    for function in built.find("operation/content"):
        function.getparent().remove(function)
    return built


REQUESTS: dict[str, Callable[[], etree._Element] | None] = {
    "request-authentication-login-entity.xml": lambda: build_authentication(LoginAuth("testuser", "testcompany", "testpass", "testentity")),
    "request-control-block.xml": lambda: build_control(sender_id="testsenderid", sender_password="pass123!", control_id="unittest"),
    "request-envelope-session-auth.xml": _envelope_session_auth,
    "request-function-getapisession-empty-locationid.xml": lambda: build_function(get_api_session("", controlid="unittest")),
    "request-function-getapisession-locationid.xml": lambda: build_function(get_api_session("100", controlid="unittest")),
    "request-function-readbyquery.xml": lambda: build_function(
        read_by_query("CLASS", ["RECORDNO"], "", pagesize=100, docparid="255252235", controlid="unittest")
    ),
    "request-function-readmore.xml": lambda: build_function(read_more("6465763031VyprCMCoHYQAAGr@aRsAAAAU4", controlid="unittest")),
    "request-operation-session-getapisession.xml": lambda: build_operation(SessionAuth("fakesession.."), [get_api_session(controlid="unittest")]),
    # The `query` function: ml-connector sends readByQuery only (docs/design.md), so there is no builder.
    "request-function-query-all-options.xml": None,
    "request-function-query-filter-and.xml": None,
    "request-function-query-orderby.xml": None,
}


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.xml")))
def test_every_sample_is_classified_and_behaves(name: str) -> None:
    if name in RESPONSES:
        RESPONSES[name](load(name, http_status=401 if "http401" in name else 200))
    elif name in REQUESTS:
        build = REQUESTS[name]
        expected = sample_tree(name)
        if build is None:
            assert expected.tag == "function" and expected[0].tag == "query"
        else:
            assert canonical(build()) == canonical(expected)
    else:
        pytest.fail(f"{name} is a new sample: classify it in RESPONSES or REQUESTS")


def test_tables_name_only_existing_samples() -> None:
    present = {p.name for p in SAMPLES.glob("*.xml")}
    assert set(RESPONSES) | set(REQUESTS) == present


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_no_sample_error_falls_back_to_a_generic_class(name: str) -> None:
    response = load(name)
    errors = [response.error, *(r.error for r in response.results)]
    generic = (e.IntacctError, e.IntacctServiceError, e.AuthenticationError, e.IntacctResponseError)
    for error in filter(None, errors):
        assert type(error) not in generic, f"{name}: {error.errorno!r} at {error.level} level mapped to {type(error).__name__}"


def test_entity_login_request_carries_the_location() -> None:
    request = etree.fromstring(
        build_request(sender_id="s", sender_password="p", auth=LoginAuth("u", "c", "pw", "E1"), functions=[get_api_session()])
    )
    assert request.findtext("operation/authentication/login/locationid") == "E1"
