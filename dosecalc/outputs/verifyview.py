"""What a pharmacist reads after ``dosecalc verify``: the verdict in one glance, the lines side by
side (ordered, expected, deviation, status), then the reasons, most severe first.

Laid out for an 80-column terminal: narrow columns for the lines, and every sentence as a
wrapped paragraph under its code rather than a table column.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from dosecalc.base.numbers import fmt, past, percent, signed
from dosecalc.clinical.verify import (
    GIVEN_AS,
    HOLD,
    NOTES,
    OK,
    OUTSIDE,
    RELEASE,
    WRONG_ROUTE,
    Verification,
)
from dosecalc.outputs.layout import Column, Grid, Hanging
from dosecalc.outputs.render import (
    RANK,
    SEVERITY_STYLE,
    display_name,
    lab_lines,
    patient_line,
    policy_lines,
    unit_text,
)

VERDICT = {
    RELEASE: ("RELEASE", "bold green"),
    NOTES: ("RELEASE WITH NOTES", "bold yellow"),
    HOLD: ("HOLD", "bold white on red"),
}
STATUS = {
    OK: ("ok", "green"),
    OUTSIDE: ("OUTSIDE", "bold red"),
    WRONG_ROUTE: ("ROUTE", "bold red"),
    GIVEN_AS: ("GIVEN AS?", "bold red"),
    "not-in-regimen": ("NOT IN REGIMEN", "bold red"),
    "missing": ("MISSING", "yellow"),
}


def _counts(v: Verification) -> str:
    n = {s: sum(1 for w in v.warnings if w.severity == s) for s in ("critical", "warning", "info")}
    parts = [f"{n['critical']} critical"] if n["critical"] else []
    if n["warning"]:
        parts.append(f"{n['warning']} warning{'s' if n['warning'] > 1 else ''}")
    if n["info"]:
        parts.append(f"{n['info']} note{'s' if n['info'] > 1 else ''}")
    return ", ".join(parts) or "nothing to note"


def verdict_line(v: Verification) -> Text:
    """`` HOLD   1 critical, 3 warnings``: first on the screen, and again last, where a
    pharmacist reads on when the top has scrolled away."""
    word, style = VERDICT[v.verdict]
    banner = Text()
    banner.append(f" {word} ", style=style)
    banner.append(f"  {_counts(v)}")
    return banner


def header(v: Verification) -> Group:
    o, r = v.order, v.regimen
    banner = verdict_line(v)
    grid = Grid([Column("", style="bold"), Column("", wrap=20)], show_header=False)
    grid.add_row("Order", f"{o.id or '(no id)'} · {o.source} · SHA-256 {o.sha256[:12]}")
    version = f" v{r.version}" if r.version else ""
    grid.add_row("Regimen", f"{r.name} [{r.id}{version}]")
    sha = f", file SHA-256 {r.sha256[:12]}" if r.sha256 else ""
    grid.add_row("", f"{r.status}{sha}")
    grid.add_row("", f"cycle {o.cycle} of {r.cycles}, day 1 {o.start:%a} {o.start}")
    grid.add_row("Patient", patient_line(v.plan))
    if v.patient_from == "order":
        said = Text("from the order: only the arithmetic and the protocol were checked", "yellow")
    else:
        said = Text("current measurements (command line)")
    order_said = []
    if v.order_bsa_m2 is not None:
        order_said.append(f"BSA {v.order_bsa_m2:.2f} m²")
    if o.patient.measured is not None:
        order_said.append(f"measured {o.patient.measured}")
    elif o.patient.any_size:
        order_said.append("measured: not stated")
    if order_said:
        said.append(f"; the order: {', '.join(order_said)}", style="")
    grid.add_row("", said)
    for line in lab_lines(v.plan.labs, v.plan.kidney):
        name, _, rest = line.partition(": ")
        grid.add_row(name, rest)
    if o.prescriber:
        grid.add_row("Prescriber", o.prescriber)
    grid.add_row("Policy", "; ".join(policy_lines(v.plan)) or "defaults (no policy file)")
    return Group(banner, grid)


def _dev(value: float | None, tolerance: float) -> str:
    if value is None:
        return ""
    return "0.0%" if abs(value) < 0.05 else signed(value, unit="%", levels=(tolerance,))


def lines_table(v: Verification) -> Grid:
    """The lines side by side; on a narrow terminal the route, then the deviation, move under
    their row (drug names and doses are never cut)."""
    table = Grid(
        [
            Column("Day", justify="right"),
            Column("Drug"),
            Column("Route", under=1, label="route {}"),
            Column("Ordered", justify="right"),
            Column("Expected", justify="right"),
            Column("Dev.", justify="right", under=2, label="deviation {}"),
            Column("Status"),
        ],
        under_at=1,
    )
    rows: list[tuple[int, int, list[Any]]] = []
    for n, c in enumerate(v.lines):
        ln = c.line
        expected = c.expected_amount
        dev = c.deviation
        word, style = STATUS.get(c.status, (c.status, "bold"))
        if c.status == OK and c.rounding:
            word = "ok, rounded"
        elif c.status == OUTSIDE:
            word = f"OUTSIDE ±{fmt(c.tolerance)}%"
        if c.expected is not None and c.expected.dose.serves:
            word += f", for {c.expected.dose.serves}"  # a supportive line names the line served
        route = ln.route or (f"({c.expected.dose.route})" if c.expected else "")
        rows.append(
            (
                ln.day,
                n,
                [
                    str(ln.day),
                    display_name(ln.drug),
                    route,
                    f"{fmt(ln.amount)} {unit_text(ln.unit)}",
                    f"{fmt(expected)} {unit_text(ln.unit)}" if expected is not None else "—",
                    _dev(dev, c.tolerance),
                    Text(word, style=style),
                ],
            )
        )
    for n, a in enumerate(v.missing, len(v.lines)):
        d = a.dose
        word, style = STATUS["missing"]
        if d.serves:
            word += f", for {d.serves}"
        rows.append(
            (
                a.day,
                n,
                [
                    str(a.day),
                    display_name(d.drug),
                    d.route,
                    "—",
                    f"{fmt(d.before_rounding)} {unit_text(d.unit)}",
                    "",
                    Text(word, style=style),
                ],
            )
        )
    for _, _, cells in sorted(rows, key=lambda r: (r[0], r[1])):
        table.add_row(*(c if isinstance(c, Text) else Text(c) for c in cells))  # no markup
    return table


def reasons(v: Verification) -> Group:
    out: list[Any] = [Text("Reasons, most severe first", style="bold")]
    shown = sorted(v.warnings, key=lambda w: RANK[w.severity])
    if not shown:
        out.append(Text("  none: every line is within tolerance and nothing was flagged"))
    for w in shown:
        head = Text("  ")
        head.append(f"{w.severity.upper():<8}", style=SEVERITY_STYLE[w.severity])
        head.append(f" {w.code}", style="bold")
        where = ", ".join(x for x in (w.drug or "", f"day {w.day}" if w.day else "") if x)
        if where:
            head.append(f" ({where})")
        out.append(head)
        message = Grid([Column("", wrap=20)], show_header=False, indent=4)
        message.add_row(w.message)
        out.append(message)
    return Group(*out)


def lifetime(v: Verification) -> Group | None:
    """Each total with this order, a line each, wrapped under itself (not to column 0)."""
    shown = [t for t in v.plan.cumulative if t.limit is not None or t.threshold is not None]
    if not shown:
        return None
    out: list[Any] = [Text("Lifetime totals with this order", style="bold")]
    for x in shown:
        level = x.limit if x.limit is not None else x.threshold
        kind = "limit" if x.limit is not None else "threshold"
        unit = unit_text(x.unit)
        before = f"{fmt(x.prior)} before" if x.prior_known else "before: not given"
        out.append(
            Hanging(
                f"{display_name(x.drug)}: {before} + {fmt(x.planned)} = {past(x.total, level)} "
                f"{unit}, {percent(x.total, level)} of the {fmt(level)} {unit} {kind}"
                + ("" if x.prior_known else " (this order's doses only)"),
                indent=4,
                first=2,
            )
        )
    out.append(Text(""))
    return Group(*out)


def view(v: Verification) -> Group:
    parts: list[Any] = [header(v), Text(""), lines_table(v), Text("")]
    life = lifetime(v)
    if life is not None:
        parts.append(life)
    parts.append(reasons(v))
    if v.recorded is not None:
        parts.append(Text(""))
        parts.append(Text(v.recorded["summary"], style="bold"))
    parts += [Text(""), verdict_line(v)]
    return Group(*parts)
