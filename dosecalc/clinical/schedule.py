"""Cycles and days → dated administrations. Cycle length counts start to start."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dosecalc.clinical.dosing import Dose
from dosecalc.data.regimen import Regimen


@dataclass(frozen=True)
class Administration:
    phase: int
    cycle: int  # 1-based within its phase
    day: int  # 1-based within its cycle
    date: date
    regimen: str
    dose: Dose
    at_h: float | None = None  # a timed supportive dose: hours from the start of its line's dose

    @property
    def serves(self) -> str | None:
        """The drug this administration's supportive line serves (None: not supportive)."""
        return self.dose.serves

    def as_dict(self) -> dict[str, object]:
        d = self.dose
        mod = d.modification
        return {
            "phase": self.phase,
            "cycle": self.cycle,
            "day": self.day,
            "date": self.date.isoformat(),
            "regimen": self.regimen,
            "drug": d.drug,
            "route": d.route,
            "basis": d.basis,
            "protocol_dose": d.protocol.amount,
            "protocol_unit": d.protocol.per_unit,
            "calculated_dose": d.calculated,
            "standard_dose": d.standard,
            "organ_percent": d.organ_percent,
            "pgx": d.pgx.adjustment() if d.pgx is not None else None,
            "modified_dose": d.modified,
            "modification": None
            if mod is None
            else {"percent": mod.percent, "from_cycle": mod.from_cycle, "reason": mod.reason},
            "capped": d.capped,
            "max_dose": d.cap,
            "rounding": d.rounding,
            "deviation_percent": d.deviation_percent,
            "dose": d.dose,
            "unit": d.unit,
            "trace": list(d.trace),
            "infusion": None
            if d.infusion is None
            else {**d.infusion.as_dict(), "rate_per_h": d.rate_per_hour},
            "note": d.note,
            "given_as": d.given_as,
            "rule": d.rule.as_dict() if d.rule is not None else None,
            "regimen_dose": d.regimen_dose.amount if d.regimen_dose is not None else None,
            "regimen_dose_unit": d.regimen_dose.per_unit if d.regimen_dose is not None else None,
            "supportive": d.serves is not None,
            "for": d.serves,
            "at_hours": self.at_h,
            "source": d.source,
        }


def cycle_start(start: date, cycle: int, cycle_length_days: int) -> date:
    return start + timedelta(days=(cycle - 1) * cycle_length_days)


def expand(
    regimen: Regimen,
    dose_for: Callable[[int, int], Dose],
    start: date,
    cycles: int,
    phase: int = 1,
    starts: Sequence[date] | None = None,
    first_cycle: int = 1,
) -> list[Administration]:
    """Every order on every listed day of every cycle it is given in, in date order.

    ``dose_for(order_index, cycle)`` gives the dose; ``starts`` overrides a cycle's first day
    (delays: one date per cycle). Administrations on the same date keep the order of the regimen file.
    The cycles are numbered from ``first_cycle`` (an order for cycle 3 schedules that cycle alone).
    """
    out: list[Administration] = []
    orders = list(enumerate(regimen.drugs))
    for k in range(cycles):
        cycle = first_cycle + k
        first = starts[k] if starts else cycle_start(start, k + 1, regimen.cycle_length_days)
        todays = sorted(
            (day + int((h or 0) // 24), i, h)
            for i, o in orders
            if regimen.given_in(o, cycle)
            for day in o.days
            for h in o.at_hours or [None]
        )
        out += [
            Administration(
                phase,
                cycle,
                day,
                first + timedelta(days=day - 1),
                regimen.id,
                dose_for(i, cycle),
                h,
            )
            for day, i, h in todays
        ]
    return out


def fractions(start: date, count: int) -> list[date]:
    """``count`` radiotherapy fractions on consecutive weekdays from ``start`` (Monday-Friday)."""
    out: list[date] = []
    day = start
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def cycle_starts(
    start: date,
    cycles: int,
    length: int,
    delays: dict[int, int],
    mode: str,
    fixed: dict[int, date] | None = None,
) -> list[date]:
    """First days of each cycle. ``shift``: a delay (or an actual date in ``fixed``) moves that
    cycle and all later ones; ``keep``: it moves only that cycle, the later ones keep the
    original grid."""
    fixed = fixed or {}
    starts: list[date] = []
    for c in range(1, cycles + 1):
        if c in fixed:
            starts.append(fixed[c])
            continue
        extra = timedelta(days=delays.get(c, 0))
        if mode == "keep" or c == 1:
            base = start + timedelta(days=(c - 1) * length)
        else:
            base = starts[-1] + timedelta(days=length)
        starts.append(base + extra)
    return starts
