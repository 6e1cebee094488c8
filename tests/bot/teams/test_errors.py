"""The Bot Connector error tree: every row of Teams' status table (read from the shared doc) maps to
its own class with the right flags; network, auth and unknown failures map too."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
import requests
from msrest.exceptions import ClientRequestError

from bot.teams import errors
from bot.teams.errors import map_connector_error, parse_retry_after
from tests.bot.conftest import CHANNEL_ID

# What each row of teams-bot-and-graph.md §1.9 must become. A row added to the doc without an
# entry here fails test_the_doc_table_and_this_mapping_list_the_same_rows.
EXPECTED: dict[tuple[int, str | None], type[errors.ConnectorError]] = {
    (400, "BadArgument"): errors.BadArgumentError,
    (401, "BotNotRegistered"): errors.BotNotRegisteredError,
    (403, "BotNotInConversationRoster"): errors.BotNotInConversationRosterError,
    (403, "BotDisabledByAdmin"): errors.BotDisabledByAdminError,
    (403, "ConversationBlockedByUser"): errors.ConversationBlockedByUserError,
    (403, "InvalidBotApiHost"): errors.InvalidBotApiHostError,
    (403, "NotEnoughPermissions"): errors.NotEnoughPermissionsError,
    (403, "ForbiddenOperationException"): errors.ForbiddenOperationError,
    (404, "ConversationNotFound"): errors.ConversationNotFoundError,
    (404, "ActivityNotFoundInConversation"): errors.ActivityNotFoundError,
    (412, "PreconditionFailed"): errors.PreconditionFailedError,
    (413, "MessageSizeTooBig"): errors.MessageTooLargeError,
    (429, "Throttled"): errors.ThrottledError,
    (500, "ServiceError"): errors.ServiceInternalError,
    (502, "ServiceError"): errors.BadGatewayError,
    (503, None): errors.ServiceUnavailableError,
    (504, None): errors.GatewayTimeoutError,
}
# Classes that only catch what the table does not name: a table row must never land on one.
GENERIC = {
    errors.ConnectorError,
    errors.ConnectorConfigError,
    errors.RouteGoneError,
    errors.ForbiddenError,
    errors.NotFoundError,
    errors.TransientConnectorError,
    errors.UnexpectedConnectorError,
}
FLAGS = ("retryable", "route_gone", "card_gone", "too_large", "config_error")
# The "what the bot should do" column, as flags.
EXPECTED_FLAGS = {
    errors.BadArgumentError: {"config_error"},
    errors.BotNotRegisteredError: {"config_error"},
    errors.InvalidBotApiHostError: {"config_error"},
    errors.BotNotInConversationRosterError: {"route_gone"},
    errors.BotDisabledByAdminError: {"route_gone"},
    errors.ConversationBlockedByUserError: {"route_gone"},
    errors.ConversationNotFoundError: {"route_gone"},
    errors.NotEnoughPermissionsError: set(),
    errors.ForbiddenOperationError: set(),
    errors.ActivityNotFoundError: {"card_gone"},
    errors.PreconditionFailedError: {"retryable"},
    errors.MessageTooLargeError: {"too_large"},
    errors.ThrottledError: {"retryable"},
    errors.ServiceInternalError: set(),
    errors.BadGatewayError: {"retryable"},
    errors.ServiceUnavailableError: {"retryable"},
    errors.GatewayTimeoutError: {"retryable"},
}


def doc_table(fixtures_dir: Path) -> list[tuple[int, str | None]]:
    """The (status, code) rows of Microsoft's table (tests/fixtures/teams-samples/connector-status-codes.md)."""
    text = (fixtures_dir / "teams-samples" / "connector-status-codes.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        match = re.match(r"^\|\s*(\d{3})\s*\|\s*([^|]*?)\s*\|", line)
        if match:
            code = match.group(2).strip("` ")
            rows.append((int(match.group(1)), None if code in ("—", "-", "") else code))
    return rows


def test_the_doc_table_and_this_mapping_list_the_same_rows(fixtures_dir: Path):
    rows = doc_table(fixtures_dir)

    assert len(rows) >= 17, "the status table was not found"
    assert sorted(rows, key=str) == sorted(EXPECTED, key=str)


async def test_every_row_of_the_teams_table_maps_to_its_own_class(fixtures_dir: Path, teams, fake, channel_ref):
    for status, code in doc_table(fixtures_dir):
        fake.fail_next(status, code, conversation_id=CHANNEL_ID)

        with pytest.raises(errors.ConnectorError) as caught:
            await teams.send(channel_ref, text="x")

        error = caught.value
        assert type(error) is EXPECTED[(status, code)], (status, code)
        assert type(error) not in GENERIC, (status, code)
        assert {flag for flag in FLAGS if getattr(error, flag)} == EXPECTED_FLAGS[type(error)], (status, code)
        assert (error.status, error.code) == (status, code)
        assert str(status) in str(error)


def test_only_504_and_network_errors_may_have_been_delivered():
    maybe = {cls for cls in EXPECTED_FLAGS if cls.maybe_delivered}

    assert maybe == {errors.GatewayTimeoutError}
    assert errors.ConnectorNetworkError.maybe_delivered


@pytest.mark.parametrize(
    ("status", "code", "expected", "retryable"),
    [
        (400, "BadSyntax", errors.BadArgumentError, False),
        (401, None, errors.BotNotRegisteredError, False),
        (403, "SomethingNew", errors.ForbiddenError, False),
        (404, "MemberNotFoundInConversation", errors.NotFoundError, False),
        (408, None, errors.UnexpectedConnectorError, True),
        (409, "Conflict", errors.UnexpectedConnectorError, False),
        (501, "DeleteActivityAPINotImplemented", errors.UnexpectedConnectorError, False),
        (520, None, errors.UnexpectedConnectorError, True),
    ],
)
async def test_statuses_and_codes_outside_the_table(teams, fake, channel_ref, status, code, expected, retryable):
    fake.fail_next(status, code)

    with pytest.raises(errors.ConnectorError) as caught:
        await teams.send(channel_ref, text="x")

    assert type(caught.value) is expected
    assert caught.value.retryable is retryable
    assert not caught.value.route_gone and not caught.value.card_gone


# --- failures without an HTTP answer ---------------------------------------------------------


def test_a_wrapped_requests_connection_error_is_a_network_error():
    try:
        raise requests.ConnectionError("Connection refused")
    except requests.ConnectionError as inner:
        wrapped = ClientRequestError("Error occurred in request.", inner_exception=inner)

    error = map_connector_error(wrapped, operation="send")

    assert type(error) is errors.ConnectorNetworkError
    assert error.retryable and error.maybe_delivered
    assert "ConnectionError" in str(error)


@pytest.mark.parametrize(
    "exc", [aiohttp.ClientConnectionError("reset"), asyncio.TimeoutError(), ConnectionResetError(104, "reset"), requests.ReadTimeout("slow")]
)
def test_transport_failures_are_network_errors(exc):
    assert type(map_connector_error(exc)) is errors.ConnectorNetworkError


def test_an_aiohttp_status_error_keeps_its_status_and_retry_after():
    from multidict import CIMultiDict

    throttled = aiohttp.ClientResponseError(None, (), status=429, message="Too Many Requests", headers=CIMultiDict({"Retry-After": "4"}))

    error = map_connector_error(throttled)

    assert type(error) is errors.ThrottledError
    assert error.retry_after == 4.0


def test_a_network_error_found_down_the_cause_chain():
    try:
        try:
            raise OSError("no route to host")
        except OSError as cause:
            raise RuntimeError("wrapped") from cause
    except RuntimeError as outer:
        assert type(map_connector_error(outer)) is errors.ConnectorNetworkError


def test_a_refused_token_is_a_config_error_not_a_network_error():
    # botbuilder's MicrosoftAppCredentials raises PermissionError (an OSError) when Entra says no.
    refused = PermissionError("Failed to get access token with error: invalid_client, error_description: AADSTS7000215")

    error = map_connector_error(refused, operation="create_thread")

    assert type(error) is errors.ConnectorAuthError
    assert error.config_error and not error.retryable


def test_anything_else_is_unexpected_and_not_retried():
    error = map_connector_error(ValueError("odd"))

    assert type(error) is errors.UnexpectedConnectorError
    assert not error.retryable and not error.maybe_delivered


def test_a_connector_error_passes_through_unchanged():
    original = errors.ThrottledError("slow down", status=429, retry_after=3)

    assert map_connector_error(original) is original


def test_long_upstream_messages_are_capped():
    error = errors.BadArgumentError("x" * 5000, status=400, code="BadArgument")

    assert len(str(error)) < 350


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("Mon, 23 Nov 2026 14:01:00 GMT", 60.0),
        ("Mon, 23 Nov 2026 13:59:00 GMT", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(header, seconds, clock):
    assert parse_retry_after(header, clock()) == seconds
