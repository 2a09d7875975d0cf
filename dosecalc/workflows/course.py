"""Treatment courses: regimens in sequence, radiotherapy and events on one calendar.

A course file lists phases in order. A regimen phase names a library id or a regimen file
(relative to the course file) with its cycles and an optional start (default: the day after
the previous treatment phase ends). A radiotherapy phase gives the dose per fraction, the
number of fractions (weekdays only) and the site; a site whose field includes the heart feeds
the anthracycline risk modifier. An event (surgery, relapse) is a dated note. Overlapping
phases are allowed and shown on the same calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)

from dosecalc.base.errors import FileError, Problem, fail
from dosecalc.clinical.schedule import cycle_starts, fractions
from dosecalc.data.regimen import MAX_CYCLES, run_problem, span_problem

# Radiotherapy sites and whether their field includes the heart (clinical.md §2c: count only
# fields that include the heart: chest, mantle, mediastinal, whole-lung, left breast/chest
# wall, thoracic spine, TBI). Any other site needs `cardiac: true|false` in the file.
CARDIAC_SITES = {
    "chest": True,
    "thorax": True,
    "mediastinum": True,
    "mantle": True,
    "whole lung": True,
    "lung": True,
    "left breast": True,
    "left chest wall": True,
    "heart": True,
    "thoracic spine": True,
    "total body": True,
    "tbi": True,
    "oesophagus": True,
    "esophagus": True,
    "pelvis": False,
    "abdomen": False,
    "brain": False,
    "head and neck": False,
    "extremity": False,
    "right breast": False,
    "lumbar spine": False,
    "sacrum": False,
    "prostate": False,
    "rectum": False,
    "cervix": False,
    "bladder": False,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


Text = str


def _date(value: object) -> date:
    """A date in a course file: text YYYY-MM-DD within the dates dosecalc plans (a bare number
    is not read as seconds since 1970, as pydantic would)."""
    from dosecalc.base.strict import plan_date

    return plan_date(value if isinstance(value, str) else repr(value))


IsoDate = Annotated[
    date, PlainValidator(_date), WithJsonSchema({"type": "string", "format": "date"})
]
# A measurement in the patient block: text with its unit, or a bare number (never true/false).
Measure = StrictStr | StrictInt | StrictFloat


class RegimenPhase(_Strict):
    regimen: str = Field(
        min_length=1, description="library id or a regimen file (relative to the course file)"
    )
    cycles: StrictInt | None = Field(None, ge=1, le=MAX_CYCLES)
    start: IsoDate | None = None
    name: str | None = None
    note: str | None = None


class RadiotherapyPhase(_Strict):
    radiotherapy: str = Field(min_length=1, description="a label, e.g. 'IMRT'")
    site: str = Field(min_length=1)
    dose_per_fraction: StrictStr = Field(description="e.g. '3 Gy' or '300 cGy'")
    fractions: StrictInt = Field(ge=1, le=60)
    start: IsoDate | None = None
    cardiac: StrictBool | None = Field(
        None,
        description="whether the field includes the heart; "
        "required for sites dosecalc does not classify",
    )
    note: str | None = None

    @field_validator("dose_per_fraction")
    @classmethod
    def _positive(cls, text: str) -> str:
        gy_per_fraction(text)
        return text


class EventPhase(_Strict):
    event: str = Field(min_length=1, description="e.g. 'surgery: tumour resection'")
    date: IsoDate
    note: str | None = None


class PatientBlock(_Strict):
    height: Measure | None = None
    weight: Measure | None = None
    bsa: Measure | None = None
    sex: str | None = None
    age: Measure | None = None
    scr: Measure | None = None
    gfr: Measure | None = None
    assumptions: list[str] = []
    note: str | None = None


class CourseHead(_Strict):
    course: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str | None = None
    sources: list[str] = []
    assumptions: list[str] = []
    unverified: list[str] = []
    notes: list[str] = []
    patient: PatientBlock | None = None
    phases: list[dict[str, Any]] = Field(min_length=1, max_length=200)


@dataclass(frozen=True)
class Course:
    head: CourseHead
    phases: list[RegimenPhase | RadiotherapyPhase | EventPhase]
    path: Path
    lines: dict[Any, int]
    sha256: str | None = None  # of the course file's bytes as loaded

    @property
    def id(self) -> str:
        return self.head.course

    def line(self, *loc: Any) -> int | None:
        from dosecalc.data.yamlfile import line_of

        return line_of(self.lines, loc)


KINDS: dict[str, type[_Strict]] = {
    "regimen": RegimenPhase,
    "radiotherapy": RadiotherapyPhase,
    "event": EventPhase,
}


def is_course(data: Any) -> bool:
    return isinstance(data, dict) and "course" in data


def validate(
    data: dict[str, Any], lines: dict[Any, int], path: Path, sha256: str | None = None
) -> Course:
    from dosecalc.data.datafile import errors_of
    from dosecalc.data.datafile import validate as validate_model
    from dosecalc.data.yamlfile import iter_problems

    head = validate_model(CourseHead, data, lines, str(path))
    phases: list[Any] = []
    problems: list[Problem] = []
    for i, item in enumerate(head.phases):
        kinds = [k for k in KINDS if k in item]
        if len(kinds) != 1:
            problems.append(
                Problem(
                    "a phase is one of: regimen (with cycles, start), radiotherapy (with site, "
                    "dose_per_fraction, fractions, start) or event (with date)",
                    field=f"phases[{i}]",
                    file=str(path),
                    line=lines.get(("phases", i)),
                )
            )
            continue
        model = KINDS[kinds[0]]
        import pydantic

        try:
            phases.append(model.model_validate(item))
        except pydantic.ValidationError as e:
            errors = (((("phases", i) + tuple(loc)), msg) for loc, msg in errors_of(e, model))
            problems += iter_problems(errors, lines, str(path))
    if problems:
        raise FileError(*problems)
    return Course(head, phases, path, lines, sha256)


# ---------------------------------------------------------------- calendars


def check_mode(mode: str) -> str:
    if mode not in ("shift", "keep"):
        raise fail(
            "--delay-mode",
            f"'{mode}' is not a delay mode; give shift (later cycles "
            "follow the delay) or keep (later cycles keep the original dates)",
        )
    return mode


def parse_delays(items: list[str] | None) -> dict[tuple[int, int], int]:
    """``--delay 3=7`` (cycle 3 of phase 1) or ``--delay 2.3=7`` (phase 2, cycle 3)."""
    from dosecalc.base import strict

    out: dict[tuple[int, int], int] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) > 2:
            raise fail(
                "--delay",
                f"'{item}' is not CYCLE=DAYS or PHASE.CYCLE=DAYS; e.g. 3=7 "
                "delays cycle 3 by 7 days",
            )
        try:
            numbers = [strict.integer(part) for part in parts]
            days = strict.integer(value)
        except ValueError as e:
            raise fail(
                "--delay",
                f"'{item}' is not CYCLE=DAYS or PHASE.CYCLE=DAYS: {e}; e.g. 3=7 delays cycle 3 "
                "by 7 days",
            ) from None
        phase, cycle = (1, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
        if phase < 1 or cycle < 1:
            raise fail("--delay", f"'{item}': phases and cycles are numbered from 1")
        if not 1 <= days <= 365:
            raise fail("--delay", f"'{item}': a delay is 1 to 365 days")
        if (phase, cycle) in out:
            raise fail("--delay", f"cycle {cycle} of phase {phase} is delayed twice")
        out[(phase, cycle)] = days
    return out


def gy_per_fraction(text: str) -> float:
    """``'3 Gy'`` / ``'300 cGy'`` → 3.0; ValueError unless a radiation dose above zero (a zero
    or negative dose would also take the field out of the cardiac total of the ceilings)."""
    from dosecalc.base.errors import DosecalcError
    from dosecalc.base.units import measure

    try:
        gy = measure(text, "dose_per_fraction", "Gy", bare=None, examples="3 Gy or 300 cGy")
    except DosecalcError as e:
        raise ValueError(e.problems[0].message) from None
    if not gy > 0:
        raise ValueError(f"'{text}' is not above zero; give the dose of each fraction, e.g. 3 Gy")
    return gy


def rt_dose_gy(text: str, where: str) -> float:
    try:
        return gy_per_fraction(text)
    except ValueError as e:
        raise FileError(Problem(str(e), field="dose_per_fraction", file=where)) from None


def is_cardiac(phase: RadiotherapyPhase, where: str, line: int | None) -> bool:
    if phase.cardiac is not None:
        return phase.cardiac
    site = " ".join(phase.site.lower().replace("-", " ").replace("_", " ").split())
    if site in CARDIAC_SITES:
        return CARDIAC_SITES[site]
    raise FileError(
        Problem(
            f"dosecalc does not know whether a '{phase.site}' field includes the heart; add "
            f"'cardiac: true' or 'cardiac: false' (known sites: {', '.join(sorted(CARDIAC_SITES))})",
            field="site",
            file=where,
            line=line,
        )
    )


# ---------------------------------------------------------------- loading and planning


def load(path: Path) -> Course:
    from dosecalc.data import yamlfile

    data, lines, digest = yamlfile.load_hashed(path, "course")
    if not is_course(data):
        raise FileError(Problem("not a course file (it has no 'course:' key)", file=str(path)))
    return validate(data, lines, path, digest)


def _regimen(course: Course, i: int, ref: str) -> Any:
    from dosecalc.data import regimen as rg

    where = dict(
        field=f"phases[{i - 1}].regimen",
        file=str(course.path),
        line=course.line("phases", i - 1, "regimen"),
    )
    if ref.lower().endswith((".yaml", ".yml")) or "/" in ref:
        path = (course.path.parent / ref) if not Path(ref).is_absolute() else Path(ref)
        if not path.is_file():
            raise FileError(Problem(f"no regimen file {path}", **where))  # type: ignore[arg-type]
        try:
            return rg.load_file(path)
        except FileError as e:
            message = e.problems[0].message
            if len(e.problems) == 1 and message.startswith("this is a course file"):
                raise FileError(Problem(f"{ref}: {message}", **where)) from None  # type: ignore[arg-type]
            raise
    try:
        return rg.load(ref)
    except FileError as e:
        raise FileError(Problem(e.problems[0].message, **where)) from None  # type: ignore[arg-type]


def make_course_plan(
    course: Course,
    patient: Any,
    start: date | None = None,
    history: Any = (),
    factors: Any = None,
    equivalence: str | None = None,
    options: dict[str, str] | None = None,
    policy: Any = None,
    delays: dict[tuple[int, int], int] | None = None,
    delay_mode: str = "shift",
    today: date | None = None,
    names: Any = (),
    notices: Any = (),
    labs: Any = None,
    adjust_organ: bool = False,
    consulted: Any = None,
    genotypes: dict[str, Any] | None = None,
) -> Any:
    """Plan every phase of ``course`` on one calendar, lifetime totals carried through
    (``notices``: what reading the history found, as for a single regimen's plan; ``names``:
    drug names read through abbreviations outside the course: histories, --prior;
    ``genotypes``: the patient's, as for a single regimen's plan)."""
    from dosecalc.base.alerts import INFO, WARNING, Alert
    from dosecalc.clinical import organ as og
    from dosecalc.clinical.plan import (
        Phase,
        assemble,
        cycles_beyond,
        lab_alerts,
        lines_not_planned,
        name_alerts,
        regimen_alerts,
        require_bsa,
        schedule_regimen,
        short_intervals,
    )
    from dosecalc.clinical.policy import defaults
    from dosecalc.data.labs import Labs

    policy = policy or defaults()
    require_bsa(patient)
    labs = labs if labs is not None else Labs()
    values = og.values_for(patient, labs, policy)
    assessed: list[Any] = []
    genotypes = dict(genotypes or {})
    read_pgx: list[Any] = []
    delays = dict(delays or {})
    head = course.head
    warnings: list[Alert] = [
        Alert(WARNING, "REGIMEN_UNVERIFIED", f"{head.course}: unverified: {t}")
        for t in head.unverified
    ]
    warnings += [
        Alert(INFO, "REGIMEN_ASSUMPTION", f"{head.course}: assumed: {t}")
        for t in head.assumptions + (head.patient.assumptions if head.patient else [])
    ]
    phases: list[Phase] = []
    administrations: list[Any] = []
    beyond: list[Any] = []  # each phase's cycles after its own (the projection's)
    reads: list[Any] = []  # the regimens' abbreviations, reported once after the loop
    seen_regimens: set[str] = set()
    previous_end: date | None = None
    last_regimen: Phase | None = None
    where = str(course.path)
    for i, ph in enumerate(course.phases, 1):
        line = course.line("phases", i - 1)
        if isinstance(ph, EventPhase):
            phases.append(Phase(i, "event", ph.event, ph.date, None, note=ph.note))
            continue
        first = ph.start or previous_end
        if first is None:
            if start is None:
                raise FileError(
                    Problem(
                        "the first treatment phase needs a start date (or give --start)",
                        field=f"phases[{i - 1}].start",
                        file=where,
                        line=line,
                    )
                )
            first = start
        elif start is not None and i == 1:
            raise fail(
                "--start",
                "the course file already dates its first phase; change the "
                "file rather than --start",
            )
        if isinstance(ph, RadiotherapyPhase):
            dates = fractions(first, ph.fractions)
            gy = rt_dose_gy(
                ph.dose_per_fraction, f"{where}:{course.line('phases', i - 1, 'dose_per_fraction')}"
            )
            cardiac = is_cardiac(ph, where, course.line("phases", i - 1, "site"))
            phase = Phase(
                i,
                "radiotherapy",
                ph.radiotherapy,
                dates[0],
                dates[-1] + timedelta(days=1),
                fraction_dates=tuple(dates),
                site=ph.site,
                dose_per_fraction_gy=gy,
                cardiac=cardiac,
                note=ph.note,
            )
            phases.append(phase)
            previous_end = phase.end
            continue
        reg = _regimen(course, i, ph.regimen)
        n = ph.cycles or reg.cycles
        problem = span_problem(n, reg.cycle_length_days) if ph.cycles else None
        if problem:
            raise FileError(
                Problem(
                    f"phase {i} ({reg.id}): {problem}",
                    field=f"phases[{i - 1}].cycles",
                    file=where,
                    line=course.line("phases", i - 1, "cycles"),
                )
            )
        mine = {c: d for (p, c), d in delays.items() if p == i}
        for c in mine:
            delays.pop((i, c))
            if c > n:
                raise fail("--delay", f"phase {i} ({reg.id}) has {n} cycles, not {c}")
        starts = cycle_starts(first, n, reg.cycle_length_days, mine, delay_mode)
        # each regimen phase's own span, with its delays (a course may tell a patient's whole
        # history, years apart: a relapse treated seven years on is no slip)
        problem = run_problem(first, starts[-1] + timedelta(days=reg.cycle_length_days))
        if problem:
            raise FileError(
                Problem(
                    f"phase {i} ({reg.id}) {problem}: check its cycles and --delay",
                    field=f"phases[{i - 1}]",
                    file=where,
                    line=line,
                )
            )
        given, alerts = schedule_regimen(
            reg,
            patient,
            policy,
            first,
            n,
            (),
            i,
            starts,
            organ_values=values,
            adjust_organ=adjust_organ,
            assessed=assessed,
            genotypes=genotypes,
            assessed_pgx=read_pgx,
            age_on=phases[0].start if phases else first,  # the age given: on the course's start
        )
        born_on = phases[0].start if phases else first  # the course's start: the age given
        age = (
            patient.age_years + (first - born_on).days / 365.25
            if patient.age_years is not None
            else None
        )
        beyond += cycles_beyond(  # the regimen's cycles after this phase's, for the projection
            reg, patient, policy, first, n, age, mine, delay_mode, phase=i,
            organ_values=values, adjust_organ=adjust_organ, genotypes=genotypes, age_on=born_on,
        )  # fmt: skip
        alerts += lab_alerts(reg, labs, starts, policy, values, i, last_regimen is None)
        alerts += lines_not_planned(reg, n, phase=i)
        phase = Phase(
            i,
            "regimen",
            ph.name or reg.name,
            starts[0],
            starts[-1] + timedelta(days=reg.cycle_length_days),
            reg,
            n,
            tuple(starts),
            note=ph.note,
            planned=first,
        )
        reads += reg.names_read
        if (reg.sha256 or reg.id) not in seen_regimens:  # each version of a file once
            warnings += regimen_alerts(reg, today)
            seen_regimens.add(reg.sha256 or reg.id)
        if last_regimen is not None and last_regimen.end and phase.start < last_regimen.end:
            warnings.append(
                Alert(
                    WARNING,
                    "PHASES_OVERLAP",
                    f"phase {i} ({reg.id}) starts on {phase.start}, before phase "
                    f"{last_regimen.number} ends ({last_regimen.end})",
                    phase=i,
                    cycle=1,
                    day=1,
                    date=phase.start,
                )
            )
        warnings += alerts + short_intervals(phase)
        administrations += given
        phases.append(phase)
        previous_end = phase.end
        last_regimen = phase
    if delays:
        (p, c), _ = next(iter(delays.items()))
        raise fail("--delay", f"phase {p} is not a regimen phase of this course (cycle {c})")
    warnings += name_alerts(policy, reads, names)
    warnings += notices
    return assemble(
        patient,
        phases,
        administrations,
        warnings,
        history,
        factors,
        equivalence,
        options,
        policy,
        course,
        labs=labs,
        kidney=values.kidney,
        organ=assessed,
        adjust_organ=adjust_organ,
        consulted=consulted,
        genotypes=genotypes,
        pgx=read_pgx,
        beyond=beyond,
    )


def open_file(ref: str) -> Any:
    """A REGIMEN argument: a library id, a regimen file or a course file."""
    from dosecalc.data import regimen as rg
    from dosecalc.data import yamlfile

    path = rg.resolve(ref)
    data, lines, digest = yamlfile.load_hashed(path, "regimen or course")
    if is_course(data):
        return validate(data, lines, path, digest)
    return rg.check_library_id(rg.validate(data, lines, str(path), digest), path, lines)


def phase_regimens(course: Course) -> list[Any]:
    """The regimen of each of a course's regimen phases, once each (the references checked)."""
    out: list[Any] = []
    for i, ph in enumerate(course.phases, 1):
        if isinstance(ph, RegimenPhase):
            found = _regimen(course, i, ph.regimen)
            if all(found is not r for r in out):
                out.append(found)
    return out


def check_references(course: Course) -> None:
    """Load every regimen a course refers to (errors name the course file and line)."""
    problems: list[Problem] = []
    for i, ph in enumerate(course.phases, 1):
        if isinstance(ph, RegimenPhase):
            try:
                _regimen(course, i, ph.regimen)
            except FileError as e:
                problems += e.problems
    if problems:
        raise FileError(*problems)
