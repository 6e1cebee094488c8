"""One object's rows in memory: RECORDNO allocation, lookup, and updates that bump WHENMODIFIED."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator, Mapping

from sandbox.schema import FieldType, ObjectDef


class Table:
    """The rows of one object, kept in RECORDNO (= insertion) order."""

    def __init__(self, obj: ObjectDef, first_record_no: int = 1) -> None:
        self.obj = obj
        self.rows: dict[int, list[Any]] = {}
        self._next_record_no = first_record_no
        self._record_no = obj.positions["RECORDNO"]
        self._modified = obj.positions.get("WHENMODIFIED")
        # (object, RECORDNO, "add" | "set") after a change: the webhook emulator's hook (webhooks.py).
        self.on_change: Callable[[str, int, str], None] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self.rows.values())

    def insert(self, values: Mapping[str, Any]) -> list[Any]:
        """Add a row (RECORDNO allocated here) and return it."""
        if "RECORDNO" in values:
            raise ValueError("RECORDNO is allocated by the table")
        row = self.obj.new_row(values)
        record_no = self._next_record_no
        self._next_record_no += 1
        row[self._record_no] = record_no
        self.rows[record_no] = row
        if self.on_change is not None:
            self.on_change(self.obj.name, record_no, "add")
        return row

    def get(self, record_no: int) -> list[Any] | None:
        """The row with this RECORDNO, or None."""
        return self.rows.get(record_no)

    def value(self, row: list[Any], name: str) -> Any:
        """One field of a row by name."""
        return row[self.obj.positions[name]]

    def as_dict(self, row: list[Any]) -> dict[str, Any]:
        """A row as field name → value (for logs and tests, not for hot paths)."""
        positions = self.obj.positions
        return {f.name: row[positions[f.name]] for f in self.obj.fields if f.type is not FieldType.URL}

    def update(self, record_no: int, changes: Mapping[str, Any], now: datetime) -> bool:
        """Apply changes; when any value differs, set WHENMODIFIED to `now`. Returns whether it did."""
        row = self.rows[record_no]
        changed = False
        for name, value in changes.items():
            index = self.obj.slot(name)
            if row[index] != value:
                row[index] = value
                changed = True
        if changed and self._modified is not None:
            row[self._modified] = now
        if changed and self.on_change is not None:
            self.on_change(self.obj.name, record_no, "set")
        return changed
