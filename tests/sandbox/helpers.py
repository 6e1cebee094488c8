"""Raw gateway requests built in the tests, a hardened response parser, and a sandbox HTTP client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from aiohttp.test_utils import TestClient
from lxml import etree

SENDER = ("mlc-sandbox", "sandbox-secret")
LOGIN = {"userid": "ap-admin", "companyid": "DEMO-CO", "password": "demo-pass"}
GATEWAY = "/ia/xml/xmlgw.phtml"


def function(name: str, controlid: str = "f1", **children: Any) -> etree._Element:
    """<function controlid=…><name><child>text</child>…</name></function>; None children are left out."""
    element = etree.Element("function", controlid=controlid)
    body = etree.SubElement(element, name)
    for tag, value in children.items():
        if value is not None:
            etree.SubElement(body, tag).text = None if value == "" else str(value)
    return element


def read_by_query(obj: str, fields: str = "*", query: str = "", pagesize: int | str | None = None,
                  controlid: str = "q", **extra: Any) -> etree._Element:
    """A readByQuery function."""
    return function("readByQuery", controlid, object=obj, fields=fields, query=query, pagesize=pagesize, **extra)


def read_more(result_id: str, controlid: str = "more") -> etree._Element:
    """A readMore function by resultId."""
    return function("readMore", controlid, resultId=result_id)


def get_api_session(locationid: str | None = None, controlid: str = "session") -> etree._Element:
    """A getAPISession function (locationid "" gives an empty element)."""
    element = function("getAPISession", controlid)
    if locationid is not None:
        etree.SubElement(element[0], "locationid").text = locationid or None
    return element


def request(
    functions: Sequence[etree._Element] = (),
    *,
    session_id: str | None = None,
    login: dict[str, str] | None = None,
    sender: tuple[str, str] = SENDER,
    transaction: bool = False,
    whitespace: bool = False,
    control_extra: dict[str, str] | None = None,
) -> bytes:
    """A whole <request>: session auth when session_id is given, else login (demo user by default)."""
    root = etree.Element("request")
    control = etree.SubElement(root, "control")
    values = {"senderid": sender[0], "password": sender[1], "controlid": "req-1", "uniqueid": "false",
              "dtdversion": "3.0", "includewhitespace": "true" if whitespace else "false", **(control_extra or {})}
    for tag, value in values.items():
        etree.SubElement(control, tag).text = value
    operation = etree.SubElement(root, "operation", transaction="true" if transaction else "false")
    auth = etree.SubElement(operation, "authentication")
    if session_id is not None:
        etree.SubElement(auth, "sessionid").text = session_id
    else:
        login_element = etree.SubElement(auth, "login")
        for tag, value in (login or LOGIN).items():
            etree.SubElement(login_element, tag).text = value
    content = etree.SubElement(operation, "content")
    for element in functions:
        content.append(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def parse(body: bytes) -> etree._Element:
    """A response parsed like a careful client would (no entities, no network, no DTD)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(body, parser)


def results(root: etree._Element) -> list[etree._Element]:
    """The <result> elements in order."""
    return root.findall("operation/result")


def rows(result: etree._Element) -> list[dict[str, str | None]]:
    """The rows of a result's <data> as {FIELD: text or None} in document order (child lists skipped)."""
    data = result.find("data")
    return [{field.tag: field.text for field in row if len(field) == 0} for row in data]


def error(element: etree._Element) -> dict[str, str]:
    """The first <error> under an element's <errormessage>, as a dict of its four texts."""
    found = element.find("errormessage/error")
    assert found is not None, etree.tostring(element).decode()
    return {child.tag: child.text or "" for child in found}


@dataclass
class Sandbox:
    """A test client of one sandbox app, with shortcuts for the gateway and the admin API."""

    client: TestClient

    async def post(self, body: bytes, path: str = GATEWAY) -> tuple[int, etree._Element]:
        """POST raw bytes to the gateway; (HTTP status, parsed response)."""
        response = await self.client.post(path, data=body, headers={"Content-Type": "application/xml"})
        return response.status, parse(await response.read())

    async def call(self, *functions: etree._Element, session_id: str | None = None, **options: Any) -> list[etree._Element]:
        """Send functions (login auth unless a session is given); the results, asserting HTTP 200 and
        success at control and authentication level."""
        status, root = await self.post(request(functions, session_id=session_id, **options))
        assert status == 200
        assert root.findtext("control/status") == "success", etree.tostring(root).decode()
        assert root.findtext("operation/authentication/status") == "success", etree.tostring(root).decode()
        return results(root)

    async def session(self, locationid: str | None = None) -> str:
        """A new session id (login + getAPISession)."""
        (result,) = await self.call(get_api_session(locationid))
        assert result.findtext("status") == "success", etree.tostring(result).decode()
        return result.findtext("data/api/sessionid")

    async def query(
        self, obj: str, fields: str = "*", query: str = "", *, session_id: str | None = None
    ) -> list[dict[str, str | None]]:
        """Every row of a readByQuery, following readMore to the end."""
        (first,) = await self.call(read_by_query(obj, fields, query, pagesize=1000), session_id=session_id)
        assert first.findtext("status") == "success", etree.tostring(first).decode()
        found = rows(first)
        result_id = first.find("data").get("resultId")
        while int(first.find("data").get("numremaining")):
            (first,) = await self.call(read_more(result_id), session_id=session_id)
            found += rows(first)
        return found

    async def admin(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        """Call the admin API; (status, decoded JSON)."""
        response = await self.client.request(method, path, json=payload)
        return response.status, await response.json()
