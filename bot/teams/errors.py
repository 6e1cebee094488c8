"""The one error tree for the Bot Connector, and the one function that maps upstream errors into it.

    ConnectorError                          base: .status .code .operation + what the caller must do
    ├── ConnectorConfigError                config_error: fix settings or payload; never retry
    │   ├── BadArgumentError                400 BadArgument (and any other 400)
    │   ├── BotNotRegisteredError           401 BotNotRegistered (and any other 401)
    │   ├── InvalidBotApiHostError          403 InvalidBotApiHost (GCC tenant called on the public host)
    │   ├── ConnectorAuthError              no token for the bot (Entra refused the app id / secret)
    │   └── InvalidReferenceError           a stored conversation reference is unusable
    ├── RouteGoneError                      route_gone: stop posting to that conversation
    │   ├── BotNotInConversationRosterError 403 (app uninstalled / bot removed from the team)
    │   ├── BotDisabledByAdminError         403 (tenant admin blocked the app)
    │   ├── ConversationBlockedByUserError  403 (a user blocked the bot)
    │   └── ConversationNotFoundError       404 (conversation unknown or deleted, e.g. channel deleted)
    ├── ForbiddenError                      any other 403: not allowed; don't retry
    │   ├── NotEnoughPermissionsError       403 NotEnoughPermissions
    │   └── ForbiddenOperationError         403 ForbiddenOperationException
    ├── NotFoundError                       404 with a code Teams does not document
    ├── ActivityNotFoundError               404 ActivityNotFoundInConversation: card_gone, post anew
    ├── MessageTooLargeError                413 MessageSizeTooBig: too_large, shrink the card
    ├── TransientConnectorError             retryable: back off and try again
    │   ├── PreconditionFailedError         412 PreconditionFailed (concurrent operations)
    │   ├── ThrottledError                  429 Throttled, with .retry_after seconds when Teams said
    │   ├── BadGatewayError                 502 ServiceError (dependency failure)
    │   ├── ServiceUnavailableError         503
    │   ├── GatewayTimeoutError             504 (maybe_delivered)
    │   └── ConnectorNetworkError           no HTTP answer: DNS, refused, reset, timeout (maybe_delivered)
    ├── ServiceInternalError                500 ServiceError: Microsoft says don't retry; report it
    └── UnexpectedConnectorError            anything else (other statuses, unreadable answers)

Each class answers the caller's question "what now?" with flags: `retryable`, `route_gone`,
`card_gone`, `too_large`, `config_error`, and `maybe_delivered` (the request may have reached Teams
although no success came back — a blind retry of a post can duplicate it). The status decides the
family; the Teams error code refines it within the status. `map_connector_error` is the only place
that reads upstream exceptions; it duck-types them (no botbuilder import here) so a later port to
the Microsoft 365 Agents SDK changes only the attribute reads. Messages carry the status, the Teams
code and Teams' own message (capped), never request headers or credentials.
"""

from __future__ import annotations

import asyncio
import email.utils
from datetime import datetime, timezone
from typing import Any, Mapping

import aiohttp

_MAX_DETAIL = 300  # characters of Teams' message kept in ours: enough to diagnose, bounded in logs


class ConnectorError(Exception):
    """Base of every Bot Connector failure; the flags say what the caller must do."""

    retryable = False
    route_gone = False
    card_gone = False
    too_large = False
    config_error = False
    maybe_delivered = False

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        operation: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.detail = _cap(detail)
        self.status = status
        self.code = code
        self.operation = operation
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [self.operation] if self.operation else []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        return f"{head}: {self.detail}" if head else self.detail


class ConnectorConfigError(ConnectorError):
    """The bot's configuration or payload is wrong; retrying cannot help."""

    config_error = True


class BadArgumentError(ConnectorConfigError):
    """400: Teams rejected the payload as malformed."""


class BotNotRegisteredError(ConnectorConfigError):
    """401: Teams does not know this bot, or its app id / secret are wrong."""


class InvalidBotApiHostError(ConnectorConfigError):
    """403 InvalidBotApiHost: a GCC tenant was called on the public host (use its serviceUrl)."""


class ConnectorAuthError(ConnectorConfigError):
    """No access token for the bot: Entra refused the app id, secret or tenant."""


class InvalidReferenceError(ConnectorConfigError):
    """A stored conversation reference lacks what a send needs (serviceUrl, conversation id)."""


class RouteGoneError(ConnectorError):
    """The conversation no longer accepts the bot's posts: stop posting there until reinstalled."""

    route_gone = True


class BotNotInConversationRosterError(RouteGoneError):
    """403: the bot was removed from the team or the app uninstalled."""


class BotDisabledByAdminError(RouteGoneError):
    """403: a tenant admin blocked the app."""


class ConversationBlockedByUserError(RouteGoneError):
    """403: the user blocked the bot."""


class ConversationNotFoundError(RouteGoneError):
    """404: the conversation is unknown or was deleted (e.g. the channel was deleted)."""


class ForbiddenError(ConnectorError):
    """403: the operation is not allowed; retrying cannot help."""


class NotEnoughPermissionsError(ForbiddenError):
    """403 NotEnoughPermissions: e.g. editing a message the bot did not post."""


class ForbiddenOperationError(ForbiddenError):
    """403 ForbiddenOperationException: e.g. a proactive 1:1 to a user who never installed the app."""


class NotFoundError(ConnectorError):
    """404 with a code Teams does not document: neither the conversation nor the card is known gone."""


class ActivityNotFoundError(ConnectorError):
    """404 ActivityNotFoundInConversation: the message was deleted; forget its id and post anew."""

    card_gone = True


class MessageTooLargeError(ConnectorError):
    """413 MessageSizeTooBig: the message (card included) is over Teams' ~28 KB; shrink or split it."""

    too_large = True


class TransientConnectorError(ConnectorError):
    """A failure that may pass: back off (exponentially, with jitter) and try again."""

    retryable = True


class PreconditionFailedError(TransientConnectorError):
    """412: concurrent operations on the same conversation."""


class ThrottledError(TransientConnectorError):
    """429: over Teams' rate limit; wait `retry_after` seconds when given, else back off."""


class BadGatewayError(TransientConnectorError):
    """502: a Teams dependency failed."""


class ServiceUnavailableError(TransientConnectorError):
    """503: Teams is unavailable for now."""


class GatewayTimeoutError(TransientConnectorError):
    """504: Teams timed out; the message may nevertheless have been delivered."""

    maybe_delivered = True


class ConnectorNetworkError(TransientConnectorError):
    """No HTTP answer (DNS, refused, reset, timeout); the request may have reached Teams."""

    maybe_delivered = True


class ServiceInternalError(ConnectorError):
    """500: an internal Teams error; Microsoft's table says don't retry, so report it."""


class UnexpectedConnectorError(ConnectorError):
    """Anything the Teams table does not describe; retryable only for 408 and unknown 5xx."""

    def __init__(self, detail: str, *, maybe_delivered: bool = False, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        status = self.status
        # An unknown 5xx (proxies invent 520-530) is most likely passing; 501/505 never will.
        self.retryable = status == 408 or (status is not None and status >= 500 and status not in (501, 505))
        self.maybe_delivered = maybe_delivered


# (status, Teams code) → class; a code Teams does not document falls back to _BY_STATUS.
_BY_STATUS_AND_CODE: dict[tuple[int, str], type[ConnectorError]] = {
    (400, "BadArgument"): BadArgumentError,
    (401, "BotNotRegistered"): BotNotRegisteredError,
    (403, "BotNotInConversationRoster"): BotNotInConversationRosterError,
    (403, "BotDisabledByAdmin"): BotDisabledByAdminError,
    (403, "ConversationBlockedByUser"): ConversationBlockedByUserError,
    (403, "InvalidBotApiHost"): InvalidBotApiHostError,
    (403, "NotEnoughPermissions"): NotEnoughPermissionsError,
    (403, "ForbiddenOperationException"): ForbiddenOperationError,
    (404, "ConversationNotFound"): ConversationNotFoundError,
    (404, "ActivityNotFoundInConversation"): ActivityNotFoundError,
}
_BY_STATUS: dict[int, type[ConnectorError]] = {
    400: BadArgumentError,
    401: BotNotRegisteredError,
    403: ForbiddenError,
    404: NotFoundError,
    412: PreconditionFailedError,
    413: MessageTooLargeError,
    429: ThrottledError,
    500: ServiceInternalError,
    502: BadGatewayError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}


def map_connector_error(
    exc: BaseException, *, operation: str | None = None, now: datetime | None = None
) -> ConnectorError:
    """Translate whatever the Bot Connector client raised into the tree above (never raises).

    Reads an HTTP error the way botbuilder's `ErrorResponseException` carries it
    (`exc.response.status_code`, `exc.response.headers`, `exc.error.error.code` / `.message`);
    recognises network failures (OSError — which includes `requests` errors and timeouts —,
    aiohttp client errors, asyncio timeouts) anywhere in the exception's chain, and a refused
    token request (the `PermissionError` botbuilder raises). `now` (aware) resolves a Retry-After
    given as an HTTP date; without it the wall clock is read.
    """
    if isinstance(exc, ConnectorError):
        return exc
    status = _status_of(exc)
    if status is not None:
        code, message = _teams_error_of(exc)
        cls = _BY_STATUS_AND_CODE.get((status, code or "")) or _BY_STATUS.get(status, UnexpectedConnectorError)
        retry_after = _retry_after_of(exc, now) if status in (429, 503) else None
        return cls(message or _reason_of(exc, status), status=status, code=code, operation=operation, retry_after=retry_after)
    for link in _chain(exc):
        if isinstance(link, PermissionError):
            # botbuilder's "Failed to get access token" (Entra said no); checked before OSError,
            # whose subclass it is, because retrying a refused secret only risks a lock-out.
            return ConnectorAuthError(str(link), operation=operation)
    for link in _chain(exc):
        if _is_network_error(link):
            return ConnectorNetworkError(f"{type(link).__name__}: {link}", operation=operation)
    return UnexpectedConnectorError(f"{type(exc).__name__}: {exc}", operation=operation)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as such
            moment = moment.replace(tzinfo=timezone.utc)
        seconds = (moment - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / infinities
        return None
    return max(0.0, seconds)


def _status_of(exc: BaseException) -> int | None:
    if isinstance(exc, aiohttp.ClientResponseError):  # an aiohttp-based SDK's HTTP errors
        return exc.status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", None)  # aiohttp-style responses
    return status if isinstance(status, int) else None


def _teams_error_of(exc: BaseException) -> tuple[str | None, str | None]:
    # ErrorResponseException.error is an ErrorResponse whose .error holds code and message; when
    # the body was not Teams JSON, msrest leaves an HTTPError there instead.
    inner = getattr(getattr(exc, "error", None), "error", None)
    code = getattr(inner, "code", None)
    message = getattr(inner, "message", None)
    return (code if isinstance(code, str) and code else None, message if isinstance(message, str) else None)


def _reason_of(exc: BaseException, status: int) -> str:
    reason = getattr(getattr(exc, "response", None), "reason", None)
    return str(reason) if reason else f"HTTP {status} without a Teams error body"


def _retry_after_of(exc: BaseException, now: datetime | None) -> float | None:
    headers = getattr(exc, "headers", None) if isinstance(exc, aiohttp.ClientResponseError) else None
    headers = headers if headers is not None else getattr(getattr(exc, "response", None), "headers", None)
    if not isinstance(headers, Mapping):
        return None
    value = headers.get("Retry-After")
    if value is None:  # requests' headers are case-insensitive; a plain dict may not be
        value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    return parse_retry_after(value, now)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, msrest's `inner_exception`, and the __cause__/__context__ chain (no loops)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        link = pending.pop(0)
        if link is None or any(link is s for s in seen):
            continue
        seen.append(link)
        inner = getattr(link, "inner_exception", None)
        pending.extend([inner if isinstance(inner, BaseException) else None, link.__cause__, link.__context__])
    return seen


def _is_network_error(exc: BaseException) -> bool:
    # requests' exceptions subclass OSError, so msrest's wrapped transport errors land here too.
    return isinstance(exc, (OSError, asyncio.TimeoutError, aiohttp.ClientError))


def _cap(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
