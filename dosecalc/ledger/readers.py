"""Files to import into the ledger: history CSV and YAML (CONTRACT §5), FHIR R4 Bundles of
MedicationAdministrations. Each becomes a list of :class:`Entry`, checked by the ledger as it
records them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from dosecalc import history as hist
from dosecalc.errors import DosecalcError, FileError, Problem
from dosecalc.ledger.store import SOURCE_LIMIT, Entry


def read_source(path: Path) -> tuple[bytes, str]:
    """An import file's bytes and their SHA-256 (kept with every record it gives)."""
    data = hist.open_checked(path, SOURCE_LIMIT, Path.read_bytes)
    return data, hashlib.sha256(data).hexdigest()


def entries_from_rows(
    rows: list[tuple[int | None, dict[str, Any]]], source: str, patient: str | None
) -> list[Entry]:
    """History rows (line, mapping) → entries; the patient is ``patient`` or the row's own."""
    out, problems = [], []
    for line, raw in rows:
        where = f"{source}:{line}" if line else source
        own = hist._text(raw.get("patient"))
        if patient is not None and own is not None and own != patient:
            problems.append(
                Problem(
                    f"this row is for patient {own}, not --patient {patient}",
                    file=source,
                    line=line,
                )
            )
            continue
        who_ = patient or own
        if who_ is None:
            problems.append(
                Problem(
                    "this row names no patient; give --patient ID (or a patient column)",
                    file=source,
                    line=line,
                )
            )
            continue
        try:
            cycle = hist._int(raw.get("cycle"), "cycle", 1)
            day = hist._int(raw.get("day"), "day", -366)
        except ValueError as e:
            problems.append(Problem(str(e), file=source, line=line))
            continue
        bsa = raw.get("bsa_m2")
        out.append(
            Entry(
                who_,
                str(raw.get("date") or "").strip(),
                str(raw.get("drug") or "").strip(),
                str(raw.get("dose") if raw.get("dose") is not None else "").strip(),
                str(raw.get("unit") or "").strip(),
                str(bsa).strip() if bsa not in (None, "") else None,
                hist._text(raw.get("regimen")),
                cycle,
                day,
                hist._text(raw.get("note")),
                where,
            )
        )
    if problems:
        raise FileError(*problems[:20])
    return out


def history_rows(path: Path, data: bytes) -> list[tuple[int | None, dict[str, Any]]]:
    """The rows of a history CSV or YAML (CONTRACT §5), with their line numbers."""
    import csv
    import io

    source = str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(Problem("is not UTF-8 text", file=source)) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return hist.yaml_items(text, source)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        if reader.fieldnames is None:
            raise FileError(Problem("the file is empty", file=source))
        hist._check_columns([c.strip() for c in reader.fieldnames], source, 1)
        rows = []
        for raw in reader:
            if None in raw or None in raw.values():
                raise FileError(
                    Problem(
                        "this row's fields do not match the header",
                        file=source,
                        line=reader.line_num,
                    )
                )
            rows.append((reader.line_num, {k.strip(): v for k, v in raw.items()}))
    except csv.Error as e:
        raise FileError(
            Problem(f"not a valid CSV file ({e})", file=source, line=reader.line_num)
        ) from None
    return rows


# FHIR R4 MedicationAdministration bundles ----------------------------------------------------

FHIR_TAKEN = {"completed"}
FHIR_NOT_GIVEN = {"not-done", "entered-in-error"}  # nothing was given: reported, not recorded


def fhir_entries(path: Path, data: bytes, patient: str | None) -> tuple[list[Entry], list[str]]:
    """The completed MedicationAdministrations of a FHIR R4 Bundle as entries, and a line for
    every administration not given (``not-done``, ``entered-in-error``). Any other status
    (in-progress, stopped, on-hold, unknown) refuses the file: how much was given is unknown."""
    source = str(path)
    try:
        bundle = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise FileError(Problem(f"is not valid JSON ({e})", file=source)) from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FileError(Problem("a FHIR import is a Bundle (resourceType: Bundle)", file=source))
    resources = [
        (i, e.get("resource"), e.get("fullUrl"))
        for i, e in enumerate(bundle.get("entry") or [])
        if isinstance(e, dict)
    ]
    medications = {}
    for _, res, full in resources:
        if isinstance(res, dict) and res.get("resourceType") == "Medication":
            for ref in (f"Medication/{res.get('id')}", full):
                if ref:
                    medications[ref] = res
    entries, skipped, problems = [], [], []
    for i, res, _ in resources:
        if not isinstance(res, dict) or res.get("resourceType") != "MedicationAdministration":
            continue
        where = f"{source} entry {i}"
        try:
            status = res.get("status")
            if status in FHIR_NOT_GIVEN:
                skipped.append(f"{where}: status {status}, nothing given; not recorded")
                continue
            if status not in FHIR_TAKEN:
                raise ValueError(
                    f"status '{status}' does not say how much was given; only completed "
                    "administrations are recorded (not-done and entered-in-error are skipped)"
                )
            entries.append(_fhir_entry(res, medications, patient, where))
        except ValueError as e:
            problems.append(Problem(str(e), file=where))
    if problems:
        raise FileError(*problems[:20])
    if not entries and not skipped:
        raise FileError(Problem("the Bundle holds no MedicationAdministration", file=source))
    return entries, skipped


def _fhir_entry(
    res: dict[str, Any], medications: dict[str, Any], patient: str | None, where: str
) -> Entry:
    subject = (res.get("subject") or {}).get("reference") or ""
    own = subject.split("/", 1)[1] if subject.startswith("Patient/") else None
    if patient is not None and own is not None and own != patient:
        raise ValueError(f"this administration is for {subject}, not --patient {patient}")
    if patient is None and own is None:
        raise ValueError("the administration names no Patient/ subject; give --patient ID")
    when = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start")
    if not isinstance(when, str) or len(when) < 10:
        raise ValueError("no effectiveDateTime (or effectivePeriod.start) says when it was given")
    dose = ((res.get("dosage") or {}).get("dose")) or {}
    value, unit = dose.get("value"), dose.get("unit") or dose.get("code")
    if not isinstance(value, int | float) or isinstance(value, bool) or not unit:
        raise ValueError("dosage.dose needs a numeric value and a unit (e.g. 40 mg/m2)")
    return Entry(
        patient or own or "",
        when[:10],
        _fhir_drug(res, medications),
        repr(value) if isinstance(value, float) else str(value),
        str(unit),
        source=where,
        note=(res.get("note") or [{}])[0].get("text") if res.get("note") else None,
    )


def _fhir_drug(res: dict[str, Any], medications: dict[str, Any]) -> str:
    concept = res.get("medicationCodeableConcept")
    if concept is None:
        ref = (res.get("medicationReference") or {}).get("reference")
        medication = medications.get(ref)
        if medication is None:
            raise ValueError(
                f"the medication {ref or '(none)'} is not in the Bundle; give "
                "medicationCodeableConcept or include the Medication"
            )
        concept = medication.get("code") or {}
    names = [concept.get("text")] + [c.get("display") for c in concept.get("coding") or []]
    from dosecalc import drugs

    for name in names:
        if isinstance(name, str) and name.strip():
            try:
                return drugs.lookup(name.strip()).name
            except DosecalcError:
                continue
    raise ValueError(
        f"no drug dosecalc knows in the medication's text or codings ({', '.join(map(str, names))})"
    )
