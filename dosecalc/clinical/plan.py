"""A plan: one patient, one regimen, dated doses, lifetime totals, projection and warnings.

This is the API the CLI calls::

    make_plan(regimen, patient, start="2026-12-01", cycles=11, history=rows)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from dosecalc import __version__
from dosecalc.base import clock
from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert
from dosecalc.base.errors import Problem, capped, fail
from dosecalc.base.numbers import age_text, fmt, runs
from dosecalc.clinical import cumulative
from dosecalc.clinical.cumulative import Event, Fit, Total
from dosecalc.clinical.dosing import (
    Dose,
    Modification,
    calculate,
    guard_alert,
    held_to,
    line_alerts,
    modification_for,
    relative,
    usual_maximum_alert,
    usual_maximum_excess,
)
from dosecalc.clinical.patient import Patient
from dosecalc.clinical.policy import Policy
from dosecalc.clinical.schedule import Administration, cycle_start, cycle_starts, expand
from dosecalc.clinical.supportive import regimen_gaps
from dosecalc.data import drugs
from dosecalc.data.ceilings import RiskFactors
from dosecalc.data.ceilings import book as ceilings_book
from dosecalc.data.drugs import NameRead
from dosecalc.data.records import Row
from dosecalc.data.regimen import MAX_CYCLES, Regimen, run_problem, span_problem


@dataclass(frozen=True)
class Projection:
    """Where one drug's ceilings fall in this plan, and how many full cycles fit under them."""

    fit: Fit
    threshold_at: Alert | None  # the crossing inside this plan, if any
    limit_at: Alert | None
    before: float  # the total before this plan
    after: float  # the total after it
    lines: tuple[str, ...]  # one sentence per ceiling

    @property
    def message(self) -> str:
        return ". ".join(self.lines)

    def as_dict(self) -> dict[str, object]:
        def at(a: Alert | None) -> dict[str, object] | None:
            if a is None:
                return None
            return {
                "phase": a.phase,
                "cycle": a.cycle,
                "day": a.day,
                "date": a.date.isoformat() if a.date else None,
            }

        f = self.fit
        return {
            "drug": f.drug,
            "unit": f.unit,
            "threshold": f.threshold,
            "limit": f.limit,
            "threshold_reached_at": at(self.threshold_at),
            "limit_exceeded_at": at(self.limit_at),
            "cycles_within_threshold": f.within_threshold,
            "cycles_within_limit": f.within_limit,
            "message": self.message,
        }


@dataclass(frozen=True)
class Phase:
    """One entry of a course (a single-regimen plan has one): regimen, radiotherapy or event."""

    number: int
    kind: str  # "regimen" | "radiotherapy" | "event"
    label: str
    start: date
    end: date | None = None  # the day after it ends (None for an event)
    regimen: Regimen | None = None
    cycles: int = 0
    cycle_starts: tuple[date, ...] = ()
    fraction_dates: tuple[date, ...] = ()
    site: str | None = None
    dose_per_fraction_gy: float | None = None
    cardiac: bool | None = None
    note: str | None = None
    planned: date | None = None  # a regimen phase's cycle 1 day 1 before any delay

    @property
    def total_gy(self) -> float | None:
        if self.dose_per_fraction_gy is None:
            return None
        return self.dose_per_fraction_gy * len(self.fraction_dates)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "phase": self.number,
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "note": self.note,
        }
        if self.regimen is not None:
            out.update(
                regimen=self.regimen.id,
                regimen_sha256=self.regimen.sha256,
                regimen_status=self.regimen.status,
                cycles=self.cycles,
                cycle_length_days=self.regimen.cycle_length_days,
                cycle_starts=[d.isoformat() for d in self.cycle_starts],
            )
        if self.kind == "radiotherapy":
            out.update(
                site=self.site,
                dose_per_fraction_gy=self.dose_per_fraction_gy,
                fractions=len(self.fraction_dates),
                total_gy=self.total_gy,
                cardiac=self.cardiac,
                fraction_dates=[d.isoformat() for d in self.fraction_dates],
            )
        return out


@dataclass(frozen=True)
class Plan:
    patient: Patient
    regimen: Regimen | None  # the regimen of a single-regimen plan
    start: date
    cycles: int
    administrations: list[Administration]
    cumulative: list[Total]
    warnings: list[Alert] = field(default_factory=list)
    projection: list[Projection] = field(default_factory=list)
    equivalence: str | None = None
    factors: RiskFactors = RiskFactors()
    policy: Policy | None = None
    phases: list[Phase] = field(default_factory=list)
    course: Any = None  # a dosecalc.course.Course
    totals_after: dict[int, dict[str, float]] = field(default_factory=dict)  # phase → drug → total
    result: Any = None  # the cumulative.Result behind the totals (for charts)
    labs: Any = None  # labs.Labs given for this patient
    kidney: Any = None  # renal.Kidney: the kidney function every drug's rule reads
    organ: list[Any] = field(default_factory=list)  # organ.Assessment per drug order
    adjust_organ: bool = False  # whether organ-function bands changed the doses
    genotypes: dict[str, Any] = field(default_factory=dict)  # gene → pgx.Genotype given
    pgx: list[Any] = field(default_factory=list)  # pgx.Assessment per drug order
    emetogenic: list[Any] = field(default_factory=list)  # emetogenic.DayRisk per day

    def supportive_care(self) -> list[tuple[Phase, Any]]:
        """The non-dosed supportive care of each regimen phase: (phase, regimen.Care)."""
        return [(ph, c) for ph in self.phases if ph.regimen for c in ph.regimen.supportive_care]

    def emetogenic_summary(self) -> dict[str, object]:
        """The option in force, what its default follows, and how long prophylaxis lasts."""
        from dosecalc.clinical import emetogenic as em
        from dosecalc.data.emetogenic import book

        option = self.policy["emetogenic.option"] if self.policy else book().default_option
        rule = book().multiday.get(option) or book().multiday[book().default_option]
        highest = book().highest_agent
        return {
            "option": option,
            "highest_agent_rule": {
                "text": highest["rule"],
                "source": book().cite(highest["source"]),
                "verified": highest["verified"],
            },
            "multiday": {
                "days_after_completion": rule.get("days_after_completion"),
                "source": book().cite(rule["source"]),
                "verified": rule["verified"],
                "note": rule.get("note"),
            },
            "cover": [
                {"phase": ph, "cycle": c, "to_days": days}
                for (ph, c), days in em.cover(self.emetogenic, book(), option).items()
            ],
        }

    @property
    def critical(self) -> bool:
        return any(w.severity == CRITICAL for w in self.warnings)

    def changes(self) -> list[str]:
        """The dose modifications and delays this plan applies, one phrase each."""
        out: list[str] = []
        seen = set()
        for a in self.administrations:
            m = a.dose.modification
            if m is not None and m not in seen:
                seen.add(m)
                out.append(f"{m.drug or 'all drugs'} {m.describe()}")
        for ph in self.phases:
            length = ph.regimen.cycle_length_days if ph.regimen is not None else None
            for c in range(2, len(ph.cycle_starts) + 1):
                gap = (ph.cycle_starts[c - 1] - ph.cycle_starts[c - 2]).days
                if length is not None and gap > length:
                    at = f"phase {ph.number} " if self.course is not None else ""
                    late = gap - length
                    out.append(
                        f"{at}cycle {c} starts {late} day{'s' if late != 1 else ''} late "
                        f"({gap} days after cycle {c - 1})"
                    )
        return out

    def as_dict(self) -> dict[str, object]:
        from dosecalc.clinical import pgx

        patient = self.patient.as_dict()
        patient["cardiac_radiation_gy"] = self.factors.cardiac_radiation_gy
        patient["genotype"] = pgx.as_dict(self.genotypes)
        if self.course is not None:
            head = self.course.head
            described: dict[str, object] = {
                "id": head.course,
                "name": head.name or head.course,
                "course": True,
                "sha256": self.course.sha256,
                "start": self.start.isoformat(),
                "sources": list(head.sources),
                "assumptions": list(head.assumptions)
                + list(head.patient.assumptions if head.patient else []),
                "unverified": list(head.unverified),
                "notes": list(head.notes),
                "phases": [
                    {**ph.as_dict(), "totals_after": self.totals_after.get(ph.number, {})}
                    for ph in self.phases
                ],
            }
        else:
            r = self.regimen
            assert r is not None
            described = {
                "id": r.id,
                "name": r.name,
                "cycle_length_days": r.cycle_length_days,
                "cycles": self.cycles,
                "start": self.start.isoformat(),
                "version": r.version,
                **review_dict(r),
                "sources": list(r.sources),
                "assumptions": list(r.assumptions),
                "unverified": list(r.unverified),
                "notes": list(r.notes),
                "cycle_starts": [d.isoformat() for d in self.phases[0].cycle_starts],
            }
        return {
            "dosecalc_version": __version__,
            "patient": patient,
            "regimen": described,
            "equivalence_table": self.equivalence,
            "policy": self.policy.as_dict() if self.policy else None,
            "policy_file": self.policy.file_dict() if self.policy else None,
            "administrations": [a.as_dict() for a in self.administrations],
            "cumulative": [t.as_dict() for t in self.cumulative],
            "projection": [p.as_dict() for p in self.projection],
            "labs": self.labs.as_list() if self.labs else [],
            "renal": self.kidney.as_dict() if self.kidney is not None else None,
            "organ_function": organ_as_list(self.organ, self.adjust_organ),
            "pharmacogenomics": pgx.as_list(self.pgx),
            "changes": self.changes(),
            "supportive_care": [
                {
                    "phase": ph.number,
                    "regimen": ph.regimen.id if ph.regimen else None,
                    **c.as_dict(),
                }
                for ph, c in self.supportive_care()
            ],
            "emetogenic_risk": [d.as_dict() for d in self.emetogenic],
            "emetogenic": self.emetogenic_summary(),
            "warnings": [w.as_dict() for w in self.warnings],
        }


# Which administrations a warning concerns. A warning names the administrations that match every
# one of drug, phase, cycle, day and date it gives (a drug the plan does not give, such as the
# doxorubicin-equivalent total, does not narrow; phase alone names none). Some hold beyond the
# administration they name: one about a computed dose wherever that dose is given, one about a
# drug order and the patient's organ function wherever that order is given, a lab gate's on
# every day of its cycle. How a file was read (an abbreviation) concerns no administration.
PER_DOSE = frozenset(
    (
        "DOSE_ABOVE_USUAL_MAXIMUM",
        "DOSE_CAPPED",
        "DOSE_MODIFIED",
        "ROUNDING_SKIPPED",
        "DOSE_RULE_APPLIED",
    )
)
PER_ORDER = frozenset(
    (
        "ORGAN_FUNCTION_CONTRAINDICATION",
        "ORGAN_FUNCTION_ADJUSTMENT",
        "ORGAN_FUNCTION_NOT_CHECKED",
        "ORGAN_FUNCTION_NO_RECOMMENDATION",
    )
)
PER_CYCLE = frozenset(
    ("LAB_GATE_FAILED", "LAB_GATE_NOT_CHECKED", "LAB_GATE_PENDING", "LAB_STALE", "LAB_UNDATED")
)
NO_ADMINISTRATION = frozenset(("ABBREVIATION_READ",))
# a lifetime total past a threshold or limit: every later dose of the drug is past it too (an
# export that marked only the dose that crossed it showed the later ones without the limit)
ONWARD = frozenset(("CUMULATIVE_THRESHOLD_REACHED", "CUMULATIVE_LIMIT_EXCEEDED"))


def alerts_by_administration(plan: Plan) -> tuple[list[list[Alert]], list[Alert]]:
    """Per administration of ``plan`` (in its order) the warnings that concern it, and the
    warnings that concern none (the plan as a whole), each in the plan's order."""
    given = {a.dose.drug for a in plan.administrations}
    per: list[list[Alert]] = [[] for _ in plan.administrations]
    whole: list[Alert] = []
    for w in plan.warnings:
        named = [] if w.code in NO_ADMINISTRATION else _named(w, plan.administrations, given)
        if not named:
            whole.append(w)
            continue
        doses = [plan.administrations[i].dose for i in named]
        orders = {
            (plan.administrations[i].phase, d.drug, d.protocol)
            for i, d in zip(named, doses, strict=True)
        }
        exact = set(named)
        for i, a in enumerate(plan.administrations):
            if (
                i in exact
                or (w.code in PER_DOSE and any(a.dose is d for d in doses))
                or (w.code in PER_ORDER and (a.phase, a.dose.drug, a.dose.protocol) in orders)
                or (w.code in ONWARD and a.dose.drug == w.drug and _on_or_after(a, w))
            ):
                per[i].append(w)
    return per, whole


def _on_or_after(a: Administration, w: Alert) -> bool:
    """Whether administration ``a`` comes at or after where warning ``w`` is (its date, else its
    phase, cycle and day)."""
    if w.date is not None and a.date is not None:
        return a.date >= w.date
    at = (w.phase or 0, w.cycle or 0, w.day or 0)
    return (a.phase, a.cycle, a.day) >= at


def _named(w: Alert, administrations: Sequence[Administration], given: set[str]) -> list[int]:
    cycle_wide = w.code in PER_CYCLE
    wants = {
        "drug": w.drug if w.drug in given else None,
        "cycle": w.cycle,
        "day": None if cycle_wide else w.day,
        "date": None if cycle_wide else w.date,
    }
    if all(v is None for v in wants.values()):
        return []
    wants["phase"] = w.phase
    return [
        i
        for i, a in enumerate(administrations)
        if all(
            v is None or v == (a.dose.drug if k == "drug" else getattr(a, k))
            for k, v in wants.items()
        )
    ]


def organ_as_list(assessments: Sequence[Any], applied: bool) -> list[dict[str, object]]:
    """Per drug with organ-function data: the option, the bands that matched, what is missing,
    and the organs the data holds no band for."""
    out: list[dict[str, object]] = []
    seen: set[tuple[str, float | None]] = set()
    for a in assessments:
        key = (a.drug, a.percent)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "drug": a.drug,
                "option": a.option,
                "percent": a.percent,
                "avoid": a.avoid,
                "no_recommendation": a.no_recommendation,
                "applied": applied and a.percent is not None,
                "findings": [f.as_dict() for f in a.findings],
                "not_checked": list(a.missing) + list(a.unreadable),
                "no_adjustment_data": [
                    {
                        "organ": g["organ"],
                        "source": g["cite"],
                        "verified": g["verified"],
                        "text": g.get("text"),
                        "note": g.get("note"),
                    }
                    for g in a.no_data
                ],
            }
        )
    return out


def parse_start(text: str | date | None, today: date | None = None) -> tuple[date, bool]:
    """The start date and whether it was assumed (today)."""
    if text is None:
        return (today or clock.today()), True
    from dosecalc.base.strict import plan_date

    try:
        return plan_date(text), False
    except ValueError as e:
        raise fail("--start", str(e)) from None


def review_dict(r: Regimen) -> dict[str, object]:
    """The regimen's review status and the SHA-256 of its file (plan JSON, additive)."""
    return {
        "status": r.status,
        "approved_by": r.approved_by,
        "approved_on": r.approved_on.isoformat() if r.approved_on else None,
        "review_due": r.review_due.isoformat() if r.review_due else None,
        "sha256": r.sha256,
    }


def past_plan_alerts(plan: Plan, today: date | None = None) -> list[Alert]:
    """PLAN_IN_THE_PAST when every administration of a plan is dated before today: most often a
    year typed wrong in the start date. Not when the history explains the past (its cycles were
    given, or PLANNED_IN_THE_PAST already says which were not recorded)."""
    today = today or clock.today()
    dates = [a.date for a in plan.administrations]
    explained = {"PLANNED_IN_THE_PAST", "GIVEN_FROM_HISTORY"}
    if not dates or max(dates) >= today or any(w.code in explained for w in plan.warnings):
        return []
    return [
        Alert(
            WARNING,
            "PLAN_IN_THE_PAST",
            f"the whole plan is in the past: cycle 1 day 1 is {plan.start.isoformat()} and the "
            f"last administration {max(dates).isoformat()}, {(today - max(dates)).days} days "
            f"before today ({today.isoformat()}); check the year of the start date",
        )
    ]


def review_alerts(regimen: Regimen, today: date | None = None) -> list[Alert]:
    """REGIMEN_NOT_APPROVED (info for a draft, critical for a retired regimen) and
    REGIMEN_REVIEW_OVERDUE (warning: an approved regimen past its review_due date)."""
    today = today or clock.today()
    r = regimen
    if r.status == "retired":
        approved = f" (approved by {r.approved_by} on {r.approved_on})" if r.approved_by else ""
        return [
            Alert(
                CRITICAL,
                "REGIMEN_NOT_APPROVED",
                f"{r.id} is retired{approved}: it is no longer approved for use; plan with the "
                "regimen that replaced it",
            )
        ]
    if r.status == "draft":
        return [
            Alert(
                INFO,
                "REGIMEN_NOT_APPROVED",
                f"{r.id} is a draft: no clinician has approved this version of the file; check "
                "every dose against its source before use",
            )
        ]
    if r.review_due is not None and r.review_due < today:
        return [
            Alert(
                WARNING,
                "REGIMEN_REVIEW_OVERDUE",
                f"{r.id} was approved by {r.approved_by} on {r.approved_on}, and its review was "
                f"due on {r.review_due}: have it reviewed again",
            )
        ]
    return []


def regimen_alerts(regimen: Regimen, today: date | None = None) -> list[Alert]:
    out = review_alerts(regimen, today)
    out += [
        Alert(WARNING, "REGIMEN_UNVERIFIED", f"{regimen.id}: unverified: {text}")
        for text in regimen.unverified
    ]
    out += [
        Alert(INFO, "REGIMEN_ASSUMPTION", f"{regimen.id}: assumed: {text}")
        for text in regimen.assumptions
    ]
    return out + regimen_gaps(regimen) + line_alerts(regimen)


def _gives(d: Dose) -> str:
    """What gave the calculated dose: the protocol, and a child's percent rule if one applied
    ('1.5 mg/m² × 80 % (rule 1)': the rule's percent is in the calculated dose)."""
    if d.rule is None or d.rule.rule.percent is None:
        return f"{d.protocol_text} gives"
    return f"{d.protocol_text} × {d.rule.rule.percent:g} % ({d.rule.label}) gives"


def _capped(administrations: list[Administration]) -> list[Alert]:
    """DOSE_CAPPED once per drug order, at its first capped administration."""
    out: list[Alert] = []
    seen: set[tuple[str, str]] = set()
    for a in administrations:
        d = a.dose
        key = (d.drug, d.protocol.text)
        if d.capped and key not in seen:
            seen.add(key)
            out.append(
                Alert(
                    WARNING,
                    "DOSE_CAPPED",
                    f"{d.drug}: {_gives(d)} {fmt(d.calculated)} {d.unit}, capped at "
                    f"{fmt(d.cap or d.dose)} {d.unit} (max_dose of the regimen)"
                    + (" before its percentages" if d.capped_first else ""),
                    drug=d.drug,
                    phase=a.phase,
                    cycle=a.cycle,
                    day=a.day,
                    date=a.date,
                )
            )
    return out


def plan_events(
    administrations: Sequence[Administration], bsa_m2: float, book: cumulative.CeilingBook
) -> list[Event]:
    """Planned administrations as contributions to lifetime totals (mg → mg/m² with the BSA)."""
    units: dict[str, str] = {}
    out = []
    for a in administrations:
        d = a.dose
        if d.serves is not None:  # supportive care: no lifetime total
            continue
        unit = units.get(d.drug) or units.setdefault(d.drug, cumulative.tracking_unit(d.drug, book))
        exact = d.exact_per_m2
        amount = (
            (exact if exact is not None else d.dose / bsa_m2) if unit.endswith("/m2") else d.dose
        )
        out.append(Event(d.drug, amount, True, a.date, a.phase, a.cycle, a.day))
    return out


def given_twice(
    administrations: Sequence[Administration],
    history: Sequence[Row],
    bsa_m2: float,
    course: bool = False,
) -> list[Problem]:
    """Planned administrations that a history row (or a ledger record) already holds: the same
    drug on the same day in amounts that are one dose (the rule that refuses a history row
    repeating another, cumulative.same_administration, the row's BSA else the plan's that day).
    Counted again, the dose would reach its lifetime total twice: a problem per row (the first
    MAX_REPEATS_LISTED, then how many more)."""
    book = ceilings_book()
    rows: dict[tuple[date, str], list[Row]] = {}
    for r in history:
        if r.date is not None:
            rows.setdefault((r.date, r.drug), []).append(r)
    remedy = (
        "start that phase after them in the course file, or leave the row out"
        if course
        else "date the cycles already given from the history with --actual-dates (rows that "
        "name the regimen, cycle and day), start the plan after them, or leave the row out"
    )
    problems: list[Problem] = []
    found = 0
    for a in administrations if rows else ():
        d = a.dose
        if d.serves is not None:
            continue
        per_m2 = cumulative.tracking_unit(d.drug, book).endswith("/m2")
        for r in rows.get((a.date, d.drug), ()):
            given = (r.amount, r.per_m2, r.bsa_m2)
            if r.unit != d.unit or not cumulative.same_administration(
                given, (d.dose, False, bsa_m2), per_m2
            ):
                continue
            found += 1
            if len(problems) < cumulative.MAX_REPEATS_LISTED:
                at = f"phase {a.phase} " if a.phase and a.phase > 1 else ""
                problems.append(
                    cumulative.row_problem(
                        r,
                        f"{d.drug} {fmt(r.amount)} {r.unit}{'/m²' if r.per_m2 else ''} on "
                        f"{a.date} is in the history, and this plan gives it that day "
                        f"({at}cycle {a.cycle} day {a.day}): the same administration would "
                        f"count twice toward its lifetime total; {remedy}",
                    )
                )
            break
    return capped(problems, found, "administrations planned twice")


def pattern_cycles(regimen: Regimen, age_years: float | None = None) -> int:
    """How many cycles show every distinct cycle of the regimen (after that the last repeats):
    past every order's ``cycles`` and, for a patient of ``age_years`` on cycle 1 day 1, past the cycle
    whose day 1 reaches the age a rule by age starts or stops at (the age grows a cycle's
    length every cycle: an infant's rule ends, and the doses that follow are larger)."""
    marks = [1]
    for o in regimen.drugs:
        if o.cycles is not None:
            first, last = o.cycles
            marks += [first, last + 1 if last is not None else first]
        for r in o.rules if age_years is not None else ():
            for bound in (r.when.age_below, r.when.age_at_least):
                if bound is not None and bound.value > age_years:
                    # day 1 of cycle k is (k - 1) cycle lengths on: one more for the rounding
                    gap = (bound.value - age_years) * 365.25 / regimen.cycle_length_days
                    marks.append(min(math.ceil(gap) + 2, cumulative.MAX_PROJECTED_CYCLES))
    return max(marks)


def cycles_beyond(
    regimen: Regimen,
    patient: Patient,
    policy: Policy,
    first: date,
    n: int,
    age_years: float | None,
    delays: dict[int, int],
    delay_mode: str,
    fixed: dict[int, date] | None = None,
    **schedule: Any,
) -> list[Administration]:
    """The regimen's cycles after a plan's ``n`` (an order of later cycles, a child's rule that
    ends; ``pattern_cycles``), dated and dosed as the plan's are (``schedule``: the keywords of
    ``schedule_regimen``), for the projection only: repeating the plan's last cycle would fit
    cycles that do not."""
    more = pattern_cycles(regimen, age_years)
    if more <= n:
        return []
    wider = cycle_starts(first, more, regimen.cycle_length_days, delays, delay_mode, fixed)
    later, _ = schedule_regimen(regimen, patient, policy, first, more, starts=wider, **schedule)
    return [a for a in later if a.cycle > n]


def by_cycle(events: Sequence[Event]) -> list[list[Event]]:
    cycles: dict[tuple[int | None, int | None], list[Event]] = {}
    for e in events:
        cycles.setdefault((e.phase, e.cycle), []).append(e)
    return list(cycles.values())


def _projections(
    result: cumulative.Result,
    events: list[Event],
    phases: list[Phase],
    later: Sequence[Event] = (),
) -> list[Projection]:
    """Per drug with a ceiling: where this plan crosses it, and how many full cycles of the
    phase it falls in (else the drug's last phase) fit under it from that phase's start (past
    the plan's cycles: ``later``, the regimen's next ones, then the last of them again)."""
    prior = {t.drug: t.prior for t in result.totals}
    after = {t.drug: t.total for t in result.totals}
    eq = result.equivalence if cumulative.EQUIVALENT in result.ceilings else None
    firsts: dict[tuple[str, str], Alert] = {}
    for a in result.alerts:
        if a.drug and a.code in ("CUMULATIVE_THRESHOLD_REACHED", "CUMULATIVE_LIMIT_EXCEEDED"):
            firsts.setdefault((a.drug, a.code), a)
    stream = sorted(events, key=lambda e: e.date or date.min)
    if eq is not None:
        stream = list(cumulative.with_equivalents(stream, eq))
    by_phase = {ph.number: ph for ph in phases}
    out = []
    for drug, c in sorted(
        result.ceilings.items(), key=lambda kv: (kv[0] == cumulative.EQUIVALENT, kv[0])
    ):
        if c.threshold is None and c.limit is None:
            continue
        mine = [e for e in stream if e.drug == drug]
        if not mine:
            continue
        thr = firsts.get((drug, "CUMULATIVE_THRESHOLD_REACHED"))
        lim = firsts.get((drug, "CUMULATIVE_LIMIT_EXCEEDED"))
        crossing = next((a for a in (thr, lim) if a is not None and a.phase), None)
        number = crossing.phase if crossing else mine[-1].phase
        phase_events = [e for e in events if e.phase == number]
        first = min(e.date or date.min for e in phase_events)
        start = dict(prior)
        for e in stream:
            if (e.date or date.min) < first:
                start[e.drug] = start.get(e.drug, 0.0) + e.amount
        cycles = by_cycle(phase_events + [e for e in later if e.phase == number])
        fits = cumulative.cycles_fit(start, cumulative.repeat_last(cycles), result.ceilings, eq)
        if drug not in fits:
            continue
        f = fits[drug]
        ph = by_phase[number]  # type: ignore[index]
        out.append(
            Projection(
                f,
                thr if thr and thr.phase else None,
                lim if lim and lim.phase else None,
                prior.get(drug, 0.0),
                after.get(drug, 0.0),
                _projection_text(f, thr, lim, ph, len(phases) > 1),
            )
        )
    return out


def _projection_text(
    f: Fit, thr: Alert | None, lim: Alert | None, phase: Phase, course: bool
) -> tuple[str, ...]:
    unit = f.unit.replace("m2", "m²")
    assert phase.regimen is not None
    of = f" of {phase.regimen.id}" if course else ""
    where = f"phase {phase.number} has" if course else "this plan has"
    parts = []
    for value, word, alert, fit, rel in (
        (f.threshold, "threshold", thr, f.within_threshold, "below"),
        (f.limit, "limit", lim, f.within_limit, "within"),
    ):
        if value is None:
            continue
        verb = "reaches" if word == "threshold" else "exceeds"
        if alert is not None and alert.phase is None:
            head = f"{f.drug} was already past its {fmt(value)} {unit} {word} before this plan"
        elif alert is not None:
            at_phase = f"phase {alert.phase} " if course else ""
            head = (
                f"{f.drug} {verb} its {fmt(value)} {unit} {word} at {at_phase}cycle "
                f"{alert.cycle} day {alert.day} ({alert.date})"
            )
        else:
            head = f"{f.drug} stays {rel} its {fmt(value)} {unit} {word} in this plan"
        count = f"at least {cumulative.MAX_PROJECTED_CYCLES}" if fit is None else str(fit)
        noun, verb = ("full cycle", "fits") if fit == 1 else ("full cycles", "fit")
        parts.append(f"{head}; {count} {noun}{of} {verb} {rel} it ({where} {phase.cycles})")
    return tuple(parts)


def make_plan(
    regimen: Regimen,
    patient: Patient,
    start: date | str | None = None,
    cycles: int | None = None,
    today: date | None = None,
    history: Sequence[Row] = (),
    factors: RiskFactors | None = None,
    equivalence: str | None = None,
    options: dict[str, str] | None = None,
    policy: Policy | None = None,
    modifications: Sequence[Modification] = (),
    delays: dict[int, int] | None = None,
    delay_mode: str = "shift",
    actual_dates: bool = False,
    names: Sequence[NameRead] = (),
    notices: Sequence[Alert] = (),
    labs: Any = None,
    adjust_organ: bool = False,
    first_cycle: int = 1,
    consulted: cumulative.Consulted | None = None,
    genotypes: dict[str, Any] | None = None,
) -> Plan:
    """Plan ``regimen`` for ``patient``; ``history`` rows are the prior lifetime exposure
    (``notices``: what reading them found, e.g. repeats counted again).

    ``names``: drug names read through abbreviations elsewhere (history files, --prior,
    --reduce), reported with the regimen's own (ABBREVIATION_READ) or refused by policy.
    ``labs`` (labs.Labs) are the patient's laboratory values: organ-function bands are checked
    for every drug (and applied to the doses only with ``adjust_organ``), and the regimen's lab
    gates against each cycle's day 1. ``genotypes`` (gene → pgx.Genotype) are the patient's:
    every drug with pharmacogenomic data is checked against them and its dose adjusted (a drug
    whose gene is not given is flagged PGX_NOT_TESTED).

    ``first_cycle`` numbers the cycles from a later one: ``start`` is then that cycle's day 1
    and the cycles before it are not part of the plan (an order for cycle 3 is checked against a
    plan of cycle 3 alone, the earlier cycles being in the history).

    ``consulted``: where the prior exposure was looked up (history files, the ledger, --prior);
    a lifetime total nothing covers is unknown, said so (LIFETIME_EXPOSURE_UNKNOWN), never 0.

    With ``actual_dates``, history rows of this regimen that name their cycle (and day) date
    those cycles; their administrations count once, from the history, and the later cycles
    follow them (``delay_mode`` shift) or keep the original grid (keep).
    """
    from dosecalc.clinical.policy import defaults

    policy = policy or defaults()
    read = name_alerts(policy, regimen.names_read, names)
    require_bsa(patient)
    if first_cycle != 1 and (actual_dates or delays):
        raise fail(None, "a plan from a later cycle takes no delays or actual dates")
    given = _given(regimen, history) if actual_dates else {}
    if given and start is None:
        start = min(given.values(), key=lambda g: g[0])[0]
        from dosecalc.base.strict import EARLIEST_DATE

        if start < EARLIEST_DATE:
            raise fail(
                "--actual-dates",
                f"the history's cycles of {regimen.id} start on {start.isoformat()}, before "
                f"{EARLIEST_DATE.isoformat()}; check the dates, cycle and day of its rows",
            )
    first, assumed = parse_start(start, today)
    n = check_cycles(regimen.cycles if cycles is None else cycles, regimen.cycle_length_days)
    fixed = {c: g[0] for c, g in given.items() if c <= n}
    check_changes(regimen, n, modifications, delays or {}, fixed)
    starts = cycle_starts(first, n, regimen.cycle_length_days, delays or {}, delay_mode, fixed)
    problem = run_problem(min(starts), starts[-1] + timedelta(days=regimen.cycle_length_days))
    if problem:
        field = "--delay" if delays else "--actual-dates"
        raise fail(field, f"with {field}, the plan of {regimen.id} {problem}")
    from dosecalc.clinical import organ as og
    from dosecalc.data.labs import Labs

    labs = labs if labs is not None else Labs()
    values = og.values_for(patient, labs, policy)
    assessed: list[Any] = []
    genotypes = dict(genotypes or {})
    read_pgx: list[Any] = []
    administrations, warnings = schedule_regimen(
        regimen,
        patient,
        policy,
        first,
        n,
        modifications,
        1,
        starts,
        organ_values=values,
        adjust_organ=adjust_organ,
        assessed=assessed,
        first_cycle=first_cycle,
        genotypes=genotypes,
        assessed_pgx=read_pgx,
    )
    beyond: list[Administration] = []
    if first_cycle == 1:  # the regimen's cycles after this plan's, for the projection only
        beyond = cycles_beyond(
            regimen, patient, policy, first, n, patient.age_years, delays or {}, delay_mode,
            fixed, modifications=modifications, organ_values=values,
            adjust_organ=adjust_organ, genotypes=genotypes,
        )  # fmt: skip
    warnings += lab_alerts(regimen, labs, starts, policy, values, 1, first_cycle=first_cycle)
    if first_cycle == 1:  # a plan from cycle 1 (verify checks one cycle: not its business)
        warnings += lines_not_planned(regimen, n)
    if given:
        done = [
            a
            for a in administrations
            if a.cycle in given and (a.dose.drug, a.day) in given[a.cycle][1]
        ]
        administrations = [a for a in administrations if a not in done]
        warnings.append(
            Alert(
                INFO,
                "GIVEN_FROM_HISTORY",
                f"{len(done)} administrations of {regimen.id} cycle(s) "
                f"{', '.join(map(str, sorted(given)))} are in the history: they are "
                "dated and counted from it, not again in this plan",
            )
        )
        past = [a for a in administrations if a.date < (today or clock.today())]
        if past:
            a = past[0]
            warnings.append(
                Alert(
                    WARNING,
                    "PLANNED_IN_THE_PAST",
                    f"{len(past)} planned administrations not in the history are dated before "
                    f"today (first: {a.dose.drug} cycle {a.cycle} day {a.day}, {a.date}): record "
                    "them in the history if they were given",
                    drug=a.dose.drug,
                    phase=1,
                    cycle=a.cycle,
                    day=a.day,
                    date=a.date,
                )
            )
    phase = Phase(
        1,
        "regimen",
        regimen.name,
        starts[0],
        starts[-1] + timedelta(days=regimen.cycle_length_days),
        regimen,
        n,
        tuple(starts),
        planned=first,
    )
    warnings = (
        regimen_alerts(regimen, today) + read + warnings + short_intervals(phase, first_cycle)
    )
    if assumed:
        warnings.append(
            Alert(
                INFO,
                "START_DATE_ASSUMED",
                f"no --start given: cycle 1 day 1 is today, {first.isoformat()}",
            )
        )
    warnings += notices
    return assemble(
        patient,
        [phase],
        administrations,
        warnings,
        history,
        factors,
        equivalence,
        options,
        policy,
        labs=labs,
        kidney=values.kidney,
        organ=assessed,
        adjust_organ=adjust_organ,
        consulted=consulted,
        genotypes=genotypes,
        pgx=read_pgx,
        beyond=beyond,
    )


def name_alerts(policy: Policy, *groups: Sequence[NameRead]) -> list[Alert]:
    """ABBREVIATION_READ once per abbreviation read anywhere; a refusal under the policy
    ``names.abbreviations = refuse``."""
    return drugs.abbreviation_alerts(drugs.merge_reads(*groups), policy["names.abbreviations"])  # type: ignore[return-value]


def gate_specs(regimen: Regimen, policy: Policy) -> list[Any]:
    """The regimen's gates as plain values, each gate with options under the option the policy
    picks (``gates.options``: "regimen.lab" = option), else its default. A policy entry for
    this regimen that names no gate with options, or an option the gate lacks, is refused."""
    chosen = {
        key.split(".", 1)[1]: option
        for key, option in policy["gates.options"].items()
        if key.split(".", 1)[0] == regimen.id
    }
    gates = regimen.gates or []
    optional = {g.lab for g in gates if g.options}
    for lab in chosen:
        if lab not in optional:
            raise fail(
                "gates.options",
                f"{regimen.id}.{lab}: {regimen.id} has no {lab} gate with options"
                + (f"; gates with options: {', '.join(sorted(optional))}" if optional else ""),
            )
    out = []
    for g in gates:
        try:
            out.append(g.spec_for(chosen.get(g.lab)) if g.options else g.spec)
        except ValueError as e:
            raise fail("gates.options", f"{regimen.id}.{g.lab}: {e}") from None
    return out or default_gates(regimen, policy)


# drug classes (data/drugs.yaml) whose regimens are not held to the default count gates
NOT_MYELOSUPPRESSIVE = (
    "monoclonal antibody",
    "tyrosine kinase inhibitor",
    "other targeted agent",
    "hormonal agent",
    "corticosteroid",
    "supportive care",
)
DEFAULT_GATES = (
    ("anc", "gates.default_anc_at_least", "the epirubicin, paclitaxel and pemetrexed labels"),
    ("platelets", "gates.default_platelets_at_least", "the epirubicin and paclitaxel labels"),
)


def default_gates(regimen: Regimen, policy: Policy) -> list[Any]:
    """The policy's default ANC and platelet gates (gates.default) for a regimen whose sources
    state no gate and that gives a myelosuppressive drug, less those it leaves out with a cited
    reason (``not_gated``). Never added to a regimen's own gates."""
    from dosecalc.data.regimen import Gate

    if regimen.gates or not policy["gates.default"] or not myelosuppressive(regimen):
        return []
    left_out = {n.lab for n in regimen.not_gated}
    return [
        Gate(
            lab=lab,
            at_least=f"{fmt(policy[key])} x10^9/L",
            otherwise="delay",
            source=f"dosecalc's default gate (policy {key}, after {after}), not stated in "
            f"{regimen.id}'s sources",
        ).spec
        for lab, key, after in DEFAULT_GATES
        if lab not in left_out
    ]


def myelosuppressive(regimen: Regimen) -> bool:
    """Whether the regimen gives a drug of a class held to count gates (not only antibodies,
    kinase inhibitors, hormonal, corticosteroid or supportive agents)."""
    return any(drugs.lookup(o.drug).drug_class not in NOT_MYELOSUPPRESSIVE for o in regimen.drugs)


def not_gated_alerts(
    regimen: Regimen, labs: Any, gated: set[str], policy: Policy, where: dict[str, Any]
) -> list[Alert]:
    """LAB_NOT_GATED: a blood count given below the default gate that no gate judges, and why
    (the regimen leaves the default out with its reason, gives no myelosuppressive drug, or
    the policy has no default gates)."""
    from dosecalc.clinical.labs import BLOOD_COUNTS
    from dosecalc.data.labs import COUNT

    reasons = {n.lab: f"{n.reason} ({n.source})" for n in regimen.not_gated}
    out = []
    for lab in BLOOD_COUNTS:
        v = labs.latest(lab)
        if v is None or lab in gated:
            continue
        if lab in reasons:
            why = f"{regimen.id} leaves out the default {lab} gate: {reasons[lab]}"
        elif not policy["gates.default"]:
            why = "the policy applies no default gates (gates.default = false)"
        else:
            why = f"{regimen.id} gives no myelosuppressive drug, so no default count gate applies"
        key = dict((lab, key) for lab, key, _ in DEFAULT_GATES)[lab]
        if v.unit != COUNT or v.value >= policy[key]:
            continue
        out.append(
            Alert(
                WARNING,
                "LAB_NOT_GATED",
                f"{v.shown()} is below the default gate ({fmt(policy[key])} ×10⁹/L, {key}), "
                f"and no gate of {regimen.id} judges it: {why}; the prescriber decides",
                **where,
            )
        )
    return out


def lab_alerts(
    regimen: Regimen,
    labs: Any,
    starts: Sequence[date],
    policy: Policy,
    values: Any,
    phase: int,
    first: bool = True,
    first_cycle: int = 1,
) -> list[Alert]:
    """The regimen's lab gates, cycle by cycle, and (for the first regimen of a plan) the
    staleness of the values organ-function checks read, against its first cycle's day 1."""
    from dosecalc.clinical import labs as lb

    age = policy["labs.max_age_days"]
    gates = gate_specs(regimen, policy)
    out = lb.check_gates(
        gates, labs, starts, age, regimen.id, phase, values.uln, not first, first_cycle
    )
    gated = {g.lab for g in gates}
    if starts:
        where = dict(phase=phase, cycle=first_cycle, day=1, date=starts[0])
        out += not_gated_alerts(regimen, labs, gated, policy, where)
    if not first:
        return out
    used = [
        v
        for name in ("bilirubin", "direct_bilirubin", "ast", "alt", "alp", "scr", "crcl")
        if name not in gated and (v := labs.latest(name)) is not None
    ]
    if starts:
        out += lb.stale(used, starts[0], age, f"{regimen.id} cycle {first_cycle} day 1")
    return out


def _given(
    regimen: Regimen, history: Sequence[Row]
) -> dict[int, tuple[date, set[tuple[str, int]]]]:
    """History rows of this regimen by cycle: (the cycle's actual first day, (drug, day) given)."""
    out: dict[int, tuple[date, set[tuple[str, int]]]] = {}
    for r in history:
        if r.regimen is None or r.cycle is None or r.date is None:
            continue
        if r.regimen.strip().lower() != regimen.id:
            continue
        day = r.day or 1
        first = r.date - timedelta(days=day - 1)
        start, keys = out.get(r.cycle, (first, set()))
        keys.add((r.drug, day))
        out[r.cycle] = (min(start, first), keys)
    return out


def require_bsa(patient: Patient) -> None:
    if patient.bsa_m2 is None:
        raise fail(
            "--height/--weight",
            "a plan needs the patient's BSA; give --height and --weight, or --bsa",
        )


def check_changes(
    regimen: Regimen,
    n: int,
    modifications: Sequence[Modification],
    delays: dict[int, int],
    fixed: dict[int, date],
) -> None:
    """Refuse a delay or a dose modification that would change nothing: of a cycle the plan does
    not have, of a cycle dated by the history, or of a drug not given from that cycle on."""
    for cycle in sorted(delays):
        if cycle > n:
            raise fail(
                "--delay",
                f"cycle {cycle} is delayed, but the plan has {n} cycle{'s' if n != 1 else ''}; "
                f"give a cycle from 1 to {n} (or more --cycles)",
            )
        if cycle in fixed:
            raise fail(
                "--delay",
                f"cycle {cycle} is dated by the history (--actual-dates), so a delay of it "
                "would change nothing; leave it out",
            )
    for m in modifications:
        option = "--reduce" if m.percent < 0 else "--escalate"
        what = m.drug or "all drugs"
        if m.from_cycle > n:
            raise fail(
                option,
                f"{what} from cycle {m.from_cycle}, but the plan has {n} "
                f"cycle{'s' if n != 1 else ''}; give a cycle from 1 to {n} (or more --cycles)",
            )
        if not any(
            o.given_in(c)
            for o in regimen.drugs
            if m.drug is None or o.drug == m.drug
            for c in range(m.from_cycle, n + 1)
        ):
            raise fail(
                option,
                f"{what} is not given from cycle {m.from_cycle} on in this plan, so the "
                "modification would change nothing",
            )


def lines_not_planned(regimen: Regimen, n: int, phase: int = 1) -> list[Alert]:
    """LINE_NOT_PLANNED for each drug line of ``regimen`` given in none of the ``n`` cycles
    planned (``cycles: 5-`` in a plan of 4): a notice, or a warning when the plan gives no drug
    at all. A line the plan leaves out is said, never dropped without a word."""
    idle = [
        o for o in regimen.drugs
        if not o.supportive and not any(regimen.given_in(o, c) for c in range(1, n + 1))
    ]  # fmt: skip
    if not idle:
        return []
    every = len(idle) == sum(not o.supportive for o in regimen.drugs)
    out = []
    for o in idle:
        first, last = o.cycles or (1, None)
        given = f"cycles {first}-{last}" if last is not None else f"cycles {first} on"
        out.append(
            Alert(
                WARNING if every else INFO,
                "LINE_NOT_PLANNED",
                f"{regimen.id}: {o.drug} ({given}) is given in none of the {n} cycle"
                f"{'s' if n != 1 else ''} planned"
                + (": the plan gives no drug at all" if every else "")
                + f"; plan {first} cycles or more (--cycles) to see it",
                drug=o.drug,
                phase=phase,
            )
        )
    return out


def check_cycles(n: object, length: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CYCLES:
        raise fail("--cycles", f"{n!r} is not a number of cycles; give 1 to {MAX_CYCLES}")
    problem = span_problem(n, length)
    if problem:
        raise fail("--cycles", problem)
    return n


def short_intervals(phase: Phase, first_cycle: int = 1) -> list[Alert]:
    """SHORT_INTERVAL where a cycle starts sooner than the cycle length after the one before
    (cycles numbered from ``first_cycle``)."""
    assert phase.regimen is not None
    length = phase.regimen.cycle_length_days
    out = []
    for c in range(2, len(phase.cycle_starts) + 1):
        gap = (phase.cycle_starts[c - 1] - phase.cycle_starts[c - 2]).days
        if gap < length:
            out.append(
                Alert(
                    WARNING,
                    "SHORT_INTERVAL",
                    f"{phase.regimen.id} cycle {c + first_cycle - 1} starts {gap} days after "
                    f"cycle {c + first_cycle - 2}, sooner than its {length}-day cycle length",
                    phase=phase.number,
                    cycle=c + first_cycle - 1,
                    day=1,
                    date=phase.cycle_starts[c - 1],
                )
            )
    return out


def assemble(
    patient: Patient,
    phases: list[Phase],
    administrations: list[Administration],
    warnings: list[Alert],
    history: Sequence[Row],
    factors: RiskFactors | None,
    equivalence: str | None,
    options: dict[str, str] | None,
    policy: Policy,
    course: Any = None,
    labs: Any = None,
    kidney: Any = None,
    organ: list[Any] | None = None,
    adjust_organ: bool = False,
    consulted: cumulative.Consulted | None = None,
    genotypes: dict[str, Any] | None = None,
    pgx: list[Any] | None = None,
    beyond: Sequence[Administration] = (),
) -> Plan:
    """Lifetime totals, warnings and projection over the dated administrations of all phases
    (``beyond``: a phase's cycles after the plan's, which only the projection counts).
    ``consulted`` says where the prior exposure was looked up: a total that nothing covers has
    an unknown prior (never zero) and, with a lifetime ceiling, LIFETIME_EXPOSURE_UNKNOWN."""
    from dosecalc.data import ceilings

    require_bsa(patient)
    administrations = sorted(administrations, key=lambda a: a.date)
    cardiac = [ph.total_gy for ph in phases if ph.cardiac and ph.total_gy]
    factors = factors or RiskFactors(age_years=patient.age_years)
    if factors.age_on is None:  # the age given is the age when the plan starts
        factors = replace(factors, age_on=phases[0].start)
    if cardiac:
        gy = (factors.cardiac_radiation_gy or 0.0) + sum(x for x in cardiac if x)
        factors = replace(factors, cardiac_radiation_gy=gy)
    if patient.weight_kg is not None and patient.bsa_m2 and factors.kg_per_m2 is None:
        # a per-kg ceiling (daunorubicin under 2 years: 10 mg/kg) in mg/m² for this patient
        factors = replace(factors, kg_per_m2=patient.weight_kg / patient.bsa_m2)
    warnings = _patient_alerts(patient, policy) + _once(warnings)
    book = ceilings.book()
    bsa = cumulative.BsaUse(patient.bsa_m2, _bsa_words(patient))
    events = cumulative.from_rows(history, book, bsa)
    planned = plan_events(administrations, patient.bsa_m2, book)
    result = cumulative.evaluate(
        events + planned,
        book,
        factors,
        equivalence or policy["cumulative.equivalence"],
        options or policy["cumulative.options"],
    )
    warnings += cumulative.bsa_assumed(bsa) + result.alerts
    warnings += day_total_alerts(administrations, patient, policy)
    totals = result.totals
    if consulted is not None:
        totals = [
            replace(t, prior_source=consulted.sources(t.drug, t.extra.get("agents", ())))  # type: ignore[arg-type]
            for t in totals
        ]
        warnings += [lifetime_unknown(t) for t in totals if not t.prior_known and _ceiling(t)]
    projection = _projections(result, planned, phases, plan_events(beyond, patient.bsa_m2, book))
    from dosecalc.clinical import emetogenic as em
    from dosecalc.data.emetogenic import book as emetic_book

    lost: set[str] = set()
    risks = em.assess(
        administrations,
        patient,
        emetic_book(),
        policy["emetogenic.option"],
        policy["emetogenic.agents"],
        lost,
    )
    warnings += em.unclassified_alerts(lost)
    single = phases[0].regimen if course is None else None
    return Plan(
        patient,
        single,
        phases[0].start,
        phases[0].cycles,
        administrations,
        totals,
        warnings,
        projection,
        result.equivalence.table,
        factors,
        policy,
        phases,
        course,
        _totals_after(result, planned, phases),
        result,
        labs,
        kidney,
        list(organ or []),
        adjust_organ,
        dict(genotypes or {}),
        list(pgx or []),
        risks,
    )


def _ceiling(t: Total) -> bool:
    return t.threshold is not None or t.limit is not None


def lifetime_unknown(t: Total) -> Alert:
    """A total with a lifetime ceiling whose prior exposure nobody looked up."""
    unit = t.unit.replace("m2", "m²")
    # the equivalent's prior can be part known (--prior doxorubicin=300mg/m2, no epirubicin)
    counted = f"these doses and the {fmt(t.prior)} {unit} stated" if t.prior else "these doses only"
    return exposure_unknown(
        t.drug, t.unit, t.limit, t.threshold, bool(t.prior),
        f"its total ({fmt(t.total)} {unit}) counts {counted}",
    )  # fmt: skip


def exposure_unknown(
    drug: str,
    unit: str,
    limit: float | None,
    threshold: float | None,
    partly: bool,
    counts: str,
) -> Alert:
    """LIFETIME_EXPOSURE_UNKNOWN, in one set of words for a plan's total and for the cycles of
    ``check --next`` that fit: ``partly``, some prior exposure was stated (the equivalent's);
    ``counts``, what the figure then counts."""
    from dosecalc.data.ceilings import EQUIVALENT

    shown = unit.replace("m2", "m²")
    level = (
        f"limit of {fmt(limit)} {shown}"
        if limit is not None
        else f"threshold of {fmt(threshold)} {shown}"
    )
    give = (
        f"--prior {drug}=AMOUNT; --prior {drug}=0{unit} says there was none"
        if drug != EQUIVALENT
        else "--prior DRUG=AMOUNT for each anthracycline given before"
    )
    looked = "not every prior exposure was" if partly else "no prior exposure was"
    return Alert(
        WARNING,
        "LIFETIME_EXPOSURE_UNKNOWN",
        f"{drug} has a lifetime {level}, and {looked} looked up: {counts}. Give the patient's "
        f"history (--history FILE), their ledger (--patient ID) or the amount given elsewhere "
        f"({give})",
        drug=drug,
    )


# said once per drug however many orders or phases give it (mFOLFOX6 gives fluorouracil twice)
_ONCE_CODES = (
    "ORGAN_FUNCTION_NOT_CHECKED",
    "LAB_STALE",
    "PGX_NOT_TESTED",
    "PGX_CONTRAINDICATION",
    "PGX_NO_RECOMMENDATION",
)


def _once(alerts: list[Alert]) -> list[Alert]:
    """Lines that would repeat across phases or orders (a lab not given for a drug, one stale
    value) are said once."""
    seen: set[tuple[str, str | None, str]] = set()
    out = []
    for a in alerts:
        if a.code in _ONCE_CODES:
            key = (a.code, a.drug, a.message)
            if key in seen:
                continue
            seen.add(key)
        out.append(a)
    return out


def _totals_after(
    result: cumulative.Result, planned: list[Event], phases: list[Phase]
) -> dict[int, dict[str, float]]:
    """Lifetime totals (prior included) at the end of each regimen phase, carried through."""
    eq = result.equivalence if any(t.drug == cumulative.EQUIVALENT for t in result.totals) else None
    stream = sorted(planned, key=lambda e: e.date or date.min)
    if eq is not None:
        stream = list(cumulative.with_equivalents(stream, eq))
    out: dict[int, dict[str, float]] = {}
    for ph in phases:
        mine = [e for e in stream if e.phase == ph.number]
        if not mine:
            continue
        last = max(e.date or date.min for e in mine)
        totals = {t.drug: t.prior for t in result.totals}
        for e in stream:
            if (e.date or date.min) <= last:
                totals[e.drug] = totals.get(e.drug, 0.0) + e.amount
        out[ph.number] = totals
    return out


def schedule_regimen(
    regimen: Regimen,
    patient: Patient,
    policy: Policy,
    first: date,
    cycles: int,
    modifications: Sequence[Modification] = (),
    phase: int = 1,
    starts: Sequence[date] | None = None,
    organ_values: Any = None,
    adjust_organ: bool = False,
    assessed: list[Any] | None = None,
    first_cycle: int = 1,
    genotypes: dict[str, Any] | None = None,
    assessed_pgx: list[Any] | None = None,
    age_on: date | None = None,
) -> tuple[list[Administration], list[Alert]]:
    """The dated administrations of one regimen, and the warnings about its doses.

    The patient's age is their age on ``age_on`` (default: ``first``, the regimen's start): a
    rule by age is held to the age on each cycle's day 1 (an infant of 0.9 years is 1 a month
    later, and the infant's rule no longer applies).

    With ``organ_values`` (organ.values_for) every order is checked against the organ-function
    data once; its band is applied to the dose only with ``adjust_organ``. The assessments are
    appended to ``assessed``. With ``genotypes`` (gene → pgx.Genotype; empty: none given) every
    order is checked against the pharmacogenomic data once and its adjustment applied; those
    assessments are appended to ``assessed_pgx``."""
    from dosecalc.clinical import organ as og
    from dosecalc.clinical import pgx as px
    from dosecalc.clinical import renal as rn
    from dosecalc.clinical.rules import effective

    measured = organ_values.kidney.measured_ml_min if organ_values is not None else None
    # the GFR, once the first dose by AUC needs it: an infant's per-kg carboplatin needs none,
    # and the same order by AUC from the cycle the infant's rule ends does
    renal: Any = None
    cache: dict[tuple[Any, ...], Dose] = {}
    # each order's assessments by the dose spec it is calculated from (a rule by age may end
    # during the plan: the order's own per-m² dose then has its organ-function band again)
    assessments: dict[tuple[int, Any], Any] = {}

    def assessment(i: int, who: Patient) -> Any:
        if organ_values is None:
            return None
        order = regimen.drugs[i]
        spec = effective(order, who)
        if (i, spec) not in assessments:
            assessments[(i, spec)] = og.assess(
                order.drug,
                organ_values,
                policy["organ.options"],
                spec,
                allow_unverified=policy["data.allow_unverified"],
            )
        return assessments[(i, spec)]

    pgx_found: dict[tuple[int, Any], Any] = {}

    def pgx_of(i: int, who: Patient) -> Any:
        if genotypes is None:
            return None
        order = regimen.drugs[i]
        spec = effective(order, who)
        if (i, spec) not in pgx_found:
            pgx_found[(i, spec)] = px.assess(order.drug, genotypes, policy["pgx.options"], spec)
        return pgx_found[(i, spec)]

    by_age = [any(r.when.age_below or r.when.age_at_least for r in o.rules) for o in regimen.drugs]

    def day1(cycle: int) -> date:
        k = cycle - first_cycle
        return starts[k] if starts else cycle_start(first, k + 1, regimen.cycle_length_days)

    def aged(cycle: int) -> Patient:
        """The patient as old as on the cycle's day 1."""
        assert patient.age_years is not None
        if patient.born is not None:  # exact: 1.0 on the first birthday, not 0.99995
            return replace(patient, age_years=round(clock.years_old(patient.born, day1(cycle)), 6))
        years = patient.age_years + (day1(cycle) - (age_on or first)).days / 365.25
        return replace(patient, age_years=round(years, 6))

    def dose_for(i: int, cycle: int) -> Dose:
        nonlocal renal
        order = regimen.drugs[i]
        mod = modification_for(list(modifications), order.drug, cycle)
        who = aged(cycle) if by_age[i] and patient.age_years is not None else patient
        key = (i, mod, who.age_years)
        served = regimen.served(order)
        if order.protocol.relative and served is not None:
            base = dose_for(served, cycle)  # carries an 'all' modification already: keep the ratio
            mod = mod if mod is not None and mod.drug == order.drug else None
            if (i, mod, id(base)) not in cache:
                cache[(i, mod, id(base))] = relative(order, base, mod)
            return cache[(i, mod, id(base))]
        if key not in cache:
            if renal is None and effective(order, who).basis == "auc":
                renal = rn.for_calvert(who, policy, measured)
            a = assessment(i, who)
            step = None
            if adjust_organ and a is not None and a.percent is not None:
                step = (a.percent, f"{a.drug} organ-function band, option {a.option}")
            cache[key] = calculate(order, who, policy, mod, renal, step, pgx_of(i, who))
        return cache[key]

    administrations = expand(regimen, dose_for, first, cycles, phase, starts, first_cycle)
    warnings = _capped(administrations) + _dose_alerts(administrations, patient, policy)
    # the small-child checks of each cycle's patient (a rule by age that ends leaves an order
    # per m² again): each said once, at the first cycle it holds in
    said: set[tuple[str, str | None]] = set()
    for cycle in range(first_cycle, first_cycle + cycles):
        who = aged(cycle) if patient.age_years is not None else patient
        for alert in small_child_alerts(regimen, who, policy, phase):
            if (alert.code, alert.drug) in said:
                continue
            said.add((alert.code, alert.drug))
            if cycle != first_cycle:
                alert = replace(alert, cycle=cycle, date=day1(cycle))
            warnings.append(alert)
    if renal is not None:
        warnings += [
            Alert(WARNING, "GFR_ABOVE_CAP", w, drug="carboplatin", phase=phase)
            for w in renal.warnings
        ]
        warnings += [
            Alert(CRITICAL, "GFR_BELOW_CALVERT_RANGE", w, drug="carboplatin", phase=phase)
            for w in renal.critical
        ]
        capped = renal.capped()
        if capped is not None:
            warnings.append(Alert(INFO, "GFR_CAPPED", capped, drug="carboplatin", phase=phase))
    organ_pgx = _organ_alerts(regimen, administrations, assessments, adjust_organ)
    organ_pgx += _pgx_alerts(regimen, administrations, pgx_found, policy)
    shown: set[tuple[str, str | None, str]] = set()
    for alert in organ_pgx:  # an order's later dose spec that finds the same says it once
        if (alert.code, alert.drug, alert.message) not in shown:
            shown.add((alert.code, alert.drug, alert.message))
            warnings.append(alert)
    if assessed is not None:
        assessed += [a for _, a in _by_order(assessments) if a is not None]
    if assessed_pgx is not None:
        assessed_pgx += [a for _, a in _by_order(pgx_found) if a is not None]
    return administrations, warnings


def _by_order(found: dict[tuple[int, Any], Any]) -> list[tuple[tuple[int, Any], Any]]:
    """Assessments by (order index, dose spec), in the order of the regimen's orders and, within
    one order, of its dose specs' first use."""
    return sorted(found.items(), key=lambda kv: kv[0][0])


def _first(
    regimen: Regimen, i: int, administrations: list[Administration], spec: Any = None
) -> Any:
    """The first administration of the regimen's ``i``-th drug order (None: not in this plan);
    with ``spec``, the first calculated from that dose spec (the order's own, or a rule's)."""
    order = regimen.drugs[i]
    own = order.per_day
    return next(
        (
            x
            for x in administrations
            if x.dose.drug == order.drug
            and own in (x.dose.protocol, x.dose.regimen_dose)
            and (spec is None or x.dose.protocol == spec)
        ),
        None,
    )


def _pgx_alerts(
    regimen: Regimen,
    administrations: list[Administration],
    assessments: dict[tuple[int, Any], Any],
    policy: Policy,
) -> list[Alert]:
    """Per drug order and dose spec, at its first administration: what the pharmacogenomic
    data says (the standard and the adjusted dose of that administration)."""
    from dosecalc.clinical import pgx as px

    out: list[Alert] = []
    for a, first, where in _at_first(regimen, administrations, assessments):
        standard = adjusted = None
        unit = "mg"
        if first is not None:
            unit = first.dose.unit
            if a.percent is not None:
                adjusted = first.dose.standard * (first.dose.organ_percent or 100) / 100
                standard, adjusted = adjusted, adjusted * a.percent / 100
        out += px.alerts(a, policy, standard, adjusted, unit, where)
    return out


def _at_first(
    regimen: Regimen,
    administrations: list[Administration],
    assessments: dict[tuple[int, Any], Any],
) -> Iterator[tuple[Any, Administration | None, dict[str, Any]]]:
    """Each drug order's assessment (by order index and dose spec) with the first
    administration calculated from that spec and where that is (phase, cycle, day, date; empty
    when it has none)."""
    for (i, spec), a in _by_order(assessments):
        if a is None:
            continue
        first = _first(regimen, i, administrations, spec)
        where: dict[str, Any] = {}
        if first is not None:
            where = dict(phase=first.phase, cycle=first.cycle, day=first.day, date=first.date)
        yield a, first, where


def _organ_alerts(
    regimen: Regimen,
    administrations: list[Administration],
    assessments: dict[tuple[int, Any], Any],
    applied: bool,
) -> list[Alert]:
    """Per drug order, at its first administration: what the organ-function data says."""
    from dosecalc.clinical import organ as og

    out: list[Alert] = []
    for a, first, where in _at_first(regimen, administrations, assessments):
        standard = adjusted = None
        unit = "mg"
        if first is not None:
            standard, unit = first.dose.standard, first.dose.unit
            if a.percent is not None:
                adjusted = standard * a.percent / 100
        out += og.alerts(a, standard, adjusted, unit, applied, where)
    return out


def _dose_alerts(
    administrations: list[Administration], patient: Patient, policy: Policy
) -> list[Alert]:
    """Once per distinct dose: above the usual maximum (naming every administration of that
    dose, not its first alone), modified, or not rounded as asked."""
    out: list[Alert] = []
    given: dict[int, list[Administration]] = {}
    for a in administrations:
        given.setdefault(id(a.dose), []).append(a)
    for same in given.values():
        a = same[0]
        d = a.dose
        where = dict(drug=d.drug, phase=a.phase, cycle=a.cycle, day=a.day, date=a.date)
        above = usual_maximum_alert(d, patient, policy, where)
        if above is not None:
            out.append(replace(above, message=above.message + _each_time(same)))
        if d.modification is not None:
            out.append(
                Alert(
                    INFO,
                    "DOSE_MODIFIED",
                    f"{d.drug}: standard {fmt(d.standard)} "
                    f"{d.unit}, {d.modification.describe()} → {fmt(d.dose)} {d.unit}",
                    **where,
                )
            )  # type: ignore[arg-type]
        if d.rounding_note:
            out.append(Alert(INFO, "ROUNDING_SKIPPED", f"{d.drug}: {d.rounding_note}", **where))  # type: ignore[arg-type]
        if d.rule is not None:
            out.append(Alert(INFO, "DOSE_RULE_APPLIED", rule_message(d), **where))  # type: ignore[arg-type]
        if d.without_rule is not None and d.calculated > d.without_rule * (1 + 1e-9):
            assert d.rule is not None and d.regimen_dose is not None
            out.append(
                Alert(
                    CRITICAL,
                    "DOSE_RULE_RAISES_DOSE",
                    f"{d.drug}: {d.rule.label} ({d.rule.why}) gives {d.protocol.describe()}, "
                    f"{fmt(d.calculated)} {d.unit}, above the {fmt(d.without_rule)} {d.unit} "
                    f"the line's own dose {d.regimen_dose.describe()} gives this patient: a rule "
                    "lowers a dose for some patients, never raises it; check the rule against "
                    f"its source ({d.rule.rule.source}) before giving it",
                    **where,  # type: ignore[arg-type]
                )
            )
    return out


def _each_time(same: list[Administration]) -> str:
    """'; the same dose is given 2 times: day 1 of cycles 1, 2' (nothing for one dose)."""
    if len(same) < 2:
        return ""
    by: dict[tuple[int, int], list[int]] = {}
    for a in same:
        by.setdefault((a.phase, a.day), []).append(a.cycle)
    phases = len({p for p, _ in by}) > 1
    where = "; ".join(
        f"{f'phase {p}, ' if phases else ''}day {day} of cycle{'s' if len(c) > 1 else ''} {runs(c)}"
        for (p, day), c in by.items()
    )
    return f"; the same dose is given {len(same)} times: {where}"


def day_total_alerts(
    administrations: Sequence[Administration], patient: Patient, policy: Policy, prefix: str = ""
) -> list[Alert]:
    """The single-dose guard on each day's total of a drug: the drug data's usual maximum single
    dose is the most for ONE administration day (data/drugs.yaml), so where two administrations
    or more of one drug fall on one date (two lines of a regimen, a twice-daily or timed line,
    two phases of a course), their sum is held to it, with the lines summed named. A drug whose
    data has a usual maximum bolus (fluorouracil) sums its bolus lines against that and its other
    lines against the single dose, as each line alone is held (one administration there is one
    bolus or one infusion); likewise a drug with a maximum of its own by one route (ondansetron
    IV) sums its lines by that route against it, its other lines against the drug's. The alert
    is guard_alert's, as a line alone above it, once per
    distinct set of doses (on its first day), as a line's is once per distinct dose."""
    groups: dict[tuple[str, date, str], list[Administration]] = {}
    for a in administrations:
        d = a.dose
        single = drugs.lookup(d.drug).max_single_dose
        if single is None:
            continue
        groups.setdefault((d.drug, a.date, held_to(single, d.infusion, d.route)[1]), []).append(a)
    out: list[Alert] = []
    seen: set[tuple[Any, ...]] = set()  # once per distinct set of doses (its first day)
    for (drug, when, _), group in groups.items():
        if len(group) < 2 or len({a.dose.unit for a in group}) != 1:
            continue
        doses = tuple(sorted((a.phase, id(a.dose), a.at_h or 0.0) for a in group))
        if doses in seen:
            continue
        seen.add(doses)
        first = group[0]
        total = replace(first.dose, dose=sum(a.dose.dose for a in group))
        phases = len({a.phase for a in group}) > 1
        summed = " + ".join(_line_named(a, phases) for a in group)
        found = usual_maximum_excess(total, patient, summed=summed)
        if found is None:
            continue
        text, ratio, verified = found
        where: dict[str, Any] = dict(drug=drug, date=when)
        for key in ("phase", "cycle", "day"):
            values = {getattr(a, key) for a in group}
            where[key] = values.pop() if len(values) == 1 else None
        out.append(guard_alert(f"{prefix}{text}", ratio, verified, policy, where))
    return out


def _line_named(a: Administration, phases: bool) -> str:
    """One administration of a day's total, as the day-total alert names it."""
    where = f"phase {a.phase}, " if phases else ""
    where += f"{a.regimen} day {a.day}" if a.regimen else f"day {a.day}"
    if a.at_h is not None:
        where += f" at {fmt(a.at_h)} h"
    note = f" ({a.dose.note})" if a.dose.note else ""
    return f"{fmt(a.dose.dose)} {a.dose.unit} on {where}{note}"


# the short citation of each child threshold (the policy's why says it in full)
CHILD_CITES = {
    "children.small_weight_kg": "Cancer Council Australia: BSA dosing under 10 kg can overdose",
    "children.infant_below_age_years": "PMID 8523060, COG task force 2017: infants are dosed apart",
    "children.small_bsa_m2": "UNVERIFIED threshold; 0.5 m² was read, for busulfan banding",
}


def small_child_alerts(
    regimen: Regimen, patient: Patient, policy: Policy, phase: int = 1
) -> list[Alert]:
    """SMALL_CHILD_BSA_DOSING (critical): a drug dosed per m² or flat, no rule of the regimen
    replacing it, for a patient under the policy's weight, age or BSA for infants and small children
    (children.*), each threshold named with its source. CHILD_DOSING_NOT_STATED (warning): a
    child (younger than weight.child_below_age_years, an infant or small child too) on a
    regimen that has no rule for children and does not say how its sources dose them
    (``children:``)."""
    from dosecalc.clinical.rules import effective, select

    weight, age, bsa = patient.weight_kg, patient.age_years, patient.bsa_m2
    small = [
        (f"weight {fmt(weight)} kg", "under", policy["children.small_weight_kg"], "kg", key)
        for key in ["children.small_weight_kg"]
        if weight is not None and weight < policy[key]
    ]
    small += [
        (f"age {age_text(age)}", "under", policy[key], "year", key)
        for key in ["children.infant_below_age_years"]
        if age is not None and age < policy[key]
    ]
    small += [
        (f"BSA {fmt(bsa)} m²", "below", policy[key], "m²", key)
        for key in ["children.small_bsa_m2"]
        if bsa is not None and bsa < policy[key]
    ]
    out = []
    if small:
        why = "; ".join(
            f"{what} is {word} {fmt(limit)} {unit} ({key}; {CHILD_CITES[key]})"
            for what, word, limit, unit, key in small
        )
        for order in regimen.drugs:
            basis = effective(order, patient).basis
            if basis not in ("bsa", "flat") or select(order, patient) is not None:
                continue  # per kg or by AUC, or a rule of the protocol doses this patient
            ruled = " and none of its rules applies" if order.rules else ", and it gives no rule"
            # a flat dose is an adult's (prednisone 100 mg for a 6-kg infant said nothing)
            how = "per m²" if basis == "bsa" else "as a flat dose"
            out.append(
                Alert(
                    CRITICAL,
                    "SMALL_CHILD_BSA_DOSING",
                    f"{order.drug} is dosed {how} in {regimen.id}{ruled} for this patient: "
                    f"{why}. Check the protocol's dosing for infants and small children before "
                    "giving it",
                    drug=order.drug,
                    phase=phase,
                )
            )
    # an infant or small child is a child too: the flat and per-kg doses of a regimen that says
    # nothing of children are an adult's (anlotinib 12 mg for a 3-kg infant said nothing)
    child = age is not None and age < policy["weight.child_below_age_years"]
    if child and regimen.children is None and not any(o.rules for o in regimen.drugs):
        out.append(
            Alert(
                WARNING,
                "CHILD_DOSING_NOT_STATED",
                f"the patient is a child (age {age_text(age)}, under "
                f"weight.child_below_age_years = {fmt(policy['weight.child_below_age_years'])}) "
                f"and {regimen.id} has no dosing rule for children nor says how its sources "
                "dose them (children:): its doses are as written for adults; check the "
                "paediatric protocol",
                phase=phase,
            )
        )
    return out


def rule_message(d: Dose) -> str:
    """``vincristine: rule 1 (BSA 0.3464 m² is below 0.6 m2) gives 0.05 mg/kg instead of
    1.5 mg/m² (source: ...)``."""
    assert d.rule is not None
    r = d.rule.rule
    if r.dose is not None and d.regimen_dose is not None:
        what = f"gives {r.dose.describe()} instead of {d.regimen_dose.describe()}"
    else:
        what = f"gives {r.percent:g} % of {d.protocol.describe()}"
    return f"{d.drug}: {d.rule.label} ({d.rule.why}) {what} (source: {r.source})"


def _patient_alerts(p: Patient, policy: Policy) -> list[Alert]:
    out = []
    if p.bsa_uncapped_m2 is not None:
        out.append(
            Alert(
                WARNING,
                "BSA_CAPPED",
                f"BSA {p.bsa_uncapped_m2:.2f} m² capped at "
                f"{p.bsa_m2:.2f} m² ({policy.describe('bsa.cap_m2')})",
            )
        )
    if p.weight_basis != "actual" and p.dosing_weight_kg is not None:
        out.append(
            Alert(
                INFO,
                "DOSING_WEIGHT",
                f"doses use {p.weight_basis} body weight "
                f"{fmt(p.dosing_weight_kg)} kg, not the actual {fmt(p.weight_kg or 0)} kg "
                f"({policy.describe('weight.dosing_weight')})",
            )
        )
    out += given_bsa_alerts(p, policy)
    out += bmi_alerts(p, policy)
    out += age_size_alerts(p)
    out += age_not_given_alerts(p, policy)
    if p.previous_weight_kg is not None and p.weight_kg is not None:
        change = 100 * (p.weight_kg / p.previous_weight_kg - 1)
        key = "weight.change_threshold_percent"
        if p.age_years is not None and p.age_years < policy["weight.child_below_age_years"]:
            key = "weight.change_threshold_percent_child"
        limit = policy[key]
        if abs(change) > limit:
            out.append(
                Alert(
                    WARNING,
                    "WEIGHT_CHANGED",
                    f"weight {fmt(p.weight_kg)} kg is {change:+.1f} % from the previous "
                    f"{fmt(p.previous_weight_kg)} kg, more than {fmt(limit)} %: confirm "
                    "the weight and recalculate "
                    f"({policy.describe(key)})",
                )
            )
    return out


def age_not_given_alerts(p: Patient, policy: Policy) -> list[Alert]:
    """AGE_NOT_GIVEN (warning): no age for a patient of a small child's size by the policy's
    own small-child thresholds (children.small_weight_kg, children.small_bsa_m2): the checks
    that need the age (an infant, a child) were not made, and that is said, never assumed."""
    if p.age_years is not None:
        return []
    small = [
        f"{what} {fmt(value)} {unit} is {word} {fmt(policy[key])} {unit} ({key})"
        for what, value, word, unit, key in (
            ("weight", p.weight_kg, "under", "kg", "children.small_weight_kg"),
            ("BSA", p.bsa_m2, "below", "m²", "children.small_bsa_m2"),
        )
        if value is not None and value < policy[key]
    ]
    if not small:
        return []
    return [
        Alert(
            WARNING,
            "AGE_NOT_GIVEN",
            f"no age was given for a patient of a small child's size ({'; '.join(small)}): "
            "whether the patient is an infant (children.infant_below_age_years) or a child "
            "(weight.child_below_age_years: CHILD_DOSING_NOT_STATED, the child's weight-change "
            "threshold and verify tolerance) was not checked; give --age (or --birth-date)",
        )
    ]


def bmi_alerts(p: Patient, policy: Policy) -> list[Alert]:
    """A height and a weight that give an implausible BMI (within the bounds that refuse them):
    a unit slip, most often a weight in pounds typed as a bare number and read as kg."""
    if p.height_cm is None or p.weight_kg is None:
        return []
    bmi = p.weight_kg / (p.height_cm / 100.0) ** 2
    low, high = policy["weight.bmi_warn_below"], policy["weight.bmi_warn_above"]
    if low <= bmi <= high:
        return []
    key = "weight.bmi_warn_below" if bmi < low else "weight.bmi_warn_above"
    bare = ", ".join(
        f"{fmt(value)} read as {unit}"
        for value, unit, flag in (
            (p.height_cm, "cm", p.height_bare),
            (p.weight_kg, "kg", p.weight_bare),
        )
        if flag
    )
    return [
        Alert(
            WARNING,
            "BMI_IMPLAUSIBLE",
            f"height {fmt(p.height_cm)} cm and weight {fmt(p.weight_kg)} kg give a BMI of "
            f"{bmi:.0f} kg/m², {'below' if bmi < low else 'above'} {policy.short(key)}: check "
            f"both{f' (a bare number: {bare})' if bare else ''}; a weight in pounds is written "
            "154lb, a height in inches 69in",
        )
    ]


# An infant or toddler (under 2 years) is never this large: well above the WHO Child Growth
# Standards' +3 SD at 24 months (length about 97 cm, weight about 17 kg for boys; the figures
# as remembered, not re-read in the standards): a size this far above them is an adult's, and
# the age is the slip (--age 0, a month count typed as years).
TODDLER_YEARS, TODDLER_MAX_CM, TODDLER_MAX_KG = 2.0, 120.0, 30.0


def age_size_alerts(p: Patient) -> list[Alert]:
    """AGE_SIZE_IMPLAUSIBLE: an age under 2 years with an adult's height or weight."""
    if p.age_years is None or p.age_years >= TODDLER_YEARS:
        return []
    big = [
        f"{what} {fmt(value)} {unit}"
        for what, value, unit, bound in (
            ("height", p.height_cm, "cm", TODDLER_MAX_CM),
            ("weight", p.weight_kg, "kg", TODDLER_MAX_KG),
        )
        if value is not None and value > bound
    ]
    if not big:
        return []
    return [
        Alert(
            WARNING,
            "AGE_SIZE_IMPLAUSIBLE",
            f"age {age_text(p.age_years)} with {' and '.join(big)}: no child under 2 years is "
            f"this size (over {fmt(TODDLER_MAX_CM)} cm or {fmt(TODDLER_MAX_KG)} kg, far above the "
            "WHO growth standards' +3 SD at 24 months); check --age (years, or e.g. 18months)",
        )
    ]


def given_bsa_alerts(p: Patient, policy: Policy) -> list[Alert]:
    """A BSA given with --bsa that the height and weight given with it do not support: the one
    plausibility rule for a given BSA, in plan, check and verify alike (critical beyond the
    policy's tolerance)."""
    if not (p.bsa_formula == "given" and p.calculated_bsa_m2 and p.bsa_m2):
        return []
    diff = 100 * (p.bsa_m2 / p.calculated_bsa_m2 - 1)
    limit = policy["bsa.given_tolerance_percent"]
    if abs(diff) <= limit + 1e-9:
        return []
    return [
        Alert(
            CRITICAL,
            "BSA_MISMATCH",
            f"the given BSA {p.bsa_m2:.2f} m² is {diff:+.1f} % from the "
            f"{p.calculated_bsa_m2:.2f} m² the height and weight give, more than "
            f"{policy.short('bsa.given_tolerance_percent')} %: the doses follow the given BSA, "
            "so check which is right",
        )
    ]


def _bsa_words(p: Patient) -> str:
    how = "given" if p.bsa_formula == "given" else p.bsa_formula
    return f"the current BSA {p.bsa_m2:.2f} m² ({how})"
