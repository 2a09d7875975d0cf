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

from dosecalc.base.numbers import fmt


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
    from dosecalc.clinical.policy import SETTINGS

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
    settings = [
        (key, mine.values[key], yours.values[key])
        for key in SETTINGS
        if mine is not None and yours is not None and mine.values[key] != yours.values[key]
    ]
    return Comparison(
        yours.file if yours is not None else None,
        settings,
        rows,
        (plan.patient.bsa_m2, other.patient.bsa_m2),
        (plan.critical, other.critical),
    )


def table(c: Comparison) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text(f"\nPolicy comparison: in force vs {c.file}\n", style="bold")
    if not c.settings:
        head.append("  the two policies set every value alike\n")
    for key, v, o in c.settings:
        head.append(f"  {key}: {_show(v)} → {_show(o)}\n")
    if c.bsa[0] != c.bsa[1]:
        head.append(f"  BSA {c.bsa[0]:.4f} m² → {c.bsa[1]:.4f} m²\n")
    if c.critical[0] != c.critical[1]:
        head.append(
            "  the other policy's plan "
            + ("has" if c.critical[1] else "has no")
            + " critical warning\n"
        )
    t = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False)
    for col in ("Cycle", "Day", "Date", "Drug", "In force", "Other policy", "Difference"):
        t.add_column(
            col,
            justify="right"
            if col in ("Cycle", "Day", "In force", "Other policy", "Difference")
            else "left",
        )
    for r in c.rows:
        diff = r.difference_percent
        t.add_row(
            str(r.cycle) if r.phase == 1 else f"{r.phase}.{r.cycle}",
            str(r.day),
            r.date,
            r.drug,
            f"{fmt(r.dose)} {r.unit}",
            f"{fmt(r.other)} {r.unit}" if r.other is not None else "—",
            "" if diff is None or abs(diff) < 1e-9 else Text(f"{diff:+.1f} %", style="bold"),
        )
    count = len(c.changed)
    foot = Text(f"{count} of {len(c.rows)} doses differ\n")
    return Group(head, t, foot)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    if isinstance(value, float):
        return fmt(value)
    return str(value)
