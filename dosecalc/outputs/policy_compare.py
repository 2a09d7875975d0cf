"""The comparison of a plan under two policies (``plan --compare-policy``) as a table."""

from __future__ import annotations

from typing import Any

from dosecalc.base.numbers import fmt
from dosecalc.clinical.policy import show
from dosecalc.workflows.policy_compare import Comparison


def table(c: Comparison) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text(f"\nPolicy comparison: in force vs {c.file}\n", style="bold")
    if not c.settings:
        head.append("  the two policies set every value alike\n")
    for key, v, o in c.settings:
        head.append(f"  {key}: {show(v, key)} → {show(o, key)}\n")
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
            "" if diff is None or abs(diff) < 1e-9 else Text(_percent(diff), style="bold"),
        )
    count = len(c.changed)
    foot = Text(f"{count} of {len(c.rows)} doses differ\n")
    return Group(head, t, foot)


def _percent(diff: float) -> str:
    """+12.5 %; a difference too small for one decimal keeps two significant digits
    (-0.0054 %), never a '-0.0 %' beside a count of doses that differ."""
    return f"{diff:+.1f} %" if abs(diff) >= 0.05 else f"{diff:+.2g} %"
