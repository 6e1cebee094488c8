"""Figures the reliability and scale-out tests measure, shown whatever pytest's capture mode.

`figures` (a fixture) writes a line straight to the terminal through pytest's terminal reporter
(so `-q` without `-s` shows it) and keeps it for the end-of-run summary section that
`pytest_terminal_summary` prints. Both conftests import these two names.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import pytest

_LINES = pytest.StashKey[list[str]]()
SECTION = "ml-connector reliability figures"


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`figures("name=value …")`: show a measured figure now and in the run's summary."""
    config = request.config
    lines = config.stash.setdefault(_LINES, [])
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        text = f"[{request.node.name}] {line}"
        lines.append(text)
        if reporter is None:
            return
        # Capture off for the line, so it shows live with or without -s.
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write_line(text)

    return say


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The figures again, together, after the test results (printed once per run)."""
    lines = config.stash.get(_LINES, [])
    if lines and not config.stash.get(_PRINTED, False):
        config.stash[_PRINTED] = True
        terminalreporter.write_sep("-", SECTION)
        for line in lines:
            terminalreporter.write_line(line)


_PRINTED = pytest.StashKey[bool]()
