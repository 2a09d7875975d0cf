"""Lifetime cumulative-dose ceilings, doxorubicin-equivalence tables and risk modifiers.

The numbers live in ``data/ceilings.yaml`` with a source on each. Where sources disagree, the
file offers named options per drug (and named equivalence tables) with a default and the reason
for it; an institution policy or a command-line option picks another. :func:`resolve` turns the
file, the chosen options and the patient's risk factors into plain :class:`Ceiling` values,
each remembering which option, which modifiers and which sources produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DATA = Path(__file__).with_name("ceilings.yaml")
EQUIVALENT = "doxorubicin equivalent"
UNITS = ("mg/m2", "mg", "units", "units/m2")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Level(_Strict):
    value: float = Field(gt=0)
    source: str
    verified: bool
    note: str | None = None
    # "kg": the value is per kg of body weight (a label's mg/kg ceiling), converted into the
    # entry's per-m² unit with the patient's weight and BSA; skipped when either is unknown
    per: Literal["kg"] | None = None


class When(_Strict):
    """A condition on the patient; every key given must hold. Ages are in years as given
    (decimals allowed) and compared exactly as the source words them: ``age_above: 65`` is
    "age > 65" (65 is not above it, 65.01 is), ``age_at_least: 65`` is "65 or over"."""

    cardiac_radiation: bool | None = None
    cardiac_radiation_gy_at_least: float | None = None
    age_below: float | None = None
    age_at_least: float | None = None
    age_above: float | None = None
    # the age at the first anthracycline-type dose (plan or history): known and below N
    exposure_began_below_age: float | None = None
    # true: that age is not known (no age given, or a dateless --prior anthracycline)
    exposure_age_unknown: bool | None = None
    with_drug: str | None = None
    with_drugs: list[str] | None = None  # every one of these drugs is in the exposure
    without_drug: str | None = None  # this drug is not in the exposure
    weight_known: bool | None = None  # the patient's weight and BSA are both known

    def drugs(self) -> set[str]:
        """The drugs whose presence this condition reads."""
        return {d for d in (self.with_drug, self.without_drug, *(self.with_drugs or [])) if d}


class Monitor(_Strict):
    at: float = Field(gt=0)
    severity: Literal["info", "warning"]
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    message: str
    source: str
    verified: bool
    when: When | None = None


class Modifier(_Strict):
    when: When
    threshold: Level | None = None
    limit: Level | None = None
    message: str


class Option(_Strict):
    threshold: Level | None = None
    limit: Level | None = None
    note: str | None = None
    monitor: list[Monitor] = []  # levels of this option only (with the drug's own monitor)
    monitor_from: str | None = None  # also the monitor levels of this other option
    modifiers: list[Modifier] = []  # lower the levels under this option only (with the drug's)

    @model_validator(mode="after")
    def _ordered(self) -> Option:
        if self.threshold and self.limit and self.threshold.value > self.limit.value:
            raise ValueError("threshold is above limit")
        return self


class DrugCeiling(_Strict):
    drug: str
    toxicity: str
    unit: Literal["mg/m2", "mg", "units", "units/m2"]
    anthracycline_type: bool = False
    default: str
    why_default: str | None = None
    options: dict[str, Option] = Field(min_length=1)
    modifiers: list[Modifier] = []
    monitor: list[Monitor] = []
    note: str | None = None

    @model_validator(mode="after")
    def _default_exists(self) -> DrugCeiling:
        if self.default not in self.options:
            raise ValueError(f"default '{self.default}' is not one of the options")
        for name, o in self.options.items():
            other = o.monitor_from
            if other is not None and (other not in self.options or other == name):
                raise ValueError(f"option {name}: monitor_from '{other}' is not another option")
        return self


class Factor(_Strict):
    factor: float | None = Field(ge=0)
    verified: bool | None = None
    note: str | None = None


class Table(_Strict):
    title: str
    source: str
    factors: dict[str, Factor]


class Equivalence(_Strict):
    default: str
    why_default: str | None = None
    tables: dict[str, Table] = Field(min_length=1)


class CeilingFile(_Strict):
    version: int
    sources: dict[str, str]
    equivalence: Equivalence
    drugs: list[DrugCeiling]

    @model_validator(mode="after")
    def _references(self) -> CeilingFile:
        keys = set(self.sources)
        cited = [t.source for t in self.equivalence.tables.values()]
        for d in self.drugs:
            for o in d.options.values():
                cited += [lv.source for lv in (o.threshold, o.limit) if lv]
                cited += [m.source for m in o.monitor]
                for m in o.modifiers:
                    cited += [lv.source for lv in (m.threshold, m.limit) if lv]
            for m in d.modifiers:
                cited += [lv.source for lv in (m.threshold, m.limit) if lv]
            cited += [m.source for m in d.monitor]
        missing = sorted(set(cited) - keys)
        if missing:
            raise ValueError(f"sources cited but not defined: {', '.join(missing)}")
        if self.equivalence.default not in self.equivalence.tables:
            raise ValueError(f"equivalence default '{self.equivalence.default}' is not a table")
        return self


# ---------------------------------------------------------------- resolved values


@dataclass(frozen=True)
class RiskFactors:
    """What the patient brings that can lower a ceiling."""

    cardiac_radiation_gy: float | None = None  # prior or concurrent RT to a field with the heart
    age_years: float | None = None
    age_on: date | None = None  # the day ``age_years`` refers to (a plan's start; a check's today)
    first_exposure_age: float | None = None  # at the first anthracycline-type dose (computed)
    kg_per_m2: float | None = None  # weight / BSA, to convert a per-kg ceiling (mg/kg → mg/m²)

    def age_at(self, day: date) -> float | None:
        """The age on ``day``, from the age given on ``age_on`` (None when either is unknown)."""
        if self.age_years is None or self.age_on is None:
            return None
        return self.age_years + (day - self.age_on).days / 365.25

    def matches(self, when: When | None, exposed: frozenset[str]) -> bool:
        if when is None:
            return True
        checks: list[bool] = []
        rt = self.cardiac_radiation_gy or 0.0
        if when.cardiac_radiation is not None:
            checks.append((rt > 0) == when.cardiac_radiation)
        if when.cardiac_radiation_gy_at_least is not None:
            checks.append(rt >= when.cardiac_radiation_gy_at_least)
        if when.age_below is not None:
            checks.append(self.age_years is not None and self.age_years < when.age_below)
        if when.age_at_least is not None:
            checks.append(self.age_years is not None and self.age_years >= when.age_at_least)
        if when.age_above is not None:
            checks.append(self.age_years is not None and self.age_years > when.age_above)
        if when.exposure_began_below_age is not None:
            began = self.first_exposure_age
            checks.append(began is not None and began < when.exposure_began_below_age)
        if when.exposure_age_unknown is not None:
            checks.append((self.first_exposure_age is None) == when.exposure_age_unknown)
        if when.with_drug is not None:
            checks.append(when.with_drug in exposed)
        if when.with_drugs is not None:
            checks.append(all(d in exposed for d in when.with_drugs))
        if when.without_drug is not None:
            checks.append(when.without_drug not in exposed)
        if when.weight_known is not None:
            checks.append((self.kg_per_m2 is not None) == when.weight_known)
        return all(checks)

    def value(self, level: Level) -> float | None:
        """A level's value in its entry's unit: a per-kg value × weight / BSA (None unknown)."""
        if level.per != "kg":
            return level.value
        return None if self.kg_per_m2 is None else level.value * self.kg_per_m2


@dataclass(frozen=True)
class MonitorLevel:
    at: float
    severity: str
    code: str
    message: str
    source: str


@dataclass(frozen=True)
class Ceiling:
    """The ceilings in force for one drug (or the doxorubicin-equivalent total)."""

    drug: str
    unit: str
    toxicity: str
    option: str
    threshold: float | None
    limit: float | None
    sources: tuple[str, ...] = ()
    adjustments: tuple[str, ...] = ()  # what lowered the values, for the output
    monitor: tuple[MonitorLevel, ...] = field(default=())


class CeilingBook:
    def __init__(self, data: CeilingFile) -> None:
        self.data = data
        self.entries = {d.drug: d for d in data.drugs}
        self._resolved: dict[tuple[object, ...], Ceiling] = {}
        self._anthracyclines = frozenset(d for d, e in self.entries.items() if e.anthracycline_type)
        # the drugs whose presence changes a ceiling (with_drug conditions): part of the key
        self._with_drugs = frozenset(
            drug
            for d in data.drugs
            for w in [m.when for m in d.modifiers]
            + [m.when for o in d.options.values() for m in (*o.modifiers, *o.monitor) if m.when]
            + [m.when for m in d.monitor if m.when]
            for drug in w.drugs()
        )

    @property
    def tables(self) -> dict[str, Table]:
        return self.data.equivalence.tables

    def table(self, name: str | None) -> tuple[str, Table]:
        key = name or self.data.equivalence.default
        if key not in self.tables:
            from dosecalc.base.errors import did_you_mean, fail

            raise fail(
                "--equivalence",
                f"'{name}' is not an equivalence table{did_you_mean(str(name), tuple(self.tables))}"
                f"; give one of {', '.join(self.tables)}",
            )
        return key, self.tables[key]

    def unverified(self, name: str | None) -> dict[str, float]:
        """The factors of equivalence table ``name`` that were not read in its source (each
        drug's factor), for the rule that unverified numbers decide nothing by default."""
        _, table = self.table(name)
        return {
            d: f.factor for d, f in table.factors.items() if f.factor is not None and not f.verified
        }

    def unit(self, drug: str) -> str | None:
        entry = self.entries.get(drug)
        return entry.unit if entry else None

    def anthracyclines(self) -> frozenset[str]:
        return self._anthracyclines

    def resolve(
        self,
        drug: str,
        factors: RiskFactors,
        exposed: frozenset[str],
        options: dict[str, str] | None = None,
    ) -> Ceiling | None:
        """The ceilings in force for ``drug`` (memoised: a pharmacy-wide check asks the same
        question for thousands of patients)."""
        entry = self.entries.get(drug)
        if entry is None:
            return None
        name = (options or {}).get(drug, entry.default)
        key = (drug, factors, exposed & self._with_drugs, name)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(drug, factors, exposed, name)
        return found

    def _resolve(
        self, drug: str, factors: RiskFactors, exposed: frozenset[str], name: str
    ) -> Ceiling:
        entry = self.entries[drug]
        if name not in entry.options:
            from dosecalc.base.errors import fail

            raise fail(
                "policy",
                f"'{name}' is not a ceiling option for {drug}; give one of "
                f"{', '.join(entry.options)}",
            )
        option = entry.options[name]
        threshold = option.threshold.value if option.threshold else None
        limit = option.limit.value if option.limit else None
        sources = [lv.source for lv in (option.threshold, option.limit) if lv]
        adjustments: list[str] = []
        for m in (*entry.modifiers, *option.modifiers):
            if not factors.matches(m.when, exposed):
                continue
            changed = False
            lim = factors.value(m.limit) if m.limit else None
            thr = factors.value(m.threshold) if m.threshold else None
            if m.limit and lim is not None and (limit is None or lim < limit):
                limit, changed = lim, True
                sources.append(m.limit.source)
            if m.threshold and thr is not None and (threshold is None or thr < threshold):
                threshold, changed = thr, True
                sources.append(m.threshold.source)
            if changed:
                adjustments.append(m.message + _per_kg_words(m, factors))
        if threshold is not None and limit is not None and threshold > limit:
            threshold = limit
        shared = entry.options[option.monitor_from].monitor if option.monitor_from else []
        monitor = tuple(
            MonitorLevel(
                m.at, m.severity, m.code, m.message + _why_age_unknown(m, factors), m.source
            )
            for m in (*entry.monitor, *option.monitor, *shared)
            if factors.matches(m.when, exposed)
        )
        return Ceiling(
            drug,
            entry.unit,
            entry.toxicity,
            name,
            threshold,
            limit,
            tuple(dict.fromkeys(sources)),
            tuple(adjustments),
            monitor,
        )


def _why_age_unknown(m: Monitor, factors: RiskFactors) -> str:
    """Why the age at the first anthracycline is unknown, after the message of a level that
    applies because it is: no age was given, or an anthracycline amount came without a date."""
    if m.when is None or not m.when.exposure_age_unknown:
        return ""
    if factors.age_years is None or factors.age_on is None:
        return " (it was given no age)"
    return " (a --prior anthracycline amount has no date: the age it was given at is unknown)"


def _per_kg_words(m: Modifier, factors: RiskFactors) -> str:
    """' (10 mg/kg × 17.3 kg/m² = 173 mg/m² for this patient)' for a per-kg level."""
    level = next((lv for lv in (m.limit, m.threshold) if lv is not None and lv.per == "kg"), None)
    if level is None or factors.kg_per_m2 is None:
        return ""
    from dosecalc.base.numbers import fmt

    converted = level.value * factors.kg_per_m2
    return (
        f" ({fmt(level.value)} mg/kg × {fmt(factors.kg_per_m2)} kg/m² = {fmt(converted)} mg/m² "
        "with today's weight and BSA)"
    )


def load(path: Path | None = None, trusted: bool = False) -> CeilingBook:
    from dosecalc.data import drugs
    from dosecalc.data.datafile import load_model

    data = load_model(path or DATA, CeilingFile, "ceilings data", trusted=trusted)
    book = drugs.book()
    for entry in data.drugs:
        if entry.drug != EQUIVALENT and entry.drug not in book.drugs:
            raise ValueError(f"ceilings data: '{entry.drug}' is not a canonical drug name")
        if entry.anthracycline_type and entry.unit != "mg/m2":
            raise ValueError(f"ceilings data: anthracycline {entry.drug} must be tracked in mg/m2")
        levels = [lv for o in entry.options.values() for lv in (o.threshold, o.limit) if lv]
        if any(lv.per for lv in levels):
            raise ValueError(f"ceilings data: {entry.drug}: a per-kg level belongs in a modifier")
        mods = [*entry.modifiers, *(m for o in entry.options.values() for m in o.modifiers)]
        per_kg = [lv for m in mods for lv in (m.threshold, m.limit) if lv and lv.per]
        if per_kg and entry.unit != "mg/m2":
            raise ValueError(f"ceilings data: {entry.drug}: per-kg levels need unit mg/m2")
    for table in data.equivalence.tables.values():
        for name in table.factors:
            if name not in book.drugs:
                raise ValueError(f"ceilings data: equivalence factor for unknown drug '{name}'")
    return CeilingBook(data)


@lru_cache(maxsize=1)
def book() -> CeilingBook:
    from dosecalc.base.errors import DosecalcError
    from dosecalc.data.drugs import DataError

    try:
        return load(trusted=True)
    except (DosecalcError, ValueError) as e:
        raise DataError(f"the packaged ceilings data is damaged: {e}") from e
