"""PostgreSQL down when a command starts: one line naming the fix, exit 1, no password shown.

A real PostgreSQL, set up (migrated, credentials stored by `setup`) and then stopped by the test,
as when the database host is down or restarting. `serve` has its own test (it waits instead:
test_serve_start.py).
"""

from __future__ import annotations

import pytest

from tests.ops.cli_harness import run

PASSWORD = "hunter2-database-secret"


@pytest.fixture
async def stopped_database(capsys, environ, own_postgres):
    """An environment whose DATABASE_URL names a database that existed and is now down."""
    database = await own_postgres.create_database()
    url = own_postgres.url(database).replace("postgres@", f"postgres:{PASSWORD}@")  # trust auth: ignored, but must never show
    env = environ | {"DATABASE_URL": url}
    code, out, err = await run(capsys, ["setup", "--from-env"], env)  # a key file now exists, as in the README's order
    assert code == 0, out + err
    own_postgres.halt()
    yield env


COMMANDS = (["poll", "--once"], ["routes", "list"], ["audit"], ["check"], ["package"], ["setup", "--from-env"])


async def test_a_command_started_with_the_database_down_says_so_in_one_line(capsys, stopped_database):
    for argv in COMMANDS:  # one stopped cluster for all of them
        code, out, err = await run(capsys, argv, stopped_database)
        assert code == 1 and out == "" and "Traceback" not in err, (argv, err)
        assert err.count("\n") == 1 and err.startswith("ml-connector: "), (argv, err)
        assert "cannot reach the database" in err and "start it, or fix DATABASE_URL" in err, (argv, err)
        assert PASSWORD not in err and "postgres:***@" in err, (argv, err)
