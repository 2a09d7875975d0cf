"""``dosecalc bsa``: its options and its table."""

import sys
from typing import Annotated

import typer

from dosecalc.base.errors import ExitCode
from dosecalc.cli import complete
from dosecalc.cli.options import Fmt, Sex
from dosecalc.cli.program import Command, app
from dosecalc.cli.run import check_format, run


@app.command(cls=Command, short_help="Body-surface area by one formula or all of them.")
def bsa(
    height: Annotated[str, typer.Option(help="Height, e.g. 175cm, 1.75m, 5ft9in.")],
    weight: Annotated[str, typer.Option(help="Weight, e.g. 70kg, 154lb.")],
    formula: Annotated[
        str, typer.Option(help="A formula name, or 'all'.", autocompletion=complete.formulas)
    ] = "mosteller",
    sex: Sex = None,
    format: Fmt = "table",
) -> None:
    """Body-surface area by one formula or all of them side by side.

    Example: dosecalc bsa --height 175cm --weight 70kg --formula all
    """

    def work() -> int:
        from dosecalc.outputs import render
        from dosecalc.workflows.bsa import run as bsa_of

        fmt = check_format(format, ("table", "json"))
        data = bsa_of(height, weight, formula, sex)
        if fmt == "json":
            sys.stdout.write(render.to_json(data))
        else:
            render.console().print(render.bsa_table(data))
        return ExitCode.OK

    run(work, bounded=True)
