"""What verify checks of the supportive care an order carries: the supportive lines the regimen
requires with the lines they serve (mesna with ifosfamide, leucovorin rescue with high-dose
methotrexate), the non-dosed care it requires (hydration, alkalinisation, level monitoring), and
antiemetic prophylaxis on a highly emetogenic day. Pure functions of the order, the regimen and
the plan of the order's cycle; clinical/verify.py calls them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dosecalc.base.alerts import CRITICAL, WARNING, Alert
from dosecalc.base.numbers import fmt
from dosecalc.clinical.schedule import Administration
from dosecalc.data.order import Order, OrderLine, date_of
from dosecalc.data.regimen import Regimen

ANTIEMETIC = "antiemetic"  # the status of an order's antiemetic line that the regimen does not dose


def combine_parts(
    options: list[Administration], lines: int
) -> tuple[list[Administration], dict[int, list[int]]]:
    """The timed doses of one supportive line on one day (mesna at 0, 4 and 8 h) as one dose,
    their day total, when the order writes that day in one line (the day's mesna); else as they
    are (each line against one dose: a dose left out is missing). Also: the combined dose's id
    → the parts' ids."""
    if (
        len(options) < 2
        or lines != 1
        or any(a.at_h is None for a in options)
        or len({id(a.dose) for a in options}) != 1
    ):
        return options, {}
    d = options[0].dose
    n = len(options)
    total = n * d.dose
    trace = (
        *d.trace,
        f"the day's {n} doses ({d.timing}) = {n} × {fmt(d.dose)} = {fmt(total)} {d.unit} "
        f"({d.protocol.describe(n * d.protocol.amount)} a day): the "
        f"order writes them in {lines} line{'s' if lines != 1 else ''}, so its total is compared",
    )
    dose = replace(
        d,
        protocol=replace(d.protocol, amount=n * d.protocol.amount),
        dose=total,
        calculated=n * d.calculated,
        modified=n * d.modified,
        rounding=None,
        deviation_percent=0.0,
        trace=trace,
    )
    combined = replace(options[0], dose=dose, at_h=None)
    return [combined], {id(combined): [id(a) for a in options]}


def served_day(a: Administration) -> int:
    """The day of the dose a timed supportive administration is counted from."""
    return a.day - int((a.at_h or 0) // 24)


def _short(source: str | None) -> str:
    return f" ({source.split(':')[0].strip()})" if source else ""


def missing_lines(
    order: Order, missing: Sequence[Administration]
) -> tuple[list[Alert], list[Administration]]:
    """ORDER_SUPPORTIVE_MISSING (critical) for a required supportive line left out on a day the
    order gives the line it serves; the other missing administrations, for ORDER_LINE_MISSING."""
    ordered = {(ln.drug, ln.day) for ln in order.lines}
    held: dict[str, list[Administration]] = defaultdict(list)
    rest = []
    for a in missing:
        d = a.dose
        if d.serves and d.required and (d.serves, served_day(a)) in ordered:
            held[d.drug].append(a)
        else:
            rest.append(a)
    alerts = []
    for drug, items in held.items():
        first = items[0]
        d = first.dose
        days = sorted({a.day for a in items})
        served = sorted({served_day(a) for a in items})
        per_day = len([a for a in items if a.day == first.day])
        amount = f"{per_day} × {fmt(d.dose)}" if per_day > 1 else fmt(d.dose)
        timing = f", {d.timing}" if d.timing else ""
        whole = max(len(d.at_hours), 1)  # the doses a day the regimen gives
        if per_day < whole:  # some of the day's doses are on the order: say which are not
            what = (
                f"{per_day} of the {whole} {drug} doses a day on {_days(days)} ({fmt(d.dose)} "
                f"{d.unit} each: {d.protocol.describe()}{timing}) "
                + ("is" if per_day == 1 else "are")
            )
        else:
            what = (
                f"{drug} on {_days(days)} ({amount} {d.unit} a day: {d.protocol.describe()}"
                f"{timing}) is"
            )
        alerts.append(
            Alert(
                CRITICAL,
                "ORDER_SUPPORTIVE_MISSING",
                f"{what} not on the order, which gives {d.serves} on {_days(served)}: "
                f"the regimen requires it with {d.serves}{_short(d.source)}; add it, or "
                "acknowledge why it is left out",
                drug=drug,
                phase=1,
                cycle=order.cycle,
                day=first.day,
                date=date_of(order.start, first.day) if order.start else None,
            )
        )
    return alerts, rest


def missing_care(order: Order, regimen: Regimen) -> list[Alert]:
    """ORDER_SUPPORTIVE_MISSING for the regimen's required non-dosed care (hydration,
    alkalinisation, monitoring) that the order leaves out while it orders the drug it goes
    with on one of its days."""
    stated = {(c.kind, c.serves) for c in order.supportive_care}
    out = []
    for care in regimen.supportive_care:
        if not care.required or (care.kind, care.serves) in stated:
            continue
        days = sorted(
            {
                ln.day
                for ln in order.lines
                if ln.drug == care.serves and (not care.days or ln.day in care.days)
            }
        )
        if not days:
            continue
        out.append(
            Alert(
                CRITICAL,
                "ORDER_SUPPORTIVE_MISSING",
                f"{care.serves} on {_days(days)} without {care.kind}: {regimen.id} requires "
                f"{care.text}{_short(care.source)}; state it on the order (supportive_care: "
                f"kind {care.kind}, for {care.serves}), or acknowledge why it is left out",
                drug=care.serves,
                phase=1,
                cycle=order.cycle,
                day=days[0],
                date=date_of(order.start, days[0]) if order.start else None,
            )
        )
    return out


def is_antiemetic(line: OrderLine, regimen: Regimen) -> bool:
    """An antiemetic the regimen does not dose: premedication, not a line of its protocol."""
    from dosecalc.data.emetogenic import book

    return line.drug in book().antiemetics and all(o.drug != line.drug for o in regimen.drugs)


def antiemetic_trace(line: OrderLine) -> tuple[str, ...]:
    from dosecalc.data.emetogenic import book

    return (
        f"ordered {line.written} ({line.where})",
        f"antiemetic premedication ({book().antiemetics[line.drug]}): not a line of the "
        "regimen's protocol, so its dose is not checked against it (the institution's protocol)",
    )


def antiemetic_alerts(order: Order, days: Sequence[Any]) -> list[Alert]:
    """ORDER_ANTIEMETIC_MISSING (warning) for each highly emetogenic day of the order's cycle on
    which the order gives a drug of that level and no antiemetic."""
    from dosecalc.clinical.emetogenic import NAMES
    from dosecalc.data.emetogenic import book

    antiemetics = book().antiemetics
    out = []
    for risk in days:
        if risk.level != "high":
            continue
        on_day = {ln.drug for ln in order.lines if ln.day == risk.day}
        top = {d.drug for d in risk.drugs if d.level == "high"} or {d.drug for d in risk.drugs}
        if not on_day & top or on_day & set(antiemetics):
            continue
        agents = f"; this institution: {risk.agents}" if risk.agents else ""
        out.append(
            Alert(
                WARNING,
                "ORDER_ANTIEMETIC_MISSING",
                f"day {risk.day} is highly emetogenic ({risk.why}; {NAMES[risk.option]}) and "
                f"the order has no antiemetic line that day: {NAMES[risk.option]} recommends "
                f"{risk.prophylaxis}{agents}",
                phase=1,
                cycle=order.cycle,
                day=risk.day,
                date=risk.date,
            )
        )
    return out


def _days(days: list[int]) -> str:
    if len(days) == 1:
        return f"day {days[0]}"
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return "days " + ", ".join(
        f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs
    )


def regimen_gaps(regimen: Regimen) -> list[Alert]:
    """REGIMEN_SUPPORTIVE_MISSING for a drug the regimen gives without the supportive line or
    care the supportive-care data requires with it (ifosfamide without mesna: critical;
    cisplatin without hydration: warning). A line counts when it is that drug (best written
    ``supportive: true, for: ifosfamide``, so that it follows the ifosfamide dose); care when it
    is of that kind and for the drug."""
    from dosecalc.data.supportive import requirements

    out = []
    given = {o.drug for o in regimen.drugs if not o.supportive}
    for need in requirements():
        if need.drug not in given or not _above(need, regimen):
            continue
        if need.line is not None:  # a line of that drug, linked to the one it serves or not
            present = any(o.drug == need.line for o in regimen.drugs)
            what = f"no {need.line} line (supportive: true, for: {need.drug})"
            bare = _uncovered(need, regimen) if present and need.same_day else []
            if bare:  # mesna on days 1-3 of an ifosfamide given on days 1-5
                present = False
                what = f"no {need.line} on {_days(bare)} of it (its {need.line} line's days)"
        else:
            cares = [
                c for c in regimen.supportive_care if c.kind == need.care and c.serves == need.drug
            ]
            present = bool(cares)
            what = f"no {need.care} for it (supportive_care: kind {need.care}, for {need.drug})"
            if present and all(c.days for c in cares):  # care on stated days only
                bare = _bare(regimen, need.drug, {d for c in cares for d in c.days or ()})
                if bare:  # hydration on day 15 for a cisplatin on day 1
                    present = False
                    what = f"no {need.care} on {_days(bare)} of it (its {need.care}'s days)"
        if present:
            continue
        unverified = "" if need.verified else " [unverified]"
        out.append(
            Alert(
                CRITICAL if need.severity == CRITICAL else WARNING,
                "REGIMEN_SUPPORTIVE_MISSING",
                f"{regimen.id} gives {need.drug} with {what}: it needs {need.text} "
                f"({need.source}){unverified}; add it to the regimen file, citing the protocol",
                drug=need.drug,
            )
        )
    return out


def _above(need: Any, regimen: Regimen) -> bool:
    """Whether ``regimen`` gives ``need.drug`` at a dose the requirement holds for: any dose, or
    (``need.high_dose``) one at or above the high dose of the one definition (data/supportive.py
    ``high_dose``: 500 mg/m², which organ.yaml's high-dose kidney rule reads too). A dose not per
    m² (per kg, flat, a rule's) is held to it too: whether it is high cannot be told without the
    patient."""
    from dosecalc.clinical.patient import BSA_M2, WEIGHT_KG
    from dosecalc.data.supportive import high_dose

    if not need.high_dose:
        return True
    limit = high_dose().at_least
    for o in regimen.drugs:
        if o.drug != need.drug or o.supportive:
            continue
        spec = o.protocol
        # the most mg/m² a dose can be for any patient dosecalc takes: per m² as written; a
        # flat dose at the smallest BSA; a dose per kg at the most kg per m² (the heaviest
        # weight over the largest BSA); a 12 mg intrathecal dose is never high-dose
        most = {
            "bsa": spec.amount,
            "flat": spec.amount / BSA_M2[0],
            "weight": spec.amount * WEIGHT_KG[1] / BSA_M2[1],
        }.get(spec.basis, math.inf)
        if most >= limit:
            return True
    return False


def _uncovered(need: Any, regimen: Regimen) -> list[int]:
    """The days of the cycle ``regimen`` gives ``need.drug`` and no ``need.line`` line."""
    covered: set[int] = set()
    for o in regimen.drugs:
        if o.drug == need.line:  # a continuous infusion covers every day it runs (72 h: 3)
            i = o.infusion
            span = 1
            if i is not None and i.type == "continuous" and i.duration:
                span = max(1, math.ceil(i.duration / 24))
            covered.update(d + k for d in o.days for k in range(span))
    return _bare(regimen, need.drug, covered)


def _bare(regimen: Regimen, drug: str, covered: set[int]) -> list[int]:
    """The days of the cycle ``regimen`` gives ``drug`` (its own lines) that ``covered`` misses:
    the one rule of a supportive line's days and of supportive care's."""
    given = {d for o in regimen.drugs if o.drug == drug and not o.supportive for d in o.days}
    return sorted(given - covered)
