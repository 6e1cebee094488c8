"""The error tree: every gateway answer maps to its class in one place, texts are cleaned for display."""

from __future__ import annotations

import copy
import inspect

import pytest

from intacct import errors as e
from intacct.errors import AUTHENTICATION, CONTROL, RESULT, ErrorDetail, classify_errors, clean_error_text

# (level, errorno, description, description2, correction, result status, http status) → class.
# Rows beyond the samples (those are in test_samples.py): the catalogue of intacct-xml-api.md §6.
TABLE = [
    (CONTROL, "GW-0010", "", "Too many concurrent requests", "", None, 429, e.RateLimitError),
    (CONTROL, "GW-0010", "", "", "", None, 200, e.RateLimitError),
    (CONTROL, "XYZ", "", "API rate limit exceeded", "", None, 200, e.RateLimitError),
    (CONTROL, "", "", "The Service is Temporarily Off-line", "", None, 200, e.ServiceUnavailableError),
    (CONTROL, "XL03000099", "", "Busy", "Please Try Again Later", None, 200, e.ServiceUnavailableError),
    (CONTROL, "GW-0011", "Invalid Request", "", "", None, 400, e.RequestRejectedError),
    (CONTROL, "XL03000003", "", "XML Parse schema error", "", None, 200, e.RequestRejectedError),
    (CONTROL, "XMLGW_JPP0002", "Sign-in information is incorrect.", "", "", None, 401, e.LoginFailedError),
    (CONTROL, "XL03000006", "", "Incorrect Intacct XML Partner ID or password.", "", None, 200, e.SenderAuthenticationError),
    (CONTROL, "XL03000006", "", "Invalid session", "", None, 200, e.InvalidSessionError),
    (CONTROL, "PL04000055", "", "This company is a demo company and has expired.", "", None, 200, e.CompanyExpiredError),
    (CONTROL, "XL03000006", "", "x is not a valid transport policy.", "", None, 200, e.ControlError),
    (AUTHENTICATION, "XL03000006", "", "Invalid session q....", "", None, 200, e.InvalidSessionError),
    (AUTHENTICATION, "XL03000006", "", "Sign-in information is incorrect", "", None, 200, e.LoginFailedError),
    (AUTHENTICATION, "XL03000006", "Invalid Web Services Authorization", "", "", None, 200, e.SenderNotAuthorizedError),
    (AUTHENTICATION, "XL03000006", "", "Incorrect Intacct XML Partner ID or password.", "", None, 200, e.SenderAuthenticationError),
    (AUTHENTICATION, "GW-0010", "", "", "", None, 200, e.RateLimitError),
    (AUTHENTICATION, "XL99", "", "Something new", "", None, 200, e.AuthenticationError),
    (RESULT, "readMore failed", "", "Attempt to readMore with an invalid or expired resultId: 1", "", "failure", None, e.ResultIdExpiredError),
    (RESULT, "XL03000009", "", "The entire transaction … rolled back", "", "aborted", None, e.FunctionAbortedError),
    (RESULT, "GW-0010", "", "", "", "failure", None, e.FunctionRateLimitError),
    (RESULT, "BL01001973", "", "The Service is Temporarily Off-line", "", "failure", None, e.FunctionUnavailableError),
    (RESULT, "PL04000005", "", "You do not have permission for API operation READ_BY_QUERY", "", "failure", None, e.FunctionError),
    (RESULT, "Query Failed", "", "Object definition BADOBJECT not found", "", "failure", None, e.FunctionError),
]


@pytest.mark.parametrize("level, errorno, description, description2, correction, status, http_status, expected", TABLE)
def test_gateway_errors_map_to_their_class(level, errorno, description, description2, correction, status, http_status, expected) -> None:
    detail = ErrorDetail(errorno or None, description or None, description2 or None, correction or None)
    error = classify_errors(level, [detail], controlid="c1", function="readByQuery", status=status, http_status=http_status)
    assert type(error) is expected
    assert error.errorno == (errorno or None) and error.controlid == "c1" and error.level == level


@pytest.mark.parametrize(
    "cls, transient",
    [
        (e.IntacctTransportError, True),
        (e.IntacctTimeoutError, True),
        (e.UnexpectedStatusError, False),
        (e.MalformedResponseError, True),
        (e.UnsafeResponseError, False),
        (e.ResponseTooLargeError, False),
        (e.MalformedRecordError, False),
        (e.ControlError, False),
        (e.AuthenticationError, False),
        (e.LoginFailedError, False),
        (e.InvalidSessionError, False),
        (e.RateLimitError, True),
        (e.ServiceUnavailableError, True),
        (e.FunctionError, False),
        (e.ResultIdExpiredError, False),
        (e.FunctionAbortedError, False),
        (e.FunctionRateLimitError, True),
        (e.FunctionUnavailableError, True),
    ],
)
def test_transient_flags(cls: type[e.IntacctError], transient: bool) -> None:
    assert cls("x").transient is transient


def test_result_level_throttling_is_both_a_function_error_and_a_rate_limit() -> None:
    error = classify_errors(RESULT, [ErrorDetail("GW-0010")], controlid="f1", status="failure")
    assert isinstance(error, e.FunctionError) and isinstance(error, e.RateLimitError)


def test_every_error_class_is_drawn_in_the_module_docstring() -> None:
    doc = e.__doc__ or ""
    classes = [obj for _, obj in inspect.getmembers(e, inspect.isclass) if issubclass(obj, e.IntacctError)]
    assert len(classes) >= 20
    for cls in classes:
        assert cls.__name__ in doc, f"{cls.__name__} is missing from the tree in intacct/errors.py"
        assert cls.__name__.endswith("Error") and cls.__doc__


def test_message_names_level_function_and_controlid_and_all_entries() -> None:
    error = classify_errors(
        RESULT, [ErrorDetail("E1", None, "first"), ErrorDetail("E2", "two", None, "fix it")], controlid="abc", function="readMore", status="failure"
    )
    assert str(error) == "E1 first; E2 two fix it [result readMore controlid=abc]"
    assert repr(error) == "FunctionError('E1 first; E2 two fix it [result readMore controlid=abc]')"
    assert error.code == "E1"


def test_an_empty_errormessage_still_makes_a_typed_error() -> None:
    error = classify_errors(CONTROL, [])
    assert type(error) is e.ControlError and "without an error message" in str(error)


def test_copies_keep_every_attribute() -> None:
    original = classify_errors(AUTHENTICATION, [ErrorDetail("XL03000006", None, "Sign-in information is incorrect")], controlid="r1")
    clone = copy.copy(original)
    assert type(clone) is e.LoginFailedError and clone.errorno == "XL03000006" and clone.controlid == "r1" and str(clone) == str(original)


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("The sender ID &#039;abc&#039; is not authorized", "The sender ID 'abc' is not authorized"),
        ("double &amp;#039;encoded&amp;#039;", "double 'encoded'"),
        ("Failed [Support ID: abc%7Edef%40ghi]", "Failed [Support ID: abc~def@ghi]"),
        ("<b>Bold</b> and <br/>broken", "Bold and broken"),
        ("  spaced\n\tout  ", "spaced out"),
        ("", None),
        (None, None),
    ],
)
def test_error_text_is_cleaned_like_the_sdks(raw: str | None, shown: str | None) -> None:
    assert clean_error_text(raw) == shown
