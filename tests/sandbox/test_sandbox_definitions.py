"""The sandbox's objects are the recorded real definitions: `lookup` answers them, an unknown field fails
exactly as Intacct fails it, and a company can lack objects and fields like real ones do."""

from __future__ import annotations

from lxml import etree

from sandbox.objects import OBJECTS
from tests.sandbox.helpers import Sandbox, error, function, read_by_query


def lookup(obj: str, controlid: str = "l") -> etree._Element:
    return function("lookup", controlid, object=obj)


async def test_lookup_answers_the_recorded_definition(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(lookup("APPYMT"))
    assert result.findtext("status") == "success" and result.findtext("function") == "lookup"
    type_element = result.find("data/Type")
    assert type_element.get("Name") == "APPYMT"
    fields = type_element.findall("Fields/Field")
    assert [f.findtext("ID") for f in fields] == [f.name for f in OBJECTS["APPYMT"].fields]
    display = next(f for f in fields if f.findtext("ID") == "DISPLAYSTATE")
    assert [child.tag for child in display] == ["ID", "LABEL", "DESCRIPTION", "REQUIRED", "READONLY", "DATATYPE", "VALIDVALUES", "ISCUSTOM"]
    assert (display.findtext("DATATYPE"), display.findtext("READONLY")) == ("TEXT", "true")
    assert "Confirmed" in [v.text for v in display.findall("VALIDVALUES/VALIDVALUE")]
    assert "AMOUNTTOPAY" not in {f.findtext("ID") for f in fields}
    assert type_element.find("Relationships") is not None


async def test_an_unknown_field_fails_only_its_function_as_intacct_does(sandbox: Sandbox, samples) -> None:
    # The recorded gateway answer: errorno "Invalid fields list <field>", every other text empty.
    recorded = etree.parse(str(samples / "response-multi-function-partial-failure-apbill.xml")).getroot()
    recorded_error = error(recorded.find("operation/result"))
    assert recorded_error == {"errorno": "Invalid fields list x", "description": "", "description2": "", "correction": ""}
    bills, payments, vendors = await sandbox.call(
        read_by_query("APBILL", "RECORDNO,STATE", pagesize=1, controlid="bills"),
        read_by_query("APPYMT", "RECORDNO,AMOUNTTOPAY", pagesize=1, controlid="payments"),
        read_by_query("VENDOR", "RECORDNO,NAME", pagesize=1, controlid="vendors"),
    )
    assert [r.findtext("status") for r in (bills, payments, vendors)] == ["success", "failure", "success"]
    assert error(payments) == {"errorno": "Invalid fields list AMOUNTTOPAY", "description": "", "description2": "", "correction": ""}
    assert payments.find("data") is None


async def test_a_company_without_a_module_has_no_such_object(sandbox: Sandbox) -> None:
    status, body = await sandbox.admin("POST", "/sandbox/company", {
        "missing_objects": ["PROJECT"], "hidden_fields": {"APBILLITEM": ["PROJECTID", "PROJECTNAME"]},
    })
    assert status == 200 and body["missing_objects"] == ["PROJECT"]
    project, lines, read = await sandbox.call(
        lookup("PROJECT", "p"), lookup("APBILLITEM", "i"), read_by_query("PROJECT", "RECORDNO", controlid="r"),
    )
    assert project.findtext("status") == "failure" and error(project)["description2"] == "Object definition PROJECT not found"
    assert read.findtext("status") == "failure" and error(read)["description2"] == "Object definition PROJECT not found"
    ids = [f.findtext("ID") for f in lines.findall("data/Type/Fields/Field")]
    assert "PROJECTID" not in ids and "PROJECTNAME" not in ids and "DEPARTMENTID" in ids
    hidden, condition, star = await sandbox.call(
        read_by_query("APBILLITEM", "RECORDNO,PROJECTID", pagesize=1, controlid="h"),
        read_by_query("APBILLITEM", "RECORDNO", "PROJECTID = 'P100'", pagesize=1, controlid="c"),
        read_by_query("APBILLITEM", "*", pagesize=1, controlid="s"),
    )
    assert error(hidden)["errorno"] == "Invalid fields list PROJECTID"
    assert condition.findtext("status") == "failure" and error(condition)["errorno"] == "Query Failed"
    assert "PROJECTID" not in {field.tag for field in star.find("data")[0]}


async def test_restrictions_are_checked_and_reset_with_the_company(sandbox: Sandbox) -> None:
    for payload in ({"missing_objects": ["NOPE"]}, {"hidden_fields": {"APBILL": ["NOPE"]}},
                    {"hidden_fields": {"APBILL": ["RECORDNO"]}}, {"refuse_user_formatting": "yes"}, {"other": 1}):
        status, body = await sandbox.admin("POST", "/sandbox/company", payload)
        assert status == 400 and body["error"], payload
    await sandbox.admin("POST", "/sandbox/company", {"missing_objects": ["CLASS"]})
    await sandbox.admin("POST", "/sandbox/reset")
    (found,) = await sandbox.call(lookup("CLASS"))
    assert found.findtext("status") == "success"


async def test_read_by_name_finds_the_user_by_login(sandbox: Sandbox) -> None:
    found, other, bad = await sandbox.call(
        function("readByName", "a", object="USERINFO", keys="ap-admin", fields="RECORDNO"),
        function("readByName", "b", object="USERINFO", keys="someone", fields="RECORDNO"),
        function("readByName", "c", object="USERINFO", keys="ap-admin", fields="RECORDNO,PASSWORD"),
    )
    assert found.findtext("data/USERINFO/RECORDNO") == "5" and found.find("data").get("count") == "1"
    assert other.find("data").get("count") == "0"
    assert error(bad)["errorno"] == "Invalid fields list PASSWORD"
