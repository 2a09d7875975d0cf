"""Organ-function dose adjustments: the data file (``data/organ.yaml``), and what it says for
one drug at the patient's laboratory values.

The API verify and plan share (pure functions of plain values)::

    values = organ.values_for(patient, labs, policy)         # labs + kidney function, once
    a = organ.assess("epirubicin", values, policy, protocol=spec)
    a.factor        # the dose multiplier the bands ask for (None: no band changes the dose)
    organ.alerts(a, standard=162, adjusted=81, unit="mg", applied=False)

Bands are read from the drug's option in force (policy ``organ.options``, else the file's
default). When several bands match (bilirubin and AST for epirubicin), the lowest dose wins; an
``avoid`` band makes the drug contraindicated whatever else matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dosecalc.numbers import fmt

DATA = Path(__file__).with_name("data") / "organ.yaml"
LABS_IN_RULES = ("bilirubin", "direct_bilirubin", "ast", "alt", "alp", "scr", "kidney")
ESTIMATES = {
    "cockcroft-gault": "Cockcroft-Gault creatinine clearance",
    "ckd-epi-deindexed": "CKD-EPI 2021 eGFR de-indexed to the patient's BSA",
}
UNITS = {
    "bilirubin": ("mg/dL", "xULN"),
    "direct_bilirubin": ("mg/dL", "xULN"),
    "ast": ("xULN", "U/L"),
    "alt": ("xULN", "U/L"),
    "alp": ("xULN", "U/L"),
    "scr": ("mg/dL",),
    "kidney": ("mL/min",),
}


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
        """(bound, inclusive)"""
        if self.at_least is not None:
            return self.at_least, True
        if self.above is not None:
            return self.above, False
        return None

    @property
    def high(self) -> tuple[float, bool] | None:
        if self.at_most is not None:
            return self.at_most, True
        if self.below is not None:
            return self.below, False
        return None

    def contains(self, x: float) -> bool:
        lo, hi = self.low, self.high
        if lo is not None and (x < lo[0] or (x == lo[0] and not lo[1])):
            return False
        return not (hi is not None and (x > hi[0] or (x == hi[0] and not hi[1])))

    def describe(self, unit: str) -> str:
        """'≥ 1.2 and ≤ 3 mg/dL', '< 30 mL/min'."""
        parts = []
        lo, hi = self.low, self.high
        if lo is not None:
            parts.append(f"{'≥' if lo[1] else '>'} {fmt(lo[0])}")
        if hi is not None:
            parts.append(f"{'≤' if hi[1] else '<'} {fmt(hi[0])}")
        return f"{' and '.join(parts)} {unit.replace('xULN', '× ULN')}"


class Also(Bounds):
    lab: Literal["bilirubin", "direct_bilirubin", "ast", "alt", "alp", "scr"]
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
            spec = _per_m2(self.dose_at_most)
            if spec is None:
                raise ValueError(f"dose_at_most '{self.dose_at_most}' must be a dose per m²")
        if not self.verified and not self.note:
            raise ValueError("an unverified band needs a note saying what could not be checked")
        return self

    @property
    def action(self) -> str:
        if self.percent is not None:
            return "percent"
        if self.dose_at_most is not None:
            return "dose_at_most"
        return "avoid" if self.avoid else "no_recommendation"


class When(_Strict):
    dose_at_least: str
    source: str

    @model_validator(mode="after")
    def _dose(self) -> When:
        if _per_m2(self.dose_at_least) is None:
            raise ValueError(f"dose_at_least '{self.dose_at_least}' must be a dose per m²")
        return self


class Rule(_Strict):
    lab: Literal["bilirubin", "direct_bilirubin", "ast", "alt", "alp", "scr", "kidney"]
    unit: str
    estimate: Literal["cockcroft-gault", "ckd-epi-deindexed"] | None = None
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


class DrugEntry(_Strict):
    drug: str
    default: str
    why_default: str
    options: dict[str, Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_exists(self) -> DrugEntry:
        if self.default not in self.options:
            raise ValueError(f"default '{self.default}' is not one of the options")
        return self


class OrganFile(_Strict):
    version: int
    sources: dict[str, Source]
    drugs: list[DrugEntry]

    @model_validator(mode="after")
    def _references(self) -> OrganFile:
        cited: list[str] = []
        for d in self.drugs:
            for o in d.options.values():
                for r in o.rules:
                    cited += [b.source for b in r.bands]
                    cited += [r.estimate_source] if r.estimate_source else []
                    cited += [r.when.source] if r.when else []
        missing = sorted(set(cited) - set(self.sources))
        if missing:
            raise ValueError(f"sources cited but not defined: {', '.join(missing)}")
        names = [d.drug for d in self.drugs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"drugs listed twice: {', '.join(twice)}")
        return self


def _per_m2(text: str) -> Any:
    from dosecalc.regimen import parse_dose

    try:
        spec = parse_dose(text)
    except ValueError:
        return None
    return spec if spec.basis == "bsa" else None


# ---------------------------------------------------------------- loading


class OrganBook:
    def __init__(self, data: OrganFile) -> None:
        self.data = data
        self.entries = {d.drug: d for d in data.drugs}

    def option(self, drug: str, options: dict[str, str] | None = None) -> tuple[str, Option] | None:
        entry = self.entries.get(drug)
        if entry is None:
            return None
        name = (options or {}).get(drug, entry.default)
        if name not in entry.options:
            from dosecalc.errors import fail

            raise fail(
                "organ.options",
                f"'{name}' is not an organ-function option for {drug}; give one of "
                f"{', '.join(entry.options)}",
            )
        return name, entry.options[name]

    def cite(self, key: str) -> str:
        return self.data.sources[key].cite


def load(path: Path | None = None, trusted: bool = False) -> OrganBook:
    from dosecalc import drugs
    from dosecalc.datafile import load_model

    data = load_model(path or DATA, OrganFile, "organ-function data", trusted=trusted)
    book = drugs.book()
    for entry in data.drugs:
        if entry.drug not in book.drugs:
            raise ValueError(f"organ-function data: '{entry.drug}' is not a canonical drug name")
    return OrganBook(data)


@lru_cache(maxsize=1)
def book() -> OrganBook:
    from dosecalc.drugs import DataError
    from dosecalc.errors import DosecalcError

    try:
        return load(trusted=True)
    except (DosecalcError, ValueError) as e:
        raise DataError(f"the packaged organ-function data is damaged: {e}") from e


# ---------------------------------------------------------------- the patient's values


@dataclass(frozen=True)
class Values:
    """Everything an organ-function rule can read: the lab values and the kidney function."""

    labs: Any  # labs.Labs
    kidney: Any  # renal.Kidney
    uln: dict[str, float]  # lab -> upper limit of normal, in the lab's unit (policy labs.uln.*)
    uln_from: dict[str, str]  # lab -> "labs.uln.ast_u_l = 48 (default: ...)"

    def read(self, lab: str, unit: str, estimate: str | None = None) -> tuple[float | None, str]:
        """(value in ``unit``, how it reads) or (None, why it cannot be read)."""
        from dosecalc import labs as lb

        if lab == "kidney":
            assert estimate is not None
            return self.kidney.value(estimate)
        v = self.labs.latest(lab)
        if v is None:
            return None, ""
        if v.unit == unit or (unit == "mg/dL" and v.unit == "mg/dL"):
            return v.value, v.shown()
        base = self.uln.get(lab)
        if base is None:
            return None, f"{v.shown()} cannot be compared in {unit}: set labs.uln.{lab}"
        if unit == lb.ULN:
            x = v.value / base
            return x, (f"{v.shown()} = {fmt(x)} × ULN ({self.uln_from[lab]})")
        x = v.value * base
        return x, f"{v.shown()} = {fmt(x)} {unit} ({self.uln_from[lab]})"


ULN_KEYS = {
    "bilirubin": "labs.uln.bilirubin_mg_dl",
    "ast": "labs.uln.ast_u_l",
    "alt": "labs.uln.alt_u_l",
    "alp": "labs.uln.alp_u_l",
}


def uln_of(policy: Any) -> tuple[dict[str, float], dict[str, str]]:
    uln, origin = {}, {}
    for lab, key in ULN_KEYS.items():
        value = policy[key]
        if value is not None:
            uln[lab] = float(value)
            origin[lab] = policy.describe(key)
    return uln, origin


def values_for(patient: Any, labs: Any, policy: Any) -> Values:
    """The patient's lab values and kidney function (computed once, for every drug)."""
    from dosecalc import renal

    crcl = labs.latest("crcl")
    kidney = renal.kidney_function(patient, policy, crcl.value if crcl else None)
    uln, origin = uln_of(policy)
    return Values(labs, kidney, uln, origin)


# ---------------------------------------------------------------- one drug


@dataclass(frozen=True)
class Finding:
    """A band that matches the patient's value."""

    lab: str
    value: float
    reading: str  # 'bilirubin 2 mg/dL (2026-11-28)' or the kidney estimate's trace
    band: str  # '≥ 1.2 and ≤ 3 mg/dL'
    action: str  # percent | dose_at_most | avoid | no_recommendation
    percent: float | None  # of the dose; for dose_at_most, relative to the protocol dose
    dose_at_most: str | None
    text: str | None  # the source's words for the band
    source: str  # short citation
    source_key: str
    verified: bool
    note: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "lab": self.lab,
            "value": self.value,
            "reading": self.reading,
            "band": self.band,
            "action": self.action,
            "percent": self.percent,
            "dose_at_most": self.dose_at_most,
            "source": self.source,
            "verified": self.verified,
            "note": self.note,
        }


@dataclass(frozen=True)
class Assessment:
    """What the organ-function data says for one drug order at the patient's values."""

    drug: str
    option: str
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]  # what would be checked, for labs not given
    unreadable: tuple[str, ...]  # values given that could not be read (why)
    percent: float | None  # the dose to give, in % (the lowest band); None: unchanged
    avoid: bool
    no_recommendation: bool

    @property
    def factor(self) -> float | None:
        return None if self.percent is None else self.percent / 100.0


def assess(
    drug: str,
    values: Values,
    options: dict[str, str] | None = None,
    protocol: Any = None,
    data: OrganBook | None = None,
) -> Assessment | None:
    """The organ-function assessment of ``drug`` (None: the data has no rule for it).

    ``protocol`` is the order's per-day DoseSpec: it decides rules limited to high doses and
    turns a ``dose_at_most`` band into a percentage (only for doses per m²)."""
    data = data or book()
    chosen = data.option(drug, options)
    if chosen is None:
        return None
    name, option = chosen
    findings: list[Finding] = []
    missing: list[str] = []
    unreadable: list[str] = []
    for rule in option.rules:
        if rule.when is not None and protocol is not None:
            floor = _per_m2(rule.when.dose_at_least)
            if protocol.basis == "bsa" and protocol.amount < floor.amount:
                continue
        value, reading = values.read(rule.lab, rule.unit, rule.estimate)
        if value is None:
            what = _lab_words(rule)
            if reading:
                unreadable.append(f"{what}: {reading}")
            else:
                missing.append(what)
            continue
        for band in rule.bands:
            if not band.contains(value):
                continue
            also_ok, also_words = True, []
            for cond in band.also:
                other, words = values.read(cond.lab, cond.unit)
                if other is None:
                    also_ok = False
                    (unreadable if words else missing).append(
                        f"{cond.lab} (for the band {rule.lab} {band.describe(rule.unit)} "
                        f"with {cond.lab} {cond.describe(cond.unit)})"
                        + (f": {words}" if words else "")
                    )
                    break
                if not cond.contains(other):
                    also_ok = False
                    break
                also_words.append(f"{words}, {cond.lab} {cond.describe(cond.unit)}")
            if not also_ok:
                continue
            percent = band.percent
            if band.dose_at_most is not None:
                percent = _percent_of(band.dose_at_most, protocol)
            findings.append(
                Finding(
                    lab=rule.lab if rule.lab != "kidney" else ESTIMATES[rule.estimate or ""],
                    value=value,
                    reading=reading + ("; " + "; ".join(also_words) if also_words else ""),
                    band=f"{_band_lab(rule)} {band.describe(rule.unit)}"
                    + "".join(f" with {c.lab} {c.describe(c.unit)}" for c in band.also),
                    action=band.action,
                    percent=percent,
                    dose_at_most=band.dose_at_most,
                    text=band.text,
                    source=data.cite(band.source),
                    source_key=band.source,
                    verified=band.verified,
                    note=band.note,
                )
            )
    avoid = any(f.action == "avoid" for f in findings)
    norec = any(f.action == "no_recommendation" for f in findings)
    percents = [f.percent for f in findings if f.percent is not None and f.percent < 100]
    return Assessment(
        drug,
        name,
        tuple(findings),
        tuple(dict.fromkeys(missing)),
        tuple(dict.fromkeys(unreadable)),
        min(percents) if percents else None,
        avoid,
        norec,
    )


def _percent_of(limit: str, protocol: Any) -> float | None:
    """A 'dose_at_most 20 mg/m2' band as a percentage of the protocol's dose per m² (None when
    the protocol dose is not per m², or already at or under the limit)."""
    cap = _per_m2(limit)
    if protocol is None or protocol.basis != "bsa" or protocol.unit != cap.unit:
        return None
    if protocol.amount <= cap.amount:
        return None
    return 100.0 * cap.amount / protocol.amount


def _band_lab(rule: Rule) -> str:
    if rule.lab == "kidney":
        return "CrCl" if rule.estimate == "cockcroft-gault" else "eGFR (CKD-EPI, de-indexed)"
    return rule.lab


def _lab_words(rule: Rule) -> str:
    if rule.lab == "kidney":
        return (
            f"kidney function ({ESTIMATES[rule.estimate or '']}: --scr with --age, --sex and "
            "--weight, or a measured --lab crcl)"
        )
    return rule.lab


# ---------------------------------------------------------------- warnings


def alerts(
    a: Assessment,
    standard: float | None = None,
    adjusted: float | None = None,
    unit: str = "mg",
    applied: bool = False,
    where: dict[str, Any] | None = None,
) -> list[Any]:
    """The warnings of one assessment: ORGAN_FUNCTION_ADJUSTMENT / _CONTRAINDICATION /
    _NO_RECOMMENDATION (critical), and one line for the labs that would have been checked."""
    from dosecalc.alerts import CRITICAL, INFO, WARNING, Alert

    where = dict(where or {})
    out: list[Alert] = []
    for f in a.findings:
        said = f" ({f.text})" if f.text else ""
        doubt = "" if f.verified else f" [unverified: {f.note}]"
        head = f"{a.drug}: {f.reading} is in the band {f.band}{said}"
        tail = f"; source: {f.source}, option {a.option}{doubt}"
        if f.action == "avoid":
            out.append(
                Alert(
                    CRITICAL,
                    "ORGAN_FUNCTION_CONTRAINDICATION",
                    f"{head}: avoid {a.drug}{tail}",
                    drug=a.drug,
                    **where,
                )
            )
        elif f.action == "no_recommendation":
            out.append(
                Alert(
                    CRITICAL,
                    "ORGAN_FUNCTION_NO_RECOMMENDATION",
                    f"{head}: the source has no dose for this range; decide with the "
                    f"prescriber before giving {a.drug}{tail}",
                    drug=a.drug,
                    **where,
                )
            )
        else:
            if f.percent is None:
                what = (
                    f"at most {f.dose_at_most}: the protocol dose is already at or under it, "
                    "or is not per m², so no change"
                )
            else:
                what = f"{fmt(f.percent)} % of the dose"
                if f.dose_at_most:
                    what = f"at most {f.dose_at_most} = {what}"
                if standard is not None and f.percent == a.percent and adjusted is not None:
                    what += f": {fmt(standard)} → {fmt(adjusted)} {unit}"
                if f.percent == a.percent:
                    what += (
                        ", applied (--adjust-organ)"
                        if applied
                        else ", not applied: the doses shown are unadjusted (give "
                        "--adjust-organ to plan the adjusted dose)"
                    )
            out.append(
                Alert(
                    CRITICAL,
                    "ORGAN_FUNCTION_ADJUSTMENT",
                    f"{head} → {what}{tail}",
                    drug=a.drug,
                    **where,
                )
            )
    if a.unreadable:
        out.append(
            Alert(
                WARNING,
                "ORGAN_FUNCTION_NOT_CHECKED",
                f"{a.drug}: not checked against the organ-function data ({a.option}): "
                + "; ".join(a.unreadable),
                drug=a.drug,
                **where,
            )
        )
    if a.missing:
        out.append(
            Alert(
                INFO,
                "ORGAN_FUNCTION_NOT_CHECKED",
                f"{a.drug}: its dose depends on "
                + " and ".join(a.missing)
                + f" (organ-function data, option {a.option}); not given, so not checked",
                drug=a.drug,
                **where,
            )
        )
    return out
