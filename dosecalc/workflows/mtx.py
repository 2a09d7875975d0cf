"""``dosecalc mtx``: one high-dose methotrexate infusion judged from its measured levels.

The request holds the options as typed; :func:`run` reads the infusion start (given, never
inferred), its length and the methotrexate and creatinine values, and returns the clinical
layer's assessment (clinical/mtx.py). Writing it as a table or JSON is the command line's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dosecalc.base import clock, strict
from dosecalc.base.errors import fail


@dataclass(frozen=True)
class MtxRequest:
    """mtx's options, as typed (None: not given)."""

    infusion_start: str | None = None
    infusion_duration: str | None = None
    lab: list[str] | None = None
    labs: list[Path] | None = None


def run(req: MtxRequest) -> Any:
    from dosecalc.clinical import mtx
    from dosecalc.data.supportive import hdmtx
    from dosecalc.workflows import gather

    start = infusion_start(req.infusion_start)
    if start.date() > clock.today():  # the one today (DOSECALC_TODAY), as the levels' dates
        raise fail(
            "--infusion-start",
            f"{req.infusion_start} is in the future (today is {clock.today().isoformat()}); give "
            "the time the infusion started",
        )
    hours = infusion_hours(req.infusion_duration)
    values = gather.labs(req.lab, req.labs)
    other = sorted({v.name for v in values.values} - {"mtx", "scr"})
    if other:
        raise fail(
            "--lab",
            f"dosecalc mtx reads methotrexate levels (mtx) and serum creatinine (scr); "
            f"{', '.join(other)} would not be used: leave {'them' if len(other) > 1 else 'it'} out",
        )
    return mtx.assess(list(values.of("mtx")), list(values.of("scr")), start, hours, hdmtx())


def infusion_start(text: str | None) -> datetime:
    """``2026-12-02T10:00`` → a datetime; refused when missing or written otherwise."""
    if text is None or not text.strip():
        raise fail(
            "--infusion-start",
            "give the start of the methotrexate infusion, e.g. --infusion-start "
            "2026-12-02T10:00: every level is judged by the hours since it, and dosecalc never "
            "guesses it",
        )
    m = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})\s*", text, re.ASCII)
    if m:  # a date that is no day (2025-02-30) says why, as every date reader does
        try:
            strict.iso_date(m.group(1))
        except ValueError as e:
            raise fail("--infusion-start", str(e)) from None
    try:
        if not m:
            raise ValueError
        return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}")
    except ValueError:
        raise fail(
            "--infusion-start", f"'{text[:40]}' is not a date and time; write YYYY-MM-DDTHH:MM"
        ) from None


def infusion_hours(text: str | None) -> float:
    """``4h`` / ``24 h`` → hours; refused when missing (the consensus lines depend on it)."""
    from dosecalc.data.regimen import parse_hours

    if text is None or not text.strip():
        raise fail(
            "--infusion-duration",
            "give how long the methotrexate infusion runs, e.g. --infusion-duration 4h: the "
            "glucarpidase consensus differs for infusions of 24 h or less and of 36-42 h",
        )
    try:
        return parse_hours(text)
    except ValueError as e:
        raise fail("--infusion-duration", str(e)) from None
