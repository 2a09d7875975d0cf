"""``dosecalc ledger …``: record one administration, import a file of them, void one, list,
export and verify. The ledger itself (its records, hash chain and witness) is ledger/; here are
the steps a command takes around it. Nothing here prints: the warnings a ledger gathered are on
``ledger.warnings`` and the notices about drug names are returned, for the command line to say
once the write is done."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dosecalc.base.errors import FileError, Problem, fail


@dataclass(frozen=True)
class Written:
    ledger: Any  # ledger.Ledger
    records: list[dict[str, Any]]  # what was written, as the ledger lists it
    notices: list[Any]  # the abbreviations read (Alerts), to say after the write
    skipped: list[str]  # what a FHIR bundle held that is not a dose given


def _name_notices(texts: Iterable[tuple[str, str | None, int | None, str | None]]) -> list[Any]:
    """Before a ledger write: the abbreviations among the drug names, as notices to say once
    the write is done, or a refusal under the policy names.abbreviations = refuse (the policy
    in force by default)."""
    from dosecalc.clinical.plan import name_alerts
    from dosecalc.data import drugs
    from dosecalc.workflows import gather

    return name_alerts(gather.policy(None, None), drugs.names_read(texts))


def record(
    patient: str,
    day: str,
    drug: str,
    dose: str,
    bsa: str | None = None,
    regimen: str | None = None,
    cycle: str | None = None,
    cycle_day: str | None = None,
    note: str | None = None,
    time: str | None = None,
    source_id: str | None = None,
    by: str | None = None,
    again: bool = False,
    high_dose: str | None = None,
    db: str | None = None,
) -> Written:
    """One administration recorded (``ledger record``)."""
    from dosecalc.base import strict, units
    from dosecalc.clinical.patient import parse_bsa
    from dosecalc.data.regimen import MAX_CYCLES
    from dosecalc.ledger import Entry, Ledger

    try:
        number, unit = units.split_text(dose)
    except ValueError as e:
        raise fail("--dose", f"{e}; write e.g. 40mg/m2 or 72mg") from None
    if not unit:
        raise fail(
            "--dose", f"'{dose}' has no unit; write e.g. {dose.strip()}mg/m2 or {dose.strip()}mg"
        )
    try:  # the option named, as every other option's error names it
        strict.iso_date(day.strip())
    except ValueError as e:
        raise fail("--date", str(e)) from None
    from dosecalc.workflows.gather import patient_option

    entry = Entry(
        patient_option(patient),
        day.strip(),
        drug,
        number,
        unit,
        f"{parse_bsa(bsa):g}" if bsa is not None else None,
        regimen,
        strict.whole_option(cycle, "--cycle", 1, MAX_CYCLES, "a cycle number"),
        strict.whole_option(cycle_day, "--day", -366, 366, "a day of a cycle"),
        note,
        time=time.strip() if time is not None else None,
        source_id=source_id.strip() if source_id is not None else None,
    )
    ledger = Ledger(db, create=True)  # a damaged ledger is refused before any notice
    notices = _name_notices([(entry.drug, None, None, "--drug")])
    [seq] = ledger.record([entry], by=by, again=again, high_dose=high_dose)
    [written] = [x for x in ledger.records(entry.patient) if x["seq"] == seq]
    return Written(ledger, [written], notices + _without_bsa([entry]), [])


def _without_bsa(entries: Sequence[Any]) -> list[Any]:
    """DOSE_WITHOUT_BSA for the doses written without their day's BSA whose drug's lifetime
    total is kept the other way: one notice for each drug and unit, naming the rows."""
    from dosecalc import ledger as lg
    from dosecalc.clinical.cumulative import dose_without_bsa
    from dosecalc.data import drugs

    rows: dict[tuple[str, str], list[str]] = {}
    for e in entries:
        if e.bsa_m2 is None:
            key = (drugs.lookup(e.drug).name, e.unit.strip())
            rows.setdefault(key, []).append(e.source)
    notices = []
    for (drug, unit), where in rows.items():
        per_m2 = unit.replace("²", "2").replace(" ", "").endswith("/m2")
        imported = [w for w in where if w != lg.RECORD_SOURCE]  # a file's rows are named
        notice = dose_without_bsa(drug, unit, per_m2, False, imported)
        if notice:
            notices.append(notice)
    return notices


def import_file(
    file: Path,
    patient: str | None = None,
    by: str | None = None,
    again: bool = False,
    high_dose: str | None = None,
    db: str | None = None,
    before_write: Callable[[Any, int], None] | None = None,
) -> tuple[Written, dict[str, Any]]:
    """A file of one patient's past administrations, all or nothing (``ledger import``):
    what was written, and the summary of the import."""
    from dosecalc import ledger as lg
    from dosecalc.workflows.gather import patient_option

    who = patient_option(patient) if patient is not None else None
    data, sha = lg.read_source(file)
    skipped: list[str] = []
    by_mrn: list[tuple[str, str]] = []
    if file.suffix.lower() == ".json":
        entries, skipped, by_mrn = lg.fhir_entries(file, data, who)
    else:
        entries = lg.entries_from_rows(lg.history_rows(file, data), str(file), who)
    if not entries:
        raise FileError(Problem("holds no administration to import", file=str(file)))
    ledger = lg.Ledger(db, create=True)  # a damaged ledger is refused before any notice
    notices = _name_notices((e.drug, None, None, e.source) for e in entries)
    numbers = ledger.record(
        entries,
        by=by,
        again=again,
        source_sha256=sha,
        source_file=str(file),
        before_write=(lambda n: before_write(ledger, n)) if before_write else None,
        high_dose=high_dose,
    )
    summary = {
        "ledger": str(ledger),
        "file": str(file),
        "sha256": sha,
        "recorded": len(numbers),
        "first": numbers[0],
        "last": numbers[-1],
        "patients": sorted({e.patient for e in entries}),
        "skipped": skipped,
    }
    said = notices + _without_bsa(entries) + [_not_the_mrn(file, *p) for p in by_mrn]
    return Written(ledger, [], said, skipped), summary


def _not_the_mrn(file: Path, recorded: str, mrn: str) -> Any:
    """PATIENT_ID_NOT_MRN: a bundle's administrations recorded under its Patient's resource id
    while the bundle gives that Patient an MRN: a check of the MRN does not count them."""
    from dosecalc.base.alerts import WARNING, Alert

    return Alert(
        WARNING,
        "PATIENT_ID_NOT_MRN",
        f"{file}: the administrations of Patient/{recorded} are recorded as patient {recorded}, "
        f"and the bundle gives that Patient the MRN {mrn}: a check of {mrn} does not count them; "
        f"if the ledger knows the patient as {mrn}, void them and import again with --patient "
        f"{mrn}",
    )


def void(
    seq: str, patient: str, reason: str, by: str | None, db: str | None
) -> tuple[Any, int, int]:
    """A record voided by a new one (``ledger void``): the ledger, the record voided, the new."""
    from dosecalc.base import strict
    from dosecalc.ledger import Ledger

    record = strict.whole_option(seq, "SEQ", 1, strict.MAX_INT, "a record number")
    ledger = Ledger(db)
    from dosecalc.workflows.gather import patient_option

    return ledger, record, ledger.void(record, patient_option(patient), reason, by=by)


def verify(db: str | None, anchor: str | None, accept_head: bool) -> tuple[Any, dict[str, Any]]:
    """The ledger's integrity (``ledger verify``): the ledger and its report."""
    from dosecalc.ledger import Ledger

    if anchor is not None and not (
        12 <= len(anchor) <= 64 and all(c in "0123456789abcdefABCDEF" for c in anchor)
    ):
        raise fail("--anchor", "give a record hash: 12 to 64 hexadecimal characters")
    ledger = Ledger(db)
    return ledger, ledger.verify(anchor, accept_head=accept_head)


def records(db: str | None, patient: str | None) -> tuple[Any, list[dict[str, Any]]]:
    """One patient's records (every patient's with None): ``ledger list`` and ``export``."""
    from dosecalc.ledger import Ledger

    ledger = Ledger(db)
    from dosecalc.workflows.gather import patient_option

    return ledger, ledger.records(patient_option(patient) if patient is not None else None)


def patients(db: str | None) -> tuple[Any, list[dict[str, Any]]]:
    """Every patient in the ledger, with their counts (``ledger list`` without --patient)."""
    from dosecalc.ledger import Ledger

    ledger = Ledger(db)
    people = ledger.patients()
    if not ledger.ready:  # a database with no ledger in it (the wrong one?) is not an empty list
        raise ledger.no_ledger("no patient has a record in it")
    return ledger, people
