"""Prior administrations from a history file (CONTRACT §5): CSV, or YAML with the same fields.

Every row is checked and either taken or refused with file:line (exit 2); no row is ever
skipped. Doses stay as given (amount + unit + the row's BSA); conversion to the unit a drug's
lifetime total is tracked in happens in :mod:`dosecalc.cumulative`, which knows the ceilings.
Drug names and unit texts are resolved once per distinct text, so a million-row history costs
little more than reading it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from dosecalc import drugs, units
from dosecalc.errors import FileError, Problem, fail
from dosecalc.patient import BSA_M2

REQUIRED = ("date", "drug", "dose", "unit")
OPTIONAL = ("bsa_m2", "patient", "regimen", "cycle", "day", "note")
COLUMNS = REQUIRED + OPTIONAL
MAX_HISTORY_BYTES = 2_000_000_000
MAX_ROW_AMOUNT = 1_000_000.0  # mg (1 kg) or units in one administration: a unit slip above it
MAX_PRIOR_AMOUNT = 10_000_000.0  # a lifetime total given with --prior  # a pharmacy-wide export; the YAML form is capped lower

# unit text → (basis, unit): basis "bsa" (per m²) or "flat" (absolute); unit "mg" or "units"
_KINDS = (
    ("mg/m**2", "bsa", "mg"),
    ("units/m**2", "bsa", "units"),
    ("mg", "flat", "mg"),
    ("units", "flat", "units"),
)


@dataclass(frozen=True, slots=True)
class Row:
    """One administration as recorded: ``amount`` in ``unit`` (mg or units), per m² or not."""

    date: date | None  # None for --prior amounts
    drug: str
    amount: float
    unit: str  # "mg" | "units"
    per_m2: bool
    bsa_m2: float | None
    patient: str | None = None
    regimen: str | None = None
    cycle: int | None = None
    day: int | None = None
    where: str = ""  # "file:line" or "--prior"


@lru_cache(maxsize=4096)
def _drug(text: str) -> str:
    return drugs.lookup(text).name


@lru_cache(maxsize=1024)
def dose_unit(text: str) -> tuple[float, bool, str]:
    """Unit text → (factor to mg or units, per m², 'mg'|'units'); ValueError if not a dose unit."""
    for target, basis, unit in _KINDS:
        try:
            return units.factor(text, target), basis == "bsa", unit
        except ValueError:
            continue
    units.unit(text)  # raises "not a unit dosecalc knows" where that is the problem
    raise ValueError(
        f"'{text}' is not a dose unit a history can use; give mg, g, mcg, units (absolute) or "
        "mg/m2, g/m2, units/m2 (per m²)"
    )


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if "," in text:
            raise ValueError(f"{what} '{text}' has a comma; write the number without it")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{what} '{text}' is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} '{value}' is not a finite number")
    return number


def _int(value: Any, what: str, minimum: int) -> int | None:
    if value is None or value == "":
        return None
    number = _number(value, what)
    if number != int(number) or number < minimum:
        raise ValueError(f"{what} '{value}' is not a whole number of at least {minimum}")
    return int(number)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_row(raw: dict[str, Any], where: str, today: date) -> Row:
    """Check one history row (a mapping of column → value); ValueError says what is wrong."""
    text = _text(raw.get("date"))
    if text is None:
        raise ValueError("the date is missing")
    try:
        when = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date '{text}' is not a date; write it as YYYY-MM-DD") from None
    if len(text) != 10:
        raise ValueError(f"date '{text}' is not a date; write it as YYYY-MM-DD")
    if when > today:
        raise ValueError(
            f"date {text} is in the future (today is {today.isoformat()}); a history lists "
            "doses already given"
        )
    name = _text(raw.get("drug"))
    if name is None:
        raise ValueError("the drug is missing")
    drug = _drug(name)
    amount = _number(raw.get("dose"), "dose")
    if amount <= 0:
        raise ValueError(
            f"dose {raw.get('dose')} is not above zero; a history lists doses given (a "
            "correction is a new row in the ledger, not a zero or negative dose)"
        )
    unit_text = _text(raw.get("unit"))
    if unit_text is None:
        raise ValueError("the unit is missing")
    factor, per_m2, unit = dose_unit(unit_text)
    expected = drugs.book().drugs[drug].dose_unit
    if unit != expected:
        raise ValueError(f"{drug} is dosed in {expected}, but this row is in '{unit_text}'")
    if amount * factor > MAX_ROW_AMOUNT:
        raise ValueError(
            f"dose {raw.get('dose')} {unit_text} is not a plausible single "
            f"administration (above {MAX_ROW_AMOUNT:,.0f} {unit}); check the unit"
        )
    bsa = None
    bsa_text = raw.get("bsa_m2")
    if bsa_text is not None and bsa_text != "":
        bsa = _number(bsa_text, "bsa_m2")
        lo, hi = BSA_M2
        if not lo <= bsa <= hi:
            raise ValueError(f"bsa_m2 {bsa:g} is not a plausible BSA; give {lo:g} to {hi:g} m²")
    return Row(
        date=when,
        drug=drug,
        amount=amount * factor,
        unit=unit,
        per_m2=per_m2,
        bsa_m2=bsa,
        patient=_text(raw.get("patient")),
        regimen=_text(raw.get("regimen")),
        cycle=_int(raw.get("cycle"), "cycle", 1),
        day=_int(raw.get("day"), "day", -366),
        where=where,
    )


def _check_columns(columns: Iterable[str], source: str, line: int | None) -> None:
    given = [c.strip() for c in columns]
    unknown = [c for c in given if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in given]
    if unknown:
        raise FileError(
            Problem(
                f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"valid columns: {', '.join(COLUMNS)} (date, drug, dose and unit are required)",
                file=source,
                line=line,
            )
        )
    if missing:
        raise FileError(
            Problem(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; a history "
                f"needs date, drug, dose and unit (optional: {', '.join(OPTIONAL)})",
                file=source,
                line=line,
            )
        )
    duplicated = sorted({c for c in given if given.count(c) > 1})
    if duplicated:
        raise FileError(Problem(f"column {duplicated[0]!r} appears twice", file=source, line=line))


def read_csv(text: str, source: str, today: date) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileError(Problem("the history file is empty", file=source)) from None
    except csv.Error as e:
        raise FileError(Problem(f"not valid CSV: {e}", file=source, line=1)) from None
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        raise FileError(
            Problem(
                f"the columns are separated by {sep}; a history CSV uses commas",
                file=source,
                line=1,
            )
        )
    _check_columns(header, source, 1)
    names = [c.strip() for c in header]
    width = len(names)
    line = 1
    try:
        for values in reader:
            line = reader.line_num
            if not values:
                continue  # a blank line is not a row
            if len(values) != width:
                raise FileError(
                    Problem(
                        f"this row has {len(values)} fields, the header has {width}",
                        file=source,
                        line=line,
                    )
                )
            try:
                yield parse_row(dict(zip(names, values, strict=True)), f"{source}:{line}", today)
            except ValueError as e:
                raise FileError(Problem(str(e), file=source, line=line)) from None
    except csv.Error as e:
        raise FileError(Problem(f"not valid CSV: {e}", file=source, line=line + 1)) from None


def read_yaml(text: str, source: str, today: date) -> Iterator[Row]:
    from dosecalc import yamlfile

    data, lines = yamlfile.parse(text, source)
    if not isinstance(data, list):
        raise FileError(
            Problem(
                "a YAML history is a list of administrations (- date: …)",
                file=source,
                line=1 if data is not None else None,
            )
        )
    for i, item in enumerate(data):
        line = lines.get((i,))
        if not isinstance(item, dict):
            raise FileError(
                Problem(
                    "each administration is a mapping of date, drug, dose, unit, …",
                    file=source,
                    line=line,
                )
            )
        _check_columns([str(k) for k in item], source, line)
        try:
            yield parse_row(item, f"{source}:{line}", today)
        except ValueError as e:
            raise FileError(Problem(str(e), file=source, line=line)) from None


def read(path: Path, today: date | None = None) -> list[Row]:
    """All rows of a history file (all-or-nothing: the first bad row refuses the file)."""
    from dosecalc.yamlfile import read_text

    today = today or date.today()
    source = str(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return list(read_yaml(read_text(path, "history", 10_000_000), source, today))
    return list(read_csv(read_text(path, "history", MAX_HISTORY_BYTES), source, today))


def parse_prior(text: str) -> Row:
    """``--prior epirubicin=600mg/m2`` → a dateless row."""
    if "=" not in text:
        raise fail("--prior", f"'{text}' is not DRUG=AMOUNT; write e.g. epirubicin=600mg/m2")
    name, _, amount_text = text.partition("=")
    try:
        drug = _drug(name.strip())
        number, unit_text = units.split(amount_text)
        if not unit_text:
            raise ValueError(f"'{amount_text}' has no unit; write e.g. 600mg/m2 or 120mg")
        factor, per_m2, unit = dose_unit(unit_text)
        expected = drugs.book().drugs[drug].dose_unit
        if unit != expected:
            raise ValueError(f"{drug} is dosed in {expected}, not '{unit_text}'")
        if not number > 0:
            raise ValueError(f"'{amount_text}' is not above zero")
        if number * factor > MAX_PRIOR_AMOUNT:
            raise ValueError(f"'{amount_text}' is not a plausible lifetime exposure")
    except ValueError as e:
        raise fail("--prior", f"{text}: {e}") from None
    return Row(None, drug, number * factor, unit, per_m2, None, where="--prior")
