"""Compile a parsed readByQuery condition against one object's fields into a fast row predicate.

Literals are converted once, at compile time, into the stored domain of the field they meet:
text and enumeration codes stay strings ('A', 'T'), numbers become int/Decimal, 'MM/DD/YYYY'
a date, 'MM/DD/YYYY HH:MM:SS' an aware UTC datetime read in the user's gmtoffset (a bare date
against a timestamp field means midnight there). Booleans compare as their codes 'T'/'F'.

Evaluation follows SQL's three-valued logic, as the Oracle database behind Intacct does: a
comparison with an empty (NULL) value is unknown, NOT unknown is unknown, and only rows whose
condition is true match — so `NOT (DESCRIPTION = 'x')` does not return rows without a description.
"""

from __future__ import annotations

import operator
import re
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Callable

from sandbox.errors import QuerySyntaxError
from sandbox.query import And, Comparison, InList, IsNull, Like, Literal, Node, Not, Or
from sandbox.schema import (
    FieldDef,
    FieldType,
    ObjectDef,
    format_date,
    format_timestamp,
    parse_date,
    parse_timestamp,
    stored_code,
)

Row = list[Any]
RowPredicate = Callable[[Row], bool]
_Tri = Callable[[Row], "bool | None"]

_OPERATORS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def compile_condition(node: Node | None, obj: ObjectDef, zone: tzinfo, hidden: frozenset[str] = frozenset()) -> RowPredicate:
    """A function telling whether a row of `obj` matches; QuerySyntaxError for a bad field or value
    (a field in `hidden`, one the company does not show, is as unknown as a misspelt one)."""
    if node is None:
        return lambda row: True
    tri = _compile(node, obj, zone, hidden)
    return lambda row: tri(row) is True


def _compile(node: Node, obj: ObjectDef, zone: tzinfo, hidden: frozenset[str]) -> _Tri:
    if isinstance(node, And):
        return _all([_compile(part, obj, zone, hidden) for part in node.parts])
    if isinstance(node, Or):
        return _any([_compile(part, obj, zone, hidden) for part in node.parts])
    if isinstance(node, Not):
        inner = _compile(node.operand, obj, zone, hidden)

        def negate(row: Row) -> bool | None:
            result = inner(row)
            return None if result is None else not result

        return negate
    definition, index = _field(obj, node.field, node.position, hidden)
    if isinstance(node, IsNull):
        negated = node.negated
        return lambda row: (row[index] is None) != negated
    getter = _getter(definition, index)
    if isinstance(node, Comparison):
        return _comparison(getter, _OPERATORS[node.op], _coerce(definition, node.value, zone))
    if isinstance(node, InList):
        values = frozenset(_coerce(definition, literal, zone) for literal in node.values)
        return _membership(getter, values, node.negated)
    if isinstance(node, Like):
        return _like(_text_getter(definition, index, zone), node.pattern.text, node.negated)
    raise TypeError(f"unknown query node {type(node).__name__}")


def _field(obj: ObjectDef, name: str, position: int, hidden: frozenset[str]) -> tuple[FieldDef, int]:
    definition = obj.field(name)
    if definition is None or name in hidden:
        raise QuerySyntaxError(f"{name} is not a field of {obj.name}", position)
    if not definition.queryable:
        raise QuerySyntaxError(f"{name} cannot be used in a query condition", position)
    return definition, obj.positions[name]


def _getter(definition: FieldDef, index: int) -> Callable[[Row], Any]:
    if definition.type is FieldType.BOOLEAN:
        return lambda row: None if row[index] is None else stored_code(row[index])
    return operator.itemgetter(index)


def _text_getter(definition: FieldDef, index: int, zone: tzinfo) -> Callable[[Row], str | None]:
    """The value as text, for LIKE (Oracle converts non-text columns to text the same way)."""
    kind = definition.type
    if kind in (FieldType.TEXT, FieldType.ENUM):
        return operator.itemgetter(index)
    if kind is FieldType.BOOLEAN:
        return _getter(definition, index)
    convert: Callable[[Any], str]
    if kind is FieldType.DATE:
        convert = format_date
    elif kind is FieldType.TIMESTAMP:
        convert = lambda value: format_timestamp(value, zone)  # noqa: E731
    elif kind is FieldType.DECIMAL:
        convert = lambda value: f"{value:.2f}"  # noqa: E731
    else:
        convert = str
    return lambda row: None if row[index] is None else convert(row[index])


def _coerce(definition: FieldDef, literal: Literal, zone: tzinfo) -> Any:
    """The literal in the field's stored domain; QuerySyntaxError when it cannot be one."""
    kind, text = definition.type, literal.text
    if kind in (FieldType.TEXT, FieldType.ENUM, FieldType.BOOLEAN):
        return text
    if kind in (FieldType.INTEGER, FieldType.DECIMAL):
        if not _NUMBER.fullmatch(text.strip()):
            raise QuerySyntaxError(f"{text!r} is not a number ({definition.name} is numeric)", literal.position)
        value = Decimal(text.strip())
        return int(value) if kind is FieldType.INTEGER and value == value.to_integral_value() else value
    if literal.kind != "string":
        raise QuerySyntaxError(f"{definition.name} takes a quoted date, not {text}", literal.position)
    try:
        if kind is FieldType.DATE:
            return parse_date(text)
        if " " in text.strip():
            return parse_timestamp(text.strip(), zone)
        return parse_timestamp(f"{text.strip()} 00:00:00", zone)
    except ValueError:
        shape = "'MM/DD/YYYY'" if kind is FieldType.DATE else "'MM/DD/YYYY HH:MM:SS' or 'MM/DD/YYYY'"
        message = f"{text!r} is not a valid value for {definition.name}; use {shape}"
        raise QuerySyntaxError(message, literal.position) from None


def _comparison(getter: Callable[[Row], Any], op: Callable[[Any, Any], bool], literal: Any) -> _Tri:
    def compare(row: Row) -> bool | None:
        value = getter(row)
        return None if value is None else op(value, literal)

    return compare


def _membership(getter: Callable[[Row], Any], values: frozenset, negated: bool) -> _Tri:
    def member(row: Row) -> bool | None:
        value = getter(row)
        return None if value is None else (value in values) != negated

    return member


def _like(getter: Callable[[Row], str | None], pattern: str, negated: bool) -> _Tri:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    regex = re.compile("".join(parts), re.DOTALL)

    def like(row: Row) -> bool | None:
        value = getter(row)
        return None if value is None else (regex.fullmatch(value) is not None) != negated

    return like


def _all(parts: list[_Tri]) -> _Tri:
    def conjunction(row: Row) -> bool | None:
        result: bool | None = True
        for part in parts:
            value = part(row)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    return conjunction


def _any(parts: list[_Tri]) -> _Tri:
    def disjunction(row: Row) -> bool | None:
        result: bool | None = False
        for part in parts:
            value = part(row)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    return disjunction
