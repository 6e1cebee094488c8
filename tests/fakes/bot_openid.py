"""A local stand-in for Bot Framework's OpenID metadata and signing keys, and channel tokens
minted with our own key: what botbuilder checks inbound requests against when APP_ID is set."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"  # what Bot Framework channel tokens carry


class OpenIdKeys:
    """OpenID metadata and a JWKS on a random loopback port (botbuilder fetches them with blocking
    `requests`, so this endpoint answers from its own thread). `with OpenIdKeys(jwks) as openid:`
    then point the adapter at `openid.metadata_url`."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        prefix = f"/{id(self)}"  # botbuilder caches keys per metadata URL: one URL per instance
        documents: dict[str, bytes] = {f"{prefix}/keys": json.dumps(jwks).encode()}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = documents.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self._server.server_address[1]}{prefix}"
        documents[f"{prefix}/.well-known/openidconfiguration"] = json.dumps({"issuer": ISSUER, "jwks_uri": f"{base}/keys"}).encode()
        self.metadata_url = f"{base}/.well-known/openidconfiguration"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OpenIdKeys:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def keypair(kid: str = "k1") -> tuple[Any, dict[str, Any]]:
    """(private key, public JWK endorsed for msteams) for signing channel tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "use": "sig", "endorsements": ["msteams"]})
    return key, public


def channel_token(key: Any, service_url: str, *, app_id: str, kid: str = "k1", **claims: Any) -> str:
    """A Bot Framework channel token for `app_id`, valid for an hour; `claims` override any claim."""
    now = int(time.time())  # PyJWT checks exp/nbf against the wall clock
    payload = {"iss": ISSUER, "aud": app_id, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})
