"""The admin API (docs/architecture.md §6.4): JSON in, JSON out; 400 for bad input, 404 for unknown records.

States are given as display values, case-insensitively: a bill's STATE word (Draft, Submitted,
Partially Approved, Declined, Posted, Selected, Partially Paid, Paid, Reversed, Reversal,
Analyzing, No Value; also Approved, since Intacct posts a bill once it is approved), a payment's
DISPLAYSTATE word (Draft, Submitted, Partially Approved, Declined, Approved, Delivered, Confirmed,
Voided, Print Voided, Quick Delivery; also Complete for Confirmed). Adding a bill to a company
without vendors (the empty seed) first creates one vendor, since the API has no vendor creation.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Awaitable, Callable, Mapping

from aiohttp import web

from sandbox.company import BILL_PAYABLE_STATES, Company
from sandbox.demo_data import BANK_ACCOUNT
from sandbox.errors import AdminInputError, RecordNotFoundError
from sandbox.faults import parse_fault
from sandbox.objects import BILL_POSTED, BILL_STATES, PAYMENT_CONFIRMED, PAYMENT_STATES, STATUS
from sandbox.state import SANDBOX_STATE, SandboxState
from sandbox.webhooks import DEFAULT_EVENTS, EVENTS, WATCHED_OBJECTS, WebhookConfig

log = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("1000000000")
MAX_TEXT = 200
MAX_LINES = 100
BILL_STATE_NAMES = {
    **{display.lower(): code for code, display in BILL_STATES.items()},
    "approved": BILL_POSTED,
}
PAYMENT_STATE_NAMES = {
    **{display.lower(): code for code, display in PAYMENT_STATES.items()},
    "complete": PAYMENT_CONFIRMED,
}
_LINE_KEYS = {
    "amount": "AMOUNT", "account_no": "ACCOUNTNO", "memo": "ENTRYDESCRIPTION", "department_id": "DEPARTMENTID",
    "location_id": "LOCATIONID", "class_id": "CLASSID", "project_id": "PROJECTID",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_admin_routes(app: web.Application) -> None:
    """Register /sandbox/* on the app."""
    app.router.add_post("/sandbox/bills", _json_errors(add_bill))
    app.router.add_post("/sandbox/bills/{record_no}/state", _json_errors(set_bill_state))
    app.router.add_post("/sandbox/payments", _json_errors(add_payment))
    app.router.add_post("/sandbox/payments/{record_no}/state", _json_errors(set_payment_state))
    app.router.add_post("/sandbox/vendors/{vendor_id}/status", _json_errors(set_vendor_status))
    app.router.add_post("/sandbox/company", _json_errors(restrict_company))
    app.router.add_post("/sandbox/faults", _json_errors(add_fault))
    app.router.add_get("/sandbox/faults", _json_errors(list_faults))
    app.router.add_get("/sandbox/stats", _json_errors(get_stats))
    app.router.add_post("/sandbox/reset", _json_errors(reset))
    app.router.add_post("/sandbox/webhooks", _json_errors(set_webhooks))
    app.router.add_get("/sandbox/webhooks", _json_errors(get_webhooks))
    app.router.add_delete("/sandbox/webhooks", _json_errors(stop_webhooks))


def _json_errors(handler: Handler) -> Handler:
    """Turn the admin errors into JSON 400/404 answers (everything else is a real 500)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except AdminInputError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except RecordNotFoundError as exc:
            return web.json_response({"error": str(exc)}, status=404)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


async def add_bill(request: web.Request) -> web.Response:
    """POST /sandbox/bills {vendor_id?, amount?, due_date?, department_id?, location_id?, lines?, description?}."""
    state = request.app[SANDBOX_STATE]
    body = await _body(
        request, {"vendor_id", "amount", "due_date", "department_id", "location_id", "lines", "description"}
    )
    lines = _lines(body["lines"]) if body.get("lines") is not None else None
    row = state.generator.new_bill(
        state.now(),
        vendor_id=_text(body, "vendor_id"),
        amount=_amount(body["amount"], "amount") if body.get("amount") is not None else None,
        due_date=_date(body, "due_date"),
        department_id=_text(body, "department_id"),
        location_id=_text(body, "location_id"),
        lines=lines,
        description=_text(body, "description"),
    )
    bill = state.company.tables["APBILL"].as_dict(row)
    log.info("sandbox admin: bill %s added (%s)", bill["RECORDNO"], bill["RECORDID"])
    return web.json_response(
        {"record_no": bill["RECORDNO"], "bill_number": bill["RECORDID"], "vendor_id": bill["VENDORID"],
         "state": BILL_STATES[bill["RAWSTATE"]], "total_entered": f"{bill['TOTALENTERED']:.2f}",
         "due_date": bill["WHENDUE"].isoformat()},
        status=201,
    )


async def add_payment(request: web.Request) -> web.Response:
    """POST /sandbox/payments {bill_record_no?, amount?}: a Submitted payment request."""
    state = request.app[SANDBOX_STATE]
    body = await _body(request, {"bill_record_no", "amount"})
    bill_record_no = body.get("bill_record_no")
    if bill_record_no is None:
        bill_record_no = _payable_bill(state)
    elif isinstance(bill_record_no, bool) or not isinstance(bill_record_no, int):
        raise AdminInputError("bill_record_no must be an integer")
    amount = _amount(body["amount"], "amount") if body.get("amount") is not None else None
    method = state.generator.payment_method()
    row = state.company.request_payment(bill_record_no, amount, state.now(), method=method, bank=BANK_ACCOUNT)
    payment = state.company.tables["APPYMT"].as_dict(row)
    log.info("sandbox admin: payment %s requested for bill %s", payment["RECORDNO"], bill_record_no)
    return web.json_response(
        {"record_no": payment["RECORDNO"], "bill_record_no": bill_record_no, "state": PAYMENT_STATES[payment["STATE"]],
         "amount": f"{payment['TOTALENTERED']:.2f}", "vendor_id": payment["VENDORID"]},
        status=201,
    )


def _state_setter(
    kind: str, move: Callable[[Company, int, str, datetime], tuple[str, str]], names: dict[str, str], displays: dict[str, str]
) -> Handler:
    """POST /sandbox/{kind}s/{record_no}/state {state}: move one record (a bill or a payment) to a state."""

    async def set_state(request: web.Request) -> web.Response:
        state = request.app[SANDBOX_STATE]
        record_no = _record_no(request)
        code = _state(await _body(request, {"state"}), names)
        old, new = move(state.company, record_no, code, state.now())
        log.info("sandbox admin: %s %s %s -> %s", kind, record_no, displays[old], displays[new])
        return web.json_response({"record_no": record_no, "state": displays[new], "previous_state": displays[old]})

    return set_state


set_bill_state = _state_setter("bill", Company.set_bill_state, BILL_STATE_NAMES, BILL_STATES)
set_payment_state = _state_setter("payment", Company.set_payment_state, PAYMENT_STATE_NAMES, PAYMENT_STATES)


async def set_vendor_status(request: web.Request) -> web.Response:
    """POST /sandbox/vendors/{vendor_id}/status {status?: active|inactive, on_hold?: bool}."""
    state = request.app[SANDBOX_STATE]
    vendor_id = request.match_info["vendor_id"]
    body = await _body(request, {"status", "on_hold"})
    status, on_hold = body.get("status"), body.get("on_hold")
    if status is None and on_hold is None:
        raise AdminInputError("give status (active|inactive) and/or on_hold (true|false)")
    if status is not None and status not in ("active", "inactive"):
        raise AdminInputError("status must be active or inactive")
    if on_hold is not None and not isinstance(on_hold, bool):
        raise AdminInputError("on_hold must be true or false")
    company = state.company
    changed = company.set_vendor_status(vendor_id, None if status is None else status == "active", on_hold, state.now())
    vendor = company.tables["VENDOR"].as_dict(company.vendor(vendor_id))
    log.info("sandbox admin: vendor %s status=%s on_hold=%s", vendor_id, STATUS[vendor["STATUS"]], vendor["ONHOLD"])
    return web.json_response(
        {"vendor_id": vendor_id, "status": STATUS[vendor["STATUS"]], "on_hold": vendor["ONHOLD"], "changed": changed}
    )


async def restrict_company(request: web.Request) -> web.Response:
    """POST /sandbox/company {missing_objects?, hidden_fields?, refuse_user_formatting?}: make the
    company lack whole objects (a module it does not subscribe to: `lookup` and reads answer
    "Object definition … not found"), hide fields (absent from `lookup`, refused in reads like
    unknown fields) or refuse readUserFormatting. Each call replaces the previous settings."""
    state = request.app[SANDBOX_STATE]
    body = await _body(request, {"missing_objects", "hidden_fields", "refuse_user_formatting"})
    missing = body.get("missing_objects") or []
    hidden = body.get("hidden_fields") or {}
    refuse = body.get("refuse_user_formatting", False)
    if not isinstance(missing, list) or not all(isinstance(name, str) for name in missing):
        raise AdminInputError("missing_objects must be a list of object names")
    if not isinstance(hidden, dict) or not all(
        isinstance(fields, list) and all(isinstance(f, str) for f in fields) for fields in hidden.values()
    ):
        raise AdminInputError("hidden_fields must map object names to lists of field names")
    if not isinstance(refuse, bool):
        raise AdminInputError("refuse_user_formatting must be true or false")
    state.company.restrict(missing_objects=missing, hidden_fields=hidden, refuse_user_formatting=refuse)
    log.info("sandbox admin: company restricted (missing %s, hidden %s, formatting refused %s)", missing, hidden, refuse)
    return web.json_response(
        {"missing_objects": sorted(missing), "hidden_fields": {k: sorted(v) for k, v in hidden.items()},
         "refuse_user_formatting": refuse}
    )


async def add_fault(request: web.Request) -> web.Response:
    """POST /sandbox/faults {kind, count?, seconds?, function?, transient?}."""
    state = request.app[SANDBOX_STATE]
    fault = parse_fault(await _body(request, None))
    state.faults.add(fault)
    log.info("sandbox admin: fault %s queued for %d request(s)", fault.kind.value, fault.remaining)
    return web.json_response({"queued": fault.as_json(), "pending": state.faults.pending()}, status=201)


async def list_faults(request: web.Request) -> web.Response:
    """GET /sandbox/faults: the faults still waiting, oldest first."""
    return web.json_response({"pending": request.app[SANDBOX_STATE].faults.pending()})


async def get_stats(request: web.Request) -> web.Response:
    """GET /sandbox/stats {requests, functions: {name: count}, sessions_issued}."""
    state = request.app[SANDBOX_STATE]
    return web.json_response(state.stats.as_json(state.sessions.issued))


async def reset(request: web.Request) -> web.Response:
    """POST /sandbox/reset: back to the seed."""
    state = request.app[SANDBOX_STATE]
    state.reset()
    log.info("sandbox admin: reset to seed %s", state.seed)
    return web.json_response({"status": "reset", "seed": state.seed})


async def set_webhooks(request: web.Request) -> web.Response:
    """POST /sandbox/webhooks {url, secret, objects?, events?}: call `url` after every change."""
    state = request.app[SANDBOX_STATE]
    body = await _body(request, {"url", "secret", "objects", "events"})
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise AdminInputError("url must be an http(s) URL")
    secret = body.get("secret")
    if not isinstance(secret, str) or not 1 <= len(secret) <= MAX_TEXT:
        raise AdminInputError(f"secret must be a string of 1 to {MAX_TEXT} characters")
    config = WebhookConfig(url, secret, _names(body, "objects", WATCHED_OBJECTS), _names(body, "events", EVENTS, DEFAULT_EVENTS))
    state.webhooks.configure(config)
    log.info("sandbox admin: webhook calls go to %s for %s on %s", url, ", ".join(sorted(config.events)),
             ", ".join(sorted(config.objects)))
    return web.json_response({"webhook": config.as_json()}, status=201)


async def get_webhooks(request: web.Request) -> web.Response:
    """GET /sandbox/webhooks: the configuration (no secret) and the latest attempts, oldest first."""
    webhooks = request.app[SANDBOX_STATE].webhooks
    config = webhooks.config.as_json() if webhooks.config else None
    return web.json_response({"webhook": config, "attempts": [a.as_json() for a in webhooks.attempts]})


async def stop_webhooks(request: web.Request) -> web.Response:
    """DELETE /sandbox/webhooks: no more calls (retries under way still run)."""
    request.app[SANDBOX_STATE].webhooks.configure(None)
    log.info("sandbox admin: webhook calls stopped")
    return web.json_response({"webhook": None})


# -- input parsing -----------------------------------------------------------------------------
async def _body(request: web.Request, allowed: set[str] | None) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        body: Any = {}
    else:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise AdminInputError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise AdminInputError("the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise AdminInputError(f"unknown field(s) {unknown}; this endpoint takes {sorted(allowed)}")
    return body


def _names(body: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: tuple[str, ...] | None = None) -> frozenset[str]:
    value = body.get(key)
    if value is None:
        return frozenset(default or allowed)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in allowed for v in value):
        raise AdminInputError(f"{key} must be a non-empty list of: {', '.join(allowed)}")
    return frozenset(value)


def _record_no(request: web.Request) -> int:
    text = request.match_info["record_no"]
    if not text.isdigit() or len(text) > 12:
        raise AdminInputError(f"{text[:20]!r} is not a record number")
    return int(text)


def _state(body: Mapping[str, Any], names: Mapping[str, str]) -> str:
    value = body.get("state")
    code = names.get(value.strip().lower()) if isinstance(value, str) else None
    if code is None:
        accepted = ", ".join(sorted({name.title() for name in names}))
        raise AdminInputError(f"state must be one of: {accepted}")
    return code


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise AdminInputError(f"{key} must be a non-empty string of at most {MAX_TEXT} characters")
    if any(not _xml_char(c) for c in value):
        raise AdminInputError(f"{key} contains characters XML cannot carry")
    return value.strip()


def _amount(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise AdminInputError(f"{key} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise AdminInputError(f"{key} must be a finite number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise AdminInputError(f"{key} must be a number") from None
    if not amount.is_finite() or not Decimal("0.01") <= amount < MAX_AMOUNT:
        raise AdminInputError(f"{key} must be at least 0.01 and below {MAX_AMOUNT}")
    return amount.quantize(Decimal("0.01"))


def _date(body: Mapping[str, Any], key: str) -> date | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise AdminInputError(f"{key} must be a date written YYYY-MM-DD")


def _lines(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LINES:
        raise AdminInputError(f"lines must be a list of 1 to {MAX_LINES} objects")
    lines = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise AdminInputError(f"line {number} must be an object")
        unknown = sorted(set(item) - _LINE_KEYS.keys())
        if unknown:
            raise AdminInputError(f"line {number}: unknown field(s) {unknown}; a line takes {sorted(_LINE_KEYS)}")
        if item.get("amount") is None:
            raise AdminInputError(f"line {number}: amount is required")
        line: dict[str, Any] = {"AMOUNT": _amount(item["amount"], f"line {number} amount")}
        for key, name in _LINE_KEYS.items():
            if key != "amount" and item.get(key) is not None:
                line[name] = _text(item, key)
        lines.append(line)
    return lines


def _payable_bill(state: SandboxState) -> int:
    """The oldest Posted or Partially Paid bill with something due (when no bill was named)."""
    bills = state.company.tables["APBILL"]
    positions = bills.obj.positions
    for row in bills:
        if row[positions["RAWSTATE"]] in BILL_PAYABLE_STATES and row[positions["TOTALDUE"]] > 0:
            return row[0]
    raise AdminInputError("no Posted or Partially Paid bill is open for payment; give bill_record_no")


def _xml_char(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    )
