"""The record-link index the poller keeps: every record it reads, under the link a card shows for it
(sandbox over HTTP, real SQLite)."""

from __future__ import annotations

from intacct.record_links import link_keys_bill, link_keys_vendor, record_token
from poller.coordinator import PollCoordinator, PollerConfig
from store.types import RecordLink
from tests.poller.test_coordinator import sandbox, store  # noqa: F401 - fixtures


def poller(sandbox, store, clock) -> PollCoordinator:
    return PollCoordinator(PollerConfig("DEMO-CO", "instance-a"), sandbox.client(clock), store, clock=clock, jitter=lambda: 0.5)


async def test_the_baseline_indexes_every_record_under_its_record_url_token(sandbox, store, clock):
    client = sandbox.client(clock)
    bills = (await client.query_bills(limit=10_000)).bills
    vendors = await client.find_vendors("a", limit=1000)

    assert (await poller(sandbox, store, clock).poll()).ok

    keys = [key for bill in bills for key in link_keys_bill(bill)]
    assert keys and all(key.startswith("r:") for key in keys)
    found = {link.key: link for link in await store.find_record_links(keys)}
    assert {found[key].record_no for key in keys} == {bill.record_no for bill in bills}
    vendor = vendors[0]
    by_vendor = await store.find_record_links(link_keys_vendor(vendor))
    assert {link.key for link in by_vendor} == {f"r:{record_token(vendor.record_url)}", f"vendor:{vendor.vendor_id}"}
    assert {(link.object_name, link.record_no) for link in by_vendor} == {("VENDOR", vendor.record_no)}


async def test_a_new_bill_is_indexed_by_the_poll_that_announces_it(sandbox, store, clock):
    coordinator = poller(sandbox, store, clock)
    await coordinator.poll()
    clock.advance(60)
    added = await sandbox.add_bill(amount="10.00")

    await coordinator.poll()

    bill = await sandbox.client(clock).find_bill(added["bill_number"])
    assert await store.find_record_links(link_keys_bill(bill)) == [
        RecordLink("DEMO-CO", key, "APBILL", added["record_no"]) for key in link_keys_bill(bill)
    ]


async def test_without_record_urls_bills_are_indexed_under_the_list_view_link_cards_fall_back_to(sandbox, store, clock):
    await sandbox.admin("POST", "/sandbox/company", {"hidden_fields": {"APBILL": ["RECORD_URL"]}})
    client = sandbox.client(clock)
    bill = (await client.query_bills(limit=1)).bills[0]

    assert (await poller(sandbox, store, clock).poll()).ok

    assert bill.record_url is None
    assert await store.find_record_links([f"apbill:{bill.bill_number}"]) == [
        RecordLink("DEMO-CO", f"apbill:{bill.bill_number}", "APBILL", bill.record_no)
    ]
