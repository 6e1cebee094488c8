"""The wake-up checks (intacct/wakeups.py): Platform Trigger tokens and trusted context, Smart Event secrets.

Sage documents the headers (`Authorization` bearer JWT, `X-Trusted-Context` base64 with the client
id) but not the token's algorithm, claims or the context's field names: the tokens below are
minted the way the module assumes (HMAC with the REST client's secret, docs.rutter.com), and
every variation an attacker or a misconfiguration could send must be refused.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from intacct.wakeups import (
    PLATFORM_TRIGGER,
    SMART_EVENT,
    PlatformTriggerKeys,
    WakeUpRefused,
    has_bearer_token,
    verify_platform_trigger,
    verify_smart_event,
    wakeup_fields,
)

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
CLIENT_ID = "f2b5a1c9d3e8.app.sage.com"
CLIENT_SECRET = "c4d1b0a7e9f2435b8a6c1d0e9f8a7b6c5d4e3f2a"  # 40 characters: a realistic HMAC key
ISSUER = "https://api.intacct.com"
KEYS = PlatformTriggerKeys(CLIENT_ID, CLIENT_SECRET, ISSUER, timedelta(minutes=5))


def token(*, secret: str = CLIENT_SECRET, algorithm: str = "HS256", drop: tuple[str, ...] = (), **claims) -> str:
    body = {"iss": ISSUER, "iat": int(NOW.timestamp()), "exp": int((NOW + timedelta(minutes=5)).timestamp()), **claims}
    for name in drop:
        body.pop(name)
    return jwt.encode(body, secret, algorithm=algorithm)


def context(value: object = None, *, urlsafe: bool = False) -> str:
    raw = json.dumps({"clientId": CLIENT_ID, "cnyId": "DEMO-CO"} if value is None else value).encode()
    return (base64.urlsafe_b64encode(raw).rstrip(b"=") if urlsafe else base64.b64encode(raw)).decode()


def headers(bearer: str | None = None, trusted: str | None = None, **extra: str) -> dict[str, str]:
    found = {"Authorization": f"Bearer {bearer or token()}", "X-Trusted-Context": context() if trusted is None else trusted, **extra}
    return {k: v for k, v in found.items() if v != ""}


def test_a_token_signed_with_the_client_secret_and_the_clients_context_is_a_wake_up():
    proof = verify_platform_trigger(headers(**{"Idempotency-Key": "b6a1-0001"}), KEYS, now=NOW)

    assert proof.kind == PLATFORM_TRIGGER
    assert proof.repeat_keys[0] == "key:b6a1-0001" and proof.repeat_keys[1].startswith("token:")


def test_the_trusted_context_may_be_url_safe_base64_without_padding_and_name_client_id_either_way():
    verify_platform_trigger(headers(trusted=context(urlsafe=True)), KEYS, now=NOW)
    verify_platform_trigger(headers(trusted=context({"client_id": CLIENT_ID})), KEYS, now=NOW)


def test_any_issuer_is_taken_when_none_is_pinned_but_the_claim_must_be_there():
    unpinned = PlatformTriggerKeys(CLIENT_ID, CLIENT_SECRET)
    verify_platform_trigger(headers(token(iss="https://elsewhere.example")), unpinned, now=NOW)
    with pytest.raises(WakeUpRefused, match="no 'iss' claim"):
        verify_platform_trigger(headers(token(drop=("iss",))), unpinned, now=NOW)


def _rs256_token() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"iss": ISSUER, "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300}, private, algorithm="RS256")


def _unsigned_token() -> str:
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'iss': ISSUER, 'iat': int(NOW.timestamp()), 'exp': int(NOW.timestamp()) + 300})}."


@pytest.mark.parametrize(
    ("case", "request_headers", "reason"),
    [
        ("no Authorization", lambda: {"X-Trusted-Context": context()}, "no bearer token"),
        ("Basic instead of Bearer", lambda: {"Authorization": "Basic dXNlcjpwdw==", "X-Trusted-Context": context()}, "no bearer token"),
        ("another secret", lambda: headers(token(secret="a-different-secret-of-forty-characters!!")), "signature does not match"),
        ("alg none", lambda: headers(_unsigned_token()), "not signed with an HMAC algorithm"),
        ("RS256 (no key to check it)", lambda: headers(_rs256_token()), "not signed with an HMAC algorithm"),
        ("garbage", lambda: headers("not.a.jwt"), "not a valid JWT"),
        ("another issuer", lambda: headers(token(iss="https://evil.example")), "issuer is not INTACCT_EVENTS_ISSUER"),
        ("no exp", lambda: headers(token(drop=("exp",))), "no 'exp' claim"),
        ("no iat", lambda: headers(token(drop=("iat",))), "no 'iat' claim"),
        ("expired", lambda: headers(token(exp=int((NOW - timedelta(minutes=2)).timestamp()))), "expired"),
        ("issued in the future", lambda: headers(token(iat=int((NOW + timedelta(minutes=5)).timestamp()))), "in the future"),
        ("too old", lambda: headers(token(iat=int((NOW - timedelta(minutes=10)).timestamp()),
                                          exp=int((NOW + timedelta(hours=1)).timestamp()))), "older than"),
        ("iat not a number", lambda: headers(token(iat="yesterday")), "'iat' claim is not a number"),
        ("no trusted context", lambda: headers(trusted=""), "no X-Trusted-Context"),
        ("context not base64", lambda: headers(trusted="%%%not base64%%%"), "not base64-encoded JSON"),
        ("context not JSON", lambda: headers(trusted=base64.b64encode(b"client=me").decode()), "not base64-encoded JSON"),
        ("context a list", lambda: headers(trusted=context([CLIENT_ID])), "not a JSON object"),
        ("context without client id", lambda: headers(trusted=context({"cnyId": "DEMO-CO"})), "names no client id"),
        ("another client", lambda: headers(trusted=context({"clientId": "someone-else"})), "another client id"),
    ],
)
def test_everything_else_is_refused_with_a_reason_that_names_no_secret(case, request_headers, reason):
    with pytest.raises(WakeUpRefused, match=reason) as refused:
        verify_platform_trigger(request_headers(), KEYS, now=NOW)
    assert CLIENT_SECRET not in str(refused.value)


def test_a_token_within_the_clock_leeway_is_still_taken():
    verify_platform_trigger(headers(token(exp=int((NOW - timedelta(seconds=30)).timestamp()))), KEYS, now=NOW)
    verify_platform_trigger(headers(token(iat=int((NOW + timedelta(seconds=30)).timestamp()))), KEYS, now=NOW)


def test_a_replayed_token_has_the_same_repeat_key_whatever_its_idempotency_header():
    same = token()
    first = verify_platform_trigger(headers(same, **{"Idempotency-Key": "a"}), KEYS, now=NOW)
    replay = verify_platform_trigger(headers(same, **{"X-Idempotency-Key": "b"}), KEYS, now=NOW)

    assert first.repeat_keys[-1] == replay.repeat_keys[-1]
    assert replay.repeat_keys[0] == "key:b"


def test_a_smart_event_secret_must_match_exactly():
    assert verify_smart_event("s3cret-of-the-company", "s3cret-of-the-company", {"Idempotency-Key": "k1"}).repeat_keys == ("key:k1",)
    assert verify_smart_event("s3cret-of-the-company", "s3cret-of-the-company", {}).kind == SMART_EVENT
    for supplied, expected, reason in (
        ("s3cret-of-the-company", "", "no events secret"),
        (None, "s3cret-of-the-company", "no secret"),
        ("", "s3cret-of-the-company", "no secret"),
        ("s3cret-of-the-compan", "s3cret-of-the-company", "wrong"),
        ("S3CRET-OF-THE-COMPANY", "s3cret-of-the-company", "wrong"),
    ):
        with pytest.raises(WakeUpRefused, match=reason):
            verify_smart_event(supplied, expected, {})


def test_bearer_detection():
    assert has_bearer_token({"Authorization": "bearer abc"})
    assert not has_bearer_token({"Authorization": "Basic abc"}) and not has_bearer_token({})


@pytest.mark.parametrize(
    ("query", "body", "expected"),
    [
        ({"company": "us", "secret": "s"}, b"", {"company": "us", "secret": "s"}),
        ({"company": "us"}, b'{"secret": "s", "object": "APBILL", "id": "{!APBILL.RECORDNO!}"}', {"company": "us", "secret": "s"}),
        ({}, b"company=us&secret=s&object=APBILL", {"company": "us", "secret": "s"}),
        ({"secret": "from-url"}, b'{"secret": "from-body", "company": "us"}', {"company": "us", "secret": "from-url"}),
        ({}, b'{"secret": 42, "company": ["us"]}', {}),
        ({}, b"[" * 5000 + b"]" * 5000, {}),
        ({}, b'{"secret": ' + b"[" * 5000, {}),
        ({}, b"\xff\xfe not text", {}),
        ({}, b"<wakeup><secret>s</secret></wakeup>", {}),
    ],
)
def test_company_and_secret_come_from_the_url_or_a_json_or_form_body(query, body, expected):
    assert wakeup_fields(query, body) == expected


def test_an_overlong_field_is_refused():
    with pytest.raises(WakeUpRefused, match="secret field is too long"):
        wakeup_fields({"secret": "x" * 401}, b"")
