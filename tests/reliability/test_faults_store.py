"""The store briefly unavailable: the PostgreSQL server stops (fast shutdown: connections cut)
and comes back, while AP changes keep happening in Intacct and rows wait in the outbox.

PostgreSQL is the real case: a managed database restarts for maintenance or a failover, while a
SQLite file on the instance's own disk does not come and go (and the tests run as root, for whom
file permissions do not make a file unwritable). The poller must commit nothing half-way, the
notifier must not lose or repeat the rows it could not settle, and both must resume by themselves.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.fakes.ap_workload import read_truth
from tests.fakes.postgres import PostgresServer
from tests.reliability.conftest import make_workload, subscribed_service
from tests.reliability.oracle import check_delivery

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this module's own: halting the session's shared one would hurt other tests."""
    with PostgresServer() as server:
        yield server


async def test_a_database_restart_loses_and_repeats_nothing(clock, tmp_path, own_postgres: PostgresServer):
    database = await own_postgres.create_database()
    async with subscribed_service(clock, tmp_path, database_url=own_postgres.url(database)) as service:
        workload = await make_workload(service)
        await workload.burst(6)
        assert (await service.coordinator.poll()).outbox_rows > 0  # committed, not yet delivered
        posted_before = len(service.fake.calls)

        own_postgres.halt()
        try:
            await workload.burst(6)  # Intacct goes on changing during the outage
            for _ in range(30):
                await service.tick()
            outage_polls = service.polls[-30:]
            assert not any(p.ok for p in outage_polls), "no poll can commit without its database"
            assert any("StoreError" in (p.error or "") for p in outage_polls), [p.error for p in outage_polls[:3]]
            assert all(d.errors for d in service.drains[-30:]), "the notifier cannot claim rows either"
            assert len(service.fake.calls) == posted_before, "nothing may be sent that cannot be recorded"
        finally:
            own_postgres.resume()

        truth = await read_truth(service.sandbox.client(clock))

        async def delivered() -> bool:
            return check_delivery(truth, workload, service.ledger()).complete and await service.outbox_settled()

        await service.run_until(delivered, what="every change delivered after the database came back")

        check = check_delivery(truth, workload, service.ledger())
        assert check.duplicates == 0 and check.expected >= 6, check.describe()
        assert await service.store.outbox_items(status="failed") == []
        assert any("works again" in alert for alert in service.alerts()), service.alerts()
