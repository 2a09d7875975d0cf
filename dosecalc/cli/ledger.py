"""``dosecalc ledger …``: record, import, list, void, export and verify, and what each says."""

import sys
from typing import Any

from dosecalc.base.errors import ExitCode
from dosecalc.cli.options import (
    AcceptHead,
    Anchor,
    By,
    Db,
    ExportFormat,
    ExportPatient,
    Fmt,
    Force,
    HighDose,
    ImportFile,
    ImportPatient,
    ListPatient,
    Output,
    RecordAgain,
    RecordBsa,
    RecordCycle,
    RecordDate,
    RecordDay,
    RecordDose,
    RecordDrug,
    RecordId,
    RecordNote,
    RecordPatient,
    RecordRegimen,
    RecordTime,
    VoidPatient,
    VoidReason,
    VoidSeq,
)  # fmt: skip
from dosecalc.cli.program import Command, ledger_app
from dosecalc.cli.run import check_format, check_targets, emit, notice, run


def _said(ledger: Any, notices: list[Any]) -> None:
    """After a write: the abbreviations read, then what the ledger warned of (a warning with
    its code, as `regimens` says one: a script can match DOSE_WITHOUT_BSA)."""
    for n in notices:
        notice(n.message if n.severity == "info" else f"{n.severity} {n.code}: {n.message}")
    for line in ledger.warnings:
        print(f"warning: {line}", file=sys.stderr)


def _json(data: Any) -> None:
    from dosecalc.outputs import render

    sys.stdout.write(render.to_json(data))


def _record_line(r: dict[str, Any]) -> str:
    if r["kind"] == "void":
        return f"#{r['seq']} {r['patient']}: voids #{r['voids']}: {r['reason']}"
    bsa = f" (BSA {r['bsa_m2']} m²)" if r.get("bsa_m2") else ""
    given = f" [{r['drug_given']}]" if r["drug_given"].lower() != r["drug"] else ""
    return (
        f"#{r['seq']} {r['patient']}: {r['date']} {r['drug']}{given} {r['dose']} {r['unit']}{bsa}"
    )


@ledger_app.command("record", cls=Command, short_help="Record one administration in the ledger.")
def ledger_record(
    patient: RecordPatient,
    date_: RecordDate,
    drug: RecordDrug,
    dose: RecordDose,
    bsa: RecordBsa = None,
    regimen: RecordRegimen = None,
    cycle: RecordCycle = None,
    day: RecordDay = None,
    note: RecordNote = None,
    time_: RecordTime = None,
    admin_id: RecordId = None,
    by: By = None,
    again: RecordAgain = False,
    allow_high_dose: HighDose = None,
    db: Db = None,
    format: Fmt = "table",
) -> None:
    """Record one administration in the ledger.

    Example: dosecalc ledger record --patient MRN123 --date 2026-03-02 --drug epirubicin --dose 40mg/m2
    """

    def work() -> int:
        from dosecalc.workflows import ledger as lw

        fmt = check_format(format, ("table", "json"))
        done = lw.record(patient, date_, drug, dose, bsa, regimen, cycle, day, note, time_,
                         admin_id, by, again, allow_high_dose, db)  # fmt: skip
        _said(done.ledger, done.notices)
        [r] = done.records
        if fmt == "json":
            _json({"ledger": str(done.ledger), "recorded": [r]})
        else:
            print(f"recorded {_record_line(r)} in {done.ledger}")
        return ExitCode.OK

    run(work)


@ledger_app.command(
    "import", cls=Command, short_help="Import a patient's past administrations, all or nothing."
)
def ledger_import(
    file: ImportFile,
    patient: ImportPatient = None,
    by: By = None,
    again: RecordAgain = False,
    allow_high_dose: HighDose = None,
    db: Db = None,
    format: Fmt = "table",
) -> None:
    """Import a patient's past administrations, all or nothing.

    Example: dosecalc ledger import history.csv --patient MRN123
    """

    def work() -> int:
        from dosecalc.workflows import ledger as lw

        fmt = check_format(format, ("table", "json"))

        def announce(ledger: Any, n: int) -> None:
            print(f"writing {n} records to {ledger} ...", file=sys.stderr, flush=True)

        done, summary = lw.import_file(file, patient, by, again, allow_high_dose, db, announce)
        _said(done.ledger, done.notices)
        if fmt == "json":
            _json(summary)
            return ExitCode.OK
        n, people = summary["recorded"], summary["patients"]
        print(
            f"imported {n} administration{'s' if n != 1 else ''} of {len(people)} patient"
            f"{'s' if len(people) != 1 else ''}{_named(people)} from {file} as records "
            f"#{summary['first']}–#{summary['last']} in {done.ledger}"
        )
        for line in done.skipped:
            print(f"  not recorded: {line}")
        return ExitCode.OK

    run(work)


@ledger_app.command("list", cls=Command, short_help="List one patient's records, or every patient.")
def ledger_list(patient: ListPatient = None, db: Db = None, format: Fmt = "table") -> None:
    """List one patient's records (voided ones marked), or every patient in the ledger.

    Example: dosecalc ledger list --patient MRN123
    """

    def work() -> int:
        from dosecalc.outputs import render
        from dosecalc.workflows import ledger as lw

        fmt = check_format(format, ("table", "json"))
        if patient is None:
            ledger, people = lw.patients(db)
            if fmt == "json":
                _json({"ledger": str(ledger), "patients": people})
            else:
                render.console().print(render.ledger_patients(people, str(ledger)))
            return ExitCode.OK
        ledger, records = lw.records(db, patient)
        if fmt == "json":
            _json({"ledger": str(ledger), "records": records})
        else:
            render.console().print(render.ledger_records(records, str(ledger)))
        return ExitCode.OK

    run(work)


@ledger_app.command("void", cls=Command, short_help="Void a record: a new record cancels it.")
def ledger_void(
    seq: VoidSeq, patient: VoidPatient, reason: VoidReason, by: By = None, db: Db = None
) -> None:
    """Void a record: a new record cancels it; nothing is deleted or edited.

    Example: dosecalc ledger void 12 --patient MRN123 --reason "entered twice"
    """

    def work() -> int:
        from dosecalc.workflows import ledger as lw

        ledger, record, number = lw.void(seq, patient, reason, by, db)
        _said(ledger, [])
        print(f"recorded #{number}: voids #{record} of patient {patient.strip()} in {ledger}")
        return ExitCode.OK

    run(work)


@ledger_app.command(
    "export", cls=Command, short_help="Export the doses in force (CSV) or the audit trail."
)
def ledger_export(
    patient: ExportPatient = None,
    db: Db = None,
    format: ExportFormat = "csv",
    output: Output = None,
    force: Force = False,
) -> None:
    """Export the ledger: the doses in force as a history CSV, or the audit trail as JSON.

    Example: dosecalc ledger export --patient MRN123 --output MRN123.csv
    """

    def work() -> int:
        from dosecalc.outputs import render
        from dosecalc.workflows import ledger as lw

        fmt = check_format(format, ("csv", "json"))
        check_targets(output, None, force)
        ledger, records = lw.records(db, patient)
        if fmt == "json":
            text = render.to_json({"ledger": str(ledger), "records": records})
        else:
            text = render.ledger_csv(records)
        emit(text, output, force)
        return ExitCode.OK

    run(work)


@ledger_app.command(
    "verify", cls=Command, short_help="Check the ledger's integrity (exit 1 if damaged)."
)
def ledger_verify(
    db: Db = None, anchor: Anchor = None, accept_head: AcceptHead = False, format: Fmt = "table"
) -> None:
    """Check the ledger's integrity: exit 1 if a record was edited, removed or damaged.

    Checks the database file, every record and link of the hash chain, the count of records
    against the chain head, and the newest head this machine saw (kept in your state folder,
    or $DOSECALC_STATE_DIR): removing the newest records shows too.

    Example: dosecalc ledger verify
    """

    def work() -> int:
        from dosecalc.workflows import ledger as lw

        fmt = check_format(format, ("table", "json"))
        ledger, report = lw.verify(db, anchor, accept_head)
        _said(ledger, [])
        for line in report["accepted"]:
            print(f"accepted (--accept-head): {line}", file=sys.stderr)
        if fmt == "json":
            _json(report)
        elif report["ok"]:
            print(_intact(report))
        else:
            print(f"ledger {report['ledger']} FAILED verification:")
            for line in report["problems"][:50]:
                print(f"  {line}")
            if len(report["problems"]) > 50:
                print(f"  … and {len(report['problems']) - 50} more")
        return ExitCode.OK if report["ok"] else ExitCode.CRITICAL

    run(work)


def _intact(report: dict[str, Any]) -> str:
    def n(count: int, what: str) -> str:
        return f"{count:,} {what}{'' if count == 1 else 's'}"

    parts = [n(report["doses"], "dose"), n(report["voids"], "void")]
    if report.get("checks"):
        parts.append(n(report["checks"], "checked order"))
    return (
        f"ledger {report['ledger']} is intact: {n(report['records'], 'record')} "
        f"({', '.join(parts)}) of {n(report['patients'], 'patient')}; "
        f"head #{report['head']['seq']} {report['head']['hash']}"
    )


def _named(people: list[str]) -> str:
    """The patients an import recorded, named when few (which id the records went under)."""
    return f" ({', '.join(people)})" if len(people) <= 3 else ""
