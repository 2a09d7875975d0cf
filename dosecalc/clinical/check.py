"""``dosecalc check``: lifetime exposure from histories, per patient, and what still fits.

A history with a ``patient`` column is checked patient by patient; without one, all rows are
one patient's. The BSA that converts rows without ``bsa_m2`` is the one given on the command
line, else the patient's latest ``bsa_m2`` in the history (and the output says which).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import compress
from typing import Any

from dosecalc.base import clock
from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert
from dosecalc.base.errors import DosecalcError, FileError, Problem, capped, fail
from dosecalc.base.numbers import fmt, plural
from dosecalc.clinical import cumulative
from dosecalc.clinical.cumulative import Fit, Total
from dosecalc.clinical.patient import Patient
from dosecalc.clinical.policy import Policy
from dosecalc.data import ceilings
from dosecalc.data.ceilings import RiskFactors
from dosecalc.data.records import Columns, History, Row
from dosecalc.data.regimen import Regimen


@dataclass(frozen=True)
class Next:
    """How many more full cycles of a proposed regimen fit under the ceilings."""

    regimen: str
    cycles_within_threshold: int
    cycles_within_limit: int
    threshold_bound_by: str | None  # the total that binds first
    limit_bound_by: str | None
    fits: dict[str, Fit]
    requested: int | None  # --cycles, to say whether that many fit

    def as_dict(self) -> dict[str, object]:
        return {
            "regimen": self.regimen,
            "cycles_within_threshold": self.cycles_within_threshold,
            "cycles_within_limit": self.cycles_within_limit,
            "threshold_bound_by": self.threshold_bound_by,
            "limit_bound_by": self.limit_bound_by,
            "cycles_requested": self.requested,
            "by_drug": [
                {
                    "drug": f.drug,
                    "unit": f.unit,
                    "threshold": f.threshold,
                    "limit": f.limit,
                    "cycles_within_threshold": f.within_threshold,
                    "cycles_within_limit": f.within_limit,
                }
                for f in self.fits.values()
            ],
        }


@dataclass(frozen=True)
class PatientCheck:
    patient: str | None
    bsa_m2: float | None
    cumulative: list[Total]
    warnings: list[Alert]
    next: Next | None = None
    result: Any = None  # the cumulative.Result behind the totals (for charts)
    labs: Any = None  # labs.Labs, when lab values were given
    kidney: Any = None  # renal.Kidney, when lab values or --scr were given
    organ: list[Any] | None = None  # organ.Assessment per order of the --next regimen
    genotypes: dict[str, Any] | None = None  # gene → pgx.Genotype, when --genotype was given
    pgx: list[Any] | None = None  # pgx.Assessment per order of the --next regimen

    @property
    def critical(self) -> bool:
        return any(w.severity == CRITICAL for w in self.warnings)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.patient is not None:
            out["patient"] = self.patient
        out["bsa_m2"] = self.bsa_m2
        out["cumulative"] = [t.as_dict() for t in self.cumulative]
        out["warnings"] = [w.as_dict() for w in self.warnings]
        if self.next is not None:
            out["next"] = self.next.as_dict()
        if self.kidney is not None:
            from dosecalc.clinical.plan import organ_as_list

            out["labs"] = self.labs.as_list() if self.labs else []
            out["renal"] = self.kidney.as_dict()
            out["organ_function"] = organ_as_list(self.organ or [], False)
        if self.genotypes is not None:
            from dosecalc.clinical import pgx

            out["genotype"] = pgx.as_dict(self.genotypes)
            out["pharmacogenomics"] = pgx.as_list(self.pgx or [])
        return out


def with_labs(
    r: PatientCheck, labs: Any, patient: Patient, proposed: Regimen | None, policy: Policy
) -> PatientCheck:
    """The check with the patient's lab values and kidney function, and what the organ-function
    data says for each drug of the proposed regimen (doses are not changed by a check)."""
    from dataclasses import replace

    from dosecalc.clinical import organ

    values = organ.values_for(patient, labs, policy)
    assessed: list[Any] = []
    alerts: list[Alert] = []
    for order in proposed.drugs if proposed is not None else []:
        a = organ.assess(
            order.drug,
            values,
            policy["organ.options"],
            order.per_day,
            allow_unverified=policy["data.allow_unverified"],
        )
        if a is None:
            continue
        assessed.append(a)
        for alert in organ.alerts(a, applied=False):
            if alert not in alerts:
                alerts.append(alert)
    return replace(r, warnings=r.warnings + alerts, labs=labs, kidney=values.kidney, organ=assessed)


def with_genotypes(
    r: PatientCheck, genotypes: dict[str, Any], proposed: Regimen | None, policy: Policy
) -> PatientCheck:
    """The check with what the pharmacogenomic data says for each drug of the proposed regimen
    at the patient's genotypes (its cycles were fitted with the adjusted doses)."""
    from dosecalc.clinical import pgx

    assessed: list[Any] = []
    alerts: list[Alert] = []
    for order in proposed.drugs if proposed is not None else []:
        a = pgx.assess(order.drug, genotypes, policy["pgx.options"], order.per_day)
        if a is None:
            continue
        assessed.append(a)
        alerts += [x for x in pgx.alerts(a, policy) if x not in alerts]
    return replace(r, warnings=r.warnings + alerts, genotypes=genotypes, pgx=assessed)


def bsa_of(patient: Patient | None, rows: Sequence[Row]) -> tuple[float | None, str]:
    if patient is not None and patient.bsa_m2 is not None:
        how = "given" if patient.bsa_formula == "given" else patient.bsa_formula
        return patient.bsa_m2, f"the current BSA {patient.bsa_m2:.2f} m² ({how})"
    dated = [r for r in rows if r.bsa_m2 is not None and r.date is not None]
    if not dated:
        return None, ""
    latest = max(dated, key=lambda r: r.date or date.min)
    return latest.bsa_m2, history_bsa(latest.bsa_m2, latest.date, latest.where)  # type: ignore[arg-type]


def history_bsa(bsa_m2: float, day: date, where: str) -> str:
    """How a BSA taken from the history reads: the patient's latest ``bsa_m2``."""
    return f"the latest bsa_m2 in the history, {bsa_m2:.2f} m² on {day} ({where})"


def bsa_used(described: str) -> Alert:
    """The BSA a check converted rows with, when no BSA was given (from the history)."""
    return Alert(INFO, "BSA_FROM_HISTORY", f"BSA used: {described}")


def next_cycles(
    regimen: Regimen,
    patient: Patient,
    bsa_m2: float | None,
    policy: Policy,
    who: str = "",
    genotypes: dict[str, Any] | None = None,
) -> list[list[cumulative.Event]]:
    """The regimen's distinct cycles for this patient, as contributions to lifetime totals
    (with ``genotypes``, at the doses the pharmacogenomic data gives).

    Without a BSA this is still exact where the BSA cancels out: a per-m² dose without a cap or
    rounding adds its protocol amount to a per-m² total, and a flat dose adds itself to an
    absolute one. Anything else (an order with rules for children too) needs the BSA and says
    so.
    """
    from dataclasses import replace

    from dosecalc.clinical import pgx
    from dosecalc.clinical.plan import by_cycle, pattern_cycles, plan_events, schedule_regimen

    book = ceilings.book()
    n = pattern_cycles(regimen, patient.age_years)
    if bsa_m2 is not None:
        person = replace(patient, bsa_m2=bsa_m2)
        administrations, _ = schedule_regimen(
            regimen, person, policy, clock.today(), n, genotypes=genotypes
        )
        return by_cycle(plan_events(administrations, bsa_m2, book))
    out: list[list[cumulative.Event]] = []
    for cycle in range(1, n + 1):
        events = []
        for o in regimen.drugs:
            if not o.given_in(cycle) or o.serves is not None:
                continue  # a supportive line (mesna) adds to no lifetime total (plan_events)
            spec = o.per_day
            per_m2 = cumulative.tracking_unit(o.drug, book).endswith("/m2")
            exact = (  # a rule (a child's) may follow the BSA, weight or age of each cycle
                o.max_dose is None
                and not o.rules
                and policy["rounding.method"] == "none"
                and ((spec.basis == "bsa" and per_m2) or (spec.basis == "flat" and not per_m2))
            )
            if not exact:
                raise fail(
                    "--next",
                    f"to fit {regimen.id}{' for patient ' + who if who else ''}, "
                    f"{o.drug} ({spec.describe()}{', and rules by the patient' if o.rules else ''})"
                    " needs the patient's BSA: give --bsa (or "
                    "--height and --weight), or bsa_m2 in the history",
                )
            found = (
                pgx.assess(o.drug, genotypes, policy["pgx.options"], spec) if genotypes else None
            )
            amount = spec.amount * (found.percent / 100 if found and found.percent else 1.0)
            events += [
                cumulative.Event(o.drug, amount, True, None, 1, cycle, day) for day in o.days
            ]
        out.append(sorted(events, key=lambda e: e.day or 0))
    return out


def check_patient(
    rows: Sequence[Row],
    patient: Patient | None,
    factors: RiskFactors,
    table: str | None = None,
    options: dict[str, str] | None = None,
    proposed: Regimen | None = None,
    requested: int | None = None,
    name: str | None = None,
    policy: Policy | None = None,
) -> PatientCheck:
    """Lifetime exposure of one patient's rows, and what of ``proposed`` still fits."""
    bsa_m2, described = bsa_of(patient, rows)
    use = cumulative.BsaUse(bsa_m2, described)
    items = cumulative.event_items(cumulative.from_rows(rows, ceilings.book(), use))
    return _check(
        items, lambda e: e, use, patient, factors, table, options, proposed, requested, name, policy
    )


def check_history(
    history: History,
    patient: Patient | None,
    factors: RiskFactors,
    table: str | None = None,
    proposed: Regimen | None = None,
    requested: int | None = None,
    policy: Policy | None = None,
    names: Sequence[str | None] | None = None,
    genotypes: dict[str, Any] | None = None,
) -> Iterator[PatientCheck]:
    """Every patient of a (possibly pharmacy-wide) history (or those ``names``), in order
    (``genotypes``: the one patient's, for the doses of the proposed regimen)."""
    book = ceilings.book()
    for name in history.patients if names is None else names:
        bsa_m2, described = _bsa_of_columns(patient, history, name)
        use = cumulative.BsaUse(bsa_m2, described)
        items, make_event = cumulative.column_items(history, name, book, use)
        yield _check(
            items,
            make_event,
            use,
            patient,
            factors,
            table,
            None,
            proposed,
            requested,
            name,
            policy,
            history.notes.get(name, ()),
            genotypes,
        )


def preflight(
    history: History,
    patient: Patient | None,
    proposed: Regimen | None,
    policy: Policy,
    again: bool = False,
) -> None:
    """Refuse now, before any output, what would fail half-way through a long check: an
    administration that would count twice (unless ``again``), a row that needs a BSA no one
    gave, or a proposed regimen that needs one."""
    from dosecalc.clinical.policy import defaults

    problems = cumulative.screen(
        history, lambda name: _bsa_of_columns(patient, history, name)[0], again
    )
    problems += _unconvertible(history, patient)
    if problems:
        raise FileError(*problems)
    if proposed is None or (patient is not None and patient.bsa_m2 is not None):
        return  # a proposed regimen doses with the patient's BSA
    for name, cols in history.patients.items():
        if _latest_bsa_row(cols) < 0:
            next_cycles(proposed, patient or _placeholder(), None, policy or defaults(), name or "")


def _unconvertible(history: History, patient: Patient | None) -> list[Problem]:
    """Each row whose amount needs a BSA (mg of a drug counted per m², or the reverse) when
    neither the row, nor any row of its patient, nor the patient gives one: the problem naming
    it, up to cumulative.MAX_REPEATS_LISTED, then how many more."""
    if patient is not None and patient.bsa_m2 is not None:
        return []  # every row converts with it
    book = ceilings.book()
    targets = [cumulative.tracking_unit(n, book).endswith("/m2") for n in history.names]
    problems: list[Problem] = []
    found = 0
    for name, cols in history.patients.items():
        if _latest_bsa_row(cols) >= 0:
            continue
        for i in range(len(cols)):
            if cols.per_m2[i] != targets[cols.drug[i]] and not cols.bsa[i]:
                found += 1
                if len(problems) < cumulative.MAX_REPEATS_LISTED:
                    row = history.rows(name)[i]
                    try:
                        cumulative.from_rows([row], book, cumulative.BsaUse(None, ""))
                    except DosecalcError as e:  # the reference's words for the row
                        problems += e.problems
    return capped(problems, found, "rows")


def _bsa_of_columns(
    patient: Patient | None, history: History, name: str | None
) -> tuple[float | None, str]:
    if patient is not None and patient.bsa_m2 is not None:
        return bsa_of(patient, ())
    cols = history.patients[name]
    best = _latest_bsa_row(cols)
    if best < 0:
        return None, ""
    day = date.fromordinal(cols.date[best])
    return cols.bsa[best], history_bsa(cols.bsa[best], day, history.where(cols, best))


def _latest_bsa_row(cols: Columns) -> int:
    """The row of the latest dated bsa_m2 (of several that day, the last); -1 if none."""
    latest = max(compress(cols.date, cols.bsa), default=0)
    if not latest:
        return -1
    backwards = cols.date[::-1]
    k = backwards.index(latest)
    while not cols.bsa[len(cols) - 1 - k]:
        k = backwards.index(latest, k + 1)
    return len(cols) - 1 - k


def _check(
    items: list[cumulative.Item],
    make_event: Any,
    use: cumulative.BsaUse,
    patient: Patient | None,
    factors: RiskFactors,
    table: str | None,
    options: dict[str, str] | None,
    proposed: Regimen | None,
    requested: int | None,
    name: str | None,
    policy: Policy | None,
    notes: Sequence[Alert] = (),
    genotypes: dict[str, Any] | None = None,
) -> PatientCheck:
    from dosecalc.clinical.policy import defaults

    policy = policy or defaults()
    if factors.age_on is None:  # the age given is the age today
        factors = replace(factors, age_on=clock.today())
    table = table or policy["cumulative.equivalence"]
    options = options or policy["cumulative.options"]
    book = ceilings.book()
    bsa_m2, described = use.bsa_m2, use.described
    alerts: list[Alert] = []
    nxt = None
    extra: list[str] = []
    cycles: list[list[cumulative.Event]] = []
    if proposed is not None:
        cycles = next_cycles(
            proposed, patient or _placeholder(), bsa_m2, policy, name or "", genotypes
        )
        extra = [e.drug for cycle in cycles for e in cycle]
    # the history is judged by the ceilings of its own exposure: a drug of the proposed
    # regimen (cyclophosphamide lowering doxorubicin's limit) changes the cycles that fit, never
    # the day a past dose crossed a level
    result = cumulative.evaluate_items(items, make_event, book, factors, table, options, [])
    alerts += cumulative.bsa_assumed(use) + result.alerts
    if proposed is not None:
        ahead = result
        if extra:
            ahead = cumulative.evaluate_items(
                items, make_event, book, factors, table, options, extra
            )
            # a drug of the regimen that the table leaves out of the doxorubicin equivalent adds
            # nothing to it in the cycles that fit: said, as a plan of those cycles says it
            alerts += [
                a for a in ahead.alerts
                if a.code == "EQUIVALENCE_NOT_AVAILABLE" and a not in result.alerts
            ]  # fmt: skip
        prior = {t.drug: t.total for t in ahead.totals}
        eq = ahead.equivalence if cumulative.EQUIVALENT in ahead.ceilings else None
        fits = cumulative.cycles_fit(prior, cumulative.repeat_last(cycles), ahead.ceilings, eq)
        nxt = _next(proposed.id, fits, requested)
        past = {a.drug for a in alerts if a.code == "CUMULATIVE_LIMIT_EXCEEDED"}
        alerts += [  # "not one cycle fits" says nothing a history over that limit has not said
            a for a in _next_alerts(nxt)
            if not (nxt.requested is None and a.code == "NEXT_EXCEEDS_LIMIT" and a.drug in past)
        ]  # fmt: skip
    if bsa_m2 is not None and (patient is None or patient.bsa_m2 is None):
        alerts.append(bsa_used(described))
    alerts += notes
    return PatientCheck(name, bsa_m2, result.totals, alerts, nxt, result)


def _placeholder() -> Patient:
    return Patient(None, None, None, "given")


def _next(regimen: str, fits: dict[str, Fit], requested: int | None) -> Next:
    cap = cumulative.MAX_PROJECTED_CYCLES

    def bound(attr: str) -> tuple[int, str | None]:
        best, who = cap, None
        for drug, f in fits.items():
            value = getattr(f, attr)
            if value is not None and value < best:
                best, who = value, drug
        return best, who

    thr, thr_by = bound("within_threshold")
    lim, lim_by = bound("within_limit")
    return Next(regimen, thr, lim, thr_by, lim_by, fits, requested)


def _next_alerts(n: Next) -> list[Alert]:
    """What fits, and for ``--cycles N`` what N cycles would cross: past a limit is as critical
    here as in a plan of those cycles, reaching a threshold a warning."""
    out = []
    if n.threshold_bound_by is not None:
        out.append(
            Alert(
                INFO,
                "NEXT_CYCLES_FIT",
                f"{n.regimen}: {plural(n.cycles_within_threshold, 'more full cycle')} "
                f"{'keeps' if n.cycles_within_threshold == 1 else 'keep'} every total below "
                f"its threshold ({n.threshold_bound_by} binds first); {n.cycles_within_limit} "
                f"{'keeps' if n.cycles_within_limit == 1 else 'keep'} every total within its limit"
                + (f" ({n.limit_bound_by} binds first)" if n.limit_bound_by else ""),
            )
        )
    if n.requested is None:
        bound = n.fits.get(n.limit_bound_by or "")
        if n.cycles_within_limit == 0 and bound is not None and bound.limit is not None:
            # not one cycle: the total is past the limit in force with the regimen's drugs
            # (cyclophosphamide lowers doxorubicin's), which the history's own table may not show
            out.append(
                Alert(
                    CRITICAL,
                    "NEXT_EXCEEDS_LIMIT",
                    f"{n.regimen}: not one full cycle fits: {n.limit_bound_by} would pass its "
                    f"{fmt(bound.limit)} {bound.unit.replace('m2', 'm²')} limit with the first "
                    f"(the limit in force with {n.regimen}'s drugs)",
                    drug=n.limit_bound_by,
                )
            )
        return out
    asked = f"{plural(n.requested, 'cycle')} of {n.regimen}"
    if n.requested > n.cycles_within_limit:
        out.append(
            Alert(
                CRITICAL,
                "NEXT_EXCEEDS_LIMIT",
                f"{asked} would take {n.limit_bound_by} past its limit; at most "
                f"{n.cycles_within_limit} fit within it",
                drug=n.limit_bound_by,
            )
        )
    elif n.requested > n.cycles_within_threshold:
        out.append(
            Alert(
                WARNING,
                "NEXT_REACHES_THRESHOLD",
                f"{asked} would take {n.threshold_bound_by} to its threshold; "
                f"{n.cycles_within_threshold} fit below it",
                drug=n.threshold_bound_by,
            )
        )
    return out


def unknown_priors(n: Next, given: frozenset[str], factors: dict[str, float]) -> list[Alert]:
    """LIFETIME_EXPOSURE_UNKNOWN for each total with a ceiling that the proposed regimen adds
    to and whose prior exposure nobody gave, when the only prior exposure is ``given`` (the
    drugs of ``--prior``: no history, no ledger). The cycles that fit count it from zero, which
    is what a plan says too, in the same words (plan.exposure_unknown)."""
    from dosecalc.clinical.plan import exposure_unknown

    out = []
    for f in n.fits.values():
        if f.drug == cumulative.EQUIVALENT:
            agents = {d for d in given | set(n.fits) if d in factors}
            if agents <= given:
                continue
            partly, counted = True, "the amounts given with --prior"
        elif f.drug in given:
            continue
        else:
            partly, counted = False, "zero"
        counts = f"the cycles of {n.regimen} that fit count its total from {counted}"
        out.append(exposure_unknown(f.drug, f.unit, f.limit, f.threshold, partly, counts))
    return out


# ---------------------------------------------------------------- levels reached

LEVELS = ("threshold", "limit")  # --patients-over


def level_of(t: Any) -> str | None:
    """'limit' when a total is over its limit, 'threshold' when it reached its threshold."""
    return level(t.total, t.threshold, t.limit)


def level(total: float, threshold: float | None, limit: float | None) -> str | None:
    """'limit' when ``total`` is over ``limit``, 'threshold' when it reached ``threshold``."""
    if limit and cumulative.exceeded(total, limit):
        return "limit"
    if threshold and cumulative.reached(total, threshold):
        return "threshold"
    return None


def worst(r: Any) -> str | None:
    """The patient's worst level over all totals ('limit', 'threshold' or None)."""
    levels = {level_of(t) for t in r.cumulative}
    return "limit" if "limit" in levels else "threshold" if "threshold" in levels else None


def passes(level: str | None, only: str | None) -> bool:
    """Whether something at ``level`` is shown under ``--only-over only`` (None: all)."""
    if only is None:
        return True
    return level == "limit" if only == "limit" else level is not None
