"""The client reads only what real Intacct companies have: every field it may select, every state word
it acts on, checked against the recorded `lookup` answers kept in sandbox/definitions; and the
sandbox that serves those definitions takes nothing from the client."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from intacct import figures, payments
from intacct.client import READS
from intacct.company import USER_FIELDS, USER_OBJECT
from intacct.states import BILL_STATE_CODES, BILL_STATES, PAYMENT_STATE_CODES, PAYMENT_STATES
from poller.planning import SILENT_BILL_STATES
from sandbox.objects import DEFINITIONS_DIR, OBJECTS

SANDBOX_DIR = Path(__file__).resolve().parents[2] / "sandbox"


def recorded(object_name: str) -> dict[str, dict]:
    """The recorded definition of an object: field id → its recorded entry."""
    document = json.loads((DEFINITIONS_DIR / f"{object_name.lower()}.json").read_text(encoding="utf-8"))
    assert document["object"] == object_name and document["source"]["repository"] and document["source"]["licence"]
    return {entry["ID"]: entry for entry in document["fields"]}


@pytest.mark.parametrize("spec", READS, ids=lambda spec: spec.object)
def test_every_field_the_client_may_select_is_in_a_real_companys_definition(spec) -> None:
    fields = recorded(spec.object)
    unknown = [name for name in spec.all if name not in fields]
    assert unknown == [], f"{spec.object}: no real company showed {unknown}"
    assert len(set(spec.all)) == len(spec.all) and "RECORDNO" in spec.required


def test_the_user_lookup_uses_recorded_fields() -> None:
    assert set(USER_FIELDS) <= set(recorded(USER_OBJECT))


def test_payments_have_no_amount_to_pay_and_read_their_own_currency() -> None:
    fields = recorded("APPYMT")
    assert "AMOUNTTOPAY" not in fields  # the field the first client invented
    assert {"TOTALENTERED", "TOTALPAID", "TOTALDUE", "TRX_TOTALENTERED", "TRX_TOTALPAID", "TRX_TOTALDUE"} <= set(fields)
    assert "TRX_TOTALENTERED" in payments.PAYMENT_READ.required and "AMOUNTTOPAY" not in payments.PAYMENT_FIELDS


def test_state_words_are_the_recorded_valid_values() -> None:
    assert set(recorded("APBILL")["STATE"]["VALIDVALUES"]) == set(BILL_STATES)
    assert recorded("APBILL")["RAWSTATE"].get("VALIDVALUES") is None  # no code is confirmed by lookup
    assert set(recorded("APPYMT")["DISPLAYSTATE"]["VALIDVALUES"]) == set(PAYMENT_STATES)
    assert recorded("APPYMT")["STATE"].get("VALIDVALUES") is None
    assert set(BILL_STATE_CODES) <= set(BILL_STATES) and set(PAYMENT_STATE_CODES) <= set(PAYMENT_STATES)


@pytest.mark.parametrize(
    "words, known",
    [
        (figures.BILL_PENDING_APPROVAL | figures.BILL_DECLINED | figures.BILL_AWAITING_PAYMENT | figures.BILL_PAID, BILL_STATES),
        (SILENT_BILL_STATES - {""}, BILL_STATES),
        (figures.PAYMENT_PENDING_APPROVAL | figures.PAYMENT_DECLINED | figures.PAYMENT_APPROVED | figures.PAYMENT_CONFIRMED
         | figures.PAYMENT_VOIDED, PAYMENT_STATES),
    ],
)
def test_every_state_word_an_event_or_card_depends_on_is_a_real_one(words, known) -> None:
    assert set(words) <= set(known), set(words) - set(known)


def test_the_sandbox_serves_exactly_the_recorded_definitions() -> None:
    for name, obj in OBJECTS.items():
        assert [f.name for f in obj.fields] == list(recorded(name)), name
    assert {spec.object for spec in READS} <= set(OBJECTS)


def test_the_sandbox_imports_nothing_of_the_client() -> None:
    offenders = []
    for path in SANDBOX_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "intacct"]
    assert offenders == []
