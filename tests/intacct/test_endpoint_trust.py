"""The session endpoint getAPISession returns is trusted only over https on an Intacct host, or on the very
scheme and host of the configured gateway URL; anything else is refused before anything is sent to it."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from intacct import errors as e
from intacct.sessions import trusted_endpoint
from tests.fakes.intacct_gateway import FakeIntacctGateway

LOGIN = "https://api.intacct.com/ia/xml/xmlgw.phtml"


@pytest.mark.parametrize(
    "endpoint, login, trusted",
    [
        ("https://api.intacct.com/ia/xml/xmlgw.phtml", LOGIN, True),  # what the recorded exchanges return
        ("https://api-eu.intacct.com/ia/xml/xmlgw.phtml", LOGIN, True),
        ("https://intacct.com/ia/xml/xmlgw.phtml", LOGIN, True),
        ("https://API.INTACCT.COM:443/ia/xml/xmlgw.phtml", LOGIN, True),
        ("http://api.intacct.com/ia/xml/xmlgw.phtml", LOGIN, False),  # plain http, even on Intacct's host
        ("https://api.intacct.com.evil.example/ia/xml/xmlgw.phtml", LOGIN, False),
        ("https://evilintacct.com/ia/xml/xmlgw.phtml", LOGIN, False),
        ("https://user:pw@api.intacct.com/ia/xml/xmlgw.phtml", LOGIN, False),
        ("https://collector.example/ia/xml/xmlgw.phtml", LOGIN, False),
        ("ftp://api.intacct.com/x", LOGIN, False),
        ("not a url", LOGIN, False),
        ("https://api.intacct.com:notaport/x", LOGIN, False),
        # The configured gateway (sandbox, test gateway, an operator's proxy): its own scheme, host and port.
        ("http://127.0.0.1:8090/ia/xml/session/xmlgw.phtml", "http://127.0.0.1:8090/ia/xml/xmlgw.phtml", True),
        ("http://127.0.0.1:8091/ia/xml/xmlgw.phtml", "http://127.0.0.1:8090/ia/xml/xmlgw.phtml", False),
        ("https://127.0.0.1:8090/ia/xml/xmlgw.phtml", "http://127.0.0.1:8090/ia/xml/xmlgw.phtml", False),
        ("http://proxy.corp.example/ia", "http://proxy.corp.example/gw", True),
        ("http://other.corp.example/ia", "http://proxy.corp.example/gw", False),
    ],
)
def test_trusted_endpoints(endpoint: str, login: str, trusted: bool) -> None:
    assert trusted_endpoint(endpoint, login) is trusted


@pytest.mark.parametrize("where", ["http_on_intacct", "foreign_host"])
async def test_an_untrusted_endpoint_is_refused_and_nothing_is_sent_there(gateway: FakeIntacctGateway, make_client, where: str) -> None:
    received: list[bytes] = []

    async def collect(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(text="thanks")

    collector = web.Application()
    collector.router.add_post("/{tail:.*}", collect)
    server = TestServer(collector, host="127.0.0.1")
    await server.start_server()
    try:
        # A different port is a different host: only the configured gateway's own is trusted.
        foreign = str(server.make_url("/ia/xml/xmlgw.phtml"))
        gateway.session_endpoint = "http://api.intacct.com/ia/xml/xmlgw.phtml" if where == "http_on_intacct" else foreign
        gateway.add_rows("APPYMT", [])
        client = make_client()
        with pytest.raises(e.UntrustedEndpointError, match="nothing was sent") as refused:
            await client.query_payments(limit=1)
        assert "INTACCT_ENDPOINT_URL" in refused.value.correction
        assert "fAkESesSiOn" not in str(refused.value)
        assert received == [] and [r.function_names for r in gateway.received] == [["getAPISession"]]
    finally:
        await server.close()


async def test_the_returned_endpoint_on_the_gateways_own_host_is_used(gateway: FakeIntacctGateway, make_client) -> None:
    gateway.add_rows("APPYMT", [])
    await make_client().query_payments(limit=1)
    login, read = gateway.received
    assert login.path != read.path  # the session went to the endpoint getAPISession named
