"""Each dose of a plan under the policy in force and under another, side by side
(``dosecalc plan --compare-policy FILE``).

The same regimen, patient and dates are planned twice; administrations are paired by phase,
cycle, day and drug order (the schedule does not depend on the policy), and the settings that
differ are listed, so that a pharmacy can see what a policy change would do to a patient's
doses before adopting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    phase: int
    cycle: int
    day: int
    date: str
    drug: str
    unit: str
    dose: float
    other: float | None  # None: the other plan has no such administration

    @property
    def difference_percent(self) -> float | None:
        if self.other is None or not self.dose:
            return None
        return 100 * (self.other / self.dose - 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "phase": self.phase,
            "cycle": self.cycle,
            "day": self.day,
            "date": self.date,
            "drug": self.drug,
            "unit": self.unit,
            "dose": self.dose,
            "other_dose": self.other,
            "difference_percent": self.difference_percent,
        }


@dataclass(frozen=True)
class Comparison:
    file: str | None
    settings: list[tuple[str, Any, Any]]  # (key, in force, other)
    rows: list[Row]
    bsa: tuple[float | None, float | None]
    critical: tuple[bool, bool]

    @property
    def changed(self) -> list[Row]:
        return [r for r in self.rows if r.other is None or abs(r.other - r.dose) > 1e-9]

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "settings": [{"key": k, "value": v, "other": o} for k, v, o in self.settings],
            "bsa_m2": self.bsa[0],
            "other_bsa_m2": self.bsa[1],
            "critical": self.critical[0],
            "other_critical": self.critical[1],
            "doses_changed": len(self.changed),
            "administrations": [r.as_dict() for r in self.rows],
        }


def _key(a: Any, seen: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    base = (a.phase, a.cycle, a.day, a.dose.drug)
    seen[base] = seen.get(base, 0) + 1
    return (*base, seen[base])


def compare(plan: Any, other: Any) -> Comparison:
    """``plan`` (the policy in force) against ``other`` (the same plan under another policy)."""
    from dosecalc.clinical.policy import SETTINGS, show

    default = " (the data's default)"

    seen: dict[tuple[Any, ...], int] = {}
    theirs = {_key(a, seen): a for a in other.administrations}
    seen = {}
    rows = []
    for a in plan.administrations:
        b = theirs.get(_key(a, seen))
        rows.append(
            Row(
                a.phase,
                a.cycle,
                a.day,
                a.date.isoformat(),
                a.dose.drug,
                a.dose.unit,
                a.dose.dose,
                b.dose.dose if b is not None and b.dose.unit == a.dose.unit else None,
            )
        )
    mine, yours = plan.policy, other.policy
    settings = [  # a value left to the data's default and that default named are one value
        (key, mine.values[key], yours.values[key])
        for key in SETTINGS
        if mine is not None
        and yours is not None
        and show(mine.values[key], key).removesuffix(default)
        != show(yours.values[key], key).removesuffix(default)
    ]
    return Comparison(
        yours.file if yours is not None else None,
        settings,
        rows,
        (plan.patient.bsa_m2, other.patient.bsa_m2),
        (plan.critical, other.critical),
    )
