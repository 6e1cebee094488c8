"""Stored codes that readByQuery filters compare with, by the display value responses carry.

readByQuery compares enumerations with stored codes (``STATE = 'S'``), while responses show display
values (``Submitted``). The documented codes are D/S/PA/U/A for bills and D/S/A/C/V for payments;
the others are ours (developer.intacct.com's readByQuery object pages). They live here, in one place, so a
customer can correct them after running ``lookup APBILL`` / ``lookup APPYMT`` on their company.
"""

from __future__ import annotations

from typing import Iterable, Mapping

BILL_STATE_CODES: Mapping[str, str] = {
    "Draft": "D",
    "Submitted": "S",
    "Partially Approved": "PA",
    "Declined": "U",
    "Posted": "A",
    "Selected": "R",
    "Partially Paid": "PP",
    "Paid": "P",
    "Reversed": "V",
}
"""APBILL.STATE: display value → stored code."""

PAYMENT_STATE_CODES: Mapping[str, str] = {
    "Draft": "D",
    "Submitted": "S",
    "Partially Approved": "PA",
    "Declined": "U",
    "Approved": "A",
    "Delivered": "L",
    "Complete": "C",
    "Voided": "V",
}
"""APPYMT.STATE: display value → stored code."""

VENDOR_STATUS_CODES: Mapping[str, str] = {"active": "T", "inactive": "F"}
"""VENDOR.STATUS (and the reference objects' STATUS): display value → stored code."""

BOOLEAN_CODES: Mapping[bool, str] = {True: "T", False: "F"}
"""Boolean fields such as VENDOR.ONHOLD in readByQuery literals."""


class UnknownStateError(ValueError):
    """A display state that has no stored code in this module's tables."""


def _codes(table: Mapping[str, str], states: Iterable[str], what: str) -> tuple[str, ...]:
    # Intacct's spellings vary in case ("Partially approved"), so match case-insensitively.
    folded = {name.casefold(): code for name, code in table.items()}
    codes: list[str] = []
    for state in states:
        code = folded.get(state.strip().casefold())
        if code is None:
            known = ", ".join(table)
            raise UnknownStateError(f"unknown {what} {state!r}; known: {known}")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def bill_state_codes(states: Iterable[str]) -> tuple[str, ...]:
    """Stored codes of these bill display states, in order, without duplicates."""
    return _codes(BILL_STATE_CODES, states, "bill state")


def payment_state_codes(states: Iterable[str]) -> tuple[str, ...]:
    """Stored codes of these payment display states, in order, without duplicates."""
    return _codes(PAYMENT_STATE_CODES, states, "payment state")


def status_code(status: str) -> str:
    """Stored code of a vendor/reference STATUS display value (active → T)."""
    return _codes(VENDOR_STATUS_CODES, (status,), "status")[0]
