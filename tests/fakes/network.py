"""The network as tests see it: real host names (login.botframework.com, login.microsoftonline.com)
resolved to local fakes, and nothing else — the tests are offline. Production code runs unchanged;
only the aiohttp session it is given decides where a host name leads."""

from __future__ import annotations

import socket
from typing import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from tests.fakes.entra_graph import ENTRA_HOST, TestTls


class RedirectingResolver(AbstractResolver):
    """Resolves the named hosts to ports on 127.0.0.1 and nothing else: the tests are offline."""

    def __init__(self, targets: Mapping[str, int]) -> None:
        self.targets = dict(targets)  # host → local port; change it to move a host

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.targets:
            raise OSError(f"cannot resolve {host} (the tests are offline)")
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self.targets[host], family=socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        pass


def redirected_session(resolver: RedirectingResolver, tls: TestTls) -> aiohttp.ClientSession:
    """An aiohttp session that reaches each of the resolver's hosts on its local port, trusting the
    test CA; every connection resolves anew (no DNS cache, no keep-alive), so moving a host counts."""
    connector = aiohttp.TCPConnector(resolver=resolver, ssl=tls.client, use_dns_cache=False, force_close=True)
    return aiohttp.ClientSession(connector=connector)


def closed_port() -> int:
    """A loopback port nothing listens on (a connection there is refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def entra_session(entra_url: str, tls: TestTls) -> aiohttp.ClientSession:
    """A session reaching a running fake Entra (`entra_url`, its 127.0.0.1 origin) as
    login.microsoftonline.com; the fake's certificate must name that host (make_test_tls(ENTRA_HOST))."""
    port = int(entra_url.rsplit(":", 1)[1])
    return redirected_session(RedirectingResolver({ENTRA_HOST: port}), tls)
