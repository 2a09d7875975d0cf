"""A check of many patients, short: one status line per patient over a ceiling, CSV rows.

Plain text, no rich: built for each patient of a long check as it streams.
"""

from __future__ import annotations

import io
from typing import Any

from dosecalc.base.csvout import Writer
from dosecalc.base.numbers import fmt
from dosecalc.clinical.check import level_of, passes

CSV_COLUMNS = (
    "patient",
    "drug",
    "unit",
    "total",
    "threshold",
    "limit",
    "percent_of_threshold",
    "percent_of_limit",
    "threshold_reached_on",
    "limit_exceeded_on",
    "bsa_m2",
)
_FIRST = {"CUMULATIVE_THRESHOLD_REACHED": "threshold", "CUMULATIVE_LIMIT_EXCEEDED": "limit"}


def _display(drug: str) -> str:
    from dosecalc.data import drugs

    book = drugs.book().drugs
    return book[drug].display if drug in book else drug


def status_line(r: Any) -> str | None:
    """``P00012: LIMIT EXCEEDED: epiRUBicin 1,020 mg/m² (102 % of limit 1,000)``, or None when
    no total is over a threshold."""
    parts, worst_word = [], "threshold reached"
    for t in r.cumulative:
        kind = level_of(t)
        if kind is None:
            continue
        level = t.limit if kind == "limit" else t.threshold
        if kind == "limit":
            worst_word = "LIMIT EXCEEDED"
        parts.append(
            f"{_display(t.drug)} {fmt(t.total)} {t.unit.replace('/m2', '/m²')} "
            f"({fmt(100 * t.total / level, 0)} % of {kind} {fmt(level)})"
        )
    return f"{r.patient}: {worst_word}: {'; '.join(parts)}" if parts else None


def first_crossings(r: Any) -> dict[tuple[str, str], str]:
    """(drug, 'threshold'|'limit') → the date the running total first crossed it."""
    out: dict[tuple[str, str], str] = {}
    for w in r.warnings:
        kind = _FIRST.get(w.code)
        if kind and w.drug:
            out.setdefault((w.drug, kind), w.date.isoformat() if w.date else "prior")
    return out


def csv_rows(r: Any, only: str | None = None) -> list[list[Any]]:
    """One row per drug (and equivalent total) of one patient's check."""
    crossed = first_crossings(r)
    rows = []
    for t in r.cumulative:
        if not passes(level_of(t), only):
            continue
        rows.append(
            [
                r.patient or "",
                t.drug,
                t.unit,
                t.total,
                "" if t.threshold is None else t.threshold,
                "" if t.limit is None else t.limit,
                "" if not t.threshold else round(100 * t.total / t.threshold, 1),
                "" if not t.limit else round(100 * t.total / t.limit, 1),
                crossed.get((t.drug, "threshold"), ""),
                crossed.get((t.drug, "limit"), ""),
                "" if r.bsa_m2 is None else r.bsa_m2,
            ]
        )
    return rows


def csv_text(rows: list[list[Any]], header: bool = False) -> str:
    out = io.StringIO()
    writer = Writer(out)
    if header:
        writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
