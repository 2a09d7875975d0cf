"""Today's date, in one place: the machine's calendar date, or ``DOSECALC_TODAY`` (YYYY-MM-DD)
to run as of another day (to replay a check exactly as it was made, and so that the tests do not
depend on the day they run). Everything that compares with today (a plan in the past, a lab
taken in the future, a regimen's review date, an age at a date, a default start) asks here."""

from __future__ import annotations

import os
import re
from datetime import date

ENV = "DOSECALC_TODAY"


def today() -> date:
    """The date dosecalc takes as today."""
    from dosecalc.base.errors import fail

    text = os.environ.get(ENV, "").strip()
    if not text:
        return date.today()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise fail(ENV, f"'{text[:40]}' is not a date; write YYYY-MM-DD, or unset it") from None


def years_old(born: date, day: date) -> float:
    """The age on ``day`` of someone born on ``born``, in years: the birthdays passed, and the
    share of the year since the last one (exactly 18.0 on the 18th birthday; days / 365.25 made
    it 17.999 and a child). Born on 29 February: the birthday is 1 March in other years."""

    def birthday(year: int) -> date:
        try:
            return born.replace(year=year)
        except ValueError:
            return date(year, 3, 1)

    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    last, following = birthday(born.year + years), birthday(born.year + years + 1)
    return years + (day - last).days / (following - last).days
