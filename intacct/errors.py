"""Every way a call to the Intacct XML gateway can fail, and the one place gateway errors are mapped.

The tree (``transient`` = a later retry of the same request may succeed)::

    IntacctError                                  base; errorno, description, description2,
    │                                             correction, controlid, level, transient
    ├── IntacctTransportError          transient  network error, HTTP 5xx (incl. 502/503/524)
    │   ├── IntacctTimeoutError        transient  no complete answer within timeout_seconds
    │   └── UnexpectedStatusError                 3xx/4xx without an Intacct XML error body
    ├── IntacctResponseError                      the answer cannot be used as it is
    │   ├── MalformedResponseError     transient  not XML, an HTML (CDN) page, truncated, wrong shape
    │   ├── UnsafeResponseError                   DOCTYPE / entity declarations (XXE, billion laughs)
    │   ├── ResponseTooLargeError                 more than max_response_bytes
    │   ├── MalformedRecordError                  XML fine, but a row cannot become a record
    │   └── UntrustedEndpointError                getAPISession named an endpoint that is not Intacct's
    ├── SchemaError                               the company's `lookup` lacks an object or required field
    └── IntacctServiceError                       Intacct answered with <errormessage>
        ├── ControlError                          control level: the request was refused whole
        │   └── RequestRejectedError              XL03000003 (our XML is not well formed), GW-0011
        ├── AuthenticationError                   credentials refused: fail fast, never retried
        │   ├── SenderAuthenticationError         XL03000006 "Incorrect Intacct XML Partner ID or password"
        │   ├── LoginFailedError                  XL03000006 "Sign-in information is incorrect", XMLGW_JPP0002
        │   ├── SenderNotAuthorizedError          XL03000006 "Invalid Web Services Authorization"
        │   └── CompanyExpiredError               PL04000055 demo company expired
        ├── InvalidSessionError                   XL03000006 "Invalid session": log in once, replay once
        ├── RateLimitError             transient  GW-0010, HTTP 429, "API rate limit exceeded"
        ├── ServiceUnavailableError    transient  "Temporarily Off-line", "Please Try Again Later"
        └── FunctionError                         one function of a request failed (has its controlid);
            │                                     the other functions' results are still usable
            ├── ResultIdExpiredError              "readMore failed": restart that query
            ├── FunctionAbortedError              status "aborted" (transaction rolled back)
            ├── UserFormattingRefusedError        the user's formatting (time zone) cannot be read
            ├── FunctionRateLimitError transient  also a RateLimitError
            └── FunctionUnavailableError transient  also a ServiceUnavailableError

The code ``XL03000006`` covers bad sender credentials, bad login, unauthorised sender, invalid
session and bad policy id alike, so `classify_errors` branches on the level *and* the text.
Messages are built from Intacct's texts after `clean_error_text`; callers must scrub secrets
from those texts first (`protocol.parse_response` does), so no message carries a password or a
session id.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import unquote

CONTROL = "control"
AUTHENTICATION = "authentication"
RESULT = "result"
HTTP = "http"


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One ``<error>`` entry of an ``<errormessage>``, its texts cleaned for display."""

    errorno: str | None = None
    description: str | None = None
    description2: str | None = None
    correction: str | None = None

    def summary(self) -> str:
        """The non-empty parts joined the way the official SDKs show them."""
        return " ".join(p for p in (self.errorno, self.description, self.description2, self.correction) if p)


class IntacctError(Exception):
    """Base of every Intacct client error; carries whatever Intacct told us about the failure."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        errorno: str | None = None,
        description: str | None = None,
        description2: str | None = None,
        correction: str | None = None,
        controlid: str | None = None,
        function: str | None = None,
        level: str | None = None,
        http_status: int | None = None,
        details: Sequence[ErrorDetail] = (),
        transient: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errorno = errorno
        self.description = description
        self.description2 = description2
        self.correction = correction
        self.controlid = controlid
        self.function = function
        self.level = level
        self.http_status = http_status
        self.details = tuple(details)
        self.retry_after = retry_after
        if transient is not None:
            self.transient = transient

    @property
    def code(self) -> str:
        """What statistics count this error under: Intacct's errorno, else the HTTP status or class."""
        if self.errorno:
            return self.errorno
        if self.http_status is not None:
            return f"HTTP {self.http_status}"
        return type(self).__name__

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# --- transport ---------------------------------------------------------------------------------


class IntacctTransportError(IntacctError):
    """The request did not get a usable HTTP answer (network, 5xx); a later retry may succeed."""

    transient = True


class IntacctTimeoutError(IntacctTransportError):
    """No complete answer arrived within the client's timeout."""


class UnexpectedStatusError(IntacctTransportError):
    """An HTTP status the gateway should not send (3xx, a 4xx without an Intacct error body)."""

    transient = False


# --- unusable responses ------------------------------------------------------------------------


class IntacctResponseError(IntacctError):
    """The gateway answered, but the answer cannot be used as it is."""


class MalformedResponseError(IntacctResponseError):
    """Not XML, an HTML error page, truncated, or XML of the wrong shape (retried once)."""

    transient = True


class UnsafeResponseError(IntacctResponseError):
    """The XML declares a DOCTYPE or entities (XXE, billion laughs): refused, never expanded."""


class ResponseTooLargeError(IntacctResponseError):
    """The answer exceeds max_response_bytes: refused before it can exhaust memory."""


class MalformedRecordError(IntacctResponseError):
    """The XML is fine, but a row's value cannot become a record field (bad number, bad date)."""


class UntrustedEndpointError(IntacctResponseError):
    """getAPISession returned an endpoint that is neither https on an Intacct host nor the configured
    gateway's own scheme and host: nothing (no password, no session) is sent there."""


class SchemaError(IntacctError):
    """The company's `lookup` shows it lacks an object or a required field the client reads; the
    correction names the permission or module to fix."""


# --- errors Intacct reported -------------------------------------------------------------------


class IntacctServiceError(IntacctError):
    """Intacct answered with an <errormessage> at control, authentication or result level."""


class ControlError(IntacctServiceError):
    """Control level: the gateway refused the whole request; no function ran."""


class RequestRejectedError(ControlError):
    """The gateway could not read our request (XL03000003, GW-0011): a bug on our side."""


class AuthenticationError(IntacctServiceError):
    """Credentials were refused. Fail fast: retrying risks locking the Web Services user out."""


class SenderAuthenticationError(AuthenticationError):
    """The Web Services sender id or sender password is wrong."""


class LoginFailedError(AuthenticationError):
    """The user id, company id or user password is wrong (or the user is locked or inactive)."""


class SenderNotAuthorizedError(AuthenticationError):
    """The sender id is not on the company's Web Services authorization list."""


class CompanyExpiredError(AuthenticationError):
    """The company (typically a demo/trial company) has expired."""


class InvalidSessionError(IntacctServiceError):
    """The session id was rejected (expired, revoked, other endpoint): log in once and replay."""


class RateLimitError(IntacctServiceError):
    """Intacct throttled us (GW-0010, HTTP 429, "API rate limit exceeded"): back off and retry."""

    transient = True


class ServiceUnavailableError(IntacctServiceError):
    """Intacct is off-line or asked us to try again later: back off and retry."""

    transient = True


class FunctionError(IntacctServiceError):
    """One function of a request failed; its controlid says which. Siblings may have succeeded."""


class ResultIdExpiredError(FunctionError):
    """readMore with an unknown or expired resultId: restart that query from its first page."""


class FunctionAbortedError(FunctionError):
    """The function was rolled back because a sibling failed inside a transaction."""


class UserFormattingRefusedError(FunctionError):
    """readByName USERINFO or readUserFormatting was refused, so the time zone of Intacct's
    timestamps is unknown; the correction names the permission and INTACCT_GMT_OFFSET."""


class FunctionRateLimitError(FunctionError, RateLimitError):
    """One function was refused by throttling."""

    transient = True


class FunctionUnavailableError(FunctionError, ServiceUnavailableError):
    """One function failed because Intacct was temporarily off-line."""

    transient = True


# --- mapping (the one place gateway answers become exception classes) --------------------------

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def clean_error_text(text: str | None) -> str | None:
    """Gateway text for display: markup stripped, entities and %XX decoded, spaces collapsed."""
    if text is None:
        return None
    # Entities can arrive double-encoded (&amp;#039;) and description2 ends in a URL-encoded
    # "[Support ID: …%7E…]"; the SDKs unescape, strip tags and URL-decode the same way.
    cleaned = html.unescape(html.unescape(text))
    cleaned = _TAG.sub(" ", cleaned)
    cleaned = unquote(cleaned)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned or None


_RATE_LIMIT_TEXT = "api rate limit exceeded"
_UNAVAILABLE_TEXTS = ("temporarily off-line", "temporarily offline", "please try again later")


def _texts(details: Sequence[ErrorDetail]) -> str:
    return " ".join(d.summary() for d in details).lower()


def classify_errors(
    level: str,
    details: Sequence[ErrorDetail],
    *,
    controlid: str | None = None,
    function: str | None = None,
    status: str | None = None,
    http_status: int | None = None,
) -> IntacctError:
    """Map the ``<error>`` entries found at one level (control, authentication, result) to a typed error."""
    details = tuple(details) or (ErrorDetail(description2=f"{level} failure without an error message"),)
    codes = {(d.errorno or "").strip().upper() for d in details}
    text = _texts(details)
    cls: type[IntacctError]
    if level == RESULT:
        cls = _classify_result(codes, text, status)
    elif level == AUTHENTICATION:
        cls = _classify_authentication(codes, text)
    else:
        cls = _classify_control(codes, text, http_status)
    first = details[0]
    where = f" [{level}" + (f" {function}" if function else "") + (f" controlid={controlid}" if controlid else "") + "]"
    message = "; ".join(d.summary() for d in details) + where
    return cls(
        message,
        errorno=first.errorno,
        description=first.description,
        description2=first.description2,
        correction=first.correction,
        controlid=controlid,
        function=function,
        level=level,
        http_status=http_status,
        details=details,
    )


def _classify_result(codes: set[str], text: str, status: str | None) -> type[IntacctError]:
    if status == "aborted":
        return FunctionAbortedError
    if "READMORE FAILED" in codes or "invalid or expired resultid" in text:
        return ResultIdExpiredError
    if "GW-0010" in codes or _RATE_LIMIT_TEXT in text:
        return FunctionRateLimitError
    if any(t in text for t in _UNAVAILABLE_TEXTS):
        return FunctionUnavailableError
    return FunctionError


def _classify_authentication(codes: set[str], text: str) -> type[IntacctError]:
    if "GW-0010" in codes or _RATE_LIMIT_TEXT in text:
        return RateLimitError
    if any(t in text for t in _UNAVAILABLE_TEXTS):
        return ServiceUnavailableError
    if "invalid session" in text:
        return InvalidSessionError
    if "web services authorization" in text or "not authorized" in text:
        return SenderNotAuthorizedError
    if "partner id" in text:
        return SenderAuthenticationError
    if "PL04000055" in codes or ("demo company" in text and "expired" in text):
        return CompanyExpiredError
    if "sign-in information" in text or "XL03000006" in codes or "XMLGW_JPP0002" in codes:
        return LoginFailedError
    return AuthenticationError


def _classify_control(codes: set[str], text: str, http_status: int | None) -> type[IntacctError]:
    if "GW-0010" in codes or http_status == 429 or _RATE_LIMIT_TEXT in text:
        return RateLimitError
    if any(t in text for t in _UNAVAILABLE_TEXTS):
        return ServiceUnavailableError
    if "XL03000003" in codes or "GW-0011" in codes:
        return RequestRejectedError
    if "PL04000055" in codes or ("demo company" in text and "expired" in text):
        return CompanyExpiredError
    if "XMLGW_JPP0002" in codes or "sign-in information" in text:
        return LoginFailedError
    if "XL03000006" in codes:
        if "partner id" in text:
            return SenderAuthenticationError
        if "web services authorization" in text or "not authorized" in text:
            return SenderNotAuthorizedError
        if "invalid session" in text:
            return InvalidSessionError
    # Anything else refused the request as a whole (e.g. a bad transport policy id).
    return ControlError
