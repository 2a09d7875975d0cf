"""The organ-function data file (``data/organ.yaml``): its loader, the bands as plain values, and
the pydantic models that validate it with file:line errors. Only loading a file strictly (a
user's file, and the tests on the packaged one) needs the models; plans read the packaged file's
plain data. What the bands say for a patient is the clinical layer's (dosecalc/clinical/organ.py)."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dosecalc.base.numbers import fmt, settled


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Bounds(_Strict):
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _explicit(self) -> Bounds:
        if self.at_least is not None and self.above is not None:
            raise ValueError("give at_least or above, not both")
        if self.at_most is not None and self.below is not None:
            raise ValueError("give at_most or below, not both")
        if all(v is None for v in (self.at_least, self.above, self.at_most, self.below)):
            raise ValueError("a band needs a bound (at_least, above, at_most or below)")
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and not lo[0] < hi[0]:
            raise ValueError(f"the lower bound {lo[0]:g} is not below the upper bound {hi[0]:g}")
        for v in (self.at_least, self.above, self.at_most, self.below):
            if v is not None and not math.isfinite(v):
                raise ValueError("bounds must be finite numbers")
        return self

    @property
    def low(self) -> tuple[float, bool] | None:
        return low(self.model_dump())

    @property
    def high(self) -> tuple[float, bool] | None:
        return high(self.model_dump())

    def describe(self, unit: str) -> str:
        return describe(self.model_dump(), unit)


Lab = Literal["bilirubin", "direct_bilirubin", "ast", "alt", "alp", "scr", "bun"]


class Also(Bounds):
    lab: Lab
    unit: str


class Band(Bounds):
    also: list[Also] = []
    percent: float | None = Field(None, gt=0, lt=100)
    dose_at_most: str | None = None
    avoid: Literal[True] | None = None
    no_recommendation: Literal[True] | None = None
    source: str
    verified: bool
    text: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Band:
        actions = [
            a
            for a, v in (
                ("percent", self.percent),
                ("dose_at_most", self.dose_at_most),
                ("avoid", self.avoid),
                ("no_recommendation", self.no_recommendation),
            )
            if v is not None
        ]
        if len(actions) != 1:
            raise ValueError(
                "a band needs exactly one action: percent, dose_at_most, avoid or "
                f"no_recommendation (found: {', '.join(actions) or 'none'})"
            )
        if self.dose_at_most is not None:
            spec = per_m2(self.dose_at_most)
            if spec is None:
                raise ValueError(f"dose_at_most '{self.dose_at_most}' must be a dose per m²")
        if not self.verified and not self.note:
            raise ValueError("an unverified band needs a note saying what could not be checked")
        return self


class When(_Strict):
    """The orders a rule is for: per-m² doses at or above a dose (``dose_at_least``), below one
    (``dose_below``: also every dose not per m²), only doses per m² (``dose_basis: bsa``, not
    an AUC, flat or per-kg dose), or methotrexate at or above (``hdmtx: true``) or below
    (``hdmtx: false``) the high dose of the one definition (supportive.yaml's
    ``hdmtx.definition.high_dose``, which carries its source). Exactly one condition."""

    dose_at_least: str | None = None
    dose_below: str | None = None
    dose_basis: Literal["bsa"] | None = None
    hdmtx: bool | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _one(self) -> When:
        keys = ("dose_at_least", "dose_below", "dose_basis", "hdmtx")
        given = [k for k in keys if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a `when` names exactly one condition: dose_at_least, dose_below, dose_basis or "
                f"hdmtx (found: {', '.join(given) or 'none'})"
            )
        if self.hdmtx is None and not self.source:
            raise ValueError("a `when` names its source (hdmtx takes the definition's)")
        if self.hdmtx is not None and self.source:
            raise ValueError(
                "hdmtx takes its source from supportive.yaml's hdmtx.definition.high_dose: "
                "remove source"
            )
        for key in ("dose_at_least", "dose_below"):
            text = getattr(self, key)
            if text is not None and per_m2(text) is None:
                raise ValueError(f"{key} '{text}' must be a dose per m²")
        return self


class Rule(_Strict):
    lab: Literal["bilirubin", "direct_bilirubin", "ast", "alt", "alp", "scr", "bun", "kidney"]
    unit: str
    estimate: Literal["cockcroft-gault", "ckd-epi-2021", "ckd-epi-deindexed"] | None = None
    estimate_source: str | None = None
    when: When | None = None
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        allowed = UNITS[self.lab]
        if self.unit not in allowed:
            raise ValueError(f"{self.lab} bands are in {' or '.join(allowed)}, not {self.unit}")
        for b in self.bands:
            for a in b.also:
                if a.unit not in UNITS[a.lab]:
                    raise ValueError(f"also: {a.lab} is in {' or '.join(UNITS[a.lab])}")
        if (self.lab == "kidney") != (self.estimate is not None):
            raise ValueError("a kidney rule names its estimate (and only a kidney rule does)")
        if self.estimate is not None and self.estimate_source is None:
            raise ValueError("a kidney rule names the source of its estimate (estimate_source)")
        ordered = sorted(self.bands, key=lambda b: (b.low or (-math.inf, True))[0])
        for a, b in zip(ordered, ordered[1:], strict=False):
            if _overlap(a, b):
                raise ValueError(
                    f"bands {a.describe(self.unit)} and {b.describe(self.unit)} overlap"
                )
        return self


def _overlap(a: Bounds, b: Bounds) -> bool:
    """Whether two intervals share a value (inclusive ends count)."""
    a_hi = a.high or (math.inf, True)
    b_lo = b.low or (-math.inf, True)
    a_lo = a.low or (-math.inf, True)
    b_hi = b.high or (math.inf, True)

    def before(hi: tuple[float, bool], lo: tuple[float, bool]) -> bool:
        return hi[0] < lo[0] or (hi[0] == lo[0] and not (hi[1] and lo[1]))

    return not (before(a_hi, b_lo) or before(b_hi, a_lo))


class Option(_Strict):
    rules: list[Rule] = Field(min_length=1)
    note: str | None = None


class Source(_Strict):
    cite: str
    text: str


class NoData(_Strict):
    """An organ for which dosecalc holds no band for a drug: a source that says no adjustment
    is defined (``verified``), or none read (a gap, not a statement)."""

    organ: Literal["renal", "hepatic"]
    source: str
    verified: bool
    text: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _noted(self) -> NoData:
        if not self.verified and not self.note:
            raise ValueError("an unverified entry needs a note saying what could not be checked")
        return self


class DrugEntry(_Strict):
    drug: str
    default: str | None = None
    why_default: str | None = None
    options: dict[str, Option] = {}
    no_adjustment_data: list[NoData] = []

    @model_validator(mode="after")
    def _default_exists(self) -> DrugEntry:
        if not self.options and not self.no_adjustment_data:
            raise ValueError("a drug needs options, or no_adjustment_data saying why it has none")
        if self.options:
            if self.default is None or self.why_default is None:
                raise ValueError("a drug with options names its default and why_default")
            if self.default not in self.options:
                raise ValueError(f"default '{self.default}' is not one of the options")
        elif self.default is not None:
            raise ValueError("a default names one of the options, and this drug has none")
        organs = [n.organ for n in self.no_adjustment_data]
        if len(set(organs)) != len(organs):
            raise ValueError("no_adjustment_data lists an organ twice")
        return self


class Estimate(_Strict):
    """A kidney-function estimate a rule may name, documented in the data file."""

    unit: Literal["mL/min", "mL/min/1.73m2"]
    formula: str
    source: str
    weight_policy: str | None = None
    adults_only: bool = False
    ages: str | None = None


class ChildEstimate(_Strict):
    estimate: Literal["schwartz-bedside"]
    below_age_years: Literal[18]  # the age renal.py computes it below (adult equations above)
    policy: str
    source: str


class OrganFile(_Strict):
    version: Literal[2]
    kidney_estimates: dict[str, Estimate]
    child_kidney_estimate: ChildEstimate
    sources: dict[str, Source]
    drugs: list[DrugEntry]

    @model_validator(mode="after")
    def _references(self) -> OrganFile:
        cited: list[str] = [e.source for e in self.kidney_estimates.values()]
        cited.append(self.child_kidney_estimate.source)
        unknown: list[str] = []
        for d in self.drugs:
            cited += [n.source for n in d.no_adjustment_data]
            for o in d.options.values():
                for r in o.rules:
                    cited += [b.source for b in r.bands]
                    cited += [r.estimate_source] if r.estimate_source else []
                    cited += [r.when.source] if r.when and r.when.source else []
                    if r.estimate is not None and r.estimate not in self.kidney_estimates:
                        unknown.append(r.estimate)
        if unknown:
            raise ValueError(
                f"kidney estimates named but not listed in kidney_estimates: "
                f"{', '.join(sorted(set(unknown)))}"
            )
        if self.child_kidney_estimate.estimate not in self.kidney_estimates:
            raise ValueError("child_kidney_estimate names an estimate not in kidney_estimates")
        missing = sorted(set(cited) - set(self.sources))
        if missing:
            raise ValueError(f"sources cited but not defined: {', '.join(missing)}")
        names = [d.drug for d in self.drugs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"drugs listed twice: {', '.join(twice)}")
        return self


DATA = Path(__file__).parents[1] / "data" / "organ.yaml"


ESTIMATES = {
    "cockcroft-gault": "Cockcroft-Gault creatinine clearance",
    "ckd-epi-2021": "CKD-EPI 2021 eGFR",
    "ckd-epi-deindexed": "CKD-EPI 2021 eGFR de-indexed to the patient's BSA",
    "schwartz-bedside": "bedside Schwartz eGFR (children)",
}


PER_173 = "mL/min/1.73m2"  # a kidney rule's unit when its thresholds are indexed to 1.73 m²


UNITS = {
    "bilirubin": ("mg/dL", "xULN"),
    "direct_bilirubin": ("mg/dL", "xULN"),
    "ast": ("xULN", "U/L"),
    "alt": ("xULN", "U/L"),
    "alp": ("xULN", "U/L"),
    "scr": ("mg/dL",),
    "bun": ("mg/dL",),
    "kidney": ("mL/min", PER_173),
}


def per_m2(text: str) -> Any:
    from dosecalc.data.regimen import parse_dose

    try:
        spec = parse_dose(text)
    except ValueError:
        return None
    return spec if spec.basis == "bsa" else None


def low(b: dict[str, Any]) -> tuple[float, bool] | None:
    """A band's lower bound and whether it is inclusive ('at_least') or not ('above')."""
    if b.get("at_least") is not None:
        return float(b["at_least"]), True
    if b.get("above") is not None:
        return float(b["above"]), False
    return None


def high(b: dict[str, Any]) -> tuple[float, bool] | None:
    if b.get("at_most") is not None:
        return float(b["at_most"]), True
    if b.get("below") is not None:
        return float(b["below"]), False
    return None


def contains(b: dict[str, Any], x: float) -> bool:
    """Whether band ``b`` holds ``x`` (settled: a value computed to lie on an edge is on it)."""
    x = settled(x)
    lo, hi = low(b), high(b)
    if lo is not None and (x < lo[0] or (x == lo[0] and not lo[1])):
        return False
    return not (hi is not None and (x > hi[0] or (x == hi[0] and not hi[1])))


def below_every_band(bands: list[dict[str, Any]], x: float) -> bool:
    """Whether no value at most ``x`` lies in any of ``bands`` (a part is at most its whole: a
    total bilirubin below every band of the direct bilirubin rules them all out)."""
    x = settled(x)
    for b in bands:
        lo = low(b)
        if lo is None or x > lo[0] or (x == lo[0] and lo[1]):
            return False
    return True


def describe(b: dict[str, Any], unit: str) -> str:
    """'≥ 1.2 and ≤ 3 mg/dL', '< 30 mL/min'."""
    parts = []
    lo, hi = low(b), high(b)
    if lo is not None:
        parts.append(f"{'≥' if lo[1] else '>'} {fmt(lo[0])}")
    if hi is not None:
        parts.append(f"{'≤' if hi[1] else '<'} {fmt(hi[0])}")
    return f"{' and '.join(parts)} {shown_unit(unit)}"


def shown_unit(unit: str) -> str:
    """A band's unit as a message shows it: '× ULN', 'mL/min/1.73 m²'."""
    return {"xULN": "× ULN", PER_173: "mL/min/1.73 m²"}.get(unit, unit)


def action(b: dict[str, Any]) -> str:
    for name in ("percent", "dose_at_most", "avoid", "no_recommendation"):
        if b.get(name) is not None:
            return name
    raise ValueError("a band without an action")


class OrganBook:
    """The organ-function data as plain values (the file's mappings), per drug."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.entries: dict[str, dict[str, Any]] = {d["drug"]: d for d in data["drugs"]}

    def option(
        self, drug: str, options: dict[str, str] | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        """The option in force for ``drug`` (policy ``organ.options``, else the file's default);
        None when the data has no bands for it."""
        entry = self.entries.get(drug)
        if entry is None:
            return None
        chosen = (options or {}).get(drug)
        names = entry.get("options") or {}
        if not names:
            if chosen is not None:
                from dosecalc.base.errors import fail

                raise fail(
                    "organ.options",
                    f"'{chosen}' is not an organ-function option for {drug}: the data holds no "
                    f"bands for {drug} (only a 'no adjustment data' notice), so remove it",
                )
            return None
        name = chosen or entry["default"]
        if name not in names:
            from dosecalc.base.errors import fail

            raise fail(
                "organ.options",
                f"'{name}' is not an organ-function option for {drug}; give one of "
                f"{', '.join(names)}",
            )
        return name, names[name]

    def no_data(self, drug: str) -> list[dict[str, Any]]:
        """The organs the data holds no band for, for ``drug`` (with the source saying so)."""
        entry = self.entries.get(drug)
        return list((entry or {}).get("no_adjustment_data") or [])

    def default(self, drug: str) -> str | None:
        entry = self.entries.get(drug)
        return None if entry is None else entry.get("default")

    def estimate(self, name: str) -> dict[str, Any]:
        return dict(self.data["kidney_estimates"][name])

    def cite(self, key: str) -> str:
        return str(self.data["sources"][key]["cite"])


def load(path: Path | None = None, trusted: bool = False) -> OrganBook:
    """The data file, validated with file:line errors (organ_file); ``trusted`` (the packaged
    file, which the tests validate strictly) is read as plain YAML, without the models."""
    from dosecalc.data import drugs
    from dosecalc.data.yamlfile import read_trusted

    if trusted:  # pydantic is imported only to validate another file
        data = read_trusted(path or DATA, "organ-function data")
    else:
        from dosecalc.data.datafile import load_validated

        data = load_validated(path or DATA, "organ-function data", OrganFile)
    book = drugs.book()
    for entry in data["drugs"]:
        if entry["drug"] not in book.drugs:
            raise ValueError(f"organ-function data: '{entry['drug']}' is not a canonical drug name")
    return OrganBook(data)


@lru_cache(maxsize=1)
def book() -> OrganBook:
    from dosecalc.base.errors import DosecalcError
    from dosecalc.data.drugs import DataError

    try:
        return load(trusted=True)
    except (DosecalcError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"the packaged organ-function data is damaged: {e}") from e
