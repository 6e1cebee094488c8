"""Persistence behind one narrow async interface: SQLite (embedded default) and PostgreSQL."""
