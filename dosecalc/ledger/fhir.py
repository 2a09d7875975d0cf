"""FHIR R4/R4B Bundles of MedicationAdministrations, read into ledger entries by the one strict
FHIR policy of inputs/fhir.py (the same as an order's): every field read is held to its FHIR
JSON type, with the entry's index and the path of the field (a number written as text, a key
given twice); a dose's UCUM code is its unit; a medication's text and codings name one drug.

Only the fields dosecalc reads are modelled; ``fhir.resources`` is not needed here (it converts
``"50"`` to the number 50, which is why the shapes are checked as written).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from dosecalc.base.errors import FileError, Problem
from dosecalc.data.records import patient_id
from dosecalc.inputs import fhir
from dosecalc.ledger.store import Entry

TAKEN = {"completed"}
NOT_GIVEN = {"not-done", "entered-in-error"}  # nothing was given: reported, not recorded
# FHIR dateTime, at least to the day (a dose needs its date): 2024-01-05, 2024-01-05T09:30:00Z
_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}):\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?"
)


# A Patient reference: relative or absolute, perhaps to one version (Patient/P1/_history/2 is
# patient P1, not a patient 'P1/_history/2' whose doses no check of P1 would count)
_PATIENT = re.compile(r"(?:[a-z][a-z0-9+.-]*://\S+/)?Patient/(?P<id>[^/]+)(?:/_history/[^/]+)?")


class Dosage(fhir.Shape):
    dose: fhir.Quantity | None = None


class MedicationAdministration(fhir.Shape):
    resourceType: Literal["MedicationAdministration"]
    id: str | None = None
    identifier: list[fhir.Identifier] | None = None
    status: str
    medicationCodeableConcept: fhir.CodeableConcept | None = None
    medicationReference: fhir.Reference | None = None
    subject: fhir.Reference | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: fhir.Period | None = None
    dosage: Dosage | None = None
    note: list[fhir.Annotation] | None = None
    contained: list[dict[str, Any]] | None = None  # a medicationReference '#id' names one


# The bundle -------------------------------------------------------------------------------


def entries(
    path: Path, data: bytes, patient: str | None
) -> tuple[list[Entry], list[str], list[tuple[str, str]]]:
    """The completed MedicationAdministrations of a FHIR R4 Bundle as entries, and a line for
    every administration not given (``not-done``, ``entered-in-error``) and for each kind of
    resource not read (a MedicationStatement of doses given elsewhere is not imported). Any other status
    (in-progress, stopped, on-hold, unknown) refuses the file: how much was given is unknown.
    Third: (the patient recorded, its MRN) where the bundle's Patient gives another MRN."""
    source = str(path)
    raw = fhir.parse(data, source, "a FHIR import is a Bundle")
    items, problems = fhir.entries(raw, source)
    medications: dict[str, fhir.Medication] = {}
    for i, res, full in items:
        if res.get("resourceType") == "Medication":
            try:
                medication = fhir.shape(fhir.Medication, res, "resource")
            except ValueError as err:
                problems.append(Problem(str(err), file=f"{source} entry {i}"))
                continue
            for ref in (f"Medication/{medication.id}" if medication.id else None, full):
                if ref:
                    medications[ref] = medication
    mrns = {  # the bundle's Patients' MRNs, by the references that name them
        ref: mrn
        for _, res, full in items
        if res.get("resourceType") == "Patient" and (mrn := fhir.mrn_of(res))
        for ref in (f"Patient/{res.get('id')}", full)
        if ref
    }
    out, skipped = [], []
    by_mrn: set[tuple[str, str]] = set()  # (the patient recorded, the MRN the bundle gives)
    # resources not read (a MedicationStatement's doses are not imported): named in the output
    others: dict[str, int] = {}
    named: dict[tuple[str, str], int] = {}  # an administration's identifier → its entry
    for i, res, _ in items:
        kind = res.get("resourceType")
        if kind not in ("MedicationAdministration", "Medication", "Patient"):  # a Patient: its MRN
            name = kind if isinstance(kind, str) and kind else "untyped"
            others[name] = others.get(name, 0) + 1
        if kind != "MedicationAdministration":
            continue
        where = f"{source} entry {i}"
        try:
            given = fhir.shape(MedicationAdministration, res, "resource")
            for ident in given.identifier or []:
                if ident.value is None:
                    continue
                first = named.setdefault((ident.system or "", ident.value), i)
                if first != i:  # another resource id, the same administration (and its status?)
                    raise ValueError(
                        f"the identifier {ident.system or ''}|{ident.value} is that of entry "
                        f"{first} too: one administration given twice (perhaps once as "
                        "entered-in-error); keep the one that is meant"
                    )
            if given.status in NOT_GIVEN:
                skipped.append(f"{where}: status {given.status}, nothing given; not recorded")
                continue
            if given.status not in TAKEN:
                raise ValueError(
                    f"status '{given.status}' does not say how much was given; only completed "
                    "administrations are recorded (not-done and entered-in-error are skipped)"
                )
            entry, mrn = _entry(given, medications, patient, where, mrns)
            out.append(entry)
            if mrn is not None and mrn != entry.patient:
                by_mrn.add((entry.patient, mrn))
        except ValueError as err:
            problems.append(Problem(str(err), file=where))
    if problems:
        raise FileError(*problems[:20])
    if not out and not skipped:
        raise FileError(Problem("the Bundle holds no MedicationAdministration", file=source))
    skipped += [
        f"{source}: {n} {kind} resource{'s' if n > 1 else ''} not read (only "
        "MedicationAdministrations are imported)"
        for kind, n in sorted(others.items())
    ]
    return out, skipped, sorted(by_mrn)


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


def _entry(
    res: MedicationAdministration,
    medications: dict[str, fhir.Medication],
    patient: str | None,
    where: str,
    mrns: dict[str, str],
) -> tuple[Entry, str | None]:
    """The entry, and the MRN the bundle's Patient gives its subject (None: none given)."""
    subject = (res.subject.reference if res.subject else None) or ""
    found = _PATIENT.fullmatch(subject)
    own = patient_id(found["id"]) if found else None
    mrn = mrns.get(subject) or (mrns.get(f"Patient/{found['id']}") if found else None)
    if patient is not None and own is not None and patient not in (own, mrn):
        raise ValueError(f"this administration is for {subject}, not --patient {patient}")
    if patient is None and own is None:
        raise ValueError(
            f"the administration's subject {subject or '(none)'} is no Patient/ID reference; "
            "give --patient ID"
        )
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
        fhir.dose_unit(dose, "resource.dosage.dose"),
        source=where,
        note=res.note[0].text if res.note else None,
        time=at,
        source_id=ident,
    ), mrn


def _drug(res: MedicationAdministration, medications: dict[str, fhir.Medication]) -> str:
    """The one drug the medication names (as written, so an abbreviation is reported)."""
    if res.medicationCodeableConcept is not None and res.medicationReference is not None:
        raise ValueError("give medicationCodeableConcept or medicationReference, not both")
    concept, field = res.medicationCodeableConcept, "resource.medicationCodeableConcept"
    if concept is None:
        ref = res.medicationReference.reference if res.medicationReference else None
        contained = {
            f"#{c.get('id')}": fhir.shape(fhir.Medication, c, "resource.contained")
            for c in res.contained or []
            if c.get("resourceType") == "Medication"
        }
        medication = (medications.get(ref) or contained.get(ref)) if ref else None
        if medication is None:
            raise ValueError(
                f"the medication {ref or '(none)'} is not in the Bundle; give "
                "medicationCodeableConcept or include the Medication (in the Bundle or contained)"
            )
        concept, field = medication.code, f"Medication {ref}: code"
        return fhir.drug_named(concept, field, medication.form)[1]
    return fhir.drug_named(concept, field)[1]
