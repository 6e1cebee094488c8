"""What the client reads of each object, checked against the company's own definitions (`lookup`).

Companies differ: a module not subscribed (no PROJECT), fields a role cannot see, an older
object version. So every read names its fields from an `ObjectFields` (required ones, without
which the feature is wrong, and optional ones, which cards simply omit), and the client asks
Intacct's `lookup` which of them this company has. A missing required field or object makes
`check` fail with the permission or module to fix; a missing optional field is dropped from the
select list with one warning.

`lookup` answers `<data><Type Name="APBILL"><Fields><Field><ID>…</ID><DATATYPE>…</DATATYPE>…`
(the shape the hotglue tap and Estuary's connector read, sandbox/definitions/README.md).
Its cache in the store is {object: "FIELD FIELD …"}, "" for an object the company lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from lxml import etree


@dataclass(frozen=True, slots=True)
class ObjectFields:
    """The fields the client reads of one object, and what to fix when the company lacks them."""

    object: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    fix: str = ""  # the permission or module that gives the Web Services user this object
    optional_object: bool = False  # a company may lack the whole object (a module it did not subscribe to)

    @property
    def all(self) -> tuple[str, ...]:
        """Every field, required first: what is selected before the company's `lookup` is known."""
        return self.required + self.optional


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of a company's `lookup` answer."""

    datatype: str = ""
    valid_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectCheck:
    """One object: what the client wants of it and what the company's `lookup` showed.

    `found` None: the lookup failed (`error` says how), either because the company has no such
    object (`missing`: Intacct answered "Object definition … not found") or for another reason
    (refused, unavailable), in which case nothing is known and every field is asked for."""

    spec: ObjectFields
    found: Mapping[str, FieldInfo] | None
    error: str | None = None
    missing: bool = False

    @property
    def available(self) -> bool:
        """Whether the object is read: it exists (or could not be looked up) and has every required field."""
        if self.found is None:
            return not self.missing
        return not self.missing_required

    @property
    def unverified(self) -> bool:
        """The lookup failed for another reason than a missing object: the fields are not known."""
        return self.found is None and not self.missing

    @property
    def missing_required(self) -> tuple[str, ...]:
        """Required fields the company's definition lacks (all of them when the object is missing)."""
        if self.found is None:
            return self.spec.required if self.missing else ()
        return tuple(name for name in self.spec.required if name not in self.found)

    @property
    def missing_optional(self) -> tuple[str, ...]:
        """Optional fields the company's definition lacks: they are not selected."""
        if self.found is None:
            return self.spec.optional if self.missing else ()
        return tuple(name for name in self.spec.optional if name not in self.found)

    @property
    def selected(self) -> tuple[str, ...]:
        """The fields to select: required ones, then the optional ones the company has."""
        missing = set(self.missing_optional)
        return self.spec.required + tuple(name for name in self.spec.optional if name not in missing)


@dataclass(frozen=True)
class SchemaReport:
    """Every object the client reads, checked against one company."""

    checks: Mapping[str, ObjectCheck] = field(default_factory=dict)

    def fields(self, object_name: str) -> tuple[str, ...]:
        """The select list for an object (raises SchemaMissingError when it cannot be read)."""
        check = self.checks[object_name]
        if not check.available:
            raise SchemaMissingError(check)
        return check.selected

    def problems(self) -> list[ObjectCheck]:
        """Objects the client needs but cannot read, or could not look up (check fails on these)."""
        return [
            c for c in self.checks.values()
            if c.unverified or (not c.available and not (c.spec.optional_object and c.missing))
        ]

    def dropped(self) -> dict[str, tuple[str, ...]]:
        """Per readable object, the optional fields this company lacks."""
        return {name: c.missing_optional for name, c in self.checks.items() if c.available and c.missing_optional}

    def absent_objects(self) -> list[str]:
        """Optional objects the company lacks (a module it did not subscribe to)."""
        return [name for name, c in self.checks.items() if c.missing and c.spec.optional_object]

    def to_cache(self) -> dict[str, str]:
        """The report as the store keeps it: {object: "FIELD FIELD …"}, "" for a missing object;
        objects that could not be looked up are left out (nothing is known of them)."""
        return {
            name: "" if c.found is None else " ".join(sorted(set(c.spec.all) & set(c.found)))
            for name, c in self.checks.items()
            if not c.unverified
        }

    @classmethod
    def from_cache(cls, specs: Iterable[ObjectFields], cache: Mapping[str, str]) -> SchemaReport:
        """A report rebuilt from the store's cache; an object not in it is unverified (read in full)."""
        checks = {}
        for spec in specs:
            text = cache.get(spec.object)
            if text is None:
                checks[spec.object] = ObjectCheck(spec, None, "not in the cached definitions")
            elif text == "":
                checks[spec.object] = ObjectCheck(spec, None, "not found when last looked up", missing=True)
            else:
                checks[spec.object] = ObjectCheck(spec, {name: FieldInfo() for name in text.split()})
        return cls(checks)


class SchemaMissingError(LookupError):
    """An object cannot be read in this company: it is missing, or lacks a required field."""

    def __init__(self, check: ObjectCheck) -> None:
        self.check = check
        super().__init__(describe_problem(check))


def describe_problem(check: ObjectCheck) -> str:
    """One line naming the object, what is missing and what to fix."""
    spec = check.spec
    if check.missing:
        what = f"{spec.object} does not exist in this company ({check.error or 'no definition'})"
    elif check.found is None:
        what = f"{spec.object} cannot be looked up ({check.error or 'no definition'})"
    else:
        what = f"{spec.object} has no field {', '.join(check.missing_required)}"
    return f"{what}; {spec.fix}" if spec.fix else what


def parse_lookup(data: etree._Element | None) -> dict[str, FieldInfo]:
    """The fields of a `lookup` result's `<data>` (ID → type and valid values)."""
    if data is None:
        raise ValueError("lookup answered without <data>")
    found: dict[str, FieldInfo] = {}
    for element in data.iter("Field"):
        field_id = (element.findtext("ID") or "").strip().upper()
        if not field_id:
            continue
        values = tuple((v.text or "").strip() for v in element.iterfind("VALIDVALUES/VALIDVALUE") if (v.text or "").strip())
        found[field_id] = FieldInfo((element.findtext("DATATYPE") or "").strip().upper(), values)
    if not found:
        raise ValueError("lookup answered with no <Field>")
    return found
