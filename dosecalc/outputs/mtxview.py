"""``dosecalc mtx`` as a pharmacist reads it: the infusion, each level against the lines it
crosses, the creatinine, then the judgement (elimination, leucovorin, glucarpidase, levels) and
the warnings. Fits 80 columns: the levels are a Grid, the judgement hanging lines."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from dosecalc.base.numbers import fmt
from dosecalc.clinical import mtx as rule
from dosecalc.outputs.layout import Column, Grid, Hanging
from dosecalc.outputs.render import RANK, SEVERITY_STYLE


def _elimination(a: Any) -> str:
    words = WORDS[a.elimination]
    if any(w.code == "MTX_LEVEL_BEFORE_LINE" for w in a.alerts):
        words += "; the latest level is not judged yet: it was drawn before the next line's time"
    return words


WORDS = {
    rule.NORMAL: "not delayed (the label's normal elimination)",
    rule.LATE_POSSIBLE: "possibly delayed late (above one of the label's two late lines)",
    rule.LATE: "DELAYED late (the label's delayed late elimination)",
    rule.EARLY: "DELAYED early, or acute kidney injury (the label's delayed early elimination)",
    rule.CONSENSUS: "DELAYED (above a glucarpidase consensus line)",
}


def judgement(a: rule.Assessment) -> list[tuple[str, str]]:
    """(label, text): elimination, the expected curve, leucovorin, glucarpidase, levels."""
    r = a.rules
    expected = ", ".join(
        (f"below {fmt(e['below_umol_per_L'])}" if "below_umol_per_L" in e
         else f"about {fmt(e['approx_umol_per_L'])}") + f" µmol/L at {fmt(e['at_h'])} h"
        for e in r.expected
    )  # fmt: skip
    unverified = "" if a.leucovorin.verified else " (unverified)"
    window = f"{fmt(r.window_h[0])}-{fmt(r.window_h[1])} h"
    return [
        ("Elimination", _elimination(a)),
        ("Expected", f"{expected} (normal elimination, {r.short(r.expected[0]['source'])})"),
        (
            "Leucovorin",
            f"{a.leucovorin.text}{unverified} ({r.short(a.leucovorin.source)}); {a.leucovorin_now}"
            f"; {a.dosed_for}",
        ),
        (
            "Glucarpidase",
            a.glucarpidase_text
            + (
                f"; best given within {window} of the start, by "
                f"{a.window_end.isoformat(timespec='minutes')} ({r.short(r.window.source)})"
                if a.glucarpidase in ("consider", "judge", "creatinine-needed", "not-yet")
                else ""
            ),
        ),
        ("Levels", a.draw),
    ]


def view(a: rule.Assessment) -> Group:
    end = a.start.timestamp() + a.duration_h * 3600
    from datetime import datetime

    parts: list[Any] = [
        Text("High-dose methotrexate: levels, leucovorin rescue, glucarpidase", style="bold"),
        Hanging(
            f"Infusion: started {a.start.isoformat(timespec='minutes')}, {fmt(a.duration_h)} h "
            f"(ends {datetime.fromtimestamp(end).isoformat(timespec='minutes')}); hours are "
            "counted from its start"
        ),
    ]
    table = Grid(
        [
            Column("Hours", justify="right"),
            Column("Taken"),
            Column("Methotrexate", justify="right"),
            Column("Above", wrap=24, under=1),
        ]
    )
    for lv in a.levels:
        above = "; ".join(
            f"{x.sign} {fmt(x.umol_l)} at {fmt(x.at_h)} h "
            f"({'Ramsey 2018' if x.source == 'ramsey-2018' else 'label'})"
            for x in lv.crossed
        )
        table.add_row(
            fmt(lv.hours),
            lv.taken.isoformat(timespec="minutes"),
            f"{fmt(lv.value)} µmol/L",
            above or "no line",
        )
    parts.append(table)
    if a.baseline is not None or a.creatinine:
        base = (
            f"baseline {fmt(a.baseline.value)} mg/dL ({a.baseline.when})"
            if a.baseline
            else "no baseline"
        )
        after = [
            f"{fmt(c.value)} mg/dL at {fmt(c.hours or 0)} h"
            + (f" ({c.rise_percent:+.0f} %)" if c.rise_percent is not None else "")
            for c in a.creatinine
        ]
        parts.append(Hanging(f"Creatinine: {'; '.join([base, *after])}"))
    parts.append(Text(""))
    parts += [Hanging(f"{label}: {text}", indent=4) for label, text in judgement(a)]
    if a.alerts:
        parts += [Text(""), Text("Warnings", style="bold")]
        for w in sorted(a.alerts, key=lambda w: RANK[w.severity]):
            line = Text(f"{w.severity} ", style=SEVERITY_STYLE[w.severity])
            line.append(f"{w.code}: {w.message}")
            parts.append(Hanging(line, indent=4, first=2))
    return Group(*parts)
