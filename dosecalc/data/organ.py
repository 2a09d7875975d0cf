"""The organ-function data file's schema (``data/organ.yaml``): pydantic models that validate it
with file:line errors. Only loading a file strictly (a user's file, and the tests on the
packaged one) needs them; plans read the packaged file's plain data (dosecalc/clinical/organ.py)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dosecalc.clinical.organ import UNITS, describe, high, low, per_m2


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
            spec = per_m2(self.dose_at_most)
            if spec is None:
                raise ValueError(f"dose_at_most '{self.dose_at_most}' must be a dose per m²")
        if not self.verified and not self.note:
            raise ValueError("an unverified band needs a note saying what could not be checked")
        return self


class When(_Strict):
    dose_at_least: str
    source: str

    @model_validator(mode="after")
    def _dose(self) -> When:
        if per_m2(self.dose_at_least) is None:
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
