"""A written order as the layers pass it around: one cycle of one regimen for one patient, its
lines as written (drug, absolute dose, day, route), the measurements the prescriber used and the
warnings it acknowledges; and how a dose, a date and a drug name written on an order read. The
two readers of order files (YAML, FHIR) are the inputs layer's; what verify decides is the
clinical layer's (clinical/verify.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dosecalc.base import strict
from dosecalc.base.bounds import dose_problem
from dosecalc.base.errors import DosecalcError
from dosecalc.data import drugs

ABSOLUTE = (
    "write the dose to give as an absolute amount, e.g. 258 mg, 1.5 g, 500 mcg or 15 units "
    "(carboplatin also as its target AUC, e.g. AUC 6)"
)


@dataclass(frozen=True)
class OrderLine:
    """One dose as written: ``amount`` in ``unit`` (the drug's dose unit, mg or units). A
    carboplatin line written as a target AUC (``AUC 6``) has ``auc`` and no amount yet (0):
    verify turns it into mg with the patient's GFR (Calvert), as the plan does."""

    drug: str  # canonical name
    amount: float
    unit: str
    written: str  # the dose as written, e.g. "1.5 g"
    day: int  # day of the cycle, 1-based
    route: str | None
    where: str  # "order.yaml:12" or "bundle.json entry 5"
    given_as: str = ""  # the drug name as written, when it differs from the canonical name
    auc: float | None = None  # a target AUC as written (carboplatin), mg/mL·min
    infusion: Any = None  # how it is given, as the order states it (regimen.Infusion), or None


@dataclass(frozen=True)
class CareItem:
    """Supportive care the order states that is not a dosed drug (hydration, alkalinisation,
    level monitoring), matched with the regimen's ``supportive_care`` by kind and drug."""

    kind: str  # hydration | alkalinisation | monitoring | other
    serves: str  # the drug it goes with (canonical name)
    text: str | None
    where: str  # "order.yaml:20"


@dataclass(frozen=True)
class Measurements:
    """The measurements the prescriber used (texts as written; parsed by dosecalc.patient)."""

    height: str | float | None = None
    weight: str | float | None = None
    bsa: str | float | None = None
    measured: date | None = None
    sex: str | None = None
    age: str | float | None = None
    scr: str | float | None = None
    gfr: str | float | None = None
    id: str | None = None  # the patient's id on the order
    genotype: tuple[tuple[str, str, str], ...] = ()  # (gene, result, file:line) as written

    @property
    def any_size(self) -> bool:
        return any(v is not None for v in (self.height, self.weight, self.bsa))


ORDER, PHARMACIST = "order", "pharmacist"  # who acknowledges: the prescriber, or the verifier


@dataclass(frozen=True)
class Acknowledgement:
    """A warning acknowledged, as an exception order does: the code and the line it covers
    (drug; day: None for every day of that drug in this order; cycle: the order's), why, who,
    and in whose hand: the order's (the prescriber's) or the verifying pharmacist's
    (``verify --acknowledge``). It covers nothing else."""

    code: str
    drug: str | None
    reason: str
    by: str
    where: str
    day: int | None = None
    cycle: int | None = None
    tier: str = ORDER

    def describe(self) -> str:
        who = "the verifying pharmacist " if self.tier == PHARMACIST else ""
        return f"acknowledged by {who}{self.by}: {self.reason}"

    def covers(self) -> str:
        """'ORDER_DOSE_DEVIATION for epirubicin day 2'."""
        drug = f" for {self.drug}" if self.drug else ""
        day = f" day {self.day}" if self.day is not None else ""
        return f"{self.code}{drug}{day}"

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "drug": self.drug,
            "cycle": self.cycle,
            "day": self.day,
            "reason": self.reason,
            "by": self.by,
            "tier": self.tier,
        }


@dataclass(frozen=True)
class Order:
    source: str  # the file as given
    sha256: str  # of the file's bytes
    format: str  # "yaml" | "fhir"
    lines: tuple[OrderLine, ...]
    regimen: str | None = None  # library id or path (None: give --regimen)
    cycle: int | None = None
    start: date | None = None  # the cycle's day 1
    id: str | None = None
    regimen_version: str | None = None
    regimen_sha256: str | None = None
    patient: Measurements = field(default_factory=Measurements)
    acknowledged: tuple[Acknowledgement, ...] = ()
    prescriber: str | None = None
    base: Path | None = None  # the folder a relative regimen path is read from
    not_read: tuple[str, ...] = ()  # what a FHIR reader saw and did not check
    start_assumed: bool = False  # a bundle gave dates but no day numbers: its first date is day 1
    inactive: tuple[str, ...] = ()  # requests of a bundle whose status is not active or draft
    supportive_care: tuple[CareItem, ...] = ()  # hydration, alkalinisation, ... as stated
    key_lines: Mapping[str, int] = field(default_factory=dict)  # "patient.id" → its line

    def line_of(self, key: str) -> int | None:
        """The file's line of a key (``regimen``, ``patient.measured``), where it has one."""
        return self.key_lines.get(key)


def parse_iso_date(value: Any) -> date:
    """``2026-12-01`` (text; YAML dates stay text) → date; ValueError with what is valid."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01")
    return strict.iso_date(value)  # a date that is no day says why (2025-02-30)


AUC_DRUG = "carboplatin"  # the one drug dosed by a target AUC (Calvert), as in regimens


def parse_auc(value: Any, drug: str) -> float | None:
    """A dose written as a target AUC (``'AUC 6'``, ``'AUC 6 mg/mL·min'``) → 6.0; None when the
    dose is not written as an AUC; ValueError for an AUC of a drug not dosed by one, or out of
    range."""
    if not isinstance(value, str) or not value.strip().lower().startswith("auc"):
        return None
    if drug != AUC_DRUG:
        raise ValueError(
            f"'{value}' is a target AUC, and only carboplatin is dosed by one (Calvert); {ABSOLUTE}"
        )
    from dosecalc.data.regimen import parse_dose

    spec = parse_dose(value)  # the regimen's reader: 'AUC 5', at most 10 mg/mL·min
    return spec.amount


def parse_amount(value: Any, drug: str) -> tuple[float, str]:
    """``'1.5 g'`` → ``(1500.0, 'mg')`` in the drug's dose unit; ValueError with what is valid."""
    from dosecalc.base import units

    if isinstance(value, str) and value.strip().lower().startswith("auc"):
        parse_auc(value, drug)  # a non-carboplatin AUC: the clear sentence
        raise ValueError(
            f"'{value}': a target AUC is written in an order file (dose: AUC 6), not here; "
            f"{ABSOLUTE}"
        )

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{value!r} is not a dose; {ABSOLUTE}")
    if isinstance(value, int | float):
        raise ValueError(f"{value!r} has no unit; {ABSOLUTE}")
    try:
        number, unit_text = units.split(value)
    except ValueError as e:
        raise ValueError(f"{e}; {ABSOLUTE}") from None
    if not unit_text:
        raise ValueError(f"'{value}' has no unit; {ABSOLUTE}")
    target = drugs.lookup(drug).dose_unit
    try:
        amount = number * units.factor(unit_text, target)
    except units.DimensionError:
        per = " (the order gives the amount to give, not the protocol dose per m² or kg)"
        kind = units.kind_of(unit_text)
        raise ValueError(
            f"'{value}' is {kind + ', not' if kind else 'not'} "
            f"{'a mass' if target == 'mg' else 'a number of units'}"
            f"{per if '/' in unit_text else ''}; {ABSOLUTE}"
        ) from None
    bad = dose_problem(amount, target)
    if bad:
        raise ValueError(f"'{value}' {bad}")
    return amount, target


def canonical_drug(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a drug name")
    try:
        return drugs.lookup(value).name
    except DosecalcError as e:
        raise ValueError(e.problems[0].message) from None


def day_of(start: date, when: date) -> int:
    return (when - start).days + 1


def date_of(start: date, day: int) -> date:
    return start + timedelta(days=day - 1)
