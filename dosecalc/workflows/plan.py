"""``dosecalc plan``: one patient, one regimen or a course, every dose on every dated day.

The request holds the options as typed; :func:`run` reads them (policy, patient, labs, the
prior exposure), plans, and returns the plan (and, with ``compare_policy``, the same plan under
another policy). Turning it into a table, JSON, CSV, iCalendar, FHIR or an order sheet is the
command line's (cli/plan.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dosecalc.base.errors import fail
from dosecalc.base.numbers import fmt


@dataclass(frozen=True)
class PlanRequest:
    """plan's options, as typed (None: not given)."""

    regimen: str
    height: str | None = None
    weight: str | None = None
    bsa: str | None = None
    formula: str | None = None
    sex: str | None = None
    age: str | None = None
    scr: str | None = None
    gfr: str | None = None
    gfr_measured: bool = False
    lab: list[str] | None = None
    labs: list[Path] | None = None
    adjust_organ: bool = False
    genotype: list[str] | None = None
    start: str | None = None
    cycles: str | None = None
    history: list[Path] | None = None
    prior: list[str] | None = None
    again: bool = False
    patient: str | None = None
    db: str | None = None
    chest_rt: str | None = None
    equivalence: str | None = None
    previous_weight: str | None = None
    reduce: list[str] | None = None
    escalate: list[str] | None = None
    reason: str | None = None
    delay: list[str] | None = None
    delay_mode: str = "shift"
    actual_dates: bool = False
    policy: Path | None = None
    set_: list[str] | None = None
    compare_policy: Path | None = None
    birth_date: str | None = None  # --birth-date (the sheet's and FHIR's): the age on the start

    @classmethod
    def of(cls, options: dict[str, Any]) -> PlanRequest:
        """The request from a command's options (those that are not the plan's are left out)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})


@dataclass(frozen=True)
class PlanOutcome:
    plan: Any  # clinical.plan.Plan
    compared: Any = None  # the same plan under the --compare-policy policy


def run(req: PlanRequest) -> PlanOutcome:
    from dosecalc.base import strict
    from dosecalc.base.errors import FileError
    from dosecalc.clinical.plan import given_twice, past_plan_alerts
    from dosecalc.data.regimen import MAX_CYCLES
    from dosecalc.inputs import history as hist
    from dosecalc.workflows import course as crs
    from dosecalc.workflows import gather, notices

    rules = gather.policy(req.policy, req.set_)
    n_cycles = strict.whole_option(req.cycles, "--cycles", 1, MAX_CYCLES, "a number of cycles")
    table = gather.equivalence(req.equivalence, rules)
    other = gather.policy(req.compare_policy, None) if req.compare_policy is not None else None
    opened = crs.open_file(req.regimen)
    is_course = isinstance(opened, crs.Course)
    block = opened.head.patient if is_course and opened.head.patient else None
    delays = crs.parse_delays(req.delay)
    mode = crs.check_mode(req.delay_mode)
    labs = gather.labs(req.lab, req.labs)
    genotypes = gather.genotypes(req.genotype, labs)

    age = _age_from_birth(req, opened, block)

    def make(rules: Any) -> Any:
        person = _patient(req, block, rules, labs, age)
        factors = gather.factors(req.chest_rt, person.age_years)
        prior = gather.prior(req.history, req.prior, req.patient, req.db, person.bsa_m2, req.again)
        if is_course:
            made = _course(req, opened, person, prior, factors, table, rules, delays, mode, labs,
                           genotypes)  # fmt: skip
        else:
            made = _regimen(req, opened, person, prior, factors, table, rules, delays, mode, labs,
                            n_cycles, genotypes)  # fmt: skip
        # a dose the history already holds, planned again that day, would count twice
        twice = given_twice(made.administrations, prior.rows, made.patient.bsa_m2, is_course)
        if twice:
            raise FileError(*twice)
        return made

    plan = make(rules)
    compared = make(other) if other is not None else None
    given = {name: getattr(req, name) for name in notices.PATIENT_OPTIONS}
    priors = [hist.parse_prior(text) for text in req.prior or []]
    plan.warnings.extend(
        notices.overrides(block, given, req.regimen) + notices.untracked_priors(priors, plan.result)
    )
    plan.warnings.extend(past_plan_alerts(plan))
    return PlanOutcome(plan, compared)


def _age_from_birth(req: PlanRequest, opened: Any, block: Any) -> str | None:
    """The age on the plan's start from ``--birth-date`` (in years, as --age reads them), or
    None without one; an --age (or the course file's) that the date of birth contradicts is
    refused: the sheet would print both, and a rule by age would dose by one of them."""
    from dosecalc.base import clock, strict
    from dosecalc.clinical import patient as pt
    from dosecalc.clinical.plan import parse_start

    if req.birth_date is None:
        return None
    try:
        born = strict.iso_date(req.birth_date)
    except ValueError as e:
        raise fail("--birth-date", str(e)) from None
    phases = getattr(opened, "phases", None)
    written = next((ph.start for ph in phases or () if getattr(ph, "start", None)), None)
    start = parse_start(req.start)[0] if req.start is not None or written is None else written
    if start < born:
        raise fail("--birth-date", f"{born} is after the plan's start, {start}")
    years = clock.years_old(born, start)
    age = req.age if req.age is not None or block is None else block.age
    if age is not None:
        given = pt.parse_age(age)
        whole = given >= 1 and given == int(given)  # '5': 5 to 6 years
        if (int(years) != given) if whole else abs(years - given) >= 1 / 12:
            raise fail(
                "--age",
                f"--age {age} contradicts --birth-date {born}: {fmt(years)} y on the plan's "
                f"start, {start}; give the date of birth alone (it gives the age)",
            )
    return repr(years)  # in years, as --age reads a bare number


def _patient(req: PlanRequest, block: Any, rules: Any, labs: Any, age: str | None = None) -> Any:
    """The patient: the options given, else the course file's ``patient:`` block (the age
    from the date of birth when one is given)."""
    from dosecalc.clinical import patient as pt
    from dosecalc.workflows import gather

    def pick(name: str) -> Any:
        if name == "age" and age is not None:
            return age
        value = getattr(req, name)
        return value if value is not None or block is None else getattr(block, name)

    person = pt.build_patient(
        pick("height"),
        pick("weight"),
        pick("bsa"),
        req.formula,
        pick("sex"),
        pick("age"),
        scr=pick("scr"),
        gfr=pick("gfr"),
        previous_weight=req.previous_weight,
        policy=rules,
        gfr_measured=req.gfr_measured,
    )
    if req.birth_date is not None and age is not None:  # the age on each cycle's day 1 from it
        from dataclasses import replace

        from dosecalc.base import strict

        person = replace(person, born=strict.iso_date(req.birth_date))
    return gather.with_labs(person, labs)


def _course(req: PlanRequest, course: Any, person: Any, prior: Any, factors: Any, table: Any,
            rules: Any, delays: Any, mode: str, labs: Any, genotypes: Any) -> Any:  # fmt: skip
    from dosecalc.clinical.plan import parse_start
    from dosecalc.workflows import course as crs

    if req.reduce or req.escalate:
        raise fail(
            "--reduce",
            "dose modifications apply to one regimen; plan the phase's regimen on its own to "
            "modify its doses",
        )
    if req.cycles is not None or req.actual_dates:
        raise fail(
            "--cycles" if req.cycles is not None else "--actual-dates",
            "a course file sets the cycles and dates of each phase; change the course file instead",
        )
    first = parse_start(req.start)[0] if req.start is not None else None
    return crs.make_course_plan(
        course, person, first, prior.rows, factors, table, None, rules, delays, mode,
        names=prior.names, notices=prior.notices, labs=labs, adjust_organ=req.adjust_organ,
        consulted=prior.consulted,
        genotypes=genotypes,
    )  # fmt: skip


def _regimen(req: PlanRequest, regimen: Any, person: Any, prior: Any, factors: Any, table: Any,
             rules: Any, delays: Any, mode: str, labs: Any, n_cycles: int | None,
             genotypes: Any) -> Any:  # fmt: skip
    from dosecalc.clinical.dosing import modification_names, parse_modifications
    from dosecalc.clinical.plan import make_plan

    extra = [p for p, _ in delays if p != 1]
    if extra:
        raise fail(
            "--delay",
            f"a single regimen has one phase; phase {extra[0]} does not exist (write CYCLE=DAYS)",
        )
    drugs = {o.drug for o in regimen.drugs}
    mods = parse_modifications(req.reduce, req.escalate, req.reason, drugs)
    return make_plan(
        regimen,
        person,
        start=req.start,
        cycles=n_cycles,
        history=prior.rows,
        factors=factors,
        equivalence=table,
        policy=rules,
        modifications=mods,
        delays={c: d for (_, c), d in delays.items()},
        delay_mode=mode,
        actual_dates=req.actual_dates,
        names=prior.names + modification_names(mods),
        notices=prior.notices,
        labs=labs,
        adjust_organ=req.adjust_organ,
        consulted=prior.consulted,
        genotypes=genotypes,
    )
