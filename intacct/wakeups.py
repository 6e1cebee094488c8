"""Is this request Intacct waking us up? The checks for Platform Trigger and Smart Event wake-ups.

Intacct can call a URL when a record changes, in two ways, and this module decides whether a
request really came that way. What the request says about the change is never used: a wake-up
only makes the poller look sooner (the push is a hint, the poll is the truth).

**Platform Triggers, HTTP post with "Use webhook delivery"** (2025 R1 early adopter, 2025 R2
generally available). What Sage documents (developer.sage.com/intacct/docs/developer-portal/
guides/webhooks, "Outbound webhooks"; the 2025 R1 and R2 release notes "Improved Platform Trigger
Creation for POST Requests"): the trigger names a REST **Client ID**; each request carries an
`Authorization` bearer token, a JSON web token whose signature Sage recommends verifying, and an
`X-Trusted-Context` header with "base64 encoded trusted context information, including the
client ID"; each request has a unique idempotency key that its retries repeat; a request is
retried (4 attempts in all) after 10, 30 and 90 s when answered 408, 429, 500, 502, 503 or 504.
Rutter's guide to these triggers (docs.rutter.com, "Sage Intacct Real-Time Webhooks") says the
request is "signed with your Sage Intacct application's client_secret".

What we could NOT find documented anywhere we can reach, and how this module stays strict anyway:
the token's algorithm (only HMAC with the client secret is accepted, HS256/384/512: never
`none`, never a public-key algorithm keyed with a secret), its claims (`iss`, `iat` and `exp` are
required; `iss` must equal INTACCT_EVENTS_ISSUER when that is set; `aud` is not checked), the
JSON field that holds the client id in the trusted context (`clientId` or `client_id`, which must
equal INTACCT_EVENTS_CLIENT_ID), and the idempotency header's name (`Idempotency-Key`, else
`X-Idempotency-Key`; a replayed token counts as a repeat whatever the header). Nor is it said
which field of the trusted context names the Intacct company, so the company is the one the URL
names (`?company=`): a trigger of another Intacct company that uses the same client id can at
worst wake a poll that is rate-bounded anyway.

**Smart Events with an HTTP POST action** (developer.intacct.com "Smart events", "Smart Event
Examples"; Intacct product help "Add or edit a Smart event"): the customer templates the URL and
the body (injection parameters such as `{!APBILL.RECORDNO!}`) and picks the events (add, set,
delete). Nothing in it authenticates the caller, so the customer puts our per-company secret in
the URL (`?secret=`) or in the body (`secret` in a JSON object or a form-encoded body). Sage
documents no retries for it ("One of the primary advantages of using webhook delivery rather than
just HTTP POST is that webhooks automatically re-try").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Mapping
from urllib.parse import parse_qs

import jwt

PLATFORM_TRIGGER = "platform_trigger"
SMART_EVENT = "smart_event"

# Header names. `Authorization` and `X-Trusted-Context`: developer.sage.com "Outbound webhooks".
AUTHORIZATION_HEADER = "Authorization"
TRUSTED_CONTEXT_HEADER = "X-Trusted-Context"
# Undocumented (Sage says only that "each webhook request includes a unique idempotency key"):
# the IETF draft's name first, then the common X- variant.
IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Idempotency-Key")
# Undocumented: the trusted context's client id field ("including the client ID").
CLIENT_ID_FIELDS = ("clientId", "client_id")
# Undocumented algorithm; the key is the REST client's secret (Rutter), so HMAC only.
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
REQUIRED_CLAIMS = ("iss", "iat", "exp")
# Clock difference tolerated between Intacct and us when checking `iat` and `exp`.
CLOCK_LEEWAY = timedelta(seconds=60)

# Our own names for what a customer templates into a Smart Event (URL query or body).
SECRET_FIELD = "secret"
COMPANY_FIELD = "company"
MAX_FIELD_LENGTH = 400  # a secret is at most 200 characters, a company key far less


# Why a request was refused, as short fixed labels (logs count them; metrics stay bounded).
BAD_TOKEN = "bad_token"  # no bearer token, not a JWT, not HMAC, wrong signature
TOKEN_CLAIMS = "token_claims"  # a claim missing or wrong: issuer, iat, exp, age
TRUSTED_CONTEXT = "trusted_context"  # X-Trusted-Context missing, unreadable or another client's
WRONG_SECRET = "wrong_secret"  # a Smart Event without the company's secret
UNKNOWN_COMPANY = "unknown_company"  # the URL names no company that takes wake-ups
MALFORMED = "malformed"  # a field too long


class WakeUpRefused(Exception):
    """The request is not a wake-up we can trust; the message says why without any secret, and
    `reason` is one of the fixed labels above."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class PlatformTriggerKeys:
    """What a Platform Trigger token is checked against (INTACCT_EVENTS_* settings)."""

    client_id: str
    client_secret: str = field(repr=False)
    issuer: str = ""  # empty: any issuer (the claim must still be there)
    max_age: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class WakeUpProof:
    """An authentic wake-up: its kind and the keys that recognise a repeat of it."""

    kind: str
    repeat_keys: tuple[str, ...]  # the idempotency key and/or a digest of the token; empty: none


def verify_platform_trigger(headers: Mapping[str, str], keys: PlatformTriggerKeys, *, now: datetime) -> WakeUpProof:
    """Check the bearer token (HMAC with the client secret, issuer, `iat`/`exp` against `now`)
    and the client id in `X-Trusted-Context`; WakeUpRefused otherwise."""
    token = _bearer_token(headers.get(AUTHORIZATION_HEADER, ""))
    try:
        with warnings.catch_warnings():
            # Intacct issues the client secret; PyJWT's warning about a short HMAC key is no news
            # the operator can act on.
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            claims = jwt.decode(
                token,
                keys.client_secret,
                algorithms=list(HMAC_ALGORITHMS),
                issuer=keys.issuer or None,
                # Times are checked below against the injected clock, not PyJWT's wall clock;
                # `aud` is undocumented, so it is neither required nor checked.
                options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False,
                         "verify_nbf": False, "verify_aud": False},
            )
    except jwt.InvalidIssuerError:
        raise WakeUpRefused(TOKEN_CLAIMS, "the token's issuer is not INTACCT_EVENTS_ISSUER") from None
    except jwt.MissingRequiredClaimError as exc:
        raise WakeUpRefused(TOKEN_CLAIMS, f"the token has no {exc.claim!r} claim") from None
    except jwt.InvalidAlgorithmError:
        raise WakeUpRefused(BAD_TOKEN, "the token is not signed with an HMAC algorithm") from None
    except jwt.InvalidSignatureError:
        raise WakeUpRefused(BAD_TOKEN, "the token's signature does not match INTACCT_EVENTS_CLIENT_SECRET") from None
    except jwt.InvalidTokenError as exc:
        raise WakeUpRefused(BAD_TOKEN, f"the token is not a valid JWT ({type(exc).__name__})") from None
    _check_times(claims, keys.max_age, now)
    _check_trusted_context(headers.get(TRUSTED_CONTEXT_HEADER, ""), keys.client_id)
    token_digest = "token:" + hashlib.sha256(token.encode()).hexdigest()
    return WakeUpProof(PLATFORM_TRIGGER, _idempotency_keys(headers) + (token_digest,))


def verify_smart_event(supplied_secret: str | None, expected_secret: str, headers: Mapping[str, str]) -> WakeUpProof:
    """Compare the secret the request carries with the company's, in constant time."""
    if not expected_secret:
        raise WakeUpRefused(WRONG_SECRET, "this company takes no Smart Event wake-ups (no events secret is set)")
    if not supplied_secret:
        raise WakeUpRefused(WRONG_SECRET, "no bearer token and no secret in the URL or body")
    if not hmac.compare_digest(supplied_secret.encode(), expected_secret.encode()):
        raise WakeUpRefused(WRONG_SECRET, "the secret is wrong")
    return WakeUpProof(SMART_EVENT, _idempotency_keys(headers))


def has_bearer_token(headers: Mapping[str, str]) -> bool:
    """Whether the request presents itself as a Platform Trigger (an Authorization bearer token)."""
    return headers.get(AUTHORIZATION_HEADER, "").lower().startswith("bearer ")


def wakeup_fields(query: Mapping[str, str], body: bytes) -> dict[str, str]:
    """`company` and `secret` from the URL query, else from the body (a JSON object or a
    form-encoded body, whatever its Content-Type says: Intacct's is undocumented). Only these two
    string fields are read; anything else in the body is ignored, never trusted."""
    fields = {name: query[name] for name in (COMPANY_FIELD, SECRET_FIELD) if query.get(name)}
    if len(fields) < 2:
        for name, value in _body_fields(body).items():
            fields.setdefault(name, value)
    for name, value in fields.items():
        if len(value) > MAX_FIELD_LENGTH:
            raise WakeUpRefused(MALFORMED, f"the {name} field is too long")
    return fields


def _body_fields(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return {}
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            return {}
        if not isinstance(parsed, dict):
            return {}
        return {k: v for k in (COMPANY_FIELD, SECRET_FIELD) if isinstance(v := parsed.get(k), str) and v}
    try:
        form = parse_qs(text, keep_blank_values=False, strict_parsing=False, max_num_fields=50)
    except ValueError:
        return {}
    return {k: form[k][0] for k in (COMPANY_FIELD, SECRET_FIELD) if form.get(k)}


def _bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WakeUpRefused(BAD_TOKEN, "no bearer token")
    return token.strip()


def _check_times(claims: Mapping[str, object], max_age: timedelta, now: datetime) -> None:
    issued, expires = _instant(claims, "iat"), _instant(claims, "exp")
    if expires + CLOCK_LEEWAY < now:
        raise WakeUpRefused(TOKEN_CLAIMS, "the token has expired")
    if issued - CLOCK_LEEWAY > now:
        raise WakeUpRefused(TOKEN_CLAIMS, "the token was issued in the future")
    if now - issued > max_age + CLOCK_LEEWAY:
        raise WakeUpRefused(TOKEN_CLAIMS, "the token is older than INTACCT_EVENTS_MAX_AGE_SECONDS")


def _instant(claims: Mapping[str, object], name: str) -> datetime:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WakeUpRefused(TOKEN_CLAIMS, f"the token's {name!r} claim is not a number")
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise WakeUpRefused(TOKEN_CLAIMS, f"the token's {name!r} claim is out of range") from None


def _check_trusted_context(header: str, client_id: str) -> None:
    if not header.strip():
        raise WakeUpRefused(TRUSTED_CONTEXT, f"no {TRUSTED_CONTEXT_HEADER} header")
    raw = header.strip()
    try:
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_" if ("-" in raw or "_" in raw) else None, validate=True)
        context = json.loads(decoded)
    except (binascii.Error, ValueError, RecursionError):
        raise WakeUpRefused(TRUSTED_CONTEXT, f"{TRUSTED_CONTEXT_HEADER} is not base64-encoded JSON") from None
    if not isinstance(context, dict):
        raise WakeUpRefused(TRUSTED_CONTEXT, f"{TRUSTED_CONTEXT_HEADER} is not a JSON object")
    found = next((context[name] for name in CLIENT_ID_FIELDS if name in context), None)
    if found is None:
        raise WakeUpRefused(TRUSTED_CONTEXT, f"{TRUSTED_CONTEXT_HEADER} names no client id")
    if found != client_id:
        raise WakeUpRefused(TRUSTED_CONTEXT, f"{TRUSTED_CONTEXT_HEADER} names another client id than INTACCT_EVENTS_CLIENT_ID")


def _idempotency_keys(headers: Mapping[str, str]) -> tuple[str, ...]:
    for name in IDEMPOTENCY_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return (f"key:{value[:MAX_FIELD_LENGTH]}",)
    return ()
