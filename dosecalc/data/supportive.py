"""The supportive-care data file (``data/supportive.yaml``): what high-dose methotrexate needs
around it, as plain values the clinical layer judges levels with (clinical/mtx.py): the expected
elimination, the label's leucovorin rescue table (normal, delayed late, delayed early or acute
kidney injury), the glucarpidase consensus lines (Ramsey 2018) and the label's glucarpidase
facts, and how long levels are drawn. Every number keeps its source and ``verified`` flag. The
file's mesna, cisplatin-hydration and dexrazoxane sections are the references the regimen files'
supportive lines cite; they are read by people (and data/REVIEW.md), not by the engine."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("supportive.yaml")


@dataclass(frozen=True)
class Line:
    """A level that crosses a line at (or after) a time from the infusion start."""

    at_h: float
    umol_l: float
    inclusive: bool  # '50 micromolar or more' (≥) rather than 'above 30 uM' (>)
    source: str
    verified: bool
    text: str

    def crossed(self, value: float) -> bool:
        return value >= self.umol_l if self.inclusive else value > self.umol_l

    @property
    def sign(self) -> str:
        return "≥" if self.inclusive else ">"

    def words(self) -> str:
        """'at or above 50 µmol/L at 24 h' / 'above 30 µmol/L at 36 h'."""
        from dosecalc.base.numbers import fmt

        how = "at or above" if self.inclusive else "above"
        return f"{how} {fmt(self.umol_l)} µmol/L at {fmt(self.at_h)} h"


@dataclass(frozen=True)
class Said:
    """A sentence of a source (a rescue step, a monitoring rule) with where it comes from."""

    text: str
    source: str
    verified: bool


@dataclass(frozen=True)
class HdMtx:
    molar_mass: float
    expected: tuple[dict[str, Any], ...]  # the label's normal elimination: at_h and a level
    normal: Said  # the rescue for normal elimination
    late: tuple[Line, ...]  # delayed late: all of them (72 h and 96 h)
    late_rescue: Said
    early: tuple[Line, ...]  # delayed early: any of them
    creatinine_rise_percent: float  # ... or a creatinine rise of at least this
    creatinine: Said
    early_rescue: Said
    early_switch_below: float  # 150 mg until below this, then 15 mg
    early_supportive: Said
    consensus: tuple[Line, ...]  # Ramsey 2018, infusion of 24 h or less: any, with creatinine
    consensus_long: tuple[Line, ...]  # Ramsey 2018, 36- to 42-h infusion
    consensus_creatinine: Said
    window_h: tuple[float, float]  # glucarpidase optimally within these hours from the start
    window: Said
    glucarpidase: tuple[Said, ...]  # the label: indication, dose, leucovorin, assay
    stop_below: float  # levels are drawn daily until below this (umol/L)
    monitoring: Said
    label_scope: str  # the dose and infusion the rescue table is written for
    sources: dict[str, str]
    shorts: dict[str, str]

    def cite(self, source: str) -> str:
        return self.sources.get(source, source)

    def short(self, source: str) -> str:
        """A source's short name for a table or a message (the citation in JSON)."""
        return self.shorts.get(source) or self.cite(source)


def _line(entry: dict[str, Any], key: str, inclusive: bool) -> Line:
    return Line(
        float(entry["at_h"]),
        float(entry[key]),
        inclusive,
        entry["source"],
        bool(entry["verified"]),
        entry.get("text", ""),
    )


def _said(entry: dict[str, Any], text: str | None = None) -> Said:
    if not isinstance(entry.get("verified"), bool) or not entry.get("source"):
        raise ValueError(f"needs its source and verified flag: {entry}")
    return Said(text or entry["text"], entry["source"], entry["verified"])


def parse(data: dict[str, Any]) -> HdMtx:
    """The file's ``hdmtx`` section as :class:`HdMtx`; KeyError/ValueError when it is damaged."""
    sources = {k: str(v.get("cite", v)) for k, v in data["sources"].items()}
    h = data["hdmtx"]
    rescue = h["leucovorin_rescue"]["options"]["us-label"]
    normal = rescue["normal"]
    dose, doses, start = normal["dose"], normal["number_of_doses"], normal["start_at_h"]
    late, early = rescue["delayed_late"], rescue["delayed_early_or_aki"]
    steps = early["action"]
    rise = next(c for c in early["condition"]["any_of"] if "creatinine_rise_percent_at_least" in c)
    consensus = h["glucarpidase"]["consensus"]
    label = h["glucarpidase"]["label"]
    timing = consensus["timing"]
    return HdMtx(
        molar_mass=float(h["molar_mass"]["value_g_per_mol"]),
        expected=tuple(h["expected_elimination"]),
        normal=Said(
            f"{dose['value']} {dose['route']} every {dose['interval_h']:g} h, "
            f"{doses['value']} doses from {start['value']:g} h after the start of the "
            f"infusion (for {doses['duration_h']:g} h)",
            dose["source"],
            dose["verified"] and doses["verified"] and start["verified"],
        ),
        late=tuple(_line(c, "above_umol_per_L", False) for c in late["condition"]["all_of"]),
        late_rescue=_said(late["action"], late["action"]["text"]),
        early=tuple(
            _line(c, "at_least_umol_per_L", True)
            for c in early["condition"]["any_of"]
            if "at_least_umol_per_L" in c
        ),
        creatinine_rise_percent=float(rise["creatinine_rise_percent_at_least"]),
        creatinine=_said(rise),
        early_rescue=Said(
            f"{steps[0]['dose']} {steps[0]['route']} every {steps[0]['interval_h']:g} h until "
            f"methotrexate is below {steps[0]['until_below_umol_per_L']:g} µmol/L, then "
            f"{steps[1]['then_dose']} {steps[1]['route']} every {steps[1]['interval_h']:g} h "
            f"until below {steps[1]['until_below_umol_per_L']:g} µmol/L",
            steps[0]["source"],
            steps[0]["verified"] and steps[1]["verified"],
        ),
        early_switch_below=float(steps[0]["until_below_umol_per_L"]),
        early_supportive=_said(early["supportive"]),
        consensus=tuple(_line(c, "above_umol_per_L", False) for c in consensus["thresholds"]),
        consensus_long=tuple(
            _line(c, "above_umol_per_L", False) for c in consensus["long_infusion"]["thresholds"]
        ),
        consensus_creatinine=_said(consensus["creatinine_criterion"]),
        window_h=(float(timing["window_h"][0]), float(timing["window_h"][1])),
        window=_said(timing),
        glucarpidase=tuple(
            _said(label[k], label[k].get("text") or f"{label[k]['value']}, {label[k]['route']}")
            for k in ("indication", "dose", "leucovorin_interaction", "assay")
        ),
        stop_below=float(late["action"]["until_below_umol_per_L"]),
        monitoring=_said(rescue["monitoring"]),
        label_scope=h["definition"]["note"],
        sources=sources,
        shorts={k: v["short"] for k, v in data["sources"].items() if "short" in v},
    )


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    from dosecalc.data.yamlfile import read_trusted

    return read_trusted(DATA, "supportive-care data")  # type: ignore[no-any-return]


_DAMAGED = (ValueError, KeyError, TypeError, AttributeError, StopIteration, IndexError)


@lru_cache(maxsize=1)
def hdmtx() -> HdMtx:
    from dosecalc.data.drugs import DataError

    try:
        return parse(_data())
    except _DAMAGED as e:
        raise DataError(f"the packaged supportive-care data is damaged: {e}") from e


@dataclass(frozen=True)
class Figure:
    """A number a requirement holds a supportive line to, with where it comes from."""

    value: float
    unit: str  # '%', 'h', 'mg', 'mg/m2'
    source: str  # the source's short name
    verified: bool
    text: str

    def cited(self) -> str:
        """'60 % (MESNEX US label 2.1)': the number and its source, short."""
        from dosecalc.base.numbers import fmt

        unverified = ", unverified" if not self.verified else ""
        return f"{fmt(self.value)} {self.unit} ({self.source}{unverified})"


@dataclass(frozen=True)
class HighDose:
    """The one definition of high-dose methotrexate (``hdmtx.definition.high_dose``): per-m²
    doses at or above ``at_least`` mg/m². The leucovorin requirement and organ.yaml's
    ``when: {hdmtx: ...}`` both read it."""

    at_least: float  # mg/m2, inclusive
    source: str  # the citation
    verified: bool
    text: str


@lru_cache(maxsize=1)
def high_dose() -> HighDose:
    from dosecalc.data.drugs import DataError

    try:
        data = _data()
        entry = data["hdmtx"]["definition"]["high_dose"]
        amount, unit = _mg_per_m2(entry["at_least"])
        if not isinstance(entry["verified"], bool):
            raise ValueError("high_dose needs its verified flag")
        sources = {k: str(v.get("cite", v)) for k, v in data["sources"].items()}
        return HighDose(amount, sources[entry["source"]], entry["verified"], entry["text"])
    except _DAMAGED as e:
        raise DataError(f"the packaged supportive-care data is damaged: {e}") from e


@dataclass(frozen=True)
class Requirement:
    """A drug a regimen may not give without a supportive line (``line``) or care (``care``),
    and what such a line must prove to count (the numbers below, each with its source)."""

    drug: str
    line: str | None
    care: str | None
    severity: str
    text: str
    source: str  # the citation
    verified: bool
    high_dose: bool = False  # only at the high dose of :func:`high_dose` (methotrexate)
    same_day: bool = False  # the line on every day the drug is given (mesna), not only once
    daily_percent: Figure | None = None  # the day's line at least this % of the drug's
    daily_percent_oral: Figure | None = None  # ... on a day with an oral dose of the line
    start_at_h: Figure | None = None  # each dose at least this long after the drug's start
    start_at_h_most: Figure | None = None  # ... and the first dose at most this long after
    dose_flat: Figure | None = None  # each dose at least this, when written in mg
    dose_per_m2: Figure | None = None  # ... when written in mg/m2


def _mg_per_m2(text: str) -> tuple[float, str]:
    """'500 mg/m2' → (500.0, 'mg/m2') (mg per m² only)."""
    number, unit = str(text).split()
    if unit != "mg/m2":
        raise ValueError(f"{text!r} is not a dose in mg/m2")
    return float(number), unit


def _number(entry: Any, sources: dict[str, str], unit: str) -> Figure | None:
    if entry is None:
        return None
    if not isinstance(entry.get("verified"), bool) or entry.get("source") not in sources:
        raise ValueError(f"needs its source and verified flag: {entry}")
    value = entry["value"]
    if isinstance(value, str):  # '15 mg', '10 mg/m2'
        number, written = value.split()
        if written != unit:
            raise ValueError(f"{value!r} is not in {unit}")
        value = number
    return Figure(
        float(value), unit, sources[entry["source"]], entry["verified"], entry.get("text", "")
    )


@lru_cache(maxsize=1)
def requirements() -> tuple[Requirement, ...]:
    """The file's ``required_with`` list, each with its citation."""
    from dosecalc.data.drugs import DataError

    try:
        data = _data()
        sources = {k: str(v.get("cite", v)) for k, v in data["sources"].items()}
        shorts = {k: str(v.get("short") or v.get("cite", v)) for k, v in data["sources"].items()}
        out = []
        for r in data["required_with"]:
            dose = r.get("dose_at_least") or {}
            out.append(
                Requirement(
                    r["drug"],
                    r.get("line"),
                    r.get("care"),
                    r["severity"],
                    r["text"],
                    sources[r["source"]],
                    bool(r["verified"]),
                    bool(r.get("high_dose", False)),
                    bool(r.get("same_day", False)),
                    _number(r.get("daily_percent_at_least"), shorts, "%"),
                    _number(r.get("daily_percent_at_least_with_oral"), shorts, "%"),
                    _number(r.get("start_at_h_at_least"), shorts, "h"),
                    _number(r.get("start_at_h_at_most"), shorts, "h"),
                    _number(dose.get("flat"), shorts, "mg"),
                    _number(dose.get("per_m2"), shorts, "mg/m2"),
                )
            )
        if any(r.high_dose for r in out):
            high_dose()  # the definition it reads is readable
        return tuple(out)
    except _DAMAGED as e:
        raise DataError(f"the packaged supportive-care data is damaged: {e}") from e
