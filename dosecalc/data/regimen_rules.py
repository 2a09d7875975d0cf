"""Whether a regimen file's patient-dependent rules make sense (checked when the file is loaded).

A rule's ``when`` is a box in (BSA, weight, age): ``bsa_below`` and ``weight_below`` are upper
bounds (strict), ``age_at_least`` and ``age_below`` a half-open interval of years. The first
rule whose box holds the patient applies (the clinical layer's ``rules.select``). :func:`problems`
reports, with file:line, a rule that can never match (an empty box), a rule that is dead because
the earlier rules together already hold every patient it would (its box lies inside their union),
and a rule dose the drug cannot take.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from dosecalc.base.errors import Problem

if TYPE_CHECKING:  # the regimen loader imports this module
    from dosecalc.data.regimen import DoseSpec, DrugOrder, Regimen, RuleWhen

INF = math.inf


def _box(when: RuleWhen) -> tuple[tuple[float, float], ...]:
    """(bsa, weight, age) intervals [low, high) of the patients the condition holds for."""
    return (
        (0.0, when.bsa_below.value if when.bsa_below else INF),
        (0.0, when.weight_below.value if when.weight_below else INF),
        (
            when.age_at_least.value if when.age_at_least else 0.0,
            when.age_below.value if when.age_below else INF,
        ),
    )


def _empty(box: tuple[tuple[float, float], ...]) -> bool:
    return any(low >= high for low, high in box)


def _inside(inner: tuple[tuple[float, float], ...], outer: tuple[tuple[float, float], ...]) -> bool:
    return all(o[0] <= i[0] and i[1] <= o[1] for i, o in zip(inner, outer, strict=True))


def covered_by(rule: int, boxes: list[tuple[tuple[float, float], ...]]) -> list[int]:
    """The earlier rules (0-based) that together hold every patient rule ``rule`` would; empty
    when some patient reaches it. Exact: the space is cut at every bound of every rule into
    cells, and a cell of the rule's box must lie inside one earlier box."""
    mine = boxes[rule]
    earlier = [(i, b) for i, b in enumerate(boxes[:rule]) if not _empty(b)]
    if not earlier:
        return []
    cuts = [sorted({x for b in boxes for x in b[d]} | {0.0, INF}) for d in range(3)]
    cells_per_dim = [
        [
            (lo, hi)
            for lo, hi in itertools.pairwise(cuts[d])
            if mine[d][0] <= lo and hi <= mine[d][1]
        ]
        for d in range(3)
    ]
    used: set[int] = set()
    for cell in itertools.product(*cells_per_dim):
        holder = next((i for i, b in earlier if _inside(cell, b)), None)
        if holder is None:
            return []
        used.add(holder)
    return sorted(used)


def problems(regimen: Regimen, lines: dict[Any, int], source: str) -> list[Problem]:
    """Every problem of the regimen's rules, with file:line (empty when they are sound)."""
    from dosecalc.data import drugs
    from dosecalc.data.yamlfile import key_path, line_of

    out: list[Problem] = []

    def report(loc: tuple[Any, ...], message: str) -> None:
        out.append(Problem(message, field=key_path(loc), file=source, line=line_of(lines, loc)))

    for i, order in enumerate(regimen.drugs):
        drug = drugs.lookup(order.drug)
        boxes = [_box(r.when) for r in order.rules]
        for j, rule in enumerate(order.rules):
            loc = ("drugs", i, "rules", j)
            if rule.dose is not None:
                message = _dose_problem(order, rule.dose, drug.dose_unit) or _raises(
                    order, rule.dose, j
                )
                if message:
                    report((*loc, "dose"), message)
            if _empty(boxes[j]):
                report(
                    (*loc, "when"),
                    f"rule {j + 1} can never match: no patient is {rule.when.describe()}",
                )
                continue
            cover = covered_by(j, boxes)
            if cover:
                names = " and ".join(
                    f"rule {k + 1} ({order.rules[k].when.describe()})" for k in cover
                )
                report(
                    (*loc, "when"),
                    f"rule {j + 1} ({rule.when.describe()}) can never apply: {names} "
                    f"{'already matches' if len(cover) == 1 else 'already match'} every patient "
                    "it would, and the first rule that matches wins; put the narrower rule first",
                )
    supportive_problems(regimen, report)
    _same_drug_same_day(regimen, report)
    return out


def _same_drug_same_day(regimen: Regimen, report: Any) -> None:
    """Two lines giving one drug the same way (route, bolus or infusion) on the same day of a
    cycle (an exact copy, a split dose, a loading dose's cycles overlapping the
    maintenance's): each line is held to the usual maximum and its cap alone while the day's
    total is their sum, so it is refused; several doses a day are one line (at_hours). A
    bolus and an infusion of one drug on one day (mFOLFOX6's fluorouracil) are two doses."""
    from dosecalc.data.drugs import route_key

    def how(o: DrugOrder) -> tuple[str | None, str | None, str, str | None]:
        """How a line says it is given: a bolus and an infusion, a morning and an evening dose
        (their notes), two routes are two doses; two lines alike in all of them are one."""
        infusion = o.infusion
        return (
            infusion.type if infusion else None,
            (infusion.text or "").strip().lower() if infusion else None,
            route_key(o.default_route),
            (o.note or "").strip().lower() or None,
        )

    seen: set[tuple[str, int]] = set()  # an earlier line already reported with a later one
    for i, order in enumerate(regimen.drugs):
        first, last = order.cycles or (1, None)
        if order.supportive:
            continue
        for j in range(i):
            other = regimen.drugs[j]
            if other.drug != order.drug or other.supportive or how(other) != how(order):
                continue
            o_first, o_last = other.cycles or (1, None)
            low = max(first, o_first)
            high = min(x for x in (last, o_last, 10**9) if x is not None)
            days = sorted(set(order.days) & set(other.days))
            if low <= high and days and (order.drug, j) not in seen:
                seen.add((order.drug, j))
                if low == high:
                    cycles = f"cycle {low}"
                elif high < 10**9:
                    cycles = f"cycles {low}-{high}"
                else:
                    cycles = "every cycle" if low == 1 else f"cycles {low} on"
                report(
                    ("drugs", i, "drug"),
                    f"{order.drug} is given by this line and line {j + 1} (drugs[{j}]) on day "
                    f"{days[0]} of {cycles}: each line would be held to the usual maximum and its "
                    "cap alone while the day's dose is their sum; write one line per drug and "
                    "day, make their cycles apart, or say how the doses differ (a note such as "
                    "'morning' and 'evening', a route, bolus or infusion)",
                )


def supportive_problems(regimen: Regimen, report: Any) -> None:
    """A supportive line serves one line of this regimen, on that line's days (when its dose or
    its timing is taken from it), and its timed doses stay inside the cycle; a supportive-care
    item goes with a drug of the regimen."""
    from dosecalc.base.numbers import fmt

    length = regimen.cycle_length_days
    own = [o for o in regimen.drugs if not o.supportive]
    for i, order in enumerate(regimen.drugs):
        if not order.supportive or order.serves is None:
            continue
        served = [o for o in own if o.drug == order.serves]
        if order.serves == order.drug or len(served) != 1:
            why = (
                "a line cannot serve itself"
                if order.serves == order.drug
                else f"{regimen.id} has no line of {order.serves} (not a supportive line)"
                if not served
                else f"{regimen.id} has {len(served)} lines of {order.serves}: a supportive line "
                "serves one; split the regimen or give the dose on its own basis"
            )
            report(("drugs", i, "for"), why)
            continue
        line = served[0]
        if order.protocol.relative and line.unit_of_drug != order.unit_of_drug:
            report(
                ("drugs", i, "percent_of" if order.percent_of else "ratio_to"),
                f"{order.drug} is dosed in {order.unit_of_drug} and {line.drug} in "
                f"{line.unit_of_drug}: a dose in one cannot be a share of the other",
            )
        if order.protocol.relative or order.at_hours:
            extra = [d for d in order.days if d not in line.days]
            if extra:
                report(
                    ("drugs", i, "days"),
                    f"day {', '.join(map(str, extra))}: {line.drug} is given on days "
                    f"{', '.join(map(str, line.days))}; a line dosed or timed from it is listed "
                    "on its days (at_hours counts from its start, and may run into the next day)",
                )
        late = [
            (d, h) for d in order.days for h in order.at_hours or () if d + int(h // 24) > length
        ]
        if late:
            d, h = late[0]
            report(
                ("drugs", i, "at_hours"),
                f"{fmt(h)} h after day {d} is after the end of the {length}-day cycle",
            )
    drugs_given = {o.drug for o in own}
    for j, care in enumerate(regimen.supportive_care):
        if care.serves not in drugs_given:
            report(
                ("supportive_care", j, "for"),
                f"{regimen.id} has no line of {care.serves}; name one of "
                f"{', '.join(sorted(drugs_given))}",
            )
        if care.days and care.days[-1] > length:
            report(
                ("supportive_care", j, "days"),
                f"day {care.days[-1]} is after the end of the {length}-day cycle",
            )


def _raises(order: DrugOrder, spec: DoseSpec, j: int) -> str | None:
    """A rule lowers a dose for some patients, never raises it: a rule's dose above the line's
    own dose on each listed day, on the same basis (both per m², both per kg, both flat or
    both AUC), is refused. Of doses on different bases the plan judges, for its patient
    (DOSE_RULE_RAISES_DOSE)."""

    own = order.per_day
    if own.relative or spec.basis != own.basis or spec.unit != own.unit:
        return None
    if spec.amount <= own.amount * (1 + 1e-9):
        return None
    return (
        f"rule {j + 1}'s dose '{spec.text}' is above the line's own dose "
        f"({own.describe()} on each listed day): a rule never raises a dose; write a rule's dose "
        f"of at most {own.describe()}, or a percent (at most 100)"
    )


def _dose_problem(order: DrugOrder, spec: DoseSpec, dose_unit: str) -> str | None:
    if spec.basis == "auc":
        if order.drug != "carboplatin":
            return f"an AUC dose is only valid for carboplatin, not {order.drug}"
        return None
    if spec.unit != dose_unit:
        return (
            f"{order.drug} is dosed in {dose_unit}, but the rule's dose '{spec.text}' is in "
            f"{spec.unit}"
        )
    return None
