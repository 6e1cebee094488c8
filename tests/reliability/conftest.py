"""Fixtures of the reliability suite: the in-process service on a FakeClock, the figures reporter."""

from __future__ import annotations

import random
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from tests.fakes.ap_workload import ApWorkload, read_truth
from tests.fakes.clock import FakeClock
from tests.reliability.figures import figures, pytest_terminal_summary  # noqa: F401  (fixture and hook)
from tests.reliability.harness import Service, running_service


@asynccontextmanager
async def subscribed_service(clock: FakeClock, tmp_path: Path, **options: Any) -> AsyncIterator[Service]:
    """`running_service(**options)`, subscribed (Announcements: everything; Ops: alerts), with its
    baseline committed."""
    async with running_service(clock, tmp_path, **options) as running:
        await running.subscribe()
        yield running


@pytest.fixture
async def service(clock: FakeClock, tmp_path: Path) -> AsyncIterator[Service]:
    """The service on SQLite, subscribed, its baseline committed."""
    async with subscribed_service(clock, tmp_path) as running:
        yield running


async def make_workload(service: Service, seed: int = 20261123) -> ApWorkload:
    """A seeded workload on the service's sandbox, allowed to change any vendor once."""
    truth = await read_truth(service.sandbox.client(service.clock))
    return ApWorkload(service.sandbox, random.Random(seed), sorted(truth.vendors))
