"""``dosecalc verify``: its options, and the verdict as a pharmacist reads it (or JSON)."""

import sys
from typing import Any

from dosecalc.base.errors import ExitCode
from dosecalc.cli.options import (
    Acknowledge,
    Again,
    Age,
    Bsa,
    CheckedBy,
    ChestRt,
    Db,
    Equivalence,
    ExpectOrgan,
    Fmt,
    Force,
    Formula,
    Genotype,
    Gfr,
    GfrMeasured,
    Height,
    History,
    Lab,
    LabFiles,
    LastWeight,
    LedgerPatient,
    OrderArg,
    OrderCycle,
    OrderRegimen,
    OrderStart,
    Output,
    PolicyFile,
    Prior,
    Record,
    Scr,
    Sets,
    Sex,
    Weight,
)  # fmt: skip
from dosecalc.cli.program import Command, app
from dosecalc.cli.run import check_format, check_targets, output_to, run


@app.command(cls=Command, short_help="Verify a written order, line by line: release or hold.")
def verify(
    order: OrderArg,
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
    adjust_organ: ExpectOrgan = False,
    genotype: Genotype = None,
    previous_weight: LastWeight = None,
    patient: LedgerPatient = None,
    db: Db = None,
    history: History = None,
    prior: Prior = None,
    again: Again = False,
    chest_rt: ChestRt = None,
    equivalence: Equivalence = None,
    regimen: OrderRegimen = None,
    cycle: OrderCycle = None,
    start: OrderStart = None,
    policy: PolicyFile = None,
    set_: Sets = None,
    format: Fmt = "table",
    output: Output = None,
    force: Force = False,
    record: Record = False,
    by: CheckedBy = None,
    acknowledge: Acknowledge = None,
) -> None:
    """Verify a written order: every line recomputed, the whole order checked, a verdict.

    Exit 0: release (with or without notes); exit 1: hold.

    Example: dosecalc verify order.yaml --height 175cm --weight 70kg --patient MRN123
    """
    options = dict(locals())
    options["sets"] = options.pop("set_")
    run(lambda: _verify(options), bounded=not record and patient is None)


def _verify(o: dict[str, Any]) -> int:
    from dosecalc.workflows.verify import VerifyRequest
    from dosecalc.workflows.verify import run as verify_order

    fmt = check_format(o["format"], ("table", "json"))
    check_targets(o["output"], None, o["force"])
    result = verify_order(VerifyRequest.of(o))
    with output_to(o["output"], o["force"]):
        if fmt == "json":
            from dosecalc.base.jsontext import to_json

            sys.stdout.write(to_json(result.as_dict()))
        else:
            from dosecalc.outputs import render
            from dosecalc.outputs.verifyview import view

            render.console().print(view(result))
    return ExitCode.CRITICAL if result.critical else ExitCode.OK
