"""The ``dosecalc`` program's typer app: its groups, the help every command shows (each value
named as a person types it) and the commands built only when asked for, so that ``--help``,
``--version`` and shell completion stay fast (they import no engine, pint, yaml or rich)."""

import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

import typer
import typer.main as tm
from typer.core import TyperCommand, TyperGroup
from typer.models import TyperInfo

from dosecalc import __version__


class _Formatter(TyperCommand.context_class.formatter_class):  # type: ignore[name-defined,misc]
    """click's help formatter, which wraps lines between words only: never after the hyphen of
    a name (``cog-ltfu-v5``, ``--previous-weight``), which is to be read and typed whole."""

    def write_text(self, text: str) -> None:
        self._unbroken(super().write_text, text)

    def write_dl(self, rows: Any, *args: Any, **kwargs: Any) -> None:
        rows = [(term, text.replace("-", NB_HYPHEN)) for term, text in rows]
        self._unbroken(super().write_dl, rows, *args, **kwargs)

    def _unbroken(self, write: Callable[..., None], first: Any, *args: Any, **kw: Any) -> None:
        start = len(self.buffer)
        if isinstance(first, str):
            first = first.replace("-", NB_HYPHEN)
        write(first, *args, **kw)
        self.buffer[start:] = [s.replace(NB_HYPHEN, "-") for s in self.buffer[start:]]


NB_HYPHEN = "\u2011"  # a hyphen textwrap does not break after, put back once wrapped


class _Context(TyperCommand.context_class):  # type: ignore[name-defined,misc]
    formatter_class = _Formatter


class _PlainHelp:
    """typer's help flag has no default, so at every parse (every Tab press too) typer coerces
    its None through pydantic, whose import costs ~70 ms. A False default is a plain bool.
    Help is wrapped between words only (_Formatter)."""

    context_class = _Context

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None and option.default is None:
            option.default = False
        return option


class Group(_PlainHelp, TyperGroup):
    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list of --help, from help texts alone when the commands are built lazily."""
        commands = self.commands
        if isinstance(commands, _Commands):
            self.commands = commands.summaries()
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.commands = commands


# How each value reads in --help: a name a person types, or the choices (never a Python type).
METAVARS = {
    "--height": "HEIGHT",
    "--weight": "WEIGHT",
    "--previous-weight": "WEIGHT",
    "--bsa": "M2",
    "--formula": "NAME",
    "--sex": "male|female",
    "--age": "AGE",
    "--scr": "SCR",
    "--gfr": "GFR",
    "--start": "YYYY-MM-DD",
    "--infusion-start": "YYYY-MM-DDTHH:MM",
    "--infusion-duration": "HOURS",
    "--date": "YYYY-MM-DD",
    "--birth-date": "YYYY-MM-DD",
    "--cycles": "N",
    "--cycle": "N",
    "--day": "N",
    "--jobs": "N",
    "--history": "FILE",
    "--policy": "FILE",
    "--compare-policy": "FILE",
    "--chart": "FILE.svg|FILE.png",
    "--output": "FILE",
    "--prior": "DRUG=AMOUNT",
    "--set": "KEY=VALUE",
    "--reduce": "DRUG=PCT[@CYCLE]",
    "--escalate": "DRUG=PCT[@CYCLE]",
    "--delay": "CYCLE=DAYS",
    "--delay-mode": "shift|keep",
    "--paper": "a4|letter",
    "--equivalence": "esc-2022|feijen-2019|ighg-2025|cog-ltfu-v5",
    "--only-over": "threshold|limit",
    "--patients-over": "threshold|limit",
    "--patient": "ID",
    "--db": "URL|PATH",
    "--next": "REGIMEN",
    "--chest-rt": "GY",
    "--dose": "AMOUNT",
    "--drug": "DRUG",
    "--anchor": "HASH",
    "--by": "NAME",
    "--acknowledge": "CODE[:DRUG[:DAY]]=REASON",
    "--mrn": "MRN",
    "--patient-name": "NAME",
}
FORMATS = {  # --format choices per command (each command checks its own with run.check_format)
    "plan": "table|json|csv|ics|html|fhir",
    "check": "table|json|csv",
    "export": "csv|json",
}


class Command(_PlainHelp, TyperCommand):
    """A command whose --help names each value the way a person types it (METAVARS), and that
    says what an option's value typed with a space (``--height 175 cm``) should have been."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except Exception as e:  # typer's own click's UsageError
            hint = _spaced_values(given, str(getattr(e, "message", "")))
            if hint is None:
                raise
            raise type(e)(hint, ctx) from None

    def make_parser(self, ctx: Any) -> Any:
        """click keeps the last of an option given twice (``--weight 80kg --weight 70kg``):
        the other is dropped without a word. An option that takes one value refuses a second,
        different one."""
        parser = super().make_parser(ctx)
        options = {id(o): o for o in (*parser._long_opt.values(), *parser._short_opt.values())}
        for option in options.values():
            if option.action == "store":
                option.process = _once(option, option.process, ctx)
        return parser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if getattr(param, "is_flag", False) or param.metavar is not None:
                continue
            names = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            name = names[0] if names else None
            if name == "--format":
                param.metavar = FORMATS.get(self.name or "", "table|json")
            elif name is not None:
                param.metavar = METAVARS.get(name, name.lstrip("-").upper())
            else:  # an argument: its name, as click shows it (typer adds a type and braces)
                shown = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
                param.metavar = shown
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
                param._usage_display_name = lambda shown=shown: shown  # type: ignore[attr-defined]


def _once(option: Any, process: Callable[[Any, Any], None], ctx: Any) -> Callable[..., None]:
    def once(value: Any, state: Any) -> None:
        before = state.opts.get(option.dest, value)
        if before != value:
            name = "/".join([*option._short_opts, *option._long_opts])
            usage_error = typer.BadParameter.__mro__[1]  # typer's own click's UsageError
            raise usage_error(
                f"{name} is given twice ({before}, then {value}): give it once, with the value "
                "meant",
                ctx,
            )
        process(value, state)

    return once


# the units recognised typed apart from their number (a word with a / is one too); an argument
# may have taken one for its value (plan --height 175 cm --weight 70 kg dia reads REGIMEN=cm)
_UNITS = {"cm", "m", "mm", "in", "ft", "kg", "g", "lb", "lbs", "mg", "mcg", "ug", "µg", "units",
          "m2", "ml", "l", "gy", "cgy", "y", "years", "months", "h", "%"}  # fmt: skip


def _spaced_values(given: list[str], message: str) -> str | None:
    """For click's "unexpected extra arguments (cm kg)": the options whose number was typed apart
    from its unit (``--height 175 cm``), and how to write them; None when that is not it."""
    import re

    if not re.fullmatch(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message):
        return None
    spaced = []
    for i, token in enumerate(given):
        name, _, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if not name.startswith("-") or i + 1 >= len(given):
            continue
        value, unit = (value, given[i + 1]) if value else (given[i + 1 : i + 3] + [""])[:2]
        known = unit.lower() in _UNITS or ("/" in unit and re.match(r"[^\W\d_]", unit))
        if re.search(r"(^|=)[+-]?[\d.,]*\d$", value) and known:
            spaced.append(
                f"{name} {value} {unit}: the unit is a word apart; write {value}{unit} without "
                f'a space, or quote it ("{value} {unit}")'
            )
    return "; ".join(spaced) or None


app = typer.Typer(
    cls=Group,
    name="dosecalc",
    help="Chemotherapy dosing and lifetime cumulative-toxicity calculator. The file formats, "
    "the outputs and every warning code: dosecalc docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals: they hold patient data
    add_completion=False,  # its options are below, without typer's pydantic-coerced default
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
regimens_app = typer.Typer(
    cls=Group, help="List, show, validate and compare regimen files.", no_args_is_help=True
)
app.add_typer(regimens_app, name="regimens")

state = {"debug": bool(os.environ.get("DOSECALC_DEBUG"))}


VERSION = f"dosecalc {__version__}"


def _version(value: bool) -> None:
    if value:
        print(VERSION)
        raise typer.Exit(0)


def _completion(name: str) -> Callable[..., Any]:
    """Typer's own completion options, with plain bool defaults: typer coerces a None default
    through pydantic, which would cost every Tab press its import."""

    def callback(ctx: Any, param: Any, value: bool) -> Any:
        if value:
            from typer import completion

            completion.completion_init()
            return getattr(completion, name)(ctx, param, value)
        return value

    return callback


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback on internal errors.")
    ] = False,
    install_completion: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            callback=_completion("install_callback"),
            expose_value=False,
            is_eager=True,
            help="Install completion for the current shell.",
        ),
    ] = False,
    show_completion: Annotated[
        bool,
        typer.Option(
            "--show-completion",
            callback=_completion("show_callback"),
            expose_value=False,
            is_eager=True,
            help="Show completion for the current shell, to copy it or customize the installation.",
        ),
    ] = False,
) -> None:
    """Chemotherapy dosing and lifetime cumulative-toxicity calculator.

    Every dose explained, every lifetime limit tracked. Example:

        dosecalc plan dia --height 175cm --weight 70kg --start 2026-12-01

    The file formats, the outputs and every warning code: dosecalc docs.
    """
    state["debug"] = debug or bool(os.environ.get("DOSECALC_DEBUG"))


policy_app = typer.Typer(
    cls=Group, help="Show the institution policy in force.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
ledger_app = typer.Typer(
    cls=Group,
    help="The patient ledger: record, import, list, void, export and verify administrations.",
    short_help="The patient ledger: record, list, export, verify.",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")


class _Commands(Mapping[str, Any]):
    """``app``'s commands for :func:`main`, each built by typer only when it is asked for: a run
    builds the one command it runs (typer reads every option's annotation: ~10 ms for all of
    them), --help lists them from their help texts, a Tab press builds those it completes."""

    def __init__(self) -> None:
        self._infos: dict[str, Any] = {
            i.name or tm.get_command_name(i.callback.__name__): i for i in app.registered_commands
        }
        self._infos |= {i.name: i for i in app.registered_groups}
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            info, short = self._infos[name], app.pretty_exceptions_short
            self._built[name] = (
                tm.get_group_from_info(
                    info,
                    pretty_exceptions_short=short,
                    rich_markup_mode=app.rich_markup_mode,
                    suggest_commands=app.suggest_commands,
                )
                if isinstance(info, TyperInfo)
                else tm.get_command_from_info(
                    info, pretty_exceptions_short=short, rich_markup_mode=app.rich_markup_mode
                )
            )
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def summaries(self) -> dict[str, Any]:
        """Each command as typer would show it in a list (name, help, hidden), without options."""
        out = {}
        for name, info in self._infos.items():
            if isinstance(info, TyperInfo):
                info = tm.solve_typer_info_defaults(info)
                text = info.help
            else:
                text = inspect.cleandoc(info.help) if info.help else inspect.getdoc(info.callback)
            out[name] = TyperCommand(
                name=name,
                help=text,
                short_help=info.short_help,
                hidden=info.hidden,
                deprecated=info.deprecated,
            )
        return out


def command() -> Any:
    """The click group :func:`main` runs: ``app`` with its commands built on demand."""
    commands = _Commands()
    saved = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = [], []
    try:
        group = tm.get_command(app)
    finally:
        app.registered_commands, app.registered_groups = saved
    group.commands = commands
    return group
