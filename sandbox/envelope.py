"""The XML envelope as pure functions: parse a gateway request hardened, build a response tree.

Parsing refuses what a DTD-validating gateway refuses, as a control-level XL03000003 failure:
malformed XML, any DOCTYPE (so no entity can be declared, let alone expanded: billion laughs and
external entities never get a chance), a missing <control>/<operation>/<authentication>/
<content>, both or neither of <login> and <sessionid>, a function without a 1–256 character
controlid or without exactly one child. The response tree mirrors
tests/fixtures/intacct-samples/response-*.xml element for element.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from lxml import etree

from sandbox.errors import ControlFailure, IntacctError

PARSE_ERROR = "XL03000003"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_CONTROLID = 256


@dataclass(frozen=True)
class ControlBlock:
    """The request's <control>, as sent (password kept out of repr)."""

    sender_id: str
    password: str = field(repr=False)
    controlid: str = ""
    uniqueid: str = "false"
    dtdversion: str = ""
    policyid: str | None = None


@dataclass(frozen=True)
class Login:
    """<authentication><login>: user, company, password and optional entity/console client."""

    user_id: str
    company_id: str
    password: str = field(repr=False)
    location_id: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class FunctionCall:
    """One <function>: its controlid, the name of its child element, and that element."""

    controlid: str
    name: str
    element: etree._Element = field(repr=False)

    @property
    def object_name(self) -> str | None:
        """The upper-cased <object> of a read function, if it has one."""
        text = self.element.findtext("object")
        return text.strip().upper() if text and text.strip() else None

    def text(self, child: str) -> str | None:
        """The stripped text of a direct child element, None when the element is absent."""
        element = self.element.find(child)
        if element is None:
            return None
        return (element.text or "").strip()


@dataclass(frozen=True)
class Operation:
    """The request's <operation>: transaction flag, authentication and functions."""

    transaction: bool
    login: Login | None
    session_id: str | None = field(repr=False)
    functions: tuple[FunctionCall, ...]


@dataclass(frozen=True)
class AuthBlock:
    """What goes in <operation><authentication>; None fields are left out."""

    status: str
    user_id: str
    company_id: str
    location_id: str | None = None
    session_timestamp: str | None = None
    session_timeout: str | None = None


@dataclass(frozen=True)
class FunctionResult:
    """One <result>: status, echoes, data element and errors."""

    status: str  # success | failure | aborted
    function: str
    controlid: str
    data: etree._Element | None = None
    errors: tuple[IntacctError, ...] = ()


def parse_document(body: bytes) -> etree._Element:
    """The root <request> element of a body, parsed without entities, network or DTD."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        # The parser's own log: exc.error_log can also hold messages of earlier parses.
        raise ControlFailure(*_syntax_errors(exc, parser.error_log)) from None
    if root is None:
        raise ControlFailure(_schema_error("the request body is empty"))
    if root.getroottree().docinfo.doctype or root.getroottree().docinfo.internalDTD is not None:
        raise ControlFailure(_schema_error("a DOCTYPE is not allowed in a request"))
    if root.tag != "request":
        raise ControlFailure(_schema_error(f"the root element must be <request>, not <{root.tag}>"))
    return root


def read_control(root: etree._Element) -> ControlBlock:
    """The <control> block (ControlFailure when it is missing or lacks its required children)."""
    control = root.find("control")
    if control is None:
        raise ControlFailure(_schema_error("<request> must start with <control>"))
    values = {child.tag: (child.text or "").strip() for child in control if isinstance(child.tag, str)}
    missing = [name for name in ("senderid", "password", "controlid", "dtdversion") if name not in values]
    if missing:
        raise ControlFailure(_schema_error(f"<control> is missing <{'>, <'.join(missing)}>"))
    return ControlBlock(
        sender_id=values["senderid"],
        password=values["password"],
        controlid=values["controlid"],
        uniqueid=values.get("uniqueid", "true") or "true",
        dtdversion=values["dtdversion"],
        policyid=values.get("policyid") or None,
    )


def read_operation(root: etree._Element) -> Operation:
    """The <operation> block: authentication and functions (ControlFailure when malformed)."""
    operations = root.findall("operation")
    if len(operations) != 1:
        raise ControlFailure(_schema_error("<request> must hold exactly one <operation>"))
    operation = operations[0]
    transaction = (operation.get("transaction") or "false").strip().lower() == "true"
    auth = operation.find("authentication")
    if auth is None:
        raise ControlFailure(_schema_error("<operation> must start with <authentication>"))
    login_element, session_element = auth.find("login"), auth.find("sessionid")
    if (login_element is None) == (session_element is None):
        raise ControlFailure(_schema_error("<authentication> needs exactly one of <login> or <sessionid>"))
    login = None
    if login_element is not None:
        values = {child.tag: (child.text or "").strip() for child in login_element if isinstance(child.tag, str)}
        missing = [name for name in ("userid", "companyid", "password") if name not in values]
        if missing:
            raise ControlFailure(_schema_error(f"<login> is missing <{'>, <'.join(missing)}>"))
        login = Login(
            values["userid"], values["companyid"], values["password"],
            values.get("locationid"), values.get("clientid") or None,
        )
    content = operation.find("content")
    if content is None:
        raise ControlFailure(_schema_error("<operation> must contain <content>"))
    functions = []
    for element in content:
        if not isinstance(element.tag, str):
            continue
        if element.tag != "function":
            raise ControlFailure(_schema_error(f"<content> may hold only <function>, not <{element.tag}>"))
        controlid = element.get("controlid") or ""
        if not 1 <= len(controlid) <= MAX_CONTROLID:
            raise ControlFailure(_schema_error(f"<function> needs a controlid of 1 to {MAX_CONTROLID} characters"))
        children = [child for child in element if isinstance(child.tag, str)]
        if len(children) != 1:
            raise ControlFailure(_schema_error(f"<function controlid=\"{controlid}\"> must hold exactly one function"))
        functions.append(FunctionCall(controlid, children[0].tag, children[0]))
    session_id = (session_element.text or "").strip() if session_element is not None else None
    return Operation(transaction, login, session_id, tuple(functions))


def build_response(
    control: ControlBlock | None,
    *,
    control_errors: Sequence[IntacctError] = (),
    auth: AuthBlock | None = None,
    auth_errors: Sequence[IntacctError] = (),
    results: Sequence[FunctionResult] = (),
) -> etree._Element:
    """The <response> tree: a control failure, an authentication failure, or results."""
    response = etree.Element("response")
    block = etree.SubElement(response, "control")
    _text(block, "status", "failure" if control_errors else "success")
    _text(block, "senderid", control.sender_id if control else "")
    _text(block, "controlid", control.controlid if control else "")
    _text(block, "uniqueid", control.uniqueid if control else "false")
    _text(block, "dtdversion", control.dtdversion if control else "3.0")
    if control_errors:
        response.append(error_message(control_errors))
        return response
    operation = etree.SubElement(response, "operation")
    if auth is not None:
        block = etree.SubElement(operation, "authentication")
        _text(block, "status", auth.status)
        _text(block, "userid", auth.user_id)
        _text(block, "companyid", auth.company_id)
        for tag, value in (("locationid", auth.location_id), ("sessiontimestamp", auth.session_timestamp),
                           ("sessiontimeout", auth.session_timeout)):
            if value is not None:
                _text(block, tag, value)
    if auth_errors:
        operation.append(error_message(auth_errors))
        return response
    for result in results:
        element = etree.SubElement(operation, "result")
        _text(element, "status", result.status)
        _text(element, "function", result.function)
        _text(element, "controlid", result.controlid)
        if result.data is not None:
            element.append(result.data)
        if result.errors:
            element.append(error_message(result.errors))
    return response


def error_message(errors: Sequence[IntacctError]) -> etree._Element:
    """An <errormessage> with one <error> per IntacctError."""
    message = etree.Element("errormessage")
    for error in errors:
        element = etree.SubElement(message, "error")
        _text(element, "errorno", error.errorno)
        _text(element, "description", error.description)
        _text(element, "description2", error.description2)
        _text(element, "correction", error.correction)
    return message


INDENT = "    "


def serialize(root: etree._Element) -> bytes:
    """UTF-8 bytes with Intacct's XML declaration, indented by four spaces per level.

    The recorded gateway answers (tests/fixtures/intacct-samples, the jfcote87 captures) are
    indented so. Whether `includewhitespace=false` makes the real gateway drop the indentation is
    not recorded (the compact recordings that exist were re-serialised by their recorder), so the
    sandbox always indents: it is the harder layout for a reader (text between every element)."""
    etree.indent(root, space=INDENT)
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _text(parent: etree._Element, tag: str, value: str | None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if value:
        element.text = value
    return element


def _schema_error(detail: str) -> IntacctError:
    return IntacctError(PARSE_ERROR, "", f"XML Parse schema error: {detail}.", "")


def _syntax_errors(exc: etree.XMLSyntaxError, log: etree._ListErrorLog) -> list[IntacctError]:
    """One error per libxml2 message, worded like Intacct's XL03000003 answers."""
    entries = [entry for entry in log if entry.level_name in ("ERROR", "FATAL")]
    if not entries:
        return [_schema_error(str(exc) or "the request is not well-formed XML")]
    return [
        IntacctError(
            PARSE_ERROR, "",
            f"XML Parse schema error: Fatal Error {entry.type}: {entry.message.strip()}. "
            f"Line: {entry.line}, column: {entry.column}.",
            "",
        )
        for entry in entries[:5]
    ]
