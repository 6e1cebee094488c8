"""Developer paths through the alembic environment: a URL instead of a live connection, and SQL."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from alembic import command

from store.migrate import VERSION_TABLE, alembic_config, head_revision
from store.schema import metadata


def test_upgrade_from_a_url_runs_every_migration(tmp_path: Path):
    database = tmp_path / "draft.db"

    command.upgrade(alembic_config(f"sqlite:///{database}"), "head")

    with sqlite3.connect(database) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0]
    assert tables == set(metadata.tables) | {VERSION_TABLE}
    assert version == head_revision()


def test_offline_mode_renders_the_sql_for_a_dba():
    config = alembic_config("postgresql://mlc:pa%ss@db.example.com/mlc")
    config.output_buffer = io.StringIO()

    command.upgrade(config, "head", sql=True)

    script = config.output_buffer.getvalue()
    assert "CREATE TABLE outbox" in script and "CONSTRAINT uq_outbox_event_key_conversation_id" in script
    assert "pa%ss" not in script
