"""``dosecalc check``: its options, and the checks written as a table, JSON or CSV; for many
patients, written as they come, with a progress bar on a terminal."""

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from dosecalc.base.errors import ExitCode
from dosecalc.cli.options import (
    Again,
    Age,
    AllPatients,
    Bsa,
    ChartFile,
    ChestRt,
    Db,
    Details,
    Equivalence,
    Fmt,
    ForceBoth,
    Formula,
    Genotype,
    Height,
    History,
    Jobs,
    Lab,
    LabFiles,
    LedgerPatient,
    Next,
    NextCycles,
    OnlyOver,
    Output,
    PatientsOver,
    PolicyFile,
    Prior,
    Scr,
    Sets,
    Sex,
    Weight,
)  # fmt: skip
from dosecalc.cli.program import Command, app
from dosecalc.cli.run import (
    Progress,
    Working,
    check_format,
    check_targets,
    notice,
    notices_to_stderr,
    output_to,
    run,
)


@app.command(cls=Command, short_help="Check lifetime exposure against the ceilings.")
def check(
    history: History = None,
    patient: LedgerPatient = None,
    all_patients: AllPatients = False,
    db: Db = None,
    prior: Prior = None,
    again: Again = False,
    next: Next = None,
    cycles: NextCycles = None,
    height: Height = None,
    weight: Weight = None,
    bsa: Bsa = None,
    formula: Formula = None,
    sex: Sex = None,
    age: Age = None,
    scr: Scr = None,
    lab: Lab = None,
    labs: LabFiles = None,
    genotype: Genotype = None,
    chest_rt: ChestRt = None,
    equivalence: Equivalence = None,
    policy: PolicyFile = None,
    set_: Sets = None,
    chart: ChartFile = None,
    format: Fmt = "table",
    output: Output = None,
    force: ForceBoth = False,
    details: Details = False,
    patients_over: PatientsOver = None,
    only_over: OnlyOver = None,
    jobs: Jobs = None,
) -> None:
    """Lifetime cumulative exposure against ceilings, per patient, and what still fits.

    Example: dosecalc check --history history.csv --next ddp-epi --bsa 1.8
    """
    options = dict(locals())
    run(lambda: _check(options))


def _check(o: dict[str, Any]) -> int:
    from dosecalc.workflows.check import CheckRequest
    from dosecalc.workflows.check import run as check_of

    fmt = check_format(o["format"], ("table", "json", "csv"))
    if fmt == "csv" and o["next"] is not None:
        from dosecalc.base.errors import fail

        raise fail(  # the CSV holds the totals only: the answer to --next would be dropped
            "--next",
            "the CSV holds the lifetime totals only, not the cycles that fit or the warnings "
            "about them: give --format table or --format json with --next",
        )
    check_targets(o["output"], o["chart"], o["force"])
    with Working("reading and checking the histories"):
        outcome = check_of(CheckRequest.of(o))
    with output_to(o["output"], o["force"]):
        return _write(outcome, fmt, o)


def _write(outcome: Any, fmt: str, o: dict[str, Any]) -> int:
    from dosecalc.workflows.check import Many

    if isinstance(outcome, Many):
        try:
            # --next is answered per patient: the one-line summary would drop the answer
            return _many(outcome, fmt, o["details"] or o["next"] is not None)
        finally:
            outcome.close()
    r = outcome.check
    if o["chart"] is not None:
        from dosecalc.outputs.chart import save

        save(o["chart"], r.result, r.cumulative, "Lifetime exposure", o["force"])
    if fmt == "json":
        from dosecalc.base.jsontext import to_json

        data = r.as_dict()
        sys.stdout.write(to_json({"patients": [data]} if outcome.named else data))
    elif fmt == "csv":
        from dosecalc.outputs import summary

        notices_to_stderr(outcome.read)  # the CSV holds totals only
        sys.stdout.write(summary.csv_text(summary.csv_rows(r, outcome.over), header=True))
    else:
        from dosecalc.outputs import render

        render.console().print(render.check_view([r], with_charts=outcome.charts))
    return ExitCode.CRITICAL if r.critical else ExitCode.OK


def _many(m: Any, fmt: str, details: bool) -> int:
    """A check of several patients: JSON, CSV, every patient in full (--details) or, by
    default, one status line per patient over a threshold and the counts. The notices about
    the files and options (``m.read``) go beside the patients in JSON, on standard error with
    CSV, before the patients in a table."""
    said = any(a.severity == "critical" for a in m.read)  # e.g. a --bsa that does not fit
    if fmt == "json":
        critical = _write_json(m.checks(), m.total, m.read)
    elif fmt == "csv" and m.engine is not None and m.over is None:
        critical = _write_totals_csv(m.engine, m.total, m.read)
    elif fmt == "csv" and m.numbers is not None:
        critical = _write_numbers_csv(m.numbers(), m.total, m.read, m.over)
    elif fmt == "csv":
        critical = _write_csv(m.checks(), m.total, m.read, m.over)
    elif details:
        critical = _write_details(m.checks(), m.total, m.read)
    else:
        notices_to_stderr(m.read)
        critical = _write_summary(m.over_a_level(), m.total, m.over)
        patients = m.high_doses()
        if patients:
            who = "1 patient has" if patients == 1 else f"{patients:,} patients have"
            notice(
                f"{who} history rows above their drug's usual maximum single dose, counted as "
                "written (HISTORY_DOSE_HIGH); --details or --format json names each row"
            )
    return ExitCode.CRITICAL if critical or said else ExitCode.OK


def _write_json(checks: Iterable[tuple[Any, bool, int]], total: int, read: Sequence[Any]) -> bool:
    """Many patients' checks as one JSON document, written as they come, then the notices about
    the files beside them. Whether any patient was critical."""
    from dosecalc.base.jsontext import to_json_bytes, to_json_line

    critical, first = False, True
    sys.stdout.flush()
    out = sys.stdout.buffer
    out.write(b'{"patients": [\n')
    with Progress(total) as advance:
        for r, crit, n in checks:
            critical |= crit
            if r is not None:
                line = to_json_bytes(r.as_dict())
                out.write(line if first else b",\n" + line)
                first = False
            advance(n)
    if read:
        listed = ",\n".join(to_json_line(w.as_dict()) for w in read)
        out.write(f'\n], "warnings": [\n{listed}\n]}}\n'.encode())
    else:
        out.write(b"\n]}\n")
    return critical


def _write_csv(
    checks: Iterable[tuple[Any, bool, int]], total: int, read: Sequence[Any], over: str | None
) -> bool:
    """Many patients' totals as CSV, one row per patient and drug (the notices on standard
    error)."""
    from dosecalc.outputs import summary

    notices_to_stderr(read)
    critical = False
    sys.stdout.write(summary.csv_text([], header=True))
    with Progress(total) as advance:
        for r, crit, n in checks:
            critical |= crit
            if r is not None:
                sys.stdout.write(summary.csv_text(summary.csv_rows(r, over)))
            advance(n)
    return critical


def _write_numbers_csv(
    numbers: Iterable[tuple[Any, bool, int]], total: int, read: Sequence[Any], over: str | None
) -> bool:
    """:func:`_write_csv` from the numbers the engine computed (the same rows, made by the same
    function from the totals and first crossings, without the checks' warnings)."""
    from dosecalc.base.csvout import Writer
    from dosecalc.outputs import summary

    notices_to_stderr(read)
    critical = False
    sys.stdout.write(summary.csv_text([], header=True))
    writer = Writer(sys.stdout)
    rows: list[list[Any]] = []
    with Progress(total) as advance:
        for n, crit, done in numbers:
            critical |= crit
            if n is not None:
                rows += summary.numbers_rows(n, over)
                if len(rows) >= 10_000:
                    writer.write_cells(rows)
                    rows = []
            advance(done)
    writer.write_cells(rows)
    return critical


def _write_totals_csv(checked: Any, total: int, read: Sequence[Any]) -> bool:
    """:func:`_write_numbers_csv` of every patient, the text written by the engine."""
    from dosecalc.outputs import summary

    notices_to_stderr(read)
    sys.stdout.write(summary.csv_text([], header=True))
    with Progress(total) as advance:
        for text, done in summary.numbers_csv(checked):
            sys.stdout.write(text)
            advance(done)
    return checked.any_critical


def _write_details(
    checks: Iterable[tuple[Any, bool, int]], total: int, read: Sequence[Any]
) -> bool:
    """Every patient in full (--details), the notices first."""
    from dosecalc.outputs import render

    console = render.console()
    if read:
        console.print(render.alerts_table(list(read)))
    critical = False
    with Progress(total, console) as advance:
        for r, crit, n in checks:
            critical |= crit
            if r is not None:
                console.print(render.check_view([r], with_charts=False))
            advance(n)
    return critical


def _write_summary(patients: Iterable[tuple[Any, bool, int]], total: int, over: str | None) -> bool:
    """One status line per patient over a threshold (``over``: 'limit' lists only those over a
    limit), then the counts. Lines are wrapped to the width of a terminal; a progress bar on
    standard error after a second."""
    import textwrap

    from dosecalc.base.numbers import glue
    from dosecalc.clinical.check import passes, worst
    from dosecalc.outputs.summary import status_line

    console = None
    if sys.stdout.isatty():
        from rich.console import Console

        console = Console(file=sys.stdout, highlight=False)

    def emit(line: str) -> None:
        """On a terminal a line wraps under itself at its width; elsewhere each patient's
        status stays one line (for grep and the like)."""
        if console is None:
            sys.stdout.write(line + "\n")
            return
        lines = textwrap.wrap(
            glue(line), console.width, subsequent_indent="    ", break_on_hyphens=False
        )
        console.out("\n".join(x.replace("\u00a0", " ") for x in lines), highlight=False)

    over_threshold = exceeded = 0
    critical = False
    with Progress(total, console) as advance:
        for shown, crit, n in patients:
            critical |= crit
            if shown is not None:
                level = worst(shown)
                over_threshold += level is not None
                exceeded += level == "limit"
                if level is not None and passes(level, over):
                    emit(status_line(shown))  # type: ignore[arg-type]
            advance(n)
    listed = {"limit": "over a limit are listed", "threshold": "over a threshold are listed"}
    sys.stdout.write(
        f"{total} patient{'s' if total != 1 else ''} checked: {over_threshold} over a threshold, "
        f"{exceeded} over a limit\n"
    )
    if console is not None:
        emit(
            f"(patients {listed[over or 'threshold']}; --details for every patient in full, "
            "--format csv for one row per patient and drug)"
        )
    return critical
