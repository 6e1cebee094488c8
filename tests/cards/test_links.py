"""Deep links: RECORD_URL when present, the list-view fallback otherwise, never an unsafe URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from cards.bills import build_bill_card
from cards.errors import LinkConfigError
from cards.links import IntacctLinks
from cards.payments import build_payment_card
from cards.vendors import build_vendor_card
from poller.events import EventKind, SummarizedChange
from tests.cards import samples as s
from tests.cards.harness import walk


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_record_url_is_used_unchanged() -> None:
    links = IntacctLinks("https://www.intacct.com", "DEMO-CO")
    pod = "https://www-p02.intacct.com/ia/acct/ur.phtml?.r=QklMTC0xMDQy"
    assert links.bill(s.bill(record_url=pod)) == pod
    assert links.payment(s.payment(record_url=pod)) == pod
    assert links.vendor(s.vendor(record_url=pod)) == pod


def test_without_record_url_the_list_view_is_filtered_to_the_record() -> None:
    links = IntacctLinks("https://www.intacct.com/", "DEMO-CO")
    bill_url = links.bill(s.bill(record_url=None))
    assert bill_url == "https://www.intacct.com/ia/acct/lister.phtml?.it=apbill&.filter=BILL-1042"
    assert _query(links.payment(s.payment(record_url=None)) or "") == {".it": ["appymt"], ".filter": ["812"]}
    assert _query(links.vendor(s.vendor(record_url=None)) or "") == {".it": ["vendor"], ".filter": ["V-0042"]}
    assert _query(links.vendor_by_id("V-0042") or "") == {".it": ["vendor"], ".filter": ["V-0042"]}


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/relative", "https://u:p@evil.example/"])
def test_an_unsafe_record_url_falls_back_to_the_list_view(bad: str) -> None:
    url = s.LINKS.bill(s.bill(record_url=bad))
    assert url is not None and url.startswith("https://www.intacct.com/ia/acct/lister.phtml?")


def test_ids_are_percent_encoded_so_they_cannot_add_parameters_or_paths() -> None:
    url = s.LINKS.vendor_by_id("V-1&.op=delete#frag/../x y")
    assert url is not None
    assert _query(url) == {".it": ["vendor"], ".filter": ["V-1&.op=delete#frag/../x y"]}
    assert urlsplit(url).path == "/ia/acct/lister.phtml" and urlsplit(url).fragment == ""


def test_summarised_changes_link_their_record_or_the_list_of_their_kind() -> None:
    with_url = SummarizedChange(EventKind.BILLS, "bill", 1, "label", s.record_url("abc"))
    without = SummarizedChange(EventKind.PAYMENTS, "payment", 2, "label", None)
    hostile = SummarizedChange(EventKind.VENDORS, "vendor", 3, "label", "javascript:alert(1)")
    assert s.LINKS.change(with_url) == s.record_url("abc")
    assert s.LINKS.change(without) == "https://www.intacct.com/ia/acct/lister.phtml?.it=appymt"
    assert s.LINKS.change(hostile) == "https://www.intacct.com/ia/acct/lister.phtml?.it=vendor"
    assert s.LINKS.list_view("digest") is None


def test_list_page_and_parameters_can_be_overridden_per_deployment() -> None:
    links = IntacctLinks("https://intacct.example", "C1", list_path="/ia/acct/list.phtml", filter_param="q")
    assert links.bill(s.bill(record_url=None)) == "https://intacct.example/ia/acct/list.phtml?.it=apbill&q=BILL-1042"


@pytest.mark.parametrize(
    "web_url",
    ["", "www.intacct.com", "javascript:alert(1)", "ftp://intacct.com", "https://u:p@intacct.com", "https://intacct.com/?a=b", "https://intacct.com/#x"],
)
def test_a_bad_web_url_is_a_configuration_error(web_url: str) -> None:
    with pytest.raises(LinkConfigError):
        IntacctLinks(web_url, "DEMO-CO")


def test_an_empty_company_id_is_a_configuration_error() -> None:
    with pytest.raises(LinkConfigError):
        IntacctLinks("https://www.intacct.com", " ")


def test_buttons_with_unsafe_urls_are_left_out_and_nothing_unsafe_reaches_a_card() -> None:
    hostile = "javascript:alert(document.cookie)"
    cards = [
        build_bill_card(s.bill(record_url=hostile, vendor_id="V-1"), links=s.LINKS, today=s.TODAY),
        build_payment_card(s.payment(record_url="data:text/html,x"), links=s.LINKS, today=s.TODAY),
        build_vendor_card(s.vendor(record_url=hostile), links=s.LINKS, today=s.TODAY, zone=s.ZONE, open_bills=[s.bill(record_url=hostile)]),
    ]
    urls = [node["url"] for card in cards for node in walk(card) if "url" in node]
    assert urls, "every card still has its fallback links"
    assert all(u.startswith("https://www.intacct.com/") for u in urls), urls


def test_every_button_says_which_company_to_sign_in_to() -> None:
    card = build_bill_card(s.bill(), links=s.LINKS, today=s.TODAY)
    assert {a["tooltip"] for a in card["actions"]} == {"Opens Sage Intacct (company DEMO-CO)"}
