"""`check` against companies shaped like real ones: what it found, a missing required field with its fix,
optional fields and modules a company lacks, and a refused readUserFormatting with its fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ops.check import check_intacct
from sandbox.app import SESSION_PATH
from settings import CompanySettings, Secret
from tests.fakes.sandbox import running_sandbox


@pytest.fixture
async def sandbox(clock):
    async with running_sandbox(clock, "empty") as sandbox:
        yield sandbox


def company(sandbox, **overrides) -> CompanySettings:
    return CompanySettings(
        key="DEMO-CO", sender_id="mlc-sandbox", sender_password=Secret("sandbox-secret"), company_id="DEMO-CO",
        user_id="ap-admin", user_password=Secret("demo-pass"), endpoint_url=sandbox.gateway_url, **overrides,
    )


async def check(sandbox, clock, **overrides) -> list[tuple[bool, str]]:
    settings = company(sandbox, **overrides)
    offset = timedelta(hours=-8) if settings.gmt_offset else None
    client = sandbox.client(clock, gmt_offset=offset)
    return [(line.ok, line.text) for line in await check_intacct(settings, client, None)]


async def test_a_complete_company_checks_ok_and_the_session_endpoint_is_used(sandbox, clock) -> None:
    lines = await check(sandbox, clock)
    assert lines == [
        (True, "Intacct: ok — signed in to DEMO-CO; 9 objects looked up"),
        (True, "Intacct DEMO-CO: user time zone GMT-8"),
    ]
    paths = (await sandbox.stats())["paths"]
    assert paths == {"/ia/xml/xmlgw.phtml": 1, SESSION_PATH: 3}  # login, then lookups, readByName, readUserFormatting


async def test_a_missing_required_field_fails_naming_object_field_and_fix(sandbox, clock) -> None:
    await sandbox.admin("POST", "/sandbox/company", {"hidden_fields": {"APPYMT": ["DISPLAYSTATE"]}})
    lines = await check(sandbox, clock)
    failed = [text for ok, text in lines if not ok]
    assert failed == [
        "Intacct DEMO-CO: APPYMT has no field DISPLAYSTATE; give the Web Services user's role read access to "
        "Accounts Payable payments (Payment requests, List and View)"
    ]


async def test_optional_fields_and_modules_the_company_lacks_are_reported_not_failed(sandbox, clock) -> None:
    await sandbox.admin("POST", "/sandbox/company", {
        "missing_objects": ["PROJECT", "CLASS"],
        "hidden_fields": {"APBILLITEM": ["PROJECTID", "PROJECTNAME", "CLASSID", "CLASSNAME"], "APBILL": ["RECORD_URL"]},
    })
    lines = await check(sandbox, clock)
    assert all(ok for ok, _ in lines), lines
    texts = [text for _, text in lines]
    assert "Intacct DEMO-CO: APBILL has no RECORD_URL; not read, cards leave them out" in texts
    assert "Intacct DEMO-CO: APBILLITEM has no CLASSID, CLASSNAME, PROJECTID, PROJECTNAME; not read, cards leave them out" in texts
    assert any(text.startswith("Intacct DEMO-CO: the company has no PROJECT; it is not read") for text in texts)
    assert any(text.startswith("Intacct DEMO-CO: the company has no CLASS; it is not read") for text in texts)


async def test_a_missing_chart_of_accounts_fails(sandbox, clock) -> None:
    await sandbox.admin("POST", "/sandbox/company", {"missing_objects": ["GLACCOUNT"]})
    failed = [text for ok, text in await check(sandbox, clock) if not ok]
    assert failed == ["Intacct DEMO-CO: GLACCOUNT does not exist in this company (Query Failed Object definition GLACCOUNT "
                      "not found [result lookup controlid=" + failed[0].split("controlid=")[1]]
    assert failed[0].endswith("read access to General Ledger accounts")


async def test_refused_user_formatting_names_the_permission_and_the_fallback(sandbox, clock) -> None:
    await sandbox.admin("POST", "/sandbox/company", {"refuse_user_formatting": True})
    failed = [text for ok, text in await check(sandbox, clock) if not ok]
    assert len(failed) == 1
    assert "Company > Users" in failed[0] and "INTACCT_GMT_OFFSET" in failed[0]
    with_offset = await check(sandbox, clock, gmt_offset="-08:00")
    assert all(ok for ok, _ in with_offset), with_offset
    assert any("user time zone GMT-08:00 from INTACCT_GMT_OFFSET" in text for _, text in with_offset)
