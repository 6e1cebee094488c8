"""The objects the sandbox serves, built from recorded real `lookup` answers, and its state codes.

Every object's fields, in `*` order, come from `definitions/<object>.json`: what a real Intacct
company listed (the files and their README name the source). Nothing here comes from the client
(`intacct/states.py` and the record modules), so the sandbox cannot share the client's mistakes.
On top of the recordings the sandbox adds only how it keeps values:

- APBILL: the code is stored in RAWSTATE and STATE shows its word (the recordings list the words
  as STATE's valid values and no values for RAWSTATE).
- APPYMT: STATE is the one-letter code (the recorded rows show STATE and RAWSTATE equal and one
  letter long), RAWSTATE the same code, DISPLAYSTATE its word (DISPLAYSTATE's valid values are
  the words).
- STATUS of vendors and reference objects shows active/inactive and compares with T/F.
- A `TRX_` amount equals its base twin: the sandbox company keeps one currency.

Codes: developer.intacct.com documents D/S/PA/U/A for bill states and D/S/A/C/V for payment
states in readByQuery conditions. For the other states nothing public gives the code, so the
sandbox picks its own, deliberately unlike any earlier guess, so that a client relying on an
undocumented code fails here instead of passing by agreement.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from sandbox.schema import FieldDef, FieldType, ObjectDef

DEFINITIONS_DIR = Path(__file__).with_name("definitions")

# APBILL.RAWSTATE codes; the first five are documented, the others are the sandbox's choice.
BILL_DRAFT, BILL_SUBMITTED, BILL_PARTIALLY_APPROVED, BILL_DECLINED, BILL_POSTED = "D", "S", "PA", "U", "A"
BILL_SELECTED, BILL_PARTIALLY_PAID, BILL_PAID, BILL_REVERSED = "L", "T", "Y", "X"
BILL_REVERSAL, BILL_ANALYZING, BILL_NO_VALUE = "Z", "N", "O"
BILL_STATES = MappingProxyType(
    {
        BILL_DRAFT: "Draft",
        BILL_SUBMITTED: "Submitted",
        BILL_PARTIALLY_APPROVED: "Partially Approved",
        BILL_DECLINED: "Declined",
        BILL_POSTED: "Posted",
        BILL_SELECTED: "Selected",
        BILL_PARTIALLY_PAID: "Partially Paid",
        BILL_PAID: "Paid",
        BILL_REVERSED: "Reversed",
        BILL_REVERSAL: "Reversal",
        BILL_ANALYZING: "Analyzing",
        BILL_NO_VALUE: "No Value",
    }
)
"""APBILL: RAWSTATE code → STATE word (the words are the recorded valid values)."""

# APPYMT.STATE codes; D/S/A/C/V are documented, the others are the sandbox's choice.
PAYMENT_DRAFT, PAYMENT_SUBMITTED, PAYMENT_APPROVED, PAYMENT_CONFIRMED, PAYMENT_VOIDED = "D", "S", "A", "C", "V"
PAYMENT_PARTIALLY_APPROVED, PAYMENT_DECLINED, PAYMENT_DELIVERED = "P", "R", "K"
PAYMENT_PRINT_VOIDED, PAYMENT_QUICK_DELIVERY = "W", "Q"
PAYMENT_STATES = MappingProxyType(
    {
        PAYMENT_DRAFT: "Draft",
        PAYMENT_SUBMITTED: "Submitted",
        PAYMENT_PARTIALLY_APPROVED: "Partially Approved",
        PAYMENT_DECLINED: "Declined",
        PAYMENT_APPROVED: "Approved",
        PAYMENT_DELIVERED: "Delivered",
        PAYMENT_CONFIRMED: "Confirmed",
        PAYMENT_VOIDED: "Voided",
        PAYMENT_PRINT_VOIDED: "Print Voided",
        PAYMENT_QUICK_DELIVERY: "Quick Delivery",
    }
)
"""APPYMT: STATE code → DISPLAYSTATE word (the words are the recorded valid values)."""

STATUS = MappingProxyType({"T": "active", "F": "inactive"})
"""STATUS of vendors and reference objects: stored code → word."""

_TYPES = {
    "TEXT": FieldType.TEXT,
    "ENUM": FieldType.TEXT,  # lookup's ENUM fields hold their word
    "INTEGER": FieldType.INTEGER,
    "DECIMAL": FieldType.DECIMAL,
    "CURRENCY": FieldType.DECIMAL,
    "PERCENT": FieldType.DECIMAL,
    "DATE": FieldType.DATE,
    "TIMESTAMP": FieldType.TIMESTAMP,
    "BOOLEAN": FieldType.BOOLEAN,
}

_TRX_TWINS = ("TOTALENTERED", "TOTALDUE", "TOTALPAID", "TOTALSELECTED")

# How the sandbox keeps the fields the recordings cannot tell it how to keep (see the docstring).
_OVERLAYS: Mapping[str, Mapping[str, dict[str, Any]]] = {
    "APBILL": {
        "STATE": {"type": FieldType.ENUM, "codes": BILL_STATES, "stored_as": "RAWSTATE"},
        **{f"TRX_{twin}": {"stored_as": twin} for twin in _TRX_TWINS},
    },
    "APBILLITEM": {
        "TRX_AMOUNT": {"stored_as": "AMOUNT"},
        "TRX_TOTALPAID": {"stored_as": "TOTALPAID"},
        "TRX_TOTALSELECTED": {"stored_as": "TOTALSELECTED"},
    },
    "APPYMT": {
        "RAWSTATE": {"stored_as": "STATE"},
        # Whether Intacct lets a condition name DISPLAYSTATE is not recorded: refusing is stricter.
        "DISPLAYSTATE": {"type": FieldType.ENUM, "codes": PAYMENT_STATES, "stored_as": "STATE", "queryable": False},
        **{f"TRX_{twin}": {"stored_as": twin} for twin in _TRX_TWINS},
    },
    **{
        name: {"STATUS": {"type": FieldType.ENUM, "codes": STATUS}}
        for name in ("VENDOR", "GLACCOUNT", "DEPARTMENT", "LOCATION", "CLASS", "PROJECT")
    },
}


# The fields the sandbox company fills (every other recorded field stays empty in every row).
_KEPT: Mapping[str, str] = {
    "APBILL": "RECORDID RECORDTYPE VENDORID VENDORNAME RAWSTATE DESCRIPTION DOCNUMBER WHENCREATED WHENPOSTED "
              "WHENDUE WHENPAID TERMNAME ONHOLD PAYMENTPRIORITY TOTALENTERED TOTALDUE TOTALPAID TOTALSELECTED "
              "CURRENCY BASECURR MODULEKEY MEGAENTITYID MEGAENTITYNAME AUWHENCREATED CREATEDBY MODIFIEDBY WHENMODIFIED",
    "APBILLITEM": "RECORDKEY LINE_NO RECORDTYPE ACCOUNTKEY ACCOUNTNO ACCOUNTTITLE AMOUNT ENTRYDESCRIPTION "
                  "DEPARTMENTID DEPARTMENTNAME LOCATIONID LOCATIONNAME CLASSID CLASSNAME PROJECTID PROJECTNAME "
                  "VENDORID VENDORNAME CURRENCY BASECURR ENTRY_DATE TOTALPAID TOTALSELECTED WHENCREATED WHENMODIFIED",
    "APPYMT": "RECORDTYPE FINANCIALENTITY PAYMENTMETHOD VENDORID VENDORNAME VENDORKEY STATE DOCNUMBER DESCRIPTION "
              "CURRENCY BASECURR TOTALENTERED TOTALDUE TOTALPAID TOTALSELECTED WHENCREATED WHENPAID MEGAENTITYID "
              "MEGAENTITYNAME AUWHENCREATED WHENMODIFIED",
    "VENDOR": "VENDORID NAME STATUS ONHOLD ONETIME VENDTYPE TERMNAME CURRENCY PAYMENTPRIORITY CREDITLIMIT "
              "DISPLAYCONTACT.CONTACTNAME DISPLAYCONTACT.EMAIL1 DISPLAYCONTACT.PHONE1 MEGAENTITYID MEGAENTITYNAME "
              "WHENCREATED WHENMODIFIED",
    "GLACCOUNT": "ACCOUNTNO TITLE ACCOUNTTYPE NORMALBALANCE CLOSINGTYPE STATUS CATEGORY WHENCREATED WHENMODIFIED",
    "DEPARTMENT": "DEPARTMENTID TITLE PARENTID SUPERVISORNAME STATUS WHENCREATED WHENMODIFIED",
    "LOCATION": "LOCATIONID NAME PARENTID STATUS WHENCREATED WHENMODIFIED",
    "CLASS": "CLASSID NAME DESCRIPTION STATUS PARENTID MEGAENTITYID WHENCREATED WHENMODIFIED",
    "PROJECT": "PROJECTID NAME DESCRIPTION PROJECTCATEGORY PROJECTSTATUS STATUS CURRENCY PARENTID WHENCREATED WHENMODIFIED",
    "USERINFO": "LOGINID",
}


def load_definition(path: Path) -> ObjectDef:
    """One recorded definition file as an ObjectDef, with the sandbox's overlays applied."""
    document = json.loads(path.read_text(encoding="utf-8"))
    name = document["object"]
    overlays = _OVERLAYS.get(name, {})
    fields = []
    for entry in document["fields"]:
        field_id = entry["ID"]
        kind = FieldType.URL if field_id == "RECORD_URL" else _TYPES[entry["DATATYPE"]]
        overlay = overlays.get(field_id, {})
        fields.append(
            FieldDef(
                field_id,
                overlay.get("type", kind),
                codes=overlay.get("codes"),
                stored_as=overlay.get("stored_as"),
                queryable=overlay.get("queryable", kind is not FieldType.URL),
                recorded=MappingProxyType(dict(entry)),
            )
        )
    unknown = set(overlays) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{path.name}: overlays for fields the recording lacks: {', '.join(sorted(unknown))}")
    kept = frozenset({"RECORDNO", *_KEPT[name].split()})
    return ObjectDef(name, tuple(fields), tuple(document.get("relationships", ())), kept)


def _load_all() -> MappingProxyType[str, ObjectDef]:
    objects = (load_definition(path) for path in sorted(DEFINITIONS_DIR.glob("*.json")))
    return MappingProxyType({obj.name: obj for obj in objects})


OBJECTS: MappingProxyType[str, ObjectDef] = _load_all()
"""Every object the sandbox serves, by name."""

APBILL = OBJECTS["APBILL"]
APBILLITEM = OBJECTS["APBILLITEM"]
APPYMT = OBJECTS["APPYMT"]
VENDOR = OBJECTS["VENDOR"]
GLACCOUNT = OBJECTS["GLACCOUNT"]
DEPARTMENT = OBJECTS["DEPARTMENT"]
LOCATION = OBJECTS["LOCATION"]
CLASS = OBJECTS["CLASS"]
PROJECT = OBJECTS["PROJECT"]
USERINFO = OBJECTS["USERINFO"]
