"""Persistence behind one narrow async interface: SQLite (embedded default) and PostgreSQL.

The contract is `store.api.Store` (values in `store.types`); `store.sql.open_store(url,
data_dir=…)` returns the one implementation, `SqlStore`. The tables are listed in
`store.schema`; migrations live in store/migrations/ and run through `SqlStore.migrate()`.
Nothing here imports another ml-connector package.
"""
