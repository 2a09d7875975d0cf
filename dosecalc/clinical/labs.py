"""Laboratory values: read with their units and dates, checked for plausibility; lab gates.

Values come in as ``NAME=VALUE[@YYYY-MM-DD]`` (``--lab anc=1.2x10^9/L@2026-11-28``) or as rows
of a lab file (CSV ``date,name,value,unit``, as a laboratory exports them). Every unit goes
through the one pint registry (units.py): counts per volume (``x10^9/L``, ``G/L``, ``/nL``,
``/uL``, ``/mm3``), concentrations (``mg/dL``, ``g/L``; molar ``umol/L`` with the molar mass
named below), enzyme activities (``U/L``, ``IU/L``, ``ukat/L``: U = umol/min, kat = mol/s) and
clearances (``mL/min``). Enzymes and bilirubin may also be given as multiples of the upper limit
of normal (``2.5xULN``). Values are kept in one unit per lab (:data:`KINDS`); an implausible
value is refused with the valid range, never clamped.

Pure functions of plain values; the one reader of files is :func:`read_file`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from dosecalc.base.errors import DosecalcError, FileError, Problem, fail
from dosecalc.base.numbers import fmt

# Molar masses for molar units (umol/L -> mg/dL: x umol/L * M g/mol = x*M/10000 mg/dL).
# Creatinine 113.12 g/mol (PubChem CID 588; the constant patient.py uses for --scr).
# Bilirubin 584.66 g/mol (PubChem CID 5280352): 1 mg/dL = 17.1 umol/L.
BILIRUBIN_G_PER_MOL = 584.66

COUNT = "x10^9/L"
ULN = "xULN"


class Kind(NamedTuple):
    """What one laboratory test is and how dosecalc reads it."""

    name: str
    what: str  # for messages: "absolute neutrophil count"
    unit: str  # the unit values are kept in
    bounds: tuple[float, float]  # plausible values in ``unit`` (input checking, not clinical)
    examples: str
    uln: bool = False  # may be given as a multiple of the upper limit of normal
    molar_mass: float | None = None  # g/mol, for umol/L


def _kinds() -> dict[str, Kind]:
    from dosecalc.clinical.patient import CREATININE_G_PER_MOL, GFR_ML_MIN, SCR_MG_DL

    return {
        k.name: k
        for k in (
            # Wide enough for leukaemic and thrombocythaemic counts; negative or absurd values
            # are unit slips (1200 given as x10^9/L instead of /uL).
            Kind(
                "anc",
                "absolute neutrophil count",
                COUNT,
                (0.0, 100.0),
                "1.5x10^9/L, 1500/uL, 1.5/nL or 1.5G/L",
            ),
            Kind(
                "platelets",
                "platelet count",
                COUNT,
                (0.0, 3000.0),
                "100x10^9/L, 100000/uL or 100G/L",
            ),
            Kind("hb", "haemoglobin", "g/dL", (1.0, 25.0), "12g/dL or 120g/L"),
            Kind(
                "bilirubin",
                "total bilirubin",
                "mg/dL",
                (0.0, 60.0),
                "1.2mg/dL, 20umol/L or 1.5xULN",
                uln=True,
                molar_mass=BILIRUBIN_G_PER_MOL,
            ),
            Kind(
                "direct_bilirubin",
                "direct (conjugated) bilirubin",
                "mg/dL",
                (0.0, 50.0),
                "0.3mg/dL or 5umol/L",
                uln=True,
                molar_mass=BILIRUBIN_G_PER_MOL,
            ),
            Kind(
                "ast",
                "aspartate aminotransferase (AST)",
                "U/L",
                (0.0, 20000.0),
                "80U/L or 2.5xULN",
                uln=True,
            ),
            Kind(
                "alt",
                "alanine aminotransferase (ALT)",
                "U/L",
                (0.0, 20000.0),
                "80U/L or 2.5xULN",
                uln=True,
            ),
            Kind(
                "alp", "alkaline phosphatase", "U/L", (0.0, 10000.0), "300U/L or 2.5xULN", uln=True
            ),
            Kind(
                "scr",
                "serum creatinine",
                "mg/dL",
                SCR_MG_DL,
                "0.9mg/dL or 80umol/L",
                molar_mass=CREATININE_G_PER_MOL,
            ),
            Kind("crcl", "measured creatinine clearance", "mL/min", GFR_ML_MIN, "60mL/min"),
        )
    }


KINDS = _kinds()
ULN_BOUNDS = (0.0, 500.0)  # a multiple of the upper limit of normal


def kind(name: str, field_name: str = "--lab") -> Kind:
    found = KINDS.get(name.strip().lower())
    if found is None:
        raise fail(
            field_name,
            f"'{name[:40]}' is not a laboratory test dosecalc knows; give one of "
            f"{', '.join(KINDS)}",
        )
    return found


class LabValue(NamedTuple):
    """One laboratory result: its value in its lab's unit (or ``xULN``), and when it was taken."""

    name: str
    value: float
    unit: str
    date: date | None
    where: str  # "--lab" or "labs.csv:3"
    text: str  # the value as written, e.g. "2.0mg/dL"

    def shown(self) -> str:
        """'bilirubin 2 mg/dL (2026-11-28)'."""
        when = f" ({self.date.isoformat()})" if self.date else " (undated)"
        return f"{self.name} {fmt(self.value)} {display_unit(self.unit)}{when}"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "date": self.date.isoformat() if self.date else None,
            "as_given": self.text,
            "from": self.where,
        }


def display_unit(unit: str) -> str:
    return {COUNT: "×10⁹/L", ULN: "× ULN"}.get(unit, unit)


# ---------------------------------------------------------------- units

_TEN = (r"^(?:[x×*]\s*)?10\s*(?:\^|\*\*)?\s*(?P<exp>[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})\s*(?P<rest>.*)$", 0)
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_PER_VOLUME = (r"^(?:cells\s*)?/\s*(?P<vol>[A-Za-zµμ]+(?:\s*(?:\^|\*\*)?\s*[23³])?)$", 0)
_ENZYME = (
    r"^(?P<prefix>[µμun]?)(?P<kind>kat|IU|U|units?)\s*/\s*(?P<vol>[mdµμu]?L)$",
    re.IGNORECASE,
)
_TIMES_ULN = (r"^(?:[x×*]|times)?\s*ULN$", re.IGNORECASE)


def _match(pattern: tuple[str, int], text: str) -> re.Match[str] | None:
    """Patterns are compiled on first use (re's cache): a plan without labs never needs them."""
    return re.match(pattern[0], text, pattern[1])


def _count_factor(unit_text: str) -> float:
    """Multiplier from a count unit to x10^9/L: 'x10^9/L' 1, '/uL' 0.001, 'G/L' 1, '/nL' 1."""
    from dosecalc.base import units

    text = unit_text.strip().replace(" ", "").replace("µ", "u").replace("μ", "u")
    scale = 1.0
    if text.upper() in ("G/L", "GPT/L"):
        return 1.0
    if text.upper() in ("K/UL", "THOU/UL"):
        text, scale = "/uL", 1e3
    if text.lower() == "/nl":  # units.txt has no nano- prefix (it would admit 'ng' as a dose)
        text, scale = "/uL", 1e3
    m = _match(_TEN, text)
    if m:
        scale = 10.0 ** int(m.group("exp").translate(_SUPERSCRIPT))
        text = m.group("rest")
    pv = _match(_PER_VOLUME, text)
    if not pv:
        raise ValueError("is not a count per volume")
    try:
        per_litre = units.factor(f"1/{pv.group('vol')}", "1/L")
    except ValueError:
        raise ValueError("is not a count per volume") from None
    return scale * per_litre / 1e9


def _enzyme_factor(unit_text: str) -> float:
    """Multiplier to U/L. U/L is accepted here (an enzyme activity, U = umol/min) although 'U'
    alone is refused as a dose unit (units.py); kat = mol/s, so 1 ukat/L = 60 U/L."""
    from dosecalc.base import units

    m = _match(_ENZYME, unit_text.strip().replace(" ", ""))
    if not m:
        raise ValueError("is not an enzyme activity")
    vol = m.group("vol").replace("µ", "u").replace("μ", "u")
    prefix = m.group("prefix").replace("µ", "u").replace("μ", "u")
    try:
        if m.group("kind").lower() == "kat":
            # in umol/s, so that no nano- prefix is needed in the registry
            scale = {"": 1e6, "u": 1.0, "n": 1e-3}[prefix]
            return scale * units.factor(f"umol/s/{vol}", "umol/min/L")
        if prefix:
            raise ValueError
        return units.factor(f"umol/min/{vol}", "umol/min/L")
    except ValueError:
        raise ValueError("is not an enzyme activity") from None


def parse_value(name: str, text: str, field_name: str = "--lab") -> tuple[float, str]:
    """``parse_value('bilirubin', '36umol/L')`` -> ``(2.105..., 'mg/dL')``; the unit is the
    lab's, or ``xULN``. Refuses a value without a unit, of the wrong kind, or implausible."""
    from dosecalc.base import units

    k = kind(name, field_name)
    valid = (
        f"give e.g. {k.name}={k.examples.split(',')[0].split(' or ')[0]} ({k.examples})"
        if field_name == "--lab"
        else f"give e.g. {k.examples}"
    )
    try:
        number, unit_text = units.split(text)
    except ValueError as e:
        raise fail(field_name, f"{k.name}: {e}; {valid}") from None
    unit_text = unit_text.strip()
    if not unit_text:
        raise fail(field_name, f"{k.name}: '{text}' has no unit; {valid}")
    unit = k.unit
    try:
        if k.uln and _match(_TIMES_ULN, unit_text):
            value, unit = number, ULN
        elif k.unit == COUNT:
            value = number * _count_factor(unit_text)
        elif k.unit == "U/L":
            value = number * _enzyme_factor(unit_text)
        elif k.unit == "mL/min":
            if "1.73" in unit_text:
                raise ValueError(
                    "is normalised to 1.73 m²; give the patient's own clearance in mL/min"
                )
            value = number * units.factor(unit_text, "mL/min")
        elif k.molar_mass is not None and "mol" in unit_text:
            value = number * units.factor(unit_text, "umol/L") * k.molar_mass / 10_000.0
        else:
            value = number * units.factor(unit_text, k.unit)
    except ValueError as e:
        shown = str(e).removeprefix(f"'{unit_text}' ")
        raise fail(field_name, f"{k.name}: '{text}' {shown}; {valid}") from None
    lo, hi = ULN_BOUNDS if unit == ULN else k.bounds
    if not (math.isfinite(value) and lo <= value <= hi):
        raise fail(
            field_name,
            f"{k.name} {_big(value)} {display_unit(unit)} (from '{text}') is not a plausible "
            f"{k.what}; give a value between {fmt(lo)} and {fmt(hi)} {display_unit(unit)}",
        )
    return value, unit


def _big(value: float) -> str:
    return fmt(value) if abs(value) < 1e9 else f"{value:.3g}"


_DATE = (r"^\d{4}-\d{2}-\d{2}$", 0)


def parse_date(text: str, field_name: str, today: date | None = None) -> date:
    text = text.strip()
    try:
        if not _match(_DATE, text):
            raise ValueError
        when = date.fromisoformat(text)
    except ValueError:
        raise fail(field_name, f"'{text[:40]}' is not a date; write YYYY-MM-DD") from None
    if when > (today or date.today()):
        raise fail(
            field_name,
            f"{when.isoformat()} is in the future: a sample's date is the day it was taken",
        )
    return when


def parse_lab(text: str, today: date | None = None) -> LabValue:
    """``'anc=1.2x10^9/L@2026-11-28'`` -> a :class:`LabValue`."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise fail(
            "--lab",
            f"'{text[:60]}' is not NAME=VALUE[@YYYY-MM-DD]; e.g. anc=1.2x10^9/L@2026-11-28 "
            f"(names: {', '.join(KINDS)})",
        )
    value_text, at, when = rest.partition("@")
    k = kind(name)
    value, unit = parse_value(k.name, value_text.strip())
    return LabValue(
        k.name,
        value,
        unit,
        parse_date(when, "--lab", today) if at else None,
        "--lab",
        value_text.strip(),
    )


# ---------------------------------------------------------------- lab files

COLUMNS = ("date", "name", "value", "unit")
MAX_FILE_BYTES = 5_000_000


def read_file(path: Path, today: date | None = None) -> list[LabValue]:
    """A lab file (CSV with the columns date, name, value, unit; a header row first). Every bad
    row is reported, each with file:line, in one error."""
    from dosecalc.data.yamlfile import read_text

    source = str(path)
    text = read_text(path, "lab", MAX_FILE_BYTES)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as e:
        raise FileError(Problem(f"not valid CSV: {e}", file=source)) from None
    numbered = [(n, r) for n, r in enumerate(rows, 1) if any(c.strip() for c in r)]
    if not numbered:
        raise FileError(
            Problem(f"the lab file is empty; its header is {','.join(COLUMNS)}", file=source)
        )
    head_line, head = numbered[0]
    names = [c.strip().lower() for c in head]
    unknown = [c for c in names if c not in COLUMNS]
    missing = [c for c in COLUMNS if c not in names]
    if unknown or missing or len(set(names)) != len(names):
        what = []
        if unknown:
            what.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
        if missing:
            what.append(f"missing column(s) {', '.join(missing)}")
        if len(set(names)) != len(names):
            what.append("a column is named twice")
        raise FileError(
            Problem(
                f"{'; '.join(what)}; the header must name the columns {','.join(COLUMNS)}",
                file=source,
                line=head_line,
            )
        )
    at = {c: names.index(c) for c in COLUMNS}
    out: list[LabValue] = []
    problems: list[Problem] = []
    for line, row in numbered[1:]:
        if len(row) != len(names):
            problems.append(
                Problem(
                    f"has {len(row)} fields; the header has {len(names)}", file=source, line=line
                )
            )
            continue
        cell = {c: row[i].strip() for c, i in at.items()}
        try:
            if not cell["date"]:
                raise fail("date", "is empty; every row of a lab file needs its sample date")
            when = parse_date(cell["date"], "date", today)
            k = kind(cell["name"], "name")
            if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", cell["value"]):
                raise fail("value", f"'{cell['value'][:40]}' is not a number")
            value, unit = parse_value(k.name, f"{cell['value']} {cell['unit']}", "value/unit")
        except DosecalcError as e:  # one clear sentence for this row, with its line
            problems += [
                Problem(p.message, field=p.field, file=source, line=line) for p in e.problems
            ]
            continue
        out.append(
            LabValue(
                k.name,
                value,
                unit,
                when,
                f"{path.name}:{line}",
                f"{cell['value']} {cell['unit']}".strip(),
            )
        )
    if problems:
        raise FileError(*problems)
    return out


# ---------------------------------------------------------------- the collection


class Labs(NamedTuple):
    """All laboratory values given for one patient, oldest first (undated ones first)."""

    values: tuple[LabValue, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.values)

    def of(self, name: str) -> list[LabValue]:
        return [v for v in self.values if v.name == name]

    def latest(self, name: str) -> LabValue | None:
        mine = self.of(name)
        return mine[-1] if mine else None

    def as_list(self) -> list[dict[str, object]]:
        return [v.as_dict() for v in self.values]


def collect(
    texts: Iterable[str] = (),
    files: Iterable[Path] = (),
    today: date | None = None,
) -> Labs:
    """The values of ``--lab`` options and lab files, merged and checked: one lab's values are
    all dated or all undated, and two different values of one lab on one date are refused."""
    values = [parse_lab(t, today) for t in texts]
    for path in files:
        values += read_file(Path(path), today)
    return merge(values)


def merge(values: Sequence[LabValue]) -> Labs:
    seen: dict[tuple[str, date | None], LabValue] = {}
    kept: list[LabValue] = []
    for v in values:
        key = (v.name, v.date)
        other = seen.get(key)
        if other is not None:
            if other.unit == v.unit and math.isclose(other.value, v.value, rel_tol=1e-9):
                continue  # the same result twice (a file and --lab): one result
            when = v.date.isoformat() if v.date else "without a date"
            raise fail(
                "--lab",
                f"two different {v.name} values {when}: {other.text} ({other.where}) and "
                f"{v.text} ({v.where}); give the one that is right",
            )
        seen[key] = v
        kept.append(v)
    for name in {v.name for v in kept}:
        mine = [v for v in kept if v.name == name]
        if any(v.date is None for v in mine) and any(v.date is not None for v in mine):
            raise fail(
                "--lab",
                f"some {name} values have a date and some do not, so which is the latest is "
                "unclear; give a date (@YYYY-MM-DD) for every value of a lab, or for none",
            )
    kept.sort(key=lambda v: v.date or date.min)
    return Labs(tuple(kept))


def reconcile_scr(scr_mg_dl: float | None, labs: Labs) -> float | None:
    """``--scr`` and ``--lab scr=`` are the same value: both given and different is refused;
    the creatinine used is the one given (the latest lab value when only labs are given)."""
    latest = labs.latest("scr")
    if latest is None:
        return scr_mg_dl
    # the same creatinine in two notations agrees to half a µmol/L (0.006 mg/dL)
    if scr_mg_dl is not None and not math.isclose(scr_mg_dl, latest.value, abs_tol=0.006):
        raise fail(
            "--scr",
            f"--scr gives {fmt(scr_mg_dl)} mg/dL but the latest scr lab value is "
            f"{latest.text} ({fmt(latest.value)} mg/dL, {latest.where}); give one creatinine",
        )
    return latest.value


def reconcile_crcl(gfr_ml_min: float | None, labs: Labs) -> float | None:
    """A measured creatinine clearance (``--lab crcl=``) and ``--gfr`` both given and different
    is refused: both would be used as the patient's clearance."""
    latest = labs.latest("crcl")
    if latest is None:
        return None
    if gfr_ml_min is not None and not math.isclose(gfr_ml_min, latest.value, rel_tol=1e-6):
        raise fail(
            "--gfr",
            f"--gfr gives {fmt(gfr_ml_min)} mL/min but the measured creatinine clearance is "
            f"{latest.text} ({latest.where}); give one clearance",
        )
    return latest.value


# ---------------------------------------------------------------- gates and staleness


class GateSpec(NamedTuple):
    """One lab gate of a regimen, as plain values (regimen.Gate is its file form)."""

    lab: str
    at_least: float | None
    at_most: float | None
    unit: str
    otherwise: str
    source: str | None = None
    text: str = ""  # "anc ≥ 1.5 ×10⁹/L"


def _short(source: str | None) -> str:
    """A source's name for a message: its text up to the first quotation or colon."""
    if not source:
        return ""
    return re.split(r":\s|\s'|,\s'", source, maxsplit=1)[0].strip()[:120]


def gate_requirement(g: GateSpec) -> str:
    parts = []
    if g.at_least is not None:
        parts.append(f"≥ {fmt(g.at_least)}")
    if g.at_most is not None:
        parts.append(f"≤ {fmt(g.at_most)}")
    return f"{g.lab} {' and '.join(parts)} {display_unit(g.unit)}"


def _in_unit(v: LabValue, unit: str, uln: dict[str, float]) -> float | None:
    if v.unit == unit:
        return v.value
    base = uln.get(v.name)
    if base is None:
        return None
    if unit == ULN:
        return v.value / base
    if v.unit == ULN:
        return v.value * base
    return None


def check_gates(
    gates: Sequence[GateSpec],
    labs: Labs,
    starts: Sequence[date],
    max_age_days: float,
    regimen: str,
    phase: int = 1,
    uln: dict[str, float] | None = None,
    earlier: bool = False,
    first_cycle: int = 1,
) -> list[Any]:
    """Gates against the values given, cycle by cycle (``starts``: each cycle's day 1).

    A value belongs to the first cycle whose day 1 is on or after the day it was taken (an
    undated value to cycle 1); each cycle is checked with the latest value that belongs to it.
    Older than ``max_age_days`` before that day 1: LAB_STALE. Below (above) the gate:
    LAB_GATE_FAILED. Cycles no value belongs to get one line saying which labs to repeat, and
    a gate no value is given for one line saying it was not checked. With ``earlier`` (a later
    phase of a course), values older than the age limit before this phase's first day 1
    belong to the phases before it and are not used here. The cycles are numbered from
    ``first_cycle`` (verify checks an order's cycle alone).
    """
    from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert

    out: list[Alert] = []
    if not gates or not starts:
        return out

    def number(c: int) -> int:  # the cycle's own number
        return c + first_cycle - 1

    pending: dict[int, list[str]] = {}
    failed: dict[tuple[int, str], tuple[LabValue, dict[str, Any], list[str]]] = {}
    for g in gates:
        mine = labs.of(g.lab)
        needs = gate_requirement(g)
        if not mine:
            out.append(
                Alert(
                    INFO,
                    "LAB_GATE_NOT_CHECKED",
                    f"{regimen}: gate {needs} (otherwise {g.otherwise}"
                    f"{'; ' + _short(g.source) if g.source else ''}) not checked: no {g.lab} value was "
                    f"given; give --lab {g.lab}=VALUE@DATE (taken within {fmt(max_age_days)} days "
                    "before the cycle's day 1)",
                    phase=phase,
                    cycle=first_cycle,
                    day=1,
                    date=starts[0],
                )
            )
            continue
        by_cycle: dict[int, LabValue] = {}
        for v in mine:
            if earlier and (v.date is None or (starts[0] - v.date).days > max_age_days):
                continue
            cycle = _cycle_of(v.date, starts)
            if cycle is not None:
                by_cycle[cycle] = v  # the latest (values are oldest first)
        for c in range(1, len(starts) + 1):
            v = by_cycle.get(c)
            if v is None:
                pending.setdefault(c, []).append(g.lab)
                continue
            day1 = starts[c - 1]
            where = dict(phase=phase, cycle=number(c), day=1, date=day1)
            if v.date is not None and (day1 - v.date).days > max_age_days:
                out.append(
                    Alert(
                        WARNING,
                        "LAB_STALE",
                        f"{regimen} cycle {number(c)}: {v.shown()} was taken {(day1 - v.date).days} days "
                        f"before day 1 ({day1.isoformat()}), more than labs.max_age_days = "
                        f"{fmt(max_age_days)}: repeat it before treatment",
                        **where,  # type: ignore[arg-type]
                    )
                )
            value = _in_unit(v, g.unit, uln or {})
            if value is None:
                out.append(
                    Alert(
                        WARNING,
                        "LAB_GATE_NOT_CHECKED",
                        f"{regimen} cycle {number(c)}: gate {needs} could not be compared with "
                        f"{v.shown()} (set labs.uln.{v.name} or give {g.lab} in "
                        f"{display_unit(g.unit)})",
                        **where,  # type: ignore[arg-type]
                    )
                )
                continue
            low = g.at_least is not None and value < g.at_least
            high = g.at_most is not None and value > g.at_most
            if low or high:
                failed.setdefault((c, g.lab), (v, where, []))[2].append(
                    f"{needs} (otherwise {g.otherwise}"
                    + (f"; {_short(g.source)})" if g.source else ")")
                )
    for (c, _lab), (v, where, which) in sorted(failed.items()):
        out.append(
            Alert(
                CRITICAL,
                "LAB_GATE_FAILED",
                f"{regimen} cycle {number(c)}: {v.shown()} fails the gate"
                f"{'s' if len(which) > 1 else ''} " + "; ".join(which),
                **where,  # type: ignore[arg-type]
            )
        )
    if pending:
        cycles = sorted(pending)
        labs_needed = sorted({lab for c in cycles for lab in pending[c]})
        out.append(
            Alert(
                INFO,
                "LAB_GATE_PENDING",
                f"{regimen}: {_ranges([number(c) for c in cycles])} need{'s' if len(cycles) == 1 else ''} new "
                f"{' and '.join(labs_needed)} values, taken within {fmt(max_age_days)} days before "
                f"each day 1, for the gates "
                + "; ".join(gate_requirement(g) for g in gates if g.lab in labs_needed),
                phase=phase,
                cycle=number(cycles[0]),
                day=1,
                date=starts[cycles[0] - 1],
            )
        )
    return out


def _cycle_of(when: date | None, starts: Sequence[date]) -> int | None:
    if when is None:
        return 1
    for c, day1 in enumerate(starts, 1):
        if day1 >= when:
            return c
    return None


def _ranges(cycles: list[int]) -> str:
    runs: list[list[int]] = []
    for c in cycles:
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    parts = [f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return ("cycle " if len(cycles) == 1 else "cycles ") + ", ".join(parts)


def stale(values: Iterable[LabValue], first_day: date, max_age_days: float, why: str) -> list[Any]:
    """LAB_STALE for values used for organ function that are older than ``max_age_days`` on the
    first day they are used for."""
    from dosecalc.base.alerts import WARNING, Alert

    out = []
    for v in values:
        if v.date is None:
            continue
        age = (first_day - v.date).days
        if age > max_age_days:
            out.append(
                Alert(
                    WARNING,
                    "LAB_STALE",
                    f"{v.shown()} is {age} days older than {first_day.isoformat()} ({why}), "
                    f"more than labs.max_age_days = {fmt(max_age_days)}: repeat it before "
                    "treatment",
                    date=first_day,
                )
            )
    return out
