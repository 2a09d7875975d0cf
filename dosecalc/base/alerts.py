"""Warnings attached to a plan or a check: severity, code, where, message.

Called ``Alert`` here so as not to shadow Python's ``warnings``; serialised as "warnings".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

INFO, WARNING, CRITICAL = "info", "warning", "critical"
SEVERITIES = (INFO, WARNING, CRITICAL)


@dataclass(frozen=True)
class Alert:
    severity: str
    code: str
    message: str
    drug: str | None = None
    phase: int | None = None
    cycle: int | None = None
    day: int | None = None
    date: date | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "drug": self.drug,
            "phase": self.phase,
            "cycle": self.cycle,
            "day": self.day,
            "date": self.date.isoformat() if self.date else None,
            "message": self.message,
        }


def worst(alerts: list[Alert]) -> str | None:
    """The highest severity among ``alerts`` (None when there are none)."""
    ranks = [SEVERITIES.index(a.severity) for a in alerts]
    return SEVERITIES[max(ranks)] if ranks else None
