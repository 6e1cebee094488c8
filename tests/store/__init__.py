"""Tests of the store: one contract suite run on SQLite and on a throwaway PostgreSQL."""
