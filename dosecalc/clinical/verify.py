"""Verifying a written order: each line against the plan engine's dose for that
drug, cycle and day, then the whole order, then the prescriber's acknowledgements, then a verdict.

Independent recomputation means the same engine as ``plan``, never a copy of its arithmetic:
:func:`dosecalc.plan.make_plan` plans the order's cycle alone (``first_cycle``) from the patient
and the prior exposure, and everything it warns about (ceilings, single-dose guards, organ
function, lab gates, weight change, the regimen's own notes) comes with it. The lifetime totals
are then counted again with the doses as ordered (:func:`dosecalc.plan.assemble`), since those
are what the patient will be given.

The expected dose of a line is the plan's dose before rounding; a dose outside the tolerance
that is what the policy's rounding or banding gives (or its other neighbour within the rounding
tolerance) is ``ok`` and names the rule it matches.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dosecalc import __version__
from dosecalc.base import clock
from dosecalc.base.alerts import CRITICAL, INFO, SEVERITIES, WARNING, Alert
from dosecalc.base.errors import FileError, Problem
from dosecalc.base.numbers import fmt, runs, signed
from dosecalc.clinical import supportive as sp
from dosecalc.clinical.dosing import Dose, relative, usual_maximum_alert
from dosecalc.clinical.patient import Patient
from dosecalc.clinical.plan import (
    Plan,
    assemble,
    day_total_alerts,
    make_plan,
    organ_as_list,
    review_dict,
)
from dosecalc.clinical.policy import TOLERANCE_MAX_PERCENT, Policy
from dosecalc.clinical.schedule import Administration
from dosecalc.data import drugs
from dosecalc.data.order import ORDER, PHARMACIST, Acknowledgement, Order, OrderLine, date_of
from dosecalc.data.regimen import DoseSpec, Regimen, library_sha256

RELEASE, NOTES, HOLD = "release", "release-with-notes", "hold"
OK, OUTSIDE, NOT_IN_REGIMEN, WRONG_ROUTE, GIVEN_AS = (
    "ok",
    "outside-tolerance",
    "not-in-regimen",
    "wrong-route",
    "given-as",  # how it is given (bolus, infusion) not stated where it must be, or not the same
)


@dataclass(frozen=True)
class LineCheck:
    """One line of the order against the plan (``expected`` is None for a line not in it)."""

    line: OrderLine
    expected: Administration | None
    tolerance: float
    tolerance_from: str
    status: str
    trace: tuple[str, ...]
    rounding: str | None = None  # the rounding rule the ordered dose matches

    @property
    def expected_amount(self) -> float | None:
        return self.expected.dose.before_rounding if self.expected is not None else None

    @property
    def deviation(self) -> float | None:
        e = self.expected_amount
        return None if e is None else 100 * (self.line.amount - e) / e

    def as_dict(self) -> dict[str, object]:
        ln, a = self.line, self.expected
        return {
            "drug": ln.drug,
            "day": ln.day,
            "date": None,
            "route": ln.route,
            "ordered": ln.amount,
            "unit": ln.unit,
            "written": ln.written,
            "expected": self.expected_amount,
            "expected_after_rounding": a.dose.dose if a is not None else None,
            "expected_route": a.dose.route if a is not None else None,
            "for": a.dose.serves if a is not None else None,
            "deviation_percent": self.deviation,
            "tolerance_percent": self.tolerance,
            "tolerance_from": self.tolerance_from,
            "status": self.status,
            "rounding_rule": self.rounding,
            "where": ln.where,
            "trace": list(self.trace),
        }


@dataclass(frozen=True)
class Verification:
    order: Order
    regimen: Regimen
    plan: Plan  # the plan of the order's cycle (expected doses, lifetime totals as ordered)
    patient_from: str  # "command line" | "order"
    order_bsa_m2: float | None
    lines: list[LineCheck]
    missing: list[Administration]
    warnings: list[Alert]
    acknowledged: list[tuple[Alert, Acknowledgement]]
    checked_at: datetime
    tolerance_percent: float
    recorded: dict[str, Any] | None = field(default=None)
    pharmacist: tuple[Acknowledgement, ...] = ()  # the verifying pharmacist's (--acknowledge)

    @property
    def verdict(self) -> str:
        severities = {w.severity for w in self.warnings}
        return HOLD if CRITICAL in severities else NOTES if WARNING in severities else RELEASE

    @property
    def critical(self) -> bool:
        return self.verdict == HOLD

    def as_dict(self) -> dict[str, object]:
        from dosecalc.clinical import pgx

        r, o, p = self.regimen, self.order, self.plan
        patient = p.patient.as_dict()
        patient.update(
            genotype=pgx.as_dict(p.genotypes),
            measurements_from=self.patient_from,
            order_bsa_m2=self.order_bsa_m2,
            measured=o.patient.measured.isoformat() if o.patient.measured else None,
            id=o.patient.id,
        )
        lines = []
        for c in self.lines:
            d = c.as_dict()
            d["date"] = date_of(o.start, c.line.day).isoformat() if o.start else None
            lines.append(d)
        acks = [
            {**a.as_dict(), "matched": [w.code for w, x in self.acknowledged if x is a]}
            for a in o.acknowledged + self.pharmacist
        ]
        return {
            "dosecalc_version": __version__,
            "order": o.id,
            "verdict": self.verdict,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "order_file": {"path": o.source, "sha256": o.sha256, "format": o.format},
            "regimen": {
                "id": r.id,
                "name": r.name,
                "version": r.version,
                "version_ordered": o.regimen_version,
                **review_dict(r),  # review status and the file's SHA-256
                "cycle_length_days": r.cycle_length_days,
                "cycles": r.cycles,
                "cycle": o.cycle,
                "start": o.start.isoformat() if o.start else None,
                "sources": list(r.sources),
            },
            "patient": patient,
            "prescriber": o.prescriber,
            "tolerance_percent": self.tolerance_percent,
            "policy": p.policy.as_dict() if p.policy else None,
            "policy_file": p.policy.file_dict() if p.policy else None,
            "lines": lines,
            "missing": [
                {
                    "drug": a.dose.drug,
                    "day": a.day,
                    "date": a.date.isoformat(),
                    "route": a.dose.route,
                    "expected": a.dose.before_rounding,
                    "unit": a.dose.unit,
                }
                for a in self.missing
            ],
            "acknowledged": acks,
            "supportive_care": [
                {"kind": c.kind, "for": c.serves, "text": c.text, "where": c.where}
                for c in o.supportive_care
            ],
            "not_read": list(o.not_read),
            "labs": p.labs.as_list() if p.labs else [],
            "renal": p.kidney.as_dict() if p.kidney is not None else None,
            "organ_function": organ_as_list(p.organ, p.adjust_organ),
            "pharmacogenomics": pgx.as_list(p.pgx),
            "cumulative": [t.as_dict() for t in p.cumulative],
            "warnings": [w.as_dict() for w in self.warnings],
            **({"recorded": self.recorded} if self.recorded is not None else {}),
        }


# ---------------------------------------------------------------- tolerance and rounding


def tolerance_for(drug: str, patient: Patient, policy: Policy) -> tuple[float, str]:
    """The tolerance of one drug's lines and the policy value it comes from."""
    own = policy["verify.tolerance_percent_by_drug"]
    if drug in own:
        value, why = own[drug], f"verify.tolerance_percent_by_drug.{drug} = {fmt(own[drug])}"
    else:
        value, why = policy["verify.tolerance_percent"], policy.short("verify.tolerance_percent")
    child = policy["verify.tolerance_percent_child"]
    if child is not None and is_child(patient, policy) and child < value:
        value, why = child, f"{policy.short('verify.tolerance_percent_child')}, a child"
    return value, why


def is_child(patient: Patient, policy: Policy) -> bool:
    age = patient.age_years
    return age is not None and age < policy["weight.child_below_age_years"]  # one cut-off


def rounding_rule(ordered: float, dose: Dose, policy: Policy) -> str | None:
    """The policy rounding rule ``ordered`` follows for this dose, if it is one of the two amounts
    the rule offers around the dose before rounding (within the rule's own tolerance)."""
    from dosecalc.clinical import rounding
    from dosecalc.data import drugs

    if dose.basis == "flat":
        return None
    drug = drugs.lookup(dose.drug)
    return rounding.rule_for(
        ordered, dose.before_rounding, drug.name, drug.drug_class, dose.unit, dose.cap, policy
    )


# ---------------------------------------------------------------- the comparison


def verify(
    order: Order,
    regimen: Regimen,
    patient: Patient,
    policy: Policy,
    *,
    patient_from: str,
    order_bsa_m2: float | None = None,
    history: Any = (),
    notices: Any = (),
    names: Any = (),
    factors: Any = None,
    equivalence: str | None = None,
    today: date | None = None,
    plan_options: dict[str, Any] | None = None,
    consulted: Any = None,
    pharmacist: tuple[Acknowledgement, ...] = (),
) -> Verification:
    """Check ``order`` (one cycle of ``regimen``) for ``patient``; ``history`` rows are the prior
    lifetime exposure (files, --prior and the ledger), ``notices`` what reading them found,
    ``names`` the abbreviations their drug names were read through (the order's own lines are
    added here). ``plan_options`` are passed to make_plan as they are (e.g. labs)."""
    assert order.cycle is not None and order.start is not None
    today = today or clock.today()
    order = with_auc_amounts(order, patient, policy, (plan_options or {}).get("labs"))
    expected_plan = make_plan(
        regimen,
        patient,
        start=order.start,
        cycles=1,
        first_cycle=order.cycle,
        history=history,
        factors=factors,
        equivalence=equivalence,
        policy=policy,
        notices=notices,
        names=[*names, *order_names(order)],
        today=today,
        consulted=consulted,
        **(plan_options or {}),
    )
    checks, missing, line_alerts = compare(order, regimen, expected_plan, patient, policy)
    given = _as_ordered(
        expected_plan, checks, patient, history, factors, equivalence, policy, consulted
    )
    # the lifetime totals are the order's (as ordered), never the recomputed plan's: its
    # ceilings' alerts, and the total a LIFETIME_EXPOSURE_UNKNOWN names
    ceiling = set(expected_plan.result.alerts)
    unknown = "LIFETIME_EXPOSURE_UNKNOWN"
    # the routes are judged as ordered (each line's, _route_alerts), not the regimen's lines
    skip = {unknown, drugs.ROUTE_IT_CODE, drugs.ROUTE_CODE}
    warnings = [w for w in expected_plan.warnings if w not in ceiling and w.code not in skip]
    warnings += [w for w in given.warnings if w.code == unknown]
    warnings += given.result.alerts + line_alerts + _route_alerts(order, checks)
    warnings += _guards(checks, expected_plan, patient)
    warnings += _day_totals(checks, expected_plan, patient)
    warnings += _order_alerts(order, regimen, patient, policy, patient_from, order_bsa_m2, today)
    warnings += _history_alerts(order, regimen, history)
    acks = order.acknowledged + tuple(pharmacist)
    warnings, acknowledged = acknowledge(warnings, acks, policy, pharmacist_only(checks, missing))
    warnings.sort(key=lambda w: SEVERITIES.index(w.severity), reverse=True)  # most severe first
    plan = replace(
        given,
        warnings=[],
        projection=[],
        labs=expected_plan.labs,
        kidney=expected_plan.kidney,
        organ=expected_plan.organ,
        adjust_organ=expected_plan.adjust_organ,
        genotypes=expected_plan.genotypes,
        pgx=expected_plan.pgx,
    )
    return Verification(
        order,
        regimen,
        plan,
        patient_from,
        order_bsa_m2,
        checks,
        missing,
        warnings,
        acknowledged,
        datetime.now(UTC),
        tolerance_for("", patient, policy)[0],
        pharmacist=tuple(pharmacist),
    )


def with_auc_amounts(order: Order, patient: Patient, policy: Policy, labs: Any = None) -> Order:
    """The order with each line written as a target AUC (carboplatin ``AUC 6``) turned into the
    mg it means for this patient: Calvert, AUC × (GFR + 25), with the GFR the plan uses (--gfr,
    a measured --lab crcl, or Cockcroft-Gault under the policy's weight, floor and cap). The
    line is then compared with the plan's dose like any other; its trace shows the sum."""
    if not any(ln.auc is not None for ln in order.lines):
        return order
    from dosecalc.clinical import renal

    crcl = labs.latest("crcl") if labs else None
    gfr = renal.for_calvert(patient, policy, crcl.value if crcl else None).gfr_ml_min
    lines = tuple(
        replace(
            ln,
            amount=ln.auc * (gfr + 25.0),
            unit="mg",
            written=f"{ln.written} (Calvert: AUC {fmt(ln.auc)} × (GFR {fmt(gfr)} + 25))",
        )
        if ln.auc is not None
        else ln
        for ln in order.lines
    )
    return replace(order, lines=lines)


def order_names(order: Order) -> list[drugs.NameRead]:
    """The abbreviations the order's lines name their drugs with (ABBREVIATION_READ)."""
    return drugs.names_read((ln.given_as or ln.drug, None, None, ln.where) for ln in order.lines)


def compare(
    order: Order, regimen: Regimen, plan: Plan, patient: Patient, policy: Policy
) -> tuple[list[LineCheck], list[Administration], list[Alert]]:
    """Each line against the plan's dose for its drug and day; what is missing; their warnings."""
    expected: dict[tuple[str, int], list[Administration]] = defaultdict(list)
    for a in plan.administrations:
        expected[(a.dose.drug, a.day)].append(a)
    grouped: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, ln in enumerate(order.lines):
        grouped[(ln.drug, ln.day)].append(i)
    pairs: dict[int, Administration] = {}
    covers: dict[int, list[int]] = {}  # a day total of a supportive line's doses → its doses
    ways: dict[tuple[str, int], str] = {}  # a drug and day the regimen gives in several ways
    swapped: dict[int, Administration] = {}  # a supportive dose → it, following the order
    follows: dict[tuple[str, int], str] = {}  # such a line's day → what it follows, in words
    # the lines a supportive line serves are paired first: mesna follows ifosfamide as ordered
    dependent = {k for k, v in expected.items() if any(a.dose.protocol.relative for a in v)}
    for key in sorted(grouped, key=lambda k: k in dependent):
        indices = grouped[key]
        if key in dependent:
            before = expected[key]
            expected[key], why = _following(order, regimen, before, pairs, patient, policy)
            swapped |= {id(o): n for o, n in zip(before, expected[key], strict=True) if n is not o}
            if why:
                follows[key] = why
        options, combined = sp.combine_parts(expected.get(key, []), len(indices))
        covers.update(combined)
        ranked = sorted(
            (
                not _fits(order.lines[i], a),  # a line that says how it is given, with its kind
                abs(math.log(order.lines[i].amount / a.dose.before_rounding)),
                i,
                j,
            )
            for i in indices
            for j, a in enumerate(options)
        )
        if len({_way(a.dose.infusion) for a in options}) > 1:
            ways[key] = ", ".join(
                f"{a.dose.infusion.kind() if a.dose.infusion else 'as written'} "
                f"({fmt(a.dose.dose)} {a.dose.unit})"
                for a in options
            )
        taken_l: set[int] = set()
        taken_e: set[int] = set()
        for *_, i, j in ranked:
            if i not in taken_l and j not in taken_e:
                pairs[i] = options[j]
                taken_l.add(i)
                taken_e.add(j)
    matched = {x for a in pairs.values() for x in covers.get(id(a), [id(a)])}
    given = [swapped.get(id(a), a) for a in plan.administrations]
    missing = [a for a in given if id(a) not in matched]
    extra = [i for i in range(len(order.lines)) if i not in pairs]
    checks: list[LineCheck | None] = [None] * len(order.lines)
    alerts: list[Alert] = []
    for i, a in pairs.items():
        ln = order.lines[i]
        check, more = _check_line(order, ln, a, patient, policy, follows.get((ln.drug, ln.day), ""))
        given_as = _given_as(order, ln, a, ways.get((ln.drug, ln.day)))
        checks[i] = replace(check, status=GIVEN_AS) if given_as and check.status == OK else check
        alerts += more + given_as
    absorbed: set[int] = set()
    for i in extra:
        ln = order.lines[i]
        if sp.is_antiemetic(ln, regimen):
            tol, why = tolerance_for(ln.drug, patient, policy)
            checks[i] = LineCheck(ln, None, tol, why, sp.ANTIEMETIC, sp.antiemetic_trace(ln))
            continue
        check, alert, used = _unexpected(order, regimen, ln, missing, absorbed, patient, policy)
        checks[i] = check
        alerts.append(alert)
        absorbed |= used
    alerts = _swapped(order, checks, alerts)
    held, rest = sp.missing_lines(order, [a for a in missing if id(a) not in absorbed])
    alerts += held + _missing_alerts(order, rest) + sp.missing_care(order, regimen)
    alerts += sp.antiemetic_alerts(order, plan.emetogenic)
    return [c for c in checks if c is not None], missing, alerts


def _following(
    order: Order,
    regimen: Regimen,
    options: list[Administration],
    pairs: dict[int, Administration],
    patient: Patient,
    policy: Policy,
) -> tuple[list[Administration], str]:
    """A supportive line's doses of a day (mesna: a share of ifosfamide's dose), made again
    from the dose the order gives the line they serve where that is outside its tolerance (an
    ifosfamide raised by half, with the prescriber's acknowledgement): the label keeps the
    ratio when the dose changes, so the regimen's recomputed mesna would be too little. Also
    what they follow, in words ('' where none was made again)."""
    made: dict[tuple[int, int], Dose] = {}
    out = []
    why = ""
    for a in options:
        if not a.dose.protocol.relative:
            out.append(a)
            continue
        served = [
            (order.lines[i], b)
            for i, b in pairs.items()
            if b.dose.drug == a.serves and b.day == sp.served_day(a) and not b.dose.serves
        ]
        line = next(
            (o for o in regimen.drugs if o.drug == a.dose.drug and o.protocol == a.dose.protocol),
            None,
        )
        if not served or line is None:
            out.append(a)
            continue
        ordered = sum(ln.amount for ln, _ in served)
        planned = sum(b.dose.before_rounding for _, b in served)
        tol, _ = tolerance_for(served[0][1].dose.drug, patient, policy)
        if abs(ordered / planned - 1) * 100 <= tol + 1e-9:
            out.append(a)
            continue
        key = (id(a.dose), sp.served_day(a))
        if key not in made:
            first = served[0][1].dose
            ratio = ordered / sum(b.dose.dose for _, b in served)
            own = a.dose.modification
            dose = relative(line, replace(first, dose=first.dose * ratio), own)
            why = (
                f"{a.serves} as ordered: {fmt(ordered)} {first.unit} on day {sp.served_day(a)} "
                f"({', '.join(ln.where for ln, _ in served)}), not the {fmt(planned)} "
                f"{first.unit} recomputed, as the ratio is kept when that dose changes"
            )
            made[key] = replace(dose, trace=(*dose.trace, why))
        out.append(replace(a, dose=made[key]))
    return out, why


def _way(infusion: Any) -> tuple[str, float | None] | None:
    """How a dose is given, as verify compares it: a structured infusion's type and hours."""
    if infusion is None or infusion.type is None:
        return None
    return infusion.type, None if infusion.duration is None else round(infusion.duration, 6)


def _fits(ln: OrderLine, a: Administration) -> bool:
    """Whether how the line says it is given (if it says) agrees with the regimen line's."""
    said, given = _way(ln.infusion), _way(a.dose.infusion)
    if said is None or given is None:
        return True
    return said[0] == given[0] and (None in (said[1], given[1]) or said[1] == given[1])


def _given_as(order: Order, ln: OrderLine, a: Administration, ways: str | None) -> list[Alert]:
    """A line whose stated way of giving differs from the regimen line it was paired with, or
    that does not say it where the regimen gives its drug on that day in several ways (a bolus
    and a 46-h infusion of fluorouracil): the pairing by amount alone proves nothing of which
    is given how, and the amounts of a bolus and an infusion swapped would pass."""
    where = _where(order, ln.day, ln.drug)
    if not _fits(ln, a):
        return [
            Alert(
                CRITICAL,
                "ORDER_GIVEN_AS_DIFFERS",
                f"{ln.drug} day {ln.day}: the order's line ({ln.where}) says "
                f"{ln.infusion.kind()}; the regimen gives the {fmt(a.dose.dose)} {a.dose.unit} "
                f"dose it matches as {a.dose.infusion.kind()}",
                **where,
            )
        ]
    if ways is None or ln.infusion is not None:
        return []
    return [
        Alert(
            CRITICAL,
            "ORDER_GIVEN_AS_NOT_STATED",
            f"{ln.drug} day {ln.day}: the regimen gives it in several ways ({ways}), and the "
            f"order's line ({ln.where}) does not say which it is: paired by its amount with "
            f"{a.dose.infusion.kind() if a.dose.infusion else 'the line as written'}; state it "
            "on the line (infusion: {type: bolus} or {type: continuous, duration: 46 h})",
            **where,
        )
    ]


def _where(order: Order, day: int | None, drug: str | None) -> dict[str, Any]:
    when = date_of(order.start, day) if order.start and day else None
    return {"drug": drug, "phase": 1, "cycle": order.cycle, "day": day, "date": when}


def _check_line(
    order: Order,
    ln: OrderLine,
    a: Administration,
    patient: Patient,
    policy: Policy,
    follows: str = "",
) -> tuple[LineCheck, list[Alert]]:
    d = a.dose
    tol, why = tolerance_for(ln.drug, patient, policy)
    expected = d.before_rounding
    deviation = 100 * (ln.amount - expected) / expected
    trace = list(d.trace)
    if d.rounding:
        trace.append(f"expected before rounding: {fmt(expected)} {d.unit}")
    amount = f"{fmt(ln.amount)} {ln.unit}"
    shown = ln.written if ln.written == amount else f"{ln.written} = {amount}"
    trace.append(
        f"ordered {shown} ({ln.where}): {signed(deviation, levels=(tol,))} from {fmt(expected)} {d.unit}; "
        f"tolerance {fmt(tol)} % ({why})"
    )
    rule = rounding_rule(ln.amount, d, policy)
    alerts: list[Alert] = []
    status = OK
    if abs(deviation) > tol + 1e-9:
        if rule is not None:
            trace.append(f"outside the tolerance, but it is the policy's rounding: {rule}")
        else:
            status = OUTSIDE
            alerts.append(
                Alert(
                    CRITICAL,
                    "ORDER_DOSE_DEVIATION",
                    f"{ln.drug} day {ln.day}: ordered {fmt(ln.amount)} {ln.unit} is "
                    f"{signed(deviation, levels=(tol,))} from the {fmt(expected)} {d.unit} recomputed "
                    f"({d.protocol_text}{f'; {follows}' if follows else ''}{_adjusted(d)}{', capped at max_dose' if d.capped and not d.capped_first else ''}), outside "
                    f"the ±{fmt(tol)} % tolerance ({why}){_slip(ln.amount / expected)}; the "
                    "prescriber must confirm or correct it",
                    **_where(order, ln.day, ln.drug),
                )
            )
    elif rule is not None:
        trace.append(f"matches the policy's rounding: {rule}")
    if ln.route is not None and drugs.route_key(ln.route) != drugs.route_key(d.route):
        alerts.append(
            Alert(
                CRITICAL,
                "ORDER_ROUTE_MISMATCH",
                f"{ln.drug} day {ln.day}: ordered {ln.route}, the regimen gives it {d.route}"
                + (f"; {fatal}" if (fatal := drugs.wrong_route(ln.drug, ln.route)) else ""),
                **_where(order, ln.day, ln.drug),
            )
        )
        status = status if status != OK else WRONG_ROUTE
        trace.append(f"route: ordered {ln.route}, the regimen's is {d.route}")
    elif ln.route is None:
        trace.append(f"route not written on the order; the regimen's is {d.route}")
    return LineCheck(ln, a, tol, why, status, tuple(trace), rule), alerts


# A dose this many times the recomputed one (within 3 %) is a decimal or unit slip, in words
SLIPS = {
    10.0: "ten times the dose",
    100.0: "a hundred times the dose",
    1000.0: "a thousand times the dose",
    0.1: "a tenth of it",
    0.01: "a hundredth of it",
    0.001: "a thousandth of it",
}


def slip_words(ratio: float) -> str | None:
    """'ten times the dose', 'a tenth of it', … when the ordered dose is a power of ten (10,
    100, 1,000, or a tenth...) of the recomputed one, within 3 %: a suspected decimal or unit
    slip (the one rule for the deviation's words and for who may acknowledge it)."""
    for factor, words in SLIPS.items():
        if abs(ratio / factor - 1) <= 0.03:
            return words
    return None


def _slip(ratio: float) -> str:
    """' (decimal or unit slip? ten times the dose)' for a suspected slip, else ''."""
    words = slip_words(ratio)
    return f" (decimal or unit slip? {words})" if words else ""


def _swapped(order: Order, checks: list[LineCheck | None], alerts: list[Alert]) -> list[Alert]:
    """Two lines of one day each outside its tolerance whose doses are the other's recomputed
    dose: the deviations say "swapped with X?"."""
    outside = [c for c in checks if c is not None and c.status == OUTSIDE and c.expected_amount]
    hints: dict[tuple[str, int], str] = {}
    for a in outside:
        for b in outside:
            if a is b or a.line.day != b.line.day or a.line.drug == b.line.drug:
                continue
            ea, eb = a.expected_amount, b.expected_amount
            if (
                abs(a.line.amount / eb - 1) * 100 <= b.tolerance + 1e-9
                and abs(b.line.amount / ea - 1) * 100 <= a.tolerance + 1e-9
            ):
                hints[(a.line.drug, a.line.day)] = (
                    f"; swapped with {b.line.drug}? the order's {fmt(a.line.amount)} "
                    f"{a.line.unit} is {b.line.drug}'s recomputed dose"
                )
    return [
        replace(w, message=w.message + hints[(w.drug or "", w.day or 0)])
        if w.code == "ORDER_DOSE_DEVIATION" and (w.drug or "", w.day or 0) in hints
        else w
        for w in alerts
    ]


def _adjusted(d: Dose) -> str:
    """The percentages the expected dose carries, for the deviation's message."""
    out = f", capped at max_dose {fmt(d.cap)} {d.unit} first" if d.capped_first else ""
    if d.organ_percent is not None:
        out += f" × {fmt(d.organ_percent)} % for organ function"
    if d.pgx_percent is not None:
        g = d.pgx.genotype
        out += f" × {fmt(d.pgx_percent)} % for {d.pgx.gene} {g.given} (PGX_DOSE_ADJUSTMENT)"
    return out


def _unexpected(
    order: Order,
    regimen: Regimen,
    ln: OrderLine,
    missing: list[Administration],
    absorbed: set[int],
    patient: Patient,
    policy: Policy,
) -> tuple[LineCheck, Alert, set[int]]:
    """A line the plan of this cycle does not give: why, and the missing dose it may stand for
    (the same drug on another day: a wrong day)."""
    tol, why = tolerance_for(ln.drug, patient, policy)
    orders = [o for o in regimen.drugs if o.drug == ln.drug]
    used: set[int] = set()
    if not orders:
        reason = f"{ln.drug} is not part of {regimen.id}"
        kind = drugs.lookup(ln.drug).drug_class
        alike = [
            a
            for a in missing
            if a.day == ln.day
            and id(a) not in absorbed
            and drugs.lookup(a.dose.drug).drug_class == kind
        ]
        if alike:
            other = alike[0]
            used.add(id(other))
            reason += (
                f"; the order has no day-{ln.day} line of {other.dose.drug}, another {kind} "
                f"(look-alike or substitution?), which is {fmt(other.dose.before_rounding)} "
                f"{other.dose.unit}"
            )
    elif not any(o.given_in(order.cycle or 1) for o in orders):
        cycles = ", ".join(_cycles_text(o.cycles) for o in orders)
        reason = f"{regimen.id} gives {ln.drug} in cycle{'s' if '-' in cycles else ''} {cycles}, not in cycle {order.cycle}"
    else:
        given = [o for o in orders if o.given_in(order.cycle or 1)]
        days = sorted({d for o in given for d in o.doses_by_day()})  # dated by at_hours
        instead = [a for a in missing if a.dose.drug == ln.drug and id(a) not in absorbed]
        if ln.day not in days:
            reason = (
                f"{regimen.id} gives {ln.drug} on day{'s' if len(days) > 1 else ''} "
                f"{runs(days)} of the cycle, not on day {ln.day}"
            )
            if instead:
                used.add(id(instead[0]))
                reason += (
                    f"; the order has no day-{instead[0].day} line of it (wrong day?), "
                    f"which is {fmt(instead[0].dose.before_rounding)} {instead[0].dose.unit}"
                )
        else:
            # each line's timed doses on that day count (mesna at 0, 4 and 8 h: 3 a day)
            n = sum(o.doses_by_day().get(ln.day, 0) for o in given)
            reason = (
                f"a further line of {ln.drug} on day {ln.day}: {regimen.id} gives it "
                f"{'once' if n == 1 else f'{n} times'} that day, and the order already has "
                f"{'that' if n == 1 else 'those'}"
            )
    if ln.route and (fatal := drugs.wrong_route(ln.drug, ln.route)):
        reason += f"; {fatal}"
    alert = Alert(
        CRITICAL,
        "ORDER_LINE_UNEXPECTED",
        f"{ln.drug} {fmt(ln.amount)} {ln.unit} on day {ln.day} ({ln.where}): {reason}",
        **_where(order, ln.day, ln.drug),
    )
    trace = (f"ordered {ln.written} ({ln.where})", reason)
    return LineCheck(ln, None, tol, why, NOT_IN_REGIMEN, trace), alert, used


def _cycles_text(cycles: tuple[int, int | None] | None) -> str:
    if cycles is None:
        return "all"
    first, last = cycles
    return f"{first}-" if last is None else (f"{first}" if first == last else f"{first}-{last}")


def _missing_alerts(order: Order, missing: list[Administration]) -> list[Alert]:
    by_drug: dict[str, list[Administration]] = defaultdict(list)
    for a in missing:
        by_drug[a.dose.drug].append(a)
    out = []
    for drug, items in by_drug.items():
        days = sorted({a.day for a in items})
        doses = sorted({fmt(a.dose.before_rounding) for a in items})
        first = items[0]
        out.append(
            Alert(
                CRITICAL,
                "ORDER_LINE_MISSING",
                f"{drug} on day{'s' if len(days) > 1 else ''} {runs(days)} "
                f"({' / '.join(doses)} {first.dose.unit}) is not on the order: the order does "
                "not account for every dose of the cycle. Omitted on purpose? Only the verifying "
                f"pharmacist can release it (--acknowledge ORDER_LINE_MISSING:{drug}=REASON "
                "--by NAME)",
                **_where(order, first.day, drug),
            )
        )
    return out


def _flat(ln: OrderLine, infusion: Any = None, route: str = "") -> Dose:
    """An ordered amount as a dose (for lifetime totals and the single-dose guard; given as
    ``infusion`` and by ``route``, the regimen line's, where the order line matches one and does
    not say)."""
    spec = DoseSpec(ln.amount, ln.unit, "flat", ln.written)
    return Dose(
        ln.drug,
        ln.route or route,
        "flat",
        spec,
        ln.amount,
        ln.amount,
        False,
        ln.amount,
        ln.unit,
        (),
        infusion=infusion,
    )


def _as_ordered(
    plan: Plan,
    checks: list[LineCheck],
    patient: Patient,
    history: Any,
    factors: Any,
    equivalence: str | None,
    policy: Policy,
    consulted: Any = None,
) -> Plan:
    """The lifetime totals with the doses as ordered (the plan engine's own assembly)."""
    given = []
    for c in checks:
        ln = c.line
        if c.status == sp.ANTIEMETIC or (c.expected is not None and c.expected.dose.serves):
            continue  # supportive care: no lifetime total
        when = date_of(plan.start, ln.day)
        regimen = plan.regimen.id if plan.regimen else ""
        cycle = (
            c.expected.cycle
            if c.expected
            else plan.administrations[0].cycle
            if plan.administrations
            else 1
        )
        given.append(Administration(1, cycle, ln.day, when, regimen, _flat(ln)))
    return assemble(
        patient, plan.phases, given, [], history, factors, equivalence, None, policy,
        consulted=consulted,
    )  # fmt: skip


def _guarded(plan: Plan) -> set[tuple[str | None, int | None]]:
    """The drugs and days whose planned doses already went above their usual maximum."""
    codes = ("DOSE_ABOVE_USUAL_MAXIMUM", "DOSE_GUARD_UNVERIFIED")
    return {(w.drug, w.day) for w in plan.warnings if w.code in codes}


def _ordered_dose(c: LineCheck) -> Dose:
    """A line's dose as ordered, given as the line says (its infusion, its route), else as the
    regimen line it matches, else by the drug data's route (the single-dose guard holds a dose
    to its route's maximum where the drug data has one: ondansetron IV)."""
    infusion = c.line.infusion or (c.expected.dose.infusion if c.expected else None)
    route = c.expected.dose.route if c.expected else drugs.lookup(c.line.drug).route
    return _flat(c.line, infusion, route)


def _route_alert(order: Order, c: LineCheck) -> Alert | None:
    """A line's route against its drug's labels (drugs.route_alert, as a regimen's line is
    judged): the route as ordered, else the regimen line's it matches, else the drug's own."""
    route = _ordered_dose(c).route
    where = {k: v for k, v in _where(order, c.line.day, None).items() if k != "drug"}
    return drugs.route_alert(c.line.drug, route, c.line.where, **where)


def _route_alerts(order: Order, checks: list[LineCheck]) -> list[Alert]:
    """ROUTE_INTRATHECAL_NOT_LABELLED and ROUTE_NOT_LABELLED of the order's lines."""
    return [a for c in checks if (a := _route_alert(order, c)) is not None]


def _guards(checks: list[LineCheck], plan: Plan, patient: Patient) -> list[Alert]:
    """The single-dose guard on each dose as ordered, where the plan's own dose passed it."""
    flagged = _guarded(plan)
    out = []
    for c in checks:
        ln = c.line
        if (ln.drug, ln.day) in flagged:
            continue
        where = dict(
            drug=ln.drug,
            phase=1,
            cycle=c.expected.cycle if c.expected else None,
            day=ln.day,
            date=date_of(plan.start, ln.day),
        )
        above = usual_maximum_alert(
            _ordered_dose(c), patient, plan.policy, where, "as ordered: ", _written_to(ln)
        )
        if above is not None:
            flagged.add((ln.drug, ln.day))
            out.append(above)
    return out


def _day_totals(checks: list[LineCheck], plan: Plan, patient: Patient) -> list[Alert]:
    """The single-dose guard on each day's total of a drug as ordered (plan.day_total_alerts),
    where the plan's own doses did not already go above it that day."""
    flagged = _guarded(plan)
    regimen = plan.regimen.id if plan.regimen else ""
    given = []
    for c in checks:
        ln = c.line
        if (ln.drug, ln.day) in flagged or c.status == sp.ANTIEMETIC:
            continue
        cycle = c.expected.cycle if c.expected else 1
        when = date_of(plan.start, ln.day)
        dose = replace(_ordered_dose(c), note=ln.where)  # the line, where it was written
        given.append(Administration(1, cycle, ln.day, when, regimen, dose))
    return day_total_alerts(given, patient, plan.policy, "as ordered: ")


def _written_to(ln: OrderLine) -> float:
    """Half the last digit of a dose as written, in the dose's unit (221.36 mg: 0.005 mg;
    0.22136 g: 0.005 mg too); 0 where the text does not show its digits plainly."""
    import re

    found = re.fullmatch(r"\s*(\d+)(?:\.(\d*))?\s*[^\d.eE+-].*", ln.written)
    if found is None:
        return 0.0
    number = float(found[1] + "." + (found[2] or ""))
    half = 0.5 * 10.0 ** -len(found[2] or "")
    return ln.amount * half / number if number > 0 else 0.0


def _order_alerts(
    order: Order,
    regimen: Regimen,
    patient: Patient,
    policy: Policy,
    patient_from: str,
    order_bsa: float | None,
    today: date,
) -> list[Alert]:
    """The order as a whole: its BSA, the age of its measurements, version, cycle, what a
    bundle did not say."""
    out: list[Alert] = []
    m = order.patient
    tol, why = tolerance_for("", patient, policy)
    start = order.start
    assert start is not None
    if patient_from == "order":
        out.append(
            Alert(
                INFO,
                "ORDER_MEASUREMENTS_FROM_ORDER",
                "no current measurements were given, so the doses were recomputed from the "
                "order's own measurements: only the arithmetic and the protocol were checked, "
                "not the measurements (give --height and --weight, or --bsa)",
            )
        )
    if order_bsa is not None and patient.bsa_m2:
        diff = 100 * (order_bsa - patient.bsa_m2) / patient.bsa_m2
        if abs(diff) > tol + 1e-9:
            if patient.bsa_formula == "given":
                against = f"the given {patient.bsa_m2:.2f} m²"
            else:
                whose = "the current" if patient_from == "command line" else "the order's own"
                against = (
                    f"the {patient.bsa_m2:.2f} m² that {whose} height and weight give "
                    f"({patient.bsa_formula})"
                )
            out.append(
                Alert(
                    CRITICAL,
                    "ORDER_BSA_MISMATCH",
                    f"the order's BSA {order_bsa:.2f} m² is {signed(diff, levels=(tol,))} from {against}, "
                    f"outside the ±{fmt(tol)} % tolerance ({why})",
                )
            )
    if m.measured is not None:
        if m.measured > today:
            raise FileError(
                Problem(
                    f"the measurements are dated {m.measured}, after today ({today})",
                    field="patient.measured",
                    file=order.source,
                    line=order.line_of("patient.measured"),
                )
            )
        age = (start - m.measured).days
        limit = policy["verify.measurement_max_age_days"]
        if age > limit and patient_from != "order":
            out.append(
                Alert(
                    INFO,
                    "ORDER_MEASUREMENTS_OLD",
                    f"the order's measurements were taken on {m.measured}, {age} days before "
                    f"day 1; the doses were checked against the current ones given",
                )
            )
        elif age > limit:
            out.append(
                Alert(
                    WARNING,
                    "MEASUREMENT_STALE",
                    f"the order's measurements were taken on {m.measured}, {age} days before "
                    f"day 1 ({start}): more than {fmt(limit)} days "
                    f"({policy.describe('verify.measurement_max_age_days')}); weigh the patient "
                    "again and recalculate",
                )
            )
    elif m.any_size and patient_from == "order":
        out.append(
            Alert(
                WARNING,
                "MEASUREMENT_UNDATED",
                "the order does not say when its height and weight were measured ("
                + (
                    "its Observations carry no effectiveDateTime"
                    if order.format == "fhir"
                    else "patient.measured"
                )
                + "), so their age could not be checked",
            )
        )
    if order.regimen_version is not None and order.regimen_version != regimen.version:
        out.append(
            Alert(
                CRITICAL,
                "ORDER_REGIMEN_VERSION_MISMATCH",
                f"the order was written from {regimen.id} version {order.regimen_version}; the "
                f"regimen it is checked against is version {regimen.version or '(none given)'} "
                f"(sha256 {(regimen.sha256 or '?')[:12]}): the doses were recomputed from a "
                "protocol the prescriber may not have used. Compare the two versions "
                f"(dosecalc regimens diff OLD.yaml {regimen.id}) and have the order rewritten "
                "from the version in force",
            )
        )
    library = library_sha256(regimen.id)
    if library is not None and regimen.sha256 is not None and library != regimen.sha256:
        out.append(
            Alert(
                CRITICAL,
                "ORDER_REGIMEN_VERSION_MISMATCH",
                f"the order names a regimen file with the id {regimen.id} (sha256 "
                f"{regimen.sha256[:12]}…) that is not the library's {regimen.id} (sha256 "
                f"{library[:12]}…): the doses were recomputed from a protocol that is not the one "
                f"in force. Compare them (dosecalc regimens diff FILE {regimen.id}); verify "
                f"against the library's (regimen: {regimen.id}), or give the file an id of its "
                "own if it is another protocol",
            )
        )
    if order.regimen_sha256 is not None and order.regimen_sha256 != regimen.sha256:
        out.append(
            Alert(
                CRITICAL,
                "ORDER_REGIMEN_VERSION_MISMATCH",
                f"the order was written from a regimen file with SHA-256 "
                f"{order.regimen_sha256[:12]}…; {regimen.id}'s file is now "
                f"{(regimen.sha256 or '?')[:12]}…: it changed since. Compare the two "
                f"(dosecalc regimens diff OLD.yaml {regimen.id}) and have the order rewritten "
                "from the file in force",
            )
        )
    if order.cycle and order.cycle > regimen.cycles:
        out.append(
            Alert(
                CRITICAL,
                "ORDER_CYCLE_UNKNOWN",
                f"this order is for cycle {order.cycle}; {regimen.id} has "
                f"{regimen.cycles} cycle{'s' if regimen.cycles != 1 else ''}: a cycle the "
                "regimen does not have. Only the verifying pharmacist can release it "
                "(--acknowledge ORDER_CYCLE_UNKNOWN=REASON --by NAME), e.g. when the protocol "
                "continues beyond the regimen's cycles",
                cycle=order.cycle,
            )
        )
    if order.start_assumed:
        out.append(
            Alert(
                WARNING,
                "ORDER_START_ASSUMED",
                f"the bundle does not number its days: day 1 is taken as its first date, {start} "
                "(give --start if the cycle began earlier)",
            )
        )
    child = policy["verify.tolerance_percent_child"]
    adult = [
        policy["verify.tolerance_percent"],
        *policy["verify.tolerance_percent_by_drug"].values(),
    ]
    if patient.age_years is None and child is not None and any(t > child for t in adult):
        # only where a child's tolerance is tighter than an adult one (the defaults are equal)
        out.append(
            Alert(
                WARNING,
                "VERIFY_AGE_UNKNOWN",
                "the policy sets a tolerance for children (verify.tolerance_percent_child) but "
                "the patient's age is not known, so the adult tolerance was used (give --age)",
            )
        )
    out += [
        Alert(
            CRITICAL,
            "ORDER_STATUS_NOT_ACTIVE",
            f"{text}: not an active order (only active or draft requests are given): confirm "
            "with the prescriber which doses stand",
        )
        for text in order.inactive
    ]
    out += [Alert(INFO, "ORDER_FIELD_NOT_CHECKED", text) for text in order.not_read]
    return out


def _history_alerts(order: Order, regimen: Regimen, history: Any) -> list[Alert]:
    """The interval since the last cycle of this regimen in the ledger or history, and a cycle
    number already recorded."""
    start = order.start
    assert start is not None
    length = regimen.cycle_length_days
    last_days = {o.drug: max(o.days) for o in regimen.drugs}
    best: tuple[date, str] | None = None
    repeat: tuple[date, str] | None = None
    for r in history:
        if r.date is None or r.drug not in last_days:
            continue
        tagged = r.regimen is not None and r.regimen.strip().lower() == regimen.id
        if r.regimen is not None and not tagged:
            continue  # another regimen's administration of the same drug
        if tagged and r.day is not None:
            first = r.date - timedelta(days=r.day - 1)
        else:  # the earliest its cycle can have begun: never a false alarm
            first = r.date - timedelta(days=last_days[r.drug] - 1)
        if first < start and (best is None or first > best[0]):
            best = (first, r.where)
        if (
            tagged
            and r.cycle == order.cycle
            and start - timedelta(days=length * (order.cycle or 1))
            <= r.date
            <= start + timedelta(days=length)
        ):
            repeat = repeat or (r.date, r.where)
    out = []
    if (order.cycle or 1) > 1:
        from dosecalc.data import ceilings

        book = ceilings.book()
        counted = {r.drug for r in history}
        unknown = sorted(
            {
                o.drug
                for o in regimen.drugs
                if o.drug not in counted and book.unit(o.drug) is not None
            }
        )
        if unknown:
            out.append(
                Alert(
                    WARNING,
                    "PRIOR_EXPOSURE_UNKNOWN",
                    f"this is cycle {order.cycle}, but no earlier dose of {', '.join(unknown)} "
                    "was given (--patient, --history or --prior): the lifetime totals count "
                    "this cycle only",
                )
            )
    if best is not None and (start - best[0]).days < length:
        gap = (start - best[0]).days
        out.append(
            Alert(
                WARNING,
                "SHORT_INTERVAL",
                f"{regimen.id} cycle {order.cycle} starts {gap} days after the last cycle "
                f"recorded (its day 1 on or after {best[0]}, {best[1]}), sooner than its "
                f"{length}-day cycle length",
                phase=1,
                cycle=order.cycle,
                day=1,
                date=start,
            )
        )
    if repeat is not None:
        out.append(
            Alert(
                WARNING,
                "ORDER_CYCLE_RECORDED",
                f"cycle {order.cycle} of {regimen.id} is already recorded as given "
                f"({repeat[1]}, {repeat[0]}): is this order a repeat?",
                phase=1,
                cycle=order.cycle,
            )
        )
    return out


# ---------------------------------------------------------------- acknowledgements


# Only the verifying pharmacist releases a dose at twice the recomputed one or more, or a tenth
# or less: "twice" and "a tenth" within TOLERANCE_MAX_PERCENT (10 %), the most any policy may
# allow a dose to move by rounding, banding or tolerance, so that a doubled dose rounded down
# (1.997 ×, or 1.9 × after a 5 % band) is still a doubled dose: 1.8 × or more, 0.11 × or less.
SLIP_MARGIN = TOLERANCE_MAX_PERCENT / 100
SLIP = (0.1 * (1 + SLIP_MARGIN), 2.0 * (1 - SLIP_MARGIN))


def dose_slip(ratio: float) -> str | None:
    """Why a dose ``ratio`` × the recomputed one is the pharmacist's to release ('a dose 2 times
    the recomputed one', 'a dose 10 % of ... (a unit slip?)'), or None: the one rule, for every
    dose line, whatever the policy says of ORDER_DOSE_DEVIATION."""
    if ratio >= SLIP[1]:
        return f"a dose {fmt(ratio, 1)} times the recomputed one"
    if ratio <= SLIP[0] or slip_words(ratio):
        return f"a dose {fmt(100 * ratio)} % of the recomputed one (a unit slip?)"
    return None


Held = dict[tuple[str, str, int], str]  # (code, drug, day) → why only the pharmacist may


def pharmacist_only(checks: list[LineCheck], missing: Sequence[Administration] = ()) -> Held:
    """The warnings of these lines that only the verifying pharmacist may acknowledge whatever
    the policy says of their code, each with why: a dose deviation :func:`dose_slip` names, and a
    route mismatch to a route the drug's label calls fatal (drugs.wrong_route: vincristine
    intrathecal), a never event no prescriber's acknowledgement releases, also on a line of a
    drug the regimen does not give (ORDER_LINE_UNEXPECTED), and a drug given intrathecally that
    its labels do not give so (ROUTE_INTRATHECAL_NOT_LABELLED: epirubicin IT); and a dosed supportive
    line left out (mesna, leucovorin rescue: ORDER_SUPPORTIVE_MISSING), a dose left out as an
    ORDER_LINE_MISSING is, whatever the policy says. Two lines of one drug and day (a bolus and
    an infusion): either one makes it the pharmacist's."""
    out: Held = {}
    for c in checks:
        ln, e = c.line, c.expected_amount
        if e and (why := dose_slip(ln.amount / e)):
            out.setdefault(("ORDER_DOSE_DEVIATION", ln.drug, ln.day), why)
        fatal = ln.route and drugs.wrong_route(ln.drug, ln.route)
        if fatal and c.status in (WRONG_ROUTE, NOT_IN_REGIMEN):
            # a line of a drug the regimen does not give is held as ORDER_LINE_UNEXPECTED
            code = "ORDER_ROUTE_MISMATCH" if c.status == WRONG_ROUTE else "ORDER_LINE_UNEXPECTED"
            route = f"{ln.drug} {ln.route}, a route its label calls fatal"
            out.setdefault((code, ln.drug, ln.day), route)
        judged = drugs.route_alert(ln.drug, _ordered_dose(c).route, ln.where)
        if judged is not None and judged.code == drugs.ROUTE_IT_CODE:
            # intrathecal, a route the drug's (verified) labels do not give: as a fatal route
            it = f"{ln.drug} intrathecally, a route its label does not give"
            out.setdefault((drugs.ROUTE_IT_CODE, ln.drug, ln.day), it)
    for a in missing:
        if a.dose.serves:
            left = f"a dose of {a.dose.drug} left out, as ORDER_LINE_MISSING"
            out.setdefault(("ORDER_SUPPORTIVE_MISSING", a.dose.drug, a.day), left)
    return out


def tier_of(w: Alert, policy: Policy, held: Held) -> str:
    """Who may acknowledge ``w``: ``order`` (the prescriber, in the order) or ``pharmacist``
    (the verifying pharmacist only, on the command line): the pharmacist's where ``held`` (see
    :func:`pharmacist_only`) names it, else as the policy's verify.acknowledge says."""
    if (w.code, w.drug or "", w.day or 0) in held:
        return PHARMACIST
    return policy["verify.acknowledge"].get(w.code, ORDER)  # type: ignore[no-any-return]


def _covers(a: Acknowledgement, w: Alert) -> bool:
    """An acknowledgement covers its code on its drug (and day, when it names one): nothing
    else."""
    return a.code == w.code and a.drug == w.drug and (a.day is None or a.day == w.day)


def acknowledge(
    warnings: list[Alert],
    acks: tuple[Acknowledgement, ...],
    policy: Policy | None = None,
    held: Held | None = None,
) -> tuple[list[Alert], list[tuple[Alert, Acknowledgement]]]:
    """Acknowledged warnings keep their code and name the acknowledgement; a critical becomes a
    warning (never dropped). An acknowledgement in a hand that may not release the warning (an
    order's own, for a code only the pharmacist may acknowledge) leaves it as it is and is
    itself reported; one that matches nothing is a warning."""
    from dosecalc.clinical.policy import defaults

    policy = policy or defaults()
    out: list[Alert] = []
    matched: list[tuple[Alert, Acknowledgement]] = []
    used: set[int] = set()
    refused: list[tuple[Acknowledgement, Alert]] = []
    for w in warnings:
        mine = [a for a in acks if _covers(a, w)]
        if not mine:
            out.append(w)
            continue
        used.update(id(a) for a in mine)
        allowed = tier_of(w, policy, held or {})
        ack = next((a for a in mine if allowed == ORDER or a.tier == PHARMACIST), None)
        if ack is None:  # only the order's hand, for a warning only the pharmacist may release
            out.append(w)
            refused += [(a, w) for a in mine]
            continue
        was = "critical, " if w.severity == CRITICAL else ""
        new = replace(
            w,
            severity=WARNING if w.severity == CRITICAL else w.severity,
            message=f"{w.message} [{was}{ack.describe()} ({ack.where})]",
        )
        out.append(new)
        matched.append((new, ack))
    for a, w in refused:
        what = (held or {}).get((w.code, w.drug or "", w.day or 0), w.code)
        day = f":{w.day}" if w.day is not None else ""
        drug = f":{w.drug}" if w.drug else (":" if day else "")
        out.append(
            Alert(
                WARNING,
                "ORDER_ACKNOWLEDGEMENT_NOT_ALLOWED",
                f"the order's acknowledgement of {a.covers()} ({a.where}, by {a.by}) does not "
                f"release it: only the verifying pharmacist may acknowledge "
                f"{what} (verify --acknowledge {w.code}{drug}{day}=REASON --by NAME)",
                drug=w.drug,
                day=w.day,
            )
        )
    for a in acks:
        if id(a) in used:
            continue
        same = sorted({w.drug for w in warnings if w.code == a.code and w.drug})
        hint = ""
        if same and a.drug is None:
            hint = f"; warnings of this code name a drug ({', '.join(same)}): name it too"
        elif same:
            days = sorted({w.day for w in warnings if w.code == a.code and w.day is not None})
            hint = f"; this order's {a.code} warnings are about {', '.join(same)}"
            if a.day is not None and days:
                hint += f" on day{'s' if len(days) > 1 else ''} {runs(days)}"
        out.append(
            Alert(
                WARNING,
                "ORDER_ACKNOWLEDGEMENT_UNMATCHED",
                f"the acknowledgement of {a.covers()} ({a.where}, by {a.by}) matches no warning "
                f"of this order{hint}",
                drug=a.drug,
            )
        )
    return out, matched
