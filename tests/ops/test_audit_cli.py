"""`audit`'s date options: a bad value is one line naming the option that has it."""

from __future__ import annotations

import pytest

from tests.ops.cli_harness import run


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "01/11/2026", ""])
async def test_a_bad_moment_names_its_own_option(capsys, bare_environ, option, value):
    code, out, err = await run(capsys, ["audit", option, value], bare_environ)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"ml-connector: {option} must be an ISO date or date-time") and repr(value) in err


async def test_a_range_that_ends_before_it_starts_is_refused(capsys, bare_environ):
    code, out, err = await run(capsys, ["audit", "--since", "2026-11-24", "--until", "2026-11-20"], bare_environ)
    assert code == 2 and out == "" and "--until 2026-11-20 is before --since 2026-11-24" in err


async def test_offsets_and_times_are_accepted(capsys, bare_environ):
    code, out, _ = await run(capsys, ["audit", "--since", "2026-11-01T08:00+01:00", "--until", "2026-11-02T08:00"], bare_environ)
    assert code == 0 and out.startswith("at,action,outcome")
