"""Files to import into the ledger: history CSV and YAML, FHIR R4 Bundles of
MedicationAdministrations. Each becomes a list of :class:`Entry`, checked by the ledger as it
records them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dosecalc.base.errors import FileError, Problem
from dosecalc.inputs import history as hist
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
        try:
            own = hist.patient_cell(raw.get("patient"))
        except ValueError as e:
            problems.append(Problem(str(e), file=source, line=line))
            continue
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
            cycle = hist.int_cell(raw.get("cycle"), "cycle", 1)
            day = hist.int_cell(raw.get("day"), "day", -366)
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
                hist.text_cell(raw.get("regimen")),
                cycle,
                day,
                hist.text_cell(raw.get("note")),
                where,
                hist.text_cell(raw.get("time")),
                hist.text_cell(raw.get("id")),
            )
        )
    if problems:
        raise FileError(*problems[:20])
    return out


def history_rows(path: Path, data: bytes) -> list[tuple[int | None, dict[str, Any]]]:
    """The rows of a history CSV or YAML, with their line numbers."""
    import csv
    import io

    from dosecalc.base.csvout import unescape

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
        hist.check_columns([c.strip() for c in reader.fieldnames], source, 1)
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
            rows.append((reader.line_num, {k.strip(): unescape(v) for k, v in raw.items()}))
    except csv.Error as e:
        raise FileError(
            Problem(f"not a valid CSV file ({e})", file=source, line=reader.line_num)
        ) from None
    return rows


def fhir_entries(
    path: Path, data: bytes, patient: str | None
) -> tuple[list[Entry], list[str], list[tuple[str, str]]]:
    """The completed MedicationAdministrations of a FHIR R4 Bundle as entries, a line for
    every administration not given, and the patients whose MRN the bundle gives otherwise (see
    :mod:`.fhir`)."""
    from dosecalc.ledger import fhir

    return fhir.entries(path, data, patient)
