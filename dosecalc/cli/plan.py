"""``dosecalc plan``: its options, and the plan written in the format asked for."""

from typing import Any

from dosecalc.base.errors import ExitCode
from dosecalc.cli.options import (
    ActualDates,
    AdjustOrgan,
    Again,
    Age,
    BirthDate,
    Bsa,
    ChartFile,
    ChestRt,
    ComparePolicy,
    Cycles,
    Db,
    Delay,
    DelayMode,
    Equivalence,
    Escalate,
    Fmt,
    ForceBoth,
    Formula,
    Genotype,
    Gfr,
    GfrMeasured,
    Height,
    History,
    Lab,
    LabFiles,
    LedgerPatient,
    Mrn,
    Output,
    Paper,
    PatientName,
    PolicyFile,
    PreviousWeight,
    Prior,
    Reason,
    Reduce,
    RegimenArg,
    Scr,
    Sets,
    Sex,
    Start,
    Weight,
)  # fmt: skip
from dosecalc.cli.program import Command, app
from dosecalc.cli.run import check_format, check_targets, output_to, put, run

FORMATS = ("table", "json", "csv", "ics", "html", "fhir")


@app.command(cls=Command, short_help="Plan a regimen for one patient: every dose, dated.")
def plan(
    regimen: RegimenArg,
    height: Height = None,
    weight: Weight = None,
    bsa: Bsa = None,
    formula: Formula = None,
    sex: Sex = None,
    age: Age = None,
    scr: Scr = None,
    gfr: Gfr = None,
    gfr_measured: GfrMeasured = False,
    lab: Lab = None,
    labs: LabFiles = None,
    adjust_organ: AdjustOrgan = False,
    genotype: Genotype = None,
    start: Start = None,
    cycles: Cycles = None,
    history: History = None,
    prior: Prior = None,
    again: Again = False,
    patient: LedgerPatient = None,
    db: Db = None,
    chest_rt: ChestRt = None,
    equivalence: Equivalence = None,
    previous_weight: PreviousWeight = None,
    reduce: Reduce = None,
    escalate: Escalate = None,
    reason: Reason = None,
    paper: Paper = "a4",
    patient_name: PatientName = None,
    mrn: Mrn = None,
    birth_date: BirthDate = None,
    chart: ChartFile = None,
    delay: Delay = None,
    delay_mode: DelayMode = "shift",
    actual_dates: ActualDates = False,
    policy: PolicyFile = None,
    set_: Sets = None,
    compare_policy: ComparePolicy = None,
    format: Fmt = "table",
    output: Output = None,
    force: ForceBoth = False,
) -> None:
    """Plan a regimen for one patient: every dose on every dated day, with its basis.

    Example: dosecalc plan dia --height 175cm --weight 70kg --start 2026-12-01
    """
    options = dict(locals())
    run(lambda: _plan(options), bounded=True)


def _plan(o: dict[str, Any]) -> int:
    from dosecalc.base.errors import fail
    from dosecalc.workflows.plan import PlanRequest
    from dosecalc.workflows.plan import run as plan_of

    fmt = check_format(o["format"], FORMATS)
    check_targets(o["output"], o["chart"], o["force"])
    identity = _identity(o["patient_name"], o["mrn"], o["birth_date"], o["patient"], fmt)
    if o["compare_policy"] is not None and fmt not in ("table", "json"):
        raise fail(
            "--compare-policy", "compares doses in a table or JSON; give --format table or json"
        )
    outcome = plan_of(PlanRequest.of(o))
    result = outcome.plan
    if o["chart"] is not None:
        from dosecalc.outputs.chart import save

        title = result.course.id if result.course is not None else result.regimen.id
        save(
            o["chart"], result.result, result.cumulative, f"Lifetime exposure: {title}", o["force"]
        )
    with output_to(o["output"], o["force"]):
        put(_text(outcome, fmt, o["paper"], identity))
    return ExitCode.CRITICAL if result.critical else ExitCode.OK


def _text(outcome: Any, fmt: str, paper: str, identity: dict[str, Any]) -> str | bytes:
    """The plan as ``fmt`` (a table is printed to standard output as it is laid out)."""
    from dosecalc.base.jsontext import to_json

    result, compared = outcome.plan, outcome.compared
    if fmt == "json":
        data = result.as_dict()
        if compared is not None:
            from dosecalc.workflows.policy_compare import compare

            data["policy_comparison"] = compare(result, compared).as_dict()
        return to_json(data)
    if fmt == "csv":
        from dosecalc.outputs import render

        return render.plan_csv(result)
    if fmt == "ics":
        from dosecalc.outputs.exports import to_ics

        return to_ics(result, identity=identity)
    if fmt == "fhir":
        from dosecalc.outputs.exports import to_fhir

        return to_json(to_fhir(result, identity))
    if fmt == "html":
        from dosecalc.outputs.sheet import render as sheet

        return sheet(result, paper.strip().lower(), identity=identity)
    from dosecalc.outputs import render

    table = render.plan_table(result)
    if compared is not None:
        from rich.console import Group

        from dosecalc.outputs.policy_compare import table as compare_table
        from dosecalc.workflows.policy_compare import compare

        table = Group(table, compare_table(compare(result, compared)))
    render.console().print(table)
    return ""


def _identity(
    name: str | None, mrn: str | None, birth: str | None, patient: str | None, fmt: str
) -> dict[str, str | None]:
    """Who the plan is for, as given (never invented): for the order sheet and FHIR only."""
    from dosecalc.base.errors import fail
    from dosecalc.data.drugs import invisible

    given = {"--patient-name": name, "--mrn": mrn, "--birth-date": birth}
    for option, value in given.items():
        if value is None:
            continue
        if fmt not in ("html", "fhir", "ics"):
            raise fail(
                option,
                "identifies the patient on the order sheet, in the FHIR bundle and in the "
                "calendar's event ids only: give --format html, fhir or ics",
            )
        if not value.strip():
            raise fail(option, "is empty")
        hidden = invisible(value) or next(
            (f"a line break or tab (U+{ord(c):04X})" for c in value if c in "\t\n\r"), None
        )
        if hidden:  # a direction override prints MRN 12<U+202E>34 as 1243: not the record's
            raise fail(
                option,
                f"{value.strip()[:60]!r} holds {hidden}, which would print it otherwise than "
                "it is recorded: type it again as plain text on one line",
            )
    return {  # a date of birth is read by the plan (workflows.plan), which doses by its age
        "name": name.strip() if name else None,
        "mrn": mrn.strip() if mrn else None,
        "birth_date": birth.strip() if birth else None,
        "patient_id": patient.strip() if patient else None,
    }
