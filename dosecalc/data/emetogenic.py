"""The emetogenic-risk data file (``data/emetogenic.yaml``) as plain values: each drug's acute
risk class under each named option (ASCO 2020, MASCC/ESMO 2023, the NCCN-derived chart), its
dose bands, the combination and multiday rules, the prophylaxis each option recommends per level,
and the drugs that count as antiemetic prophylaxis on an order. Every class and text keeps its
source and ``verified`` flag. Which class a day of a plan has is the clinical layer's
(clinical/emetogenic.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("emetogenic.yaml")
LEVELS = ("minimal", "low", "moderate", "high")  # lowest first
OPTIONS = ("asco-2020", "mascc-esmo-2023", "nccn-chart")
# the keys of a prophylaxis table (and of the policy emetogenic.agents): a level, or a
# level's variant (AC; carboplatin AUC >= 4 under ASCO; NK1 triple under MASCC)
KEYS = ("high", "high-ac", "moderate", "moderate-carboplatin", "moderate-nk1", "low", "minimal")
_BOUNDS = {
    "dose_above": lambda x, v: x > v,
    "dose_at_least": lambda x, v: x >= v,
    "dose_below": lambda x, v: x < v,
    "dose_at_most": lambda x, v: x <= v,
    "dose_equal": lambda x, v: math.isclose(x, v, rel_tol=1e-9),
    "auc_at_least": lambda x, v: x >= v,
    "auc_below": lambda x, v: x < v,
}


@dataclass(frozen=True)
class Class:
    """One drug's class under one option, or one dose band of it (``bounds`` empty: any dose).
    ``level`` None: the option does not classify it (``fallback`` names the option to use)."""

    level: str | None
    source: str
    verified: bool
    bounds: tuple[tuple[str, float], ...] = ()  # (key, value in mg/m² or AUC)
    text: str | None = None
    note: str | None = None
    fallback: str | None = None
    prophylaxis_key: str | None = None
    escalation: dict[str, Any] | None = None  # {when: {...}, prophylaxis_key, source, ...}

    def holds(self, per_m2: float | None, auc: float | None) -> bool:
        """Whether a dose (mg/m² per day, or a carboplatin AUC) lies in this band."""
        for key, value in self.bounds:
            amount = auc if key.startswith("auc") else per_m2
            if amount is None or not _BOUNDS[key](amount, value):
                return False
        return True

    @property
    def band_text(self) -> str:
        from dosecalc.base.numbers import fmt

        words = {"above": ">", "at_least": "≥", "below": "<", "at_most": "≤", "equal": "="}
        parts = []
        for key, value in self.bounds:
            what, bound = key.split("_", 1)
            unit = "" if what == "auc" else " mg/m²"
            parts.append(f"{'AUC ' if what == 'auc' else ''}{words[bound]} {fmt(value)}{unit}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Book:
    default_option: str
    why_default: str
    sources: dict[str, str]  # id → citation
    drugs: dict[str, dict[str, tuple[Class, ...]]]  # drug → option → classes (bands)
    not_classified: dict[str, str]  # drug → why (supportive drugs, corticosteroids)
    combination: dict[str, Any]  # the anthracycline-cyclophosphamide rule
    highest_agent: dict[str, Any]  # the 'highest agent of the day' rule (its verified flag)
    multiday: dict[str, dict[str, Any]]  # option → {days_after_completion, source, verified}
    prophylaxis: dict[str, dict[str, dict[str, Any]]]  # option → key → {text, source, ...}
    antiemetics: dict[str, str]  # drug → pharmacological class
    antiemetic_source: dict[str, Any] = field(default_factory=dict)

    def cite(self, source: str) -> str:
        """A source id as a short citation: ``'Hesketh PJ, ... J Clin Oncol 2020 ...'``."""
        return self.sources.get(source, source)


def _bounds(entry: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    from dosecalc.data.regimen import parse_dose

    out = []
    for key in _BOUNDS:
        if key not in entry:
            continue
        raw = entry[key]
        if key.startswith("auc"):
            out.append((key, float(raw)))
            continue
        spec = parse_dose(raw)
        if spec.basis != "bsa":
            raise ValueError(f"{key} '{raw}' must be a dose per m²")
        out.append((key, spec.amount))
    return tuple(out)


def _class(entry: dict[str, Any]) -> Class:
    level = entry.get("level")
    if level is not None and level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    if not isinstance(entry.get("verified"), bool) or not entry.get("source"):
        raise ValueError(f"a class needs its source and verified flag: {entry}")
    return Class(
        level,
        entry["source"],
        entry["verified"],
        _bounds(entry),
        entry.get("text"),
        entry.get("note"),
        entry.get("fallback_option"),
        entry.get("prophylaxis_key"),
        entry.get("prophylaxis_escalation"),
    )


def parse(data: dict[str, Any]) -> Book:
    """The file's plain data as a :class:`Book`; ValueError naming what is wrong."""
    from dosecalc.data import drugs as drug_data

    known = drug_data.book().drugs
    sources = {
        key: str(value.get("cite") if isinstance(value, dict) else value)
        for key, value in data["sources"].items()
    }
    classes: dict[str, dict[str, tuple[Class, ...]]] = {}
    not_classified: dict[str, str] = {}
    for entry in data["drugs"]:
        name = entry["drug"]
        if name not in known:
            raise ValueError(f"'{name}' is not a canonical drug name")
        if entry.get("not_classified"):
            not_classified[name] = entry.get("note", "")
            continue
        per_option = {}
        for option, value in entry["options"].items():
            if option not in OPTIONS:
                raise ValueError(f"{name}: unknown option '{option}'")
            bands = value.get("bands")
            per_option[option] = tuple(_class(b) for b in bands) if bands else (_class(value),)
        classes[name] = per_option
    for option, table in data["prophylaxis"].items():
        if option not in OPTIONS:
            raise ValueError(f"prophylaxis: unknown option '{option}'")
        missing = [level for level in LEVELS if level not in table]
        if missing:
            raise ValueError(f"prophylaxis {option}: no text for {', '.join(missing)}")
    rules = {r["id"]: r for r in data["combination_rules"]}
    ae = data["antiemetics"]
    antiemetics = {a["drug"]: a["class"] for a in ae["drugs"]}
    for name in antiemetics:
        if name not in known:
            raise ValueError(f"antiemetics: '{name}' is not a canonical drug name")
    if data["default_option"] not in OPTIONS:
        raise ValueError(f"default_option {data['default_option']!r} is not an option")
    return Book(
        data["default_option"],
        data["why_default"],
        sources,
        classes,
        not_classified,
        rules["anthracycline-cyclophosphamide"],
        rules["highest-agent-of-the-day"],
        rules["multiday"]["options"],
        data["prophylaxis"],
        antiemetics,
        {k: v for k, v in ae.items() if k != "drugs"},
    )


@lru_cache(maxsize=1)
def book() -> Book:
    from dosecalc.data.drugs import DataError
    from dosecalc.data.yamlfile import read_trusted

    try:
        return parse(read_trusted(DATA, "emetogenic-risk data"))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise DataError(f"the packaged emetogenic-risk data is damaged: {e}") from e
