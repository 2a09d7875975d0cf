"""The dose engine: protocol dose → rule → basis → organ function → pharmacogenomics →
modification → cap → rounding, with a trace.

Pure functions of plain values. The order of operations is fixed (prior-art lesson 2): a
patient-dependent rule of the regimen (children, infants) replaces or scales the
protocol dose first, a reduction or escalation applies to the calculated dose, the regimen's cap
(``max_dose``) applies to the modified dose, and rounding comes last and never pushes a dose
above the cap. A dose above its cap is capped before a reduction too (organ function,
genotype, modification): each percent is of the dose that would be given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dosecalc.base import strict, units
from dosecalc.base.alerts import WARNING, Alert
from dosecalc.base.errors import fail
from dosecalc.base.numbers import fmt, measured
from dosecalc.clinical.patient import Patient
from dosecalc.clinical.policy import Policy
from dosecalc.clinical.renal import Renal
from dosecalc.clinical.rounding import round_dose
from dosecalc.clinical.rules import RuleUse
from dosecalc.data import drugs
from dosecalc.data.regimen import DoseSpec, DrugOrder, Infusion, Regimen, parse_dose


@dataclass(frozen=True)
class Modification:
    """A dose reduction (negative percent) or escalation, for one drug or all, from a cycle on."""

    drug: str | None  # None: every drug of the regimen
    percent: float
    from_cycle: int
    reason: str
    written: str | None = field(default=None, compare=False)  # the drug name as given

    @property
    def option(self) -> str:
        return "--reduce" if self.percent < 0 else "--escalate"

    def describe(self) -> str:
        kind = "reduced" if self.percent < 0 else "escalated"
        return f"{kind} {fmt(abs(self.percent))} % from cycle {self.from_cycle} ({self.reason})"


@dataclass(frozen=True)
class Dose:
    """The dose of one drug order for one patient on one administration day."""

    drug: str
    route: str
    basis: str  # "bsa" | "weight" | "flat" | "auc"
    protocol: DoseSpec  # the protocol dose per administration day
    calculated: float  # protocol × basis: the standard dose, in ``unit``
    modified: float  # after a reduction or escalation
    capped: bool
    dose: float  # to give, in ``unit``
    unit: str  # "mg" or "units"
    trace: tuple[str, ...]
    modification: Modification | None = None
    rounding: str | None = None
    deviation_percent: float = 0.0
    rounding_note: str | None = None
    cap: float | None = None
    capped_first: bool = False  # capped before its percentages (organ, genotype, modification)
    organ_percent: float | None = None  # the organ-function band applied (--adjust-organ)
    pgx: Any = None  # the pharmacogenomic assessment of the order (clinical.pgx.Assessment)
    infusion: Infusion | None = None  # how it is given (the regimen's infusion)
    note: str | None = None  # the regimen's note on this order
    rule: RuleUse | None = None  # the patient-dependent rule that applied
    regimen_dose: DoseSpec | None = None  # the order's own dose, when a rule replaced it
    without_rule: float | None = None  # what the order's own dose would be (a dose rule's)
    serves: str | None = None  # a supportive line: the drug of the regimen it serves
    at_hours: tuple[float, ...] = ()  # its doses, in hours from the start of the line served
    required: bool = True  # a supportive line an order of the line served must carry
    source: str | None = None  # the regimen line's source

    @property
    def rule_factor(self) -> float:
        """The rule's percent as a factor (1 without a percent rule)."""
        if self.rule is None or self.rule.rule.percent is None:
            return 1.0
        return self.rule.rule.percent / 100

    @property
    def standard(self) -> float:
        """The dose the percentages (organ function, genotype, modification) are of, applied or
        advised: the calculated dose within its cap (50 % of vincristine's capped 2 mg is 1 mg)."""
        return min(self.calculated, self.cap) if self.cap is not None else self.calculated

    @property
    def pgx_percent(self) -> float | None:
        """The percent of the standard dose the patient's genotype gave (None: unchanged)."""
        return self.pgx.percent if self.pgx is not None else None

    @property
    def protocol_text(self) -> str:
        return self.protocol.describe()

    @property
    def before_rounding(self) -> float:
        """The dose before its rounding step (after every step before it): what an order is
        compared with (verify)."""
        if not self.rounding:
            return self.dose
        return self.dose / (1 + self.deviation_percent / 100)

    @property
    def rate_per_hour(self) -> float | None:
        """A continuous or intermittent infusion's rate in ``unit`` per hour."""
        i = self.infusion
        if i is None or i.type not in ("continuous", "intermittent") or not i.duration:
            return None
        return self.dose / i.duration

    @property
    def infusion_text(self) -> str:
        """How it is given, without the route or the order's note: ``'bolus'``, ``'continuous
        infusion over 46 h (93.9 mg/h), via pump'``; '' when the regimen does not say."""
        i = self.infusion
        timing = self.timing
        if i is None:
            return timing
        rate = self.rate_per_hour if i.type == "continuous" else None
        text = i.kind() + (f" ({fmt(rate)} {self.unit}/h)" if rate is not None else "")
        text += f" {timing}" if timing else ""
        return ", ".join([text, *(x for x in (i.note, i.text if i.type else None) if x)])

    @property
    def timing(self) -> str:
        """``'at 0, 4 and 8 h from the start of ifosfamide'`` (a timed supportive line)."""
        return hours_text(self.at_hours, self.serves)

    @property
    def how(self) -> str:
        """:attr:`infusion_text`, then the regimen's note on the order after a semicolon."""
        return "; ".join(x for x in (self.infusion_text, self.note) if x)

    @property
    def given_as(self) -> str:
        """The route and how it is given: ``'IV continuous infusion over 46 h (93.9 mg/h), …'``."""
        how = self.how
        if self.infusion is None and how:
            return f"{self.route}; {how}"
        return f"{self.route} {how}".strip()

    @property
    def exact_per_m2(self) -> float | None:
        """The dose per m² without the round trip through mg (which can turn 450 into
        449.99999999999994 at a ceiling): the protocol amount × the modification, when the dose
        was calculated from the BSA and neither capped nor rounded."""
        if self.basis != "bsa" or self.capped or self.rounding:
            return None
        factor = 1 + self.modification.percent / 100 if self.modification else 1.0
        if self.organ_percent is not None:
            factor *= self.organ_percent / 100
        if self.pgx_percent is not None:
            factor *= self.pgx_percent / 100
        return self.protocol.amount * self.rule_factor * factor


def calculate(
    order: DrugOrder,
    patient: Patient,
    policy: Policy | None = None,
    modification: Modification | None = None,
    renal: Renal | None = None,
    organ: tuple[float, str] | None = None,
    pgx: Any = None,
) -> Dose:
    """The dose of ``order`` for ``patient`` on one of its days. ``organ``: (percent, why) of an
    organ-function band to apply (organ.assess), after the basis and before any modification;
    ``pgx``: the order's pharmacogenomic assessment (pgx.assess), its percent applied after
    the organ function's (both are of the standard starting dose), its reading always traced."""
    from dosecalc.clinical.policy import defaults

    policy = policy or defaults()
    spec = order.per_day
    drug = drugs.lookup(order.drug)
    trace: list[str] = []
    if order.total_dose is not None:
        trace.append(
            f"protocol: total {order.total_dose.describe()} per cycle divided over "
            f"{len(order.days)} days = {spec.describe()} per day"
        )
    elif order.infusion is not None and order.infusion.type == "continuous":
        hours = fmt(order.infusion.duration or 0)
        if len(order.days) == 1:
            trace.append(
                f"protocol: {spec.describe()}, the total over {hours} h of a continuous "
                f"infusion started on day {order.days[0]}"
            )
        else:
            trace.append(
                f"protocol: {spec.describe()} on each listed day, each the total over "
                f"{hours} h of a continuous infusion"
            )
    else:
        trace.append(f"protocol: {spec.describe()} on each listed day")
    timing = timing_text(order)
    if timing:
        trace[-1] += f", {timing}"
    use, spec, regimen_dose = rule_step(order, spec, patient, trace)
    calculated = _basis(order, spec, patient, renal, trace)
    without_rule = _without_rule(order, regimen_dose, patient, renal)
    calculated = rule_percent_step(use, calculated, spec.unit, trace)
    dose = calculated
    cap = order.max_dose.amount if order.max_dose is not None else None
    reductions = [
        organ[0] if organ is not None else None,
        getattr(pgx, "percent", None),
        100 + modification.percent if modification is not None else None,
    ]
    reduced = any(p is not None and p < 100 for p in reductions)
    capped_first = reduced and cap is not None and calculated > cap  # (an escalation: the cap)
    if capped_first:
        # a reduction is of the dose that would be given: 50 % of vincristine's capped 2 mg
        # is 1 mg, not 50 % of 4.06 mg capped back to 2 mg (the reduction lost)
        dose = cap  # type: ignore[assignment]
        trace.append(
            f"capped at max_dose {order.max_dose.describe()} before the percentages below"  # type: ignore[union-attr]
            f" (calculated {fmt(calculated)} {spec.unit}): each is of the dose that would be given"
        )
    if organ is not None:
        before = dose
        dose = before * organ[0] / 100
        trace.append(
            f"organ function: {fmt(organ[0])} % ({organ[1]}): {fmt(before)} → "
            f"{fmt(dose)} {spec.unit}"
        )
    if pgx is not None:
        if pgx.percent is None:
            trace.append(pgx.trace())
        else:
            before = dose
            dose = before * pgx.percent / 100
            trace.append(f"{pgx.trace()}: {fmt(before)} → {fmt(dose)} {spec.unit}")
    if modification is not None:
        before = dose
        dose = before * (1 + modification.percent / 100)
        trace.append(f"{modification.describe()}: {fmt(before)} → {fmt(dose)} {spec.unit}")
    modified = dose
    capped = capped_first
    if cap is not None and dose > cap:
        dose, capped = cap, True
        trace.append(
            f"capped at max_dose {order.max_dose.describe()}"  # type: ignore[union-attr]
            f" (calculated {fmt(modified)} {spec.unit})"
        )
    rounded = None
    if spec.basis != "flat":
        rounded = round_dose(dose, drug.name, drug.drug_class, spec.unit, cap, policy)
        if rounded.method:
            trace.append(
                f"rounded ({rounded.method}): {fmt(dose)} → {fmt(rounded.dose)} "
                f"{spec.unit} ({rounded.deviation_percent:+.1f} %)"
            )
            dose = rounded.dose
        elif rounded.note:
            trace.append(rounded.note)
    trace.append(f"dose: {fmt(dose)} {spec.unit}")
    return Dose(
        drug=order.drug,
        route=order.default_route,
        basis=spec.basis,
        protocol=spec,
        calculated=calculated,
        modified=modified,
        capped=capped,
        dose=dose,
        unit=spec.unit,
        trace=tuple(trace),
        modification=modification,
        rounding=rounded.method if rounded else None,
        deviation_percent=rounded.deviation_percent if rounded else 0.0,
        rounding_note=rounded.note if rounded else None,
        cap=cap,
        capped_first=capped_first,
        organ_percent=organ[0] if organ is not None else None,
        pgx=pgx,
        infusion=order.infusion,
        note=order.note,
        rule=use,
        regimen_dose=regimen_dose,
        without_rule=without_rule,
        **_supportive(order),
    )


def _supportive(order: DrugOrder) -> dict[str, object]:
    return {
        "serves": order.serves,
        "at_hours": tuple(order.at_hours or ()),
        "required": order.required,
        "source": order.source,
    }


def timing_text(order: DrugOrder) -> str:
    """``'at 0, 4 and 8 h from the start of ifosfamide'`` for a line with at_hours."""
    return hours_text(order.at_hours or (), order.serves)


def hours_text(at_hours: Sequence[float], serves: str | None) -> str:
    hours = [fmt(h) for h in at_hours]
    if not hours:
        return ""
    listed = hours[0] if len(hours) == 1 else f"{', '.join(hours[:-1])} and {hours[-1]}"
    return f"at {listed} h from the start of {serves}"


def relative(
    order: DrugOrder,
    served: Dose,
    modification: Modification | None = None,
) -> Dose:
    """A supportive line dosed from the line it serves (percent_of, ratio_to): its share of
    that line's dose to give on the same day (after that line's caps, rounding and
    modifications: the label keeps the ratio when the dose is adjusted), then its own
    modification and cap. It is not rounded."""
    spec = order.protocol
    factor = spec.amount / 100 if spec.basis == "percent" else spec.amount
    timing = timing_text(order)
    trace = [
        f"protocol: {spec.describe()}'s dose on the same day" + (f", {timing}" if timing else "")
    ]
    calculated = factor * served.dose
    trace.append(
        f"{spec.describe()} {fmt(served.dose)} {served.unit} = {fmt(calculated)} {spec.unit}"
    )
    dose = calculated
    if modification is not None:
        dose = calculated * (1 + modification.percent / 100)
        trace.append(f"{modification.describe()}: {fmt(calculated)} → {fmt(dose)} {spec.unit}")
    modified = dose
    cap = order.max_dose.amount if order.max_dose is not None else None
    capped = cap is not None and dose > cap
    if capped:
        dose = cap  # type: ignore[assignment]
        trace.append(f"capped at max_dose {order.max_dose.describe()} (calculated {fmt(modified)} "  # type: ignore[union-attr]
                     f"{spec.unit})")  # fmt: skip
    trace.append(f"dose: {fmt(dose)} {spec.unit}")
    return Dose(
        drug=order.drug,
        route=order.default_route,
        basis=spec.basis,
        protocol=spec,
        calculated=calculated,
        modified=modified,
        capped=capped,
        dose=dose,
        unit=spec.unit,
        trace=tuple(trace),
        modification=modification,
        cap=cap,
        infusion=order.infusion,
        note=order.note,
        **_supportive(order),  # type: ignore[arg-type]
    )


def rule_step(
    order: DrugOrder, spec: DoseSpec, patient: Patient, trace: list[str]
) -> tuple[RuleUse | None, DoseSpec, DoseSpec | None]:
    """The regimen's patient-dependent rule, first in the order of operations:
    (the rule that applies, the dose spec to calculate from, the order's dose it replaced)."""
    from dosecalc.clinical.rules import select

    use = select(order, patient)
    if use is None:
        return None, spec, None
    if use.rule.dose is None:
        return use, spec, None
    new = use.rule.dose
    trace.append(
        f"{use.label} ({use.why}; source: {use.rule.source}): {new.describe()} on each "
        f"listed day replaces {spec.describe()}"
    )
    return use, new, spec


def _without_rule(
    order: DrugOrder, own: DoseSpec | None, patient: Patient, renal: Renal | None
) -> float | None:
    """The dose the order's own dose would give this patient, where a rule's dose replaced it
    (a rule never raises a dose: a file whose rule's dose is above the line's on the same basis
    is refused when it is loaded, and of different bases the plan judges with this number);
    None without such a rule, or where the patient lacks the value the line's basis needs."""
    if own is None:
        return None
    if own.basis == "bsa" and patient.bsa_m2 is None:
        return None
    if own.basis == "weight" and (patient.dosing_weight_kg or patient.weight_kg) is None:
        return None
    if own.basis == "auc" and renal is None:
        return None
    if own.relative:
        return None
    return _basis(order, own, patient, renal, [])


def rule_percent_step(use: RuleUse | None, calculated: float, unit: str, trace: list[str]) -> float:
    """A percent rule scales the calculated dose (a rule never raises a dose: percent ≤ 100)."""
    if use is None or use.rule.percent is None:
        return calculated
    value = calculated * use.rule.percent / 100
    trace.append(
        f"{use.label} ({use.why}; source: {use.rule.source}): {use.rule.percent:g} % of "
        f"{fmt(calculated)} = {fmt(value)} {unit}"
    )
    return value


def _basis(
    order: DrugOrder, spec: DoseSpec, patient: Patient, renal: Renal | None, trace: list[str]
) -> float:
    if spec.basis == "bsa":
        if patient.bsa_m2 is None:
            raise fail(
                "--height/--weight",
                f"{order.drug} is dosed per m², so the BSA is needed; "
                "give --height and --weight, or --bsa",
            )
        how = "given" if patient.bsa_formula == "given" else patient.bsa_formula
        if patient.weight_basis != "actual" and how != "given":
            how += f", {patient.weight_basis} weight {fmt(patient.dosing_weight_kg or 0)} kg"
        if patient.bsa_uncapped_m2 is not None:
            how += f", capped from {patient.bsa_uncapped_m2:.4f} m² by policy bsa.cap_m2"
        value = spec.amount * patient.bsa_m2
        trace.append(f"× BSA {patient.bsa_m2:.4f} m² ({how}) = {fmt(value)} {spec.unit}")
        return value
    if spec.basis == "weight":
        weight = patient.dosing_weight_kg or patient.weight_kg
        if weight is None:
            raise fail("--weight", f"{order.drug} is dosed per kg, so --weight is needed")
        value = spec.amount * weight
        trace.append(
            f"× weight {measured(weight)} kg ({patient.weight_basis}) = {fmt(value)} {spec.unit}"
        )
        return value
    if spec.basis == "flat":
        trace.append(f"flat dose = {fmt(spec.amount)} {spec.unit}")
        return spec.amount
    assert renal is not None, "AUC doses need the renal function"
    trace.extend(renal.trace)
    value = spec.amount * (renal.gfr_ml_min + 25.0)
    trace.append(
        f"Calvert: AUC {fmt(spec.amount)} × (GFR {fmt(renal.gfr_ml_min)} + 25) = {fmt(value)} mg"
    )
    if renal.cap_ml_min is not None:  # a measured GFR above the cap: the dose at the cap too
        at_cap = spec.amount * (renal.cap_ml_min + 25.0)
        trace.append(
            f"at the {fmt(renal.cap_ml_min)} mL/min cap (for an estimated GFR) it would be "
            f"AUC {fmt(spec.amount)} × ({fmt(renal.cap_ml_min)} + 25) = {fmt(at_cap)} mg"
        )
    return value


def usual_maximum_alert(
    dose: Dose,
    patient: Patient,
    policy: Policy,
    where: dict[str, Any],
    prefix: str = "",
    written_to: float = 0.0,
) -> Any:
    """DOSE_ABOVE_USUAL_MAXIMUM (critical) for a dose above its drug's usual maximum single dose
    (or bolus), or None (guard_alert says which). ``written_to``: half the last digit of a dose
    as written (221.36 mg: 0.005 mg)."""
    found = usual_maximum_excess(dose, patient, written_to)
    if found is None:
        return None
    text, ratio, verified = found
    return guard_alert(f"{prefix}{text}", ratio, verified, policy, where)


def guard_alert(
    text: str, ratio: float, verified: bool, policy: Policy, where: dict[str, Any]
) -> Any:
    """The one alert of a dose above its drug's usual maximum single dose (or bolus), on every
    path (plan, course, verify, validate): ``text`` says the dose and the guard, ``ratio`` is
    how many times the guard the dose is at least. DOSE_ABOVE_USUAL_MAXIMUM (critical) when the
    guard is verified, when the policy allows unverified data (data.allow_unverified), or when
    the dose is ten times the guard or more (single_dose.TEN_FOLD: a unit or decimal slip past
    doubt, whatever the guard's review); else DOSE_GUARD_UNVERIFIED (warning), naming the
    number, never passed over in silence."""
    from dosecalc.base.alerts import CRITICAL, WARNING, Alert
    from dosecalc.clinical.single_dose import TEN_FOLD

    if verified or policy["data.allow_unverified"]:
        return Alert(CRITICAL, "DOSE_ABOVE_USUAL_MAXIMUM", text, **where)
    if ratio >= TEN_FOLD:
        return Alert(
            CRITICAL,
            "DOSE_ABOVE_USUAL_MAXIMUM",
            f"{text}; that maximum is marked unverified in the drug data, but the dose is "
            f"{fmt(TEN_FOLD)} times it or more: a unit or decimal slip past doubt",
            **where,
        )
    return Alert(
        WARNING,
        "DOSE_GUARD_UNVERIFIED",
        f"{text}; that maximum is marked unverified in the drug data, so it holds "
        "nothing unless the institution allows unverified data (data.allow_unverified): check "
        "the dose against the protocol",
        **where,
    )


def above_usual_maximum(dose: Dose, patient: Patient, written_to: float = 0.0) -> str | None:
    """A sentence when the dose is above the drug's usual maximum single dose (ten-fold guard),
    or None (usual_maximum_excess)."""
    found = usual_maximum_excess(dose, patient, written_to)
    return None if found is None else found[0]


def usual_maximum_excess(
    dose: Dose, patient: Patient, written_to: float = 0.0, summed: str = ""
) -> tuple[str, float, bool] | None:
    """When the dose is above the drug's usual maximum single dose (ten-fold guard), or, for a
    dose given as a bolus, above the drug's usual maximum bolus where it has one: the sentence,
    how many times the guard the dose is at least, and whether the guard is verified; else
    None. A dose as written (``written_to``: half its last digit) is above only when every dose
    it rounds from is: 221.36 mg is the 221.359 mg of 120 mg/m² × 1.8447 m² rounded, not above
    120 mg/m². ``summed``: the lines whose doses of one day ``dose`` adds up (the guard is the
    usual maximum of one administration day), named in the sentence."""
    single = drugs.lookup(dose.drug).max_single_dose
    if single is None:
        return None
    guard, kind = held_to(single, dose.infusion, dose.route)
    spec = parse_dose(guard.dose)
    if spec.basis == "bsa" and patient.bsa_m2:
        per, unit = patient.bsa_m2, f"{dose.unit}/m²"
    elif spec.basis == "weight" and (patient.dosing_weight_kg or patient.weight_kg):
        per, unit = float(patient.dosing_weight_kg or patient.weight_kg or 1), f"{dose.unit}/kg"
    elif spec.basis == "flat":
        per, unit = 1.0, dose.unit
    else:
        return None
    given = dose.dose / per
    least = (dose.dose - written_to) / per
    if least <= spec.amount * (1 + 1e-9):
        return _above_per_m2(dose, patient, written_to, single.per_m2)
    total = f"{fmt(dose.dose)} {dose.unit}"
    if summed:
        total = f"{total} in one day, {summed},"
    return (
        guard_sentence(dose.drug, total, f"{fmt(given)} {unit}", guard, kind, summed),
        least / spec.amount,
        guard.verified,
    )


def _above_per_m2(
    dose: Dose, patient: Patient, written_to: float, guard: Any
) -> tuple[str, float, bool] | None:
    """A dose per m² above the drug's usual maximum per m² (``per_m2`` of its absolute guard:
    vincristine 2 mg/m²), judged on the dose before a regimen's max_dose caps it as well as on
    the dose given: 14 mg/m² written for 1.4 and capped to 2 mg is above it for every patient,
    and 2 mg is 3 mg/m² for a child of 0.67 m²."""
    if guard is None or not patient.bsa_m2:
        return None
    limit = parse_dose(guard.dose)
    if limit.basis != "bsa" or limit.unit != dose.unit:
        return None
    amount = max(dose.calculated, dose.dose)
    least = (amount - written_to) / patient.bsa_m2
    if least <= limit.amount * (1 + 1e-9):
        return None
    given = f"{fmt(dose.dose)} {dose.unit}"
    if dose.capped and dose.calculated > dose.dose:
        given += f" (capped from {fmt(dose.calculated)} {dose.unit})"
    per = f"{fmt(amount / patient.bsa_m2)} {dose.unit}/m²"
    return (
        guard_sentence(dose.drug, given, per, guard, "single dose"),
        least / limit.amount,
        guard.verified,
    )


def held_to(single: Any, infusion: Any, route: str = "") -> tuple[Any, str]:
    """The guard a dose is held to, and what it is (``bolus``, ``IV single dose``, ``single
    dose``), named in the sentence and telling apart the doses a day's total sums: a dose given as
    a bolus is held to its drug's usual maximum bolus where the drug data has one
    (fluorouracil); a dose given by a route the drug data has a maximum of its own for
    (``by_route``: ondansetron IV 16 mg) to that one; every other dose to the usual maximum
    single dose ``single``. ``route``: the dose's route as written (drugs.route_key reads it)."""
    if single.bolus is not None and infusion is not None and infusion.type == "bolus":
        return single.bolus, "bolus"
    key = drugs.route_key(route) if route else ""
    if key in single.by_route:
        return single.by_route[key], f"{key} single dose"
    return single, "single dose"


def guard_sentence(
    drug: str, dose: str, given: str, guard: Any, kind: str, summed: str = ""
) -> str:
    """The one sentence of a dose above its drug's usual maximum single dose (or bolus, or
    single dose by its route: held_to's ``kind``): ``dose`` as given (``600 mg/m2 on day 1``),
    ``given`` in the guard's basis (``600 mg/m²``, or ``at least …`` where it depends on a
    patient); ``summed``: a day's total."""
    verified = "" if guard.verified else " (unverified)"
    day = " for one administration day" if summed else ""
    return (
        f"{drug} {dose} is {given}, above the usual maximum {kind} "
        f"of {guard.dose}{day}{verified} ({guard.source}); check for a unit or decimal error "
        "before giving it"
    )


def unit_alerts(regimen: Regimen) -> list[Alert]:
    """DOSE_UNIT_UNUSUAL (warning): a line's dose, total, max_dose or rule dose written in a
    smaller unit than the one the drug data doses the drug in (epirubicin '90 mcg/m2' for
    '90 mg/m2': 0.09 mg/m², a thousandth; vincristine 'max_dose: 2 mcg'). The usual maximum
    guards a dose too high; nothing else looks at one too low, and no number is invented here:
    only the unit as written is compared with the drug data's."""
    out: list[Alert] = []
    for i, o in enumerate(regimen.drugs):
        usual = drugs.lookup(o.drug).dose_unit
        written: list[tuple[str, DoseSpec | None]] = [
            ("dose" if o.dose is not None else "total_dose", o.dose or o.total_dose),
            ("max_dose", o.max_dose),
            *((f"rule {k} dose", r.dose) for k, r in enumerate(o.rules, 1)),
        ]
        for what, spec in written:
            if spec is None or spec.basis not in ("bsa", "weight", "flat") or spec.unit != usual:
                continue
            try:
                number, unit_text = units.split(spec.text)
            except ValueError:
                continue
            if not number or spec.amount >= number * (1 - 1e-9):
                continue
            unit = unit_text.split("/")[0].strip()
            out.append(
                Alert(
                    WARNING,
                    "DOSE_UNIT_UNUSUAL",
                    f"{o.drug} ({regimen.id} line {i + 1}): {what} '{spec.text}' is written in "
                    f"{unit}, a smaller unit than the {usual} the drug data doses {o.drug} in: "
                    f"it is {spec.describe()}, {fmt(number / spec.amount)} times less than "
                    f"{spec.describe(number)}; check for a {unit}-for-{usual} slip before giving it",
                    drug=o.drug,
                )
            )
    return out


def line_alerts(regimen: Regimen) -> list[Alert]:
    """What a regimen's lines as written are told, on plan's and validate's paths alike: a unit
    smaller than the drug's, a route its labels do not give, a target AUC outside the usual."""
    return unit_alerts(regimen) + route_alerts(regimen) + auc_alerts(regimen)


def route_alerts(regimen: Regimen) -> list[Alert]:
    """ROUTE_INTRATHECAL_NOT_LABELLED (critical) and ROUTE_NOT_LABELLED (warning): a line given
    by a route its drug's labels do not give (drugs.route_alert, the one judgement an order's
    lines get too); a line without a route is given by its drug's own, always labelled."""
    out: list[Alert] = []
    for i, o in enumerate(regimen.drugs):
        alert = drugs.route_alert(o.drug, o.default_route, f"{regimen.id} line {i + 1}")
        if alert is not None:
            out.append(alert)
    return out


def auc_alerts(regimen: Regimen) -> list[Alert]:
    """AUC_OUTSIDE_USUAL_RANGE (warning): a line's target AUC, or a rule's, outside the targets
    the drug data reads in established protocols (carboplatin: AUC 2 weekly to 7.5). A warning,
    not a refusal: no source gives a hard range; a decimal slip (AUC 0.5 for 5) gives a tenth of
    the dose, and the usual maximum single dose guards only a dose too high."""
    out: list[Alert] = []
    for i, o in enumerate(regimen.drugs):
        usual = drugs.lookup(o.drug).usual_auc
        if usual is None:
            continue
        written = [
            ("dose", o.dose),
            *((f"rule {k} dose", r.dose) for k, r in enumerate(o.rules, 1)),
        ]
        for what, spec in written:
            if spec is None or spec.basis != "auc" or usual.low <= spec.amount <= usual.high:
                continue
            side = "below the lowest" if spec.amount < usual.low else "above the highest"
            verified = "" if usual.verified else ", unverified"
            out.append(
                Alert(
                    WARNING,
                    "AUC_OUTSIDE_USUAL_RANGE",
                    f"{o.drug} ({regimen.id} line {i + 1}): {what} '{spec.text}' is {side} "
                    f"target of established protocols (AUC {fmt(usual.low)} to "
                    f"{fmt(usual.high)} mg/mL·min{verified}; {usual.source}); check for a "
                    "decimal slip before giving it",
                    drug=o.drug,
                )
            )
    return out


def regimen_guard_alerts(regimen: Regimen, policy: Policy) -> list[Alert]:
    """What the single-dose guard finds in a regimen as written, without a patient (regimens
    validate): each line's own dose (a child's rule, a reduction or an organ band lowers it
    only for some patients; an adult plan gives it as written) and each day's total of a drug,
    held as plan holds them (guard_alert), where the dose and the guard can be compared without
    a patient: per m² with per m², per kg with per kg, flat with flat exactly; across bases only
    at the bounds of what dosecalc takes (base/bounds.py: a flat dose at the largest BSA, a dose
    per kg at the lightest weight over the largest BSA, as supportive care's high dose is judged
    at them), and a ``max_dose`` cap at the most it can lower the dose. AUC doses (carboplatin:
    the dose depends on the kidney function) and relative doses are not judged here."""
    found: dict[tuple[str, str], dict[int, list[tuple[int, Any, float, str]]]] = {}
    out: list[Alert] = []
    for i, o in enumerate(regimen.drugs):
        single = drugs.lookup(o.drug).max_single_dose
        spec = o.per_day
        if single is None or spec.basis not in ("bsa", "weight", "flat"):
            continue
        guard, kind = held_to(single, o.infusion, o.default_route)
        limit = parse_dose(guard.dose)
        if limit.unit != spec.unit:
            continue
        least = _least(spec, o.max_dose, limit.basis)
        value, how = least
        unit = {"bsa": f"{spec.unit}/m²", "weight": f"{spec.unit}/kg"}.get(limit.basis, spec.unit)
        for d, n in o.doses_by_day().items():
            found.setdefault((o.drug, kind), {}).setdefault(d, []).extend([(i, o, value, how)] * n)
        if value <= limit.amount * (1 + 1e-9):
            out += _line_per_m2(regimen, i, o, spec, single.per_m2, policy)
            continue
        capped = f" capped at {o.max_dose.text}" if o.max_dose is not None else ""
        text = guard_sentence(
            o.drug, f"{spec.text}{capped} ({regimen.id} line {i + 1})", f"{fmt(value)} {unit}{how}", guard,
            kind,
        )  # fmt: skip
        where = dict(drug=o.drug, day=o.days[0])
        out.append(guard_alert(text, value / limit.amount, guard.verified, policy, where))
    seen: set[tuple[int, ...]] = set()
    for (drug, kind), days in found.items():
        single = drugs.lookup(drug).max_single_dose
        assert single is not None
        first = next(iter(days.values()))[0][1]  # a line of this guard: they share it (``kind``)
        guard, _ = held_to(single, first.infusion, first.default_route)
        limit = parse_dose(guard.dose)
        for d, given in sorted(days.items()):
            lines = tuple(i for i, *_ in given)
            if len(given) < 2 or lines in seen or not _together([o for _, o, *_ in given]):
                continue
            seen.add(lines)
            value = sum(v for _, _, v, _ in given)
            if value <= limit.amount * (1 + 1e-9):
                continue
            unit = {"bsa": "/m²", "weight": "/kg"}.get(limit.basis, "")
            bound = "at least " if any(how for *_, how in given) else ""
            summed = " + ".join(
                f"{o.per_day.text} on day {d} ({regimen.id} line {i + 1}{': ' + o.note if o.note else ''})"
                for i, o, *_ in given
            )
            text = guard_sentence(
                drug, f"in one day, {summed},", f"{bound}{fmt(value)} {limit.unit}{unit}", guard,
                kind, summed,
            )  # fmt: skip
            where = dict(drug=drug, day=d)
            out.append(guard_alert(text, value / limit.amount, guard.verified, policy, where))
    return out


def _line_per_m2(
    regimen: Regimen, i: int, o: DrugOrder, spec: DoseSpec, guard: Any, policy: Policy
) -> list[Alert]:
    """A line's own dose against its drug's usual maximum per m² (``per_m2``), before its
    max_dose cap, as plan judges it (_above_per_m2); across bases at the bounds (_least)."""
    if guard is None:
        return []
    limit = parse_dose(guard.dose)
    if limit.basis != "bsa" or limit.unit != spec.unit:
        return []
    value, how = _least(spec, None, "bsa")
    if value <= limit.amount * (1 + 1e-9):
        return []
    capped = f" (before its cap of {o.max_dose.text})" if o.max_dose is not None else ""
    text = guard_sentence(
        o.drug, f"{spec.text}{capped} ({regimen.id} line {i + 1})",
        f"{fmt(value)} {spec.unit}/m²{how}", guard, "single dose",
    )  # fmt: skip
    where = dict(drug=o.drug, day=o.days[0])
    return [guard_alert(text, value / limit.amount, guard.verified, policy, where)]


def _together(lines: list[DrugOrder]) -> bool:
    """Whether the lines are all given in one cycle at least (their ``cycles`` overlap)."""
    first = max((o.cycles or (1, None))[0] for o in lines)
    lasts = [last for o in lines if (last := (o.cycles or (1, None))[1]) is not None]
    return not lasts or first <= min(lasts)


def _least(spec: DoseSpec, cap: DoseSpec | None, basis: str) -> tuple[float, str]:
    """The least a dose of ``spec`` (within its flat ``cap``) can be, per ``basis`` (the guard's:
    bsa, weight or flat), for any patient dosecalc takes, and how that was found ("" when it
    is the dose as written)."""
    from dosecalc.base.bounds import BSA_M2, WEIGHT_KG

    small_m2, large_m2 = BSA_M2
    light, heavy = WEIGHT_KG
    at = {
        ("flat", "bsa"): (1 / large_m2, f"even at the largest BSA dosecalc takes ({fmt(large_m2)} m²)"),
        ("weight", "bsa"): (
            light / large_m2,
            f"even at the lightest weight over the largest BSA dosecalc takes ({fmt(light)} kg, "
            f"{fmt(large_m2)} m²)",
        ),
        ("bsa", "flat"): (small_m2, f"even at the smallest BSA dosecalc takes ({fmt(small_m2)} m²)"),
        ("weight", "flat"): (light, f"even at the lightest weight dosecalc takes ({fmt(light)} kg)"),
        ("flat", "weight"): (1 / heavy, f"even at the heaviest weight dosecalc takes ({fmt(heavy)} kg)"),
        ("bsa", "weight"): (
            small_m2 / heavy,
            f"even at the smallest BSA over the heaviest weight dosecalc takes ({fmt(small_m2)} "
            f"m², {fmt(heavy)} kg)",
        ),
    }  # fmt: skip
    factor, how = at.get((spec.basis, basis), (1.0, ""))
    value, how = spec.amount * factor, (f" {how}" if how else "")
    if cap is not None:
        top, cap_how = at.get(("flat", basis), (1.0, ""))
        if cap.amount * top < value:
            value = cap.amount * top
            how = f" (its cap{' ' + cap_how if cap_how else ''})"
    return value, how


_MOD = re.compile(
    r"^\s*(?P<drug>[^=]+?)\s*=\s*(?P<pct>[^%@]+?)\s*(?P<sign>%?)\s*(?:@\s*(?P<cycle>.+?))?\s*$"
)


def parse_modifications(
    reduce: list[str] | None,
    escalate: list[str] | None,
    reason: str | None,
    regimen_drugs: set[str],
) -> list[Modification]:
    """``--reduce cisplatin=25%@3`` / ``--escalate all=20%``; a reason is required."""
    items = [("--reduce", r, -1) for r in reduce or []] + [
        ("--escalate", e, 1) for e in escalate or []
    ]
    if not items:
        return []
    if not reason or not reason.strip():
        raise fail(
            "--reason",
            "a dose reduction or escalation needs a --reason (it is printed "
            "with every modified dose)",
        )
    out: list[Modification] = []
    for option, text, sign in items:
        m = _MOD.match(text)
        if not m:
            raise fail(
                option, f"'{text}' is not DRUG=PERCENT[@CYCLE]; e.g. cisplatin=25%@3 or all=20%"
            )
        name = m.group("drug").strip()
        drug = None if name.lower() == "all" else _drug_in(name, regimen_drugs, option)
        top = 90.0 if sign < 0 else 100.0
        try:
            pct = strict.decimal(m.group("pct"))
            cycle = strict.integer(m.group("cycle")) if m.group("cycle") else 1
        except ValueError as e:
            raise fail(
                option, f"'{text}': {e}; write DRUG=PERCENT[@CYCLE], e.g. cisplatin=25%@3"
            ) from None
        if not m.group("sign") and 0 < pct <= 1:  # 0.25 for 25 %: a fraction, or a percent?
            raise fail(
                option,
                f"'{text}' is ambiguous: {m.group('pct')} could be {pct:g} % or the fraction "
                f"{pct:g} of the dose, {pct * 100:g} %; write the percent sign: "
                f"{name}={pct:g}% or {name}={pct * 100:g}%",
            )
        if not 0 < pct <= top:
            raise fail(option, f"'{text}': the percentage must be above 0 and at most {top:g}")
        if cycle < 1:
            raise fail(option, f"'{text}': cycles are numbered from 1")
        for other in out:
            if other.from_cycle == cycle and (
                other.drug is None or drug is None or other.drug == drug
            ):
                raise fail(
                    option,
                    f"'{text}' and another modification both apply to "
                    f"{drug or 'all drugs'} from cycle {cycle}; give one",
                )
        out.append(Modification(drug, sign * pct, cycle, reason.strip(), name))
    return out


def modification_names(mods: list[Modification]) -> list[drugs.NameRead]:
    """The abbreviations the drug names of --reduce/--escalate were read through."""
    return drugs.names_read((m.written, None, None, m.option) for m in mods if m.drug is not None)


def _drug_in(name: str, regimen_drugs: set[str], option: str) -> str:
    try:
        drug = drugs.lookup(name).name
    except ValueError as e:
        raise fail(option, str(e)) from None
    if drug not in regimen_drugs:
        raise fail(
            option, f"{drug} is not part of this regimen ({', '.join(sorted(regimen_drugs))})"
        )
    return drug


def modification_for(mods: list[Modification], drug: str, cycle: int) -> Modification | None:
    """The modification in force for ``drug`` in ``cycle``: the latest that has started."""
    found = [m for m in mods if m.from_cycle <= cycle and (m.drug is None or m.drug == drug)]
    return max(found, key=lambda m: (m.from_cycle, m.drug is not None), default=None)
