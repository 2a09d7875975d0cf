"""Laboratory values judged: a regimen's gates before each cycle, values too old to use, and the
creatinine or clearance given twice. Pure functions of plain values (data/labs.py); reading
``--lab`` and lab files is the inputs layer's (inputs/labs.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from dosecalc.base.errors import fail
from dosecalc.base.numbers import fmt, settled
from dosecalc.data.labs import ULN, GateSpec, Labs, LabValue, display_unit, gate_requirement

# ---------------------------------------------------------------- lab files


# ---------------------------------------------------------------- the collection


def reconcile_scr(scr_mg_dl: float | None, labs: Labs, given_as: str = "--scr") -> float | None:
    """``--scr`` (or an order's ``patient.scr``: ``given_as``) and ``--lab scr=`` are the same
    value: both given and different is refused; the creatinine used is the one given (the
    latest lab value when only labs are given)."""
    latest = labs.latest("scr")
    if latest is None:
        return scr_mg_dl
    # the same creatinine in two notations agrees to half a µmol/L (0.006 mg/dL)
    if scr_mg_dl is not None and not math.isclose(scr_mg_dl, latest.value, abs_tol=0.006):
        raise fail(
            "--scr" if given_as == "--scr" else "--lab",
            f"{given_as} gives {fmt(scr_mg_dl)} mg/dL but the latest scr lab value is "
            f"{latest.text} ({fmt(latest.value)} mg/dL, {latest.where}); give one creatinine",
        )
    return latest.value


def reconcile_crcl(gfr_ml_min: float | None, labs: Labs) -> float | None:
    """A measured creatinine clearance (``--lab crcl=``) and ``--gfr`` both given and different
    is refused: both would be used as the patient's clearance."""
    latest = labs.latest("crcl")
    if latest is None:
        return None
    if gfr_ml_min is not None and not math.isclose(gfr_ml_min, latest.value, rel_tol=1e-6):
        raise fail(
            "--gfr",
            f"--gfr gives {fmt(gfr_ml_min)} mL/min but the measured creatinine clearance is "
            f"{latest.text} ({latest.where}); give one clearance",
        )
    return latest.value


# ---------------------------------------------------------------- gates and staleness


# A regimen that gates its cycles on these counts is myelosuppressive: a count not given before
# such a cycle is a warning, not a notice (issue 30).
BLOOD_COUNTS = ("anc", "platelets")


def _short(source: str | None, most: int = 200) -> str:
    """A source's name for a message: its text up to the first quotation or colon, cut between
    words (with an ellipsis) beyond ``most`` characters, never inside a word."""
    if not source:
        return ""
    name = re.split(r":\s|\s'|,\s'", source, maxsplit=1)[0].strip()
    if len(name) <= most:
        return name
    return name[:most].rsplit(" ", 1)[0].rstrip(",;( ") + "…"


def _in_unit(v: LabValue, unit: str, uln: dict[str, float]) -> float | None:
    if v.unit == unit:
        return v.value
    base = uln.get(v.name)
    if base is None:
        return None
    if unit == ULN:
        return v.value / base
    if v.unit == ULN:
        return v.value * base
    return None


def check_gates(
    gates: Sequence[GateSpec],
    labs: Labs,
    starts: Sequence[date],
    max_age_days: float,
    regimen: str,
    phase: int = 1,
    uln: dict[str, float] | None = None,
    earlier: bool = False,
    first_cycle: int = 1,
) -> list[Any]:
    """Gates against the values given, cycle by cycle (``starts``: each cycle's day 1).

    A value belongs to the first cycle whose day 1 is on or after the day it was taken (an
    undated value to cycle 1); each cycle is checked with the latest value that belongs to it.
    Older than ``max_age_days`` before that day 1: LAB_STALE; undated: LAB_UNDATED. Below (above) the gate:
    LAB_GATE_FAILED. A value taken after the last cycle's day 1 belongs to no cycle: it cannot
    clear a gate, but one that fails it is LAB_GATE_FAILED all the same. The cycle about to
    start with no value of a gated lab: LAB_GATE_NOT_CHECKED (a warning for a blood count);
    later cycles no value belongs to get one line saying which labs to repeat. With ``earlier`` (a later
    phase of a course), values older than the age limit before this phase's first day 1
    belong to the phases before it and are not used here. The cycles are numbered from
    ``first_cycle`` (verify checks an order's cycle alone).
    """
    from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert

    out: list[Alert] = []
    if not gates or not starts:
        return out

    def number(c: int) -> int:  # the cycle's own number
        return c + first_cycle - 1

    pending: dict[int, list[str]] = {}
    failed: dict[tuple[int, str], tuple[LabValue, dict[str, Any], list[str]]] = {}
    for g in gates:
        needs = gate_requirement(g) + (f" (option {g.option})" if g.option else "")
        rule = f"{needs} (otherwise {g.otherwise}" + (f"; {_short(g.source)})" if g.source else ")")
        mine = labs.of(g.lab)
        if not mine:
            out.append(_not_given(g, needs, regimen, max_age_days, None, phase, number(1),
                                  starts[0]))  # fmt: skip
            continue
        by_cycle: dict[int, LabValue] = {}
        after: list[LabValue] = []  # taken after the last cycle's day 1: they clear nothing
        for v in mine:
            if earlier and (v.date is None or (starts[0] - v.date).days > max_age_days):
                continue
            cycle = _cycle_of(v.date, starts)
            if cycle is None:
                after.append(v)
            else:
                by_cycle[cycle] = v  # the latest (values are oldest first)
        for v in after:  # a count after day 1 cannot clear the gate, but a failing one holds
            value = _in_unit(v, g.unit, uln or {})
            if value is not None and _fails(g, value):
                day1 = starts[-1]
                where = dict(phase=phase, cycle=number(len(starts)), day=1, date=day1)
                failed.setdefault((len(starts), g.lab), (v, where, []))[2].append(
                    f"{rule}, taken {(v.date - day1).days} days after day 1 "  # type: ignore[operator]
                    f"({day1.isoformat()}): a value after day 1 cannot clear the gate, and a "
                    "failing one still judges the cycle"
                )
        for c in range(1, len(starts) + 1):
            v = by_cycle.get(c)
            if v is None:
                if c == 1 and not earlier:  # the cycle about to start
                    later = [v for v in mine if v not in by_cycle.values()]
                    out.append(_not_given(g, needs, regimen, max_age_days, later, phase,
                                          number(1), starts[0]))  # fmt: skip
                else:
                    pending.setdefault(c, []).append(g.lab)
                continue
            day1 = starts[c - 1]
            where = dict(phase=phase, cycle=number(c), day=1, date=day1)
            if v.date is None:  # it may be months old: the gate is judged, its age is unknown
                out.append(
                    Alert(
                        WARNING,
                        "LAB_UNDATED",
                        f"{regimen} cycle {number(c)}: {v.shown()}: whether it was taken "
                        f"within labs.max_age_days = {fmt(max_age_days)} days before "
                        f"day 1 ({day1.isoformat()}) is unknown: give --lab "
                        f"{v.name}=VALUE@YYYY-MM-DD",
                        **where,  # type: ignore[arg-type]
                    )
                )
            elif (day1 - v.date).days > max_age_days:
                out.append(
                    Alert(
                        WARNING,
                        "LAB_STALE",
                        f"{regimen} cycle {number(c)}: {v.shown()} was taken {(day1 - v.date).days} days "
                        f"before day 1 ({day1.isoformat()}), more than labs.max_age_days = "
                        f"{fmt(max_age_days)}: repeat it before treatment",
                        **where,  # type: ignore[arg-type]
                    )
                )
            value = _in_unit(v, g.unit, uln or {})
            if value is None:
                out.append(
                    Alert(
                        WARNING,
                        "LAB_GATE_NOT_CHECKED",
                        f"{regimen} cycle {number(c)}: gate {needs} could not be compared with "
                        f"{v.shown()} (set labs.uln.{v.name} or give {g.lab} in "
                        f"{display_unit(g.unit)})",
                        **where,  # type: ignore[arg-type]
                    )
                )
                continue
            if _fails(g, value):
                failed.setdefault((c, g.lab), (v, where, []))[2].append(rule)
    for (c, _lab), (v, where, which) in sorted(failed.items()):
        out.append(
            Alert(
                CRITICAL,
                "LAB_GATE_FAILED",
                f"{regimen} cycle {number(c)}: {v.shown()} fails the gate"
                f"{'s' if len(which) > 1 else ''} " + "; ".join(which),
                **where,  # type: ignore[arg-type]
            )
        )
    if pending:
        cycles = sorted(pending)
        labs_needed = sorted({lab for c in cycles for lab in pending[c]})
        out.append(
            Alert(
                INFO,
                "LAB_GATE_PENDING",
                f"{regimen}: {_ranges([number(c) for c in cycles])} need{'s' if len(cycles) == 1 else ''} new "
                f"{' and '.join(labs_needed)} values, taken within {fmt(max_age_days)} days before "
                f"each day 1, for the gates "
                + "; ".join(gate_requirement(g) for g in gates if g.lab in labs_needed),
                phase=phase,
                cycle=number(cycles[0]),
                day=1,
                date=starts[cycles[0] - 1],
            )
        )
    return out


def _fails(g: GateSpec, value: float) -> bool:
    value = settled(value)  # 1,500/uL is 1.5 x10^9/L, whatever the arithmetic of the units
    return (g.at_least is not None and value < g.at_least) or (
        g.at_most is not None and value > g.at_most
    )


def _not_given(
    g: GateSpec,
    needs: str,
    regimen: str,
    max_age_days: float,
    later: list[LabValue] | None,
    phase: int,
    cycle: int,
    day1: date,
) -> Any:
    """LAB_GATE_NOT_CHECKED for the cycle about to start: no value of the gated lab given
    (``later`` None), or none taken on or before its day 1 (``later``: those taken after it,
    which cannot clear it); a warning for a blood count."""
    from dosecalc.base.alerts import INFO, WARNING, Alert

    count = g.lab in BLOOD_COUNTS
    given = (
        f"no {g.lab} value was given"
        if later is None
        else f"no {g.lab} value taken on or before day 1 ({day1.isoformat()}) was given"
        + (f" ({', '.join(v.shown() for v in later)}: after day 1, so it cannot clear it)")
    )
    return Alert(
        WARNING if count else INFO,
        "LAB_GATE_NOT_CHECKED",
        f"{regimen}: gate {needs} (otherwise {g.otherwise}"
        f"{'; ' + _short(g.source) if g.source else ''}) not checked: {given}; give --lab "
        f"{g.lab}=VALUE@DATE (taken within {fmt(max_age_days)} days before the cycle's day 1)"
        + ("; a myelosuppressive cycle is not started without the count" if count else ""),
        phase=phase,
        cycle=cycle,
        day=1,
        date=day1,
    )


def _cycle_of(when: date | None, starts: Sequence[date]) -> int | None:
    if when is None:
        return 1
    for c, day1 in enumerate(starts, 1):
        if day1 >= when:
            return c
    return None


def _ranges(cycles: list[int]) -> str:
    runs: list[list[int]] = []
    for c in cycles:
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    parts = [f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return ("cycle " if len(cycles) == 1 else "cycles ") + ", ".join(parts)


def stale(values: Iterable[LabValue], first_day: date, max_age_days: float, why: str) -> list[Any]:
    """LAB_STALE for values used for organ function that are older than ``max_age_days`` on the
    first day they are used for."""
    from dosecalc.base.alerts import WARNING, Alert

    out = []
    for v in values:
        if v.date is None:
            continue
        age = (first_day - v.date).days
        if age > max_age_days:
            out.append(
                Alert(
                    WARNING,
                    "LAB_STALE",
                    f"{v.shown()} is {age} days older than {first_day.isoformat()} ({why}), "
                    f"more than labs.max_age_days = {fmt(max_age_days)}: repeat it before "
                    "treatment",
                    date=first_day,
                )
            )
    return out
