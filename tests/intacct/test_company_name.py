"""The company's name: read only when the company's own `lookup` shows COMPANY with a NAME
(nothing recorded from real Intacct backs that object), once, and known afterwards."""

from __future__ import annotations

from bot.context import CompanyContext
from cards.links import IntacctLinks

LINKS = IntacctLinks("https://www.intacct.com", "TEST-CO")


async def test_the_name_is_read_once_when_lookup_shows_company_with_a_name(gateway, make_client) -> None:
    gateway.extra_definitions["COMPANY"] = {"RECORDNO": "INTEGER", "NAME": "TEXT"}
    gateway.add_rows("COMPANY", [{"RECORDNO": "1", "NAME": "Test Company Inc."}])
    company = CompanyContext("TEST-CO", make_client(), LINKS)
    assert await company.known_name() is None
    assert await company.name() == "Test Company Inc." and await company.name() == "Test Company Inc."
    assert await company.known_name() == "Test Company Inc."
    names = [f.name for request in gateway.data_requests for f in request.functions]
    assert names == ["lookup", "readByQuery"]
    (query,) = [f for request in gateway.data_requests for f in request.functions if f.name == "readByQuery"]
    assert query.params.get("object") == "COMPANY" and query.params.get("fields") == "NAME"


async def test_no_name_field_in_the_definition_means_no_read(gateway, make_client) -> None:
    gateway.extra_definitions["COMPANY"] = {"RECORDNO": "INTEGER", "COMPANYID": "TEXT"}
    assert await make_client().fetch_company_name() is None
    assert [f.name for request in gateway.data_requests for f in request.functions] == ["lookup"]


async def test_no_company_definition_means_no_read(gateway, make_client) -> None:
    assert await make_client().fetch_company_name() is None
    assert [f.name for request in gateway.data_requests for f in request.functions] == ["lookup"]
