"""``dosecalc mtx``: high-dose methotrexate levels judged against the label's leucovorin table
and the glucarpidase consensus."""

import sys
from typing import Any

from dosecalc.base.errors import ExitCode
from dosecalc.cli.options import Fmt, InfusionDuration, InfusionStart, Lab, LabFiles
from dosecalc.cli.program import Command, app
from dosecalc.cli.run import check_format, run


@app.command(cls=Command, short_help="High-dose methotrexate levels: leucovorin, glucarpidase.")
def mtx(
    infusion_start: InfusionStart = None,
    infusion_duration: InfusionDuration = None,
    lab: Lab = None,
    labs: LabFiles = None,
    format: Fmt = "table",
) -> None:
    """High-dose methotrexate: are the levels delayed, what leucovorin, glucarpidase?

    Levels (mtx) and serum creatinine (scr) are --lab values with the time they were taken;
    creatinine before the infusion start is the baseline. Exit 1: delayed elimination.

    Example: dosecalc mtx --infusion-start 2026-12-02T10:00 --infusion-duration 4h
    --lab mtx=80umol/L@2026-12-03T10:00 --lab scr=0.7mg/dL@2026-12-02T08:00
    """
    options = dict(locals())
    run(lambda: _mtx(options), bounded=True)


def _mtx(o: dict[str, Any]) -> int:
    from dosecalc.workflows.mtx import MtxRequest
    from dosecalc.workflows.mtx import run as assess

    fmt = check_format(o["format"], ("table", "json"))
    result = assess(MtxRequest(o["infusion_start"], o["infusion_duration"], o["lab"], o["labs"]))
    if fmt == "json":
        from dosecalc import __version__
        from dosecalc.base.jsontext import to_json

        sys.stdout.write(to_json({"dosecalc_version": __version__, **result.as_dict()}))
    else:
        from dosecalc.outputs import render
        from dosecalc.outputs.mtxview import view

        render.console().print(view(result))
    return ExitCode.CRITICAL if result.critical else ExitCode.OK
