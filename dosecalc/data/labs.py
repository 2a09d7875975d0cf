"""Laboratory tests as dosecalc knows them: each test's unit, plausible range and notations, a
value with its unit and date, one patient's values, and a regimen's gate as plain values.

Every unit goes through the one pint registry (base/units.py): counts per volume (``x10^9/L``,
``G/L``, ``/nL``, ``/uL``, ``/mm3``), concentrations (``mg/dL``, ``g/L``; molar ``umol/L`` with
the molar mass named below), enzyme activities (``U/L``, ``IU/L``, ``ukat/L``: U = umol/min,
kat = mol/s) and clearances (``mL/min``). Enzymes and bilirubin may also be given as multiples
of the upper limit of normal (``2.5xULN``). Values are kept in one unit per lab (:data:`KINDS`);
an implausible value is refused with the valid range, never clamped. Reading ``--lab`` and lab
files is the inputs layer's (inputs/labs.py); gates are judged by the clinical layer
(clinical/labs.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, NamedTuple

from dosecalc.base.bounds import BUN_MG_DL, GFR_ML_MIN, SCR_MG_DL
from dosecalc.base.errors import fail
from dosecalc.base.numbers import fmt, measured

# umol/L -> mg/dL: x umol/L * M g/mol / 10000 = x*M/10000 mg/dL. Creatinine and bilirubin are
# converted by the factors laboratories print, so that a value reported in umol/L lands in the
# band its mg/dL value does (the AMA Manual of Style SI conversion table: 1 mg/dL creatinine =
# 88.4 umol/L, bilirubin, total = 17.1 umol/L). Their molar masses, 113.12 g/mol (PubChem CID 588)
# and 584.66 g/mol (CID 5280352), give 88.40 and 17.104: 20.52 umol/L of bilirubin read as
# 1.1997 mg/dL, printed 1.2 and kept out of the band from 1.2 mg/dL.
CREATININE_G_PER_MOL = 10_000 / 88.4  # also --scr
BILIRUBIN_G_PER_MOL = 10_000 / 17.1

# Methotrexate C20H22N8O5, 454.44 g/mol (USP 35 monograph; data/supportive.yaml hdmtx.molar_mass,
# where it is cited): 1 mg/L = 2.2005 umol/L. Levels are kept in umol/L (= micromolar, uM).
METHOTREXATE_G_PER_MOL = 454.44
MOLAR = "umol/L"


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
            # Blood urea nitrogen, for the melphalan IV label's 'BUN >= 30 mg/dL' (organ.yaml).
            # Urea in mmol/L is refused: dosecalc holds no cited urea-to-BUN factor yet.
            Kind("bun", "blood urea nitrogen (BUN)", "mg/dL", BUN_MG_DL, "30mg/dL"),
            Kind("crcl", "measured creatinine clearance", "mL/min", GFR_ML_MIN, "60mL/min"),
            # A plasma methotrexate level: up to about 1,000 umol/L at the end of a 12 g/m2
            # infusion (US methotrexate label, osteosarcoma); 10,000 leaves room for overdose.
            Kind(
                "mtx",
                "plasma methotrexate level",
                MOLAR,
                (0.0, 10_000.0),
                "12umol/L, 12uM, 12µmol/L or 5.45mg/L",
                molar_mass=METHOTREXATE_G_PER_MOL,
            ),
        )
    }


KINDS = _kinds()


ULN_BOUNDS = (0.0, 500.0)  # a multiple of the upper limit of normal


# Names laboratory systems export for the tests above (docs/labs.md lists them): each stands for
# one test only. Left out as ambiguous: "neutrophils %" and "wbc" (not an absolute neutrophil
# count), "urea" (not BUN: no cited factor), "creatinine clearance" estimated vs measured is
# the user's to say (crcl is a measured one).
SYNONYMS = {
    "anc": ("neutrophils", "neutrophil_count", "absolute_neutrophil_count", "abs_neutrophils",
            "neut", "neuts"),
    "platelets": ("plt", "plts", "platelet", "platelet_count"),
    "hb": ("hgb", "haemoglobin", "hemoglobin"),
    "bilirubin": ("total_bilirubin", "bilirubin_total", "tbil", "t_bili"),
    "direct_bilirubin": ("conjugated_bilirubin", "bilirubin_direct", "dbil"),
    "ast": ("sgot", "aspartate_aminotransferase"),
    "alt": ("sgpt", "alanine_aminotransferase"),
    "alp": ("alkaline_phosphatase", "alk_phos"),
    "scr": ("creatinine", "serum_creatinine", "creat"),
    "crcl": ("measured_creatinine_clearance",),
    "mtx": ("methotrexate", "methotrexate_level"),
}  # fmt: skip
_BY_NAME = {alias: name for name, aliases in SYNONYMS.items() for alias in aliases}


def kind(name: str, field_name: str = "--lab") -> Kind:
    """The test called ``name``: its own name or a synonym (case, spaces, ``-`` and ``_``
    alike: ``Neutrophils``, ``PLT``, ``total bilirubin``)."""
    key = re.sub(r"[\s_-]+", "_", name.strip().lower())
    found = KINDS.get(key) or KINDS.get(_BY_NAME.get(key, ""))
    if found is None:
        raise fail(
            field_name,
            f"'{name[:40]}' is not a laboratory test dosecalc knows; give one of "
            f"{', '.join(KINDS)} (or a synonym dosecalc docs labs lists, such as plt or creatinine)",
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
    time: time | None = None  # when in the day the sample was taken (HH:MM), if given

    @property
    def taken(self) -> datetime | None:
        """The date and time the sample was taken (None without a time)."""
        if self.date is None or self.time is None:
            return None
        return datetime.combine(self.date, self.time)

    @property
    def when(self) -> str:
        """'2026-12-03T14:00', '2026-12-03' or 'undated'."""
        if self.taken is not None:
            return self.taken.isoformat(timespec="minutes")
        return self.date.isoformat() if self.date else "undated"

    def shown(self) -> str:
        """'bilirubin 2 mg/dL (2026-11-28)', 'anc 1.499 ×10⁹/L (2026-12-07)': the value unrounded."""
        return f"{self.name} {measured(self.value)} {display_unit(self.unit)} ({self.when})"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "date": self.date.isoformat() if self.date else None,
            "time": self.time.isoformat(timespec="minutes") if self.time else None,
            "as_given": self.text,
            "from": self.where,
        }


def display_unit(unit: str) -> str:
    return {COUNT: "×10⁹/L", ULN: "× ULN"}.get(unit, unit)


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
        elif k.name == "bun" and "mol" in unit_text.lower():
            raise ValueError(
                "is a molar urea concentration; dosecalc holds no cited factor from urea to "
                "blood urea nitrogen, so give BUN in mg/dL"
            )
        elif k.unit == MOLAR:
            value = number * _molar_factor(unit_text, k.molar_mass)
        elif k.molar_mass is not None and "mol" in unit_text.lower():
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


def _molar_factor(unit_text: str, molar_mass: float | None) -> float:
    """Multiplier to umol/L: 'umol/L', 'µmol/L', 'uM' and 'µM' (micromolar) as they are, 'M'
    and 'mM' (molar, millimolar: a label's 5 x 10-8 M is 5e-8M) by their prefix, a molar unit in
    capitals ('UMOL/L') as any unit in capitals; a mass concentration ('mg/L', 'ug/mL') through
    the molar mass, strictly (no rounding)."""
    from dosecalc.base import units

    text = unit_text.strip().replace("μ", "µ")
    molar = re.fullmatch(r"(m|[uµ]|mc)?M", text)
    if molar:  # M is mol/L here, never a metre (pint would read 'M' in capitals as one)
        return {"": 1e6, "m": 1e3}.get(molar.group(1) or "", 1.0)
    if "mol" in text.lower():
        return units.factor(text, MOLAR)
    assert molar_mass is not None
    try:
        return units.factor(text, "mg/L") / molar_mass * 1000.0
    except units.DimensionError:  # '0.1UM' is no micrometre here: name both kinds it may be
        raise ValueError(
            "is neither a molar concentration (umol/L, uM, M) nor a mass one (mg/L)"
        ) from None


def _big(value: float) -> str:
    return fmt(value) if abs(value) < 1e9 else f"{value:.3g}"


class Labs(NamedTuple):
    """All laboratory values given for one patient, oldest first (undated ones first)."""

    values: tuple[LabValue, ...] = ()
    genotypes: tuple[Any, ...] = ()  # pgx.Genotype of the lab files' genotype rows

    def __bool__(self) -> bool:
        return bool(self.values)

    def of(self, name: str) -> list[LabValue]:
        return [v for v in self.values if v.name == name]

    def latest(self, name: str) -> LabValue | None:
        mine = self.of(name)
        return mine[-1] if mine else None

    def as_list(self) -> list[dict[str, object]]:
        return [v.as_dict() for v in self.values]


def clashes(
    values: Sequence[LabValue],
) -> tuple[list[LabValue], list[tuple[LabValue, LabValue]]]:
    """The values, a result given twice (a file and --lab) kept once, and each pair (first,
    other) of two different results of one lab at one date and time."""
    seen: dict[tuple[str, date | None, time | None], LabValue] = {}
    kept: list[LabValue] = []
    pairs: list[tuple[LabValue, LabValue]] = []
    for v in values:
        other = seen.setdefault((v.name, v.date, v.time), v)
        if other is v:
            kept.append(v)
        elif not (other.unit == v.unit and math.isclose(other.value, v.value, rel_tol=1e-9)):
            pairs.append((other, v))
    return kept, pairs


def merge(values: Sequence[LabValue]) -> Labs:
    kept, pairs = clashes(values)
    if pairs:
        other, v = pairs[0]
        when = v.when if v.date else "without a date"
        raise fail(
            "--lab",
            f"two different {v.name} values {when}: {other.text} ({other.where}) and "
            f"{v.text} ({v.where}); give the one that is right",
        )
    for name in {v.name for v in kept}:
        mine = [v for v in kept if v.name == name]
        if any(v.date is None for v in mine) and any(v.date is not None for v in mine):
            raise fail(
                "--lab",
                f"some {name} values have a date and some do not, so which is the latest is "
                "unclear; give a date (@YYYY-MM-DD) for every value of a lab, or for none",
            )
    kept.sort(key=lambda v: (v.date or date.min, v.time or time.min))
    return Labs(tuple(kept))


class GateSpec(NamedTuple):
    """One lab gate of a regimen, as plain values (regimen.Gate is its file form)."""

    lab: str
    at_least: float | None
    at_most: float | None
    unit: str
    otherwise: str
    source: str | None = None
    text: str = ""  # "anc ≥ 1.5 ×10⁹/L"
    option: str = ""  # the gate's option in force, where its sources disagree


def gate_requirement(g: GateSpec) -> str:
    parts = []
    if g.at_least is not None:
        parts.append(f"≥ {fmt(g.at_least)}")
    if g.at_most is not None:
        parts.append(f"≤ {fmt(g.at_most)}")
    return f"{g.lab} {' and '.join(parts)} {display_unit(g.unit)}"
