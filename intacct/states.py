"""Bill and payment states: the words Intacct shows, and the few stored codes that are documented.

Responses carry words: APBILL's STATE, APPYMT's DISPLAYSTATE (the valid values that real
companies' `lookup` listed, sandbox/definitions/README.md). readByQuery conditions
compare STATE with stored codes, and developer.intacct.com documents only some of them: D, S, PA,
U, A for bills and D, S, A, C, V for payments. No code of another state is used anywhere: a
filter on states whose code is undocumented reads every row that is not in a state known (by a
documented code) to be unwanted, and keeps the wanted words itself (`state_filter`). `lookup`
lists no valid values for RAWSTATE, so a company's own definition cannot confirm more codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

BILL_STATES: tuple[str, ...] = (
    "Draft", "Partially Approved", "Submitted", "Declined", "No Value", "Posted", "Paid", "Partially Paid",
    "Selected", "Reversed", "Reversal", "Analyzing",
)  # fmt: skip
"""APBILL.STATE words (recorded `lookup` valid values)."""

PAYMENT_STATES: tuple[str, ...] = (
    "Partially Approved", "Submitted", "Voided", "Confirmed", "Approved", "Draft", "Declined", "Delivered",
    "Print Voided", "Quick Delivery",
)  # fmt: skip
"""APPYMT.DISPLAYSTATE words (recorded `lookup` valid values)."""

BILL_STATE_CODES: Mapping[str, str] = {
    "Draft": "D",
    "Submitted": "S",
    "Partially Approved": "PA",
    "Declined": "U",
    "Posted": "A",
}
"""APBILL.STATE word → documented stored code (developer.intacct.com, readByQuery on APBILL)."""

PAYMENT_STATE_CODES: Mapping[str, str] = {
    "Draft": "D",
    "Submitted": "S",
    "Approved": "A",
    "Confirmed": "C",  # documented as "C" for a completed (posted) payment; Confirmed is its word
    "Voided": "V",
}
"""APPYMT.DISPLAYSTATE word → documented STATE code (developer.intacct.com, readByQuery on APPYMT)."""

VENDOR_STATUS_CODES: Mapping[str, str] = {"active": "T", "inactive": "F"}
"""VENDOR.STATUS (and the reference objects' STATUS): display value → stored code."""

BOOLEAN_CODES: Mapping[bool, str] = {True: "T", False: "F"}
"""Boolean fields such as VENDOR.ONHOLD in readByQuery literals."""


class UnknownStateError(ValueError):
    """A state word Intacct does not have."""


@dataclass(frozen=True, slots=True)
class StateFilter:
    """How to select records in some states without relying on an undocumented code.

    `codes_in`: STATE IN (these) selects exactly the wanted states; otherwise `codes_out`:
    STATE NOT IN (these) (maybe empty) narrows the read, and only records whose word is in
    `words` are kept."""

    codes_in: tuple[str, ...] | None
    codes_out: tuple[str, ...]
    words: frozenset[str] | None

    def keeps(self, state: str) -> bool:
        """Whether a record showing this state word belongs to the result."""
        return self.words is None or state.casefold() in self.words


def _canonical(known: Iterable[str], states: Iterable[str], what: str) -> list[str]:
    # Intacct's spellings vary in case ("Partially approved"), so match case-insensitively.
    folded = {name.casefold(): name for name in known}
    words: list[str] = []
    for state in states:
        word = folded.get(state.strip().casefold())
        if word is None:
            raise UnknownStateError(f"unknown {what} {state!r}; known: {', '.join(known)}")
        if word not in words:
            words.append(word)
    return words


def state_filter(known: Iterable[str], documented: Mapping[str, str], states: Iterable[str], what: str) -> StateFilter:
    """The filter selecting `states` (words) among `known`, using only `documented` codes."""
    known = tuple(known)
    wanted = _canonical(known, states, what)
    if all(word in documented for word in wanted):
        return StateFilter(tuple(documented[word] for word in wanted), (), None)
    unwanted = tuple(code for word, code in documented.items() if word not in wanted)
    return StateFilter(None, unwanted, frozenset(word.casefold() for word in wanted))


def bill_state_filter(states: Iterable[str]) -> StateFilter:
    """How to select bills in these STATE words."""
    return state_filter(BILL_STATES, BILL_STATE_CODES, states, "bill state")


def payment_state_filter(states: Iterable[str]) -> StateFilter:
    """How to select payments in these DISPLAYSTATE words."""
    return state_filter(PAYMENT_STATES, PAYMENT_STATE_CODES, states, "payment state")


def status_code(status: str) -> str:
    """Stored code of a vendor/reference STATUS display value (active → T)."""
    code = VENDOR_STATUS_CODES.get(status.strip().casefold())
    if code is None:
        raise UnknownStateError(f"unknown status {status!r}; known: {', '.join(VENDOR_STATUS_CODES)}")
    return code
