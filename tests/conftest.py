"""Fixtures shared by every test package."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.postgres import postgres_server  # noqa: F401  (one throwaway server per run)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting on Monday 2026-11-23 14:00 UTC."""
    return FakeClock()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: recorded payloads and official schemas, each folder's README names its source."""
    return FIXTURES


@pytest.fixture
def samples(fixtures_dir: Path) -> Path:
    """tests/fixtures/intacct-samples (recorded gateway payloads), for the client's and the sandbox's tests."""
    return fixtures_dir / "intacct-samples"


@pytest.fixture
def restore_root_logger():
    """For tests that run configure_logging (it installs a handler on the root logger): put the
    test session's handlers and level back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
