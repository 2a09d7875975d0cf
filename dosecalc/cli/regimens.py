"""``dosecalc regimens …``: list, show, validate, diff and the schema of regimen files."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from dosecalc.base.errors import ExitCode
from dosecalc.cli import complete
from dosecalc.cli.options import Fmt
from dosecalc.cli.program import Command, regimens_app
from dosecalc.cli.run import check_format, run


@regimens_app.command("list", cls=Command)
def regimens_list(format: Fmt = "table") -> None:
    """List the regimen library.

    Example: dosecalc regimens list --format json
    """

    def work() -> int:
        from dosecalc.outputs import render
        from dosecalc.workflows.regimens import library

        fmt = check_format(format, ("table", "json"))
        regs = library()
        if fmt == "json":
            sys.stdout.write(render.to_json([render.regimen_summary(r) for r in regs]))
        else:
            render.console().print(render.regimens_table(regs))
        return ExitCode.OK

    run(work, bounded=True)


@regimens_app.command(
    "show", cls=Command, short_help="Show one regimen: drugs, doses, days and sources."
)
def regimens_show(
    regimen: Annotated[
        str,
        typer.Argument(help="Library id or a regimen YAML file.", autocompletion=complete.regimens),
    ],
    format: Fmt = "table",
) -> None:
    """Show one regimen: its drugs, doses, days, sources, assumptions and notes.

    Example: dosecalc regimens show dia
    """

    def work() -> int:
        from dosecalc.data import regimen as rg
        from dosecalc.outputs import render

        fmt = check_format(format, ("table", "json"))
        reg = rg.load(regimen)
        if fmt == "json":
            sys.stdout.write(render.to_json(render.regimen_detail(reg)))
        else:
            render.console().print(render.regimen_view(reg))
        return ExitCode.OK

    run(work, bounded=True)


@regimens_app.command(
    "validate", cls=Command, short_help="Check regimen and course files: every problem at once."
)
def regimens_validate(
    paths: Annotated[list[Path], typer.Argument(help="Regimen files or folders of them.")],
) -> None:
    """Check regimen and course files; report every problem with file:line. Exit 2 if any is
    invalid, 1 if a valid one has a critical finding (as plan of it would).

    Example: dosecalc regimens validate regimens/*.yaml
    """

    def work() -> int:
        from dosecalc.workflows.regimens import files_of, validate

        files = files_of(paths)
        bad = critical = 0
        for f in files:
            checked = validate(f)
            if checked.problems:
                bad += 1
                for problem in checked.problems:
                    print(f"Error: {problem}", file=sys.stderr)
                continue
            critical += checked.critical
            print(
                f"critical: {f} (valid, with a critical finding)"
                if checked.critical
                else f"ok: {f}"
            )
            for message in checked.notices:
                print(f"  notice: {message}")
        if not files:
            given = ", ".join(str(p) for p in paths)
            print(
                f"Error: {given}: no regimen files found (.yaml or .yml files, or folders of them)",
                file=sys.stderr,
            )
            return ExitCode.INVALID
        if bad:
            return ExitCode.INVALID
        return ExitCode.CRITICAL if critical else ExitCode.OK

    run(work, bounded=True)


@regimens_app.command(
    "diff", cls=Command, short_help="Compare two versions of a regimen, dose by dose."
)
def regimens_diff(
    old: Annotated[
        str,
        typer.Argument(
            help="The old version: a regimen file or a library id.",
            autocompletion=complete.regimens,
        ),
    ],
    new: Annotated[
        str,
        typer.Argument(
            help="The new version: a regimen file or a library id.",
            autocompletion=complete.regimens,
        ),
    ],
    format: Fmt = "table",
) -> None:
    """What differs between two versions of a regimen, dose by dose: every field dosecalc reads
    (drugs added or removed, doses, days, routes, cycles, caps, infusions, patient rules, lab
    gates and their bounds and actions, cycle length, review status, notes and sources). Exit 0
    when they are the same, 1 when they differ (like diff), 2 when a file is not a valid
    regimen.

    Example: dosecalc regimens diff map my-map.yaml
    """

    def work() -> int:
        from dosecalc.workflows import regimen_diff as rd

        fmt = check_format(format, ("table", "json"))
        path_a, a = rd.load(old)
        path_b, b = rd.load(new)
        diffs = rd.compare(a, b)
        da, db = rd.describe(old, path_a, a), rd.describe(new, path_b, b)
        if fmt == "json":
            from dosecalc.base.jsontext import to_json

            sys.stdout.write(
                to_json(
                    {
                        "old": da,
                        "new": db,
                        "identical": not diffs,
                        "same_bytes": a.sha256 == b.sha256,
                        "differences": [d.as_dict() for d in diffs],
                    }
                )
            )
        else:
            from dosecalc.outputs import render

            render.console().print(render.lines_view(rd.as_text(da, db, diffs)))
        return ExitCode.CRITICAL if diffs else ExitCode.OK

    run(work, bounded=True)


@regimens_app.command("schema", cls=Command)
def regimens_schema() -> None:
    """Print the JSON Schema of the regimen file format (for editors).

    Example: dosecalc regimens schema > regimen.schema.json
    """

    def work() -> int:
        import json

        from dosecalc.outputs.schema import get

        sys.stdout.write(json.dumps(get("regimen"), indent=2) + "\n")
        return ExitCode.OK

    run(work, bounded=True)
