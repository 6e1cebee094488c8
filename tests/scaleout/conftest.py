"""Fixtures of the scale-out tests: the figures reporter (shared with tests/reliability)."""

from tests.reliability.figures import figures, pytest_terminal_summary  # noqa: F401  (fixture and hook)
