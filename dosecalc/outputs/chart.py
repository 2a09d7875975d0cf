"""Pictures of lifetime exposure: each drug's running total over time against its ceilings.

``terminal()`` draws a small step chart with rich text (no plotting library is needed for a
block chart in a terminal); ``save()`` writes an SVG or PNG with matplotlib, imported only then.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text

from dosecalc.base.numbers import fmt

Series = list[tuple[date, float]]
UNKNOWN_TITLE = "prior exposure NOT GIVEN: these doses only, the lifetime total may be higher"
UNKNOWN_LABEL = " + unknown prior"
CHART_SUFFIXES = (".svg", ".png")


def _value_at(points: Series, when: date) -> float:
    value = 0.0
    for d, total in points:
        if d > when:
            break
        value = total
    return value


def terminal(
    drug: str,
    unit: str,
    points: Series,
    threshold: float | None,
    limit: float | None,
    width: int = 48,
    height: int = 9,
    prior_known: bool = True,
) -> Text:
    """A step chart of ``points`` with the threshold (┄) and the limit (━) drawn across it."""
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    columns = [
        _value_at(points, date.fromordinal(first.toordinal() + round(span * i / (width - 1))))
        for i in range(width)
    ]
    top = max([v for v in (threshold, limit) if v] + [max(columns)]) * 1.08
    step = top / height
    marks = {}
    for value, glyph, name in ((threshold, "┄", "threshold"), (limit, "━", "limit")):
        if value:
            marks[min(height - 1, int(value / step))] = (glyph, value, name)
    out = Text()
    out.append(f"{drug}, lifetime total in {unit.replace('m2', 'm²')}\n", style="bold")
    if not prior_known:
        out.append(f"{UNKNOWN_TITLE}\n", style="bold red")
    label_width = max(len(fmt(v)) for v in [top, *(m[1] for m in marks.values())])
    for row in range(height - 1, -1, -1):
        low, mid = row * step, (row + 0.5) * step
        mark = marks.get(row)
        label = fmt(mark[1]) if mark else ""
        out.append(f"{label:>{label_width}} ┤")
        for v in columns:
            style = (
                "bold red"
                if limit and v > limit
                else "yellow"
                if threshold and v >= threshold
                else "green"
            )
            if v >= low + step:
                out.append("█", style=style)
            elif v >= mid:
                out.append("▄", style=style)
            elif mark:
                out.append(mark[0], style="red" if mark[2] == "limit" else "yellow")
            else:
                out.append(" ")
        out.append(f"  {mark[2]}\n" if mark else "\n")
    out.append(f"{'0':>{label_width}} └{'─' * width}\n")
    out.append(f"{'':>{label_width}}  {first.isoformat()}{last.isoformat():>{width - 10}}\n")
    return out


def with_ceiling(totals: list[Any]) -> list[Any]:
    """The totals worth a chart: above zero, with a threshold or a limit."""
    return [t for t in totals if (t.threshold is not None or t.limit is not None) and t.total]


def charts(result: Any, totals: list[Any]) -> list[Text]:
    """Terminal charts for the drugs (and equivalent total) that have a ceiling."""
    shown = with_ceiling(totals)
    series = result.series([t.drug for t in shown]) if result is not None else {}
    return [
        terminal(t.drug, t.unit, series[t.drug], t.threshold, t.limit, prior_known=t.prior_known)
        for t in shown
        if series.get(t.drug)
    ]


def save(path: Path, result: Any, totals: list[Any], title: str, force: bool = False) -> None:
    """An SVG or PNG (by the file's extension) of every total with a ceiling, one panel each."""
    import io

    from dosecalc.outputs.outfile import check_target, write_atomic

    check_target(path, force, "--chart", CHART_SUFFIXES)
    buffer = io.BytesIO()
    draw(buffer, path.suffix.lower().lstrip("."), result, totals, title)
    write_atomic(path, buffer.getvalue(), force=force, option="--chart")


def draw(out: Any, kind: str, result: Any, totals: list[Any], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [t for t in totals if t.threshold is not None or t.limit is not None]
    series = result.series([t.drug for t in shown]) if result is not None else {}
    # a total given without dates (--prior alone) is drawn at its value, never left out as 0
    shown = [t for t in shown if series.get(t.drug) or t.total]
    if not shown:
        shown = [t for t in totals if t.total][:4]
        series = result.series([t.drug for t in shown]) if result is not None else {}
    import matplotlib.dates as mdates

    fig, axes = plt.subplots(
        max(len(shown), 1),
        1,
        figsize=(8, 2.6 * max(len(shown), 1)),
        squeeze=False,
        sharex=True,
    )
    dates = [d for t in shown for d, _ in series.get(t.drug, [])]
    for ax, t in zip(axes[:, 0], shown, strict=False):
        points = series.get(t.drug, [])
        if points:
            xs = [points[0][0]] + [d for d, _ in points]
            ys = [0.0] + [v for _, v in points]
            ax.step(xs, ys, where="post", color="#1f4e79", label=f"{t.drug} (lifetime)")
            last = points[-1]
            ax.plot([last[0]], [last[1]], "o", color="#1f4e79", markersize=4)
            ax.annotate(
                f"last dose {last[0]}: {fmt(last[1])} {t.unit.replace('m2', 'm²')}"
                + ("" if t.prior_known else UNKNOWN_LABEL),
                last,
                textcoords="offset points",
                xytext=(-6, 6),
                ha="right",
                fontsize=7,
                color="#1f4e79",
            )
        unit = t.unit.replace("m2", "m²")
        if not points and t.total:
            ax.axhline(t.total, color="#1f4e79", linewidth=2)
            ax.annotate(
                f"total {fmt(t.total)} {unit}, given without dates",
                (0.995, t.total),
                xycoords=("axes fraction", "data"),
                textcoords="offset points",
                xytext=(0, -10),  # below: the threshold's and limit's lines are above it
                ha="right",
                fontsize=7.5,
                color="#1f4e79",
            )
        for value, word, color, style, below in (
            (t.threshold, "threshold", "#d48a00", "--", True),
            (t.limit, "limit", "#c00000", "-", False),
        ):
            if value is None:
                continue
            ax.axhline(value, color=color, linestyle=style, linewidth=1.2)
            ax.annotate(  # the line's own label, at its left end inside the panel
                f"{word} {fmt(value)} {unit}",
                (0.005, value),
                xycoords=("axes fraction", "data"),
                textcoords="offset points",
                xytext=(2, -9 if below else 2),
                fontsize=7.5,
                color=color,
            )
        if t.threshold is not None:
            crossed = next(((d, v) for d, v in points if v >= t.threshold), None)
            if crossed:
                ax.plot([crossed[0]], [crossed[1]], "o", color="#d48a00")
        if t.limit is not None:
            crossed = next(((d, v) for d, v in points if v > t.limit), None)
            if crossed:
                ax.plot([crossed[0]], [crossed[1]], "X", color="#c00000", markersize=9)
                ax.annotate(
                    f"limit exceeded {crossed[0]}",
                    crossed,
                    textcoords="offset points",
                    xytext=(6, -14),
                    color="#c00000",
                    fontsize=8,
                )
        top = max(
            [v for v in (t.threshold, t.limit, t.total) if v] + [v for _, v in points] + [1.0]
        )
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel(unit)
        ax.set_title(t.drug, fontsize=10, loc="left")
        if not t.prior_known:  # the line counts these doses only: unknown is never zero
            ax.set_title(UNKNOWN_TITLE, fontsize=8.5, loc="right", color="#c00000")
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.tick_params(axis="x", labelbottom=True, labelrotation=30, labelsize=8)
    if not dates:  # no date to draw against: no made-up axis of dates (it showed 1970-01-01)
        for ax in axes[:, 0]:
            ax.set_xticks([])
            ax.set_xlabel("no dates: the exposure was given without dates (--prior)", fontsize=8)
    if dates:
        first, end = min(dates), max(dates)
        pad = max((end - first).days * 0.03, 1)
        from datetime import timedelta

        axes[0, 0].set_xlim(first - timedelta(days=pad), end + timedelta(days=pad))
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, format=kind, metadata={"Date": None} if kind == "svg" else None)
    plt.close(fig)
