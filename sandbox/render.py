"""Rows to XML: the <data> element of read results, with exactly the selected fields in order."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, Iterable

from lxml import etree

from sandbox.company import Company
from sandbox.links import record_url
from sandbox.objects import APBILLITEM
from sandbox.schema import FieldDef, FieldType, ObjectDef, render_value

LINES_ELEMENT = "APBILLITEMS"  # APBILL's lines, included when `*` is read (intacct-xml-api.md §9.2)


class RowRenderer:
    """Appends rows of one object to a <data> element, rendering values in the user's zone."""

    def __init__(
        self,
        company: Company,
        obj: ObjectDef,
        fields: tuple[FieldDef, ...],
        *,
        zone: tzinfo,
        web_url: str,
        upper_case_rows: bool,
        with_lines: bool,
    ) -> None:
        self._company = company
        self._obj = obj
        self._columns = [(f, obj.positions[f.name]) for f in fields]
        self._zone = zone
        self._web_url = web_url
        self._tag = obj.name if upper_case_rows else obj.listtype
        # Only APBILL has child lines; they come with `*`, in lower-case row tags like Intacct's.
        self._lines = (
            RowRenderer(company, APBILLITEM, APBILLITEM.fields, zone=zone, web_url=web_url,
                        upper_case_rows=False, with_lines=False)
            if with_lines and obj.name == "APBILL" else None
        )

    def append(self, data: etree._Element, rows: Iterable[list[Any]]) -> int:
        """Add one element per row; returns how many were added."""
        count = 0
        sub = etree.SubElement
        zone, web_url, name = self._zone, self._web_url, self._obj.name
        for row in rows:
            element = sub(data, self._tag)
            for definition, index in self._columns:
                child = sub(element, definition.name)
                if definition.type is FieldType.URL:
                    child.text = record_url(web_url, name, row[0])
                elif row[index] is not None:
                    child.text = render_value(definition, row[index], zone)
            if self._lines is not None:
                lines = sub(element, LINES_ELEMENT)
                table = self._company.tables["APBILLITEM"].rows
                self._lines.append(lines, (table[key] for key in self._company.lines_by_bill.get(row[0], ())))
            count += 1
        return count
