"""The printable order sheet and treatment calendar (``--format html``), from a Jinja2 template.

Self-contained: inline CSS with print rules for A4 or Letter (``--paper``), the lifetime chart
inlined as SVG; no script, no external file.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from dosecalc import __version__
from dosecalc.base.numbers import age_text, fmt

PAPERS = {"a4": "A4", "letter": "letter"}


def _where(w: Any) -> str:
    parts = [
        f"phase {w.phase}" if w.phase and w.phase > 1 else "",
        f"cycle {w.cycle}" if w.cycle else "",
        f"day {w.day}" if w.day else "",
        w.date.isoformat() if w.date else "",
    ]
    text = ", ".join(p for p in parts if p)
    return f"[{text}]" if text else ""


def timed_groups(administrations: list[Any]) -> tuple[list[Any], dict[int, list[float]]]:
    """The timed doses of one supportive line on one day (mesna at 0, 4 and 8 h) as one row:
    the first of them, and id(first) → their hours (an untimed administration: [])."""
    out: list[Any] = []
    times: dict[int, list[float]] = {}
    firsts: dict[tuple[Any, ...], Any] = {}
    for a in administrations:
        key = (a.phase, a.cycle, a.day, id(a.dose))
        if a.at_h is not None and key in firsts:
            times[id(firsts[key])].append(a.at_h)
            continue
        if a.at_h is not None:
            firsts[key] = a
        out.append(a)
        times[id(a)] = [a.at_h] if a.at_h is not None else []
    return out, times


def _calendar(plan: Any) -> list[dict[str, Any]]:
    by_day: dict[date, list[str]] = defaultdict(list)
    shown, times = timed_groups(list(plan.administrations))
    for a in shown:
        n = len(times[id(a)])
        many = f"{n} × " if n > 1 else ""
        by_day[a.date].append(f"{a.dose.drug} {many}{fmt(a.dose.dose)}\u00a0{a.dose.unit}")
    for ph in plan.phases:
        if ph.kind == "event":
            by_day[ph.start].append(ph.label)
        for d in ph.fraction_dates:
            by_day[d].append(f"RT {fmt(ph.dose_per_fraction_gy)}\u00a0Gy")
    months = sorted({(d.year, d.month) for d in by_day})
    out = []
    for year, month in months:
        cells = []
        for week in calendar.Calendar().monthdatescalendar(year, month):
            for d in week:
                inside = d.month == month
                # every dose of the day, however many: a calendar that showed three and
                # '+2 more' left R-CHOP's vincristine off day 1
                items = by_day.get(d, []) if inside else []
                cells.append({"day": d.day if inside else None, "entries": items})
        out.append({"title": f"{calendar.month_name[month]} {year}", "cells": cells})
    return out


def _changed_words(d: Any) -> str:
    """A modified dose's standard dose and why it differs ('' for a standard dose)."""
    from dosecalc.outputs import render as text_render

    if not text_render.changed(d):
        return ""
    why = (
        f": {d.modification.drug or 'all drugs'} {d.modification.describe()}"
        if d.modification
        else ""
    )
    return f"standard {fmt(d.standard)}\u00a0{d.unit}{why}"


def identification(identity: dict[str, str | None] | None) -> list[tuple[str, str | None]]:
    """The patient identification block: (label, value or None for a line to fill by hand).
    Only what was given is printed; nothing is invented."""
    identity = identity or {}
    rows: list[tuple[str, str | None]] = [
        ("Name", identity.get("name")),
        ("Date of birth", identity.get("birth_date")),
        ("MRN", identity.get("mrn")),
    ]
    if identity.get("patient_id"):
        rows.append(("Ledger patient id", identity["patient_id"]))
    return rows


def css_string(text: str) -> str:
    """``text`` as the inside of a CSS string: every character but an ASCII letter, digit or
    space written as its hex escape, so that no name can end the string or the style element."""
    return "".join(
        c if c.isascii() and (c.isalnum() or c == " ") else f"\\{ord(c):x} " for c in text
    )


def running_heads(rows: list[tuple[str, str | None]], title: str, start: date) -> dict[str, str]:
    """What every printed page carries in its margins (as CSS strings): the patient's name,
    date of birth and MRN (or a line to write each by hand), and which sheet this is."""
    blank = "_" * 24
    values = {label: value for label, value in rows}
    name = values["Name"] or blank
    ids = [f"{label}: {value or blank[:14]}" for label, value in rows[1:]]
    return {
        "name": css_string(f"Name: {name}"),
        "ids": css_string(" · ".join(ids)),
        "sheet": css_string(f"Order sheet: {title}, from {start.isoformat()}"),
    }


def render(
    plan: Any,
    paper: str = "a4",
    now: datetime | None = None,
    identity: dict[str, str | None] | None = None,
) -> str:
    import jinja2

    from dosecalc.outputs import render as text_render

    if paper not in PAPERS:
        from dosecalc.base.errors import fail

        raise fail("--paper", f"'{paper}' is not a paper size here; give a4 or letter")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dosecalc.outputs", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    p = plan.patient
    measures = [
        ("Height", f"{fmt(p.height_cm)} cm" if p.height_cm is not None else None),
        ("Weight", f"{fmt(p.weight_kg)} kg" if p.weight_kg is not None else None),
        (
            "BSA",
            f"{p.bsa_m2:.2f} m² ("
            + ("measured/prescribed" if p.bsa_formula == "given" else p.bsa_formula + " formula")
            + ")"
            if p.bsa_uncapped_m2 is None
            else f"{p.bsa_uncapped_m2:.2f} m² ({p.bsa_formula} formula), capped at "
            f"{p.bsa_m2:.2f} m² (policy bsa.cap_m2)",
        ),
    ]
    patient = [
        (label, value)
        for label, value in (
            (
                "Dosing weight",
                f"{fmt(p.dosing_weight_kg)} kg ({p.weight_basis})"
                if p.dosing_weight_kg is not None
                else "—",
            ),
            ("Sex", p.sex or "—"),
            ("Age", age_text(p.age_years) if p.age_years is not None else "—"),
            ("Serum creatinine", f"{fmt(p.scr_mg_dl)} mg/dL" if p.scr_mg_dl else "—"),
            ("GFR given", f"{fmt(p.gfr_ml_min)} mL/min" if p.gfr_ml_min else "—"),
        )
    ]
    if plan.course is not None:
        head = plan.course.head
        title = head.name or head.course
        sources = (
            list(head.sources)
            or [s for ph in plan.phases if ph.regimen for s in ph.regimen.sources][:3]
        )
        assumptions = (
            list(head.assumptions)
            + list(head.unverified)
            + (list(head.patient.assumptions) if head.patient else [])
        )
        regimen = [
            ("Course", head.course),
            ("Phases", str(len(plan.phases))),
            ("Start", plan.start.isoformat()),
        ]
        if plan.course.sha256:
            regimen.append(("Course file SHA-256", plan.course.sha256))
        for ph in plan.phases:
            if ph.regimen is not None:
                regimen.append(
                    (
                        f"Phase {ph.number}: {ph.regimen.id}",
                        text_render.review_words(ph.regimen, with_hash=False)
                        + (f"; SHA-256 {ph.regimen.sha256}" if ph.regimen.sha256 else ""),
                    )
                )
    else:
        r = plan.regimen
        title = r.name
        sources = list(r.sources)
        assumptions = list(r.assumptions) + list(r.unverified)
        regimen = [
            ("Regimen", f"{r.id}" + (f" v{r.version}" if r.version else "")),
            ("Cycle length", f"{r.cycle_length_days} days (start to start)"),
            ("Cycles", str(plan.cycles)),
            ("Start", plan.start.isoformat()),
            ("Review", text_render.review_words(r, with_hash=False)),
        ]
        if r.sha256:
            regimen.append(("Regimen file SHA-256", r.sha256))
    phases = []
    for ph in plan.phases:
        mine, times = timed_groups([a for a in plan.administrations if a.phase == ph.number])
        rows = [
            {
                "cycle": a.cycle,
                "day": a.day,
                "date": f"{a.date:%a} {a.date.isoformat()}",
                "iso": a.date.isoformat(),
                "weekday": f"{a.date:%A}",
                "drug": text_render.display_name(a.dose.drug),
                # may break after "3 ×" and, in a narrow column, between "46,116.5" and
                # "units", never inside a number (nor past the column's edge)
                "times_n": f"{len(times[id(a)])}\u00a0×" if len(times[id(a)]) > 1 else "",
                "amount": fmt(a.dose.dose),
                "unit": a.dose.unit,
                "times": [fmt(h) for h in times[id(a)]] if len(times[id(a)]) > 1 else [],
                "route": a.dose.route,
                "given_as": a.dose.infusion_text,
                "note": a.dose.note,
                "changed": _changed_words(a.dose),
                "protocol": a.dose.protocol_text,
                "calculation": text_render.calculation(plan, a.dose),
            }
            for a in mine
        ]
        phases.append(
            {
                "number": ph.number,
                "title": text_render.phase_title(ph) if plan.course is not None else "",
                "rows": rows,
            }
        )
    totals = []
    for t in plan.cumulative:
        unit = t.unit.replace("m2", "m²")
        pct = 100 * t.total / t.limit if t.limit else None
        totals.append(
            {
                "drug": t.drug,
                "unit": unit,
                "prior": text_render.prior_text(t),
                "planned": fmt(t.planned),
                "total": fmt(t.total),
                "threshold": fmt(t.threshold) if t.threshold is not None else "—",
                "limit": fmt(t.limit) if t.limit is not None else "—",
                "percent": f"{pct:.0f} %" if pct is not None else "—",
                "style": "critical"
                if t.limit and t.total > t.limit
                else "warning"
                if t.threshold and t.total >= t.threshold
                else "",
            }
        )
    chart_svg = _chart_svg(plan)
    shown = [w for w in plan.warnings if w.code not in text_render.REGIMEN_CODES]
    alerts = [{"where": _where(w), "message": w.message} for w in shown]
    severities = [w.severity for w in shown]
    who = identification(identity)  # the block on page 1 and every page's running heads
    return env.get_template("plan.html.j2").render(
        title=title,
        identity=f"{plan.start.isoformat()} · {len(plan.administrations)} administrations",
        generated=(now or datetime.now()).strftime("%Y-%m-%d %H:%M"),
        version=__version__,
        paper=paper,
        paper_css=PAPERS[paper],
        critical=[a for a, s in zip(alerts, severities, strict=True) if s == "critical"],
        warnings=[a for a, s in zip(alerts, severities, strict=True) if s == "warning"],
        notices=[a for a, s in zip(alerts, severities, strict=True) if s == "info"],
        patient=patient,
        identification=who,
        heads=running_heads(who, title, plan.start),
        measures=measures,
        regimen=regimen,
        changes=text_render.changes_lines(plan),
        sources=sources,
        assumptions=assumptions,
        phases=phases,
        totals=totals,
        projection=[line for pr in plan.projection for line in pr.lines],
        supportive=text_render.supportive_lines(plan),
        emetogenic=text_render.emetogenic_lines(plan),
        chart=chart_svg,
        calendar=_calendar(plan),
        policy="; ".join(text_render.policy_lines(plan)) or "defaults",
    )


def _chart_svg(plan: Any) -> str | None:
    import io
    import re

    from dosecalc.outputs import chart

    if not chart.with_ceiling(plan.cumulative) or plan.result is None:
        return None
    buffer = io.BytesIO()
    chart.draw(buffer, "svg", plan.result, plan.cumulative, "Lifetime exposure")
    svg = buffer.getvalue().decode("utf-8")
    return re.sub(r"^.*?(<svg)", r"\1", svg, flags=re.S)  # drop the XML prologue
