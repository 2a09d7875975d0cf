"""Cycles and days → dated administrations. Cycle length counts start to start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dosecalc.dosing import Dose


@dataclass(frozen=True)
class Administration:
    phase: int
    cycle: int  # 1-based within its phase
    day: int  # 1-based within its cycle
    date: date
    regimen: str
    dose: Dose

    def as_dict(self) -> dict[str, object]:
        d = self.dose
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
            "dose": d.dose,
            "unit": d.unit,
            "capped": d.capped,
            "trace": list(d.trace),
        }


def cycle_start(start: date, cycle: int, cycle_length_days: int) -> date:
    return start + timedelta(days=(cycle - 1) * cycle_length_days)


def expand(
    doses: list[tuple[tuple[int, ...], Dose]],
    start: date,
    cycles: int,
    cycle_length_days: int,
    regimen: str,
    phase: int = 1,
) -> list[Administration]:
    """Every (days, dose) order on every listed day of every cycle, in date order.

    Administrations on the same date keep the order of the regimen file.
    """
    out = [
        Administration(phase, cycle, day, first + timedelta(days=day - 1), regimen, dose)
        for cycle in range(1, cycles + 1)
        for first in [cycle_start(start, cycle, cycle_length_days)]
        for day in range(1, cycle_length_days + 1)
        for days, dose in doses
        if day in days
    ]
    return out
