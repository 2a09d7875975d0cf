"""Numbers as printed on an order (ISMP / Joint Commission conventions).

No trailing zero ("5 mg", never "5.0 mg"), always a leading zero ("0.5 mg"), a thousands
separator from 1,000. Display only: JSON and CSV carry the unrounded numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# a number and its unit ("400 mg/m²", "46 h", "24 %"), a weekday and its date: kept on one line
KEEP_TOGETHER = re.compile(
    r"(?<=\d) (?=[A-Za-zµ%²/])|(?<=\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)) (?=\d)"
)


def fmt(value: float, decimals: int | None = None) -> str:
    """``73.786`` → ``'73.8'``; ``3689.3`` → ``'3,689.3'``; ``2.0`` → ``'2'``; ``0.125`` → same.

    Without ``decimals``: one decimal from 10 up, two from 1 to 10, three significant below 1.
    """
    if not math.isfinite(value):
        return str(value)
    if decimals is None:
        decimals = _decimals(value)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def settled(value: float) -> float:
    """``value`` to 12 significant digits: without the noise of binary arithmetic, so that a
    value computed to lie on a band's edge is on it (Cockcroft-Gault's 72 y, 60 kg, 1.2 mg/dL
    is 50.00000000000001 mL/min, not above 50)."""
    return float(f"{value:.12g}") if math.isfinite(value) else value


def _decimals(value: float) -> int:
    """:func:`fmt`'s decimals: one from 10 up, two from 1 to 10, three significant below 1."""
    magnitude = abs(value)
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return 0 if magnitude == 0 else 2 - math.floor(math.log10(magnitude))


def measured(value: float) -> str:
    """A measurement, compared with gates and bands: :func:`fmt`'s digits, and more while
    rounding would land it on a rounder number, which may be the very limit it is compared with
    (``1.499`` → ``'1.499'``, not ``'1.5'``; ``74.95`` → ``'74.95'``; ``180`` → ``'180'``)."""
    if not math.isfinite(value) or value == 0:
        return fmt(value)
    decimals = _decimals(value)
    most = max(decimals, 9 - math.floor(math.log10(abs(value))))  # ten significant digits
    while decimals < most:
        text = f"{value:.{decimals}f}"
        if not text.endswith("0") or math.isclose(float(text), value, rel_tol=1e-9):
            break
        decimals += 1
    return fmt(value, decimals)


def past(value: float, *levels: float | None) -> str:
    """``value`` as :func:`fmt` writes it, with the digits it takes not to print as a level it
    is not (a total of 550.004 against the 550 limit it exceeds: ``'550.004'``, not ``'550'``)."""
    text = fmt(value)
    if any(lv is not None and value != lv and text == fmt(lv) for lv in levels):
        return measured(value)
    return text


def percent(part: float, whole: float | None, decimals: int = 0) -> str:
    """``part`` as a percentage of ``whole``: ``'1,010 %'``, ``'95 %'``; ``'—'`` without a whole;
    more digits where a part that is not the whole would print as 100 % (``'100.001 %'``)."""
    if not whole:
        return "—"
    share = 100 * part / whole
    text = fmt(share, decimals)
    if part != whole and text == fmt(100.0, decimals):
        text = measured(share)
    return f"{text} %"


def signed(
    value: float, decimals: int = 1, unit: str = " %", levels: tuple[float, ...] = ()
) -> str:
    """A signed change: ``'+0.2 %'``, ``'-4.6 %'``; never ``'-0.0 %'``; with the digits it takes
    not to read as one of ``levels`` it is not at (``-5.0112`` against a ±5 % tolerance:
    ``'-5.01 %'``, not ``'-5.0 %'``, beside a hold)."""
    shown = round(value, decimals) + 0.0  # -0.0 + 0.0 is 0.0
    if any(abs(value) != lv and abs(shown) == lv for lv in levels):
        more = measured(value)
        return f"{'' if more.startswith('-') else '+'}{more}{unit}"
    return f"{shown:+,.{decimals}f}{unit}"


def runs(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5, 6]`` → ``'1-3, 5, 6'``: runs of three or more as a range."""
    out: list[str] = []
    run: list[int] = []
    for n in [*sorted(set(numbers)), None]:
        if run and n is not None and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
        run = [] if n is None else [n]
    return ", ".join(out)


def plural(n: int | None, word: str, many: str | None = None) -> str:
    """``'1 cycle'``, ``'3 cycles'``, ``'2 phases'`` (``many``: an irregular plural)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def glue(text: str, space: str = "\u00a0") -> str:
    """``text`` with the spaces of KEEP_TOGETHER replaced by ``space`` (for wrapping)."""
    return KEEP_TOGETHER.sub(space, text)


def article(word: str) -> str:
    """``'an age'``, ``'a height'``, ``'an order'``, ``'a unit'``: the word with its article."""
    vowel = word[:1].lower() in "aeio" or (word[:1].lower() == "u" and not word.startswith("uni"))
    return f"{'an' if vowel else 'a'} {word}"


def age_text(years: float) -> str:
    """An age as people say it: '29 y'; under 2 years in months ('18 months'), under 2 months in
    weeks ('6 weeks'), under a week in days; 0 is a newborn."""
    if years >= 2:  # 17.999 y, not 18 y: an age is held to whole-year limits (a child to 18)
        return f"{past(years, round(years))} y"
    if years <= 0:
        return "0 (newborn)"
    months = years * 12
    if months >= 2:
        return f"{fmt(round(months, 1))} months"
    weeks = years * 365.25 / 7
    if weeks >= 1:
        return f"{fmt(round(weeks, 1))} weeks"
    return f"{fmt(round(years * 365.25))} days"
