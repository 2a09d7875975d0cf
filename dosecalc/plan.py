"""A plan: one patient, one regimen, dated doses, cumulative totals and warnings.

This is the API the CLI calls: ``make_plan(regimen, patient, start=..., cycles=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dosecalc import __version__
from dosecalc.alerts import CRITICAL, INFO, WARNING, Alert
from dosecalc.dosing import calculate
from dosecalc.errors import fail
from dosecalc.numbers import fmt
from dosecalc.patient import Patient
from dosecalc.regimen import MAX_CYCLES, Regimen
from dosecalc.schedule import Administration, expand


@dataclass(frozen=True)
class Total:
    """Cumulative exposure to one drug (or a combined equivalent) in one unit basis."""

    drug: str
    unit: str  # "mg/m2", "mg", "units"
    prior: float = 0.0
    planned: float = 0.0
    threshold: float | None = None
    limit: float | None = None

    @property
    def total(self) -> float:
        return self.prior + self.planned

    def as_dict(self) -> dict[str, object]:
        return {
            "drug": self.drug,
            "unit": self.unit,
            "prior": self.prior,
            "planned": self.planned,
            "total": self.total,
            "threshold": self.threshold,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class Plan:
    patient: Patient
    regimen: Regimen
    start: date
    cycles: int
    administrations: list[Administration]
    cumulative: list[Total]
    warnings: list[Alert] = field(default_factory=list)

    @property
    def critical(self) -> bool:
        return any(w.severity == CRITICAL for w in self.warnings)

    def as_dict(self) -> dict[str, object]:
        r = self.regimen
        return {
            "dosecalc_version": __version__,
            "patient": self.patient.as_dict(),
            "regimen": {
                "id": r.id,
                "name": r.name,
                "cycle_length_days": r.cycle_length_days,
                "cycles": self.cycles,
                "start": self.start.isoformat(),
                "version": r.version,
                "sources": list(r.sources),
                "assumptions": list(r.assumptions),
                "unverified": list(r.unverified),
                "notes": list(r.notes),
            },
            "administrations": [a.as_dict() for a in self.administrations],
            "cumulative": [t.as_dict() for t in self.cumulative],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def parse_start(text: str | date | None, today: date | None = None) -> tuple[date, bool]:
    """The start date and whether it was assumed (today)."""
    if text is None:
        return (today or date.today()), True
    if isinstance(text, date):
        return text, False
    try:
        return date.fromisoformat(text.strip()), False
    except ValueError:
        raise fail(
            "--start", f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01"
        ) from None


def _regimen_alerts(regimen: Regimen) -> list[Alert]:
    out = [
        Alert(WARNING, "REGIMEN_UNVERIFIED", f"{regimen.id}: unverified: {text}")
        for text in regimen.unverified
    ]
    out += [
        Alert(INFO, "REGIMEN_ASSUMPTION", f"{regimen.id}: assumed: {text}")
        for text in regimen.assumptions
    ]
    return out


def _totals(administrations: list[Administration], patient: Patient) -> list[Total]:
    sums: dict[tuple[str, str], float] = {}
    for a in administrations:
        d = a.dose
        if d.basis == "bsa" and patient.bsa_m2:
            key, amount = (d.drug, f"{d.unit}/m2"), d.dose / patient.bsa_m2
        else:
            key, amount = (d.drug, d.unit), d.dose
        sums[key] = sums.get(key, 0.0) + amount
    return [Total(drug, unit, planned=amount) for (drug, unit), amount in sums.items()]


def _capped(administrations: list[Administration]) -> list[Alert]:
    """DOSE_CAPPED once per drug order, at its first capped administration."""
    out: list[Alert] = []
    seen: set[tuple[str, str]] = set()
    for a in administrations:
        d = a.dose
        key = (d.drug, d.protocol.text)
        if d.capped and key not in seen:
            seen.add(key)
            out.append(
                Alert(
                    WARNING,
                    "DOSE_CAPPED",
                    f"{d.drug}: {d.protocol_text} gives {fmt(d.calculated)} {d.unit}, capped at "
                    f"{fmt(d.dose)} {d.unit} (max_dose of the regimen)",
                    drug=d.drug,
                    phase=a.phase,
                    cycle=a.cycle,
                    day=a.day,
                    date=a.date,
                )
            )
    return out


def make_plan(
    regimen: Regimen,
    patient: Patient,
    start: date | str | None = None,
    cycles: int | None = None,
    today: date | None = None,
) -> Plan:
    first, assumed = parse_start(start, today)
    n = regimen.cycles if cycles is None else cycles
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CYCLES:
        raise fail("--cycles", f"{n!r} is not a number of cycles; give 1 to {MAX_CYCLES}")
    doses = [(order.days, calculate(order, patient)) for order in regimen.drugs]
    administrations = expand(doses, first, n, regimen.cycle_length_days, regimen.id)
    warnings = _regimen_alerts(regimen)
    if assumed:
        warnings.append(
            Alert(
                INFO,
                "START_DATE_ASSUMED",
                f"no --start given: cycle 1 day 1 is today, {first.isoformat()}",
            )
        )
    warnings += _capped(administrations)
    return Plan(
        patient, regimen, first, n, administrations, _totals(administrations, patient), warnings
    )
