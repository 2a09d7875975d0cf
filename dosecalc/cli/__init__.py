"""The ``dosecalc`` command line: parse options, call the core, hand results to render.

The only place where errors become exit codes (docs/commands.md). Heavy modules (pint, yaml,
pydantic models, rich tables) are imported inside the commands, so that ``--help``,
``--version`` and shell completion stay fast.
"""

import gc
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main as tm
from typer.core import TyperCommand, TyperGroup
from typer.models import TyperInfo

from dosecalc import __version__
from dosecalc.base.errors import ExitCode


class _PlainHelp:
    """typer's help flag has no default, so at every parse (every Tab press too) typer coerces
    its None through pydantic, whose import costs ~70 ms. A False default is a plain bool."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None and option.default is None:
            option.default = False
        return option


class _Group(_PlainHelp, TyperGroup):
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
    "--patient": "ID",
    "--db": "URL|PATH",
    "--next": "REGIMEN",
    "--chest-rt": "GY",
    "--dose": "AMOUNT",
    "--drug": "DRUG",
    "--anchor": "HASH",
    "--by": "NAME",
    "--mrn": "MRN",
    "--patient-name": "NAME",
}
FORMATS = {  # --format choices per command (each command checks its own with _check_format)
    "plan": "table|json|csv|ics|html|fhir",
    "check": "table|json|csv",
    "export": "csv|json",
}


class _Command(_PlainHelp, TyperCommand):
    """A command whose --help names each value the way a person types it (METAVARS)."""

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


app = typer.Typer(
    cls=_Group,
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
    cls=_Group, help="List, show and validate regimen files.", no_args_is_help=True
)
app.add_typer(regimens_app, name="regimens")

_state = {"debug": bool(os.environ.get("DOSECALC_DEBUG"))}


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
    if debug:
        _state["debug"] = True


def _run(work: Callable[[], int], bounded: bool = False) -> None:
    """Run a command body; turn errors into one clear message and an exit code.

    The program starts without the cyclic garbage collector (__main__.py). A command whose input
    is ``bounded`` (a regimen, a patient) ends long before garbage could matter; any other turns
    the collector back on first, leaving out what start-up built (frozen: never scanned again).
    """
    from dosecalc.base.errors import DosecalcError

    if not bounded:
        gc.freeze()
        gc.enable()
    try:
        code = work()
    except DosecalcError as e:
        lines = [str(p) for p in e.problems]
        if len(lines) == 1:
            print(f"Error: {lines[0]}", file=sys.stderr)
        else:
            print(f"Error: {getattr(e, 'total', len(lines))} problems:", file=sys.stderr)
            for line in lines:
                print(f"  {line}", file=sys.stderr)
        raise typer.Exit(ExitCode.INVALID) from None
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except BrokenPipeError:
        raise typer.Exit(0) from None
    except Exception as e:
        if _state["debug"]:
            traceback.print_exc()
        print(
            f"dosecalc: internal error ({type(e).__name__}). This is a bug in dosecalc "
            f"{__version__}; please report it with the command you ran (leave out patient "
            "data) and the output of the same command run as dosecalc --debug COMMAND ...",
            file=sys.stderr,
        )
        raise typer.Exit(ExitCode.INTERNAL) from None
    raise typer.Exit(code)


def _emit(text: str | bytes, output: Path | None, force: bool) -> None:
    """Print ``text``, or write it to ``output`` atomically (never a partial file)."""
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        return
    from dosecalc.outputs.outfile import write_atomic

    write_atomic(output, text, force=force)
    print(f"wrote {output}", file=sys.stderr)


def _check_targets(output: Path | None, chart: Path | None, force: bool) -> None:
    """Every file a command will write, checked before anything is computed or written."""
    from dosecalc.base.errors import fail
    from dosecalc.outputs.outfile import check_target

    if output is not None:
        check_target(output, force, "--output")
    if chart is not None:
        check_target(chart, force, "--chart", (".svg", ".png"))
        if output is not None and output.resolve() == chart.resolve():
            raise fail("--chart", f"--chart and --output both name {chart}; give two files")


def _check_format(value: str, allowed: tuple[str, ...], later: tuple[str, ...] = ()) -> str:
    from dosecalc.base.errors import fail

    v = value.strip().lower()
    if v in later:
        raise fail(
            "--format",
            f"'{value}' is not available in this version of dosecalc yet; "
            f"give one of {', '.join(allowed)}",
        )
    if v not in allowed:
        from dosecalc.base.errors import did_you_mean

        raise fail(
            "--format",
            f"'{value}' is not an output format here{did_you_mean(v, allowed)}; give one of "
            f"{', '.join(allowed)}",
        )
    return v


# Shared option types -------------------------------------------------------------------------
Height = Annotated[
    str | None, typer.Option(help="Height, e.g. 175cm, 1.75m, 69in, 5ft9in (bare number: cm).")
]
Weight = Annotated[str | None, typer.Option(help="Weight, e.g. 70kg, 154lb (bare number: kg).")]
Bsa = Annotated[
    str | None,
    typer.Option(help="A measured or prescribed BSA in m², used instead of height and weight."),
]
Formula = Annotated[
    str | None,
    typer.Option(
        help="BSA formula (default mosteller): mosteller, dubois, haycock, gehan-george, boyd, "
        "fujimoto, takahira, shuter-aslani, schlich (needs --sex), livingston-lee, yu-2010."
    ),
]
Sex = Annotated[str | None, typer.Option(help="male or female.")]
Age = Annotated[str | None, typer.Option(help="Age, e.g. 29 or 29y.")]
Scr = Annotated[str | None, typer.Option(help="Serum creatinine, e.g. 0.9mg/dL or 80umol/L.")]
Gfr = Annotated[str | None, typer.Option(help="GFR / creatinine clearance, e.g. 90mL/min.")]
Lab = Annotated[
    list[str] | None,
    typer.Option(
        "--lab",
        help="A laboratory value NAME=VALUE[@YYYY-MM-DD] (the date the sample was taken), e.g. "
        "anc=1.2x10^9/L@2026-11-28, bilirubin=36umol/L, ast=2.5xULN; repeatable. Names: anc, "
        "platelets, hb, bilirubin, direct_bilirubin, ast, alt, alp, scr, crcl (measured).",
    ),
]
LabFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--labs",
        help="A lab file: CSV with the columns date,name,value,unit (one result a row); "
        "repeatable.",
        dir_okay=False,
    ),
]
History = Annotated[
    list[Path] | None,
    typer.Option(
        "--history",
        help="Prior administrations, a history file (CSV or YAML: docs/history.md); repeatable.",
        dir_okay=False,
    ),
]
Prior = Annotated[
    list[str] | None,
    typer.Option(
        "--prior",
        help="Lifetime exposure given "
        "elsewhere, DRUG=AMOUNT, e.g. epirubicin=600mg/m2; repeatable.",
    ),
]
ChestRt = Annotated[
    str | None,
    typer.Option(
        "--chest-rt",
        help="Prior or concurrent radiation to "
        "a field including the heart (chest, mediastinum, mantle, whole lung, left "
        "breast, thoracic spine, TBI), in Gy; lowers anthracycline limits per label.",
    ),
]
Equivalence = Annotated[
    str | None,
    typer.Option(
        "--equivalence",
        help="Doxorubicin-equivalence "
        "table: esc-2022 (default), feijen-2019, ighg-2025 or cog-ltfu-v5.",
    ),
]
PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Institution policy file "
        "(TOML); default $DOSECALC_POLICY or policy.toml in the user config "
        "folder.",
        dir_okay=False,
    ),
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override one policy value, KEY=VALUE (see dosecalc policy show); repeatable."
    ),
]
ChartFile = Annotated[
    Path | None,
    typer.Option(
        "--chart",
        help="Also write a chart of lifetime exposure against the ceilings: FILE.svg or FILE.png.",
        dir_okay=False,
    ),
]
Fmt = Annotated[str, typer.Option("--format", help="Output format (docs/outputs.md).")]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to FILE instead of standard output.", dir_okay=False
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")]
Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The ledger: a file path or sqlite:///path/to/ledger.db, or "
        "postgresql://user@host/db (default: $DOSECALC_DB, else ledger.db in your data folder).",
    ),
]
Again = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Rows of the history (or the ledger) that repeat another of the same patient, "
        "day, drug and dose are real second administrations: count them (otherwise refused).",
    ),
]
LedgerPatient = Annotated[
    str | None,
    typer.Option("--patient", help="A patient id in the ledger: their recorded doses count."),
]


@app.command(cls=_Command)
def plan(
    regimen: Annotated[str, typer.Argument(help="Library id (e.g. dia) or a regimen YAML file.")],
    height: Height = None,
    weight: Weight = None,
    bsa: Bsa = None,
    formula: Formula = None,
    sex: Sex = None,
    age: Age = None,
    scr: Scr = None,
    gfr: Gfr = None,
    lab: Lab = None,
    labs: LabFiles = None,
    adjust_organ: Annotated[
        bool,
        typer.Option(
            "--adjust-organ",
            help="Apply the organ-function dose bands (kidney, liver) to the doses; without it "
            "they are flagged but the doses are not changed.",
        ),
    ] = False,
    start: Annotated[
        str | None, typer.Option(help="Cycle 1 day 1, YYYY-MM-DD (default today).")
    ] = None,
    cycles: Annotated[
        str | None,
        typer.Option(help="Number of cycles (default: the regimen's)."),
    ] = None,
    history: History = None,
    prior: Prior = None,
    again: Again = False,
    patient: LedgerPatient = None,
    db: Db = None,
    chest_rt: ChestRt = None,
    equivalence: Equivalence = None,
    previous_weight: Annotated[
        str | None,
        typer.Option(
            "--previous-weight",
            help="Weight at "
            "the last calculation: warn when it changed more than the "
            "policy's threshold.",
        ),
    ] = None,
    reduce: Annotated[
        list[str] | None,
        typer.Option(
            "--reduce",
            help="Dose reduction "
            "DRUG=PERCENT[@CYCLE] (DRUG may be 'all'), e.g. cisplatin=25%@3; "
            "repeatable; needs --reason.",
        ),
    ] = None,
    escalate: Annotated[
        list[str] | None,
        typer.Option(
            "--escalate",
            help="Dose escalation DRUG=PERCENT[@CYCLE]; only when asked for; needs --reason.",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", help="Why the doses are modified (printed with every modified dose)."
        ),
    ] = None,
    paper: Annotated[
        str, typer.Option("--paper", help="Paper for --format html: a4 or letter.")
    ] = "a4",
    patient_name: Annotated[
        str | None,
        typer.Option(
            "--patient-name",
            help="The patient's name, printed on the order sheet (--format html) and in the "
            "FHIR bundle; without it the sheet has a line to write it by hand.",
        ),
    ] = None,
    mrn: Annotated[
        str | None,
        typer.Option(
            "--mrn",
            help="The patient's medical record number, for the order sheet and the FHIR bundle.",
        ),
    ] = None,
    birth_date: Annotated[
        str | None,
        typer.Option(
            "--birth-date",
            help="The patient's date of birth, YYYY-MM-DD, for the order sheet and the FHIR "
            "bundle.",
        ),
    ] = None,
    chart: ChartFile = None,
    delay: Annotated[
        list[str] | None,
        typer.Option(
            "--delay",
            help="Delay a cycle: CYCLE=DAYS, or PHASE.CYCLE=DAYS in a course; repeatable.",
        ),
    ] = None,
    delay_mode: Annotated[
        str,
        typer.Option(
            "--delay-mode",
            help="shift: later cycles follow a "
            "delay (default); keep: they keep the original dates.",
        ),
    ] = "shift",
    actual_dates: Annotated[
        bool,
        typer.Option(
            "--actual-dates",
            help="Date the cycles already "
            "given from the --history rows of this regimen (regimen, cycle, "
            "day columns); later cycles follow per --delay-mode.",
        ),
    ] = False,
    policy: PolicyFile = None,
    set_: Sets = None,
    compare_policy: Annotated[
        Path | None,
        typer.Option(
            "--compare-policy",
            help="Another policy file (TOML): show each dose under the policy in force and "
            "under this one, side by side.",
            dir_okay=False,
        ),
    ] = None,
    format: Fmt = "table",
    output: Output = None,
    force: Force = False,
) -> None:
    """Plan a regimen for one patient: every dose on every dated day, with its basis.

    Example: dosecalc plan dia --height 175cm --weight 70kg --start 2026-12-01
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json", "csv", "ics", "html", "fhir"))
        _check_targets(output, chart, force)
        identity = _identity(patient_name, mrn, birth_date, patient, fmt)
        from dosecalc.base.errors import fail
        from dosecalc.clinical import patient as pt
        from dosecalc.clinical.dosing import modification_names, parse_modifications
        from dosecalc.clinical.plan import make_plan, parse_start
        from dosecalc.workflows import course as crs

        rules = _policy(policy, set_)
        n_cycles = _whole(cycles, "--cycles", 1, _max_cycles(), "a number of cycles")
        table = _equivalence(equivalence)
        other = _policy(compare_policy, None) if compare_policy is not None else None
        if other is not None and fmt not in ("table", "json"):
            raise fail(
                "--compare-policy", "compares doses in a table or JSON; give --format table or json"
            )
        opened = crs.open_file(regimen)
        is_course = isinstance(opened, crs.Course)
        block = opened.head.patient if is_course and opened.head.patient else None

        def pick(cli_value: Any, name: str) -> Any:
            return cli_value if cli_value is not None or block is None else getattr(block, name)

        delays = crs.parse_delays(delay)
        mode = crs.check_mode(delay_mode)
        collected = _collect_labs(lab, labs)

        def make(rules: Any) -> Any:
            person = pt.build_patient(
                pick(height, "height"),
                pick(weight, "weight"),
                pick(bsa, "bsa"),
                formula,
                pick(sex, "sex"),
                pick(age, "age"),
                scr=pick(scr, "scr"),
                gfr=pick(gfr, "gfr"),
                previous_weight=previous_weight,
                policy=rules,
            )
            person = _with_labs(person, collected)
            factors = _factors(chest_rt, person.age_years)
            rows, notices, names = _rows(history, prior, patient, db, person.bsa_m2, again)
            if is_course:
                if reduce or escalate:
                    raise fail(
                        "--reduce",
                        "dose modifications apply to one regimen; plan the "
                        "phase's regimen on its own to modify its doses",
                    )
                if cycles is not None or actual_dates:
                    raise fail(
                        "--cycles" if cycles is not None else "--actual-dates",
                        "a course file sets the cycles and dates of each phase; change the "
                        "course file instead",
                    )
                first = parse_start(start)[0] if start is not None else None
                return crs.make_course_plan(
                    opened,
                    person,
                    first,
                    rows,
                    factors,
                    table,
                    None,
                    rules,
                    delays,
                    mode,
                    names=names,
                    notices=notices,
                    labs=collected,
                    adjust_organ=adjust_organ,
                )
            extra = [p for p, _ in delays if p != 1]
            if extra:
                raise fail(
                    "--delay",
                    f"a single regimen has one phase; phase {extra[0]} "
                    "does not exist (write CYCLE=DAYS)",
                )
            mods = parse_modifications(reduce, escalate, reason, {o.drug for o in opened.drugs})
            return make_plan(
                opened,
                person,
                start=start,
                cycles=n_cycles,
                history=rows,
                factors=factors,
                equivalence=table,
                policy=rules,
                modifications=mods,
                delays={c: d for (_, c), d in delays.items()},
                delay_mode=mode,
                actual_dates=actual_dates,
                names=names + modification_names(mods),
                notices=notices,
                labs=collected,
                adjust_organ=adjust_organ,
            )

        result = make(rules)
        compared = make(other) if other is not None else None
        from dosecalc.clinical import notices as said
        from dosecalc.inputs import history as hist

        given = dict(height=height, weight=weight, bsa=bsa, sex=sex, age=age, scr=scr, gfr=gfr)
        priors = [hist.parse_prior(text) for text in prior or []]
        result.warnings.extend(
            said.overrides(block, given, regimen) + said.untracked_priors(priors, result.result)
        )
        from dosecalc.base.jsontext import to_json

        text: str | bytes
        if fmt == "json":
            data = result.as_dict()
            if compared is not None:
                from dosecalc.workflows.policy_compare import compare

                data["policy_comparison"] = compare(result, compared).as_dict()
            text = to_json(data)
        elif fmt == "csv":
            from dosecalc.outputs import render

            text = render.plan_csv(result)
        elif fmt == "ics":
            from dosecalc.outputs.exports import to_ics

            text = to_ics(result)
        elif fmt == "fhir":
            from dosecalc.outputs.exports import to_fhir

            text = to_json(to_fhir(result, identity))
        elif fmt == "html":
            from dosecalc.outputs.sheet import render as sheet

            text = sheet(result, paper.strip().lower(), identity=identity)
        else:
            from dosecalc.outputs import render

            table = render.plan_table(result)
            if compared is not None:
                from rich.console import Group

                from dosecalc.workflows.policy_compare import compare
                from dosecalc.workflows.policy_compare import table as compare_table

                table = Group(table, compare_table(compare(result, compared)))
            if output is None:
                text = ""
                render.console().print(table)
            else:
                text = render.to_text(table)
        if chart is not None:
            from dosecalc.outputs.chart import save

            title = result.course.id if result.course is not None else result.regimen.id
            save(chart, result.result, result.cumulative, f"Lifetime exposure: {title}", force)
        if text:
            _emit(text, output, force)
        return ExitCode.CRITICAL if result.critical else ExitCode.OK

    _run(work, bounded=True)


def _identity(
    name: str | None, mrn: str | None, birth: str | None, patient: str | None, fmt: str
) -> dict[str, str | None]:
    """Who the plan is for, as given (never invented): for the order sheet and FHIR only."""
    from dosecalc.base.errors import fail

    given = {"--patient-name": name, "--mrn": mrn, "--birth-date": birth}
    for option, value in given.items():
        if value is None:
            continue
        if fmt not in ("html", "fhir"):
            raise fail(
                option,
                "identifies the patient on the order sheet and in the FHIR bundle only: give "
                "--format html or --format fhir",
            )
        if not value.strip():
            raise fail(option, "is empty")
    if birth is not None:
        from datetime import date

        try:
            date.fromisoformat(birth.strip())
        except ValueError:
            raise fail("--birth-date", f"'{birth}' is not a date; write it as YYYY-MM-DD") from None
    return {
        "name": name.strip() if name else None,
        "mrn": mrn.strip() if mrn else None,
        "birth_date": birth.strip() if birth else None,
        "patient_id": patient.strip() if patient else None,
    }


def _rows(
    history: list[Path] | None,
    prior: list[str] | None,
    patient: str | None,
    db: str | None,
    bsa_m2: float | None,
    again: bool,
) -> tuple[list[Any], list[Any], list[Any]]:
    """The prior rows of the one patient a plan is for (files, --prior and the ledger), each
    administration once (or, ``again``, repeats counted and said), what reading them found, and
    the abbreviations their drug names were read through."""
    from dosecalc.base.errors import fail
    from dosecalc.clinical.cumulative import screen
    from dosecalc.inputs import history as hist

    loaded = hist.load(history or [], prior or [])
    _from_ledger(loaded, patient, db)
    screen(loaded, lambda _: bsa_m2, again)
    if len(loaded.patients) > 1:
        raise fail(
            "--history",
            f"the history names {len(loaded.patients)} patients; a plan is "
            "for one: give that patient's rows only (dosecalc check reads them all)",
        )
    return loaded.all_rows(), loaded.notes.get(None, []), loaded.names_read()


def _collect_labs(texts: list[str] | None, files: list[Path] | None) -> Any:
    """The lab values given (--lab, --labs), merged and checked."""
    from dosecalc.inputs import labs as lb

    return lb.collect(texts or [], files or [])


def _with_labs(person: Any, values: Any) -> Any:
    """The patient with the creatinine the labs carry (refused when the labs contradict --scr,
    or a measured clearance contradicts --gfr)."""
    from dataclasses import replace

    from dosecalc.clinical import labs as lb

    scr = lb.reconcile_scr(person.scr_mg_dl, values)
    lb.reconcile_crcl(person.gfr_ml_min, values)
    return replace(person, scr_mg_dl=scr)


def _from_ledger(loaded: Any, patient: str | None, db: str | None) -> None:
    """Add one patient's recorded doses from the ledger to ``loaded``."""
    from dosecalc.base.errors import fail

    if patient is None:
        if db is not None:
            raise fail("--db", "--db names the ledger of --patient ID; give --patient")
        return
    if not patient.strip():
        raise fail("--patient", "the patient id is empty")
    if list(loaded.patients) not in ([], [None]):
        raise fail(
            "--patient",
            "the --history file names patients in a column; with --patient give only that "
            "patient's rows, without a patient column",
        )
    from dosecalc.ledger import Ledger

    Ledger(db).add_to(loaded, patient.strip())


def _policy(path: Path | None, sets: list[str] | None) -> Any:
    from dosecalc.clinical import policy as pol

    return pol.load(path or pol.default_path(), pol.parse_sets(sets))


MAX_JOBS = 256


def _max_cycles() -> int:
    from dosecalc.data.regimen import MAX_CYCLES

    return MAX_CYCLES


def _whole(
    value: str | None, option: str, lo: int, hi: int, what: str = "a whole number"
) -> int | None:
    """A whole-number option (``--cycles 4``), read by :mod:`dosecalc.strict`: ASCII digits
    only (``1_75``, ``١٧٥``, ``4.0`` and ``99999999999999999999`` are refused), from lo to hi."""
    if value is None:
        return None
    from dosecalc.base import strict
    from dosecalc.base.errors import fail

    try:
        n = strict.integer(value, signed=lo < 0)
    except ValueError as e:
        raise fail(option, f"{e}; give {what} from {lo} to {hi}") from None
    if not lo <= n <= hi:
        raise fail(option, f"{n} is not {what}; give {lo} to {hi}")
    return n


def _equivalence(value: str | None) -> str | None:
    """--equivalence: a table name (an empty value is an error, never the default table)."""
    if value is None:
        return None
    from dosecalc.base.errors import fail
    from dosecalc.clinical.policy import SETTINGS

    try:
        return SETTINGS["cumulative.equivalence"].check(value)  # type: ignore[no-any-return]
    except ValueError as e:
        raise fail("--equivalence", str(e)) from None


def _factors(chest_rt: str | None, age: float | None, person: Any = None) -> Any:
    from dosecalc.clinical.patient import parse_chest_rt
    from dosecalc.data.ceilings import RiskFactors

    gy = parse_chest_rt(chest_rt) if chest_rt is not None else None
    ratio = None  # weight / BSA: turns a per-kg ceiling into mg/m² (daunorubicin under 2 years)
    if person is not None and person.weight_kg is not None and person.bsa_m2:
        ratio = person.weight_kg / person.bsa_m2
    return RiskFactors(cardiac_radiation_gy=gy, age_years=age, kg_per_m2=ratio)


@app.command(cls=_Command)
def check(
    history: History = None,
    patient: LedgerPatient = None,
    all_patients: Annotated[
        bool,
        typer.Option(
            "--all-patients",
            help="Audit every patient in the ledger: one status line per patient over a "
            "threshold (JSON: every patient).",
        ),
    ] = False,
    db: Db = None,
    prior: Prior = None,
    again: Again = False,
    next: Annotated[
        str | None,
        typer.Option(
            "--next", help="A proposed regimen: how many more full cycles fit under the ceilings?"
        ),
    ] = None,
    cycles: Annotated[
        str | None,
        typer.Option(help="With --next: the number of cycles proposed."),
    ] = None,
    height: Height = None,
    weight: Weight = None,
    bsa: Bsa = None,
    formula: Formula = None,
    sex: Sex = None,
    age: Age = None,
    scr: Scr = None,
    lab: Lab = None,
    labs: LabFiles = None,
    chest_rt: ChestRt = None,
    equivalence: Equivalence = None,
    policy: PolicyFile = None,
    set_: Sets = None,
    chart: ChartFile = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing --chart file.")
    ] = False,
    format: Annotated[
        str, typer.Option("--format", help="Output format (docs/outputs.md).")
    ] = "table",
    details: Annotated[
        bool,
        typer.Option(
            "--details",
            help="With several patients: every patient's totals in full, not the one-line summary.",
        ),
    ] = False,
    only_over: Annotated[
        str | None,
        typer.Option(
            "--only-over",
            help="Only the patients (CSV: the drugs) at or over a threshold, or over a limit: "
            "threshold or limit.",
        ),
    ] = None,
    patients_over: Annotated[
        str | None,
        typer.Option(
            "--patients-over",
            help="The same as --only-over, for the audit of a pharmacy: only the patients at or "
            "over a threshold, or over a limit (threshold or limit); of the history files or, "
            "with --all-patients, of the ledger.",
        ),
    ] = None,
    jobs: Annotated[
        str | None,
        typer.Option(
            help="Threads of the analytics engine that checks histories naming many patients, "
            "Parquet histories and the ledger audit (default: one per CPU).",
        ),
    ] = None,
) -> None:
    """Lifetime cumulative exposure against ceilings, per patient, and what still fits.

    Example: dosecalc check --history history.csv --next ddp-epi --bsa 1.8
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json", "csv"))
        from dosecalc.base.errors import fail
        from dosecalc.clinical import check as chk
        from dosecalc.clinical import patient as pt
        from dosecalc.data import regimen as rg

        for name, value in (("--only-over", only_over), ("--patients-over", patients_over)):
            if value is not None and value.strip().lower() not in ("threshold", "limit"):
                from dosecalc.base.errors import did_you_mean

                raise fail(
                    name,
                    f"'{value}' is not a level{did_you_mean(value, ('threshold', 'limit'))}; "
                    "give threshold or limit",
                )
        over = None
        for value in (patients_over, only_over):
            over = over or (value.strip().lower() if value is not None else None)
        if (
            only_over is not None
            and patients_over is not None
            and (only_over.strip().lower() != over)
        ):
            raise fail("--patients-over", "says the same as --only-over: give one of them")
        _check_targets(None, chart, force)

        if cycles is not None and next is None:
            raise fail("--cycles", "--cycles counts the cycles of --next REGIMEN; give --next")
        n_cycles = _whole(cycles, "--cycles", 1, _max_cycles(), "a number of cycles")
        n_jobs = _whole(jobs, "--jobs", 1, MAX_JOBS, "a number of engine threads")
        table = _equivalence(equivalence)
        if all_patients:
            if history or prior or patient is not None or chart is not None:
                raise fail(
                    "--all-patients",
                    "audits the ledger alone; leave out --history, --prior, --patient and --chart",
                )
        elif not history and not prior and patient is None:
            raise fail(
                "--history",
                "nothing to check: give --history FILE, --prior DRUG=AMOUNT, --patient ID "
                "(from the ledger) or --all-patients",
            )
        rules = _policy(policy, set_)
        person = pt.build_patient(
            height, weight, bsa, formula, sex, age, scr=scr, policy=rules, require_bsa=False
        )
        values = _collect_labs(lab, labs)
        person = _with_labs(person, values)
        given_labs = bool(values) or person.scr_mg_dl is not None
        if given_labs and all_patients:
            raise fail("--lab", "lab values are one patient's; --all-patients audits many")
        factors = _factors(chest_rt, person.age_years, person)
        from dosecalc.pharmacy import batch

        one = next is not None or prior or patient is not None or chart is not None or given_labs
        parquet = any(p.suffix.lower() == ".parquet" for p in history or [])
        if all_patients or parquet or (not one and batch.wanted(history or [])):
            if one:
                raise fail(
                    "--all-patients" if all_patients else "--history",
                    "the ledger audit and a Parquet history check every patient at once: leave "
                    "out --next, --prior, --patient, --chart and --lab (give one patient's rows "
                    "in a CSV or YAML file for those)",
                )
            settings = batch.settings(person, factors, table, rules)
            code = _pharmacy(
                history or [], db, all_patients, settings, again, fmt, details, over, n_jobs, rules
            )
            if code is not None:
                return code
        from dosecalc.inputs import history as hist

        loaded = hist.load(history or [], prior or [])
        if all_patients:
            from dosecalc.ledger import Ledger

            Ledger(db).add_to(loaded, None)
        else:
            _from_ledger(loaded, patient, db)
        proposed = rg.load(next) if next is not None else None
        from dosecalc.clinical.plan import name_alerts

        read = name_alerts(
            rules, loaded.names_read(), proposed.names_read if proposed is not None else ()
        )
        chk.preflight(loaded, person, proposed, rules, again)
        named = list(loaded.patients) != [None]  # a patient column: per-patient output
        count = len(loaded.patients)
        if given_labs and count > 1:
            raise fail(
                "--lab",
                f"lab values are one patient's, and the history names {count} patients; "
                "give that patient's rows only",
            )
        if chart is not None and count > 1:
            shown = ", ".join(str(p) for p in list(loaded.patients)[:3])
            raise fail(
                "--chart",
                f"a chart shows one patient; the history names {count} patients ({shown}"
                f"{', …' if count > 3 else ''}): give one patient's rows",
            )
        args = (person, factors, table, proposed, n_cycles, rules)
        if named and (count != 1 or all_patients):
            return _check_many(loaded, fmt, details, over, args, read)
        [r] = list(chk.check_history(loaded, *args))
        r.warnings[:0] = read  # the abbreviations read, before the patient's own warnings
        if given_labs:
            r = chk.with_labs(r, values, person, proposed, rules)
        from dosecalc.clinical import notices

        r.warnings.extend(notices.untracked_priors(loaded.all_rows(), r.result))
        if chart is not None:
            from dosecalc.outputs.chart import save

            save(chart, r.result, r.cumulative, "Lifetime exposure", force)
        if fmt == "json":
            from dosecalc.base.jsontext import to_json

            data = r.as_dict()
            sys.stdout.write(to_json({"patients": [data]} if named else data))
        elif fmt == "csv":
            from dosecalc.outputs import summary

            _notices_to_stderr(read)  # the CSV holds totals only
            sys.stdout.write(summary.csv_text(summary.csv_rows(r, over), header=True))
        else:
            from dosecalc.outputs import render

            render.console().print(render.check_view([r]))
        return ExitCode.CRITICAL if r.critical else ExitCode.OK

    _run(work)


def _check_many(
    loaded: Any,
    fmt: str,
    details: bool,
    only: str | None,
    args: tuple[Any, ...],
    read: Sequence[Any] = (),
) -> int:
    """A check of several patients: JSON, CSV, every patient in full (--details) or, by
    default, one status line per patient over a threshold and the counts. ``read``: notices
    about the files and options, not one patient (the abbreviations read): beside the patients
    in JSON, on standard error with CSV, before the patients in a table."""
    from dosecalc.clinical import check as chk

    only = only.strip().lower() if only else None
    total = len(loaded.patients)
    if fmt == "json":
        critical = _write_json(chk.blocks(loaded, "json", only, *args), total, read)
    elif fmt == "csv":
        critical = _write_csv(chk.blocks(loaded, "csv", only, *args), total, read)
    elif details:
        from dosecalc.outputs import summary

        results = chk.check_history(loaded, *args)
        shown = ((r, summary.passes(summary.worst(r), only), 1) for r in results)
        critical = _write_details(shown, total, read)
    else:
        _notices_to_stderr(read)
        code = _audit(chk.blocks(loaded, "summary", only, *args), total, only)
        _say_high_doses(
            sum(
                any(a.code == "HISTORY_DOSE_HIGH" for a in notes) for notes in loaded.notes.values()
            )
        )
        return code
    return ExitCode.CRITICAL if critical else ExitCode.OK


def _say_high_doses(patients: int) -> None:
    """After the summary of many patients (which lists only those over a threshold): how many
    have history rows above their drug's usual maximum single dose, on standard error."""
    if patients:
        who = "1 patient has" if patients == 1 else f"{patients:,} patients have"
        _notice(
            f"{who} history rows above their drug's usual maximum single dose, counted as "
            "written (HISTORY_DOSE_HIGH); --details or --format json names each row"
        )


def _write_json(blocks: Iterable[tuple[bytes, bool, int]], total: int, read: Sequence[Any]) -> bool:
    """Many patients' checks as one JSON document, written as they come: each block (the JSON
    of one or more patients, UTF-8; whether critical; how many patients it covers), then the
    notices about the files beside them. Whether any block was critical."""
    critical, first = False, True
    sys.stdout.flush()
    out = sys.stdout.buffer
    out.write(b'{"patients": [\n')
    with _progress(total) as advance:
        for block, crit, n in blocks:
            critical |= crit
            if block:
                out.write(block if first else b",\n" + block)
                first = False
            advance(n)
    out.write(_json_end(read))
    return critical


def _write_csv(blocks: Iterable[tuple[str, bool, int]], total: int, read: Sequence[Any]) -> bool:
    """Many patients' totals as CSV (the notices on standard error): blocks as for JSON."""
    from dosecalc.outputs import summary

    _notices_to_stderr(read)
    critical = False
    sys.stdout.write(summary.csv_text([], header=True))
    with _progress(total) as advance:
        for block, crit, n in blocks:
            critical |= crit
            if block:
                sys.stdout.write(block)
            advance(n)
    return critical


def _write_details(
    results: Iterable[tuple[Any, bool, int]], total: int, read: Sequence[Any]
) -> bool:
    """Every patient in full (--details), the notices first: (check, whether shown, how many
    patients it covers). Whether any check was critical."""
    from dosecalc.outputs import render

    console = render.console()
    if read:
        console.print(render.alerts_table(list(read)))
    critical = False
    with _progress(total, console) as advance:
        for r, shown, n in results:
            if r is not None:
                critical |= r.critical
                if shown:
                    console.print(render.check_view([r], with_charts=False))
            advance(n)
    return critical


def _json_end(read: Sequence[Any]) -> bytes:
    """The end of a JSON check of many patients: the notices about the files (``read``) beside
    the patients, then the closing brackets."""
    if not read:
        return b"\n]}\n"
    from dosecalc.base.jsontext import to_json_line

    listed = ",\n".join(to_json_line(w.as_dict()) for w in read)
    return f'\n], "warnings": [\n{listed}\n]}}\n'.encode()


def _pharmacy(
    files: list[Path],
    db: str | None,
    ledger: bool,
    settings: Any,
    again: bool,
    fmt: str,
    details: bool,
    only: str | None,
    jobs: int | None,
    rules: Any,
) -> int | None:
    """A check of every patient by the engine (dosecalc/pharmacy/batch.py): of history files, or of the
    whole ledger (dosecalc/pharmacy/audit.py). The same outputs as the reference's check of many
    patients; None when a history turns out to name one patient (the reference checks it)."""
    from dosecalc.outputs import summary
    from dosecalc.pharmacy import batch

    if ledger:
        from dosecalc.pharmacy import audit

        loaded = audit.load(db, jobs)
    else:
        loaded = batch.load(files, jobs=jobs)
    with loaded:
        from dosecalc.clinical.plan import name_alerts

        read = name_alerts(rules, loaded.names_read())  # the abbreviations read (or refused)
        checked = batch.check(loaded, settings, again)
        total = checked.patients
        parquet = any(s.kind == "parquet" for s in loaded.sources)
        if total == 1 and not ledger and not parquet:
            return None  # one patient: the reference's output for one patient
        if not loaded.patient_column:  # a Parquet history of one patient, without a column
            [r] = list(checked.checks())
            r.warnings[:0] = read  # the abbreviations read, before the patient's own warnings
            if fmt == "json":
                from dosecalc.base.jsontext import to_json

                sys.stdout.write(to_json(r.as_dict()))
            elif fmt == "csv":
                _notices_to_stderr(read)  # the CSV holds totals only
                sys.stdout.write(summary.csv_text(summary.csv_rows(r, only), header=True))
            else:
                from dosecalc.outputs import render

                render.console().print(render.check_view([r], with_charts=False))
        elif fmt == "json":
            from dosecalc.base.jsontext import to_json_line

            lines = _selected(
                checked.checks(only), total, lambda r: to_json_line(r.as_dict()).encode()
            )
            _write_json(lines, total, read)
        elif fmt == "csv":
            rows = _selected(
                checked.checks(only),
                total,
                lambda r: summary.csv_text(summary.csv_rows(r, only)),
            )
            _write_csv(rows, total, read)
        elif details:
            shown = _selected(checked.checks(only), total, lambda r: r)
            _write_details(((r, r is not None, n) for r, _, n in shown), total, read)
        else:
            _notices_to_stderr(read)
            _audit(checked.summary(), total, only)
            _say_high_doses(checked.noted("HISTORY_DOSE_HIGH"))
        return ExitCode.CRITICAL if checked.critical else ExitCode.OK


def _selected(checks: Iterable[Any], total: int, made: Callable[[Any], Any]) -> Any:
    """The engine's checks of the patients selected, each made into what is written, as blocks
    (item, critical, 0); then the progress of all ``total`` patients (the engine checked them
    all before the first check)."""
    for r in checks:
        yield made(r), r.critical, 0
    yield None, False, total


def _notices_to_stderr(alerts: Sequence[Any]) -> None:
    """``notice: …`` lines on standard error, wrapped between words on a terminal."""
    for alert in alerts:
        _notice(alert.message)


def _notice(message: str) -> None:
    """``notice: message`` on standard error, wrapped between words on a terminal."""
    import shutil
    import textwrap

    width = shutil.get_terminal_size().columns if sys.stderr.isatty() else 0
    line = f"notice: {message}"
    if width > 20:
        line = textwrap.fill(line, width - 1, subsequent_indent="  ", break_long_words=False)
    print(line, file=sys.stderr)


class _progress:
    """A progress bar of patients checked, on standard error, once the work has taken more than
    a second, and only when standard error is a terminal. ``advance(n)`` as patients are done.
    With a ``console`` on the same terminal, its lines print above the bar."""

    DELAY = 1.0  # seconds; DOSECALC_PROGRESS_AFTER changes it

    def __init__(self, total: int, console: Any = None) -> None:
        import time

        self.total, self.console, self.started = total, console, time.monotonic()
        try:
            self.delay = float(os.environ.get("DOSECALC_PROGRESS_AFTER", self.DELAY))
        except ValueError:
            self.delay = self.DELAY
        self.bar: Any = None
        self.done = 0

    def __enter__(self) -> Callable[[int], None]:
        return self.advance

    def advance(self, n: int) -> None:
        import time

        self.done += n
        if self.bar is None and sys.stderr.isatty() and self.done < self.total:
            if time.monotonic() - self.started < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            screen = Console(file=sys.stderr)
            if self.console is not None and self.console.is_terminal:
                self.console.file = sys.stderr  # the same terminal: lines print above the bar
            self.bar = Progress(
                TextColumn("checking patients"),
                BarColumn(),
                MofNCompleteColumn(),
                console=screen
                if self.console is None or not self.console.is_terminal
                else self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("check", total=self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


def _audit(blocks: Any, total: int, only: str | None = None) -> int:
    """The summary of a check of many patients: one status line per patient over a threshold
    (``only``: 'limit' lists only those over a limit), then the counts. Lines are wrapped to the
    width of the output; a progress bar on standard error after a second."""
    import textwrap

    from dosecalc.base.numbers import glue
    from dosecalc.outputs import summary

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

    over = exceeded = 0
    critical = False
    with _progress(total, console) as advance:
        for lines, crit, n in blocks:
            critical |= crit
            for line, level in lines:
                over += level is not None
                exceeded += level == "limit"
                if line is not None and summary.passes(level, only):
                    emit(line)
            advance(n)
    listed = {"limit": "over a limit are listed", "threshold": "over a threshold are listed"}
    tail = (
        f"{total} patient{'s' if total != 1 else ''} checked: {over} over a threshold, "
        f"{exceeded} over a limit"
    )
    sys.stdout.write(tail + "\n")
    if console is not None:
        emit(
            f"(patients {listed[only or 'threshold']}; --details for every patient in full, "
            "--format csv for one row per patient and drug)"
        )
    return ExitCode.CRITICAL if critical else ExitCode.OK


@app.command(cls=_Command)
def verify(
    order: Annotated[
        Path,
        typer.Argument(
            help="The order: a YAML order file, or a FHIR R4 Bundle of MedicationRequests "
            "(.json), e.g. what plan --format fhir writes.",
            dir_okay=False,
        ),
    ],
    height: Height = None,
    weight: Weight = None,
    bsa: Bsa = None,
    formula: Formula = None,
    sex: Sex = None,
    age: Age = None,
    scr: Scr = None,
    gfr: Gfr = None,
    lab: Lab = None,
    labs: LabFiles = None,
    adjust_organ: Annotated[
        bool,
        typer.Option(
            "--adjust-organ",
            help="Expect the doses the organ-function bands (kidney, liver) give for the labs; "
            "without it a band the labs fall in is flagged and the standard dose expected.",
        ),
    ] = False,
    previous_weight: Annotated[
        str | None,
        typer.Option(
            "--previous-weight",
            help="The last recorded weight (default: the order's, when --weight is given): "
            "warn when the weight changed more than the policy's threshold.",
        ),
    ] = None,
    patient: LedgerPatient = None,
    db: Db = None,
    history: History = None,
    prior: Prior = None,
    again: Again = False,
    chest_rt: ChestRt = None,
    equivalence: Equivalence = None,
    regimen: Annotated[
        str | None,
        typer.Option(
            "--regimen", help="For a FHIR bundle that does not name it: the regimen (id or file)."
        ),
    ] = None,
    cycle: Annotated[
        str | None,
        typer.Option("--cycle", help="For a FHIR bundle of several cycles: the cycle to verify."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="For a FHIR bundle without day numbers: the cycle's day 1, YYYY-MM-DD."
        ),
    ] = None,
    policy: PolicyFile = None,
    set_: Sets = None,
    format: Fmt = "table",
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Record the check (the order's SHA-256, verdict, lines, who, when) in the "
            "ledger of --patient; it records no dose.",
        ),
    ] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", help="With --record: who checked (default: your user name)."),
    ] = None,
) -> None:
    """Verify a written order: every line recomputed, the whole order checked, a verdict.

    Exit 0: release (with or without notes); exit 1: hold.

    Example: dosecalc verify order.yaml --height 175cm --weight 70kg --patient MRN123
    """

    def work() -> int:
        from dosecalc.workflows.verify import Options, run

        return run(
            Options(
                order=order, height=height, weight=weight, bsa=bsa, formula=formula, sex=sex,
                age=age, scr=scr, gfr=gfr, lab=lab, labs=labs, adjust_organ=adjust_organ,
                previous_weight=previous_weight, regimen=regimen,
                cycle=_whole(cycle, "--cycle", 1, _max_cycles(), "a cycle number"), start=start,
                history=history, prior=prior, again=again, patient=patient, db=db,
                chest_rt=chest_rt, equivalence=_equivalence(equivalence), policy=policy, sets=set_,
                format=format, record=record, by=by,
            )
        )  # fmt: skip

    _run(work, bounded=not record and patient is None)


@app.command(cls=_Command)
def bsa(
    height: Annotated[str, typer.Option(help="Height, e.g. 175cm, 1.75m, 5ft9in.")],
    weight: Annotated[str, typer.Option(help="Weight, e.g. 70kg, 154lb.")],
    formula: Annotated[str, typer.Option(help="A formula name, or 'all'.")] = "mosteller",
    sex: Sex = None,
    format: Fmt = "table",
) -> None:
    """Body-surface area by one formula or all of them side by side.

    Example: dosecalc bsa --height 175cm --weight 70kg --formula all
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.clinical import patient as pt
        from dosecalc.clinical.bsa import FORMULAS

        h, w = pt.parse_height(height), pt.parse_weight(weight)
        pt.check_bmi(h, w)
        s = pt.parse_sex(sex) if sex is not None else None
        if formula.strip().lower() != "all":
            name = pt.bsa_formula(formula)
            value = pt.calculate_bsa(h, w, name, s)
            data: dict[str, Any] = {
                "height_cm": h,
                "weight_kg": w,
                "formula": name,
                "bsa_m2": value,
                "citation": FORMULAS[name].citation,
            }
        else:
            results: list[dict[str, object]] = []
            for name, f in FORMULAS.items():
                if f.needs_sex and s is None:
                    results.append(
                        {
                            "formula": name,
                            "bsa_m2": None,
                            "note": "needs --sex male or --sex female",
                            "citation": f.citation,
                        }
                    )
                else:
                    results.append({"formula": name, "bsa_m2": f(h, w, s), "citation": f.citation})
            data = {"height_cm": h, "weight_kg": w, "sex": s, "results": results}
        from dosecalc.outputs import render

        if fmt == "json":
            sys.stdout.write(render.to_json(data))
        else:
            render.console().print(render.bsa_table(data))
        return ExitCode.OK

    _run(work, bounded=True)


@regimens_app.command("list", cls=_Command)
def regimens_list(format: Fmt = "table") -> None:
    """List the regimen library.

    Example: dosecalc regimens list --format json
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.data import regimen as rg
        from dosecalc.outputs import render

        regs = [rg.load_file(rg.library_dir() / f"{i}.yaml") for i in rg.library_ids()]
        if fmt == "json":
            sys.stdout.write(render.to_json([render.regimen_summary(r) for r in regs]))
        else:
            render.console().print(render.regimens_table(regs))
        return ExitCode.OK

    _run(work, bounded=True)


@regimens_app.command("show", cls=_Command)
def regimens_show(
    regimen: Annotated[str, typer.Argument(help="Library id or a regimen YAML file.")],
    format: Fmt = "table",
) -> None:
    """Show one regimen: its drugs, doses, days, sources, assumptions and notes.

    Example: dosecalc regimens show dia
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.data import regimen as rg
        from dosecalc.outputs import render

        reg = rg.load(regimen)
        if fmt == "json":
            sys.stdout.write(render.to_json(render.regimen_detail(reg)))
        else:
            render.console().print(render.regimen_view(reg))
        return ExitCode.OK

    _run(work, bounded=True)


@regimens_app.command("validate", cls=_Command)
def regimens_validate(
    paths: Annotated[list[Path], typer.Argument(help="Regimen files or folders of them.")],
) -> None:
    """Check regimen and course files; report every problem with file:line. Exit 2 if any is
    invalid.

    Example: dosecalc regimens validate regimens/*.yaml
    """

    def work() -> int:
        from dosecalc.base.errors import DosecalcError
        from dosecalc.workflows import course as crs

        files: list[Path] = []
        for p in paths:
            files.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p])
        bad = 0
        for f in files:
            try:
                opened = crs.open_file(str(f))
                if isinstance(opened, crs.Course):
                    crs.check_references(opened)
                print(f"ok: {f}")
                for read in getattr(opened, "names_read", ()):
                    print(f"  notice: {read.message}")
            except DosecalcError as e:
                bad += 1
                for problem in e.problems:
                    print(f"Error: {problem}", file=sys.stderr)
        if not files:
            print("Error: PATH: no regimen files found", file=sys.stderr)
            return ExitCode.INVALID
        return ExitCode.INVALID if bad else ExitCode.OK

    _run(work, bounded=True)


@regimens_app.command("diff", cls=_Command)
def regimens_diff(
    old: Annotated[str, typer.Argument(help="The old version: a regimen file or a library id.")],
    new: Annotated[str, typer.Argument(help="The new version: a regimen file or a library id.")],
    format: Fmt = "table",
) -> None:
    """What differs between two versions of a regimen, dose by dose: drugs added or removed,
    doses, days, routes, caps, rules, cycle length and review status. Exit 0 when they are the
    same, 1 when they differ (like diff), 2 when a file is not a valid regimen.

    Example: dosecalc regimens diff map my-map.yaml
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.workflows import regimen_diff as rd

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
            sys.stdout.write(rd.as_text(da, db, diffs))
        return ExitCode.CRITICAL if diffs else ExitCode.OK

    _run(work, bounded=True)


@regimens_app.command("schema", cls=_Command)
def regimens_schema() -> None:
    """Print the JSON Schema of the regimen file format (for editors).

    Example: dosecalc regimens schema > regimen.schema.json
    """

    def work() -> int:
        import json

        from dosecalc.outputs.schema import get

        sys.stdout.write(json.dumps(get("regimen"), indent=2) + "\n")
        return ExitCode.OK

    _run(work, bounded=True)


@app.command("docs", cls=_Command)
def docs(
    topic: Annotated[
        str | None, typer.Argument(help="A page: commands, regimen, history, outputs, ...")
    ] = None,
) -> None:
    """Read the documentation: file formats, outputs, warning codes, every command.

    Example: dosecalc docs history
    """

    def work() -> int:
        from dosecalc.base.errors import did_you_mean, fail
        from dosecalc.outputs import schema as sch

        pages = sch.topics()
        if topic is None:
            for key, title in pages.items():
                print(f"{key:<10} {title}")
            print(f"(the pages are in {sch.docs_dir()}; dosecalc docs TOPIC prints one)")
            return ExitCode.OK
        key = topic.strip().lower().removesuffix(".md")
        if key not in pages:
            raise fail(
                "TOPIC",
                f"'{topic}' is not a page here{did_you_mean(key, tuple(pages))}; give one of "
                f"{', '.join(pages)}",
            )
        sys.stdout.write((sch.docs_dir() / f"{key}.md").read_text(encoding="utf-8"))
        return ExitCode.OK

    _run(work, bounded=True)


@app.command("schema", cls=_Command)
def schema(
    name: Annotated[
        str | None,
        typer.Argument(
            help="regimen, course, plan-output, check-output or bsa-output; none: list them."
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
            for key, what in sch.NAMES.items():
                print(f"{key:<14} {what}")
            return ExitCode.OK
        try:
            data = sch.get(name)
        except ValueError as e:
            raise fail("NAME", str(e)) from None
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return ExitCode.OK

    _run(work, bounded=True)


policy_app = typer.Typer(
    cls=_Group, help="Show the institution policy in force.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")


@policy_app.command("show", cls=_Command)
def policy_show(policy: PolicyFile = None, set_: Sets = None, format: Fmt = "table") -> None:
    """Print every policy value in force and where it came from.

    Example: dosecalc policy show --policy hospital.toml
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.outputs import render

        rules = _policy(policy, set_)
        if fmt == "json":
            sys.stdout.write(render.to_json({"file": rules.file, "settings": rules.as_dict()}))
        else:
            render.console().print(render.policy_table(rules))
        return ExitCode.OK

    _run(work, bounded=True)


ledger_app = typer.Typer(
    cls=_Group,
    help="The patient ledger: record, import, list, void, export and verify administrations.",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

By = Annotated[
    str | None,
    typer.Option("--by", help="Who records this (default: your user name); kept in the audit."),
]
Again = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Record a dose identical to one already recorded (a real second administration).",
    ),
]
HighDose = Annotated[
    str | None,
    typer.Option(
        "--allow-high-dose",
        metavar="REASON",
        help="Record a dose above its drug's usual maximum single dose, saying why (kept with "
        "the record). A dose at ten times that maximum or more is never recorded.",
    ),
]


def _say_warnings(ledger: Any) -> None:
    for line in ledger.warnings:
        print(f"warning: {line}", file=sys.stderr)


def _record_line(r: dict[str, Any]) -> str:
    if r["kind"] == "void":
        return f"#{r['seq']} {r['patient']}: voids #{r['voids']}: {r['reason']}"
    bsa = f" (BSA {r['bsa_m2']} m²)" if r.get("bsa_m2") else ""
    given = f" [{r['drug_given']}]" if r["drug_given"].lower() != r["drug"] else ""
    return (
        f"#{r['seq']} {r['patient']}: {r['date']} {r['drug']}{given} {r['dose']} {r['unit']}{bsa}"
    )


def _name_notices(texts: Any) -> list[Any]:
    """Before a ledger write: the abbreviations among the drug names, as notices to print once
    the write is done, or a refusal under the policy names.abbreviations = refuse (the policy
    in force by default)."""
    from dosecalc.clinical.plan import name_alerts
    from dosecalc.data import drugs

    return name_alerts(_policy(None, None), drugs.names_read(texts))


@ledger_app.command("record", cls=_Command)
def ledger_record(
    patient: Annotated[str, typer.Option("--patient", help="The patient's id.")],
    date_: Annotated[str, typer.Option("--date", help="The day it was given, YYYY-MM-DD.")],
    drug: Annotated[str, typer.Option("--drug", help="The drug (name or abbreviation).")],
    dose: Annotated[
        str, typer.Option("--dose", help="The dose given, with its unit: 40mg/m2, 72mg, 2g/m2.")
    ],
    bsa: Annotated[
        str | None, typer.Option("--bsa", help="The BSA that day in m² (for an mg dose).")
    ] = None,
    regimen: Annotated[str | None, typer.Option(help="The regimen it was part of.")] = None,
    cycle: Annotated[str | None, typer.Option(help="Its cycle number.")] = None,
    day: Annotated[str | None, typer.Option(help="Its day in the cycle.")] = None,
    note: Annotated[str | None, typer.Option(help="A free-text note.")] = None,
    time_: Annotated[
        str | None,
        typer.Option(
            "--time", help="The time it was given, HH:MM (tells two doses of a day apart)."
        ),
    ] = None,
    admin_id: Annotated[
        str | None,
        typer.Option("--id", help="The administration's id in the source system (e.g. the MAR)."),
    ] = None,
    by: By = None,
    again: Again = False,
    allow_high_dose: HighDose = None,
    db: Db = None,
    format: Fmt = "table",
) -> None:
    """Record one administration in the ledger.

    Example: dosecalc ledger record --patient MRN123 --date 2026-03-02 --drug epirubicin --dose 40mg/m2
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.base import units
        from dosecalc.base.errors import fail
        from dosecalc.clinical.patient import parse_bsa
        from dosecalc.ledger import Entry, Ledger
        from dosecalc.outputs import render

        try:
            number, unit = units.split_text(dose)
        except ValueError as e:
            raise fail("--dose", f"{e}; write e.g. 40mg/m2 or 72mg") from None
        if not unit:
            raise fail(
                "--dose",
                f"'{dose}' has no unit; write e.g. {dose.strip()}mg/m2 or {dose.strip()}mg",
            )
        bsa_text = f"{parse_bsa(bsa):g}" if bsa is not None else None
        entry = Entry(
            patient.strip(),
            date_.strip(),
            drug,
            number,
            unit,
            bsa_text,
            regimen,
            _whole(cycle, "--cycle", 1, _max_cycles(), "a cycle number"),
            _whole(day, "--day", -366, 366, "a day of a cycle"),
            note,
            time=time_.strip() if time_ is not None else None,
            source_id=admin_id.strip() if admin_id is not None else None,
        )
        ledger = Ledger(db, create=True)  # a damaged ledger is refused before any notice
        notices = _name_notices([(entry.drug, None, None, "--drug")])
        [seq] = ledger.record([entry], by=by, again=again, high_dose=allow_high_dose)
        _notices_to_stderr(notices)
        _say_warnings(ledger)
        [r] = [x for x in ledger.records(entry.patient) if x["seq"] == seq]
        if fmt == "json":
            sys.stdout.write(render.to_json({"ledger": str(ledger), "recorded": [r]}))
        else:
            print(f"recorded {_record_line(r)} in {ledger}")
        return ExitCode.OK

    _run(work)


@ledger_app.command("import", cls=_Command)
def ledger_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="A history CSV or YAML (docs/history.md), or a FHIR R4 Bundle of "
            "MedicationAdministrations (.json)."
        ),
    ],
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", help="The patient the file is about (else its patient column or subject)."
        ),
    ] = None,
    by: By = None,
    again: Again = False,
    allow_high_dose: HighDose = None,
    db: Db = None,
    format: Fmt = "table",
) -> None:
    """Import a patient's past administrations, all or nothing.

    Example: dosecalc ledger import history.csv --patient MRN123
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc import ledger as lg
        from dosecalc.outputs import render

        who = patient.strip() if patient is not None else None
        data, sha = lg.read_source(file)
        skipped: list[str] = []
        if file.suffix.lower() == ".json":
            entries, skipped = lg.fhir_entries(file, data, who)
        else:
            entries = lg.entries_from_rows(lg.history_rows(file, data), str(file), who)
        if not entries:
            from dosecalc.base.errors import FileError, Problem

            raise FileError(Problem("holds no administration to import", file=str(file)))
        ledger = lg.Ledger(db, create=True)  # a damaged ledger is refused before any notice
        notices = _name_notices((e.drug, None, None, e.source) for e in entries)

        def announce(n: int) -> None:
            print(f"writing {n} records to {ledger} ...", file=sys.stderr, flush=True)

        numbers = ledger.record(
            entries,
            by=by,
            again=again,
            source_sha256=sha,
            source_file=str(file),
            before_write=announce,
            high_dose=allow_high_dose,
        )
        _notices_to_stderr(notices)
        _say_warnings(ledger)
        patients = sorted({e.patient for e in entries})
        summary = {
            "ledger": str(ledger),
            "file": str(file),
            "sha256": sha,
            "recorded": len(numbers),
            "first": numbers[0],
            "last": numbers[-1],
            "patients": patients,
            "skipped": skipped,
        }
        if fmt == "json":
            sys.stdout.write(render.to_json(summary))
        else:
            print(
                f"imported {len(numbers)} administrations of {len(patients)} patient"
                f"{'s' if len(patients) != 1 else ''} from {file} as records "
                f"#{numbers[0]}–#{numbers[-1]} in {ledger}"
            )
            for line in skipped:
                print(f"  not recorded: {line}")
        return ExitCode.OK

    _run(work)


@ledger_app.command("list", cls=_Command)
def ledger_list(
    patient: Annotated[
        str | None, typer.Option("--patient", help="One patient's records (else every patient).")
    ] = None,
    db: Db = None,
    format: Fmt = "table",
) -> None:
    """List one patient's records (voided ones marked), or every patient in the ledger.

    Example: dosecalc ledger list --patient MRN123
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.ledger import Ledger
        from dosecalc.outputs import render

        ledger = Ledger(db)
        if patient is None:
            people = ledger.patients()
            if fmt == "json":
                sys.stdout.write(render.to_json({"ledger": str(ledger), "patients": people}))
            else:
                render.console().print(render.ledger_patients(people, str(ledger)))
            return ExitCode.OK
        records = ledger.records(patient.strip())
        if fmt == "json":
            sys.stdout.write(render.to_json({"ledger": str(ledger), "records": records}))
        else:
            render.console().print(render.ledger_records(records, str(ledger)))
        return ExitCode.OK

    _run(work)


@ledger_app.command("void", cls=_Command)
def ledger_void(
    seq: Annotated[
        str,
        typer.Argument(help="The number of the record to void (see ledger list)."),
    ],
    patient: Annotated[str, typer.Option("--patient", help="Whose record it is (a safety check).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is voided.")],
    by: By = None,
    db: Db = None,
) -> None:
    """Void a record: a new record cancels it; nothing is deleted or edited.

    Example: dosecalc ledger void 12 --patient MRN123 --reason "entered twice"
    """

    def work() -> int:
        from dosecalc.base.strict import MAX_INT
        from dosecalc.ledger import Ledger

        record = _whole(seq, "SEQ", 1, MAX_INT, "a record number")
        ledger = Ledger(db)
        number = ledger.void(record, patient.strip(), reason, by=by)
        _say_warnings(ledger)
        print(f"recorded #{number}: voids #{record} of patient {patient.strip()} in {ledger}")
        return ExitCode.OK

    _run(work)


@ledger_app.command("export", cls=_Command)
def ledger_export(
    patient: Annotated[
        str | None, typer.Option("--patient", help="One patient (else every patient).")
    ] = None,
    db: Db = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv: a history file of the doses in force (docs/history.md); json: the whole "
            "audit trail, voids and hashes included.",
        ),
    ] = "csv",
    output: Output = None,
    force: Force = False,
) -> None:
    """Export the ledger: the doses in force as a history CSV, or the audit trail as JSON.

    Example: dosecalc ledger export --patient MRN123 --output MRN123.csv
    """

    def work() -> int:
        fmt = _check_format(format, ("csv", "json"))
        _check_targets(output, None, force)
        from dosecalc.ledger import Ledger
        from dosecalc.outputs import render

        ledger = Ledger(db)
        records = ledger.records(patient.strip() if patient is not None else None)
        if fmt == "json":
            text = render.to_json({"ledger": str(ledger), "records": records})
        else:
            text = render.ledger_csv(records)
        _emit(text, output, force)
        return ExitCode.OK

    _run(work)


@ledger_app.command("verify", cls=_Command)
def ledger_verify(
    db: Db = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="A record hash noted earlier (or its first 12+ characters): it must still be "
            "in the chain, which catches a chain rewritten from that record on.",
        ),
    ] = None,
    accept_head: Annotated[
        bool,
        typer.Option(
            "--accept-head",
            help="After a deliberate restore from a backup: accept the ledger's head although "
            "it is older than the one this machine last saw (the records after it are then "
            "reported, not hidden).",
        ),
    ] = False,
    format: Fmt = "table",
) -> None:
    """Check the ledger's integrity: exit 1 if a record was edited, removed or damaged.

    Checks the database file, every record and link of the hash chain, the count of records
    against the chain head, and the newest head this machine saw (kept in your state folder,
    or $DOSECALC_STATE_DIR): removing the newest records shows too.

    Example: dosecalc ledger verify
    """

    def work() -> int:
        fmt = _check_format(format, ("table", "json"))
        from dosecalc.base.errors import fail
        from dosecalc.ledger import Ledger
        from dosecalc.outputs import render

        if anchor is not None and not (
            12 <= len(anchor) <= 64 and all(c in "0123456789abcdefABCDEF" for c in anchor)
        ):
            raise fail("--anchor", "give a record hash: 12 to 64 hexadecimal characters")
        ledger = Ledger(db)
        report = ledger.verify(anchor, accept_head=accept_head)
        _say_warnings(ledger)
        for line in report["accepted"]:
            print(f"accepted (--accept-head): {line}", file=sys.stderr)
        if fmt == "json":
            sys.stdout.write(render.to_json(report))
        elif report["ok"]:

            def n(count: int, what: str) -> str:
                return f"{count:,} {what}{'' if count == 1 else 's'}"

            parts = [n(report["doses"], "dose"), n(report["voids"], "void")]
            if report.get("checks"):
                parts.append(n(report["checks"], "checked order"))
            print(
                f"ledger {report['ledger']} is intact: {n(report['records'], 'record')} "
                f"({', '.join(parts)}) of {n(report['patients'], 'patient')}; "
                f"head #{report['head']['seq']} {report['head']['hash']}"
            )
        else:
            print(f"ledger {report['ledger']} FAILED verification:")
            for line in report["problems"][:50]:
                print(f"  {line}")
            if len(report["problems"]) > 50:
                print(f"  … and {len(report['problems']) - 50} more")
        return ExitCode.OK if report["ok"] else ExitCode.CRITICAL

    _run(work)


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


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # the whole answer; no need to build every command first
        print(VERSION)
        return
    if os.environ.get("_DOSECALC_COMPLETE"):  # a Tab press: register typer's completion classes
        from typer._completion_classes import completion_init

        completion_init()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # none used; saves start-up
    command()()
