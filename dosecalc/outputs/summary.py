"""A check of many patients, short: one status line per patient over a ceiling, CSV rows.

Plain text, no rich: built for each patient of a long check as it streams.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from dosecalc.base.csvout import Writer, cell, written
from dosecalc.base.numbers import fmt, past, percent
from dosecalc.clinical.check import level, level_of, passes
from dosecalc.clinical.cumulative import totals_of

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
            f"{_display(t.drug)} {past(t.total, level)} {t.unit.replace('/m2', '/m²')} "
            f"({percent(t.total, level)} of {kind} {fmt(level)})"
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
    patient = r.patient or ""
    return [
        csv_row(patient, t.drug, t.unit, t.total, t.threshold, t.limit, crossed, r.bsa_m2)
        for t in r.cumulative
        if passes(level_of(t), only)
    ]


def csv_row(
    patient: str,
    drug: str,
    unit: str,
    total: float,
    threshold: float | None,
    limit: float | None,
    crossed: dict[tuple[str, str], str],
    bsa_m2: float | None,
) -> list[Any]:
    """The CSV row of one total of one patient (``crossed``: as :func:`first_crossings`)."""
    return [
        patient,
        drug,
        unit,
        total,
        "" if threshold is None else threshold,
        "" if limit is None else limit,
        "" if not threshold else round(100 * total / threshold, 1),
        "" if not limit else round(100 * total / limit, 1),
        crossed.get((drug, "threshold"), ""),
        crossed.get((drug, "limit"), ""),
        "" if bsa_m2 is None else bsa_m2,
    ]


@lru_cache(maxsize=65536)
def _shape(setup: Any, total: str) -> tuple[str, str, float | None, float | None]:
    """A total's name, unit, threshold and limit for a patient of ``setup``'s exposure (as
    cumulative.totals_of makes each Total), its text cells as the CSV writer writes them."""
    [t] = totals_of(setup, {total: 0.0}, {})
    return cell(t.drug), cell(t.unit), t.threshold, t.limit


@lru_cache(maxsize=65536)
def _crossing(setup: Any, total: str, lvl: int) -> tuple[str, str] | None:
    """What a crossing of level ``lvl`` of ``total`` is in :func:`first_crossings`: the
    (drug, 'threshold'|'limit') of the warning the reference makes of it (crossing_alert: the
    ceiling's drug, the level's code), None for another level."""
    kind = _FIRST.get(setup.levels[total][lvl].code)
    return None if kind is None else (cell(setup.ceilings[total].drug), kind)


def numbers_rows(n: Any, only: str | None = None) -> list[list[Any]]:
    """:func:`csv_rows` of a patient's check made from the numbers an engine computed
    (pharmacy.batch.Numbers: totals, first crossings), every cell as the CSV writer writes it."""
    crossed: dict[tuple[str, str], str] = {}
    for total, lvl, d in n.crossings:
        key = _crossing(n.setup, total, lvl)
        if key is not None and key not in crossed:
            crossed[key] = d.isoformat()
    patient = cell(n.patient or "")
    rows = []
    for total, value in n.totals:
        drug, unit, threshold, limit = _shape(n.setup, total)
        if only is None or passes(level(value, threshold, limit), only):
            rows.append(csv_row(patient, drug, unit, value, threshold, limit, crossed, n.bsa_m2))
    return rows


def numbers_csv(checked: Any) -> Iterator[tuple[str, int]]:
    """:func:`numbers_rows` of every patient of an engine's check (pharmacy.batch.Checked),
    all of them (no --patients-over), as text the engine writes: (text, patients it accounts
    for). Every text cell is this module's (:func:`_shape`, :func:`_crossing`, :func:`cell`);
    the engine writes the numbers as Python does (tests/test_batch.py holds the text to
    :func:`csv_rows` of the reference's checks)."""

    def shape(setup: Any, total: str) -> tuple[Any, ...]:
        drug, unit, threshold, limit = _shape(setup, total)
        return (
            written(drug),
            written(unit),
            "" if threshold is None else written(threshold),
            "" if limit is None else written(limit),
            float(threshold) if threshold else None,  # csv_row: no percentage of a 0 or None
            float(limit) if limit else None,
        )

    def crossing(setup: Any, total: str, lvl: int) -> tuple[str, str] | None:
        key = _crossing(setup, total, lvl)
        return None if key is None else (written(key[0]), key[1])

    return checked.totals_csv(
        shape, crossing, lambda p: written(cell(p)), lambda x: written(round(x, 1))
    )


def csv_text(rows: list[list[Any]], header: bool = False) -> str:
    out = io.StringIO()
    writer = Writer(out)
    if header:
        writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
