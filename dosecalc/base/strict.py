"""The one strict reader of numbers (and plan dates) typed by people, for every input path.

Options, quantities (``120 mg/m2``), YAML regimen, course and history files, CSV histories,
the TOML policy and ``--set`` values all read their numbers here, so that one text means one
number everywhere. A number is written in ASCII:

    [sign] digits [. digits] [e|E [sign] digits]        e.g. 70, 1.75, 0.5, .5, 2e3, 1.5E-2

- ASCII digits 0-9 only: ``١٧٥`` or ``１７５`` (which Python's ``float`` reads as 175) are refused.
- One decimal point; no digit separators: ``1_75``, ``1,5``, ``1 000`` are refused (Python
  reads ``1_75`` as 175; a comma is a decimal point in half the world).
- No leading zero before another digit: ``070`` is 56 to a YAML 1.1 reader (octal) and 70 to
  others; ``0.5`` is fine. No hexadecimal, octal, binary or base-60 forms (``0x1F``, ``0o17``,
  ``1:30``), no NaN or infinity.
- A sign only where the caller says one is meaningful (a day before day 1 of a cycle).
- An exponent is accepted (``1e3``, ``2.5E-1``): unambiguous, and what YAML 1.2 and JSON read.
- At most MAX_CHARS characters; integers within ±(2⁶³ − 1) (what every database stores).

Errors are :class:`NumberError` (a ValueError) whose message starts with the text quoted and
says how to write it; callers put the field (option, file:line) in front.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Any

MAX_CHARS = 40
MAX_INT = 2**63 - 1

_DECIMAL = re.compile(
    r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?",
    re.ASCII,
)
_SEXAGESIMAL = re.compile(r"[+-]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?", re.ASCII)
_PREFIXED = re.compile(r"[+-]?0([xXoObB])[0-9A-Fa-f_]*", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?\.?(?:nan|inf|infinity)", re.IGNORECASE)
_BASES = {"x": ("hexadecimal", 16), "o": ("octal", 8), "b": ("binary", 2)}


class NumberError(ValueError):
    """A number that is not written the one way dosecalc reads numbers."""


def _shown(text: str) -> str:
    return (
        f"'{text}'" if len(text) <= MAX_CHARS + 10 else f"'{text[:20]}…' ({len(text):,} characters)"
    )


def problem(text: str, *, signed: bool = False, integer: bool = False) -> str | None:
    """Why ``text`` is not a number as dosecalc reads them, or None if it is one."""
    t = text.strip(" \t")
    q = _shown(t)
    if not t:
        return "the number is missing"
    for ch in t:
        if ord(ch) > 127:
            if unicodedata.decimal(ch, None) is not None:
                return (
                    f"{q} has the digit '{ch}', which is not an ASCII digit; type the number "
                    "with the digits 0-9"
                )
            return (
                f"{q} has the character '{ch}' (U+{ord(ch):04X}); write the number with the "
                "digits 0-9 and at most one decimal point"
            )
    if len(t) > MAX_CHARS:
        return f"{q} is longer than any number dosecalc reads (at most {MAX_CHARS} characters)"
    if "," in t:
        return (
            f"{q} has a comma, which could be a decimal or a thousands separator; write the "
            "number without it (1000, 1.5)"
        )
    if _NON_FINITE.fullmatch(t):
        return f"{q} is not a finite number"
    if _SEXAGESIMAL.fullmatch(t):
        return f"{q} is a base-60 (hours:minutes) form; write the number in decimal digits"
    prefixed = _PREFIXED.fullmatch(t)
    if prefixed:
        name, base = _BASES[prefixed.group(1).lower()]
        try:
            value = f" ({int(t.replace('_', ''), 0)})"
        except ValueError:
            value = ""
        return f"{q} is {'an' if name[0] == 'o' else 'a'} {name} number; write it in decimal digits{value}"
    if "_" in t:
        return f"{q} has an underscore (a digit separator); write the number without it"
    m = _DECIMAL.fullmatch(t)
    if not m or not (m.group("int") or m.group("frac")):
        return f"{q} is not a number"
    sign, whole = m.group("sign"), m.group("int")
    if len(whole) > 1 and whole[0] == "0":
        plain = sign + (whole.lstrip("0") or "0") + t[len(sign) + len(whole) :]
        return f"{q} has a leading zero (octal to some readers); write {plain} without it"
    if sign and not signed:
        if sign == "-":
            return f"{q} is negative, which is not valid here"
        return f"{q} has a plus sign; write the number without it"
    if integer and (m.group("frac") is not None or m.group("exp") is not None):
        return f"{q} is not a whole number; write it with the digits 0-9 only"
    return None


def decimal(text: str, *, signed: bool = False) -> float:
    """``'1.75'`` → 1.75. NumberError (with what to write) for anything else."""
    why = problem(text, signed=signed)
    if why is not None:
        raise NumberError(why)
    value = float(text)
    if not math.isfinite(value):
        raise NumberError(f"{_shown(text.strip())} is too large a number")
    return value


def integer(text: str, *, signed: bool = False) -> int:
    """``'12'`` → 12: digits only (no decimal point or exponent), within ±(2⁶³ − 1)."""
    why = problem(text, signed=signed, integer=True)
    if why is not None:
        raise NumberError(why)
    value = int(text)
    if abs(value) > MAX_INT:
        raise NumberError(f"{_shown(text.strip())} is too large a number")
    return value


def number(value: Any, *, signed: bool = False) -> float:
    """A number given as text (CSV, an option) or already typed (YAML, TOML): one rule for both."""
    if isinstance(value, bool):
        raise NumberError(f"{value!r} is not a number")
    if isinstance(value, int):
        return number(str(value), signed=signed)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError(f"'{value}' is not a finite number")
        if value < 0 and not signed:
            raise NumberError(f"'{value:g}' is negative, which is not valid here")
        return value
    if isinstance(value, str):
        return decimal(value, signed=signed)
    raise NumberError(f"{value!r} is not a number")


def whole(value: Any, *, signed: bool = False) -> int:
    """A whole number given as text or already typed (an int; never a bool or a float)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NumberError(f"{value!r} is not a whole number")
    return integer(str(value), signed=signed)


# Dates a plan may start on or be given on: a start beyond them is a typing slip, and the
# dates of 500 cycles with their delays (about 1,000 years) stay far from date.max (9999).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def iso_date(text: Any) -> date:
    """``'2026-12-01'`` → that date: YYYY-MM-DD in ASCII digits only (Python's own reader also
    takes ``20261201`` and the week date ``2026-W49-2``)."""
    t = text.strip() if isinstance(text, str) else None
    if t is None or not _ISO_DATE.fullmatch(t):
        shown = _shown(t) if t is not None else repr(text)
        raise NumberError(f"{shown} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01")
    try:
        return date.fromisoformat(t)
    except ValueError:  # 2026-02-30
        raise NumberError(f"'{t}' is not a date: {no_such_day(t)}") from None


def no_such_day(text: str) -> str:
    """Why ``YYYY-MM-DD`` digits name no day: ``'there is no 30 February (February 2025 has 28
    days)'``, ``'there is no month 13'``, ``'there is no year 0'``."""
    import calendar

    year, month, day = (int(part) for part in text.split("-"))
    if year == 0:
        return "there is no year 0"
    if not 1 <= month <= 12:
        return f"there is no month {month} (a month is 01 to 12)"
    name, days = calendar.month_name[month], calendar.monthrange(year, month)[1]
    if day == 0:
        return f"there is no day 0 (a day of {name} is 01 to {days})"
    return f"there is no {day} {name} ({name} {year} has {days} days)"


def plan_date(text: Any) -> date:
    """``'2026-12-01'`` → a date between EARLIEST_DATE and LATEST_DATE; NumberError otherwise."""
    value = text if isinstance(text, date) else iso_date(text)
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise NumberError(
            f"{value.isoformat()} is outside the dates dosecalc plans "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"
        )
    return value


def whole_option(
    value: str | None, option: str, lo: int, hi: int, what: str = "a whole number"
) -> int | None:
    """A whole-number option (``--cycles 4``) as :func:`integer` reads it (``1_75``, ``١٧٥``,
    ``4.0`` and ``99999999999999999999`` are refused), from ``lo`` to ``hi``; None when not
    given. The error names the option."""
    if value is None:
        return None
    from dosecalc.base.errors import fail

    try:
        n = integer(value, signed=lo < 0)
    except ValueError as e:
        raise fail(option, f"{e}; give {what} from {lo} to {hi}") from None
    if not lo <= n <= hi:
        raise fail(option, f"{n} is not {what}; give {lo} to {hi}")
    return n
