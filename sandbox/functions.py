"""The gateway functions the sandbox implements, each turning one <function> into <data> or a failure.

getAPISession, readByQuery, readMore, read, readByName, lookup and readUserFormatting
(docs/design.md). Any other function name answers a result failure naming what is supported, so
an unexpected call is visible instead of silently empty.

Shapes taken from recordings: an unknown field in `fields` fails that function alone with errorno
`Invalid fields list <field>` and empty texts (tests/fixtures/intacct-samples/
response-multi-function-partial-failure-apbill.xml); `lookup` answers `<Type Name=…><Fields>
<Field><ID>…` (the hotglue tap reads data/Type/Fields/Field and data/Type/Relationships, Estuary
data/Type/Fields/Field/{ID, DATATYPE}); readUserFormatting takes the user's RECORDNO as `<key>`,
found with readByName on USERINFO (Estuary's recorded requests). Choices where Intacct is
undocumented:
- getAPISession sent with other functions fails ("Get API Session Failed"); the others still run.
- pagesize outside 1–1000 and a returnFormat other than xml fail the function ("Query Failed").
- A query the parser refuses fails the function ("Query Failed", the reason and position in
  description2); real Intacct answers some of these with zero rows instead.
- A parameter element the function does not take fails that function (XL03000003), where a
  DTD-validating gateway would refuse the whole request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from lxml import etree

from sandbox.company import Company
from sandbox.cursors import CursorStore
from sandbox.envelope import FunctionCall, FunctionResult
from sandbox.errors import FunctionFailure, IntacctError, QuerySyntaxError
from sandbox.objects import OBJECTS
from sandbox.predicate import compile_condition
from sandbox.query import parse_query
from sandbox.render import RowRenderer
from sandbox.schema import FieldDef, ObjectDef
from sandbox.sessions import Principal, Session, SessionStore

MAX_PAGESIZE = 1000
DEFAULT_PAGESIZE = 100
MAX_READ_KEYS = 1000


@dataclass
class CallContext:
    """What a function may use: the company, who calls, the session stores, the time and URLs."""

    company: Company
    principal: Principal
    session: Session | None
    sessions: SessionStore
    cursors: CursorStore
    now: datetime
    endpoint_url: str  # where getAPISession sends the session's requests
    web_url: str
    alone: bool  # the function is the only one in its request


def run_function(call: FunctionCall, context: CallContext) -> FunctionResult:
    """The <result> of one function: success with data, or failure with Intacct's errors."""
    handler = _HANDLERS.get(call.name)
    try:
        if handler is None:
            raise FunctionFailure(
                IntacctError(
                    "Function Not Supported", "Unsupported function",
                    f"The Intacct sandbox does not implement {call.name}.",
                    f"Use one of {', '.join(_HANDLERS)}.",
                )
            )
        _check_children(call)
        data = handler(call, context)
    except FunctionFailure as failure:
        return FunctionResult("failure", call.name, call.controlid, None, failure.errors)
    return FunctionResult("success", call.name, call.controlid, data)


# -- getAPISession ---------------------------------------------------------------------------
def get_api_session(call: FunctionCall, context: CallContext) -> etree._Element:
    """A session for the caller (or for the entity in <locationid>), with the endpoint to use."""
    if not context.alone:
        raise _fail(
            "Get API Session Failed", "getAPISession must be the only function in its request.",
            "Send getAPISession alone, then send the other functions with the session it returns.",
        )
    requested = call.text("locationid")
    principal = context.principal
    if requested is not None:
        if requested and requested not in context.company.entities:
            raise _fail("Get API Session Failed", f"Invalid entity ID {requested}.",
                        "Use an entity ID of this company, or an empty locationid for the top level.")
        principal = Principal(principal.company_id, principal.user_id, requested)
    if context.session is not None and requested is None:
        session = context.session  # asked with a session and no entity change: that same session
    else:
        session = context.sessions.issue(principal, context.now)
    data = etree.Element("data")
    api = etree.SubElement(data, "api")
    etree.SubElement(api, "sessionid").text = session.session_id
    etree.SubElement(api, "endpoint").text = context.endpoint_url
    location = etree.SubElement(api, "locationid")
    location.text = session.principal.location_id or None
    return data


# -- readByQuery / readMore ------------------------------------------------------------------
def read_by_query(call: FunctionCall, context: CallContext) -> etree._Element:
    """The first page of the rows matching a query; a resultId when more remain."""
    obj = _object(call)
    _refuse_missing(obj, context)
    hidden = context.company.hidden_fields.get(obj.name, frozenset())
    fields = _fields(call, obj, hidden)
    pagesize = _pagesize(call.text("pagesize"))
    _xml_only(call)
    query = call.text("query")
    try:
        matches_row = compile_condition(parse_query(query), obj, context.company.user.zone, hidden)
    except QuerySyntaxError as exc:
        raise _fail(
            "Query Failed", f"Invalid query: {exc}. Query: {query[:300]}",
            "Check the field names, quote text and dates, and use =, !=, <, >, <=, >=, IN, LIKE, IS NULL.",
        ) from None
    table = context.company.table(obj.name)
    matched = [row[0] for row in table.rows.values() if matches_row(row)]
    page = matched[:pagesize]
    result_id = ""
    if len(matched) > pagesize:
        cursor = context.cursors.open(
            principal=context.principal, session_id=_session_id(context), object_name=obj.name,
            fields=tuple(f.name for f in fields), record_nos=matched, position=pagesize, pagesize=pagesize,
            now=context.now, star=_is_star(call),
        )
        result_id = cursor.result_id
    return _page(context, obj, fields, page, total=len(matched), remaining=len(matched) - len(page),
                 result_id=result_id, star=_is_star(call))


def read_more(call: FunctionCall, context: CallContext) -> etree._Element:
    """The next page of an earlier readByQuery, by <resultId> (or its most recent one on <object>)."""
    result_id = call.text("resultId")
    object_name = call.object_name
    live = context.sessions.is_live
    session_id = _session_id(context)
    if result_id:
        cursor = context.cursors.find(result_id, context.principal, session_id, context.now, live)
    elif object_name:
        cursor = context.cursors.latest_for_object(object_name, context.principal, session_id, context.now, live)
    else:
        raise _fail("readMore failed", "readMore needs a <resultId>.", "")
    if cursor is None:
        raise _fail("readMore failed",
                    f"Attempt to readMore with an invalid or expired resultId: {result_id or object_name}", "")
    obj = OBJECTS[cursor.object_name]
    fields = tuple(obj.by_name[name] for name in cursor.fields)
    page = cursor.record_nos[cursor.position: cursor.position + cursor.pagesize]
    cursor.position += len(page)
    cursor.last_used = context.now
    if cursor.remaining == 0:
        context.cursors.close(cursor.result_id)
    return _page(context, obj, fields, page, total=len(cursor.record_nos), remaining=cursor.remaining,
                 result_id=cursor.result_id, star=cursor.star)


def _page(context: CallContext, obj: ObjectDef, fields: tuple[FieldDef, ...], record_nos: list[int], *,
          total: int, remaining: int, result_id: str, star: bool) -> etree._Element:
    data = etree.Element("data", listtype=obj.listtype, count=str(len(record_nos)), totalcount=str(total),
                         numremaining=str(remaining), resultId=result_id)
    rows = context.company.table(obj.name).rows
    _renderer(context, obj, fields, upper=False, star=star).append(
        data, (rows[key] for key in record_nos if key in rows)
    )
    return data


# -- read ------------------------------------------------------------------------------------
def read(call: FunctionCall, context: CallContext) -> etree._Element:
    """Records by RECORDNO (<keys>, comma-separated); unknown keys are skipped, like Intacct."""
    obj = _object(call)
    _refuse_missing(obj, context)
    fields = _fields(call, obj, context.company.hidden_fields.get(obj.name, frozenset()))
    _xml_only(call)
    keys = [key.strip() for key in (call.text("keys") or "").split(",") if key.strip()]
    if not keys:
        raise _fail("Read Failed", "read needs <keys>: one or more RECORDNO values, comma-separated.", "")
    if len(keys) > MAX_READ_KEYS:
        raise _fail("Read Failed", f"read accepts at most {MAX_READ_KEYS} keys.", "Use readByQuery with IN.")
    rows = context.company.table(obj.name).rows
    wanted = [rows[int(key)] for key in keys if key.isdigit() and int(key) in rows]
    data = etree.Element("data", listtype=obj.name, count=str(len(wanted)))
    _renderer(context, obj, fields, upper=True, star=_is_star(call)).append(data, wanted)
    return data


# -- readByName --------------------------------------------------------------------------------
_NAME_FIELDS = {"USERINFO": "LOGINID", "VENDOR": "VENDORID"}


def read_by_name(call: FunctionCall, context: CallContext) -> etree._Element:
    """Records by their name/ID field (<keys>, comma-separated), like `read`; USERINFO and VENDOR."""
    obj = _object(call)
    _refuse_missing(obj, context)
    fields = _fields(call, obj, context.company.hidden_fields.get(obj.name, frozenset()))
    _xml_only(call)
    name_field = _NAME_FIELDS.get(obj.name)
    if name_field is None:
        raise _fail("Read Failed", f"The Intacct sandbox reads {obj.name} by RECORDNO only; use read.", "")
    keys = {key.strip().lower() for key in (call.text("keys") or "").split(",") if key.strip()}
    if not keys:
        raise _fail("Read Failed", "readByName needs <keys>: one or more names, comma-separated.", "")
    index = obj.positions[name_field]
    wanted = [row for row in context.company.table(obj.name) if str(row[index] or "").lower() in keys]
    data = etree.Element("data", listtype=obj.name, count=str(len(wanted)))
    _renderer(context, obj, fields, upper=True, star=False).append(data, wanted)
    return data


# -- lookup ------------------------------------------------------------------------------------
_LOOKUP_TAGS = ("ID", "LABEL", "DESCRIPTION", "REQUIRED", "READONLY", "DATATYPE")


def lookup(call: FunctionCall, context: CallContext) -> etree._Element:
    """The object's definition as recorded: every field with its label, flags, type and valid values."""
    obj = _object(call)
    _refuse_missing(obj, context)
    hidden = context.company.hidden_fields.get(obj.name, frozenset())
    data = etree.Element("data", listtype="All", count="1")
    type_element = etree.SubElement(data, "Type", Name=obj.name, DocumentType="")
    fields_element = etree.SubElement(type_element, "Fields")
    for definition in obj.fields:
        if definition.name in hidden:
            continue
        recorded = definition.recorded
        element = etree.SubElement(fields_element, "Field")
        for tag in _LOOKUP_TAGS:
            value = recorded.get(tag)
            if isinstance(value, bool):
                value = "true" if value else "false"
            etree.SubElement(element, tag).text = value or None
        valid = recorded.get("VALIDVALUES")
        if valid:
            values = etree.SubElement(element, "VALIDVALUES")
            for item in valid:
                etree.SubElement(values, "VALIDVALUE").text = item
        etree.SubElement(element, "ISCUSTOM").text = "false"
    relationships = etree.SubElement(type_element, "Relationships")
    for relationship in obj.relationships:
        element = etree.SubElement(relationships, "Relationship")
        for tag, value in relationship.items():
            etree.SubElement(element, tag).text = value
    return data


# -- readUserFormatting ------------------------------------------------------------------------
def read_user_formatting(call: FunctionCall, context: CallContext) -> etree._Element:
    """The user's locale, date format, gmtoffset and clock, by the user's RECORDNO in <key>."""
    user = context.company.user
    key = call.text("key")
    if not key:
        raise _fail("Read Failed", "readUserFormatting needs the user's RECORDNO in <key>.", "")
    if context.company.formatting_refused:
        raise _fail("Read Failed", "You do not have permission to read this user's formatting.",
                    "Give the user's role read access to Company > Users.")
    if key != str(user.record_no):
        raise _fail("Read Failed", f"User {key} not found.", "")
    data = etree.Element("data")
    formatting = etree.SubElement(data, "userformatting")
    for tag, value in (("recordno", str(user.record_no)), ("locale", user.locale), ("dateformat", user.date_format),
                       ("gmtoffset", user.gmt_offset_text), ("clock", str(user.clock))):
        etree.SubElement(formatting, tag).text = value
    return data


# -- helpers ---------------------------------------------------------------------------------
def _object(call: FunctionCall) -> ObjectDef:
    name = call.text("object")
    if not name:
        raise _fail("Query Failed", f"{call.name} needs an <object>.", "")
    obj = OBJECTS.get(name.upper())
    if obj is None:
        raise _fail("Query Failed", f"Object definition {name} not found", "")
    return obj


def _refuse_missing(obj: ObjectDef, context: CallContext) -> None:
    """An object the company does not have (a module it did not subscribe to) is not found."""
    if obj.name in context.company.missing_objects:
        raise _fail("Query Failed", f"Object definition {obj.name} not found", "")


def _is_star(call: FunctionCall) -> bool:
    text = call.text("fields")
    return text is None or text.strip() in ("", "*")


def _fields(call: FunctionCall, obj: ObjectDef, hidden: frozenset[str] = frozenset()) -> tuple[FieldDef, ...]:
    """The selected fields in the order asked ('*', empty or absent: all the company shows);
    unknown and hidden ones fail."""
    if _is_star(call):
        return tuple(f for f in obj.fields if f.name not in hidden)
    names = list(dict.fromkeys(name.strip().upper() for name in (call.text("fields") or "").split(",") if name.strip()))
    unknown = [name for name in names if obj.field(name) is None or name in hidden]
    if unknown:
        # As recorded: the errorno names the field(s), every other text is empty.
        raise _fail(f"Invalid fields list {','.join(unknown)[:200]}", "", "")
    return tuple(obj.by_name[name] for name in names)


def _pagesize(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PAGESIZE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGESIZE:
        raise _fail(
            "Query Failed", f"Invalid pagesize {text[:20]}: it must be a whole number from 1 to {MAX_PAGESIZE}.",
            f"Send a pagesize of {MAX_PAGESIZE} or less and page with readMore.",
        )
    return int(text)


def _xml_only(call: FunctionCall) -> None:
    fmt = call.text("returnFormat")
    if fmt and fmt.lower() != "xml":
        raise _fail("Query Failed", f"The Intacct sandbox answers returnFormat xml only, not {fmt[:20]}.", "")


def _renderer(
    context: CallContext, obj: ObjectDef, fields: tuple[FieldDef, ...], *, upper: bool, star: bool
) -> RowRenderer:
    return RowRenderer(context.company, obj, fields, zone=context.company.user.zone, web_url=context.web_url,
                       upper_case_rows=upper, with_lines=star)


def _session_id(context: CallContext) -> str | None:
    return context.session.session_id if context.session is not None else None


def _check_children(call: FunctionCall) -> None:
    """Refuse elements the function does not take, as a DTD-validating gateway would (a typo in a
    parameter name must not be silently ignored)."""
    allowed = _PARAMETERS[call.name]
    unexpected = [child.tag for child in call.element if isinstance(child.tag, str) and child.tag not in allowed]
    if unexpected:
        raise _fail("XL03000003", f"XML Parse schema error: <{call.name}> does not take <{unexpected[0][:40]}>.",
                    f"{call.name} takes {', '.join(sorted(allowed)) or 'no parameters'}.")


def _fail(errorno: str, description2: str, correction: str) -> FunctionFailure:
    return FunctionFailure(IntacctError(errorno, "", description2, correction))


_HANDLERS: dict[str, Callable[[FunctionCall, CallContext], etree._Element]] = {
    "getAPISession": get_api_session,
    "readByQuery": read_by_query,
    "readMore": read_more,
    "read": read,
    "readByName": read_by_name,
    "lookup": lookup,
    "readUserFormatting": read_user_formatting,
}
_PARAMETERS: dict[str, frozenset[str]] = {
    "getAPISession": frozenset({"locationid"}),
    "readByQuery": frozenset({"object", "fields", "query", "pagesize", "returnFormat", "docparid"}),
    "readMore": frozenset({"resultId", "object"}),
    "read": frozenset({"object", "keys", "fields", "returnFormat", "docparid"}),
    "readByName": frozenset({"object", "keys", "fields", "returnFormat", "docparid"}),
    "lookup": frozenset({"object", "docparid"}),
    "readUserFormatting": frozenset({"key"}),
}
