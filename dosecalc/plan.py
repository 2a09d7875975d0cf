"""A plan: one patient, one regimen, dated doses, lifetime totals, projection and warnings.

This is the API the CLI calls::

    make_plan(regimen, patient, start="2026-12-01", cycles=11, history=rows)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from dosecalc import __version__, cumulative
from dosecalc.alerts import CRITICAL, INFO, WARNING, Alert
from dosecalc.ceilings import RiskFactors
from dosecalc.cumulative import Event, Fit, Total
from dosecalc.dosing import Dose, Modification, above_usual_maximum, calculate, modification_for
from dosecalc.errors import fail
from dosecalc.history import Row
from dosecalc.numbers import fmt
from dosecalc.patient import Patient
from dosecalc.policy import Policy
from dosecalc.regimen import MAX_CYCLES, Regimen
from dosecalc.schedule import Administration, expand


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
class Plan:
    patient: Patient
    regimen: Regimen
    start: date
    cycles: int
    administrations: list[Administration]
    cumulative: list[Total]
    warnings: list[Alert] = field(default_factory=list)
    projection: list[Projection] = field(default_factory=list)
    equivalence: str | None = None
    factors: RiskFactors = RiskFactors()
    policy: Policy | None = None

    @property
    def critical(self) -> bool:
        return any(w.severity == CRITICAL for w in self.warnings)

    def as_dict(self) -> dict[str, object]:
        r = self.regimen
        patient = self.patient.as_dict()
        patient["cardiac_radiation_gy"] = self.factors.cardiac_radiation_gy
        return {
            "dosecalc_version": __version__,
            "patient": patient,
            "regimen": {
                "id": r.id,
                "name": r.name,
                "cycle_length_days": r.cycle_length_days,
                "cycles": self.cycles,
                "start": self.start.isoformat(),
                "version": r.version,
                "sources": list(r.sources),
                "assumptions": list(r.assumptions),
                "unverified": list(r.unverified),
                "notes": list(r.notes),
            },
            "equivalence_table": self.equivalence,
            "policy": self.policy.as_dict() if self.policy else None,
            "administrations": [a.as_dict() for a in self.administrations],
            "cumulative": [t.as_dict() for t in self.cumulative],
            "projection": [p.as_dict() for p in self.projection],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def parse_start(text: str | date | None, today: date | None = None) -> tuple[date, bool]:
    """The start date and whether it was assumed (today)."""
    if text is None:
        return (today or date.today()), True
    if isinstance(text, date):
        return text, False
    try:
        return date.fromisoformat(text.strip()), False
    except ValueError:
        raise fail(
            "--start", f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01"
        ) from None


def _regimen_alerts(regimen: Regimen) -> list[Alert]:
    out = [
        Alert(WARNING, "REGIMEN_UNVERIFIED", f"{regimen.id}: unverified: {text}")
        for text in regimen.unverified
    ]
    out += [
        Alert(INFO, "REGIMEN_ASSUMPTION", f"{regimen.id}: assumed: {text}")
        for text in regimen.assumptions
    ]
    return out


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
                    f"{d.drug}: {d.protocol_text} gives {fmt(d.calculated)} {d.unit}, capped at "
                    f"{fmt(d.dose)} {d.unit} (max_dose of the regimen)",
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
        unit = units.get(d.drug) or units.setdefault(d.drug, cumulative.tracking_unit(d.drug, book))
        amount = d.dose / bsa_m2 if unit.endswith("/m2") else d.dose
        out.append(Event(d.drug, amount, True, a.date, a.phase, a.cycle, a.day))
    return out


def by_cycle(events: Sequence[Event]) -> list[list[Event]]:
    cycles: dict[tuple[int | None, int | None], list[Event]] = {}
    for e in events:
        cycles.setdefault((e.phase, e.cycle), []).append(e)
    return list(cycles.values())


def _projections(result: cumulative.Result, events: list[Event], cycles: int) -> list[Projection]:
    prior = {t.drug: t.prior for t in result.totals}
    after = {t.drug: t.total for t in result.totals}
    eq = result.equivalence if cumulative.EQUIVALENT in result.ceilings else None
    fits = cumulative.cycles_fit(
        prior, cumulative.repeat_last(by_cycle(events)), result.ceilings, eq
    )
    firsts: dict[tuple[str, str], Alert] = {}
    for a in result.alerts:
        if a.drug and a.code in ("CUMULATIVE_THRESHOLD_REACHED", "CUMULATIVE_LIMIT_EXCEEDED"):
            firsts.setdefault((a.drug, a.code), a)
    out = []
    for drug in sorted(fits, key=lambda d: (d == cumulative.EQUIVALENT, d)):
        f = fits[drug]
        thr = firsts.get((drug, "CUMULATIVE_THRESHOLD_REACHED"))
        lim = firsts.get((drug, "CUMULATIVE_LIMIT_EXCEEDED"))
        out.append(
            Projection(
                f,
                thr if thr and thr.phase else None,
                lim if lim and lim.phase else None,
                prior.get(drug, 0.0),
                after.get(drug, 0.0),
                _projection_text(f, thr, lim, cycles),
            )
        )
    return out


def _projection_text(f: Fit, thr: Alert | None, lim: Alert | None, cycles: int) -> tuple[str, ...]:
    unit = f.unit.replace("m2", "m²")
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
            head = (
                f"{f.drug} {verb} its {fmt(value)} {unit} {word} at cycle {alert.cycle} day "
                f"{alert.day} ({alert.date})"
            )
        else:
            head = f"{f.drug} stays {rel} its {fmt(value)} {unit} {word} in this plan"
        count = f"at least {cumulative.MAX_PROJECTED_CYCLES}" if fit is None else str(fit)
        noun = "full cycle fits" if fit == 1 else "full cycles fit"
        parts.append(f"{head}; {count} {noun} {rel} it (this plan has {cycles})")
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
) -> Plan:
    """Plan ``regimen`` for ``patient``; ``history`` rows are the prior lifetime exposure."""
    from dosecalc import ceilings
    from dosecalc.policy import load as load_policy

    policy = policy or load_policy()
    first, assumed = parse_start(start, today)
    n = regimen.cycles if cycles is None else cycles
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CYCLES:
        raise fail("--cycles", f"{n!r} is not a number of cycles; give 1 to {MAX_CYCLES}")
    if patient.bsa_m2 is None:
        raise fail(
            "--height/--weight",
            "a plan needs the patient's BSA; give --height and --weight, or --bsa",
        )
    factors = factors or RiskFactors(age_years=patient.age_years)
    administrations, warnings = schedule_regimen(regimen, patient, policy, first, n, modifications)
    warnings = _regimen_alerts(regimen) + _patient_alerts(patient, policy) + warnings
    if assumed:
        warnings.append(
            Alert(
                INFO,
                "START_DATE_ASSUMED",
                f"no --start given: cycle 1 day 1 is today, {first.isoformat()}",
            )
        )
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
    projection = _projections(result, planned, n)
    return Plan(
        patient,
        regimen,
        first,
        n,
        administrations,
        result.totals,
        warnings,
        projection,
        result.equivalence.table,
        factors,
        policy,
    )


def schedule_regimen(
    regimen: Regimen,
    patient: Patient,
    policy: Policy,
    first: date,
    cycles: int,
    modifications: Sequence[Modification] = (),
    phase: int = 1,
    starts: dict[int, date] | None = None,
) -> tuple[list[Administration], list[Alert]]:
    """The dated administrations of one regimen, and the warnings about its doses."""
    from dosecalc import renal as rn

    needs_gfr = any(o.protocol.basis == "auc" for o in regimen.drugs)
    renal = rn.for_calvert(patient, policy) if needs_gfr else None
    cache: dict[tuple[int, Modification | None], Dose] = {}

    def dose_for(i: int, cycle: int) -> Dose:
        order = regimen.drugs[i]
        mod = modification_for(list(modifications), order.drug, cycle)
        key = (i, mod)
        if key not in cache:
            cache[key] = calculate(order, patient, policy, mod, renal)
        return cache[key]

    administrations = expand(regimen, dose_for, first, cycles, phase, starts)
    warnings = _capped(administrations) + _dose_alerts(administrations, patient)
    if renal is not None:
        warnings += [
            Alert(WARNING, "GFR_ABOVE_CAP", w, drug="carboplatin", phase=phase)
            for w in renal.warnings
        ]
    return administrations, warnings


def _dose_alerts(administrations: list[Administration], patient: Patient) -> list[Alert]:
    """Once per distinct dose: above the usual maximum, modified, or not rounded as asked."""
    out: list[Alert] = []
    seen: set[int] = set()
    for a in administrations:
        d = a.dose
        if id(d) in seen:
            continue
        seen.add(id(d))
        where = dict(drug=d.drug, phase=a.phase, cycle=a.cycle, day=a.day, date=a.date)
        above = above_usual_maximum(d, patient)
        if above:
            out.append(Alert(CRITICAL, "DOSE_ABOVE_USUAL_MAXIMUM", above, **where))  # type: ignore[arg-type]
        if d.modification is not None:
            out.append(
                Alert(
                    INFO,
                    "DOSE_MODIFIED",
                    f"{d.drug}: standard {fmt(d.calculated)} "
                    f"{d.unit}, {d.modification.describe()} → {fmt(d.dose)} {d.unit}",
                    **where,
                )
            )  # type: ignore[arg-type]
        if d.rounding_note:
            out.append(Alert(INFO, "ROUNDING_SKIPPED", f"{d.drug}: {d.rounding_note}", **where))  # type: ignore[arg-type]
    return out


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
    if p.bsa_formula == "given" and p.calculated_bsa_m2 and p.bsa_m2:
        diff = 100 * (p.bsa_m2 / p.calculated_bsa_m2 - 1)
        if abs(diff) > 10:
            out.append(
                Alert(
                    WARNING,
                    "BSA_MISMATCH",
                    f"the given BSA {p.bsa_m2:.2f} m² is "
                    f"{diff:+.0f} % from the {p.calculated_bsa_m2:.2f} m² the height "
                    "and weight give; check which is right",
                )
            )
    if p.previous_weight_kg is not None and p.weight_kg is not None:
        change = 100 * (p.weight_kg / p.previous_weight_kg - 1)
        limit = policy["weight.change_threshold_percent"]
        if abs(change) > limit:
            out.append(
                Alert(
                    WARNING,
                    "WEIGHT_CHANGED",
                    f"weight {fmt(p.weight_kg)} kg is {change:+.1f} % from the previous "
                    f"{fmt(p.previous_weight_kg)} kg, more than {fmt(limit)} %: confirm "
                    "the weight and recalculate "
                    f"({policy.describe('weight.change_threshold_percent')})",
                )
            )
    return out


def _bsa_words(p: Patient) -> str:
    how = "given" if p.bsa_formula == "given" else p.bsa_formula
    return f"the current BSA {p.bsa_m2:.2f} m² ({how})"
