"""Logging: JSON lines when asked, structured fields kept, registered secrets masked everywhere."""

from __future__ import annotations

import io
import json
import logging

import pytest

from observability.logs import SecretMasker, configure_logging


pytestmark = pytest.mark.usefixtures("restore_root_logger")


def test_json_lines_carry_the_message_level_and_structured_fields():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    logging.getLogger("mlc.poller").info("poll %s ok", "DEMO-CO", extra={"company": "DEMO-CO", "job": "poll"})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "poll DEMO-CO ok" and entry["level"] == "INFO" and entry["logger"] == "mlc.poller"
    assert entry["company"] == "DEMO-CO" and entry["job"] == "poll" and entry["time"].endswith("+00:00")


def test_text_lines_for_people():
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    logging.getLogger("mlc").warning("channel gone", extra={"channel": "19:x"})
    line = stream.getvalue().splitlines()[-1]
    assert "WARNING" in line and "mlc: channel gone" in line and "channel=19:x" in line


def test_a_value_with_line_breaks_cannot_forge_a_text_line_but_a_traceback_keeps_its_lines():
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    forged = "x\r\n2026-12-07 00:00:00,000 INFO    mlc: all is well"
    logging.getLogger("mlc").warning("refused tenant %s", forged, extra={"channel": "a\nb"})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("mlc").exception("failed")
    lines = stream.getvalue().splitlines()
    assert len([line for line in lines if "mlc:" in line]) == 2
    assert lines[0].endswith("refused tenant x\\r\\n2026-12-07 00:00:00,000 INFO    mlc: all is well channel=a\\nb")
    assert lines[1].endswith("mlc: failed") and lines[2] == "Traceback (most recent call last):"


def test_registered_secrets_are_masked_in_messages_fields_and_tracebacks():
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream, secrets=["hunter2-password", "abc"])
    log = logging.getLogger("mlc.test")
    log.info("login with %s", "hunter2-password", extra={"detail": "pw=hunter2-password"})
    try:
        raise RuntimeError("upstream said hunter2-password was wrong")
    except RuntimeError:
        log.exception("failed")
    text = stream.getvalue()
    assert "hunter2-password" not in text and text.count("********") >= 3


def test_values_too_short_to_be_secrets_are_not_masked():
    masker = SecretMasker()
    masker.register(["abc", "", "long-enough-secret"])
    assert masker.mask("abc and long-enough-secret") == "abc and ********"


def test_configuring_twice_keeps_one_handler():
    configure_logging("INFO", "text", stream=io.StringIO())
    configure_logging("INFO", "json", stream=io.StringIO())
    assert len([h for h in logging.getLogger().handlers if getattr(h, "_mlc", False)]) == 1
