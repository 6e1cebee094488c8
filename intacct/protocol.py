"""The gateway envelope as pure functions: build request XML, parse response XML into results or errors.

Request (the official SDKs' RequestBlock and tests/fixtures/intacct-samples/request-*.xml; element
order matters for the DTD)::

    request/control{senderid, password, controlid, uniqueid=false, dtdversion=3.0, includewhitespace=false}
    request/operation[@transaction=false]/authentication/(login{userid, companyid, password, [locationid]} | sessionid)
    request/operation/content/function[@controlid]+   one or more, controlids unique in the request

Response: errors are looked for at control, authentication and result level whatever the HTTP
status said; a result's failure never hides its siblings' data (see `Result.raise_for_error`).
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Sequence

from lxml import etree

from intacct.errors import (
    AUTHENTICATION,
    CONTROL,
    RESULT,
    ErrorDetail,
    FunctionError,
    IntacctError,
    MalformedResponseError,
    classify_errors,
    clean_error_text,
)
from intacct.redact import scrub
from intacct.values import parse_iso_datetime
from intacct.xmlsafe import parse_xml, strip_forbidden

log = logging.getLogger(__name__)

DTD_VERSION = "3.0"
MAX_PAGE_SIZE = 1000
GET_API_SESSION = "getAPISession"
READ_BY_QUERY = "readByQuery"
READ_MORE = "readMore"
READ_USER_FORMATTING = "readUserFormatting"
READ_BY_NAME = "readByName"
LOOKUP = "lookup"


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Function:
    """One ``<function>``: its name, its child elements in order, and a controlid unique per request."""

    name: str
    params: tuple[tuple[str, str | None], ...] = ()
    controlid: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class LoginAuth:
    """Authentication by login (only for getAPISession); ``location_id`` selects an entity."""

    user_id: str
    company_id: str
    password: str = field(repr=False)
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionAuth:
    """Authentication by an API session id."""

    session_id: str = field(repr=False)


def get_api_session(location_id: str | None = None, *, controlid: str | None = None) -> Function:
    """``<getAPISession/>``; ``location_id`` "" asks for a top-level session, a value for an entity."""
    params = () if location_id is None else (("locationid", location_id),)
    return _function(GET_API_SESSION, params, controlid)


def read_by_query(
    object_name: str,
    fields: Sequence[str],
    query: str = "",
    *,
    pagesize: int = MAX_PAGE_SIZE,
    docparid: str | None = None,
    controlid: str | None = None,
) -> Function:
    """``<readByQuery>`` with an explicit field list (never ``*``) and 1 ≤ pagesize ≤ 1000."""
    if not fields or any(not f or f == "*" or "," in f for f in fields):
        raise ValueError("readByQuery needs an explicit list of field names (never '*')")
    if not 1 <= pagesize <= MAX_PAGE_SIZE:
        raise ValueError(f"readByQuery pagesize must be 1..{MAX_PAGE_SIZE}, not {pagesize}")
    params: list[tuple[str, str | None]] = [
        ("object", object_name),
        ("query", query),
        ("fields", ",".join(fields)),
        ("pagesize", str(pagesize)),
        ("returnFormat", "xml"),
    ]
    if docparid is not None:
        params.append(("docparid", docparid))
    return _function(READ_BY_QUERY, tuple(params), controlid)


def read_more(result_id: str, *, controlid: str | None = None) -> Function:
    """``<readMore><resultId>…</resultId></readMore>``: the next page of a readByQuery."""
    if not result_id:
        raise ValueError("readMore needs a resultId")
    return _function(READ_MORE, (("resultId", result_id),), controlid)


def read_user_formatting(user_record_no: str, *, controlid: str | None = None) -> Function:
    """``<readUserFormatting><key>…</key></readUserFormatting>``: the time zone and formats of the
    user whose USERINFO RECORDNO is ``key`` (the form Estuary's connector sends)."""
    if not user_record_no:
        raise ValueError("readUserFormatting needs the user's RECORDNO")
    return _function(READ_USER_FORMATTING, (("key", user_record_no),), controlid)


def read_by_name(object_name: str, keys: Sequence[str], fields: Sequence[str], *, controlid: str | None = None) -> Function:
    """``<readByName>``: records by their name/ID field (USERINFO by login id), explicit fields."""
    if not keys or not fields or any(not f or f == "*" for f in fields):
        raise ValueError("readByName needs keys and an explicit list of field names")
    params = (("object", object_name), ("keys", ",".join(keys)), ("fields", ",".join(fields)), ("returnFormat", "xml"))
    return _function(READ_BY_NAME, params, controlid)


def lookup(object_name: str, *, controlid: str | None = None) -> Function:
    """``<lookup><object>…</object></lookup>``: the company's definition of an object (its fields)."""
    return _function(LOOKUP, (("object", object_name),), controlid)


def _function(name: str, params: tuple[tuple[str, str | None], ...], controlid: str | None) -> Function:
    return Function(name, params) if controlid is None else Function(name, params, controlid)


def _sub(parent: etree._Element, tag: str, value: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if value:
        child.text = strip_forbidden(value)
    return child


def build_control(*, sender_id: str, sender_password: str, control_id: str) -> etree._Element:
    """The ``<control>`` block: uniqueid false (reads are idempotent), DTD 3.0, no whitespace."""
    control = etree.Element("control")
    _sub(control, "senderid", sender_id)
    _sub(control, "password", sender_password)
    _sub(control, "controlid", control_id)
    _sub(control, "uniqueid", "false")
    _sub(control, "dtdversion", DTD_VERSION)
    _sub(control, "includewhitespace", "false")
    return control


def build_authentication(auth: LoginAuth | SessionAuth) -> etree._Element:
    """The ``<authentication>`` block: a login or a session id, never both."""
    element = etree.Element("authentication")
    if isinstance(auth, SessionAuth):
        _sub(element, "sessionid", auth.session_id)
        return element
    login = _sub(element, "login")
    _sub(login, "userid", auth.user_id)
    _sub(login, "companyid", auth.company_id)
    _sub(login, "password", auth.password)
    if auth.location_id:
        _sub(login, "locationid", auth.location_id)
    return element


def build_function(function: Function) -> etree._Element:
    """One ``<function controlid="…">`` element."""
    element = etree.Element("function", controlid=strip_forbidden(function.controlid))
    body = _sub(element, function.name)
    for tag, value in function.params:
        _sub(body, tag, value)
    return element


def build_operation(auth: LoginAuth | SessionAuth, functions: Sequence[Function]) -> etree._Element:
    """``<operation transaction="false">`` with authentication and one or more functions."""
    if not functions:
        raise ValueError("a request carries at least one function")
    controlids = [f.controlid for f in functions]
    if len(set(controlids)) != len(controlids):
        raise ValueError("function controlids must be unique within a request")
    if len(functions) > 1 and any(f.name == GET_API_SESSION for f in functions):
        raise ValueError("getAPISession must be sent alone in its request")
    # transaction="false": independent reads; with "true" one failure would abort the others.
    operation = etree.Element("operation", transaction="false")
    operation.append(build_authentication(auth))
    content = _sub(operation, "content")
    for function in functions:
        content.append(build_function(function))
    return operation


def build_request(
    *,
    sender_id: str,
    sender_password: str,
    auth: LoginAuth | SessionAuth,
    functions: Sequence[Function],
    control_id: str | None = None,
) -> bytes:
    """The whole request document as UTF-8 bytes, every value stripped of XML-forbidden characters."""
    request = etree.Element("request")
    request.append(build_control(sender_id=sender_id, sender_password=sender_password, control_id=control_id or uuid.uuid4().hex))
    request.append(build_operation(auth, functions))
    return etree.tostring(request, xml_declaration=True, encoding="UTF-8")


# --- responses ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """The ``operation/authentication`` block of a response."""

    status: str
    user_id: str | None = None
    company_id: str | None = None
    location_id: str | None = None
    session_timestamp: datetime | None = None
    session_timeout: datetime | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """One function's outcome: its data (rows) or its typed error, or both (a failure may carry data)."""

    function: str
    controlid: str
    status: str
    error: FunctionError | None = None
    listtype: str | None = None
    count: int | None = None
    totalcount: int | None = None
    numremaining: int | None = None
    result_id: str | None = None
    _data: etree._Element | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the function succeeded."""
        return self.error is None

    @property
    def data_element(self) -> etree._Element | None:
        """The ``<data>`` element as parsed (None when the result has none), for page readers."""
        return self._data

    def raise_for_error(self) -> Result:
        """Raise this function's typed error, if any; return the result otherwise."""
        if self.error is not None:
            raise self.error
        return self

    def rows(self) -> Iterator[dict[str, str | None]]:
        """Each record of ``<data>`` as {FIELD: text}, None (or "") when empty; nested → PARENT.CHILD.

        Every field of the page's first row is present in each record (None when a row lacks it).
        """
        data = self._data
        if data is None or not len(data):
            return
        if _has_nested_fields(data):
            yield from _flattened_rows(data)
            return
        # The hot path of every read: copying a dict pre-sized with the page's field names is
        # about a quarter faster than building each record from nothing.
        template = dict.fromkeys(child.tag for child in data[0])
        for row in data:
            record = template.copy()
            for child in row:
                record[child.tag] = child.text
            yield record


def _flattened_rows(data: etree._Element) -> Iterator[dict[str, str | None]]:
    for row in data:
        record: dict[str, str | None] = {}
        for child in row:
            if len(child):
                prefix = child.tag + "."
                for grandchild in child:
                    record[prefix + grandchild.tag] = grandchild.text
            else:
                record[child.tag] = child.text
        yield record


@functools.cache
def _nested_fields_xpath() -> etree.XPath:
    return etree.XPath("boolean(*/*/*)")


def _has_nested_fields(data: etree._Element) -> bool:
    # One C-level XPath per page; flat pages (the norm) take the fast path.
    return bool(_nested_fields_xpath()(data))


@dataclass(frozen=True, slots=True)
class Response:
    """A parsed gateway answer: the control/authentication error if any, else one Result per function."""

    control_status: str
    control_id: str | None
    auth: AuthInfo | None
    error: IntacctError | None
    results: tuple[Result, ...] = ()

    def raise_for_error(self) -> Response:
        """Raise the control- or authentication-level error, if any; return the response otherwise."""
        if self.error is not None:
            raise self.error
        return self


def _text(element: etree._Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _details(errormessage: etree._Element | None, secrets: Sequence[str]) -> list[ErrorDetail]:
    if errormessage is None:
        return []

    def clean(el: etree._Element, tag: str) -> str | None:
        value = clean_error_text(_text(el, tag))
        return scrub(value, secrets) if value and secrets else value

    return [
        ErrorDetail(clean(e, "errorno"), clean(e, "description"), clean(e, "description2"), clean(e, "correction"))
        for e in errormessage.iter("error")
    ]


def _int_attr(data: etree._Element, name: str) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise MalformedResponseError(f"data/@{name} is not an integer: {value[:20]!r}") from None


def _auth_info(element: etree._Element) -> AuthInfo:
    timestamps = {}
    for tag in ("sessiontimestamp", "sessiontimeout"):
        try:
            timestamps[tag] = parse_iso_datetime(_text(element, tag))
        except ValueError:
            # Not fatal: sessions then fall back to the 49-minute refresh. Say so once per answer.
            log.warning("intacct %s is not ISO 8601 with an offset; ignoring it", tag)
            timestamps[tag] = None
    return AuthInfo(
        status=_text(element, "status") or "",
        user_id=_text(element, "userid"),
        company_id=_text(element, "companyid"),
        location_id=_text(element, "locationid"),
        session_timestamp=timestamps["sessiontimestamp"],
        session_timeout=timestamps["sessiontimeout"],
    )


def _result(element: etree._Element, secrets: Sequence[str]) -> Result:
    status = (_text(element, "status") or "").lower()
    function = _text(element, "function") or ""
    controlid = _text(element, "controlid") or ""
    error: FunctionError | None = None
    if status != "success":
        found = classify_errors(
            RESULT, _details(element.find("errormessage"), secrets), controlid=controlid, function=function, status=status
        )
        assert isinstance(found, FunctionError)  # the result level maps to FunctionError subclasses only
        error = found
    data = element.find("data")
    if data is None:
        return Result(function, controlid, status, error)
    return Result(
        function,
        controlid,
        status,
        error,
        listtype=data.get("listtype"),
        count=_int_attr(data, "count"),
        totalcount=_int_attr(data, "totalcount"),
        numremaining=_int_attr(data, "numremaining"),
        result_id=data.get("resultId") or None,
        _data=data,
    )


def parse_response(
    body: bytes,
    *,
    content_type: str | None = None,
    http_status: int | None = None,
    secrets: Sequence[str] = (),
) -> Response:
    """Parse an answer (hardened), checking control, then authentication, then each result.

    ``secrets`` (passwords, the session id) are scrubbed from every error text. Raises
    MalformedResponseError / UnsafeResponseError when the body is not a usable gateway document.
    """
    root = parse_xml(body, content_type=content_type)
    if root.tag != "response":
        raise MalformedResponseError(f"expected a <response> document, got <{str(root.tag)[:40]}>")
    control = root.find("control")
    if control is None:
        raise MalformedResponseError("response without a <control> block")
    control_status = (_text(control, "status") or "").lower()
    control_id = _text(control, "controlid")
    if control_status != "success":
        error = classify_errors(CONTROL, _details(root.find("errormessage"), secrets), controlid=control_id, http_status=http_status)
        return Response(control_status, control_id, None, error)
    operation = root.find("operation")
    if operation is None:
        raise MalformedResponseError("successful control block but no <operation> in the response")
    auth_element = operation.find("authentication")
    if auth_element is None:
        raise MalformedResponseError("response operation without an <authentication> block")
    auth = _auth_info(auth_element)
    if auth.status.lower() != "success":
        error = classify_errors(
            AUTHENTICATION, _details(operation.find("errormessage"), secrets), controlid=control_id, http_status=http_status
        )
        return Response(control_status, control_id, auth, error)
    results = tuple(_result(r, secrets) for r in operation.iterfind("result"))
    return Response(control_status, control_id, auth, None, results)
