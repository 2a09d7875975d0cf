"""Prior administrations from a history file (docs/history.md): CSV, or YAML with the same fields.

Every row is checked and either taken or refused with file:line (exit 2); no row is ever
skipped. Doses stay as given (amount + unit + the row's BSA); conversion to the unit a drug's
lifetime total is tracked in happens in :mod:`dosecalc.cumulative`, which knows the ceilings.
Drug names and unit texts are resolved once per distinct text, so a million-row history costs
little more than reading it.
"""

from __future__ import annotations

import csv
import math
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from dosecalc.base import clock, strict, units
from dosecalc.base.bounds import DOSE, PRIOR, dose_problem
from dosecalc.base.csvout import unescape
from dosecalc.base.errors import FileError, Problem, fail, together
from dosecalc.clinical.patient import BSA_M2
from dosecalc.data import drugs
from dosecalc.data.records import Columns, History, Row, minutes, patient_id

REQUIRED = ("date", "drug", "dose", "unit")
OPTIONAL = ("bsa_m2", "patient", "regimen", "cycle", "day", "note", "time", "id")
COLUMNS = REQUIRED + OPTIONAL
MAX_HISTORY_BYTES = 2_000_000_000  # a pharmacy-wide export; the YAML form is capped lower
MAX_ROW_AMOUNT = DOSE[1]  # mg or units in one administration: a unit slip above it
MAX_PRIOR_AMOUNT = PRIOR[1]  # a lifetime total given with --prior

# unit text → (basis, unit): basis "bsa" (per m²) or "flat" (absolute); unit "mg" or "units"
_KINDS = (
    ("mg/m**2", "bsa", "mg"),
    ("units/m**2", "bsa", "units"),
    ("mg", "flat", "mg"),
    ("units", "flat", "units"),
)


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


def _unreadable(what: str, e: ValueError) -> ValueError:
    """A row's number that :mod:`dosecalc.strict` refused, named by its column (an empty cell
    says so: "dose is empty; write its number")."""
    if str(e) == strict.problem(""):
        return ValueError(f"{what} is empty; write its number")
    return ValueError(f"{what} {e}")


def _number(value: Any, what: str, signed: bool = False) -> float:
    """A number of a row (CSV text, or a YAML number), read by :func:`dosecalc.strict.number`."""
    try:
        return strict.number(value.strip() if isinstance(value, str) else value, signed=signed)
    except ValueError as e:
        raise _unreadable(what, e) from None


_MAXIMUM: dict[str, int] = {}  # column → its largest value (cycle, day), from the regimen bounds


def _maximum(what: str) -> int:
    if not _MAXIMUM:  # once; the regimen module (and pydantic) only when a row has a cycle or day
        from dosecalc.data.regimen import MAX_CYCLE_LENGTH_DAYS, MAX_CYCLES

        _MAXIMUM.update(cycle=MAX_CYCLES, day=MAX_CYCLE_LENGTH_DAYS)
    return _MAXIMUM.get(what, strict.MAX_INT)


def dose_number(value: Any) -> float:
    """The dose column's number; a dose written with its unit says to split them. A text loses
    the quote dosecalc's CSV writer puts before a formula (a dose recorded as ``+5`` is exported
    ``'+5``): every reader of a dose (history files, the engine, ``ledger import``) reads it
    here, so they read it alike."""
    if isinstance(value, str):
        return _dose_text(unescape(value))
    return _number(value, "dose", signed=True)


@lru_cache(maxsize=65536)
def _dose_text(value: str) -> float:
    """:func:`dose_number` of a text, read once for each distinct text (a ledger's walk reads
    a million doses, of a few thousand texts)."""
    if value.strip():
        try:
            number, unit_text = units.split_text(value)
        except ValueError:
            number, unit_text = "", ""
        if number and unit_text:
            raise ValueError(
                f"dose '{value.strip()}' holds a unit: put the number in the dose column "
                f"({number}) and the unit in the unit column ({unit_text})"
            )
    return _number(value, "dose", signed=True)


def int_cell(value: Any, what: str, minimum: int) -> int | None:
    """A whole number of a row (cycle, day), or None when the cell is empty. A cycle is at most
    the regimen bound (500) and a day at most the longest cycle (366 days): a larger one is a
    slip, and would carry a date beyond the calendar."""
    if value is None or value == "":
        return None
    try:
        number = strict.whole(value.strip() if isinstance(value, str) else value, signed=True)
    except ValueError as e:
        raise _unreadable(what, e) from None
    if not minimum <= number <= _maximum(what):
        raise ValueError(
            f"{what} '{value}' is not a whole number from {minimum} to {_maximum(what)}"
        )
    return number


def text_cell(value: Any) -> str | None:
    if value is None:
        return None
    raw = str(value)
    text = raw.strip()
    if text.startswith('"') and raw[0].isspace():
        # CSV: ' "B"' is the text ' "B"', quotes and all (a quote opens a field only at its
        # start), which other readers take as B: one patient would become two
        raise ValueError(
            f"{text[:40]!r} has a space before its opening quote, so the quotes are part of "
            "the text: remove the space before the quote"
        )
    return text or None


def patient_cell(value: Any) -> str | None:
    """The patient column's text, held to the one rule of a patient id (records.patient_id).
    A YAML id read as a number other than a whole one (101.10, 12E4, true) has lost how it was
    written, and two patients can become one (101.10 and 101.1): refused, to be quoted."""
    if isinstance(value, bool | float):
        raise ValueError(
            f"the patient id {value!r} was read as a number, which loses how it was written "
            "(101.10 and 101.1 would be one patient): put it in quotes, e.g. patient: '101.10'"
        )
    text = text_cell(value)
    return None if text is None else patient_id(text)


MAX_ID_CHARS = 100


def time_cell(value: Any) -> str | None:
    """An optional ``time`` field: ``HH:MM`` on the 24-hour clock (or empty)."""
    text = text_cell(value)
    if text is None:
        return None
    hours, sep, minutes = text.partition(":")
    if not (
        sep
        and len(hours) == len(minutes) == 2
        and (hours + minutes).isascii()
        and (hours + minutes).isdigit()
        and int(hours) < 24
        and int(minutes) < 60
    ):
        raise ValueError(f"time '{text}' is not a time of day; write it as HH:MM, e.g. 08:30")
    return text


def ident_cell(value: Any) -> str | None:
    """An optional ``id`` field: the administration's id in the source system."""
    text = text_cell(value)
    if text is not None and len(text) > MAX_ID_CHARS:
        raise ValueError(f"id '{text[:20]}…' is longer than {MAX_ID_CHARS} characters")
    return text


_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", re.ASCII)


@lru_cache(maxsize=65536)
def date_cell(text: str) -> date:
    try:
        when = strict.iso_date(text)
    except ValueError as e:
        if _STAMP.fullmatch(text):  # a warehouse's timestamp: which day it is can hang on a zone
            hint = " (the date only: a time of day goes in the time column as HH:MM)"
            raise ValueError(
                f"date '{text[:40]}' is not a date; write it as YYYY-MM-DD{hint}"
            ) from None
        raise ValueError(f"date {e}") from None
    if when < strict.EARLIEST_DATE:
        raise ValueError(
            f"date {text} is before {strict.EARLIEST_DATE.isoformat()}; check the year"
        )
    return when


@lru_cache(maxsize=4096)
def drug_and_unit(drug_text: str, unit_text: str) -> tuple[str, float, bool, str]:
    """(drug, factor to mg or units, per m², unit) for a row's drug and unit texts."""
    drug = _drug(drug_text)
    factor, per_m2, unit = dose_unit(unit_text)
    expected = drugs.book().drugs[drug].dose_unit
    if unit != expected:
        raise ValueError(f"{drug} is dosed in {expected}, but this row is in '{unit_text}'")
    return drug, factor, per_m2, unit


@lru_cache(maxsize=4096)
def bsa_cell(text: str) -> float:
    bsa = _number(text, "bsa_m2")
    lo, hi = BSA_M2
    if not lo <= bsa <= hi:
        raise ValueError(f"bsa_m2 {bsa:g} is not a plausible BSA; give {lo:g} to {hi:g} m²")
    return bsa


def parse_fields(
    date_text: Any, drug_text: Any, dose: Any, unit_text: Any, bsa: Any, today: date
) -> tuple[date, str, float, str, bool, float | None]:
    """Check the fields of one history row: (date, drug, amount in mg or units, unit, per m²,
    BSA or None). ValueError says what is wrong. Distinct texts are resolved once (cached)."""
    text = text_cell(date_text)
    if text is None:
        raise ValueError("the date is missing")
    when = date_cell(text)
    if when > today:
        raise ValueError(
            f"date {text} is in the future (today is {today.isoformat()}); a "
            "history lists doses already given"
        )
    name = text_cell(drug_text)
    if name is None:
        raise ValueError("the drug is missing")
    unit_name = text_cell(unit_text)
    if unit_name is None:
        dose_number(dose)  # "90 mg/m2" in the dose column says so, rather than "no unit"
        raise ValueError("the unit is missing")
    drug, factor, per_m2, unit = drug_and_unit(name, unit_name)
    amount = dose_number(dose)  # below zero: refused just below, with why
    if amount <= 0:
        raise ValueError(
            f"dose {dose} is not above zero; a history lists doses given (a correction is a "
            "new row in the ledger, not a zero or negative dose)"
        )
    amount *= factor
    bad = dose_problem(amount, unit + ("/m²" if per_m2 else ""))
    if bad:
        raise ValueError(f"dose {dose} {unit_name} {bad}")
    row_bsa = None if bsa is None or bsa == "" else bsa_cell(str(bsa).strip())
    return when, drug, amount, unit, per_m2, row_bsa


def parse_row(raw: dict[str, Any], where: str, today: date) -> Row:
    """Check one history row (a mapping of column → value); ValueError says what is wrong."""
    when, drug, amount, unit, per_m2, bsa = parse_fields(
        raw.get("date"), raw.get("drug"), raw.get("dose"), raw.get("unit"), raw.get("bsa_m2"), today
    )
    return Row(
        when,
        drug,
        amount,
        unit,
        per_m2,
        bsa,
        patient_cell(raw.get("patient")),
        text_cell(raw.get("regimen")),
        int_cell(raw.get("cycle"), "cycle", 1),
        int_cell(raw.get("day"), "day", -366),
        where,
        time_cell(raw.get("time")),
        ident_cell(raw.get("id")),
    )


def looks_like(columns: Iterable[str], expected: str) -> str:
    """What a file that is not a ``expected`` ('history' or 'lab') file seems to be, from its
    header: '; it looks like a lab file ...', or ''."""
    names = {c.strip().lower() for c in columns}
    if any(c.lstrip().startswith("<") for c in names):
        return (
            "; the file looks like an HTML or XML page (saved from a browser?), not a CSV "
            "file: export the data as CSV"
        )
    if expected == "history" and {"name", "value"} <= names and "drug" not in names:
        return "; it looks like a lab file (date,name,value,unit): give it with --labs"
    if expected == "lab" and {"drug", "dose"} <= names:
        return "; it looks like a history of doses (date,drug,dose,unit): give it with --history"
    return ""


def check_columns(columns: Iterable[str], source: str, line: int | None) -> None:
    from collections import Counter

    given = [c.strip() for c in columns]
    unknown = list(dict.fromkeys(c for c in given if c not in COLUMNS))
    missing = [c for c in REQUIRED if c not in given]
    if unknown:
        shown = ", ".join(repr(c[:40]) for c in unknown[:10])
        if len(unknown) > 10:  # a header of 200,000 names made a 1 MB message
            shown += f" and {len(unknown) - 10:,} more"
        cased = [c for c in unknown if c.lower() in COLUMNS]
        if cased:  # Patient,Date,…: the names are right, their case is not
            shown += f" (column names are lower case: write {cased[0].lower()!r})"
        raise FileError(
            Problem(
                f"unknown column{'s' if len(unknown) > 1 else ''} {shown}; "
                f"valid columns: {', '.join(COLUMNS)} (date, drug, dose and unit are required)"
                + looks_like(given, "history"),
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
    duplicated = sorted(c for c, n in Counter(given).items() if n > 1)
    if duplicated:
        raise FileError(Problem(f"column {duplicated[0]!r} appears twice", file=source, line=line))


def open_checked(path: Path, limit: int, opener: Any) -> Any:
    """``opener(path)`` for a file of at most ``limit`` bytes; a missing, over-large or
    unreadable file is one clear sentence naming it."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise FileError(
                Problem(f"the file is {size:,} bytes; the limit is {limit:,}", file=str(path))
            )
        return opener(path)
    except FileNotFoundError:
        raise FileError(Problem("no such history file", file=str(path))) from None
    except IsADirectoryError:
        raise FileError(Problem("is a folder; give a history file", file=str(path))) from None
    except OSError as e:
        raise FileError(Problem(f"cannot be read ({e.strerror or e})", file=str(path))) from None


def _open_csv(path: Path) -> Any:
    return open_checked(
        path, MAX_HISTORY_BYTES, lambda p: p.open(encoding="utf-8-sig", errors="strict", newline="")
    )


@dataclass(frozen=True)
class Layout:
    """Where a CSV history's columns are, from its header."""

    width: int
    date: int
    drug: int
    dose: int
    unit: int
    bsa: int | None
    patient: int | None
    optional: tuple[int | None, ...]  # regimen, cycle, day, time, id


def read_layout(header: list[str], source: str) -> Layout:
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        raise FileError(
            Problem(
                f"the columns are separated by {sep}; a history CSV uses commas",
                file=source,
                line=1,
            )
        )
    check_columns(header, source, 1)
    col = {name.strip(): i for i, name in enumerate(header)}
    return Layout(
        len(header),
        col["date"],
        col["drug"],
        col["dose"],
        col["unit"],
        col.get("bsa_m2"),
        col.get("patient"),
        (col.get("regimen"), col.get("cycle"), col.get("day"), col.get("time"), col.get("id")),
    )


def read_error(e: Exception, source: str, line: int) -> FileError:
    """A CSV or UTF-8 error met reading the row after ``line``, as one clear sentence."""
    if isinstance(e, UnicodeDecodeError):
        return FileError(
            Problem(
                f"byte {e.object[e.start]:#04x} is not UTF-8; save the file as UTF-8",
                file=source,
                line=line + 1,
            )
        )
    return FileError(Problem(f"not valid CSV: {e}", file=source, line=line + 1))


# A history of no administrations (a header only, an empty YAML list) is refused: it proves
# nothing of the patient's prior exposure, yet would be counted as none (a wrong export filter)
NO_ROWS = (
    "the history file holds no administrations, only {what}: it would count as no prior "
    "exposure; give the rows, or say the patient had none with --prior DRUG=0mg/m2"
)


def _rows_read(history: History) -> int:
    return sum(len(cols.amount) for cols in history.patients.values())


def scan_csv(path: Path, history: History, today: date) -> None:
    """Read a CSV history into ``history``, checking every row (all bad rows refuse it).
    A pharmacy-wide history is read by the analytics engine instead (:mod:`dosecalc.batch`)."""
    source = str(path)
    handle = _open_csv(path)
    reader = csv.reader(handle, strict=True)
    try:
        try:
            header = next(reader)
        except StopIteration:
            raise FileError(Problem("the history file is empty", file=source)) from None
        except (csv.Error, UnicodeDecodeError) as e:
            raise read_error(e, source, 1) from None
        layout = read_layout(header, source)
        file = len(history.sources)
        history.sources.append(source)
        before = _rows_read(history)
        _scan_rows(reader, layout, history, file, today, source)
        if _rows_read(history) == before:
            raise FileError(Problem(NO_ROWS.format(what="its header"), file=source))
    finally:
        handle.close()


def _scan_rows(
    reader: Any, layout: Layout, history: History, file: int, today: date, source: str
) -> None:
    """The rows ``reader`` gives (each on line ``reader.line_num``) into ``history``.

    The loop resolves each distinct date, drug/unit pair and BSA text once; a row it cannot
    take as it is goes through :func:`parse_fields`, which says what is wrong.
    """
    width, i_date, i_drug, i_dose, i_unit = (
        layout.width,
        layout.date,
        layout.drug,
        layout.dose,
        layout.unit,
    )
    i_bsa, i_patient, optional = layout.bsa, layout.patient, layout.optional
    with_optional = any(i is not None for i in optional)
    dates: dict[str, int] = {}
    kinds: dict[tuple[str, str], tuple[int, float, bool]] = {}
    bsas: dict[str, float] = {"": 0.0}
    amounts: dict[str, float] = {}  # dose text → number, each distinct text read strictly once
    low, limit = DOSE  # the one bound of a dose (base/bounds.py)
    patients = history.patients
    appenders: dict[str | None, tuple[Any, ...]] = {}  # patient text → its Columns and appends
    line = reader.line_num
    problems: list[Problem] = []  # every bad row, reported together at the end
    try:
        for values in reader:
            line = reader.line_num
            if not values:
                continue  # a blank line is not a row
            if len(values) != width:
                problems.append(
                    Problem(
                        f"this row has {len(values)} fields, the header has {width}",
                        file=source,
                        line=line,
                    )
                )
                continue
            try:
                ordinal = dates.get(values[i_date])
                kind = kinds.get((values[i_drug], values[i_unit]))
                bsa = bsas.get(values[i_bsa]) if i_bsa is not None else 0.0
                dose = values[i_dose]
                amount = amounts.get(dose, math.nan)  # parse_fields says what is wrong
                if amount != amount and len(amounts) < 100_000 and not strict.problem(dose):
                    amount = amounts[dose] = float(dose)
                if (
                    ordinal is None
                    or kind is None
                    or bsa is None
                    or not (low <= amount * (kind[1] if kind else 1) <= limit)
                ):
                    when, drug, amount, _, per_m2, row_bsa = parse_fields(
                        values[i_date],
                        values[i_drug],
                        dose,
                        values[i_unit],
                        values[i_bsa] if i_bsa is not None else None,
                        today,
                    )
                    ordinal = dates[values[i_date]] = when.toordinal()
                    history.note_name(values[i_drug], source, line)
                    _, factor, per_m2, _ = drug_and_unit(
                        values[i_drug].strip(), values[i_unit].strip()
                    )
                    kind = kinds[(values[i_drug], values[i_unit])] = (
                        history.code(drug),
                        factor,
                        per_m2,
                    )
                    if i_bsa is not None:
                        bsa = bsas[values[i_bsa]] = row_bsa or 0.0
                else:
                    amount *= kind[1]
                raw = values[i_patient] if i_patient is not None else None
                add = appenders.get(raw)
                if add is None:
                    patient = patient_cell(unescape(raw) if raw else raw)
                    if i_patient is not None and patient is None:
                        raise ValueError(
                            "the patient is missing: in a history with a patient "
                            "column, every row names its patient"
                        )
                    cols = patients.get(patient)
                    if cols is None:
                        cols = patients[patient] = Columns()
                    add = appenders[raw] = (
                        cols,
                        cols.date.append,
                        cols.drug.append,
                        cols.amount.append,
                        cols.per_m2.append,
                        cols.bsa.append,
                        cols.line.append,
                    )
                if with_optional:
                    regimen, cycle, day, time, ident = (
                        values[i] if i is not None else "" for i in optional
                    )
                    extra = (
                        history.regimen_code(text_cell(unescape(regimen)) or ""),
                        int_cell(cycle, "cycle", 1) or 0,
                        int_cell(day, "day", -366) or 0,
                        minutes(time_cell(time)),
                        history.id_code(ident_cell(unescape(ident)) or ""),
                    )
            except ValueError as e:
                problems.append(Problem(str(e), file=source, line=line))
                continue
            if problems:
                continue  # the file is refused: the rest is only read for its problems
            cols, add_date, add_drug, add_amount, add_per_m2, add_bsa, add_line = add
            add_date(ordinal)
            add_drug(kind[0])
            add_amount(amount)
            add_per_m2(kind[2])
            add_bsa(bsa)
            add_line(line)
            if with_optional:
                cols.file.append(file)
                cols.regimen.append(extra[0])
                cols.cycle.append(extra[1])
                cols.day.append(extra[2])
                cols.time.append(extra[3])
                cols.ident.append(extra[4])
        if problems:
            raise refuse(problems)
        if not with_optional:  # the same for every row: filled in once per patient
            for cols in patients.values():
                n = len(cols.amount) - len(cols.file)
                cols.file.extend(array("H", [file]) * n)
                for column in (cols.regimen, cols.cycle, cols.day, cols.time, cols.ident):
                    column.extend(array(column.typecode, [0]) * n)
    except (csv.Error, UnicodeDecodeError) as e:
        raise refuse([*problems, *read_error(e, source, line).problems]) from None


MAX_PROBLEMS = 20  # bad rows reported one by one; the rest are counted


def refuse(problems: list[Problem]) -> FileError:
    """Every bad row of a file in one error: at most MAX_PROBLEMS listed, the rest counted."""
    return refuse_first(problems[:MAX_PROBLEMS], len(problems), problems[-1])


def refuse_first(first: list[Problem], total: int, last: Problem) -> FileError:
    """The same error from the first MAX_PROBLEMS bad rows, how many there are, and the last
    (what the analytics engine knows of a file's bad rows: dosecalc.batch)."""
    if total <= MAX_PROBLEMS:
        return FileError(*first)
    rest = total - MAX_PROBLEMS
    tail = Problem(
        f"and {rest} more bad row{'s' if rest != 1 else ''} (the last on line {last.line})",
        file=last.file,
    )
    return FileError(*first[:MAX_PROBLEMS], tail, total=total)


def yaml_items(text: str, source: str) -> list[tuple[int | None, dict[str, Any]]]:
    """The administrations of a YAML history (docs/history.md) with their lines, columns checked."""
    from dosecalc.data import yamlfile

    data, lines = yamlfile.parse(text, source)
    if not isinstance(data, list):
        raise FileError(
            Problem(
                "a YAML history is a list of administrations (- date: …)",
                file=source,
                line=1 if data is not None else None,
            )
        )
    out = []
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
        check_columns([str(k) for k in item], source, line)
        out.append((line, item))
    return out


def scan_yaml(path: Path, history: History, today: date) -> None:
    from dosecalc.data import yamlfile

    source = str(path)
    items = yaml_items(yamlfile.read_text(path, "history", 10_000_000), source)
    if not items:
        raise FileError(Problem(NO_ROWS.format(what="an empty list"), file=source))
    file = len(history.sources)
    history.sources.append(source)
    rows, problems = [], []
    for line, item in items:
        try:
            rows.append((parse_row(item, f"{source}:{line}", today), line))
        except ValueError as e:
            problems.append(Problem(str(e), file=source, line=line))
            continue
        history.note_name(item.get("drug"), source, line)
    if problems:
        raise refuse(problems)
    for row, line in rows:
        history.add(row, row.patient, file, line or 0)


def load(
    paths: Iterable[Path], priors: Iterable[str] = (), today: date | None = None, jobs: int = 1
) -> History:
    """Every history file and --prior amount, per patient (all-or-nothing). ``jobs`` is left
    from an older signature and not used: the analytics engine reads pharmacy-wide histories
    (:mod:`dosecalc.batch`)."""
    today = today or clock.today()
    history = History()
    paths = list(paths)
    refuse_same_file(paths)
    refused: list[FileError] = []  # every file's, in one error
    for path in paths:
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                scan_yaml(path, history, today)
            else:
                scan_csv(path, history, today)
        except FileError as e:
            refused.append(e)
    if refused:
        raise together(refused)
    first: dict[str, str] = {}
    for text in priors:
        row = parse_prior(text)
        if row.drug in first:  # EPI=90 and epirubicin=90: one amount twice, or two courses?
            raise fail(
                "--prior",
                f"{first[row.drug]} and {text.strip()} are both {row.drug}: give its lifetime "
                "amount given elsewhere once (the courses summed), so that no amount counts twice",
            )
        first[row.drug] = text.strip()
        history.add_prior(row)
        history.note_name(text.partition("=")[0], "--prior", 0)
    history.check_patients()
    return history


def refuse_same_file(paths: list[Path]) -> None:
    """The same file given twice would count every dose in it twice (docs/history.md)."""
    seen: dict[tuple[int, int], Path] = {}
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue  # reading it says what is wrong
        first = seen.setdefault((st.st_dev, st.st_ino), path)
        if first is not path:
            same = "is given twice" if str(first) == str(path) else f"is the same file as {first}"
            raise fail(
                "--history",
                f"{path} {same}: every dose in it would count twice; give each history once",
            )


def read(path: Path, today: date | None = None) -> list[Row]:
    """All rows of one history file (all-or-nothing: the first bad row refuses the file)."""
    return load([path], (), today).all_rows()


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
        if not number >= 0:  # zero says there was none: known, not unknown
            raise ValueError(f"'{amount_text}' is below zero")
        if number * factor > MAX_PRIOR_AMOUNT:
            raise ValueError(f"'{amount_text}' is not a plausible lifetime exposure")
    except ValueError as e:
        raise fail("--prior", f"{text}: {e}") from None
    return Row(None, drug, number * factor, unit, per_m2, None, where="--prior")
