"""Intacct links both ways: the keys of the links cards show, and the key of a pasted link — the
same for the same link, whatever its id holds; anything else is no record link."""

from __future__ import annotations

import pytest

from cards.links import IntacctLinks
from intacct.record_links import (
    LinkTarget,
    is_intacct_host,
    link_keys_bill,
    link_keys_payment,
    link_keys_vendor,
    list_key,
    read_link,
    record_token,
)
from tests.cards import samples as s

WEB = "https://www.intacct.com"


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (f"{WEB}/ia/acct/ur.phtml?.r=QVBCSUxMOjEwMDE", LinkTarget("r:QVBCSUxMOjEwMDE")),
        ("https://www-p02.intacct.com/ia/acct/ur.phtml?.r=abc%2Bdef", LinkTarget("r:abc+def")),
        (f"{WEB}/ia/acct/ur.phtml?.r=abc&other=1", LinkTarget("r:abc")),
        (f"{WEB}/ia/acct/lister.phtml?.it=apbill&.filter=INV-1001", LinkTarget("apbill:INV-1001", "bill", "INV-1001")),
        (f"{WEB}/ia/acct/lister.phtml?.filter=77&.it=APPYMT", LinkTarget("appymt:77", "payment", "77")),
        (f"{WEB}/ia/acct/lister.phtml?.it=vendor&.filter=V%20100", LinkTarget("vendor:V 100", "vendor", "V 100")),
    ],
)
def test_record_and_list_links_are_read(url, target):
    assert read_link(url) == target


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        f"{WEB}/ia/acct/ur.phtml",
        f"{WEB}/ia/acct/ur.phtml?.r=",
        f"{WEB}/ia/acct/ur.phtml?.r=a&.r=b",
        f"{WEB}/ia/acct/ur.phtml?.r=" + "x" * 513,
        f"{WEB}/ia/acct/frameset.phtml?.r=abc",
        f"{WEB}/ia/acct/lister.phtml?.it=apbill",
        f"{WEB}/ia/acct/lister.phtml?.it=glaccount&.filter=1000",
        f"{WEB}/ia/acct/lister.phtml?.it=apbill&.filter=" + "9" * 101,
        "https://user:pw@www.intacct.com/ia/acct/ur.phtml?.r=abc",
        "https://www.intacct.com:99999/ia/acct/ur.phtml?.r=abc",
        "ftp://www.intacct.com/ia/acct/ur.phtml?.r=abc",
        "javascript:alert(1)",
        f"{WEB}/ia/acct/ur.phtml?.r=abc\n",
        f"{WEB}/" + "a" * 2100,
    ],
)
def test_anything_else_is_no_record_link(url):
    assert read_link(url) is None


@pytest.mark.parametrize("record_id", ["INV-1001", "a&b=c", "100%", "Ünïcödé 7", "x" * 100, "' OR 1=1 --", "#frag?q"])
def test_the_list_link_a_card_shows_reads_back_to_the_same_key(record_id):
    link = IntacctLinks(WEB, "DEMO-CO").list_view("bill", record_id)

    assert read_link(link).key == list_key("bill", record_id)


def test_a_record_is_keyed_by_the_link_its_card_shows():
    with_url = s.bill(record_url=f"{WEB}/ia/acct/ur.phtml?.r=tok1")
    without = s.bill(record_url=None, bill_number="INV-9")
    numberless = s.bill(record_url=None, bill_number="", record_no=42)
    payment = s.payment(record_url=None, record_no=7)
    vendor = s.vendor(record_url=f"{WEB}/ia/acct/ur.phtml?.r=ven1", vendor_id="V-1")

    assert link_keys_bill(with_url) == ("r:tok1",)
    assert link_keys_bill(without) == ("apbill:INV-9",)
    assert link_keys_bill(numberless) == ("apbill:42",)
    assert link_keys_payment(payment) == ("appymt:7",)
    assert link_keys_vendor(vendor) == ("r:ven1", "vendor:V-1")  # a bill card links its vendor by id
    assert record_token("not a url") is None


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("www.intacct.com", True),
        ("WWW-P02.Intacct.com.", True),
        ("intacct.com", False),
        ("a.b.intacct.com", False),  # Teams' *.intacct.com matches one label
        ("www.intacct.com.evil.example", False),
        ("evilintacct.com", False),
        ("intacct.acme.example", True),  # a configured web host
        (None, False),
    ],
)
def test_intacct_hosts_are_one_label_under_intacct_com_or_a_configured_one(host, allowed):
    assert is_intacct_host(host, frozenset({"intacct.acme.example"})) is allowed
