"""The in-memory company: its tables and indexes, its sign-in data, and the AP rules for changes.

Every change goes through this class so the denormalised fields (VENDORNAME on bills and lines,
ACCOUNTTITLE/DEPARTMENTNAME/… on lines), the totals that follow a state (TOTALDUE, TOTALPAID,
TOTALSELECTED, WHENPAID) and WHENMODIFIED stay consistent. States are passed as stored codes:
a bill's RAWSTATE (`objects.BILL_STATES`), a payment's STATE (`objects.PAYMENT_STATES`).

Bill ↔ payment rules (Sage Intacct product help, payment requests): a payment request can be made for a
Posted or Partially Paid bill and moves it to Selected; when the payment completes the bill
becomes Paid (or Partially Paid); when it is declined or voided the bill goes back to Posted (or
Partially Paid), and a voided completed payment gives its amount back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, Mapping, Sequence

from sandbox import objects
from sandbox.objects import (
    BILL_DECLINED,
    BILL_DRAFT,
    BILL_PAID,
    BILL_PARTIALLY_APPROVED,
    BILL_PARTIALLY_PAID,
    BILL_POSTED,
    BILL_REVERSED,
    BILL_SELECTED,
    BILL_SUBMITTED,
    PAYMENT_APPROVED,
    PAYMENT_CONFIRMED,
    PAYMENT_DELIVERED,
    PAYMENT_DRAFT,
    PAYMENT_PARTIALLY_APPROVED,
    PAYMENT_QUICK_DELIVERY,
    PAYMENT_SUBMITTED,
    PAYMENT_VOIDED,
    PAYMENT_PRINT_VOIDED,
)
from sandbox.errors import AdminInputError, RecordNotFoundError
from sandbox.schema import two_places
from sandbox.tables import Table

ZERO = Decimal("0.00")
BILL_PAYABLE_STATES = frozenset({BILL_POSTED, BILL_PARTIALLY_PAID})  # a payment request may be made for these
OPEN_PAYMENT_STATES = frozenset(
    {PAYMENT_DRAFT, PAYMENT_SUBMITTED, PAYMENT_PARTIALLY_APPROVED, PAYMENT_APPROVED, PAYMENT_DELIVERED, PAYMENT_QUICK_DELIVERY}
)
CLOSED_PAYMENT_STATES = frozenset({PAYMENT_CONFIRMED, PAYMENT_VOIDED, PAYMENT_PRINT_VOIDED})


@dataclass(frozen=True)
class SandboxCredentials:
    """The sender (Web Services) and user sign-in the gateway accepts; passwords stay out of repr."""

    sender_id: str
    sender_password: str = field(repr=False)
    company_id: str
    user_id: str
    user_password: str = field(repr=False)


DEMO_CREDENTIALS = SandboxCredentials("mlc-sandbox", "sandbox-secret", "DEMO-CO", "ap-admin", "demo-pass")


@dataclass(frozen=True)
class UserAccount:
    """The Web Services user's record number and formatting preferences (readUserFormatting)."""

    record_no: int
    login_id: str
    gmt_offset: timedelta = timedelta(hours=-8)
    locale: str = "en_US"
    date_format: str = "/mdY"
    clock: int = 24

    @property
    def zone(self) -> tzinfo:
        """The fixed offset every Intacct timestamp of this user is written in."""
        return timezone(self.gmt_offset)

    @property
    def gmt_offset_text(self) -> str:
        """The offset as Intacct writes it, e.g. -08:00."""
        minutes = int(self.gmt_offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Company:
    """One Intacct company held in memory."""

    def __init__(
        self,
        *,
        name: str,
        credentials: SandboxCredentials,
        user: UserAccount,
        entities: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.credentials = credentials
        self.user = user
        self.entities: dict[str, str] = dict(entities or {})  # entity id → name; empty = single entity
        self.tables: dict[str, Table] = {
            name: Table(obj, first_record_no=_FIRST_RECORD_NO.get(name, 1)) for name, obj in objects.OBJECTS.items()
        }
        self.vendors_by_id: dict[str, int] = {}
        self.bills_by_number: dict[str, int] = {}
        self.lines_by_bill: dict[int, list[int]] = {}
        self.payment_bill: dict[int, int] = {}  # payment RECORDNO → bill RECORDNO (APPYMTDETAIL)
        # object name → business id → (RECORDNO, name): the lookups denormalisation needs
        self.dimensions: dict[str, dict[str, tuple[int, str]]] = {
            name: {} for name in ("GLACCOUNT", "DEPARTMENT", "LOCATION", "CLASS", "PROJECT")
        }
        # How this company differs from the recorded definitions (admin API): objects of modules it
        # does not subscribe to, fields its users cannot see, a refused readUserFormatting.
        self.missing_objects: set[str] = set()
        self.hidden_fields: dict[str, frozenset[str]] = {}
        self.formatting_refused = False
        self.tables["USERINFO"].insert({"LOGINID": user.login_id})

    @property
    def company_id(self) -> str:
        """The company id users sign in to (DEMO-CO)."""
        return self.credentials.company_id

    def restrict(
        self,
        *,
        missing_objects: Sequence[str] = (),
        hidden_fields: Mapping[str, Sequence[str]] | None = None,
        refuse_user_formatting: bool = False,
    ) -> None:
        """Make this company lack objects or fields, or refuse readUserFormatting (replaces earlier settings)."""
        for name in [*missing_objects, *(hidden_fields or {})]:
            if name not in self.tables:
                raise AdminInputError(f"the sandbox has no object {name}")
        for name, fields in (hidden_fields or {}).items():
            unknown = [f for f in fields if self.tables[name].obj.field(f) is None]
            if unknown:
                raise AdminInputError(f"{name} has no field(s) {', '.join(unknown)}")
            if "RECORDNO" in fields:
                raise AdminInputError("RECORDNO cannot be hidden")
        self.missing_objects = set(missing_objects)
        self.hidden_fields = {name: frozenset(fields) for name, fields in (hidden_fields or {}).items()}
        self.formatting_refused = refuse_user_formatting

    def table(self, object_name: str) -> Table:
        """The table of an object (KeyError for an object the sandbox does not serve)."""
        return self.tables[object_name]

    def today(self, now: datetime) -> date:
        """The calendar date at `now` in the user's time zone (Intacct dates have no zone)."""
        return now.astimezone(self.user.zone).date()

    # -- inserts (seed, generator, admin) --------------------------------------------------
    def insert_reference(self, object_name: str, values: Mapping[str, Any]) -> list[Any]:
        """Add a GL account, department, location, class or project."""
        table = self.tables[object_name]
        row = table.insert(values)
        if object_name in self.dimensions:
            id_field, name_field = _DIMENSION_FIELDS[object_name]
            self.dimensions[object_name][row[table.obj.positions[id_field]]] = (
                row[table.obj.positions["RECORDNO"]],
                row[table.obj.positions[name_field]],
            )
        return row

    def insert_vendor(self, values: Mapping[str, Any]) -> list[Any]:
        """Add a vendor (VENDORID must be new)."""
        if values["VENDORID"] in self.vendors_by_id:
            raise AdminInputError(f"vendor {values['VENDORID']} already exists")
        table = self.tables["VENDOR"]
        row = table.insert(values)
        self.vendors_by_id[values["VENDORID"]] = row[0]
        return row

    def vendor(self, vendor_id: str) -> list[Any]:
        """The vendor row with this VENDORID (RecordNotFoundError otherwise)."""
        record_no = self.vendors_by_id.get(vendor_id)
        if record_no is None:
            raise RecordNotFoundError(f"vendor {vendor_id} does not exist")
        return self.tables["VENDOR"].rows[record_no]

    def dimension(self, object_name: str, business_id: str) -> tuple[int, str]:
        """(RECORDNO, name) of a reference record by its id (RecordNotFoundError otherwise)."""
        found = self.dimensions[object_name].get(business_id)
        if found is None:
            raise RecordNotFoundError(f"{object_name.lower()} {business_id} does not exist")
        return found

    def insert_bill(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Add a bill and its lines; header needs RECORDID, VENDORID, RAWSTATE, WHENCREATED, WHENDUE,
        AUWHENCREATED, WHENMODIFIED; lines need AMOUNT and ACCOUNTNO (dimensions optional).
        Totals, names and line keys are derived here."""
        if not lines:
            raise AdminInputError("a bill needs at least one line")
        if header["RECORDID"] in self.bills_by_number:
            raise AdminInputError(f"bill number {header['RECORDID']} already exists")
        vendor = self.vendor(header["VENDORID"])
        vendor_name = vendor[_VENDOR_NAME]
        resolved = [self._resolve_line(line) for line in lines]
        total = sum((line["AMOUNT"] for line in resolved), ZERO)
        if total <= ZERO:
            raise AdminInputError("a bill's total must be positive")
        bills = self.tables["APBILL"]
        values = {
            "RECORDTYPE": "pi", "VENDORNAME": vendor_name, "TERMNAME": vendor[_VENDOR_TERM],
            "ONHOLD": False, "PAYMENTPRIORITY": "normal", "TOTALENTERED": total, "TOTALDUE": total,
            "TOTALPAID": ZERO, "TOTALSELECTED": ZERO, "CURRENCY": "USD", "BASECURR": "USD",
            "MODULEKEY": "3.AP", "CREATEDBY": self.user.record_no, "MODIFIEDBY": self.user.record_no,
            **header,
        }
        row = bills.insert(values)
        record_no = row[0]
        paid_on = values.get("WHENPAID") or values["WHENCREATED"]
        _settle_bill(bills, row, values["RAWSTATE"], paid_on, values.get("TOTALPAID"))
        self.bills_by_number[values["RECORDID"]] = record_no
        line_table = self.tables["APBILLITEM"]
        created_at = values["AUWHENCREATED"]
        keys = []
        for number, line in enumerate(resolved, start=1):
            line_row = line_table.insert(
                {
                    **line, "RECORDKEY": record_no, "LINE_NO": str(number), "RECORDTYPE": "pi",
                    "VENDORID": values["VENDORID"], "VENDORNAME": vendor_name, "CURRENCY": "USD",
                    "BASECURR": "USD", "ENTRY_DATE": values["WHENCREATED"], "WHENCREATED": created_at,
                    "WHENMODIFIED": created_at,
                }
            )
            keys.append(line_row[0])
        self.lines_by_bill[record_no] = keys
        return row

    def _resolve_line(self, line: Mapping[str, Any]) -> dict[str, Any]:
        amount = two_places(Decimal(line["AMOUNT"]))
        if amount <= ZERO:
            raise AdminInputError("every line amount must be positive")
        account_key, account_title = self.dimension("GLACCOUNT", line["ACCOUNTNO"])
        resolved = {
            "ACCOUNTNO": line["ACCOUNTNO"], "ACCOUNTKEY": account_key, "ACCOUNTTITLE": account_title,
            "AMOUNT": amount, "ENTRYDESCRIPTION": line.get("ENTRYDESCRIPTION"),
        }
        for object_name, (id_field, name_field) in _LINE_DIMENSIONS.items():
            business_id = line.get(id_field)
            if business_id is not None:
                resolved[id_field] = business_id
                resolved[name_field] = self.dimension(object_name, business_id)[1]
        return resolved

    def insert_payment(self, values: Mapping[str, Any], bill_record_no: int | None) -> list[Any]:
        """Add a payment row as given, amount in TOTALENTERED (no bill side effects; the seed writes
        history with it). What is paid and still due follows the state."""
        vendor = self.vendor(values["VENDORID"])
        amount, state = values["TOTALENTERED"], values["STATE"]
        row = self.tables["APPYMT"].insert(
            {
                "RECORDTYPE": "pp", "VENDORNAME": vendor[_VENDOR_NAME], "CURRENCY": "USD", "BASECURR": "USD",
                "VENDORKEY": str(vendor[0]), **_payment_totals(state, amount), **values,
            }
        )
        if bill_record_no is not None:
            self.payment_bill[row[0]] = bill_record_no
        return row

    # -- changes (admin API, demo activity) ------------------------------------------------
    def bill(self, record_no: int) -> list[Any]:
        """The bill row (RecordNotFoundError otherwise)."""
        row = self.tables["APBILL"].get(record_no)
        if row is None:
            raise RecordNotFoundError(f"bill {record_no} does not exist")
        return row

    def payment(self, record_no: int) -> list[Any]:
        """The payment row (RecordNotFoundError otherwise)."""
        row = self.tables["APPYMT"].get(record_no)
        if row is None:
            raise RecordNotFoundError(f"payment {record_no} does not exist")
        return row

    def set_bill_state(self, record_no: int, code: str, now: datetime) -> tuple[str, str]:
        """Move a bill to a state (stored code), fixing its totals; returns (old, new) codes."""
        if code not in objects.BILL_STATES:
            raise AdminInputError(f"unknown bill state code {code!r}")
        bills = self.tables["APBILL"]
        row = self.bill(record_no)
        old = row[_BILL_STATE]
        _settle_bill(bills, row, code, self.today(now), None, now=now)
        return old, code

    def request_payment(
        self, bill_record_no: int, amount: Decimal | None, now: datetime, *, method: str, bank: str
    ) -> list[Any]:
        """Create a Submitted payment request for a Posted/Partially Paid bill, which becomes Selected."""
        bills = self.tables["APBILL"]
        bill = self.bill(bill_record_no)
        if bill[_BILL_STATE] not in BILL_PAYABLE_STATES:
            state = objects.BILL_STATES[bill[_BILL_STATE]]
            raise AdminInputError(f"bill {bill_record_no} is {state}; only Posted or Partially Paid bills can be paid")
        due = bill[_BILL_DUE]
        amount = due if amount is None else two_places(amount)
        if not ZERO < amount <= due:
            raise AdminInputError(f"amount must be more than 0 and at most the bill's {due:.2f} due")
        today = self.today(now)
        payment = self.insert_payment(
            {
                "VENDORID": bill[_BILL_VENDOR], "STATE": PAYMENT_SUBMITTED, "PAYMENTMETHOD": method,
                "FINANCIALENTITY": bank, "DESCRIPTION": f"Payment for bill {bill[_BILL_NUMBER]}", "TOTALENTERED": amount,
                "WHENCREATED": today, "AUWHENCREATED": now, "WHENMODIFIED": now,
            },
            bill_record_no,
        )
        _settle_bill(bills, bill, BILL_SELECTED, today, None, now=now, selected=amount)
        return payment

    def set_payment_state(self, record_no: int, code: str, now: datetime) -> tuple[str, str]:
        """Move a payment to a state (stored code) and apply its effect on its bill; (old, new)."""
        if code not in objects.PAYMENT_STATES:
            raise AdminInputError(f"unknown payment state code {code!r}")
        payments = self.tables["APPYMT"]
        payment = self.payment(record_no)
        old = payment[_PAYMENT_STATE]
        if old == code:
            return old, code
        today = self.today(now)
        changes: dict[str, Any] = {"STATE": code, **_payment_totals(code, payment[_PAYMENT_AMOUNT])}
        if code == PAYMENT_CONFIRMED:
            changes["WHENPAID"] = today
            changes["DOCNUMBER"] = payment[_PAYMENT_DOC] or str(10000 + record_no)
        elif code in (PAYMENT_DELIVERED, PAYMENT_QUICK_DELIVERY):
            changes["DOCNUMBER"] = payment[_PAYMENT_DOC] or str(10000 + record_no)
        payments.update(record_no, changes, now)
        bill_record_no = self.payment_bill.get(record_no)
        if bill_record_no is not None:
            self._follow_payment(bill_record_no, old, code, payment[_PAYMENT_AMOUNT], today, now)
        return old, code

    def _follow_payment(
        self, bill_record_no: int, old: str, new: str, amount: Decimal, today: date, now: datetime
    ) -> None:
        bills = self.tables["APBILL"]
        bill = bills.rows[bill_record_no]
        paid = bill[_BILL_PAID]
        if new == PAYMENT_CONFIRMED and old != PAYMENT_CONFIRMED:
            paid = min(bill[_BILL_ENTERED], paid + amount)
        elif old == PAYMENT_CONFIRMED and new != PAYMENT_CONFIRMED:
            paid = max(ZERO, paid - amount)
        if paid >= bill[_BILL_ENTERED]:
            state = BILL_PAID
        elif new in OPEN_PAYMENT_STATES:
            state = BILL_SELECTED  # a request is (still or again) open for the bill
        else:
            state = BILL_PARTIALLY_PAID if paid > ZERO else BILL_POSTED
        _settle_bill(bills, bill, state, today, paid, now=now, selected=amount if state == BILL_SELECTED else None)

    def set_vendor_status(self, vendor_id: str, active: bool | None, on_hold: bool | None, now: datetime) -> bool:
        """Set a vendor's STATUS and/or ONHOLD; returns whether anything changed."""
        vendor = self.vendor(vendor_id)
        changes: dict[str, Any] = {}
        if active is not None:
            changes["STATUS"] = "T" if active else "F"
        if on_hold is not None:
            changes["ONHOLD"] = on_hold
        return self.tables["VENDOR"].update(vendor[0], changes, now)


def _payment_totals(code: str, amount: Decimal) -> dict[str, Decimal]:
    """What a payment in state `code` has paid and still owes of its `amount`."""
    if code == PAYMENT_CONFIRMED:
        return {"TOTALPAID": amount, "TOTALDUE": ZERO, "TOTALSELECTED": ZERO}
    if code in CLOSED_PAYMENT_STATES:
        return {"TOTALPAID": ZERO, "TOTALDUE": ZERO, "TOTALSELECTED": ZERO}
    return {"TOTALPAID": ZERO, "TOTALDUE": amount, "TOTALSELECTED": amount}


def _settle_bill(
    bills: Table,
    row: list[Any],
    code: str,
    today: date,
    paid: Decimal | None,
    *,
    now: datetime | None = None,
    selected: Decimal | None = None,
) -> None:
    """Put a bill in state `code` with the totals and dates that state implies.

    With `now` the change goes through Table.update (WHENMODIFIED bumped when something changed);
    without it (while inserting) the row is written in place.
    """
    entered = row[_BILL_ENTERED]
    paid = row[_BILL_PAID] if paid is None else paid
    # A bill already in this state keeps its payment date (set by the seed's history or by an
    # earlier partial payment); entering a paid state today stamps today.
    paid_on = row[_BILL_WHENPAID] if row[_BILL_STATE] == code and row[_BILL_WHENPAID] else today
    changes: dict[str, Any] = {"RAWSTATE": code, "TOTALSELECTED": ZERO}
    if code in (BILL_DRAFT, BILL_SUBMITTED, BILL_PARTIALLY_APPROVED, BILL_DECLINED, BILL_POSTED):
        changes.update(TOTALPAID=ZERO, TOTALDUE=entered, WHENPAID=None)
    elif code == BILL_SELECTED:
        changes.update(TOTALPAID=paid, TOTALDUE=entered - paid, TOTALSELECTED=selected or entered - paid)
    elif code == BILL_PARTIALLY_PAID:
        if not ZERO < paid < entered:
            paid = two_places(entered / 2)
        changes.update(TOTALPAID=paid, TOTALDUE=entered - paid, WHENPAID=paid_on)
    elif code == BILL_PAID:
        changes.update(TOTALPAID=entered, TOTALDUE=ZERO, WHENPAID=paid_on)
    elif code == BILL_REVERSED:
        changes.update(TOTALDUE=ZERO)
    if code in (BILL_POSTED, BILL_SELECTED, BILL_PARTIALLY_PAID, BILL_PAID) and row[_BILL_POSTED] is None:
        changes["WHENPOSTED"] = today
    if now is None:
        positions = bills.obj.positions
        for name, value in changes.items():
            row[positions[name]] = value
    else:
        bills.update(row[0], changes, now)


_FIRST_RECORD_NO = {"APBILL": 1001, "APBILLITEM": 5001, "APPYMT": 701, "VENDOR": 101, "GLACCOUNT": 11, "USERINFO": 5}
_DIMENSION_FIELDS = {
    "GLACCOUNT": ("ACCOUNTNO", "TITLE"),
    "DEPARTMENT": ("DEPARTMENTID", "TITLE"),
    "LOCATION": ("LOCATIONID", "NAME"),
    "CLASS": ("CLASSID", "NAME"),
    "PROJECT": ("PROJECTID", "NAME"),
}
_LINE_DIMENSIONS = {
    "DEPARTMENT": ("DEPARTMENTID", "DEPARTMENTNAME"),
    "LOCATION": ("LOCATIONID", "LOCATIONNAME"),
    "CLASS": ("CLASSID", "CLASSNAME"),
    "PROJECT": ("PROJECTID", "PROJECTNAME"),
}
_BP = objects.APBILL.positions
_BILL_NUMBER, _BILL_VENDOR, _BILL_STATE = _BP["RECORDID"], _BP["VENDORID"], _BP["RAWSTATE"]
_BILL_ENTERED, _BILL_DUE, _BILL_PAID = _BP["TOTALENTERED"], _BP["TOTALDUE"], _BP["TOTALPAID"]
_BILL_WHENPAID, _BILL_POSTED = _BP["WHENPAID"], _BP["WHENPOSTED"]
_PP = objects.APPYMT.positions
_PAYMENT_STATE, _PAYMENT_AMOUNT, _PAYMENT_DOC = _PP["STATE"], _PP["TOTALENTERED"], _PP["DOCNUMBER"]
_VENDOR_NAME, _VENDOR_TERM = objects.VENDOR.positions["NAME"], objects.VENDOR.positions["TERMNAME"]

