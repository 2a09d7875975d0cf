"""Numbers as printed on an order (ISMP / Joint Commission conventions).

No trailing zero ("5 mg", never "5.0 mg"), always a leading zero ("0.5 mg"), a thousands
separator from 1,000. Display only: JSON and CSV carry the unrounded numbers.
"""

from __future__ import annotations

import math


def fmt(value: float, decimals: int | None = None) -> str:
    """``73.786`` → ``'73.8'``; ``3689.3`` → ``'3,689.3'``; ``2.0`` → ``'2'``; ``0.125`` → same.

    Without ``decimals``: one decimal from 10 up, two from 1 to 10, three significant below 1.
    """
    if not math.isfinite(value):
        return str(value)
    if decimals is None:
        magnitude = abs(value)
        if magnitude >= 10:
            decimals = 1
        elif magnitude >= 1:
            decimals = 2
        elif magnitude == 0:
            decimals = 0
        else:
            decimals = 2 - math.floor(math.log10(magnitude))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
