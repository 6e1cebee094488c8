"""The error mapping: every Graph status and every Entra code we know lands on its own class."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from graph.errors import (
    GraphAuthError,
    GraphConsentError,
    GraphError,
    GraphNotFoundError,
    GraphPermissionError,
    GraphRequestError,
    GraphThrottledError,
    GraphTransientError,
    GraphUnknownClientError,
    GraphUnknownTenantError,
    GraphValidationError,
    GraphWrongSecretError,
    error_from_response,
    error_from_token_result,
    parse_retry_after,
)

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)

# The statuses Graph documents for the calls we make, and what each must become.
STATUS_TABLE = [
    (400, GraphValidationError, False),
    (401, GraphAuthError, False),
    (403, GraphPermissionError, False),
    (404, GraphNotFoundError, False),
    (405, GraphRequestError, False),
    (409, GraphRequestError, False),
    (412, GraphRequestError, False),
    (413, GraphRequestError, False),
    (429, GraphThrottledError, True),
    (500, GraphTransientError, True),
    (501, GraphTransientError, True),
    (502, GraphTransientError, True),
    (503, GraphThrottledError, True),
    (504, GraphThrottledError, True),
    (507, GraphTransientError, True),
    (509, GraphTransientError, True),
]

TOKEN_TABLE = [
    ({"error": "invalid_client", "error_codes": [7000215]}, GraphWrongSecretError),
    ({"error": "invalid_client", "error_codes": [7000222]}, GraphWrongSecretError),
    ({"error": "invalid_request", "error_codes": [90002]}, GraphUnknownTenantError),
    ({"error": "invalid_request", "error_codes": [900023]}, GraphUnknownTenantError),
    ({"error": "unauthorized_client", "error_codes": [700016]}, GraphUnknownClientError),
    ({"error": "invalid_client", "error_codes": [7000229]}, GraphConsentError),
    ({"error": "invalid_grant", "error_codes": [65001]}, GraphConsentError),
    ({"error": "invalid_resource", "error_codes": [500011]}, GraphConsentError),
    ({"error": "temporarily_unavailable"}, GraphTransientError),
    ({"error": "server_error"}, GraphTransientError),
    ({"error": "invalid_scope", "error_codes": [70011]}, GraphAuthError),
]


def _graph_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "innerError": {"request-id": "req-1"}}}).encode()


@pytest.mark.parametrize(("status", "expected", "transient"), STATUS_TABLE)
def test_each_status_maps_to_its_class(status: int, expected: type[GraphError], transient: bool):
    error = error_from_response(status, _graph_body("Code", "text"), {}, method="GET", path="/x", now=NOW)

    assert type(error) is expected
    assert error.transient is transient
    assert error.status == status
    assert error.request_id == "req-1"


def test_no_error_status_falls_through_to_the_base_class():
    unmapped = [
        status for status in range(400, 600)
        if type(error_from_response(status, b"", {}, method="GET", path="/x", now=NOW)) is GraphError
    ]
    assert unmapped == []


@pytest.mark.parametrize(("result", "expected"), TOKEN_TABLE)
def test_each_entra_error_maps_to_its_class(result: dict, expected: type[GraphError]):
    error = error_from_token_result(result, tenant_id="t", client_id="c")
    assert type(error) is expected


def test_aadsts_code_in_the_description_is_enough():
    error = error_from_token_result(
        {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: x"},
        tenant_id="t", client_id="c",
    )
    assert isinstance(error, GraphWrongSecretError)
    assert error.code == "AADSTS7000215"


def test_403_names_graphs_required_permission_when_the_call_does_not():
    body = _graph_body("Forbidden", "Missing role permissions on the request. API requires one of "
                                    "'TeamMember.Read.All, TeamMember.ReadWrite.All'. Roles on the request ''.")

    error = error_from_response(403, body, {}, method="GET", path="/teams/x/members", now=NOW)

    assert isinstance(error, GraphPermissionError)
    assert error.permission == "TeamMember.Read.All"
    assert "application permission TeamMember.Read.All" in str(error)


def test_long_upstream_text_is_cut():
    error = error_from_response(400, _graph_body("BadRequest", "x" * 5000), {}, method="GET", path="/x", now=NOW)
    assert len(str(error)) < 400


def test_retry_after_forms():
    assert parse_retry_after("12", now=NOW) == 12.0
    assert parse_retry_after("1.5", now=NOW) == 1.5
    assert parse_retry_after("Mon, 23 Nov 2026 14:00:30 GMT", now=NOW) == 30.0
    assert parse_retry_after("Mon, 23 Nov 2026 13:00:00 GMT", now=NOW) == 0.0  # in the past: no wait
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_retry_after_header_reaches_the_throttled_error():
    error = error_from_response(429, b"", {"Retry-After": "9"}, method="GET", path="/x", now=NOW)
    assert isinstance(error, GraphThrottledError)
    assert error.retry_after == 9.0
