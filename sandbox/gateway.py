"""One gateway request end to end: faults, envelope, sender check, authentication, functions, reply.

The order follows Intacct's three levels (intacct-xml-api.md §5.1): a malformed request, a bad
dtdversion, a policy id or wrong sender credentials are refused at control level; a wrong login
or an unknown/expired session at authentication level; after that every function runs on its own
and gets its own result. With `transaction="true"` one failure turns the successful results into
`aborted` (XL03000009), as the SDK samples show.

Sign-in rules: company and user ids compare case-insensitively, passwords exactly; the
`company|entity` pipe form and <locationid> select an entity ("" = top level); a console
<clientid> is refused. A login-authenticated request runs as the user without creating a session;
its authentication block still shows now / now + session lifetime, as Intacct's do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from sandbox import faults as fault_wire
from sandbox.company import Company
from sandbox.envelope import (
    AuthBlock,
    ControlBlock,
    FunctionCall,
    FunctionResult,
    Login,
    Operation,
    build_response,
    parse_document,
    read_control,
    read_operation,
    serialize,
)
from sandbox.errors import AuthenticationFailure, ControlFailure, IntacctError
from sandbox.faults import Fault, FaultKind
from sandbox.functions import CallContext, run_function
from sandbox.sessions import Principal, Session
from sandbox.state import SandboxState

log = logging.getLogger(__name__)

XML_CONTENT_TYPE = "text/xml"
HTML_CONTENT_TYPE = "text/html"
ROLLED_BACK = IntacctError(
    "XL03000009", "", "The entire transaction in this operation has been rolled back due to an error.", ""
)
SIGN_IN_INCORRECT = "Sign-in information is incorrect"


@dataclass(frozen=True)
class GatewayReply:
    """What the HTTP adapter sends back."""

    status: int
    body: bytes
    content_type: str = XML_CONTENT_TYPE


@dataclass(frozen=True)
class _Parsed:
    control: ControlBlock | None
    operation: Operation | None
    failure: ControlFailure | None


async def handle_gateway_request(state: SandboxState, body: bytes, *, endpoint_url: str, web_url: str) -> GatewayReply:
    """Answer one POST to the gateway, as Intacct would (plus any queued fault)."""
    state.stats.count_request()
    parsed = _parse(body)
    fault = state.faults.take(parsed.operation.functions if parsed.operation else ())
    if fault is not None:
        log.info("sandbox fault %s applied to a gateway request", fault.kind.value)
        early = await _apply_before(state, fault)
        if early is not None:
            return early
    root = _answer(state, parsed, fault, endpoint_url=endpoint_url, web_url=web_url)
    reply = serialize(root)
    if fault is not None and fault.kind is FaultKind.MALFORMED_XML:
        reply = fault_wire.truncate(reply)
    elif fault is not None and fault.kind is FaultKind.CONTROL_CHARS:
        reply = fault_wire.insert_control_chars(reply)
    return GatewayReply(200, reply)


def _parse(body: bytes) -> _Parsed:
    control = None
    try:
        root = parse_document(body)
        control = read_control(root)
        return _Parsed(control, read_operation(root), None)
    except ControlFailure as failure:
        return _Parsed(control, None, failure)


async def _apply_before(state: SandboxState, fault: Fault) -> GatewayReply | None:
    """Faults that act before the request is handled; a reply when they replace it."""
    kind = fault.kind
    if kind is FaultKind.CONCURRENCY_LIMIT:
        body = serialize(build_response(None, control_errors=[fault_wire.CONCURRENCY_ERROR]))
        return GatewayReply(429, body)
    if kind in (FaultKind.HTTP_500, FaultKind.HTTP_503):
        status = 500 if kind is FaultKind.HTTP_500 else 503
        return GatewayReply(status, fault_wire.http_error_body(status), HTML_CONTENT_TYPE)
    if kind is FaultKind.DELAY:
        await state.sleep(fault.seconds)
    elif kind is FaultKind.EXPIRE_SESSIONS:
        count = state.sessions.expire_all()
        log.info("sandbox fault expired %d session(s)", count)
    return None


def _answer(
    state: SandboxState, parsed: _Parsed, fault: Fault | None, *, endpoint_url: str, web_url: str
) -> etree._Element:
    """The response tree."""
    control = parsed.control
    if parsed.failure is not None:
        log.info("gateway request refused at control level: %s", parsed.failure.errors[0].errorno)
        return build_response(control, control_errors=parsed.failure.errors)
    assert control is not None and parsed.operation is not None
    company, now = state.company, state.now()
    try:
        _check_control(control, company)
        principal, session = _authenticate(parsed.operation, state, now)
    except ControlFailure as failure:
        log.info("gateway request refused at control level: %s", failure.errors[0].description2)
        return build_response(control, control_errors=failure.errors)
    except AuthenticationFailure as failure:
        log.info("gateway request refused at authentication level: %s", failure.errors[0].description2)
        login = parsed.operation.login
        auth = AuthBlock("failure", login.user_id if login else "", login.company_id if login else "",
                         (login.location_id or "") if login else None)
        return build_response(control, auth=auth, auth_errors=failure.errors)

    functions = parsed.operation.functions
    context = CallContext(
        company=company, principal=principal, session=session, sessions=state.sessions, cursors=state.cursors,
        now=now, endpoint_url=endpoint_url, web_url=web_url, alone=len(functions) == 1,
    )
    results = _run_functions(state, functions, context, fault)
    if parsed.operation.transaction:
        results = _roll_back_if_failed(results)
    log.debug("gateway request: %s", ", ".join(f"{r.function}={r.status}" for r in results) or "no functions")
    # The timeout reported is that of the session the request used (getAPISession with a login:
    # of the session it just created); a login request reports what a new session would get.
    timeout = session.timeout if session is not None else now + state.sessions.lifetime
    zone = company.user.zone
    auth = AuthBlock(
        "success", principal.user_id, principal.company_id, principal.location_id,
        now.astimezone(zone).isoformat(timespec="seconds"), timeout.astimezone(zone).isoformat(timespec="seconds"),
    )
    root = build_response(control, auth=auth, results=results)
    if fault is not None and fault.kind is FaultKind.CONTROL_CHARS:
        target = _first_value(root)
        target.text = fault_wire.mark_for_control_chars(target.text)
    return root


def _run_functions(
    state: SandboxState, functions: tuple[FunctionCall, ...], context: CallContext, fault: Fault | None
) -> list[FunctionResult]:
    """One result per function, in order; an error_response fault fails the first function it targets."""
    results = []
    injected = fault is None or fault.kind is not FaultKind.ERROR_RESPONSE
    for call in functions:
        state.stats.count_function(call.name)
        if not injected and fault.matches(call):
            injected = True
            error = fault_wire.injected_error(call.name, transient=fault.transient)
            results.append(FunctionResult("failure", call.name, call.controlid, None, (error,)))
        else:
            results.append(run_function(call, context))
    return results


def _check_control(control: ControlBlock, company: Company) -> None:
    if control.dtdversion != "3.0":
        raise ControlFailure(IntacctError(
            "XL03000003", "",
            f"XML Parse schema error: dtdversion {control.dtdversion[:10]!r} is not supported; the sandbox speaks 3.0.",
            "",
        ))
    if control.policyid is not None:
        raise ControlFailure(
            IntacctError("XL03000006", "", f"{control.policyid[:64]} is not a valid transport policy.", "")
        )
    expected = company.credentials
    if control.sender_id != expected.sender_id or control.password != expected.sender_password:
        raise ControlFailure(IntacctError("XL03000006", "", "Incorrect Intacct XML Partner ID or password.", ""))


def _authenticate(operation: Operation, state: SandboxState, now: datetime) -> tuple[Principal, Session | None]:
    if operation.session_id is not None:
        session = state.sessions.touch(operation.session_id, now)
        if session is None:
            raise AuthenticationFailure(IntacctError("XL03000006", "", "Invalid session", ""))
        return session.principal, session
    assert operation.login is not None
    return _sign_in(operation.login, state.company), None


def _sign_in(login: Login, company: Company) -> Principal:
    expected = company.credentials
    company_id, _, entity = login.company_id.partition("|")
    location = login.location_id if login.location_id is not None else entity
    if (
        login.client_id is not None
        or company_id.lower() != expected.company_id.lower()
        or login.user_id.lower() != expected.user_id.lower()
        or login.password != expected.user_password
    ):
        raise AuthenticationFailure(IntacctError("XL03000006", "", SIGN_IN_INCORRECT, ""))
    if location and location not in company.entities:
        raise AuthenticationFailure(IntacctError(
            "XL03000006", "", SIGN_IN_INCORRECT, "Check the entity (location ID): this company has no such entity."
        ))
    return Principal(expected.company_id, expected.user_id, location or "")


def _roll_back_if_failed(results: list[FunctionResult]) -> list[FunctionResult]:
    if all(result.status == "success" for result in results):
        return results
    return [
        FunctionResult("aborted", r.function, r.controlid, None, (ROLLED_BACK,)) if r.status == "success"
        else FunctionResult(r.status, r.function, r.controlid, r.data, (*r.errors, ROLLED_BACK))
        for r in results
    ]


def _first_value(root: etree._Element) -> etree._Element:
    """The element whose text the control_chars fault corrupts: the first field of the first row
    (or of the first data element), else the echoed controlid."""
    for data in root.iter("data"):
        for element in data.iter():
            if element is not data and len(element) == 0:
                return element
    return root.find("control/controlid")
