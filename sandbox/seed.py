"""Deterministic company data: the demo seed, bulk generation for benchmarks, and plausible new bills.

Everything is drawn from one `random.Random` seeded from (rng_seed, purpose) and placed relative
to the injected clock's "today" (in the user's time zone), so the same seed and clock give the
same company, byte for byte. History is written oldest first so RECORDNOs grow with time as they
do in Intacct.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from itertools import accumulate
from typing import Any, Mapping, Sequence

from sandbox import objects
from sandbox.objects import (
    BILL_DECLINED,
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
    PAYMENT_PARTIALLY_APPROVED,
    PAYMENT_SUBMITTED,
)
from sandbox.company import DEMO_CREDENTIALS, Company, UserAccount
from sandbox.demo_data import (
    BANK_ACCOUNT,
    CATEGORIES,
    CLASSES,
    COMPANY_NAME,
    DEPARTMENTS,
    GL_ACCOUNTS,
    INACTIVE_VENDORS,
    LOCATIONS,
    NAME_WORDS,
    NAMED_VENDORS,
    ON_HOLD_VENDORS,
    PAYMENT_METHODS,
    PROJECTS,
    TERMS,
)
from sandbox.errors import AdminInputError
from sandbox.schema import two_places

SEEDS = ("demo", "empty")
DEMO_VENDORS = 45
DEMO_BILLS = 320


def build_company(seed: str, *, now: datetime, rng_seed: int) -> tuple[Company, "DataGenerator"]:
    """A fresh company for `seed` ("demo" | "empty") and the generator that keeps adding to it."""
    company = Company(
        name=COMPANY_NAME, credentials=DEMO_CREDENTIALS, user=UserAccount(record_no=5, login_id="ap-admin")
    )
    history = DataGenerator(company, random.Random(f"{rng_seed}:{seed}:history"))
    history.add_reference_data(now)
    if seed == "demo":
        history.add_vendors(DEMO_VENDORS, now)
        history.add_bills(DEMO_BILLS, now)
    elif seed != "empty":
        raise ValueError(f"unknown seed {seed!r}; expected one of {SEEDS}")
    # Later additions (admin API, demo activity, bulk generation) draw from their own stream, so
    # they are deterministic whatever the seed's history consumed.
    return company, DataGenerator(company, random.Random(f"{rng_seed}:{seed}:changes"))


@dataclass(frozen=True, slots=True)
class _PlannedBill:
    created: date
    vendor_id: str
    state: str


class _Weighted:
    """A weighted choice table drawn with one random() and a bisect (rng.choices is 4x slower)."""

    def __init__(self, *pairs: tuple[Any, int]) -> None:
        self.values = tuple(value for value, _ in pairs)
        self.cumulative = tuple(accumulate(weight for _, weight in pairs))

    def draw(self, rng: random.Random) -> Any:
        """One value, drawn by weight."""
        return self.values[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


# Bill states by age: old bills are mostly paid, recent ones wait for approval or payment.
_PAID, _PART_PAID, _POSTED, _SELECTED = BILL_PAID, BILL_PARTIALLY_PAID, BILL_POSTED, BILL_SELECTED
_DECLINED, _REVERSED, _SUBMITTED, _PART_APPROVED = BILL_DECLINED, BILL_REVERSED, BILL_SUBMITTED, BILL_PARTIALLY_APPROVED
_OLD_STATES = _Weighted(
    (_PAID, 80), (_PART_PAID, 4), (_POSTED, 6), (_SELECTED, 3), (_DECLINED, 3), (_REVERSED, 2), (_SUBMITTED, 2)
)
_OLD_STATES_ON_HOLD = _Weighted(
    (_PAID, 72), (_PART_PAID, 4), (_POSTED, 14), (_SELECTED, 3), (_DECLINED, 3), (_REVERSED, 2), (_SUBMITTED, 2)
)
_MONTH_OLD_STATES = _Weighted(
    (_PAID, 35), (_POSTED, 30), (_SELECTED, 12), (_PART_PAID, 5), (_SUBMITTED, 8), (_PART_APPROVED, 5), (_DECLINED, 5)
)
_RECENT_STATES = _Weighted(
    (_SUBMITTED, 40), (_PART_APPROVED, 15), (_POSTED, 25), (_DECLINED, 6), (_SELECTED, 6), (_PAID, 8)
)
_LINE_COUNTS = _Weighted((1, 35), (2, 30), (3, 20), (4, 10), (5, 5))
_OPEN_PAYMENT_STATES = (
    PAYMENT_SUBMITTED, PAYMENT_SUBMITTED, PAYMENT_PARTIALLY_APPROVED, PAYMENT_APPROVED, PAYMENT_DELIVERED
)
_CREDIT_LIMITS = tuple(Decimal(n).quantize(Decimal("0.01")) for n in (10000, 25000, 50000, 100000))
_SLUG_DROP = str.maketrans("", "", " .,&'-()")
_OFFICE_DAY_SECONDS = 10 * 3600  # 08:00–17:59


class DataGenerator:
    """Writes plausible rows into a company, drawing every choice from its own random stream.

    Bulk generation (50,000 bills, 100,000 vendors) is the hot path, hence the small drawing
    helpers built on one `random()` call each instead of randint/choice.
    """

    def __init__(self, company: Company, rng: random.Random) -> None:
        self.company = company
        self.rng = rng
        self._bill_seq = 10001 + len(company.bills_by_number)
        self._midnights: dict[date, datetime] = {}

    # -- reference data --------------------------------------------------------------------
    def add_reference_data(self, now: datetime) -> None:
        """Chart of accounts, departments, locations, classes and projects."""
        company, setup = self.company, self._long_ago(now, days=900)
        for account_no, title, kind, balance, active in GL_ACCOUNTS:
            company.insert_reference(
                "GLACCOUNT",
                {"ACCOUNTNO": account_no, "TITLE": title, "ACCOUNTTYPE": kind, "NORMALBALANCE": balance,
                 "CLOSINGTYPE": "non-closing account" if kind == "balancesheet" else "closing account",
                 "STATUS": "T" if active else "F", "WHENCREATED": setup, "WHENMODIFIED": setup},
            )
        for department_id, title, supervisor in DEPARTMENTS:
            company.insert_reference(
                "DEPARTMENT",
                {"DEPARTMENTID": department_id, "TITLE": title, "SUPERVISORNAME": supervisor, "STATUS": "T",
                 "WHENCREATED": setup, "WHENMODIFIED": setup},
            )
        for location_id, name in LOCATIONS:
            company.insert_reference(
                "LOCATION",
                {"LOCATIONID": location_id, "NAME": name, "STATUS": "T",
                 "WHENCREATED": setup, "WHENMODIFIED": setup},
            )
        for class_id, name in CLASSES:
            company.insert_reference(
                "CLASS",
                {"CLASSID": class_id, "NAME": name, "DESCRIPTION": f"{name} customers", "STATUS": "T",
                 "WHENCREATED": setup, "WHENMODIFIED": setup},
            )
        for project_id, name, category, active in PROJECTS:
            company.insert_reference(
                "PROJECT",
                {"PROJECTID": project_id, "NAME": name, "PROJECTCATEGORY": category,
                 "PROJECTSTATUS": "In progress" if active else "Completed", "STATUS": "T" if active else "F",
                 "CURRENCY": "USD", "WHENCREATED": setup, "WHENMODIFIED": setup},
            )

    # -- vendors ---------------------------------------------------------------------------
    def add_vendors(self, count: int, now: datetime) -> None:
        """Add `count` vendors: the named demo vendors first, then generated names."""
        company, pick, between = self.company, self._pick, self._between
        categories, terms = tuple(CATEGORIES), tuple(TERMS)
        first, second, suffix = NAME_WORDS
        for _ in range(count):
            position = len(company.vendors_by_id) + 1
            if position <= len(NAMED_VENDORS):
                name, category, term = NAMED_VENDORS[position - 1]
            else:
                name = f"{pick(first)} {pick(second)} {pick(suffix)}"
                category, term = pick(categories), pick(terms)
            created = self._long_ago(now, days=between(200, 800))
            touched = min(now, created + timedelta(seconds=between(0, 180 * 86400)))
            company.insert_vendor(
                {"VENDORID": f"V{1000 + position}", "NAME": name,
                 "STATUS": "F" if position in INACTIVE_VENDORS else "T",
                 "ONHOLD": position in ON_HOLD_VENDORS, "ONETIME": False, "VENDTYPE": category, "TERMNAME": term,
                 "CURRENCY": "USD", "PAYMENTPRIORITY": "Normal", "CREDITLIMIT": pick(_CREDIT_LIMITS),
                 "DISPLAYCONTACT.CONTACTNAME": f"{name} (Accounts Receivable)",
                 "DISPLAYCONTACT.EMAIL1": f"ar@{name.lower().translate(_SLUG_DROP)[:18]}.example.com",
                 "DISPLAYCONTACT.PHONE1": f"555-{between(100, 999)}-{between(1000, 9999)}",
                 "WHENCREATED": created, "WHENMODIFIED": touched},
            )

    def ensure_vendor(self, now: datetime) -> None:
        """Add one vendor when the company has none (an empty seed asked for a bill)."""
        if not self.company.vendors_by_id:
            self.add_vendors(1, now)

    # -- history ---------------------------------------------------------------------------
    def add_bills(self, count: int, now: datetime, *, max_age_days: int = 150) -> None:
        """Add `count` bills dated over the last `max_age_days`, in states their age makes likely,
        with the payments that history implies (Paid → Confirmed, Selected → an open request)."""
        if count <= 0:
            return
        vendors = self._vendor_pool()
        if not vendors:
            raise AdminInputError("the company has no vendors to bill; generate vendors first")
        rng, today = self.rng, self.company.today(now)
        plans = []
        for _ in range(count):
            vendor_id, active, on_hold = self._pick(vendors)
            # Skewed towards recent days so a demo has a healthy queue of bills awaiting approval.
            age = int(max_age_days * rng.random() ** 1.5)
            if not active:
                age = max(age, 60)  # an inactive vendor's bills are old and settled
            state = self._historic_state(age, on_hold, active)
            plans.append(_PlannedBill(today - timedelta(days=age), vendor_id, state))
        plans.sort(key=lambda plan: plan.created)
        payments: list[tuple[datetime, dict[str, Any], int]] = []
        for plan in plans:
            payments.extend(self._write_historic_bill(plan, now, today))
        payments.sort(key=lambda item: item[0])
        for _, values, bill_record_no in payments:
            self.company.insert_payment(values, bill_record_no)

    def add_payments(self, count: int, now: datetime) -> None:
        """Add `count` completed stand-alone payments (advances, deposits) spread over last year."""
        vendors = self._vendor_pool()
        if not vendors and count:
            raise AdminInputError("the company has no vendors to pay; generate vendors first")
        today = self.company.today(now)
        for _ in range(count):
            paid_on = today - timedelta(days=self._between(1, 365))
            stamp = self._at_office_hours(paid_on, now)
            self.company.insert_payment(
                {"VENDORID": self._pick(vendors)[0], "STATE": PAYMENT_CONFIRMED, "PAYMENTMETHOD": self._pick(PAYMENT_METHODS),
                 "FINANCIALENTITY": BANK_ACCOUNT, "DESCRIPTION": "Vendor advance", "TOTALENTERED": self._amount(),
                 "WHENCREATED": paid_on, "WHENPAID": paid_on, "DOCNUMBER": str(self._between(20000, 99999)),
                 "AUWHENCREATED": stamp, "WHENMODIFIED": stamp},
                None,
            )

    def _historic_state(self, age: int, on_hold: bool, active: bool) -> str:
        if not active:
            return _PAID
        if age > 45:
            return (_OLD_STATES_ON_HOLD if on_hold else _OLD_STATES).draw(self.rng)
        return (_MONTH_OLD_STATES if age > 14 else _RECENT_STATES).draw(self.rng)

    def _write_historic_bill(
        self, plan: _PlannedBill, now: datetime, today: date
    ) -> list[tuple[datetime, dict[str, Any], int]]:
        """Insert one bill of the past; returns the payment its state implies, to insert later in date order."""
        company, between = self.company, self._between
        vendor = company.vendor(plan.vendor_id)
        term = vendor[_VENDOR_TERM]
        category = vendor[_VENDOR_TYPE]
        created_at = self._at_office_hours(plan.created, now)
        due = plan.created + timedelta(days=TERMS.get(term, 30))
        state = plan.state
        posted = paid_on = None
        modified = created_at
        if state in (_POSTED, _SELECTED, _PART_PAID, _PAID, _REVERSED):
            posted = min(today, plan.created + timedelta(days=between(0, 3)))
            modified = max(modified, self._at_office_hours(posted, now))
        if state in (_PAID, _PART_PAID):
            paid_on = min(today, max(posted, due + timedelta(days=between(-12, 4))))
            modified = max(modified, self._at_office_hours(paid_on, now))
        if state in (_DECLINED, _PART_APPROVED):
            modified = max(modified, self._at_office_hours(min(today, plan.created + timedelta(days=1)), now))
        amount = self._amount()
        number = self._next_bill_number(plan.vendor_id)
        header = {
            "RECORDID": number, "VENDORID": plan.vendor_id, "RAWSTATE": state,
            "DESCRIPTION": self._description(category), "DOCNUMBER": self._po_number(category),
            "WHENCREATED": plan.created, "WHENDUE": due, "WHENPOSTED": posted, "WHENPAID": paid_on,
            "AUWHENCREATED": created_at, "WHENMODIFIED": modified,
        }
        if state == _PART_PAID:
            header["TOTALPAID"] = two_places(amount * self._pick((25, 40, 50, 60)) / 100)
        row = company.insert_bill(header, self._lines(amount, category))
        method = self._pick(PAYMENT_METHODS)
        payment = {"VENDORID": plan.vendor_id, "PAYMENTMETHOD": method, "FINANCIALENTITY": BANK_ACCOUNT,
                   "DESCRIPTION": f"Payment for bill {number}"}
        if state in (_PAID, _PART_PAID):
            stamp = self._at_office_hours(paid_on, now)
            payment.update(STATE=PAYMENT_CONFIRMED, TOTALENTERED=row[_BILL_PAID], WHENCREATED=paid_on, WHENPAID=paid_on,
                           DOCNUMBER=str(between(20000, 99999)), AUWHENCREATED=stamp, WHENMODIFIED=stamp)
            return [(stamp, payment, row[0])]
        if state == _SELECTED:
            payment_state = self._pick(_OPEN_PAYMENT_STATES)
            payment.update(STATE=payment_state, TOTALENTERED=row[_BILL_SELECTED], WHENCREATED=posted,
                           DOCNUMBER=str(between(20000, 99999)) if payment_state == PAYMENT_DELIVERED else None,
                           AUWHENCREATED=modified, WHENMODIFIED=modified)
            return [(modified, payment, row[0])]
        return []

    # -- new bills (admin API, demo activity) -----------------------------------------------
    def new_bill(
        self,
        now: datetime,
        *,
        vendor_id: str | None = None,
        amount: Decimal | None = None,
        due_date: date | None = None,
        department_id: str | None = None,
        location_id: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
        description: str | None = None,
    ) -> list[Any]:
        """A Submitted bill dated today; whatever is not given is drawn like the seed's bills.

        `lines` items use Intacct names (AMOUNT, ACCOUNTNO, ENTRYDESCRIPTION, DEPARTMENTID,
        LOCATIONID, CLASSID, PROJECTID); `department_id`/`location_id` apply to drawn lines and fill
        explicit lines that lack one.
        """
        company = self.company
        if vendor_id is None:
            self.ensure_vendor(now)
            pool = [v for v in self._vendor_pool() if v[1] and not v[2]] or self._vendor_pool()
            vendor_id = self._pick(pool)[0]
        vendor = company.vendor(vendor_id)
        category = vendor[_VENDOR_TYPE] if vendor[_VENDOR_TYPE] in CATEGORIES else "Office"
        if lines:
            total = sum((Decimal(line["AMOUNT"]) for line in lines), Decimal("0"))
            if amount is not None and two_places(amount) != two_places(total):
                raise AdminInputError(f"amount {amount:.2f} differs from the sum of the lines {total:.2f}")
            accounts = CATEGORIES[category][0]
            written = [{"ACCOUNTNO": accounts[0], **line} for line in lines]
        else:
            written = self._lines(two_places(amount) if amount is not None else self._amount(), category)
        for line in written:
            # Drawn lines take the given dimensions; explicit lines keep their own when they have one.
            if department_id is not None and not (lines and line.get("DEPARTMENTID")):
                line["DEPARTMENTID"] = department_id
            if location_id is not None and not (lines and line.get("LOCATIONID")):
                line["LOCATIONID"] = location_id
        today = company.today(now)
        return company.insert_bill(
            {"RECORDID": self._next_bill_number(vendor_id), "VENDORID": vendor_id, "RAWSTATE": _SUBMITTED,
             "DESCRIPTION": description or self._description(category), "DOCNUMBER": self._po_number(category),
             "WHENCREATED": today, "WHENDUE": due_date or today + timedelta(days=TERMS.get(vendor[_VENDOR_TERM], 30)),
             "AUWHENCREATED": now, "WHENMODIFIED": now},
            written,
        )

    def payment_method(self) -> str:
        """A payment method drawn like the seed's."""
        return self._pick(PAYMENT_METHODS)

    # -- drawing helpers -------------------------------------------------------------------
    def _pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def _between(self, low: int, high: int) -> int:
        """An integer from low to high, both included."""
        return low + int(self.rng.random() * (high - low + 1))

    def _vendor_pool(self) -> list[tuple[str, bool, bool]]:
        positions = objects.VENDOR.positions
        status, hold, vid = positions["STATUS"], positions["ONHOLD"], positions["VENDORID"]
        return [(row[vid], row[status] == "T", row[hold]) for row in self.company.tables["VENDOR"]]

    def _lines(self, amount: Decimal, category: str) -> list[dict[str, Any]]:
        rng, pick = self.rng, self._pick
        accounts, descriptions = CATEGORIES[category]
        lines = []
        for part in random_split(rng, amount, _LINE_COUNTS.draw(rng)):
            line = {
                "AMOUNT": part, "ACCOUNTNO": pick(accounts), "ENTRYDESCRIPTION": pick(descriptions),
                "DEPARTMENTID": pick(DEPARTMENTS)[0], "LOCATIONID": pick(LOCATIONS)[0],
            }
            if rng.random() < 0.5:
                line["CLASSID"] = pick(CLASSES)[0]
            if rng.random() < 0.3:
                line["PROJECTID"] = pick(PROJECTS[:5])[0]
            lines.append(line)
        return lines

    def _amount(self) -> Decimal:
        value = min(250_000.0, max(25.0, self.rng.lognormvariate(7.0, 1.1)))
        return Decimal(int(value * 100)) / 100

    def _description(self, category: str) -> str:
        return f"{self._pick(CATEGORIES[category][1])} - {category.lower()}"

    def _po_number(self, category: str) -> str | None:
        if category in ("Raw Materials", "Equipment") and self.rng.random() < 0.7:
            return f"PO-{self._between(4000, 9999)}"
        return None

    def _next_bill_number(self, vendor_id: str) -> str:
        while True:
            number = f"INV-{vendor_id[1:]}-{self._bill_seq}"
            self._bill_seq += 1
            if number not in self.company.bills_by_number:
                return number

    def _at_office_hours(self, day: date, now: datetime) -> datetime:
        """A moment on `day` between 08:00 and 17:59:59 in the user's zone; on today, a moment
        that has already passed (between midnight and `now`) when office hours have not."""
        midnight = self._midnights.get(day)
        if midnight is None:
            midnight = datetime.combine(day, time(0), tzinfo=self.company.user.zone).astimezone(timezone.utc)
            self._midnights[day] = midnight
        moment = midnight + timedelta(seconds=8 * 3600 + int(self.rng.random() * _OFFICE_DAY_SECONDS))
        if moment <= now:
            return moment
        elapsed = max(0, int((now - midnight).total_seconds()))
        return max(midnight, now - timedelta(seconds=int(self.rng.random() * elapsed)))

    def _long_ago(self, now: datetime, *, days: int) -> datetime:
        return (now - timedelta(days=days)).replace(hour=16, minute=0, second=0, microsecond=0)


_VENDOR_TERM = objects.VENDOR.positions["TERMNAME"]
_VENDOR_TYPE = objects.VENDOR.positions["VENDTYPE"]
_BILL_PAID = objects.APBILL.positions["TOTALPAID"]
_BILL_SELECTED = objects.APBILL.positions["TOTALSELECTED"]


def random_split(rng: random.Random, total: Decimal, parts: int) -> list[Decimal]:
    """`total` split into `parts` positive cent amounts that add up exactly."""
    cents = int(total * 100)
    parts = max(1, min(parts, cents))
    if parts == 1:
        return [total]
    cuts: set[int] = set()
    while len(cuts) < parts - 1:  # distinct cut points, so no part is zero
        cuts.add(1 + int(rng.random() * (cents - 1)))
    bounds = [0, *sorted(cuts), cents]
    return [Decimal(bounds[i + 1] - bounds[i]) / 100 for i in range(parts)]
