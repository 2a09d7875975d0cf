"""FHIR R4 read strictly, one policy for every path: orders to verify (Bundles of
MedicationRequests, inputs/fhirorder.py) and administrations to import into the ledger (Bundles
of MedicationAdministrations, ledger/fhir.py).

The JSON is parsed strictly (a key given twice in one object, NaN or Infinity refused; numbers
kept exactly, as Decimal), then every field dosecalc reads is held to its FHIR JSON type with
the entry's index and the path of the field: a number written as text (``"50"``), a string
where an object is due, a decimal ``true``. ``fhir.resources`` would take ``"50"`` for 50, so
these shapes are checked first, on the JSON as written; an order's resources are then also
validated with its typed R4B models. Fields dosecalc does not read are left alone.

What a field says must agree with the rest: a dose's UCUM ``code`` is its unit, and a ``unit``
text naming another unit is an error; a medication's ``text`` and its codings' displays must
name one drug, and a drug dosecalc does not know is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from dosecalc.base.errors import DosecalcError, FileError, Problem

UCUM = "http://unitsofmeasure.org"
# UCUM codes whose text dosecalc's unit reader spells otherwise
UCUM_UNITS = {"[U]": "units", "U": "units", "ug": "mcg", "[IU]": "IU", "[iU]": "IU"}


class Shape(BaseModel):
    """Strict JSON types; fields dosecalc does not read are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, defer_build=True)


class Coding(Shape):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(Shape):
    coding: list[Coding] | None = None
    text: str | None = None


class Reference(Shape):
    reference: str | None = None
    display: str | None = None


class Quantity(Shape):
    value: Decimal | None = None  # JSON numbers are read as Decimal, never float or text
    comparator: str | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Period(Shape):
    start: str | None = None
    end: str | None = None


class Annotation(Shape):
    text: str


class Identifier(Shape):
    system: str | None = None
    value: str | None = None


V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def is_mrn(codings: Iterable[tuple[Any, Any]], text: Any) -> bool:
    """An identifier typed as the medical record number: type text 'MRN', or a (system, code)
    coding of HL7 v2-0203 code MR."""
    coded = any(system == V2_0203 and code == "MR" for system, code in codings)
    return coded or (isinstance(text, str) and text.strip() == "MRN")


def mrn_of(patient: Any) -> str | None:
    """The MRN of a Patient resource as a bundle holds it (its JSON object), or None."""
    for ident in patient.get("identifier") or [] if isinstance(patient, dict) else []:
        kind = ident.get("type") if isinstance(ident, dict) else None
        if not isinstance(kind, dict):
            continue
        codings = [
            (c.get("system"), c.get("code"))
            for c in kind.get("coding") or []
            if isinstance(c, dict)
        ]
        value = ident.get("value")
        if is_mrn(codings, kind.get("text")) and isinstance(value, str) and value.strip():
            return value.strip()
    return None


class Medication(Shape):
    id: str | None = None
    code: CodeableConcept | None = None
    form: CodeableConcept | None = None  # 'liposomal suspension': not the conventional drug


class EntryRequest(Shape):
    method: str | None = None
    url: str | None = None


class Entry(Shape):
    fullUrl: str | None = None
    resource: dict[str, Any] | None = None
    request: EntryRequest | None = None  # a transaction's: DELETE removes, it gives nothing


class Bundle(Shape):
    entry: list[dict[str, Any]] | None = None


# ---------------------------------------------------------------- reading JSON strictly


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


def twice(value: Any, path: str = "") -> tuple[str, str] | None:
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


def parse(data: bytes | str, source: str, what: str) -> dict[str, Any]:
    """A FHIR Bundle's JSON, parsed strictly; ``what`` says what the Bundle should hold (for
    the message when it is not a Bundle). Keys given twice are refused here, outside the
    entries, and by :func:`entries` inside each."""
    try:
        raw = json.loads(
            data,
            object_pairs_hook=_object,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as e:
        raise FileError(Problem(f"not valid JSON: {e.msg}", file=source, line=e.lineno)) from None
    except (ValueError, RecursionError) as e:
        raise FileError(Problem(f"is not valid JSON ({e})", file=source)) from None
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise FileError(Problem(f"{what} (resourceType: Bundle)", file=source))
    try:
        shape(Bundle, raw, "")
    except ValueError as e:
        raise FileError(Problem(str(e), file=source)) from None
    found = twice({k: v for k, v in raw.items() if k != "entry"})
    if found or raw.twice:
        where, key = found or ("", raw.twice[0])
        raise FileError(
            Problem(f"{where or 'the Bundle'}: the key '{key}' is given twice", file=source)
        )
    return raw


def entries(
    raw: dict[str, Any], source: str
) -> tuple[list[tuple[int, dict[str, Any], str | None]], list[Problem]]:
    """The Bundle's entries that hold a resource: (index, resource, fullUrl), and the problems
    of those that are not well formed (a key twice, a wrong JSON type), or that give a fullUrl,
    or a resource type and id, of an earlier entry (FHIR's bdl-7: one resource twice in a
    Bundle, perhaps with another status, is one thing said twice, and which is meant is
    unknown)."""
    items, problems = [], []
    first: dict[tuple[str, str], int] = {}
    for i, item in enumerate(raw.get("entry") or []):
        where = f"{source} entry {i}"
        try:
            found = twice(item)
            if found:
                raise ValueError(f"{found[0] or 'the entry'}: the key '{found[1]}' is given twice")
            e = shape(Entry, item, "")
            method = e.request.method if e.request is not None else None
            if method is not None and method not in ("POST", "PUT"):
                raise ValueError(  # a DELETE of an administration read as one given: counted
                    f"request.method {method} ({e.request.url or 'no url'}) asks a server to "
                    f"{'remove' if method == 'DELETE' else 'read or change'} a resource: it is "
                    "no resource to read; give the resources themselves (a collection, or a "
                    "transaction's POST and PUT entries)"
                )
            if e.resource is not None:
                kind, ident = e.resource.get("resourceType"), e.resource.get("id")
                for key, said in (
                    (("fullUrl", e.fullUrl), f"fullUrl {e.fullUrl}"),
                    (("id", f"{kind}/{ident}"), f"resource {kind}/{ident}"),
                ):
                    if key[1] is None or (key[0] == "id" and not isinstance(ident, str)):
                        continue
                    if key in first:
                        raise ValueError(
                            f"the {said} is that of entry {first[key]} too: one resource given "
                            "twice in a Bundle (FHIR bdl-7); keep the one that is meant"
                        )
                    first[key] = i
                items.append((i, e.resource, e.fullUrl))
        except ValueError as err:
            problems.append(Problem(str(err), file=where))
    return items, problems


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
        "int_type": "a whole JSON number",
    }.get(err["type"], err["msg"].lower())
    return f"{path} is {_json_type(err['input'])}; {want} is due"


def shape(model: type[Shape], value: Any, prefix: str) -> Any:
    """``value`` held to ``model``'s JSON types; ValueError naming the path of the first that
    is not."""
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise ValueError(_shape_error(e, prefix)) from None


# ---------------------------------------------------------------- what the fields say


def dose_unit(q: Quantity, field: str) -> str:
    """A dose's unit: its UCUM code, which a unit text must agree with (``unit: mg`` with
    ``code: g`` is a factor of 1,000 apart, and refused). A dose with a comparator (``<``,
    ``>=``) is no amount, and refused."""
    from dosecalc.inputs import history as hist

    if q.comparator is not None:  # '<' 160 mg given is not 160 mg given, nor a dose to give
        raise ValueError(
            f"{field}.comparator '{q.comparator}' makes the dose a bound, not an amount; give "
            "the dose itself (without a comparator)"
        )
    if q.system is not None and q.system != UCUM and q.code is not None:
        raise ValueError(
            f"{field}.system '{q.system}' is not UCUM ({UCUM}); give the dose's unit as a UCUM code"
        )
    if q.code is None:
        if not q.unit:
            raise ValueError(f"{field} needs a UCUM code (or a unit), e.g. mg")
        return q.unit
    code = UCUM_UNITS.get(q.code.strip(), q.code.strip())
    if q.unit is not None and q.unit.strip() not in (q.code.strip(), code):
        try:
            same = hist.dose_unit(q.unit.strip()) == hist.dose_unit(code)
        except ValueError:
            same = False
        if not same:
            raise ValueError(
                f"{field}.unit '{q.unit}' is not the unit its UCUM code '{q.code}' says; the "
                "code is the unit: correct or remove the text"
            )
    return code


def drug_named(
    concept: CodeableConcept | None, field: str, form: CodeableConcept | None = None
) -> tuple[str, str]:
    """The one drug a medication names, in its text and its codings' displays: (canonical
    name, the name as written, so that an abbreviation is reported as read). Two drugs, or
    none dosecalc knows, are refused; so is a conventional drug whose Medication.form names a
    special formulation (liposomal, pegylated, ...)."""
    from dosecalc.data import drugs

    concept = concept or CodeableConcept()
    names = [("text", concept.text)] + [
        (f"coding[{i}].display", c.display) for i, c in enumerate(concept.coding or [])
    ]
    found: dict[str, tuple[str, str]] = {}  # drug → (where, the name as written)
    special: list[str] = []  # names of a special formulation dosecalc does not know
    forms = [("form.text", form.text)] if form is not None else []
    forms += (
        [(f"form.coding[{i}].display", c.display) for i, c in enumerate(form.coding or [])]
        if form
        else []
    )
    special += [f"{where} '{n.strip()}'" for where, n in forms if n and drugs.special_form(n)]
    for where, name in names:
        if name and name.strip():
            try:
                known, abbreviation = drugs.resolve(name.strip())
            except drugs.UnknownDrug:
                continue  # a product name, say: the other names must name the drug
            except (DosecalcError, ValueError) as e:
                # a liposomal product's coding beside a text naming the drug is not the
                # conventional drug; an ambiguous or undosed name is not skipped either
                if not drugs.special_form(name):
                    raise ValueError(f"{field} {where}: {e}") from None
                special.append(f"{where} '{name.strip()}'")
                continue
            written = name.strip() if abbreviation else known.name
            found.setdefault(known.name, (f"{where} '{name.strip()}'", written))
    conventional = [(d, w) for d, (w, _) in found.items() if not drugs.special(d)]
    if special and (conventional or not found):
        named = f"; {conventional[0][1]} is {conventional[0][0]}" if conventional else ""
        raise ValueError(
            f"{field}: {special[0]} names a special formulation (liposomal, pegylated, "
            f"protein-bound, ...) dosecalc does not know{named}; it is not interchangeable with "
            "the conventional drug: name the formulation given as dosecalc names it (e.g. liposomal "
            "doxorubicin) or remove the coding that names another product"
        )
    if len(found) > 1:
        said = "; ".join(f"{w} is {d}" for d, (w, _) in found.items())
        raise ValueError(f"{field} names more than one drug ({said}): which is meant?")
    if not found:
        codes = [f"{c.system or '?'}|{c.code}" for c in (concept.coding or []) if c.code]
        shown = ", ".join([repr(n) for _, n in names if n] + codes) or "nothing"
        raise ValueError(
            f"{field} names no drug dosecalc knows ({shown}); dosecalc reads drug names, not "
            "codes alone"
        )
    return next(iter((d, w) for d, (_, w) in found.items()))
