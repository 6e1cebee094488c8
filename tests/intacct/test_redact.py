"""Redaction before logging: secrets and sensitive vendor fields never reach a log line."""

from __future__ import annotations

from pathlib import Path

from intacct.protocol import LoginAuth, build_request, get_api_session
from intacct.redact import REDACTED, redact_xml, scrub


def test_sensitive_sample_is_redacted_in_every_casing(samples: Path) -> None:
    body = (samples / "response-multi-function-vendor-sensitive-fields.xml").read_bytes()
    redacted = redact_xml(body)
    for secret in ("fAkESesSiOnId..", "99-9999999", "1111222233334444", "testsenderid"):
        assert secret in body.decode()
        assert secret not in redacted
    assert redacted.count(REDACTED) == 6  # senderid, sessionid, taxid ×2, achaccountnumber ×2
    # what is not sensitive stays readable
    for kept in ("V0004", "Vendor 4", "Checking Account", "https://unittest.intacct.com/ia/xml/xmlgw.phtml", "<TAXID>[REDACTED]</TAXID>"):
        assert kept in redacted


def test_request_passwords_and_known_secrets_are_redacted() -> None:
    body = build_request(
        sender_id="sender-x",
        sender_password="S3nd&r<pw>",
        auth=LoginAuth("ws-user", "CO", "User'sPw\"1"),
        functions=[get_api_session()],
    )
    redacted = redact_xml(body, secrets=["S3nd&r<pw>", "User'sPw\"1"])
    assert "S3nd" not in redacted and "User'sPw" not in redacted and "User&apos;sPw" not in redacted
    assert "<userid>ws-user</userid>" in redacted and "<password>[REDACTED]</password>" in redacted


def test_redaction_works_on_malformed_bodies_and_attributes() -> None:
    text = '<response><sessionid kind="api">abc.def</sessionid><DISPLAYCONTACT.TAXID>12</DISPLAYCONTACT.TAXID><broken'
    redacted = redact_xml(text)
    assert "abc.def" not in redacted and ">12<" not in redacted and '<sessionid kind="api">[REDACTED]</sessionid>' in redacted


def test_scrub_ignores_empty_and_tiny_values() -> None:
    assert scrub("a b c secret", ["", "b", "secret"]) == f"a b c {REDACTED}"
