"""Turning results into what people read: rich tables, JSON, CSV.

Only this module (and the CLI) decides how things look; the core returns plain values.
Numbers in tables follow ISMP (``numbers.fmt``); JSON and CSV carry unrounded numbers.
"""

from __future__ import annotations

import io
import math
from datetime import date, timedelta
from typing import Any

from rich.console import Console, Group
from rich.text import Text

from dosecalc.base.alerts import Alert
from dosecalc.base.csvout import DictWriter
from dosecalc.base.jsontext import to_json, to_json_line  # noqa: F401  (render.to_json)
from dosecalc.base.numbers import age_text, fmt, measured, past, percent
from dosecalc.clinical.cumulative import Total
from dosecalc.clinical.dosing import timing_text
from dosecalc.clinical.plan import Plan
from dosecalc.outputs.layout import Column, Grid, Hanging, pipe_width

REGIMEN_CODES = ("REGIMEN_UNVERIFIED", "REGIMEN_ASSUMPTION")
SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


def _day(d: date) -> str:
    return f"{d:%a} {d.isoformat()}"


def display_name(drug: str) -> str:
    from dosecalc.data import drugs

    return drugs.book().drugs[drug].display if drug in drugs.book().drugs else drug


def unit_text(unit: str) -> str:
    return unit.replace("/m2", "/m²")


def bsa_text(bsa: float) -> str:
    """A BSA to two decimals ('1.80'), with more where two would round it onto a rounder value
    it is not (0.5998, not 0.60, beside a rule for below 0.6 m²)."""
    text = f"{bsa:.2f}"
    if text.endswith("0") and not math.isclose(float(text), bsa, rel_tol=1e-9):
        return measured(bsa)
    return text


def patient_line(plan: Plan) -> str:
    p = plan.patient
    parts = []
    if p.height_cm is not None:
        parts.append(f"height {fmt(p.height_cm)} {'(read as cm)' if p.height_bare else 'cm'}")
    if p.weight_kg is not None:
        # the weight and BSA a rule compared with its limit, with the digits that keep them off
        # it (9.995 kg, not 10 kg, beside a rule for below 10 kg; 0.5998 m², not 0.60 m²)
        parts.append(f"weight {measured(p.weight_kg)} {'(read as kg)' if p.weight_bare else 'kg'}")
    how = "given" if p.bsa_formula == "given" else f"{p.bsa_formula.capitalize()} formula"
    if p.bsa_uncapped_m2 is not None:  # the formula's BSA, then the one doses use
        parts.append(
            f"BSA {p.bsa_uncapped_m2:.2f} m² ({p.bsa_formula.capitalize()}), capped at "
            f"{p.bsa_m2:.2f} m² (policy bsa.cap_m2)"
        )
    else:
        parts.append(f"BSA {bsa_text(p.bsa_m2)} m² ({how})")
    if p.sex:
        parts.append(p.sex)
    if p.age_years is not None:
        parts.append(f"age {age_text(p.age_years)}")
    if p.gfr_ml_min is not None:
        parts.append(
            f"GFR {fmt(p.gfr_ml_min)} mL/min ({'measured' if p.gfr_measured else 'estimate'})"
        )
    return ", ".join(parts)


def lab_lines(labs: Any, kidney: Any) -> list[str]:
    """'Labs: anc 1.2 ×10⁹/L (2026-11-28), bilirubin 2 mg/dL' and 'Kidney: CrCl ...'."""
    out = []
    if labs:
        latest = {v.name: v for v in labs.values}  # the latest of each (oldest first)
        shown = [v.shown() for v in latest.values()]
        older = len(labs.values) - len(latest)
        out.append(
            "Labs: " + ", ".join(shown) + (f" (and {older} earlier values)" if older else "")
        )
    if kidney is not None and kidney.summary():
        out.append(f"Kidney: {kidney.summary()}")
    return out


RANK = {"critical": 0, "warning": 1, "info": 2}


def where(a: Alert) -> str:
    """``'phase 2, cycle 9, day 2, 2027-03-24'`` (the parts an alert has)."""
    return ", ".join(
        x
        for x in (
            f"phase {a.phase}" if a.phase and a.phase > 1 else "",
            f"cycle {a.cycle}" if a.cycle else "",
            f"day {a.day}" if a.day else "",
            a.date.isoformat() if a.date else "",
        )
        if x
    )


def alerts_table(alerts: list[Alert]) -> Grid:
    """Warnings, the most severe first (each group in the order they happened)."""
    alerts = sorted(alerts, key=lambda a: RANK[a.severity])
    table = Grid(
        [
            Column("Severity"),
            Column("Code"),
            Column("Where"),
            Column("Message", wrap=30, under=1),
        ],
        title="Warnings",
        under_at=1,
    )
    for a in alerts:
        table.add_row(
            Text(a.severity, style=SEVERITY_STYLE[a.severity]), a.code, where(a), a.message
        )
    return table


def header_lines(plan: Plan) -> list[Text]:
    """The lines above a plan's doses, in order. Each is one Text (``Label: …``); add a line by
    appending to this list."""
    lines: list[Text] = []
    if plan.course is not None:
        c = plan.course.head
        title = Text(f"Course: {c.name or c.course}", style="bold")
        title.append(f"  [{c.course}]", style="")
    else:
        r = plan.regimen
        assert r is not None
        title = Text(f"{r.name}", style="bold")
        title.append(f"  [{r.id}{' v' + r.version if r.version else ''}]", style="")
    lines.append(title)
    if plan.course is None:
        lines.append(Text(f"Review: {review_words(plan.regimen)}"))
    lines.append(Text(f"Patient: {patient_line(plan)}"))
    lines += [Text(line) for line in lab_lines(plan.labs, plan.kidney)]
    if plan.course is None:
        r = plan.regimen
        assert r is not None
        lines.append(
            Text(
                f"Schedule: {plan.cycles} cycle{'s' if plan.cycles != 1 else ''} of "
                f"{r.cycle_length_days} days (start to start) from {_day(plan.start)}"
            )
        )
        sources = list(r.sources)
        more_at = f"dosecalc regimens show {r.id}"
    else:
        last = max(ph.end - timedelta(days=1) if ph.end else ph.start for ph in plan.phases)
        lines.append(  # a phase's end is the day after its last (exclusive); printed: the last
            Text(f"Calendar: {len(plan.phases)} phases from {_day(plan.start)} to {_day(last)}")
        )
        sources = (
            list(plan.course.head.sources)
            or [s for ph in plan.phases if ph.regimen for s in ph.regimen.sources][:1]
        )
        more_at = "the course file"
    if sources:
        more = f" (and {len(sources) - 1} more: {more_at})" if len(sources) > 1 else ""
        lines.append(Text(f"Source: {sources[0]}{more}"))
    changes = changes_lines(plan)
    if changes:
        lines.append(Text(f"Changed: {'; '.join(changes)}"))
    policy = policy_lines(plan)
    if policy:
        lines.append(Text(f"Policy: {'; '.join(policy)} (dosecalc policy show explains each)"))
    return lines


def changes_lines(plan: Plan) -> list[str]:
    """The delays and dose modifications this plan applies, one phrase each."""
    return plan.changes()


def plan_header(plan: Plan) -> Group:
    return Group(*(Hanging(line) for line in header_lines(plan)))


def review_words(r: Any, with_hash: bool = True) -> str:
    """``'draft (not approved), sha256 1a2b3c4d5e6f'``: how far a regimen was reviewed, and
    which version of the file this is."""
    if r.status == "approved":
        words = f"approved by {r.approved_by} on {r.approved_on}"
    else:
        words = f"{r.status} (not approved)"
    return words + (f", sha256 {r.sha256[:12]}" if r.sha256 and with_hash else "")


def _rows(plan: Plan, administrations: list[Any]) -> list[tuple[Any, list[Any]]]:
    """(first administration, row cells) in order; a run of 3+ identical oral daily doses of a
    drug within a cycle becomes one row with a day range. Identical: all the row shows, its
    note too (a morning and an evening line of one drug are two runs, each with its own note)."""
    rows: list[tuple[Any, list[Any]]] = []
    runs: dict[tuple[Any, ...], list[Any]] = {}
    parts: dict[tuple[Any, ...], list[Any]] = {}  # the timed doses of a supportive line on a day
    for a in administrations:
        d = a.dose
        if a.at_h is not None:
            key = (a.phase, a.cycle, a.day, id(d))
            if key in parts:
                parts[key].append(a)
                continue
            parts[key] = [a]
            rows.append((a, [a]))
            continue
        key = (a.phase, a.cycle, d.drug, d.route, d.dose, d.protocol.text, d.how)
        run = runs.get(key)
        if d.route.upper() == "PO" and run and a.day == run[-1].day + 1:
            run.append(a)
            continue
        runs[key] = [a]
        rows.append((a, runs[key]))
    out = []
    for first, run in rows:
        d = first.dose
        if first.at_h is not None:
            n = len(parts[(first.phase, first.cycle, first.day, id(d))])
            times = f"{n} × " if n > 1 else ""
            cells = [str(first.cycle), str(first.day), _day(first.date), display_name(d.drug)]
            out.append((first, [*cells, d, f"{times}{fmt(d.dose)} {d.unit}"]))
            continue
        last = run[-1]
        compact = len(run) >= 3
        day = f"{first.day}-{last.day}" if compact else str(first.day)
        when = f"{_day(first.date)} → {_day(last.date)}" if compact else _day(first.date)
        dose = f"{fmt(d.dose)} {d.unit}" + (" daily" if compact else "")
        if not compact and len(run) > 1:  # a short run: one row per day after all
            for a in run:
                out.append(
                    (
                        a,
                        [
                            str(a.cycle),
                            str(a.day),
                            _day(a.date),
                            display_name(d.drug),
                            d,
                            f"{fmt(d.dose)} {d.unit}",
                        ],
                    )
                )
            continue
        out.append((first, [str(first.cycle), day, when, display_name(d.drug), d, dose]))
    place = {id(a): n for n, a in enumerate(administrations)}
    return sorted(out, key=lambda row: place[id(row[0])])  # a short run's days: in date order


def _dose_table(plan: Plan, administrations: list[Any], notes: dict[str, int]) -> Grid:
    """The doses of one phase. How each is given is in its row; a regimen's note on an order
    is numbered once in ``notes`` and its number shown in the rows (see plan_table)."""
    modified = any(changed(a.dose) for a in administrations)
    given = any(a.dose.infusion or a.dose.note for a in administrations)
    columns = [
        Column("Cycle", justify="right"),
        Column("Day", justify="right"),
        Column("Date", under=6, label="{}"),  # moves last, on a very narrow terminal
        Column("Drug"),
    ]
    if modified:
        columns.append(Column("Standard", justify="right", under=3, label="standard {}"))
    columns += [
        Column("Dose", justify="right"),
        Column("Route", under=5, label="route {}"),  # last to move: under 59 columns
        Column("Basis", under=4, label="basis {}"),
    ]
    if given:
        columns.append(Column("Given as", wrap=18, under=1, max_lines=3))
    columns.append(Column("Calculation", wrap=24, under=2))
    table = Grid(columns, under_at=2)
    previous = None
    for a, cells in _rows(plan, administrations):
        d = cells[4]
        if previous is not None and a.cycle != previous:
            table.add_section()
        previous = a.cycle
        row: list[Any] = cells[:4]
        if modified:
            row.append(f"{fmt(d.standard)} {d.unit}" if changed(d) else "")
        row += [Text(cells[5], style="bold"), d.route, d.protocol_text]
        if given:
            how = d.infusion_text
            if d.note:
                number = notes.setdefault(f"{display_name(d.drug)}: {d.note}", len(notes) + 1)
                how = f"{how} (note {number})" if how else f"see note {number}"
            row.append(how)
        row.append(calculation(plan, d))
        table.add_row(*row)
    if any("→" in r.cells[2].plain for r in table.rows):  # a range of days: its two dates may
        table.columns[2] = Column("Date", wrap=len("Thu 2026-12-10 →"))  # stand one above the other
    return table


def changed(d: Any) -> bool:
    """Whether a dose differs from the standard one (a modification, an organ-function or a
    pharmacogenomic percent): the table then shows the standard dose beside it."""
    return bool(d.modification or d.organ_percent or d.pgx_percent)


def plan_table(plan: Plan) -> Group:
    course = plan.course is not None
    body: list[Any] = []
    notes: dict[str, int] = {}
    for ph in plan.phases:
        mine = [a for a in plan.administrations if a.phase == ph.number]
        if course:
            body.append(Text(""))
            body.append(Hanging(Text(f"Phase {ph.number}: {phase_title(ph)}", style="bold")))
        if mine:
            body.append(_dose_table(plan, mine, notes))
        if course and mine:
            totals = plan.totals_after.get(ph.number, {})
            shown = [
                t
                for t in plan.cumulative
                if t.drug in totals and (t.threshold is not None or t.limit is not None)
            ]
            if shown:
                body.append(
                    Hanging(
                        Text(
                            "lifetime after this phase: "
                            + "; ".join(
                                f"{t.drug} {fmt(totals[t.drug])} {unit_text(t.unit)}"
                                + (
                                    f" ({percent(totals[t.drug], t.limit)} of limit)"
                                    if t.limit
                                    else ""
                                )
                                for t in shown
                            ),
                            style="italic",
                        ),
                        indent=4,
                        first=2,
                    )
                )
    if notes:
        body += [Text(""), Text("Notes", style="bold")]
        body += [Hanging(f"{n}. {text}", indent=5, first=2) for text, n in notes.items()]
    care = supportive_lines(plan)
    if care:
        body += [Text(""), Text("Supportive care (not dosed here)", style="bold")]
        body += [Hanging(line, indent=4, first=2) for line in care]
    risk = emetogenic_lines(plan)
    if risk:
        body += [Text(""), Text(risk[0], style="bold")]
        body += [Hanging(line, indent=4, first=2) for line in risk[1:]]
    table = Group(*body)
    parts: list[Any] = [plan_header(plan), table]
    if plan.cumulative:
        parts += [Text(""), cumulative_table(plan.cumulative)]
        from dosecalc.outputs.chart import charts

        parts += charts(plan.result, plan.cumulative)
    if plan.projection:
        parts.append(Text("Projection", style="bold"))
        parts += [Hanging(line, indent=4, first=2) for p in plan.projection for line in p.lines]
        parts.append(Text(""))
    about = [w for w in plan.warnings if w.code in REGIMEN_CODES]
    others = [w for w in plan.warnings if w.code not in REGIMEN_CODES]
    if others:
        parts.append(alerts_table(others))
        parts.append(Text(""))
    if about:
        where = (
            "the course and regimen files"
            if course
            else (f"dosecalc regimens show {plan.regimen.id}" if plan.regimen else "")
        )
        parts.append(Hanging(Text(f"About the regimen data (see: {where})", style="bold")))
        grid = Grid([Column(""), Column("", wrap=20)], show_header=False, indent=2)
        for w in about:
            grid.add_row(Text(w.severity, style=SEVERITY_STYLE[w.severity]), w.message)
        parts.append(grid)
    return Group(*parts)


def day_ranges(days: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``'days 1-3, 5'``; ``[1]`` → ``'day 1'``."""
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return f"day{'s' if len(days) > 1 else ''} {', '.join(parts)}"


def supportive_lines(plan: Plan) -> list[str]:
    """The regimens' non-dosed supportive care, one line each: 'hydration with cisplatin, day 1
    (required on the order): ...'."""
    out = []
    course = plan.course is not None
    for ph, c in plan.supportive_care():
        days = list(c.days) if c.days else None
        when = f", {day_ranges(days)}" if days else ""
        at = f"phase {ph.number}: " if course else ""
        need = "required on the order" if c.required else "not required on the order"
        out.append(f"{at}{c.kind} with {c.serves}{when} ({need}): {c.text}")
    return out


def emetogenic_lines(plan: Plan) -> list[str]:
    """The title, then per phase (and run of cycles alike) each day's acute emetogenic risk,
    the prophylaxis of each level, the institution's agents and what the other options say."""
    from dosecalc.clinical.emetogenic import NAMES, WORDS

    if not plan.emetogenic:
        return []
    summary = plan.emetogenic_summary()
    option = str(summary["option"])
    out = [f"Emetogenic risk (acute; {NAMES[option]}, policy emetogenic.option)"]
    cover = {(c["phase"], c["cycle"]): tuple(c["to_days"]) for c in summary["cover"]}  # type: ignore[attr-defined]
    groups: dict[tuple[int, tuple[Any, ...]], list[int]] = {}
    for key in dict.fromkeys((d.phase, d.cycle) for d in plan.emetogenic):
        days = [d for d in plan.emetogenic if (d.phase, d.cycle) == key]
        pattern = tuple((d.day, d.level, d.why) for d in days) + (cover[key],)
        groups.setdefault((key[0], pattern), []).append(key[1])
    several = len(groups) > 1 or plan.course is not None
    for (phase, pattern), cycles in groups.items():
        spans: list[tuple[list[int], str, str]] = []
        for day, level, why in pattern[:-1]:
            if spans and spans[-1][1:] == (level, why) and day == spans[-1][0][-1] + 1:
                spans[-1][0].append(day)
            else:
                spans.append(([day], level, why))
        where = "each cycle"
        if several:
            at = f"phase {phase}, " if plan.course is not None else ""
            where = f"{at}cycle{'s' if len(cycles) > 1 else ''} " + (
                f"{cycles[0]}-{cycles[-1]}" if len(cycles) > 1 else str(cycles[0])
            )
        days = "; ".join(f"{day_ranges(d)} {WORDS[lv]} ({why})" for d, lv, why in spans)
        after = summary["multiday"]["days_after_completion"]  # type: ignore[index]
        ends = [str(x) for x in pattern[-1]]
        to = f"day {ends[0]}" if len(ends) == 1 else f"days {', '.join(ends)}"
        out.append(
            f"{where}: {days}; prophylaxis at least to {to} ({after} days after each block of "
            "treatment days)"
        )
    seen: dict[str, Any] = {}
    for d in plan.emetogenic:
        seen.setdefault(d.prophylaxis_key, d)
    for key, d in seen.items():
        unverified = "" if d.prophylaxis_verified else " (unverified)"
        out.append(f"{key}: {d.prophylaxis}{unverified}")
        if d.agents:
            out.append(f"{key}, this institution: {d.agents}")
    notes = dict.fromkeys(n for d in plan.emetogenic for n in d.notes)
    out += [f"note: {n}" for n in notes]
    return out


def phase_title(ph: Any) -> str:
    if ph.kind == "event":
        return f"{_day(ph.start)}: {ph.label}" + (f" ({ph.note})" if ph.note else "")
    if ph.kind == "radiotherapy":
        fractions = len(ph.fraction_dates)
        cardiac = "field includes the heart" if ph.cardiac else "not a cardiac field"
        return (
            f"radiotherapy {ph.label}, {ph.site}: {fractions} × "
            f"{fmt(ph.dose_per_fraction_gy)} Gy = {fmt(ph.total_gy)} Gy, weekdays "
            f"{_day(ph.fraction_dates[0])} → {_day(ph.fraction_dates[-1])} ({cardiac})"
        )
    r = ph.regimen
    label = f" ({ph.label})" if ph.label and ph.label != r.name else ""
    return (
        f"{r.id}{label}: {ph.cycles} cycle{'s' if ph.cycles != 1 else ''} of "
        f"{r.cycle_length_days} days from {_day(ph.start)}"
    )


def calculation(plan: Plan, d: Any) -> str:
    p = plan.patient
    if d.basis == "bsa":
        text = f"{d.protocol_text} × {p.bsa_m2:.4f} m²"
    elif d.basis == "weight":
        text = f"{d.protocol_text} × {measured(p.dosing_weight_kg or p.weight_kg or 0)} kg"
    elif d.basis == "auc":
        gfr = (d.calculated / d.protocol.amount) - 25
        text = f"{d.protocol_text} × (GFR {fmt(gfr)} + 25)"
    elif d.protocol.relative:
        factor = d.protocol.amount / 100 if d.basis == "percent" else d.protocol.amount
        text = f"{d.protocol_text} {fmt(d.calculated / factor)} {d.unit}"
    else:
        text = "flat"
    if d.rule is not None:
        percent = d.rule.rule.percent
        text += f", {d.rule.label}" + (f" {percent:g} %" if percent is not None else "")
    if d.capped_first:
        text += f" = {fmt(d.calculated)} {d.unit}, capped at {fmt(d.cap)} {d.unit}"
    if d.organ_percent is not None:
        text += f" × {fmt(d.organ_percent)} % (organ function)"
    if d.pgx_percent is not None:
        text += f" × {fmt(d.pgx_percent)} % ({d.pgx.gene})"
    elif d.pgx is not None and d.pgx.action in ("avoid", "no_recommendation"):
        what = "AVOID" if d.pgx.action == "avoid" else "no dose from genotype"
        text += f", {d.pgx.gene}: {what}"
    if d.modification is not None:
        text += f", {d.modification.percent:+g} %"
    if d.capped and d.modified > (d.cap or d.modified):
        text += f" = {fmt(d.modified)} {d.unit}, capped"
    if d.rounding:
        text += f", rounded {d.deviation_percent:+.1f} %"
    return text


def policy_lines(plan: Plan) -> list[str]:
    """The policy values that shaped this plan's numbers: the carboplatin rules when an AUC
    dose was calculated, the rounding rules when rounding is on, any other value changed from
    its default, and the policy file."""
    from dosecalc.clinical.policy import SETTINGS

    rules = plan.policy
    if rules is None:
        return []
    drugs_here = {a.dose.drug for a in plan.administrations}
    auc = any(a.dose.basis == "auc" for a in plan.administrations)
    rounding = rules["rounding.method"] != "none"
    sha = f" (SHA-256 {rules.sha256[:12]})" if rules.sha256 else ""
    out = [f"file {rules.file}{sha}"] if rules.file else []
    for key, setting in SETTINGS.items():
        value = rules.values[key]
        if key.startswith("carboplatin."):
            shown = auc
        elif key.startswith("rounding."):
            shown = rounding and value != setting.default
        else:
            shown = value != setting.default
        origin = rules.origins[key]  # not the file's (--set over it): said, with the value
        own = origin in ("default", rules.file) or origin.startswith(f"{rules.file}:")
        came = "" if own else f" ({origin})"
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in drugs_here}
            shown = shown and bool(value)
            if shown:
                out.append(f"{key} = {policy_value(value)}{came}")
            continue
        if shown:
            out.append(f"{key} = {policy_value(value, key)}{came}")
    return out


def policy_value(value: Any, key: str = "") -> str:
    from dosecalc.clinical.policy import show

    return show(value, key)


def policy_table(rules: Any) -> Grid:
    from dosecalc.clinical.policy import SETTINGS

    table = Grid(
        [
            Column("Setting"),
            Column("Value", wrap=28),
            Column("From", under=2, label="from {}"),
            Column("Default follows", wrap=30, under=1),
        ],
        title=f"Policy in force ({rules.file or 'defaults; no policy file'})",
        under_at=0,
        under_indent=2,
    )
    for key, setting in SETTINGS.items():
        why = setting.why
        if rules.origins[key] != "default":  # what the default follows, said of the default
            why = f"default {policy_value(setting.default, key)}: {why}"
        table.add_row(key, policy_value(rules.values[key], key), rules.origins[key], why)
    return table


def _pct(part: float, whole: float | None) -> str:
    return percent(part, whole)


def exposure_bar(t: Total, width: int = 24) -> Text:
    """A bar of the total against its ceiling: │ marks the threshold, the end the limit."""
    scale = t.limit or t.threshold
    if not scale:
        return Text("")
    filled = min(width, round(width * t.total / scale))
    mark = round(width * t.threshold / scale) if t.threshold and t.limit else None
    if t.limit is not None and t.total > t.limit:
        style = "bold red"
    elif t.threshold is not None and t.total >= t.threshold:
        style = "yellow"
    else:
        style = "green"
    bar = Text()
    for i in range(width):
        if mark is not None and i == mark:
            bar.append("│", style="bold")
        bar.append("█" if i < filled else "·", style=style if i < filled else "dim")
    if t.total > scale:
        bar.append("▶", style=style)
    return bar


NOT_CHECKED = "single agent: this total's ceiling is not checked (the drug's own ceiling is)"


def prior_text(t: Total) -> str:
    """A total's prior exposure as printed: 'not given' when nothing was looked up (unknown,
    never 0)."""
    return fmt(t.prior) if t.prior_known else "not given"


def cumulative_table(totals: list[Total], planned: bool = True) -> Grid:
    """Lifetime totals; in a plan with prior and planned parts, in a check with headroom bars."""
    columns = [Column("Drug"), Column("Unit")]
    if planned:
        columns += [
            Column("Prior", justify="right", under=1, label="prior {}", quiet=("0",)),
            Column("This plan", justify="right", under=2, label="this plan {}"),
        ]
    columns += [
        Column("Total", justify="right"),
        Column("Threshold", justify="right"),
        Column("Limit", justify="right"),
    ]
    if planned:
        columns.append(Column("% of limit", justify="right"))
    else:
        columns += [
            Column(
                "% of thr.", justify="right", under=2, label="{} of the threshold", quiet=("—",)
            ),
            Column("% of limit", justify="right"),
            Column("To limit", justify="right", under=3, label="{} to the limit", quiet=("—",)),
            Column("0 ─ threshold │ limit", under=1, label="0 ─ threshold │ limit  {}"),
        ]
    table = Grid(columns, title="Cumulative exposure", under_at=0, under_indent=2)
    for t in totals:
        cells: list[Any] = [display_name(t.drug), unit_text(t.unit)]
        if planned:
            cells += [prior_text(t), fmt(t.planned)]
        cells += [
            Text(past(t.total, t.threshold, t.limit), style="bold"),
            fmt(t.threshold) if t.threshold is not None else "—",
            fmt(t.limit) if t.limit is not None else "—",
        ]
        if planned:
            cells.append(_pct(t.total, t.limit))
        else:
            headroom = t.limit - t.total if t.limit is not None else None
            cells += [
                _pct(t.total, t.threshold),
                _pct(t.total, t.limit),
                past(headroom, 0.0) if headroom is not None else "—",
                exposure_bar(t),
            ]
        notes = [NOT_CHECKED] if t.extra.get("checked") is False else []
        if not notes and t.ceiling is not None and t.ceiling.adjustments:
            # why a ceiling is lower than the drug's usual one (e.g. doxorubicin 400 with
            # cyclophosphamide): the ceilings data's own words
            notes.append("ceiling lowered: " + "; ".join(t.ceiling.adjustments))
        table.add_row(*cells, note="; ".join(notes) or None)
    return table


def check_view(results: list[Any], with_charts: bool = True) -> Group:
    parts: list[Any] = []
    for r in results:
        if r.patient is not None:
            parts.append(Text(f"Patient {r.patient}", style="bold"))
        labs = lab_lines(getattr(r, "labs", None), getattr(r, "kidney", None))
        parts += [Text(line) for line in labs]
        parts.append(cumulative_table(r.cumulative, planned=False))
        if with_charts:
            from dosecalc.outputs.chart import charts

            parts += charts(r.result, r.cumulative)
        if r.next is not None:
            parts += next_lines(r.next)
        if r.warnings:
            parts.append(alerts_table(r.warnings))
    return Group(*parts)


def cycles(n: int | None, verb: str = "", what: str = "full cycle") -> str:
    """``'1 more full cycle keeps'``, ``'3 more full cycles keep'`` (``verb`` agrees)."""
    one = n == 1
    return f"{n} more {what}{'' if one else 's'}" + (f" {verb}{'s' if one else ''}" if verb else "")


def next_lines(n: Any) -> list[Any]:
    """What of a proposed regimen still fits, as the check's 'Next:' block."""
    out: list[Any] = [Text(f"Next: {n.regimen}", style="bold")]
    out.append(
        Hanging(
            f"{cycles(n.cycles_within_threshold, 'keep')} every total below its threshold"
            + (f" ({n.threshold_bound_by} binds first)" if n.threshold_bound_by else ""),
            indent=4,
            first=2,
        )
    )
    out.append(
        Hanging(
            f"{cycles(n.cycles_within_limit, 'keep')} every total within its limit"
            + (f" ({n.limit_bound_by} binds first)" if n.limit_bound_by else ""),
            indent=4,
            first=2,
        )
    )
    return out


CSV_COLUMNS = (
    "phase",
    "cycle",
    "day",
    "date",
    "regimen",
    "drug",
    "route",
    "basis",
    "protocol_dose",
    "protocol_unit",
    "calculated_dose",
    "dose",
    "dose_shown",
    "unit",
    "capped",
    "trace",
    "given_as",
    "infusion_type",
    "infusion_hours",
    "rate_per_h",
    "note",
    "for",
    "at_hours",
)


def ledger_patients(people: list[dict[str, Any]], where: str) -> Group:
    table = Grid(
        [
            Column("patient"),
            Column("doses in force", justify="right"),
            Column("first"),
            Column("last"),
        ],
        title=f"Patients in the ledger {where}",
    )
    for p in people:
        table.add_row(p["patient"], str(p["doses"]), p["first"] or "", p["last"] or "")
    if not people:
        return Group(Hanging(Text(table.title or "", style="bold")), Text("no doses recorded yet"))
    return Group(table)


def ledger_records(records: list[dict[str, Any]], where: str) -> Grid:
    table = Grid(
        [
            Column("#", justify="right"),
            Column("date"),
            Column("drug", wrap=10),  # a checked order's description wraps; a drug is a word
            Column("dose", justify="right"),
            Column("BSA m²", justify="right", under=4, label="BSA {} m²"),
            Column("recorded (UTC)", under=3, label="recorded {} UTC"),
            Column("by", under=2, label="by {}"),
            Column("source", under=1, label="from {}"),
            Column("status", wrap=16),
        ],
        title=f"Patient {records[0]['patient']}: {len(records)} records in {where}",
        under_at=1,
    )
    for r in records:
        recorded = r["recorded_at"][:16].replace("T", " ")
        if r["kind"] == "void":
            row = ["", "", "", "", recorded, r["recorded_by"], r["source"]]
            status = f"voids #{r['voids']}: {r['reason']}"
        elif r["kind"] == "check":  # a verified order, beside the doses (verify --record)
            from dosecalc.ledger.check_record import describe

            what, status = describe(r)
            row = [r["date"], what, "", r["bsa_m2"] or "", recorded, r["recorded_by"], r["source"]]
        else:
            drug = display_name(r["drug"])
            if r["drug_given"].lower() != r["drug"]:
                drug += f" ({r['drug_given']})"
            dose = f"{r['dose']} {unit_text(r['unit'])}"
            row = [
                r["date"],
                drug,
                dose,
                r["bsa_m2"] or "",
                recorded,
                r["recorded_by"],
                r["source"],
            ]
            status = f"VOIDED by #{r['voided_by']}" if r["voided_by"] else "in force"
            if r.get("reason"):  # a dose above the usual maximum, and why it was accepted
                status += f"; above the usual maximum: {r['reason']}"
        table.add_row(str(r["seq"]), *row, status, style="dim strike" if r["voided_by"] else None)
    return table


def ledger_csv(records: list[dict[str, Any]]) -> str:
    """The doses in force as a history file (docs/history.md) that ``check --history`` reads back
    to the same totals. Its ``id`` says which administration each row is: the record's id in the
    source system, else the ledger's number of the record (``ledger #12``), so two records of one
    dose recorded with ``--again`` stay two administrations when read back; the note is the
    record's own."""
    from dosecalc.data.records import ledger_id
    from dosecalc.inputs.history import COLUMNS

    out = io.StringIO()
    writer = DictWriter(out, COLUMNS)
    writer.writeheader()
    for r in records:
        if r["kind"] != "dose" or r["voided_by"]:
            continue
        row = {k: r.get(k) for k in COLUMNS if k not in ("drug", "id")}
        row["drug"] = r["drug_given"]
        row["id"] = r.get("source_id") or ledger_id(r["seq"])
        writer.writerow(row)
    return out.getvalue()


# Warnings a CSV of administrations carries in its last column, "notice": each on the first row of
# its drug (else the first row), once.
CSV_NOTICES = ("ABBREVIATION_READ",)


def plan_csv(plan: Plan) -> str:
    """One row per administration. ``notice``: an abbreviation read, at the drug's first row;
    every warning and critical that concerns the row, and every critical about the plan, with
    its severity; the plan's own warnings at the first row (the CSV has no header of its own)."""
    from dosecalc.outputs.exports import carried, label

    out = io.StringIO()
    writer = DictWriter(out, (*CSV_COLUMNS, "notice"))
    writer.writeheader()
    notices: dict[int, list[str]] = {}
    for w in plan.warnings:
        if w.code in CSV_NOTICES:
            at = next((i for i, a in enumerate(plan.administrations) if a.dose.drug == w.drug), 0)
            notices.setdefault(at, []).append(f"{w.code}: {w.message}")
    per, header = carried(plan)
    for i, alerts in enumerate(per):
        extra = alerts + [w for w in header if w not in alerts] if i == 0 else alerts
        notices.setdefault(i, []).extend(label(w) for w in extra)
    for i, a in enumerate(plan.administrations):
        row = a.as_dict()
        row["trace"] = " | ".join(row["trace"])  # type: ignore[arg-type]
        row["dose_shown"] = fmt(a.dose.dose).replace(",", "")  # as the table prints it
        infusion = row["infusion"] or {}
        row["infusion_type"] = infusion.get("type")  # type: ignore[union-attr]
        row["infusion_hours"] = infusion.get("duration_h")  # type: ignore[union-attr]
        row["rate_per_h"] = infusion.get("rate_per_h")  # type: ignore[union-attr]
        writer.writerow(
            {k: row[k] for k in CSV_COLUMNS} | {"notice": " | ".join(notices.get(i, []))}
        )
    return out.getvalue()


class _Uncropped(Console):
    """A console that prints a line wider than its width whole: the layouts fit every line but
    a URL (layout.unbroken), which a terminal shows on two rows and is still one URL."""

    def print(self, *objects: Any, crop: bool = False, **kwargs: Any) -> None:
        super().print(*objects, crop=crop, **kwargs)


def lines_view(text: str) -> Group:
    """Lines of plain text (``regimens diff``) wrapped at the print width, each under itself:
    never inside a number, its unit or a checksum, as the terminal's own wrap would."""
    return Group(*(Hanging(line, indent=2) for line in text.splitlines()))


def console(file: Any = None, width: int | None = None) -> Console:
    """A console for ``file``: a terminal's own width (``COLUMNS`` when set); anything else
    layout.pipe_width (``COLUMNS``, else the terminal typed in, else 80)."""
    c = _Uncropped(file=file, highlight=False, soft_wrap=False)
    if not c.is_terminal:
        c = _Uncropped(file=file, highlight=False, width=width or pipe_width(), color_system=None)
    return c


def to_text(renderable: Any, width: int | None = None) -> str:
    buf = io.StringIO()
    _Uncropped(file=buf, width=width or pipe_width(), color_system=None, highlight=False).print(
        renderable
    )
    return buf.getvalue()


def bsa_table(data: dict[str, Any]) -> Grid:
    from dosecalc.base.numbers import signed

    table = Grid(
        [
            Column("Formula"),
            Column("BSA", justify="right"),
            Column("vs Mosteller", justify="right", under=2, label="{} vs Mosteller"),
            Column("Citation", wrap=24, under=1),
        ],
        title=f"BSA for {fmt(data['height_cm'])} cm, {fmt(data['weight_kg'])} kg",
        under_at=1,
    )
    rows = data.get("results") or [data]
    ref = next((r["bsa_m2"] for r in rows if r["formula"] == "mosteller"), None)
    for r in rows:
        value = r["bsa_m2"]
        shown = f"{value:.4f} m²" if value is not None else r.get("note", "—")
        diff = signed(100 * (value / ref - 1)) if value is not None and ref else ""
        table.add_row(r["formula"], shown, diff, r.get("citation", ""))
    return table


def regimen_summary(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "indication": r.indication,
        "cycle_length_days": r.cycle_length_days,
        "cycles": r.cycles,
        "drugs": [o.drug for o in r.drugs],
    }


def regimens_table(regs: list[Any]) -> Grid:
    table = Grid(
        [
            Column("Id"),
            Column("Name", wrap=24),
            Column("Cycle", justify="right"),
            Column("Cycles", justify="right"),
        ]
    )
    for r in regs:
        table.add_row(r.id, r.name, f"{r.cycle_length_days} d", str(r.cycles))
    return table


def _days(days: tuple[int, ...]) -> str:
    """(1, 2, 3, 8) → '1-3, 8'."""
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def regimen_detail(r: Any) -> dict[str, Any]:
    out = regimen_summary(r)
    out.update(
        version=r.version,
        sources=list(r.sources),
        assumptions=list(r.assumptions),
        unverified=list(r.unverified),
        notes=list(r.notes),
        drugs=[
            {
                "drug": o.drug,
                "dose": o.per_day.amount,
                "dose_unit": o.per_day.per_unit,
                "dose_written": o.protocol.text,
                "written_as": "total_dose" if o.total_dose is not None else "dose",
                "days": list(o.days),
                "route": o.default_route,
                "max_dose": o.max_dose.amount if o.max_dose else None,
                "per_cycle": (
                    o.per_day.amount * len(o.days) * len(o.at_hours or [0])
                    if o.per_day.basis != "auc" and not o.per_day.relative
                    else None
                ),
                "supportive": o.supportive,
                "for": o.serves,
                "at_hours": o.at_hours,
                "required": o.required if o.supportive else None,
                "infusion": o.infusion.describe() if o.infusion else None,
                "infusion_detail": o.infusion.as_dict() if o.infusion else None,
                "note": o.note,
                "source": o.source,
                "rules": [
                    {
                        "when": x.when.describe(),
                        "dose": x.dose.text if x.dose else None,
                        "percent": x.percent,
                        "source": x.source,
                        "name": x.name,
                    }
                    for x in o.rules
                ],
            }
            for o in r.drugs
        ],
        supportive_care=[c.as_dict() for c in r.supportive_care],
        gates=None
        if r.gates is None
        else [
            {
                "lab": g.lab,
                "at_least": g.spec.at_least,
                "at_most": g.spec.at_most,
                "unit": g.spec.unit,
                "otherwise": g.otherwise,
                "source": g.spec.source,
                "note": g.note,
                "option": g.default,
                "options": None
                if g.options is None
                else {
                    name: {
                        "at_least": g.spec_for(name).at_least,
                        "at_most": g.spec_for(name).at_most,
                        "source": o.source,
                        "note": o.note,
                    }
                    for name, o in g.options.items()
                },
            }
            for g in r.gates
        ],
    )
    from dosecalc.clinical.plan import review_dict

    out.update(review_dict(r))
    out.update(
        default_gates=[
            {"lab": g.lab, "at_least": g.at_least, "unit": g.unit, "otherwise": g.otherwise}
            for g in _default_gates(r)
        ],
        not_gated=[n.model_dump() for n in r.not_gated],
        children=None if r.children is None else r.children.model_dump(),
    )
    return out


def _default_gates(r: Any) -> list[Any]:
    """The default count gates the regimen is held to under the default policy."""
    from dosecalc.clinical import policy
    from dosecalc.clinical.plan import default_gates

    return default_gates(r, policy.defaults())


def regimen_view(r: Any) -> Group:
    title = Text(f"{r.name}", style="bold")
    title.append(f"  [{r.id}{' v' + r.version if r.version else ''}]", style="")
    lines = [title]
    if r.indication:
        lines.append(Text(f"Indication: {r.indication}"))
    lines.append(Text(f"Review: {review_words(r)}"))
    lines.append(
        Text(f"Cycle: {r.cycle_length_days} days start to start; default {r.cycles} cycles")
    )
    head = Group(*(Hanging(line) for line in lines))
    table = Grid(
        [
            Column("Drug"),
            Column("Dose", wrap=14),
            Column("Days"),
            Column("Per cycle", under=3, label="{} per cycle"),
            Column("Route"),
            Column("Cap", under=2, label="cap {}"),
            Column("Given as / note", wrap=20, under=1, max_lines=3),
        ],
        under_at=0,
        under_indent=2,
    )
    for o in r.drugs:
        per_day = o.per_day
        written = (
            f"{per_day.describe()} (total {o.total_dose.describe()} ÷ {len(o.days)})"
            if o.total_dose is not None
            else per_day.describe()
        )
        times = len(o.at_hours or [0])
        if times > 1:
            written = f"{times} × {written}"
        over = o.infusion.total_over() if o.infusion else None
        if over:  # the total of a continuous infusion (46 h of 2,400 mg/m²), not a dose a day
            written = f"{written} {over}"
        per_cycle = (
            per_day.describe(per_day.amount * len(o.days) * times)
            if per_day.basis != "auc" and not per_day.relative
            else "—"
        )
        table.add_row(
            display_name(o.drug),
            written,
            _days(o.days),
            per_cycle,
            o.default_route,
            o.max_dose.describe() if o.max_dose else "",
            "; ".join(
                x
                for x in (
                    f"for {o.serves}, {timing_text(o)}" if o.at_hours else None,
                    o.infusion.describe() if o.infusion else None,
                    o.note,
                )
                if x
            ),
        )
    parts: list[Any] = [head, Text(""), table]
    if r.supportive_care:
        parts += [Text("Supportive care (not dosed):")]
        parts += [
            Hanging(f"  - {c.kind} with {c.serves}: {c.text} (source: {c.source})", indent=4)
            for c in r.supportive_care
        ]
    ruled = [
        f"{display_name(o.drug)} rule {i}: when {x.when.describe()}: {x.action()} (source: {x.source})"
        for o in r.drugs
        for i, x in enumerate(o.rules, 1)
    ]
    for title, items in (
        ("Rules for children and infants (the first that matches applies)", ruled),
        ("Sources", r.sources),
        ("Assumptions", r.assumptions),
        ("Unverified", r.unverified),
        ("Notes", r.notes),
    ):
        if items:
            parts.append(Text(f"{title}:", style="bold"))
            parts += [Hanging(f"- {item}", indent=4, first=2) for item in items]
    parts.append(Text("Lab gates (before each cycle):", style="bold"))
    if not r.gates:
        parts.append(
            Text("  none stated in the sources" if r.gates is not None else "  none stated")
        )
        defaults = _default_gates(r)
        if defaults:
            parts.append(
                Hanging(
                    "- held to the default gates (policy gates.default): "
                    + "; ".join(f"{g.text}, otherwise {g.otherwise}" for g in defaults),
                    indent=4,
                    first=2,
                )
            )
        elif not r.not_gated:
            parts.append(
                Hanging(
                    "- no default gates: none of its drugs is of a class held to count gates "
                    "(policy gates.default)",
                    indent=4,
                    first=2,
                )
            )
        parts += [
            Hanging(f"- no default {n.lab} gate: {n.reason} ({n.source})", indent=4, first=2)
            for n in r.not_gated
        ]
    parts += [
        Hanging(
            f"- {g.spec.text}, otherwise {g.otherwise}"
            + (f" ({g.spec.source})" if g.spec.source else "")
            + (
                f"; option {g.default} (default) of "
                + "; ".join(f"{name}: {g.spec_for(name).text}" for name in g.options)
                + f": {g.why_default} (policy gates.options picks another)"
                if g.options
                else ""
            ),
            indent=4,
            first=2,
        )
        for g in r.gates or []
    ]
    if r.children is not None:
        parts.append(Text("Children:", style="bold"))
        parts.append(Hanging(f"- {r.children.statement} ({r.children.source})", indent=4, first=2))
    return Group(*parts)
