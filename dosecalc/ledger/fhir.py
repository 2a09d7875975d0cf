"""FHIR R4/R4B Bundles of MedicationAdministrations, read strictly into ledger entries.

Only the fields dosecalc reads are modelled, and each is held to its FHIR JSON type: a string
where an object is due, a number written as text, a decimal ``true`` are refused with the
entry's index and the path of the field, as is a key given twice in one object (JSON parsers
keep the last silently). Fields dosecalc does not read are left alone.

Why not ``fhir.resources`` (a test dependency, used there to check these bundles are valid
R4B): it converts ``"50"`` to the number 50 and parses a string holding JSON as the object it
spells, so it does not refuse the type confusions this reader exists to refuse; and it is a
27 MB package that takes about a second to import, for the eight fields read here.

What a field says must agree with the rest: the UCUM ``code`` of a dose is its unit, and a
``unit`` text naming another unit is an error; a medication ``text`` that names another drug
than its coding is an error.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from dosecalc.base.errors import DosecalcError, FileError, Problem
from dosecalc.inputs import history as hist
from dosecalc.ledger.store import Entry

UCUM = "http://unitsofmeasure.org"
TAKEN = {"completed"}
NOT_GIVEN = {"not-done", "entered-in-error"}  # nothing was given: reported, not recorded
# FHIR dateTime, at least to the day (a dose needs its date): 2024-01-05, 2024-01-05T09:30:00Z
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}):\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?"
)


class _Shape(BaseModel):
    """Strict JSON types; fields dosecalc does not read are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, defer_build=True)


class Coding(_Shape):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(_Shape):
    coding: list[Coding] | None = None
    text: str | None = None


class Reference(_Shape):
    reference: str | None = None


class Quantity(_Shape):
    value: Decimal | None = None  # JSON numbers are read as Decimal, never float or text
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Dosage(_Shape):
    dose: Quantity | None = None


class Period(_Shape):
    start: str | None = None
    end: str | None = None


class Annotation(_Shape):
    text: str


class Identifier(_Shape):
    system: str | None = None
    value: str | None = None


class MedicationAdministration(_Shape):
    resourceType: Literal["MedicationAdministration"]
    id: str | None = None
    identifier: list[Identifier] | None = None
    status: str
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    subject: Reference | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    dosage: Dosage | None = None
    note: list[Annotation] | None = None


class Medication(_Shape):
    resourceType: Literal["Medication"]
    id: str | None = None
    code: CodeableConcept | None = None


class _Entry(_Shape):
    fullUrl: str | None = None
    resource: dict[str, Any] | None = None


class Bundle(_Shape):
    resourceType: Literal["Bundle"]
    entry: list[dict[str, Any]] | None = None


# Reading JSON strictly --------------------------------------------------------------------


class _Object(dict):  # type: ignore[type-arg]
    """A JSON object, with the keys it gave more than once."""

    twice: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    out = _Object(pairs)
    if len(out) != len(pairs):
        keys = [k for k, _ in pairs]
        out.twice = tuple(sorted({k for k in keys if keys.count(k) > 1}))
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _twice(value: Any, path: str) -> tuple[str, str] | None:
    """The first object under ``value`` that gives a key twice: (its path, the key). Iterative:
    JSON nested as deep as the parser allows must not exhaust Python's stack here."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, _Object):
            if item.twice:
                return where, item.twice[0]
            stack += [(v, f"{where}.{k}" if where else k) for k, v in reversed(item.items())]
        elif isinstance(item, list):
            stack += [(v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item)))]
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def _shape_error(e: ValidationError, prefix: str) -> str:
    err = e.errors()[0]
    path = prefix
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if err["type"] == "missing":
        return f"{path} is missing"
    if err["type"] == "literal_error":
        return f"{path} is {err['input']!r}; {err['msg'].lower()}"
    if err["type"] in ("is_instance_of", "decimal_type") or "Decimal" in err["msg"]:
        return f"{path} is {_json_type(err['input'])}; a JSON number is due"
    want = {
        "string_type": "a string",
        "model_type": "an object",
        "model_attributes_type": "an object",
        "dict_type": "an object",
        "list_type": "an array",
    }.get(err["type"], err["msg"].lower())
    return f"{path} is {_json_type(err['input'])}; {want} is due"


def _shape(model: type[_Shape], value: Any, prefix: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise ValueError(_shape_error(e, prefix)) from None


# The bundle -------------------------------------------------------------------------------


def entries(path: Path, data: bytes, patient: str | None) -> tuple[list[Entry], list[str]]:
    """The completed MedicationAdministrations of a FHIR R4 Bundle as entries, and a line for
    every administration not given (``not-done``, ``entered-in-error``). Any other status
    (in-progress, stopped, on-hold, unknown) refuses the file: how much was given is unknown."""
    source = str(path)
    try:
        raw = json.loads(
            data,
            object_pairs_hook=_object,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_constant,
        )
    except (ValueError, RecursionError) as e:
        raise FileError(Problem(f"is not valid JSON ({e})", file=source)) from None
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise FileError(Problem("a FHIR import is a Bundle (resourceType: Bundle)", file=source))
    problems = []
    try:
        _shape(Bundle, raw, "")
    except ValueError as e:
        raise FileError(Problem(str(e), file=source)) from None
    found = _twice({k: v for k, v in raw.items() if k != "entry"}, "")
    if found or raw.twice:
        where, key = found or ("", raw.twice[0])
        raise FileError(
            Problem(f"{where or 'the Bundle'}: the key '{key}' is given twice", file=source)
        )
    items: list[tuple[int, dict[str, Any], str | None]] = []
    for i, item in enumerate(raw.get("entry") or []):  # as parsed: keys given twice are marked
        where = f"{source} entry {i}"
        try:
            twice = _twice(item, "")
            if twice:
                raise ValueError(f"{twice[0] or 'the entry'}: the key '{twice[1]}' is given twice")
            e = _shape(_Entry, item, "")
            if e.resource is not None:
                items.append((i, e.resource, e.fullUrl))
        except ValueError as err:
            problems.append(Problem(str(err), file=where))
    medications: dict[str, Medication] = {}
    for i, res, full in items:
        if res.get("resourceType") == "Medication":
            try:
                medication = _shape(Medication, res, "resource")
            except ValueError as err:
                problems.append(Problem(str(err), file=f"{source} entry {i}"))
                continue
            for ref in (f"Medication/{medication.id}" if medication.id else None, full):
                if ref:
                    medications[ref] = medication
    out, skipped = [], []
    for i, res, _ in items:
        if res.get("resourceType") != "MedicationAdministration":
            continue
        where = f"{source} entry {i}"
        try:
            given = _shape(MedicationAdministration, res, "resource")
            if given.status in NOT_GIVEN:
                skipped.append(f"{where}: status {given.status}, nothing given; not recorded")
                continue
            if given.status not in TAKEN:
                raise ValueError(
                    f"status '{given.status}' does not say how much was given; only completed "
                    "administrations are recorded (not-done and entered-in-error are skipped)"
                )
            out.append(_entry(given, medications, patient, where))
        except ValueError as err:
            problems.append(Problem(str(err), file=where))
    if problems:
        raise FileError(*problems[:20])
    if not out and not skipped:
        raise FileError(Problem("the Bundle holds no MedicationAdministration", file=source))
    return out, skipped


def _when(res: MedicationAdministration) -> tuple[str, str | None]:
    """The day (and HH:MM, where given) the administration was given."""
    if res.effectiveDateTime is not None and res.effectivePeriod is not None:
        raise ValueError("give effectiveDateTime or effectivePeriod, not both")
    field, text = "resource.effectiveDateTime", res.effectiveDateTime
    if text is None and res.effectivePeriod is not None:
        field, text = "resource.effectivePeriod.start", res.effectivePeriod.start
    if text is None:
        raise ValueError("no effectiveDateTime (or effectivePeriod.start) says when it was given")
    m = _DATETIME.fullmatch(text)
    try:
        if not m:
            raise ValueError
        date.fromisoformat(m["date"])
        if m["time"]:
            datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{field} '{text}' is not a FHIR dateTime with a day; write e.g. 2024-01-05 or "
            "2024-01-05T09:30:00+01:00"
        ) from None
    return m["date"], m["time"]


def _unit(q: Quantity) -> str:
    """The dose's unit: its UCUM code, which any unit text must agree with."""
    if q.system is not None and q.system != UCUM and q.code is not None:
        raise ValueError(
            f"resource.dosage.dose.system '{q.system}' is not UCUM ({UCUM}); give the dose's "
            "unit as a UCUM code"
        )
    if q.code is None:
        if not q.unit:
            raise ValueError("resource.dosage.dose needs a UCUM code (or a unit), e.g. mg/m2")
        return q.unit
    if q.unit is not None and q.unit.strip() != q.code.strip():
        try:
            same = hist.dose_unit(q.unit.strip()) == hist.dose_unit(q.code.strip())
        except ValueError:
            same = False
        if not same:
            raise ValueError(
                f"resource.dosage.dose.unit '{q.unit}' is not the unit its UCUM code "
                f"'{q.code}' says; the code is the unit: correct or remove the text"
            )
    return q.code


def _entry(
    res: MedicationAdministration,
    medications: dict[str, Medication],
    patient: str | None,
    where: str,
) -> Entry:
    subject = (res.subject.reference if res.subject else None) or ""
    own = subject.split("/", 1)[1] if subject.startswith("Patient/") else None
    if patient is not None and own is not None and own != patient:
        raise ValueError(f"this administration is for {subject}, not --patient {patient}")
    if patient is None and own is None:
        raise ValueError("the administration names no Patient/ subject; give --patient ID")
    day, at = _when(res)
    dose = res.dosage.dose if res.dosage else None
    if dose is None or dose.value is None:
        raise ValueError("resource.dosage.dose needs a value and a unit (e.g. 40 mg/m2)")
    if not dose.value.is_finite():
        raise ValueError("resource.dosage.dose.value is not a finite number")
    ident = res.id
    if ident is None and res.identifier:
        ident = res.identifier[0].value
    return Entry(
        patient or own or "",
        day,
        _drug(res, medications),
        str(dose.value),
        _unit(dose),
        source=where,
        note=res.note[0].text if res.note else None,
        time=at,
        source_id=ident,
    )


def _drug(res: MedicationAdministration, medications: dict[str, Medication]) -> str:
    """The one drug the medication names, in its text and its codings' displays."""
    if res.medicationCodeableConcept is not None and res.medicationReference is not None:
        raise ValueError("give medicationCodeableConcept or medicationReference, not both")
    concept, field = res.medicationCodeableConcept, "resource.medicationCodeableConcept"
    if concept is None:
        ref = res.medicationReference.reference if res.medicationReference else None
        medication = medications.get(ref) if ref else None
        if medication is None:
            raise ValueError(
                f"the medication {ref or '(none)'} is not in the Bundle; give "
                "medicationCodeableConcept or include the Medication"
            )
        concept, field = medication.code or CodeableConcept(), f"Medication {ref}: code"
    names = [("text", concept.text)] + [
        (f"coding[{i}].display", c.display) for i, c in enumerate(concept.coding or [])
    ]
    from dosecalc.data import drugs

    found: dict[str, tuple[str, str]] = {}  # drug → (where, the name as written)
    for where, name in names:
        if name and name.strip():
            try:
                known, abbreviation = drugs.resolve(name.strip())
            except (DosecalcError, ValueError):
                continue
            # an abbreviation kept as written, so that it is reported as read
            written = name.strip() if abbreviation else known.name
            found.setdefault(known.name, (f"{where} '{name.strip()}'", written))
    if len(found) > 1:
        said = "; ".join(f"{w} is {d}" for d, (w, _) in found.items())
        raise ValueError(f"{field} names more than one drug ({said}): which was given?")
    if not found:
        shown = ", ".join(repr(n) for _, n in names if n) or "nothing"
        raise ValueError(f"{field} names no drug dosecalc knows ({shown})")
    return next(iter(found.values()))[1]  # as written, so an abbreviation is reported
