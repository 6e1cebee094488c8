"""The objects the sandbox serves, their fields in `*` order, and the enumeration code tables.

Field names follow developer.intacct.com's object pages and the recorded samples; every field the client selects
(docs/design.md, "Fields read") is here, plus common neighbours so `*` looks like Intacct.
Enumeration codes follow docs/design.md: the documented codes plus ours for the states Intacct's
pages do not give a code for.
"""

from __future__ import annotations

from types import MappingProxyType

from intacct.sandbox.schema import FieldDef, FieldType, ObjectDef

T, I, D, DT, TS, B, E, U = (
    FieldType.TEXT,
    FieldType.INTEGER,
    FieldType.DECIMAL,
    FieldType.DATE,
    FieldType.TIMESTAMP,
    FieldType.BOOLEAN,
    FieldType.ENUM,
    FieldType.URL,
)

BILL_STATES = MappingProxyType(
    {
        "D": "Draft",
        "S": "Submitted",
        "PA": "Partially Approved",
        "U": "Declined",
        "A": "Posted",
        "R": "Selected",
        "PP": "Partially Paid",
        "P": "Paid",
        "V": "Reversed",
    }
)
PAYMENT_STATES = MappingProxyType(
    {
        "D": "Draft",
        "S": "Submitted",
        "PA": "Partially Approved",
        "U": "Declined",
        "A": "Approved",
        "L": "Delivered",
        "C": "Complete",
        "V": "Voided",
    }
)
STATUS = MappingProxyType({"T": "active", "F": "inactive"})


def _fields(*specs: tuple) -> tuple[FieldDef, ...]:
    return tuple(FieldDef(*spec) for spec in specs)


APBILL = ObjectDef(
    "APBILL",
    _fields(
        ("RECORDNO", I), ("RECORDID", T), ("RECORDTYPE", T), ("VENDORID", T), ("VENDORNAME", T),
        ("STATE", E, BILL_STATES), ("DESCRIPTION", T), ("DOCNUMBER", T), ("WHENCREATED", DT),
        ("WHENPOSTED", DT), ("WHENDUE", DT), ("WHENPAID", DT), ("TERMNAME", T), ("ONHOLD", B),
        ("PAYMENTPRIORITY", T), ("TOTALENTERED", D), ("TOTALDUE", D), ("TOTALPAID", D),
        ("TOTALSELECTED", D), ("CURRENCY", T), ("BASECURR", T), ("MODULEKEY", T),
        ("MEGAENTITYID", T), ("MEGAENTITYNAME", T), ("AUWHENCREATED", TS), ("CREATEDBY", T),
        ("MODIFIEDBY", T), ("WHENMODIFIED", TS), ("RECORD_URL", U),
    ),
)

APBILLITEM = ObjectDef(
    "APBILLITEM",
    _fields(
        ("RECORDNO", I), ("RECORDKEY", I), ("LINE_NO", I), ("RECORDTYPE", T), ("ACCOUNTKEY", I),
        ("ACCOUNTNO", T), ("ACCOUNTTITLE", T), ("AMOUNT", D), ("ENTRYDESCRIPTION", T),
        ("DEPARTMENTID", T), ("DEPARTMENTNAME", T), ("LOCATIONID", T), ("LOCATIONNAME", T),
        ("CLASSID", T), ("CLASSNAME", T), ("PROJECTID", T), ("PROJECTNAME", T), ("VENDORID", T),
        ("VENDORNAME", T), ("CURRENCY", T), ("BASECURR", T), ("ENTRY_DATE", DT),
        ("WHENCREATED", TS), ("WHENMODIFIED", TS),
    ),
)

APPYMT = ObjectDef(
    "APPYMT",
    _fields(
        ("RECORDNO", I), ("RECORDTYPE", T), ("FINANCIALENTITY", T), ("PAYMENTMETHOD", T),
        ("VENDORID", T), ("VENDORNAME", T), ("STATE", E, PAYMENT_STATES), ("DOCNUMBER", T),
        ("DESCRIPTION", T), ("CURRENCY", T), ("BASECURR", T), ("AMOUNTTOPAY", D),
        ("TOTALENTERED", D), ("WHENCREATED", DT), ("WHENPAID", DT), ("MEGAENTITYID", T),
        ("MEGAENTITYNAME", T), ("AUWHENCREATED", TS), ("WHENMODIFIED", TS), ("RECORD_URL", U),
    ),
)

VENDOR = ObjectDef(
    "VENDOR",
    _fields(
        ("RECORDNO", I), ("VENDORID", T), ("NAME", T), ("STATUS", E, STATUS), ("ONHOLD", B),
        ("ONETIME", B), ("VENDTYPE", T), ("TERMNAME", T), ("CURRENCY", T), ("PAYMENTPRIORITY", T),
        ("CREDITLIMIT", D), ("DISPLAYCONTACT.CONTACTNAME", T), ("DISPLAYCONTACT.EMAIL1", T),
        ("DISPLAYCONTACT.PHONE1", T), ("MEGAENTITYID", T), ("MEGAENTITYNAME", T),
        ("WHENCREATED", TS), ("WHENMODIFIED", TS), ("RECORD_URL", U),
    ),
)

GLACCOUNT = ObjectDef(
    "GLACCOUNT",
    _fields(
        ("RECORDNO", I), ("ACCOUNTNO", T), ("TITLE", T), ("ACCOUNTTYPE", T), ("NORMALBALANCE", T),
        ("CLOSINGTYPE", T), ("STATUS", E, STATUS), ("CATEGORY", T), ("WHENCREATED", TS),
        ("WHENMODIFIED", TS),
    ),
)

DEPARTMENT = ObjectDef(
    "DEPARTMENT",
    _fields(
        ("RECORDNO", I), ("DEPARTMENTID", T), ("TITLE", T), ("PARENTID", T),
        ("SUPERVISORNAME", T), ("STATUS", E, STATUS), ("WHENCREATED", TS), ("WHENMODIFIED", TS),
    ),
)

LOCATION = ObjectDef(
    "LOCATION",
    _fields(
        ("RECORDNO", I), ("LOCATIONID", T), ("NAME", T), ("PARENTID", T), ("STATUS", E, STATUS),
        ("CURRENCY", T), ("WHENCREATED", TS), ("WHENMODIFIED", TS),
    ),
)

CLASS = ObjectDef(
    "CLASS",
    _fields(
        ("RECORDNO", I), ("CLASSID", T), ("NAME", T), ("DESCRIPTION", T), ("STATUS", E, STATUS),
        ("PARENTID", T), ("MEGAENTITYID", T), ("WHENCREATED", TS), ("WHENMODIFIED", TS),
        ("RECORD_URL", U),
    ),
)

PROJECT = ObjectDef(
    "PROJECT",
    _fields(
        ("RECORDNO", I), ("PROJECTID", T), ("NAME", T), ("DESCRIPTION", T),
        ("PROJECTCATEGORY", T), ("PROJECTSTATUS", T), ("STATUS", E, STATUS), ("CURRENCY", T),
        ("PARENTID", T), ("WHENCREATED", TS), ("WHENMODIFIED", TS),
    ),
)

COMPANY = ObjectDef(
    "COMPANY",
    _fields(
        ("RECORDNO", I), ("COMPANYID", T), ("NAME", T), ("LEGALNAME", T), ("COUNTRY", T),
        ("BASECURR", T), ("WHENCREATED", TS), ("WHENMODIFIED", TS),
    ),
)

OBJECTS: MappingProxyType[str, ObjectDef] = MappingProxyType(
    {
        o.name: o
        for o in (APBILL, APBILLITEM, APPYMT, VENDOR, GLACCOUNT, DEPARTMENT, LOCATION, CLASS, PROJECT, COMPANY)
    }
)
