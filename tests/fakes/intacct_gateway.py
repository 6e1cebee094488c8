"""A small scripted Sage Intacct XML gateway for client tests: real HTTP, real XML, records what it got.

It checks sender and login credentials like Intacct, issues sessions (sliding timeout, read from
the injected clock), answers getAPISession / readByQuery / readMore / readByName USERINFO /
readUserFormatting from in-memory tables (it records query strings but does not evaluate them
unless a test installs a ``filters[object]`` function), answers `lookup` from the recorded real
definitions (sandbox/definitions), and replays scripted replies (HTTP failures, raw
bodies, stalls, invalid sessions, function errors) before normal processing. Answers use the
shapes of tests/fixtures/intacct-samples/.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from aiohttp import web
from lxml import etree

from sandbox.objects import OBJECTS as RECORDED_OBJECTS

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
SESSION_PATH = "/pod7/ia/xml/xmlgw.phtml"


@dataclass
class ReceivedFunction:
    """One function as the gateway read it."""

    name: str
    controlid: str
    params: dict[str, str | None]


@dataclass
class ReceivedRequest:
    """One request as the gateway read it."""

    path: str
    headers: dict[str, str]
    body: bytes
    sender_id: str | None = None
    control: dict[str, str | None] = field(default_factory=dict)
    transaction: str | None = None
    session_id: str | None = None
    login: dict[str, str | None] | None = None
    functions: list[ReceivedFunction] = field(default_factory=list)

    @property
    def function_names(self) -> list[str]:
        """Names of the functions, in request order."""
        return [f.name for f in self.functions]


@dataclass
class Reply:
    """A scripted answer for the next matching request (``login`` picks login vs data requests)."""

    status: int = 200
    body: bytes | None = None
    content_type: str = "text/xml"
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False
    invalid_session: bool = False
    function_error: tuple[str, str, str] | None = None  # (object or function name, errorno, description2)
    forget_cursors: bool = False
    tamper: Callable[[etree._Element], None] | None = None
    login: bool = False


def http_error(status: int, body: bytes = b"", content_type: str = "text/plain", **headers: str) -> Reply:
    """An HTTP failure (e.g. 503 with a Cloudflare HTML page, 429 with Retry-After)."""
    return Reply(status=status, body=body, content_type=content_type, headers=headers)


def raw(body: bytes, status: int = 200, content_type: str = "text/xml", *, login: bool = False) -> Reply:
    """Exactly these bytes as the answer."""
    return Reply(status=status, body=body, content_type=content_type, login=login)


def stall() -> Reply:
    """Never answer (until the gateway stops), so the client's timeout fires."""
    return Reply(stall=True)


def invalid_session() -> Reply:
    """Intacct's "Invalid session" authentication failure, whatever the session."""
    return Reply(invalid_session=True)


def function_error(target: str, errorno: str, description2: str) -> Reply:
    """A result failure for the function reading ``target`` (object name) or named ``target``."""
    return Reply(function_error=(target, errorno, description2))


def normal() -> Reply:
    """Answer normally: a placeholder so the next scripted reply hits a later request."""
    return Reply()


def forget_cursors() -> Reply:
    """Forget every readMore resultId before answering the next data request."""
    return Reply(forget_cursors=True)


def tampered(change: Callable[[etree._Element], None]) -> Reply:
    """Answer normally, but let ``change`` edit each <result> element first (wrong shapes on purpose)."""
    return Reply(tamper=change)


class FakeIntacctGateway:
    """The gateway side of the protocol, scripted by tests (see the module docstring)."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        sender_id: str = "mlc-test-sender",
        sender_password: str = "s3nder-Pa55!",
        company_id: str = "TEST-CO",
        user_id: str = "ws-user",
        user_password: str = "us3r-Pa55&<x>",
        entities: frozenset[str] = frozenset(),
        session_lifetime: timedelta = timedelta(hours=2),
        gmt_offset: str = "-08:00",
    ) -> None:
        self.clock = clock
        self.sender = (sender_id, sender_password)
        self.login_credentials = (company_id, user_id, user_password)
        self.entities = entities
        self.session_lifetime = session_lifetime
        self.gmt_offset = gmt_offset
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.missing_objects: set[str] = set()  # `lookup` answers "not found" for these
        self.session_endpoint: str | None = None  # what getAPISession returns (None: this gateway's session path)
        self.hidden_fields: dict[str, set[str]] = {}  # `lookup` leaves these out
        self.extra_definitions: dict[str, dict[str, str]] = {}  # {object: {field: DATATYPE}} a test's company has beyond the recorded ones
        self.filters: dict[str, Callable[[str], Callable[[dict[str, str]], bool]]] = {}
        self.replies: deque[Reply] = deque()
        self.received: list[ReceivedRequest] = []
        self.sessions: dict[str, tuple[datetime, str | None]] = {}  # id → (timeout, entity)
        self.result_sets: dict[str, tuple[str, list[str], list[dict[str, str]], int, int]] = {}
        self.sessions_issued = 0
        self.gzip = False
        self.base_url = ""
        self._ids = itertools.count(1)
        self._stop = asyncio.Event()

    # --- scripting -------------------------------------------------------------------------------

    def add_rows(self, object_name: str, rows: list[dict[str, str]]) -> None:
        """Append rows (field → Intacct text) to an object's table."""
        self.tables.setdefault(object_name.upper(), []).extend(rows)

    def script(self, *replies: Reply) -> None:
        """Queue scripted replies, consumed in order by the next matching requests."""
        self.replies.extend(replies)

    def expire_sessions(self) -> None:
        """Forget every session (as after an idle timeout)."""
        self.sessions.clear()

    def expire_result_ids(self) -> None:
        """Forget every readMore cursor."""
        self.result_sets.clear()

    @property
    def data_requests(self) -> list[ReceivedRequest]:
        """Requests authenticated by a session (everything but logins)."""
        return [r for r in self.received if r.session_id is not None]

    @property
    def logins(self) -> list[ReceivedRequest]:
        """Login (getAPISession) requests."""
        return [r for r in self.received if r.login is not None]

    def app(self) -> web.Application:
        """The aiohttp application (gateway path and the per-session endpoint path)."""
        app = web.Application()
        app.router.add_post(GATEWAY_PATH, self._handle)
        app.router.add_post(SESSION_PATH, self._handle)

        async def stop(_: web.Application) -> None:
            self._stop.set()

        app.on_shutdown.append(stop)
        return app

    # --- HTTP ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        received = self._read_request(request.path, dict(request.headers), body)
        self.received.append(received)
        reply = self._next_reply(login=received.login is not None)
        if reply is not None:
            if reply.stall:
                await self._stop.wait()
                raise web.HTTPServiceUnavailable()
            if reply.body is not None or reply.status != 200:
                return self._respond(reply.body or b"", reply.status, reply.content_type, reply.headers)
        if received.sender_id is None:
            return self._xml(self._control_failure("XL03000003", "XML Parse schema error: not a request"))
        if (received.sender_id, received.control.get("password")) != self.sender:
            return self._xml(self._control_failure("XL03000006", "Incorrect Intacct XML Partner ID or password."))
        if received.login is not None:
            return self._xml(self._login(received))
        if reply is not None and reply.invalid_session:
            return self._xml(self._auth_failure("Invalid session q...."))
        session = self.sessions.get(received.session_id or "")
        if session is None or session[0] <= self.clock():
            self.sessions.pop(received.session_id or "", None)
            return self._xml(self._auth_failure("Invalid session q...."))
        timeout = self.clock() + self.session_lifetime
        self.sessions[received.session_id or ""] = (timeout, session[1])
        if reply is not None and reply.forget_cursors:
            self.expire_result_ids()
        results = [self._function(f, reply) for f in received.functions]
        if reply is not None and reply.tamper is not None:
            for result in results:
                reply.tamper(result)
        return self._xml(self._success(results, timeout, session[1]))

    def _next_reply(self, *, login: bool) -> Reply | None:
        for reply in self.replies:
            if reply.login == login:
                self.replies.remove(reply)
                return reply
        return None

    def _respond(self, body: bytes, status: int, content_type: str, headers: dict[str, str]) -> web.Response:
        extra = dict(headers)
        if self.gzip and body:
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        return web.Response(body=body, status=status, headers={"Content-Type": content_type, **extra})

    def _xml(self, root: etree._Element) -> web.Response:
        return self._respond(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), 200, "text/xml", {})

    # --- request parsing -------------------------------------------------------------------------

    def _read_request(self, path: str, headers: dict[str, str], body: bytes) -> ReceivedRequest:
        received = ReceivedRequest(path=path, headers=headers, body=body)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError:
            return received  # no sender id: answered with XL03000003 like Intacct
        control = root.find("control")
        if control is not None:
            received.control = {child.tag: child.text for child in control}
            received.sender_id = received.control.get("senderid")
        operation = root.find("operation")
        if operation is None:
            return received
        received.transaction = operation.get("transaction")
        received.session_id = operation.findtext("authentication/sessionid")
        login = operation.find("authentication/login")
        if login is not None:
            received.login = {child.tag: child.text for child in login}
        for function in operation.iterfind("content/function"):
            body_element = function[0]
            params = {child.tag: child.text for child in body_element}
            received.functions.append(ReceivedFunction(body_element.tag, function.get("controlid") or "", params))
        return received

    # --- answers ---------------------------------------------------------------------------------

    def _response(self, control_status: str = "success") -> tuple[etree._Element, etree._Element]:
        root = etree.Element("response")
        control = etree.SubElement(root, "control")
        for tag, value in (("status", control_status), ("senderid", self.sender[0]), ("controlid", "ctl"), ("uniqueid", "false"), ("dtdversion", "3.0")):
            etree.SubElement(control, tag).text = value
        return root, control

    def _control_failure(self, errorno: str, description2: str) -> etree._Element:
        root, _ = self._response("failure")
        _errormessage(root, errorno, description2)
        return root

    def _auth_failure(self, description2: str) -> etree._Element:
        root, _ = self._response()
        operation = etree.SubElement(root, "operation")
        auth = etree.SubElement(operation, "authentication")
        for tag, value in (("status", "failure"), ("userid", ""), ("companyid", "")):
            etree.SubElement(auth, tag).text = value
        _errormessage(operation, "XL03000006", description2)
        return root

    def _authentication(self, operation: etree._Element, timeout: datetime, entity: str | None) -> None:
        auth = etree.SubElement(operation, "authentication")
        now = self.clock()
        values = (
            ("status", "success"),
            ("userid", self.login_credentials[1]),
            ("companyid", self.login_credentials[0]),
            ("locationid", entity or ""),
            ("sessiontimestamp", now.astimezone().isoformat(timespec="seconds")),
            ("sessiontimeout", timeout.astimezone().isoformat(timespec="seconds")),
        )
        for tag, value in values:
            etree.SubElement(auth, tag).text = value

    def _login(self, received: ReceivedRequest) -> etree._Element:
        login = received.login or {}
        company_id, user_id, password = self.login_credentials
        entity = login.get("locationid")
        if (login.get("companyid"), login.get("userid"), login.get("password")) != (company_id, user_id, password) or (
            entity and entity not in self.entities
        ):
            root, _ = self._response()
            operation = etree.SubElement(root, "operation")
            auth = etree.SubElement(operation, "authentication")
            for tag, value in (("status", "failure"), ("userid", login.get("userid") or ""), ("companyid", login.get("companyid") or "")):
                etree.SubElement(auth, tag).text = value
            _errormessage(operation, "XL03000006", "Sign-in information is incorrect")
            return root
        session_id = f"fAkESesSiOn{next(self._ids):04d}.."
        timeout = self.clock() + self.session_lifetime
        self.sessions[session_id] = (timeout, entity)
        self.sessions_issued += 1
        results = []
        for function in received.functions:
            result = _result(function, "success")
            api = etree.SubElement(etree.SubElement(result, "data"), "api")
            etree.SubElement(api, "sessionid").text = session_id
            etree.SubElement(api, "endpoint").text = self.session_endpoint or self.base_url + SESSION_PATH
            etree.SubElement(api, "locationid").text = entity or ""
            results.append(result)
        return self._success(results, timeout, entity)

    def _success(self, results: list[etree._Element], timeout: datetime, entity: str | None) -> etree._Element:
        root, _ = self._response()
        operation = etree.SubElement(root, "operation")
        self._authentication(operation, timeout, entity)
        operation.extend(results)
        return root

    def _function(self, function: ReceivedFunction, reply: Reply | None) -> etree._Element:
        if reply is not None and reply.function_error is not None:
            target, errorno, description2 = reply.function_error
            if target in (function.name, (function.params.get("object") or "").upper()):
                result = _result(function, "failure")
                _errormessage(result, errorno, description2)
                return result
        if function.name == "readByQuery":
            return self._read_by_query(function)
        if function.name == "readMore":
            return self._read_more(function)
        if function.name == "lookup":
            return self._lookup(function)
        if function.name == "readByName" and (function.params.get("object") or "").upper() == "USERINFO":
            result = _result(function, "success")
            data = etree.SubElement(result, "data", listtype="USERINFO", count="1")
            etree.SubElement(etree.SubElement(data, "USERINFO"), "RECORDNO").text = "7"
            return result
        if function.name == "readUserFormatting" and function.params.get("key") == "7":
            result = _result(function, "success")
            formatting = etree.SubElement(etree.SubElement(result, "data"), "userformatting")
            for tag, value in (("recordno", "7"), ("locale", "en_US"), ("dateformat", "/mdY"), ("gmtoffset", self.gmt_offset), ("clock", "24")):
                etree.SubElement(formatting, tag).text = value
            return result
        result = _result(function, "failure")
        _errormessage(result, "XL03000003", f"Unknown function {function.name}")
        return result

    def _lookup(self, function: ReceivedFunction) -> etree._Element:
        """The recorded definition of the object (its field ids and types), or "not found"."""
        object_name = (function.params.get("object") or "").upper()
        definition = RECORDED_OBJECTS.get(object_name)
        if definition is not None:
            types = {f.name: f.recorded.get("DATATYPE") for f in definition.fields}
        else:
            types = self.extra_definitions.get(object_name)
        if types is None or object_name in self.missing_objects:
            result = _result(function, "failure")
            _errormessage(result, "Query Failed", f"Object definition {object_name} not found")
            return result
        result = _result(function, "success")
        fields = etree.SubElement(etree.SubElement(etree.SubElement(result, "data"), "Type", Name=object_name), "Fields")
        for name, datatype in types.items():
            if name in self.hidden_fields.get(object_name, ()):
                continue
            element = etree.SubElement(fields, "Field")
            etree.SubElement(element, "ID").text = name
            etree.SubElement(element, "DATATYPE").text = datatype
        return result

    def _read_by_query(self, function: ReceivedFunction) -> etree._Element:
        object_name = (function.params.get("object") or "").upper()
        if object_name not in self.tables:
            result = _result(function, "failure")
            _errormessage(result, "Query Failed", f"Object definition {object_name} not found")
            return result
        fields = (function.params.get("fields") or "").split(",")
        rows = self.tables[object_name]
        make_filter = self.filters.get(object_name)
        if make_filter is not None:
            keep = make_filter(function.params.get("query") or "")
            rows = [row for row in rows if keep(row)]
        pagesize = int(function.params.get("pagesize") or 100)
        result_id = f"rid{next(self._ids):05d}"
        self.result_sets[result_id] = (object_name, fields, list(rows[pagesize:]), pagesize, len(rows))
        return self._page(function, object_name, fields, rows[:pagesize], len(rows), len(rows) - min(len(rows), pagesize), result_id)

    def _read_more(self, function: ReceivedFunction) -> etree._Element:
        result_id = function.params.get("resultId") or ""
        if result_id not in self.result_sets:
            result = _result(function, "failure")
            _errormessage(result, "readMore failed", f"Attempt to readMore with an invalid or expired resultId: {result_id}")
            return result
        object_name, fields, rest, pagesize, total = self.result_sets[result_id]
        page, remaining = rest[:pagesize], rest[pagesize:]
        self.result_sets[result_id] = (object_name, fields, remaining, pagesize, total)
        return self._page(function, object_name, fields, page, total, len(remaining), result_id)

    def _page(
        self,
        function: ReceivedFunction,
        object_name: str,
        fields: list[str],
        rows: list[dict[str, str]],
        total: int,
        remaining: int,
        result_id: str,
    ) -> etree._Element:
        result = _result(function, "success")
        tag = object_name.lower()
        data = etree.SubElement(result, "data", listtype=tag, count=str(len(rows)), totalcount=str(total))
        data.set("numremaining", str(remaining))
        data.set("resultId", result_id if remaining else "")
        for row in rows:
            element = etree.SubElement(data, tag)
            for name in fields:
                etree.SubElement(element, name).text = row.get(name) or None
        return result


def _result(function: ReceivedFunction, status: str) -> etree._Element:
    result = etree.Element("result")
    etree.SubElement(result, "status").text = status
    etree.SubElement(result, "function").text = function.name
    etree.SubElement(result, "controlid").text = function.controlid
    return result


def _errormessage(parent: etree._Element, errorno: str, description2: str, correction: str = "") -> None:
    error = etree.SubElement(etree.SubElement(parent, "errormessage"), "error")
    for tag, value in (("errorno", errorno), ("description", ""), ("description2", description2), ("correction", correction)):
        etree.SubElement(error, tag).text = value
