"""Hostile text becomes harmless plain text; only safe http(s) URLs survive."""

from __future__ import annotations

import pytest

from cards.sanitize import ELLIPSIS, clean_text, clean_url, truncate
from tests.cards.samples import HOSTILE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[click](javascript:alert(1))", "[click] (javascript:alert(1))"),
        ("![img](https://evil.example/x.png)", "![img] (https://evil.example/x.png)"),
        ("<at>Everyone</at> approve", "‹at›Everyone‹/at› approve"),
        ("&lt;at&gt;Boss&lt;/at&gt; &#60;b&#62; &#x3C;i&#x3e;", "‹at›Boss‹/at› ‹b› ‹i›"),
        ("<script>alert(1)</script>", "‹script›alert(1)‹/script›"),
        ("<https://evil.example>", "‹https://evil.example›"),
        ("**URGENT** pay *now*", "∗∗URGENT∗∗ pay ∗now∗"),
        ("_italic_ and __bold__ but snake_case_id stays", "ˍitalicˍ and ˍˍboldˍˍ but snake_case_id stays"),
        ("{{DATE(2017-02-14T06:08:39Z,SHORT)}}", "{ {DATE(2017-02-14T06:08:39Z,SHORT)}}"),
        ("{{{{x", "{ { { {x"),
        ("line one\nline two\r\n- bullet\t# heading", "line one line two - bullet # heading"),
        ("nul\x00 bell\x07 esc\x1b[31m del\x7f c1\x85end", "nul bell esc[31m del c1 end"),
        ("bidi \u202egnp.exe\u202c and \u2066iso\u2069", "bidi gnp.exe and iso"),
        ("zero\u200bwidth\ufeff soft\u00adhyphen", "zerowidth softhyphen"),
        ("lone \ud800 surrogate \udfff", "lone surrogate"),
        ("family 👨\u200d👩\u200d👧 kept", "family 👨\u200d👩\u200d👧 kept"),
        ("  Müller & Söhne GmbH — Zürich  ", "Müller & Söhne GmbH — Zürich"),
        ("Acme (UK) [Ltd] 50% #1", "Acme (UK) [Ltd] 50% #1"),
        ("paragraph\u2029separator\u2028line", "paragraph separator line"),
        (None, ""),
        (1234, "1234"),
    ],
)
def test_clean_text_neutralises_markup_and_keeps_ordinary_text(raw, expected) -> None:
    assert clean_text(raw) == expected


def test_clean_text_is_idempotent_on_hostile_input() -> None:
    once = clean_text(HOSTILE, 200)
    assert clean_text(once, 200) == once
    assert clean_text(once, 500) == once


@pytest.mark.parametrize("text", [HOSTILE, "a" * 50, "x" * 1000, "é" * 1000, "🙂" * 1000, "<" * 1000, "_" * 1000])
def test_clean_text_never_exceeds_its_limit(text: str) -> None:
    for limit in (1, 2, 10, 120):
        cleaned = clean_text(text, limit)
        assert len(cleaned) <= limit
        if len(text) > limit:
            assert cleaned.endswith(ELLIPSIS)


def test_huge_input_is_cut_without_scanning_it_all() -> None:
    cleaned = clean_text("A" * 5_000_000 + "<at>tail</at>", 120)
    assert cleaned == "A" * 119 + ELLIPSIS


def test_clean_text_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError):
        clean_text("x", 0)


def test_truncate_keeps_short_text_and_cuts_long_text_on_the_limit() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("exactly ten", 11) == "exactly ten"
    assert truncate("one two three", 8) == "one two" + ELLIPSIS


@pytest.mark.parametrize(
    "url",
    [
        "https://www.intacct.com/ia/acct/ur.phtml?.r=QklMTC0xMDQy",
        "https://www-p02.intacct.com/ia/acct/ur.phtml?.r=abc_DEF-123",
        "http://127.0.0.1:8080/ia/acct/ur.phtml?.r=x",
        "HTTPS://WWW.INTACCT.COM/ia/acct/ur.phtml",
        "https://[::1]:8443/x",
    ],
)
def test_clean_url_keeps_absolute_http_urls_unchanged(url: str) -> None:
    assert clean_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "//evil.example/x",
        "/ia/acct/ur.phtml?.r=x",
        "https://user:secret@www.intacct.com/",
        "https://www.intacct.com@evil.example/",
        "https://good.example\\@evil.example/",
        "https://www.intacct.com/a b",
        "https://www.intacct.com/\x00",
        "https://www.intacct.com/\u202e",
        "https://www.ıntacct.com/",
        "https://www.intacct.com:99999/",
        "https:///nohost",
        "https://bad_host!.example/",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_clean_url_drops_everything_else(url) -> None:
    assert clean_url(url) is None


def test_the_invisible_character_list_matches_this_pythons_unicode_database() -> None:
    # Planes 0, 1 and 14 hold every control and format character Unicode has assigned so far.
    import sys
    import unicodedata

    from cards.sanitize import _INVISIBLE

    candidates = [*range(0x20000), *range(0xE0000, 0xE1000)]
    expected = {
        cp
        for cp in candidates
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs") and not chr(cp).isspace() and cp not in (0x200C, 0x200D)
    }
    listed = {cp for cp in candidates if _INVISIBLE.fullmatch(chr(cp))}
    assert listed == expected, f"update _INVISIBLE for Unicode {unicodedata.unidata_version} (Python {sys.version_info[:2]})"
