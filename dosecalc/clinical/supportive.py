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
                f"the regimen requires it with {d.serves}{_short(d.source)}; add it. Left out on "
                "purpose? As for any dose left out, only the verifying pharmacist can release it "
                f"(--acknowledge ORDER_SUPPORTIVE_MISSING:{drug}=REASON --by NAME)",
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
    care the supportive-care data requires with it, proven to cover it (ifosfamide without
    mesna: critical; cisplatin without hydration: warning). A line counts only when it is that
    drug, ``supportive: true``, ``for`` the drug, required, given in the drug's cycles, timed no
    earlier than the data allows (leucovorin: from 24 h after the start of methotrexate) and at
    an amount a source gives, compared like with like (mesna: the day's total against the same
    day's ifosfamide dose); together the lines counted must cover every day of the drug. Care
    counts when it is of that kind, for the drug, required, and on every day of the drug."""
    from dosecalc.data.supportive import requirements

    out = []
    for need in requirements():
        served = [
            i
            for i, o in enumerate(regimen.drugs)
            if o.drug == need.drug and not o.supportive and _needs(need, o)
        ]
        if not served:
            continue
        found = _line_gap(need, regimen, served) if need.line else _care_gap(need, regimen)
        if found is None:
            continue
        what, fix = found
        unverified = "" if need.verified else " [unverified]"
        out.append(
            Alert(
                CRITICAL if need.severity == CRITICAL else WARNING,
                "REGIMEN_SUPPORTIVE_MISSING",
                f"{regimen.id} gives {need.drug} with {what}: it needs {need.text} "
                f"({need.source}){unverified}; {fix}",
                drug=need.drug,
            )
        )
    return out


def _needs(need: Any, o: Any) -> bool:
    """Whether the line ``o`` of ``need.drug`` is given at a dose the requirement holds for: any
    dose, or (``need.high_dose``) one at or above the high dose of the one definition
    (data/supportive.py ``high_dose``: 500 mg/m²). A dose not per m² (per kg, flat, a rule's) is
    held to it when it could be high for some patient dosecalc takes: a flat dose at the smallest
    BSA, a dose per kg at the most kg per m² (the heaviest weight over the largest BSA); a 12 mg
    intrathecal dose never is."""
    from dosecalc.clinical.patient import BSA_M2, WEIGHT_KG
    from dosecalc.data.supportive import high_dose

    if not need.high_dose:
        return True
    spec = o.protocol
    most = {
        "bsa": spec.amount,
        "flat": spec.amount / BSA_M2[0],
        "weight": spec.amount * WEIGHT_KG[1] / BSA_M2[1],
    }.get(spec.basis, math.inf)
    # per m² as written: the definition's edge; converted at the extreme bounds, only beyond it
    # (25 mg flat is 500 mg/m² at 0.05 m², a bound of what dosecalc takes, not of a patient)
    edge = high_dose().at_least
    return bool(most >= edge if spec.basis == "bsa" else most > edge)


def _cycles(c: tuple[int, int | None] | None) -> str:
    first, last = c or (1, None)
    if last is None:
        return "every cycle" if first == 1 else f"cycles {first} on"
    return f"cycle {first}" if first == last else f"cycles {first}-{last}"


def _within(inner: tuple[int, int | None] | None, outer: tuple[int, int | None] | None) -> bool:
    """Whether every cycle of ``inner`` is one of ``outer`` (None: every cycle)."""
    if outer is None:
        return True
    (a, b), (c, d) = inner or (1, None), outer
    return c <= a and (d is None or (b is not None and b <= d))


def _refused(need: Any, regimen: Regimen, o: Any) -> str | None:
    """Why the line ``o`` of ``need.line`` does not count for ``need.drug`` (None: it may)."""
    from dosecalc.base.numbers import fmt

    drug, line = need.drug, need.line
    lines = [x for x in regimen.drugs if x.drug == drug and not x.supportive]
    if not o.supportive:
        # an ordinary line of mesna beside the one line of ifosfamide is mesna all the same:
        # its days and amount are checked as a linked line's; a rescue must say when it starts
        if need.start_at_h is not None or len(lines) != 1:
            return f"not a supportive line for it (write supportive: true, for: {drug})"
    elif o.serves != drug:
        return f"serving {o.serves}, not {drug} (for: {o.serves})"
    if not o.required:
        return f"marked required: false, so an order of {drug} may leave it out"
    served = regimen.drugs[regimen.served(o)] if o.supportive else lines[0]  # type: ignore[index]
    if not _within(served.cycles, o.cycles):
        return f"given in {_cycles(o.cycles)} only, {drug} in {_cycles(served.cycles)}"
    if need.start_at_h is not None:  # leucovorin: rescue, timed from the drug's start
        start = need.start_at_h
        if not o.at_hours:
            return (
                f"not timed from the start of {drug} (no at_hours), so it cannot be shown to "
                f"start when rescue does, {start.cited()} after the start of {drug}"
            )
        if o.at_hours[0] < start.value:
            return (
                f"timed from {fmt(o.at_hours[0])} h, before rescue starts "
                f"{start.cited()} after the start of {drug}"
            )
        latest = need.start_at_h_most
        if latest is not None and o.at_hours[0] > latest.value:
            return (
                f"timed from {fmt(o.at_hours[0])} h, later than rescue may start, at most "
                f"{latest.cited()} after the start of {drug}"
            )
    if need.dose_flat is not None or need.dose_per_m2 is not None:  # each dose at least
        least = {"flat": need.dose_flat, "bsa": need.dose_per_m2}
        shown = " or ".join(n.cited() for n in least.values() if n is not None)
        spec = o.per_day  # its own dose: a rule's is the protocol's for a patient
        bound = least.get(spec.basis)
        if bound is None or spec.relative:
            return (
                f"at {spec.describe()} a dose, which cannot be compared with the least "
                f"{line} dose a read source gives ({shown}): write it in mg or mg/m2"
            )
        if spec.amount < bound.value:
            return (
                f"at {spec.describe()} a dose, below the {bound.cited()} a dose a read "
                f"source gives for {line}"
            )
    return None


def _spread(o: Any) -> dict[int, float]:
    """The share of one administration of ``o`` given on each day of the cycle: its day; a
    continuous infusion over the days it runs, by its hours on each (72 h from day 1: a third
    on each of days 1-3)."""
    i = o.infusion
    if i is not None and i.type == "continuous" and i.duration and i.duration > 24:
        span = math.ceil(i.duration / 24)
        return {k: min(24.0, i.duration - 24 * k) / i.duration for k in range(span)}
    return {0: 1.0}


def _line_gap(need: Any, regimen: Regimen, served: list[int]) -> tuple[str, str] | None:
    """What keeps ``need.line`` from covering ``need.drug`` (None: its lines cover it), and
    what would be valid."""
    drug, line = need.drug, need.line
    fix = _fix(need)
    mine = [(i, o) for i, o in enumerate(regimen.drugs) if o.drug == line]
    if not mine:
        return f"no {line} line (supportive: true, for: {drug})", fix
    refused, counted = [], []
    for i, o in mine:
        why = _refused(need, regimen, o)
        if why:
            refused.append(f"its {line} line ({regimen.where('drugs', i)}) {why}")
        else:
            counted.append((i, o))
    gaps: list[str] = []
    if not counted:
        gaps = refused
    elif need.daily_percent is not None:  # mesna: the day's share of the drug
        notes, short = _shares(need, regimen, served, counted)
        gaps = refused + notes + short if short is not None else []
    elif need.same_day or need.start_at_h is not None:  # on every day of it
        if need.start_at_h is not None:  # a rescue counts on the day of the dose it serves
            covered = {d for _, o in counted for d in o.days}
        else:  # a continuous infusion: every day it runs
            covered = {d + k for _, o in counted for d in o.days for k in _spread(o)}
        days = sorted({d for i in served for d in regimen.drugs[i].days})
        bare = [d for d in days if d not in covered]
        if bare:
            ours = ", ".join(regimen.where("drugs", i) for i, _ in counted)
            gaps = [*refused, f"no {line} on {_days(bare)} of it (its {line} line: {ours})"]
    # lines that do not count are named only when those that do leave the drug uncovered
    return ("; ".join(gaps), fix) if gaps else None


def _shares(
    need: Any, regimen: Regimen, served: list[int], counted: list[tuple[int, Any]]
) -> tuple[list[str], list[str] | None]:
    """Mesna: on each day of the drug, the day's doses of the lines counted as a share of the
    same day's dose of the drug (a timed dose on the day at_hours puts it), like with like.
    Returns the lines that cannot be compared (why), and what falls short (None: the lines
    compared cover every day)."""
    from dosecalc.base.numbers import fmt
    from dosecalc.data.drugs import route_key

    drug, line = need.drug, need.line
    if len(served) != 1:  # a supportive line serves one line (validated): none counted here
        return [], [f"{len(served)} lines of {drug}: a {line} line serves one"]
    base = regimen.drugs[served[0]]
    given: dict[int, float] = defaultdict(float)  # the drug, in administrations of its line
    for d in base.days:
        for k, f in _spread(base).items():
            given[d + k] += f
    share: dict[int, float] = defaultdict(float)  # the line, in % of one administration
    oral: set[int] = set()
    clauses = []
    skipped: list[tuple[int, Any]] = []  # lines that cannot be compared
    for i, o in counted:
        at = regimen.where("drugs", i)
        # the lines' own doses: a patient rule's is the protocol's for that patient (an infant's
        # per-kg ifosfamide does not make an adult's mesna line fall short)
        if o.protocol.relative:  # its share of the drug's dose
            percent = o.protocol.amount * (100.0 if o.protocol.basis == "ratio" else 1.0)
        else:
            mine, theirs = o.per_day, base.per_day
            if mine.basis != theirs.basis:
                clauses.append(
                    f"its {line} line ({at}) at {mine.describe()} a dose, which cannot be "
                    f"compared with {drug} at {theirs.describe()} ({_basis(mine)} with "
                    f"{_basis(theirs)}): write it as percent_of: {drug}, or in the unit {drug} "
                    "is dosed in"
                )
                skipped.append((i, o))
                continue
            percent = 100.0 * mine.amount / theirs.amount
        po = route_key(o.default_route) == "PO"
        for d in o.days:
            for h in o.at_hours or [0.0]:
                for k, f in _spread(o).items():
                    day = d + int(h // 24) + k
                    share[day] += percent * f
                    if po:
                        oral.add(day)
    compared = [(i, o) for i, o in counted if all(i != j for j, _ in skipped)]
    if not compared:  # no line could be compared: the notes say why
        return clauses, []
    gaps: list[str] = []
    days = sorted(given)
    bare = [d for d in days if share[d] <= 0]
    ours = ", ".join(regimen.where("drugs", i) for i, _ in compared)
    late = sorted({h for _, o in compared for h in o.at_hours or () if h >= 24})
    if bare:
        when = (
            f"; {', '.join(fmt(h) for h in late)} h from the start of {drug} fall on a later day"
            if late
            else ""
        )
        gaps.append(f"no {line} on {_days(bare)} of it (its {line} line: {ours}{when})")
    short: dict[tuple[float, str], list[int]] = defaultdict(list)
    for d in days:
        least = need.daily_percent_oral if d in oral and need.daily_percent_oral else None
        least = least or need.daily_percent
        day_share = share[d] / given[d]
        if 0 < day_share < least.value - 1e-9:
            short[(round(day_share, 1), least.cited())].append(d)
    for (got, least_text), on in short.items():
        gaps.append(
            f"{line} on {_days(on)} at {fmt(got)} % of that day's {drug} dose (its {line} line: "
            f"{ours}), below the {least_text} a day"
        )
    return clauses, gaps or None


def _basis(spec: Any) -> str:
    return {"bsa": "mg/m²", "weight": "mg/kg", "flat": "mg", "auc": "AUC"}.get(
        spec.basis, spec.basis
    )


def _fix(need: Any) -> str:
    """What a valid line would be, with the data's numbers."""
    drug, line = need.drug, need.line
    if need.daily_percent is not None:
        more = need.daily_percent_oral
        oral = f", {more.cited()} on a day with an oral dose" if more else ""
        return (
            f"write {line} as supportive: true, for: {drug}, on every {drug} day, at least "
            f"{need.daily_percent.cited()} of the same day's {drug} dose a day{oral} (e.g. "
            f"percent_of: {drug}, percent: 20, at_hours: [0, 4, 8]), citing the protocol"
        )
    if need.start_at_h is not None:
        least = " or ".join(n.cited() for n in (need.dose_flat, need.dose_per_m2) if n)
        most = need.start_at_h_most
        until = f" to at most {most.cited()}" if most else ""
        return (
            f"write {line} as supportive: true, for: {drug}, on each {drug} day, with at_hours "
            f"whose first is from {need.start_at_h.cited()}{until} after the start of {drug} "
            f"(e.g. [24, 30, 36, 42]) and at least {least} a dose, citing the protocol"
        )
    return "add it to the regimen file, citing the protocol"


def _care_gap(need: Any, regimen: Regimen) -> tuple[str, str] | None:
    """What keeps the regimen's care of ``need.care`` from covering ``need.drug``."""
    drug, care = need.drug, need.care
    fix = (
        f"state it in supportive_care (kind: {care}, for: {drug}, on every {drug} day, "
        "required), citing the protocol"
    )
    mine = [
        (j, c) for j, c in enumerate(regimen.supportive_care) if c.kind == care and c.serves == drug
    ]
    if not mine:
        return f"no {care} for it (supportive_care: kind {care}, for {drug})", fix
    counted = [c for _, c in mine if c.required]
    if counted:
        if all(c.days for c in counted):  # care on stated days only
            bare = _bare(regimen, drug, {d for c in counted for d in c.days or ()})
            if bare:  # hydration on day 15 for a cisplatin on day 1
                return f"no {care} on {_days(bare)} of it (its {care}'s days)", fix
        return None
    return "; ".join(
        f"its {care} ({regimen.where('supportive_care', j)}) marked required: false, so an "
        f"order of {drug} may leave it out"
        for j, _ in mine
    ), fix


def _bare(regimen: Regimen, drug: str, covered: set[int]) -> list[int]:
    """The days of the cycle ``regimen`` gives ``drug`` (its own lines) that ``covered`` misses:
    the one rule of a supportive line's days and of supportive care's."""
    given = {d for o in regimen.drugs if o.drug == drug and not o.supportive for d in o.days}
    return sorted(given - covered)
