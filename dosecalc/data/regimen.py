"""Regimen files: the models, their YAML loader with file:line errors, the library.

A dose's basis follows from its unit and is never guessed: ``mg/m2`` is per BSA, ``mg/kg`` per
weight, ``mg`` flat, ``AUC 5`` carboplatin by Calvert. ``dose`` is the dose on each listed day;
``total_dose`` is a per-cycle total divided equally over the listed days.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    StrictInt,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dosecalc.base import clock, strict, units
from dosecalc.base.bounds import DOSE, dose_problem
from dosecalc.base.errors import FileError, KeyProblem, Problem
from dosecalc.base.library import library_dir, library_ids  # noqa: F401  (regimen.library_*)
from dosecalc.data import drugs

MAX_CYCLE_LENGTH_DAYS = 366
MAX_CYCLES = 500
# A plan's span (cycles x cycle length, with its delays; a course from its first phase's start):
# five years holds the longest protocols planned ahead (ALL maintenance runs 2-3 years); more is
# a slip in the cycles or the cycle length (500 cycles of 366 days would be 500 years).
MAX_PLAN_DAYS = 5 * 366
MAX_AMOUNT = DOSE[1]  # no protocol doses 100 g (or 100,000 units) per m², per kg or at once
MAX_AUC = 10.0  # mg/mL·min; the highest carboplatin targets in use are 7.5-8 (GOG-158: 7.5)

# basis → (canonical unit of the amount, unit per what)
_BASES: tuple[tuple[str, str, str], ...] = (
    ("mg/m**2", "bsa", "mg"),
    ("units/m**2", "bsa", "units"),
    ("mg/kg", "weight", "mg"),
    ("units/kg", "weight", "units"),
    ("mg", "flat", "mg"),
    ("units", "flat", "units"),
)
_PER = {"bsa": "/m²", "weight": "/kg", "flat": ""}
_AUC = re.compile(
    r"^\s*AUC\s*=?\s*(?P<num>[0-9.eE+-]+)\s*(?:mg\s*/\s*mL\s*[·*.x]?\s*min|mg\s*·\s*min\s*/\s*mL)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DoseSpec:
    """A protocol dose: ``amount`` in ``unit`` per ``basis`` (AUC: mg/mL·min)."""

    amount: float
    unit: str  # "mg" or "units" (AUC: "mg")
    basis: str  # "bsa" | "weight" | "flat" | "auc" | "percent" | "ratio" (of the line ``of``)
    text: str  # as written in the file
    of: str | None = None  # percent and ratio: the drug whose dose that day it is taken from

    def describe(self, amount: float | None = None) -> str:
        """``'40 mg/m²'``, ``'2 mg'``, ``'AUC 5'``, ``'20 % of ifosfamide'`` (ISMP number style)."""
        from dosecalc.base.numbers import fmt

        value = self.amount if amount is None else amount
        if self.basis == "auc":
            return f"AUC {fmt(value)}"
        if self.basis == "percent":
            return f"{fmt(value)} % of {self.of}"
        if self.basis == "ratio":
            return f"{fmt(value)} × {self.of}"
        return f"{fmt(value)} {self.unit}{_PER[self.basis]}"

    @property
    def relative(self) -> bool:
        """A dose taken from another line's dose that day (percent_of, ratio_to)."""
        return self.basis in ("percent", "ratio")

    @property
    def per_unit(self) -> str:
        """Unit of ``amount`` in JSON: ``mg/m2``, ``mg/kg``, ``mg``, ``units/m2``, ``AUC``,
        ``percent`` or ``ratio`` (of the dose of the line served)."""
        if self.basis == "auc":
            return "mg/mL*min"
        if self.relative:
            return self.basis
        return {"bsa": f"{self.unit}/m2", "weight": f"{self.unit}/kg", "flat": self.unit}[
            self.basis
        ]


DOSE_EXAMPLES = "write e.g. '120 mg/m2', '2 g/m2', '10 units/m2', '5 mg/kg', '12 mg' or 'AUC 5'"
CAP_EXAMPLES = "write an absolute amount, e.g. '2 mg', '800 mg' or '20 g'"


def parse_cap(value: Any) -> DoseSpec:
    """A ``max_dose``: read as a dose, its examples the absolute amounts a cap takes."""
    return parse_dose(value, CAP_EXAMPLES)


def parse_dose(value: Any, valid: str = DOSE_EXAMPLES) -> DoseSpec:
    """``'2 g/m2'`` → ``DoseSpec(2000, 'mg', 'bsa')``; ValueError with what would be valid."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"{value!r} has no unit; {valid}")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a dose with a unit; {valid}")
    auc = _AUC.match(value)
    if auc:
        try:
            target = strict.decimal(auc.group("num"))
        except ValueError as e:
            raise ValueError(f"'{value}' is not a dose: {e}; {valid}") from None
        if not (math.isfinite(target) and 0 < target <= MAX_AUC):
            raise ValueError(f"'{value}': a target AUC must be above 0 and at most {MAX_AUC:g}")
        return DoseSpec(target, "mg", "auc", value)
    try:
        number, unit_text = units.split(value)
    except ValueError as e:
        raise ValueError(f"{e}; {valid}") from None
    if not unit_text:
        raise ValueError(f"'{value}' has no unit; {valid}")
    for target, basis, unit in _BASES:
        try:
            amount = number * units.factor(unit_text, target)
        except ValueError:
            continue
        shown = f"{unit}/m²" if basis == "bsa" else f"{unit}/kg" if basis == "weight" else unit
        bad = dose_problem(amount, shown)
        if bad:
            raise ValueError(f"'{value}' {bad}")
        return DoseSpec(amount, unit, basis, value)
    try:
        units.unit(unit_text)
    except ValueError as e:
        raise ValueError(f"{e} (in '{value}'); {valid}") from None
    raise ValueError(
        f"'{value}' is not a dose per administration day (per m², per kg or flat); "
        f"{valid}, and list the days it is given on"
    )


def parse_days(value: Any) -> tuple[int, ...]:
    """``1`` / ``'1-3'`` / ``'1,8,15'`` / ``[1, 8, 15]`` → sorted unique day numbers (1-based)."""
    valid = "write days as 1, '1-3', '1,8,15', '1-14' or a list of day numbers"
    days: list[int] = []
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a day; {valid}")
    if isinstance(value, int):
        days = [value]
    elif isinstance(value, list) and value:
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValueError(f"{item!r} is not a day number; {valid}")
            days.append(item)
    elif isinstance(value, str) and value.strip():
        for part in value.split(","):
            m = re.fullmatch(r"\s*([^-\s]+)\s*(?:-\s*([^-\s]+)\s*)?", part)
            if not m:
                raise ValueError(f"'{part.strip()}' in '{value}' is not a day or range; {valid}")
            try:
                first = strict.integer(m.group(1))
                last = strict.integer(m.group(2)) if m.group(2) else first
            except ValueError as e:
                where = f"in '{value.strip()}': " if part.strip() != m.group(1) else ""
                raise ValueError(f"{where}{e}; {valid}") from None
            if last < first:
                raise ValueError(f"'{part.strip()}' runs backwards; write it as {last}-{first}")
            if last - first > MAX_CYCLE_LENGTH_DAYS:
                raise ValueError(f"'{part.strip()}' is longer than any cycle")
            days.extend(range(first, last + 1))
    else:
        raise ValueError(f"{value!r} is not a list of days; {valid}")
    if min(days) < 1:
        raise ValueError(f"day {min(days)} is before day 1; days are numbered from 1")
    seen: set[int] = set()
    for d in days:
        if d in seen:
            raise ValueError(f"day {d} is listed twice")
        seen.add(d)
    return tuple(sorted(days))


Dose = Annotated[
    DoseSpec,
    PlainValidator(parse_dose),
    WithJsonSchema({"type": "string", "examples": ["120 mg/m2", "2 g/m2", "2 mg", "AUC 5"]}),
]
Cap = Annotated[
    DoseSpec,
    PlainValidator(parse_cap),
    WithJsonSchema({"type": "string", "examples": ["2 mg", "20 g"]}),
]


def span_problem(cycles: int, length: int) -> str | None:
    """What is wrong with ``cycles`` cycles of ``length`` days as one plan, or None."""
    if cycles * length <= MAX_PLAN_DAYS:
        return None
    return (
        f"{cycles} cycles of {length} days span {cycles * length:,} days, and a plan spans at "
        f"most {MAX_PLAN_DAYS:,} days (5 years): give at most {MAX_PLAN_DAYS // length} cycles "
        f"of {length} days"
    )


def run_problem(first: date, end: date) -> str | None:
    """What is wrong with a plan from ``first`` to ``end`` (the day after its last cycle), or
    None."""
    days = (end - first).days
    if days <= MAX_PLAN_DAYS:
        return None
    return (
        f"runs {days:,} days, from {first} to {end}, and a plan spans at most "
        f"{MAX_PLAN_DAYS:,} days (5 years)"
    )


def parse_cycles(value: Any) -> tuple[int, int | None]:
    """``1`` / ``'1'`` / ``'2-6'`` / ``'2-'`` → (first, last or None for open-ended)."""
    valid = "write cycles as 1, '2-6' or '2-' (cycle 2 onwards)"
    if isinstance(value, int) and not isinstance(value, bool):
        first, last = value, value
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([^-\s]+)\s*(?:(-)\s*([^-\s]+)?\s*)?", value)
        if not m:
            raise ValueError(f"'{value}' is not a cycle or range; {valid}")
        try:
            first = strict.integer(m.group(1))
            last = strict.integer(m.group(3)) if m.group(3) else (None if m.group(2) else first)
        except ValueError as e:
            where = f"in '{value.strip()}': " if value.strip() != m.group(1) else ""
            raise ValueError(f"{where}{e}; {valid}") from None
    else:
        raise ValueError(f"{value!r} is not a cycle range; {valid}")
    if first < 1:
        raise ValueError("cycles are numbered from 1")
    if last is not None and last < first:
        raise ValueError(f"'{value}' runs backwards")
    return first, last


Cycles = Annotated[
    tuple[int, int | None],
    PlainValidator(parse_cycles),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": r"^\s*\d+\s*(-\s*\d*)?\s*$"},
            ]
        }
    ),
]
Days = Annotated[
    tuple[int, ...],
    PlainValidator(parse_days),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {
                    "type": "string",
                    "pattern": r"^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$",
                },
                {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
            ]
        }
    ),
]
Text = Annotated[str, Field(min_length=1, pattern=r"\S")]  # some text, not only spaces


def known_route(route: str | None) -> str | None:
    """A line's route, a regimen's or an order's: one of drugs.read_route's vocabulary exactly
    ('IV/IT' is not read as IV; ValueError names the valid routes)."""
    if route is not None:
        drugs.read_route(route)
    return route


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return strict.iso_date(value)  # YYYY-MM-DD in ASCII digits


IsoDate = Annotated[
    date, PlainValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


MAX_INFUSION_HOURS = 24 * 28


def parse_hours(value: Any) -> float:
    """``'46 h'`` / ``'120 min'`` / ``'2 days'`` → hours; ValueError with what would be valid."""
    valid = "write a duration with its unit, e.g. '46 h', '2 h' or '30 min'"
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; {valid}")
    try:
        number, unit_text = units.split(value)
    except ValueError as e:
        raise ValueError(f"{e}; {valid}") from None
    if not unit_text:
        raise ValueError(f"'{value}' has no unit; {valid}")
    try:
        hours = number * units.factor(unit_text, "hour")
    except ValueError:
        raise ValueError(f"'{value}' is not a duration; {valid}") from None
    if not 0 < hours <= MAX_INFUSION_HOURS:
        raise ValueError(f"'{value}': a duration must be above 0 and at most 28 days")
    return hours


Hours = Annotated[
    float,
    PlainValidator(parse_hours),
    WithJsonSchema({"type": "string", "examples": ["46 h", "2 h", "30 min"]}),
]


def _infusion_text(value: Any) -> Any:
    """The short form ``infusion: "4 h"``: a free-text description, kept as it is written."""
    return {"text": value} if isinstance(value, str) else value


def _text_or_infusion(schema: dict[str, Any]) -> None:
    """The field's JSON Schema also takes the short form, a string."""
    schema["anyOf"].insert(0, {"type": "string", "minLength": 1})


class Infusion(_Strict):
    """How one administration is given: a bolus, an infusion over a time, or a continuous
    infusion whose dose is the total over its duration. The short form (a string) is free text."""

    type: Literal["bolus", "intermittent", "continuous"] | None = Field(
        None,
        description="bolus (push or short infusion), intermittent (an infusion over "
        "`duration`, once on each listed day) or continuous (the dose is the TOTAL over "
        "`duration`, started on the listed day)",
    )
    duration: Hours | None = Field(None, description="e.g. '46 h', '2 h', '30 min'")
    note: Text | None = Field(None, description="what else matters for giving it")
    source: Text | None = None
    text: Text | None = Field(None, description="how it is given, in words (the short form)")

    @model_validator(mode="after")
    def _complete(self) -> Infusion:
        if self.type is None and self.text is None:
            raise ValueError(
                "give its type: bolus, intermittent or continuous (e.g. "
                "{type: continuous, duration: 46 h})"
            )
        if self.type in ("intermittent", "continuous") and self.duration is None:
            raise ValueError(f"a {self.type} infusion needs its duration, e.g. 'duration: 2 h'")
        return self

    def kind(self) -> str:
        """``'bolus'``, ``'infusion over 2 h'``, ``'continuous infusion over 46 h'`` (the short
        form: its text)."""
        if self.type is None:
            return self.text or ""
        hours = "" if self.duration is None else _duration(self.duration)
        return {
            "bolus": "bolus" + (f" over {hours}" if hours else ""),
            "intermittent": f"infusion over {hours}",
            "continuous": f"continuous infusion over {hours}",
        }[self.type]

    def total_over(self) -> str | None:
        """``'over 46 h'`` for a continuous infusion, whose dose is the total over its
        duration, not a dose a day; None for any other."""
        if self.type != "continuous" or self.duration is None:
            return None
        return f"over {_duration(self.duration)}"

    def describe(self) -> str:
        """The kind, then the note: ``'infusion over 2 h, concurrently with leucovorin'``."""
        extra = [x for x in (self.note, self.text if self.type else None) if x]
        return ", ".join([self.kind(), *extra])

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "duration_h": self.duration,
            "note": self.note,
            "text": self.text,
            "source": self.source,
        }


def _duration(hours: float) -> str:
    from dosecalc.base.numbers import fmt

    return f"{fmt(hours * 60)} min" if hours < 1 else f"{fmt(hours)} h"


# ---------------------------------------------------------------- patient-dependent rules (§11)


@dataclass(frozen=True)
class Limit:
    """A bound of a rule's condition: ``value`` in the condition's unit (m², kg, years)."""

    value: float
    text: str  # as written in the file

    def __str__(self) -> str:
        return self.text


def _limit(target: str, bare: str | None, what: str, examples: str, top: float) -> Any:
    """A validator for ``'0.6 m2'`` / ``'10 kg'`` / ``1`` (years): a plain float, checked."""

    def parse(value: Any) -> Limit:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{value!r} is not {what}; write e.g. {examples}")
        try:
            if isinstance(value, str):
                number, unit_text = units.split(value)
            else:
                number, unit_text = strict.number(value, signed=True), ""
        except ValueError as e:
            raise ValueError(f"{e}; write e.g. {examples}") from None
        if not unit_text:
            if bare is None:
                raise ValueError(f"{value!r} has no unit; write e.g. {examples}")
            unit_text = bare
        try:
            amount = number * units.factor(unit_text, target)
        except units.DimensionError as e:
            raise ValueError(f"'{value}' {e}; write e.g. {examples}") from None
        except ValueError as e:
            raise ValueError(f"{e} (in '{value}'); write e.g. {examples}") from None
        if not (math.isfinite(amount) and 0 < amount <= top):
            raise ValueError(
                f"'{value}' is outside the plausible range for {what} (above 0, at most {top:g})"
            )
        text = str(value).strip() if isinstance(value, str) else f"{value:g} {bare}"
        return Limit(amount, text)

    return Annotated[
        Limit,
        PlainValidator(parse),
        WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]}),
    ]


BsaLimit = _limit("m**2", None, "a BSA", "'0.6 m2'", 4.0)
WeightLimit = _limit("kg", None, "a weight", "'10 kg'", 400.0)
AgeLimit = _limit("year", "years", "an age", "1 (years), '18 months' or '2 years'", 120.0)


def _bounded(value: Any, top: float, what: str, valid: str, beyond: str = "") -> float:
    """A number above 0 and at most ``top``, written bare or with a '%' (``50``, ``'75 %'``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not {what}; {valid}")
    text = value.strip().removesuffix("%").strip() if isinstance(value, str) else value
    try:
        number = strict.number(text, signed=True)  # below zero: refused below, with why
    except ValueError as e:
        raise ValueError(f"{value!r} is not {what} ({e}); {valid}") from None
    if not (math.isfinite(number) and 0 < number <= top):
        raise ValueError(f"{value!r}: {beyond}{valid}")
    return number


def _percent(value: Any) -> float:
    """A rule's ``percent``: a number above 0 and at most 100 (``50`` or ``'50 %'``)."""
    valid = "write the percent of the dose to give, e.g. 50 or '75 %' (above 0, at most 100)"
    return _bounded(value, 100, "a percent", valid, "a rule may lower a dose, never raise it; ")


Percent = Annotated[
    float,
    PlainValidator(_percent),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 100}, {"type": "string"}]}
    ),
]


MAX_AT_HOURS = 24 * 7.0  # a supportive dose timed from its line's start: within a week


def _relative(value: Any) -> float:
    """A supportive line's ``percent`` or ``ratio``: a number above 0 and at most 1,000."""
    valid = "write a number above 0 and at most 1,000, e.g. 20 (percent) or 10 (ratio)"
    return _bounded(value, 1000, "a number", valid)


RelativeNumber = Annotated[
    float,
    PlainValidator(_relative),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1000}, {"type": "string"}]}
    ),
]


class RuleWhen(_Strict):
    """When a rule applies: every condition given must hold (``below`` is strict, ``at_least``
    includes the bound: BSA exactly 0.6 m² is not below 0.6 m²)."""

    bsa_below: BsaLimit | None = Field(None, description="BSA below this, e.g. '0.6 m2'")
    weight_below: WeightLimit | None = Field(None, description="actual weight below, e.g. '10 kg'")
    age_below: AgeLimit | None = Field(None, description="age below, in years (or '6 months')")
    age_at_least: AgeLimit | None = Field(None, description="age at least, in years")

    @model_validator(mode="after")
    def _some(self) -> RuleWhen:
        if all(
            v is None
            for v in (self.bsa_below, self.weight_below, self.age_below, self.age_at_least)
        ):
            raise ValueError(
                "a rule needs a condition: bsa_below, weight_below, age_below or age_at_least"
            )
        return self

    def describe(self) -> str:
        """``'BSA below 0.6 m2 and age at least 1 year'``."""
        parts = []
        for name, words in (
            ("bsa_below", "BSA below"),
            ("weight_below", "weight below"),
            ("age_below", "age below"),
            ("age_at_least", "age at least"),
        ):
            limit = getattr(self, name)
            if limit is not None:
                shown = (
                    limit.text
                    if not limit.text.endswith(" years")
                    else (f"{limit.value:g} year" + ("s" if limit.value != 1 else ""))
                )
                parts.append(f"{words} {shown}")
        return " and ".join(parts)


class Rule(_Strict):
    """A patient-dependent dosing rule of one drug order: the first whose ``when`` matches
    applies. ``dose`` replaces the order's dose (the dose on each listed day, any basis);
    ``percent`` scales the calculated dose."""

    when: RuleWhen
    dose: Dose | None = Field(
        None, description="replaces the dose on each listed day, e.g. '0.05 mg/kg'"
    )
    percent: Percent | None = Field(None, description="percent of the dose to give, e.g. 50")
    source: Text = Field(description="where the rule comes from (protocol section, label)")
    name: Text | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Rule:
        if (self.dose is None) == (self.percent is None):
            raise ValueError(
                "give either 'dose' (replaces the dose, e.g. '0.05 mg/kg') or 'percent' (of the "
                "dose, e.g. 50), exactly one of them"
            )
        return self

    def action(self) -> str:
        return f"{self.dose.describe()}" if self.dose is not None else f"{self.percent:g} %"


def _overlapping_infusion(infusion: Infusion | None, days: tuple[int, ...]) -> str | None:
    """Why an infusion longer than a day cannot be given on each of several listed days, or
    None: the one rule for every type of infusion. A continuous infusion over more than 24 h
    is written on the day it starts, with its whole dose; any other (intermittent: 96 h on
    each of days 1-4 gave four overlapping infusions at a quarter of the rate meant) may not
    still be running when the next listed day's starts."""
    if infusion is None or not infusion.duration or infusion.duration <= 24 or len(days) < 2:
        return None
    listed = ", ".join(map(str, days))
    whole = (
        "write it on the day it starts only, as a continuous infusion with its whole dose (the "
        "total over the infusion)"
    )
    if infusion.type == "continuous":
        return (
            f"a continuous infusion over {_duration(infusion.duration)} is written on the day "
            "it starts only, with its whole dose (the total over the infusion); this order "
            f"lists days {listed}"
        )
    for day, following in itertools.pairwise(days):
        if infusion.duration > (following - day) * 24:
            return (
                f"an infusion over {_duration(infusion.duration)} started on day {day} would "
                f"still be running when day {following}'s starts (this order lists days "
                f"{listed}): an infusion longer than a day cannot be given on each of "
                f"consecutive days; {whole}, or list days at least "
                f"{_duration(infusion.duration)} apart"
            )
    return None


class DrugOrder(_Strict):
    """One drug of a regimen: what, how much on each listed day, which days, how."""

    drug: str = Field(description="generic name or a known synonym (DDP, EPI, IFO, ...)")
    dose: Dose | None = Field(None, description="dose on EACH listed day")
    total_dose: Dose | None = Field(None, description="per-cycle total divided over the days")
    days: Days
    route: Text | None = Field(None, description="IV, PO, SC, ...; default: the drug's")
    max_dose: Cap | None = Field(None, description="cap on one administration, e.g. '2 mg'")
    cycles: Cycles | None = Field(
        None,
        description="the cycles this order is given in, e.g. "
        "'1' (a loading dose) or '2-' (cycle 2 onwards); default all",
    )
    infusion: Annotated[Infusion, BeforeValidator(_infusion_text)] | None = Field(
        None,
        description="how it is given: free text ('4 h'), or "
        "{type: bolus|intermittent|continuous, duration: '46 h', note, source}",
        json_schema_extra=_text_or_infusion,
    )
    note: Text | None = None
    source: Text | None = None
    rules: list[Rule] = Field(
        [],
        max_length=20,
        description="patient-dependent rules (children, infants); the first that matches applies",
    )
    supportive: bool = Field(
        False,
        description="a supportive-care line (mesna, leucovorin rescue, dexrazoxane, an "
        "antiemetic): dosed like any line, and it names the line it serves with `for`",
    )
    serves: str | None = Field(
        None, alias="for", description="the drug of this regimen the supportive line serves"
    )
    percent_of: str | None = Field(
        None, description="the dose is `percent` % of this drug's dose on the same day"
    )
    percent: RelativeNumber | None = Field(
        None, description="with percent_of: the percent (w/w) of that dose, e.g. 20"
    )
    ratio_to: str | None = Field(
        None, description="the dose is `ratio` times this drug's dose on the same day"
    )
    ratio: RelativeNumber | None = Field(
        None, description="with ratio_to: the factor, e.g. 10 (dexrazoxane 10:1)"
    )
    at_hours: list[Annotated[float, Field(ge=0, le=MAX_AT_HOURS)]] | None = Field(
        None,
        min_length=1,
        max_length=24,
        description="one administration at each of these hours after the START of the served "
        "line's dose on each listed day, e.g. [0, 4, 8]; a dose 24 h or more later falls on a "
        "later day",
    )
    required: bool = Field(
        True,
        description="a supportive line an order must carry when it orders the line served "
        "(verify: ORDER_SUPPORTIVE_MISSING); false: an ordinary line of the protocol",
    )

    @field_validator("days")
    @classmethod
    def _in_cycle(cls, days: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        length = (info.context or {}).get("cycle_length_days")
        if isinstance(length, int) and not isinstance(length, bool) and days[-1] > length:
            raise ValueError(
                f"day {days[-1]} is after the end of the {length}-day cycle; "
                f"days must lie within 1-{length}"
            )
        return days

    _known_route = field_validator("route")(known_route)

    @field_validator("infusion")
    @classmethod
    def _infusion_in_cycle(cls, infusion: Infusion | None, info: ValidationInfo) -> Any:
        length = (info.context or {}).get("cycle_length_days")
        days = info.data.get("days")
        if (
            infusion is not None
            and infusion.duration is not None
            and isinstance(length, int)
            and days
            and (days[-1] - 1) * 24 + infusion.duration > length * 24
        ):
            raise ValueError(
                f"an infusion of {_duration(infusion.duration)} from day {days[-1]} runs past the "
                f"end of the {length}-day cycle"
            )
        return infusion

    @field_validator("drug", "serves", "percent_of", "ratio_to", mode="before")
    @classmethod
    def _canonical(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a drug name")
        return drugs.lookup(value).name

    @field_validator("at_hours")
    @classmethod
    def _hours(cls, hours: list[float] | None) -> list[float] | None:
        if hours is not None and sorted(set(hours)) != hours:
            raise ValueError("list the hours once each, in order, e.g. [0, 4, 8]")
        return hours

    @model_validator(mode="after")
    def _consistent(self) -> DrugOrder:
        self._supportive_keys()
        forms = [self.dose, self.total_dose, self.percent_of, self.ratio_to]
        if sum(x is not None for x in forms) != 1:
            if not self.supportive:
                raise ValueError(
                    "give either 'dose' (the dose on each listed day) or 'total_dose' (a total "
                    "divided over the days), exactly one of them"
                )
            raise ValueError(
                "give exactly one of 'dose' (the dose on each listed day), 'total_dose' (a "
                "total divided over the days), 'percent_of' (with percent) or 'ratio_to' (with "
                "ratio)"
            )
        spec = self.protocol
        drug = drugs.lookup(self.drug)
        fatal = drugs.wrong_route(self.drug, self.route) if self.route is not None else None
        if fatal is not None:
            raise KeyProblem("route", fatal)
        if spec.basis == "auc":
            if self.drug != "carboplatin":
                raise ValueError(f"an AUC dose is only valid for carboplatin, not {self.drug}")
            if self.total_dose is not None:
                raise ValueError("an AUC dose cannot be a total_dose")
        elif spec.unit != drug.dose_unit:
            raise ValueError(
                f"{self.drug} is dosed in {drug.dose_unit}, but the dose '{spec.text}' is in "
                f"{spec.unit}"
            )
        infusion = self.infusion
        overlap = _overlapping_infusion(infusion, self.days)
        if overlap is not None:
            raise ValueError(overlap)
        if infusion is not None and infusion.type == "continuous" and infusion.duration:
            if self.total_dose is not None:
                raise ValueError(
                    "a continuous infusion's dose is already the total over its duration: "
                    "write it as 'dose', not 'total_dose'"
                )
        if self.max_dose is not None:
            cap = self.max_dose
            if cap.basis != "flat" or cap.unit != (drug.dose_unit if spec.basis != "auc" else "mg"):
                raise ValueError(
                    f"max_dose '{cap.text}' must be an absolute amount in {drug.dose_unit} "
                    f"(e.g. '2 {drug.dose_unit}'), the cap on one administration"
                )
        return self

    def _supportive_keys(self) -> None:
        """The keys of a supportive line belong to one, and go in pairs."""
        given = [
            k
            for k in ("serves", "percent_of", "ratio_to", "at_hours")
            if getattr(self, k) is not None
        ]
        if not self.supportive and (given or not self.required):
            shown = [("for" if k == "serves" else k) for k in given] or ["required"]
            raise ValueError(
                f"{', '.join(shown)} belong{'s' if len(shown) == 1 else ''} to a supportive "
                "line: add 'supportive: true' and 'for: DRUG' (the line it serves)"
            )
        if self.supportive and self.serves is None:
            raise ValueError("a supportive line names the line it serves: add 'for: DRUG'")
        for key, number in (("percent_of", "percent"), ("ratio_to", "ratio")):
            if (getattr(self, key) is None) != (getattr(self, number) is None):
                raise ValueError(f"'{key}' and '{number}' go together: give both, e.g. "
                                 f"{key}: {self.serves or 'ifosfamide'} and {number}: 20")  # fmt: skip
            if getattr(self, key) is not None and getattr(self, key) != self.serves:
                raise ValueError(
                    f"{key} names the line the dose is taken from: it must be the line 'for' "
                    f"names ({self.serves})"
                )

    @property
    def protocol(self) -> DoseSpec:
        if self.percent_of is not None and self.percent is not None:
            text = f"{self.percent:g} % of {self.percent_of}"
            return DoseSpec(self.percent, self.unit_of_drug, "percent", text, self.percent_of)
        if self.ratio_to is not None and self.ratio is not None:
            text = f"{self.ratio:g} × {self.ratio_to}"
            return DoseSpec(self.ratio, self.unit_of_drug, "ratio", text, self.ratio_to)
        spec = self.dose if self.dose is not None else self.total_dose
        assert spec is not None
        return spec

    @property
    def unit_of_drug(self) -> str:
        return drugs.lookup(self.drug).dose_unit

    @property
    def per_day(self) -> DoseSpec:
        """The protocol dose on each listed day (a total_dose divided by the number of days)."""
        if self.total_dose is None:
            return self.protocol
        spec = self.total_dose
        return DoseSpec(spec.amount / len(self.days), spec.unit, spec.basis, spec.text)

    def given_in(self, cycle: int) -> bool:
        if self.cycles is None:
            return True
        first, last = self.cycles
        return first <= cycle and (last is None or cycle <= last)

    def doses_by_day(self) -> dict[int, int]:
        """How many doses of the line fall on each day of the cycle: a dose at_hours 24 h or more
        after the start of the line served is dated on a later day (leucovorin at 24-42 h after
        methotrexate on day 22 falls on day 23)."""
        out: dict[int, int] = {}
        for d in self.days:
            for h in self.at_hours or [0.0]:
                out[d + int(h // 24)] = out.get(d + int(h // 24), 0) + 1
        return out

    @property
    def default_route(self) -> str:
        return self.route or drugs.lookup(self.drug).route


class GateOption(_Strict):
    """One reading of a gate where sources disagree (e.g. the US label's and the EU SmPC's)."""

    at_least: str | float | None = Field(None, description="e.g. '75 x10^9/L'")
    at_most: str | float | None = Field(None, description="e.g. '1.5 xULN'")
    source: Text
    note: Text | None = None


class Gate(_Strict):
    """A lab gate checked before each cycle, e.g. ANC at least 1.5 x10^9/L. Where sources
    disagree, the bounds are named ``options`` (each with its source), one the ``default``;
    policy ``gates.options`` ("regimen.lab" = option) picks another."""

    lab: str = Field(description="anc, platelets, hb, bilirubin, ast, alt, alp, scr, crcl, ...")
    at_least: str | float | None = Field(None, description="e.g. '1.5 x10^9/L'")
    at_most: str | float | None = Field(None, description="e.g. '1.5 xULN'")
    otherwise: str = Field(
        description="what to do when the gate fails: delay, stop or 'reduce 25%'"
    )
    source: Text | None = None
    note: Text | None = None
    options: dict[str, GateOption] | None = Field(
        None, description="named readings where sources disagree, each with its bounds and source"
    )
    default: str | None = Field(None, description="the option used unless the policy picks one")
    why_default: Text | None = None

    @field_validator("otherwise", mode="before")
    @classmethod
    def _action(cls, value: Any) -> str:
        text = value.strip().lower() if isinstance(value, str) else ""
        m = re.fullmatch(r"delay|stop|reduce\s*([0-9]+(?:\.[0-9]+)?)\s*%", text)
        if not m or (m.group(1) is not None and not 0 < float(m.group(1)) < 100):
            raise ValueError(f"{value!r} is not an action; write delay, stop or 'reduce 25%'")
        return text

    @field_validator("lab", mode="before")
    @classmethod
    def _known(cls, value: Any) -> str:
        from dosecalc.base.errors import DosecalcError
        from dosecalc.data import labs

        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a laboratory test name")
        try:
            return labs.kind(value, "lab").name
        except DosecalcError as e:
            raise ValueError(e.problems[0].message) from None

    @model_validator(mode="after")
    def _bound(self) -> Gate:
        if self.options is not None:
            if self.at_least is not None or self.at_most is not None or self.source is not None:
                raise ValueError(
                    "a gate with options gives its bounds and source in each option, not beside "
                    "them"
                )
            if not self.options:
                raise ValueError("options lists at least one reading")
            if self.default not in self.options or self.why_default is None:
                raise ValueError(
                    f"a gate with options names its default (one of {', '.join(self.options)}) "
                    "and why_default"
                )
            for name in self.options:
                self.spec_for(name)
        elif self.default is not None or self.why_default is not None:
            raise ValueError("default and why_default belong to a gate with options")
        else:
            self.spec  # noqa: B018  (parses both bounds; a ValueError names what is wrong)
        return self

    @property
    def spec(self) -> Any:
        """The gate as plain values (labs.GateSpec), bounds in the lab's unit (the default
        option's, for a gate with options)."""
        return self.spec_for(None)

    def spec_for(self, option: str | None) -> Any:
        """The gate under ``option`` (None: the default); ValueError for an unknown option."""
        from dosecalc.base.errors import DosecalcError
        from dosecalc.data import labs

        chosen = ""
        at_least, at_most, source = self.at_least, self.at_most, self.source
        if self.options is not None:
            chosen = option or self.default or ""
            if chosen not in self.options:
                raise ValueError(
                    f"'{chosen}' is not an option of the {self.lab} gate; give one of "
                    f"{', '.join(self.options)}"
                )
            picked = self.options[chosen]
            at_least, at_most, source = picked.at_least, picked.at_most, picked.source
        elif option is not None:
            raise ValueError(f"the {self.lab} gate has no options")
        if at_least is None and at_most is None:
            raise ValueError("a gate needs at_least or at_most (e.g. at_least: 1.5 x10^9/L)")
        bounds: dict[str, float] = {}
        unit = None
        for key, raw in (("at_least", at_least), ("at_most", at_most)):
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, str):
                raise ValueError(f"{key}: {raw!r} has no unit; write e.g. '1.5 x10^9/L'")
            try:
                bounds[key], this = labs.parse_value(self.lab, raw, key)
            except DosecalcError as e:
                raise ValueError(f"{key}: {e.problems[0].message}") from None
            if unit is not None and this != unit:
                raise ValueError("at_least and at_most must be in the same kind of unit")
            unit = this
        lo, hi = bounds.get("at_least"), bounds.get("at_most")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("at_least is above at_most, so no value could pass")
        assert unit is not None
        spec = labs.GateSpec(self.lab, lo, hi, unit, self.otherwise, source)
        return labs.GateSpec(
            spec.lab, lo, hi, unit, self.otherwise, source, labs.gate_requirement(spec), chosen
        )


class NotGated(_Strict):
    """A default gate (policy gates.default) this regimen leaves out, and the cited reason."""

    lab: Literal["anc", "platelets"] = Field(description="the default gate left out")
    reason: Text
    source: Text


class Children(_Strict):
    """How the regimen's sources dose children (e.g. one per-m² dose for every age enrolled)."""

    statement: Text
    source: Text


class Care(_Strict):
    """Supportive care the regimen requires around a line that is not a dosed drug: hydration,
    urine alkalinisation, level monitoring. Shown in the plan; an order that orders the line it
    serves must state it (verify: ORDER_SUPPORTIVE_MISSING) unless ``required`` is false."""

    kind: Literal["hydration", "alkalinisation", "monitoring", "other"] = Field(
        description="hydration, alkalinisation, monitoring or other"
    )
    serves: str = Field(alias="for", description="the drug of this regimen it goes with")
    days: Days | None = Field(None, description="the days of the cycle (default: that drug's)")
    required: bool = Field(True, description="an order of that drug must state it")
    text: Text = Field(description="what the protocol (or the label used instead) says, in words")
    source: Text = Field(description="where it comes from")
    note: Text | None = None

    @field_validator("serves", mode="before")
    @classmethod
    def _canonical(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a drug name")
        return drugs.lookup(value).name

    def as_dict(self) -> dict[str, object]:
        """As the JSON outputs give it (plan, regimens show)."""
        return {
            "kind": self.kind,
            "for": self.serves,
            "days": list(self.days) if self.days else None,
            "required": self.required,
            "text": self.text,
            "source": self.source,
            "note": self.note,
        }


class Regimen(_Strict):
    """A regimen file (docs/regimen.md)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    name: Text
    indication: Text | None = None
    version: Text | None = None
    cycle_length_days: StrictInt = Field(ge=1, le=MAX_CYCLE_LENGTH_DAYS)
    cycles: StrictInt = Field(1, ge=1, le=MAX_CYCLES)
    sources: list[Text] = Field(min_length=1)
    assumptions: list[Text] = []
    unverified: list[Text] = []
    notes: list[Text] = []
    status: Literal["draft", "approved", "retired"] = Field(
        "draft", description="how far the file has been reviewed: draft, approved or retired"
    )
    approved_by: Text | None = Field(None, description="who approved this version")
    approved_on: IsoDate | None = Field(None, description="when, YYYY-MM-DD")
    review_due: IsoDate | None = Field(None, description="when it must be reviewed again")
    drugs: list[DrugOrder] = Field(min_length=1, max_length=100)
    gates: list[Gate] | None = Field(
        None,
        max_length=20,
        description="lab gates checked before each cycle; [] when the sources state none",
    )
    not_gated: list[NotGated] = Field(
        [],
        max_length=2,
        description="default gates (policy gates.default) the regimen leaves out, with reason",
    )
    children: Children | None = Field(
        None, description="how the sources dose children, where they say (with the source)"
    )
    supportive_care: list[Care] = Field(
        [],
        max_length=50,
        description="supportive care that is not a dosed drug (hydration, alkalinisation, "
        "monitoring), each with the line it serves and its source",
    )
    _names_read: tuple[drugs.NameRead, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _read_names(cls, data: Any, handler: Any, info: ValidationInfo) -> Regimen:
        """Remember the drug names written as abbreviations, with file:line when loaded from a
        file (the loader passes ``source`` and ``lines`` in the context)."""
        regimen = handler(data)
        if isinstance(data, dict) and isinstance(data.get("drugs"), list):
            context = info.context or {}
            source, lines = context.get("source"), context.get("lines") or {}
            where = None if source else f"regimen {regimen.id}"
            regimen._names_read = tuple(
                drugs.names_read(
                    (item.get("drug"), source, lines.get(("drugs", i, "drug")), where)
                    for i, item in enumerate(data["drugs"])
                    if isinstance(item, dict)
                )
            )
            if source:
                regimen._lines = {
                    (key, i): f"{source}:{lines[(key, i)]}"
                    for key in ("drugs", "supportive_care")
                    for i in range(len(data.get(key) or ()))
                    if (key, i) in lines
                }
        return regimen

    _lines: dict[tuple[str, int], str] = PrivateAttr(default_factory=dict)

    def where(self, key: str, index: int) -> str:
        """Where an item of the file is: ``dia.yaml:48, drugs[6]`` (``drugs[6]`` for a regimen
        not read from a file)."""
        at = self._lines.get((key, index))
        return f"{at}, {key}[{index}]" if at else f"{key}[{index}]"

    @property
    def names_read(self) -> tuple[drugs.NameRead, ...]:
        """The abbreviations this regimen's drug names were read through (for ABBREVIATION_READ)."""
        return self._names_read

    _sha256: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _review(self) -> Regimen:
        if self.status == "approved" and (self.approved_by is None or self.approved_on is None):
            raise KeyProblem(
                "status",
                "status approved needs approved_by (who) and approved_on (YYYY-MM-DD, when)",
            )
        if self.status == "draft" and (self.approved_by or self.approved_on):
            raise KeyProblem(
                "status",
                "a draft has no approved_by or approved_on; set status: approved, or remove them",
            )
        if self.approved_on and self.approved_on > clock.today():
            raise KeyProblem("approved_on", f"approved_on {self.approved_on} is in the future")
        if self.approved_on and self.review_due and self.review_due <= self.approved_on:
            raise KeyProblem(
                "review_due",
                f"review_due {self.review_due} is not after approved_on {self.approved_on}",
            )
        return self

    @model_validator(mode="after")
    def _span(self) -> Regimen:
        problem = span_problem(self.cycles, self.cycle_length_days)
        if problem:
            raise KeyProblem("cycles", problem)
        return self

    @model_validator(mode="after")
    def _not_gated(self) -> Regimen:
        own = {g.lab for g in self.gates or []}
        for n in self.not_gated:
            if n.lab in own:
                raise ValueError(
                    f"not_gated: {n.lab} is a gate of this regimen; a regimen leaves out only "
                    "a default gate it does not state"
                )
        if len({n.lab for n in self.not_gated}) < len(self.not_gated):
            raise ValueError("not_gated names a lab twice")
        return self

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the file's bytes as loaded (None for a regimen built in memory)."""
        return self._sha256

    def served(self, order: DrugOrder) -> int | None:
        """The index of the line a supportive line serves (None: not a supportive line)."""
        if order.serves is None:
            return None
        return next(
            (i for i, o in enumerate(self.drugs) if o.drug == order.serves and not o.supportive),
            None,
        )

    def given_in(self, order: DrugOrder, cycle: int) -> bool:
        """Whether ``order`` is given in ``cycle``: its own cycles, and for a supportive line
        those of the line it serves."""
        i = self.served(order)
        return order.given_in(cycle) and (i is None or self.drugs[i].given_in(cycle))


# ---------------------------------------------------------------- loading and the library


def validate(data: Any, lines: dict[Any, int], source: str, sha256: str | None = None) -> Regimen:
    """Validate parsed YAML as a regimen; every problem reported with file:line at once.
    ``sha256`` is the digest of the file's bytes, kept with the regimen (plans print it)."""
    from dosecalc.data import regimen_rules
    from dosecalc.data.datafile import validate as validate_model

    if isinstance(data, dict) and "course" in data and "drugs" not in data:
        raise FileError(
            Problem(
                "this is a course file, not a regimen: a course's phases each name a regimen "
                "(courses do not nest)",
                file=source,
            )
        )
    if isinstance(data, dict) and "lines" in data and "drugs" not in data:
        raise FileError(  # as an order file read as one says it is a regimen
            Problem(
                "this is an order file, not a regimen; `dosecalc verify` reads it (a regimen "
                "lists its drugs, doses and days)",
                file=source,
            )
        )
    length = data.get("cycle_length_days") if isinstance(data, dict) else None
    context = {"cycle_length_days": length, "source": _shown(source), "lines": lines}
    regimen = validate_model(Regimen, data, lines, source, context)
    problems = regimen_rules.problems(regimen, lines, source)
    if problems:
        raise FileError(*problems)
    regimen._sha256 = sha256
    return regimen


def _shown(source: str) -> str:
    """A library file as ``regimens/dia.yaml``; any other path as given."""
    path = Path(source)
    try:
        if path.resolve().parent == library_dir().resolve():
            return f"regimens/{path.name}"
    except OSError:
        pass
    return source


def library_sha256(regimen_id: str) -> str | None:
    """The SHA-256 of the library's file of that id (None: the library has none)."""
    import hashlib

    path = library_dir() / f"{regimen_id}.yaml"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def load_file(path: Path) -> Regimen:
    from dosecalc.data import yamlfile

    data, lines, digest = yamlfile.load_hashed(path, "regimen")
    return check_library_id(validate(data, lines, str(path), digest), path, lines)


def check_library_id(regimen: Regimen, path: Path, lines: dict[Any, int]) -> Regimen:
    if path.parent.resolve() == library_dir().resolve() and regimen.id != path.stem:
        raise FileError(
            Problem(
                f"id '{regimen.id}' must equal the file name '{path.stem}'",
                field="id",
                file=str(path),
                line=lines.get(("id",)),
            )
        )
    return regimen


def _not_a_file(path: Path) -> str:
    """Why ``path`` is not a regimen or course file: nothing there, or something else there."""
    try:
        if path.is_dir():
            return "a folder, not a regimen or course file"
        if path.exists():
            return "not a regular file (a device or a pipe), not a regimen or course file"
    except (OSError, ValueError):
        pass
    return "no such regimen or course file"


def resolve(ref: str) -> Path:
    """A library id (case-insensitive) or a path to a YAML file → the file's path."""
    candidate = Path(ref)
    try:
        looks_like_file = (
            candidate.suffix.lower() in (".yaml", ".yml") or "/" in ref or candidate.is_file()
        )
        is_file = looks_like_file and candidate.is_file()
    except (OSError, ValueError):  # a name too long or with a NUL byte is no file of ours
        looks_like_file, is_file = True, False
    key = ref.strip().lower()
    bare = "/" not in ref and candidate.suffix.lower() not in (".yaml", ".yml")
    if is_file and bare and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", key):
        if (library_dir() / f"{key}.yaml").is_file():  # a file here named like a library id
            raise FileError(
                Problem(
                    f"'{ref[:80]}' is both a library regimen and a file in this folder, so which "
                    f"is meant is unclear: write ./{ref[:80]} for the file; for the library's, "
                    "rename the file or run from another folder",
                    field="REGIMEN",
                )
            )
    if looks_like_file:
        if not is_file:
            raise FileError(Problem(_not_a_file(candidate), file=ref[:200]))
        return candidate
    path = library_dir() / f"{key}.yaml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", key) or not path.is_file():
        import difflib

        ids = library_ids()
        if key in UNIT_WORDS:  # '--height 175 cm' before the regimen: the unit was read as it
            raise FileError(
                Problem(
                    f"'{ref[:80]}' is a unit, not a regimen: a value and its unit were written "
                    'apart (write 175cm, or quote it: "175 cm"), so the unit was read as the '
                    f"regimen; name the regimen after the command (library: {', '.join(ids)})",
                    field="REGIMEN",
                )
            )
        close = difflib.get_close_matches(key, ids, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise FileError(
            Problem(
                f"'{ref[:80]}' is neither a library regimen nor a file{hint} "
                f"(library: {', '.join(ids)})",
                field="REGIMEN",
            )
        )
    return path


# The units people type after a number; never a regimen id (the library's ids are not these).
UNIT_WORDS = frozenset(
    "cm m mm in inch inches ft kg g lb lbs mg mcg ug m2 mg/m2 g/m2 mg/kg ml/min umol/l "
    "mg/dl y years months weeks".split()
)


def load(ref: str) -> Regimen:
    return load_file(resolve(ref))
