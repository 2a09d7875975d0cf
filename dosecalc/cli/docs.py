"""``dosecalc docs`` and ``dosecalc schema``: the documentation and the JSON Schemas a user has."""

import sys
from typing import Annotated

import typer

from dosecalc.base.errors import ExitCode
from dosecalc.cli import complete
from dosecalc.cli.program import Command, app
from dosecalc.cli.run import run


@app.command("docs", cls=Command, short_help="Read the documentation: formats, outputs, warnings.")
def docs(
    topic: Annotated[
        str | None,
        typer.Argument(
            help="A page: commands, regimen, history, outputs, ...", autocompletion=complete.topics
        ),
    ] = None,
) -> None:
    """Read the documentation: file formats, outputs, warning codes, every command.

    In a terminal the page is rendered at its width, through a pager ($PAGER, else less);
    piped, it is the Markdown as written.

    Example: dosecalc docs history
    """

    def work() -> int:
        from dosecalc.base.errors import did_you_mean, fail
        from dosecalc.outputs import schema as sch

        pages = sch.topics()
        if topic is None:
            wide = max(map(len, pages))
            for key, title in pages.items():
                print(f"{key:<{wide}}  {title}")
            print(f"(the pages are in {sch.docs_dir()}; dosecalc docs TOPIC prints one)")
            return ExitCode.OK
        key = topic.strip().lower().removesuffix(".md")
        if key not in pages:
            raise fail(
                "TOPIC",
                f"'{topic}' is not a page here{did_you_mean(key, tuple(pages))}; give one of "
                f"{', '.join(pages)}",
            )
        text = sch.page(key).read_text(encoding="utf-8")
        if not sys.stdout.isatty():  # piped or to a file: the Markdown as written
            sys.stdout.write(text)
            return ExitCode.OK
        from dosecalc.outputs.docpage import show
        from dosecalc.outputs.render import console

        show(text, console())
        return ExitCode.OK

    run(work, bounded=True)


@app.command("schema", cls=Command, short_help="Print the JSON Schema of a file or an output.")
def schema(
    name: Annotated[
        str | None,
        typer.Argument(
            help="regimen, course, order, plan-output, ...; none: list them all.",
            autocompletion=complete.schemas,
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of a file dosecalc reads or of the JSON it writes (docs/).

    Example: dosecalc schema plan-output > plan-output.schema.json
    """

    def work() -> int:
        import json

        from dosecalc.base.errors import fail
        from dosecalc.outputs import schema as sch

        if name is None:
            wide = max(map(len, sch.NAMES))
            for key, what in sch.NAMES.items():
                print(f"{key:<{wide}}  {what}")
            return ExitCode.OK
        try:
            data = sch.get(name)
        except ValueError as e:
            raise fail("NAME", str(e)) from None
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return ExitCode.OK

    run(work, bounded=True)
