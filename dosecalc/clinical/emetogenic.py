"""The acute emetogenic risk of each day of a plan, and the prophylaxis it calls for.

A day's level is the highest level of the antineoplastic drugs given that day (data/emetogenic
.yaml, the option the policy ``emetogenic.option`` names), after the anthracycline-
cyclophosphamide rule; a drug's level may depend on its dose that day (cyclophosphamide above
1,500 mg/m², carboplatin's AUC). Where the option does not classify a drug, the option the data
names as its fallback is used and the day says so; a drug no option classifies is reported as
unclassified, never given a borrowed class. The prophylaxis is the option's text for the level
(or its variant: AC, carboplatin AUC ≥ 4), with the institution's own agents (policy
``emetogenic.agents``) beside it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from dosecalc.base.alerts import INFO, Alert
from dosecalc.data.emetogenic import LEVELS, OPTIONS, Book, Class

WORDS = {
    "high": "highly emetogenic",
    "moderate": "moderately emetogenic",
    "low": "low emetogenic risk",
    "minimal": "minimally emetogenic",
}
NAMES = {"asco-2020": "ASCO 2020", "mascc-esmo-2023": "MASCC/ESMO 2023", "nccn-chart": "NCCN chart"}


@dataclass(frozen=True)
class DrugLevel:
    drug: str
    level: str
    source: str
    verified: bool
    option: str  # the option the class was read from (the fallback, when the chosen one is silent)
    band: str = ""  # the dose band that matched, e.g. '> 1500 mg/m²'


@dataclass(frozen=True)
class DayRisk:
    phase: int
    cycle: int
    day: int
    date: date
    level: str
    option: str
    drugs: tuple[DrugLevel, ...]  # every classified drug of the day
    source: str  # the source id of the class that set the level
    cite: str
    verified: bool
    prophylaxis_key: str
    prophylaxis: str
    prophylaxis_source: str
    prophylaxis_verified: bool
    agents: str | None  # the institution's own agents (policy emetogenic.agents)
    notes: tuple[str, ...]
    unclassified: tuple[str, ...]
    until_day: int = 0  # the last day a drug of this day runs (a continuous infusion: later)

    @property
    def words(self) -> str:
        return WORDS[self.level]

    @property
    def why(self) -> str:
        """``'cisplatin'`` or ``'anthracycline + cyclophosphamide'``: what sets the level."""
        if self.prophylaxis_key == "high-ac":
            return "anthracycline + cyclophosphamide"
        return ", ".join(d.drug for d in self.drugs if d.level == self.level)

    def as_dict(self) -> dict[str, object]:
        return {
            "phase": self.phase,
            "cycle": self.cycle,
            "day": self.day,
            "date": self.date.isoformat(),
            "level": self.level,
            "source": self.cite,
            "source_id": self.source,
            "verified": self.verified,
            "option": self.option,
            "because": self.why,
            "prophylaxis": self.prophylaxis,
            "prophylaxis_key": self.prophylaxis_key,
            "prophylaxis_source": self.prophylaxis_source,
            "prophylaxis_verified": self.prophylaxis_verified,
            "institution_agents": self.agents,
            "drugs": [
                {
                    "drug": d.drug,
                    "level": d.level,
                    "source": d.source,
                    "verified": d.verified,
                    "option": d.option,
                    "band": d.band or None,
                }
                for d in self.drugs
            ],
            "notes": list(self.notes),
            "unclassified": list(self.unclassified),
        }


def _rank(level: str) -> int:
    return LEVELS.index(level)


def drug_class(
    book: Book, drug: str, option: str, per_m2: float | None, auc: float | None
) -> tuple[Class | None, str, list[str]]:
    """The class of one drug's dose under ``option`` (or its fallback, said in the notes)."""
    notes: list[str] = []
    options = book.drugs.get(drug)
    if options is None:
        return None, option, notes
    tried = option
    if option not in options:
        tried = book.default_option
        notes.append(f"{drug}: not classified in {NAMES[option]} as read; {NAMES[tried]} used")
    found = next((c for c in options.get(tried, ()) if c.holds(per_m2, auc)), None)
    if found is not None and found.level is None and found.fallback:
        notes.append(
            f"{drug}: {NAMES[tried]} does not classify it as read ({found.source}); "
            f"{NAMES[found.fallback]} used"
        )
        tried = found.fallback
        found = next((c for c in options.get(tried, ()) if c.holds(per_m2, auc)), None)
    if found is not None and found.level is None:
        return None, tried, notes
    if found is not None and not found.verified:
        notes.append(f"{drug}: its class{' ' + found.band_text if found.bounds else ''} is "
                     f"unverified ({found.note or found.source})")  # fmt: skip
    return found, tried, notes


def _escalated(
    c: Class, option: str, patient: Any, notes: list[str], auc: float | None
) -> str | None:
    """The prophylaxis key a class's escalation gives (carboplatin AUC, oxaliplatin in women
    under 50), or None."""
    esc = c.escalation
    if not esc:
        return None
    when = esc.get("when", {})
    if "auc_at_least" in when:
        return esc["prophylaxis_key"] if auc is not None and auc >= when["auc_at_least"] else None
    sex, age = getattr(patient, "sex", None), getattr(patient, "age_years", None)
    if "sex" in when:
        if sex is None or age is None:
            notes.append(
                f"{NAMES[option]}: {esc.get('text', '')}; give --sex and --age to apply it"
            )
            return None
        if sex == when["sex"] and age < when.get("age_below", float("inf")):
            return esc["prophylaxis_key"]
    return None


def assess(
    administrations: Sequence[Any],
    patient: Any,
    book: Book,
    option: str,
    agents: dict[str, str],
    unclassified: set[str] | None = None,
) -> list[DayRisk]:
    """Each day of the plan with at least one classified drug, in date order; the drugs no
    guideline classifies as read are added to ``unclassified``."""
    days: dict[tuple[int, int, int], list[Any]] = defaultdict(list)
    for a in administrations:
        days[(a.phase, a.cycle, a.day)].append(a)
    out = []
    for items in sorted(days.values(), key=lambda v: v[0].date):
        risk = _day(items, patient, book, option, agents, unclassified)
        if risk is None:
            continue
        others = []
        for other in OPTIONS:
            alt = _day(items, patient, book, other, {}) if other != option else None
            if alt is not None and alt.level != risk.level:
                others.append(f"{NAMES[other]} gives {alt.level} ({_because(alt)})")
        if others:
            risk = replace(risk, notes=(*risk.notes, "; ".join(others)))
        out.append(risk)
    return out


def _because(day: DayRisk) -> str:
    """What sets a day's level, with the dose band that matched: 'ifosfamide ≥ 2000 mg/m²'."""
    if day.prophylaxis_key == "high-ac":
        return "anthracycline + cyclophosphamide"
    return ", ".join(f"{d.drug} {d.band}".strip() for d in day.drugs if d.level == day.level)


def _amounts(
    items: Sequence[Any], bsa: float | None
) -> dict[str, tuple[float | None, float | None]]:
    """Per drug of the day: (mg/m² that day, carboplatin AUC), supportive lines left out."""
    total: dict[str, list[float | None]] = {}
    for a in items:
        d = a.dose
        if getattr(a, "serves", None):
            continue
        per_m2, auc = total.setdefault(d.drug, [0.0, None])
        if d.basis == "auc":
            total[d.drug][1] = d.protocol.amount
            continue
        exact = d.exact_per_m2
        add = exact if exact is not None else (d.dose / bsa if bsa else None)
        total[d.drug][0] = None if per_m2 is None or add is None else per_m2 + add
    return {k: (v[0], v[1]) for k, v in total.items()}


def _day(items: Sequence[Any], patient: Any, book: Book, option: str, agents: dict[str, str],
         lost: set[str] | None = None) -> DayRisk | None:  # fmt: skip
    first = items[0]
    notes: list[str] = []
    levels: list[tuple[DrugLevel, Class]] = []
    unclassified = []
    keys: list[tuple[str, str]] = []  # (the drug's level, the prophylaxis key it calls for)
    for drug, (per_m2, auc) in _amounts(items, getattr(patient, "bsa_m2", None)).items():
        if drug in book.not_classified or drug in book.antiemetics:
            continue
        c, used, said = drug_class(book, drug, option, per_m2, auc)
        notes += said
        if c is None:
            unclassified.append(drug)
            if lost is not None:
                lost.add(drug)
            continue
        levels.append((DrugLevel(drug, c.level or "", c.source, c.verified, used, c.band_text), c))  # type: ignore[arg-type]
        key = _escalated(c, used, patient, notes, auc)
        if key:
            keys.append((c.level or "", key))
    if not levels:
        return None
    top = max(levels, key=lambda x: _rank(x[0].level))
    level, source, verified = top[0].level, top[0].source, top[0].verified
    key = level
    ac = book.combination
    given = {x[0].drug for x in levels}
    if "cyclophosphamide" in given and given & set(ac["anthracyclines"]):
        rule = ac["options"].get(option) or ac["options"][book.default_option]
        level, key, source, verified = (
            "high",
            rule["prophylaxis_key"],
            rule["source"],
            rule["verified"],
        )
        if rule.get("restriction"):
            notes.append(
                f"{NAMES[option]} gives the anthracycline-cyclophosphamide combination as high "
                f"only in {rule['restriction']}: dosecalc does not know the diagnosis, so it "
                "applies it; check it applies"
            )
    else:
        key = next((k for lv, k in keys if lv == level), level)
    table = book.prophylaxis.get(option) or {}
    entry = table.get(key) or table.get(level)
    if entry is None:
        default = book.prophylaxis[book.default_option]
        entry = default.get(key) or default[level]
        notes.append(
            f"{NAMES[option]} gives no prophylaxis text as read; {NAMES[book.default_option]}'s shown"
        )
    agent = agents.get(key) or agents.get(level)
    return DayRisk(
        first.phase,
        first.cycle,
        first.day,
        first.date,
        level,
        option,
        tuple(x[0] for x in levels),
        source,
        book.cite(source),
        verified,
        key,
        entry["text"],
        book.cite(entry["source"]),
        entry["verified"],
        agent,
        tuple(dict.fromkeys(notes)),
        tuple(unclassified),
        _runs_until(items),
    )


def cover(days: Sequence[DayRisk], book: Book, option: str) -> dict[tuple[int, int], list[int]]:
    """(phase, cycle) → the last day prophylaxis covers after each block of consecutive
    treatment days: the block's last day plus the option's days after completion (ASCO 2020: 2;
    an option silent on it: the default's)."""
    rule = book.multiday.get(option) or {}
    default = book.multiday[book.default_option]["days_after_completion"]
    after = rule.get("days_after_completion", default)
    ends: dict[tuple[int, int], list[int]] = {}
    for d in days:
        mine = ends.setdefault((d.phase, d.cycle), [])
        last = max(d.day, d.until_day)
        if mine and d.day <= mine[-1] + 1:
            mine[-1] = max(mine[-1], last)
        else:
            mine.append(last)
    return {k: [v + after for v in last] for k, last in ends.items()}


def _runs_until(items: Sequence[Any]) -> int:
    """The last day the day's drugs run: a continuous infusion of H hours started on day D may
    end on day D + ceil(H / 24) (it starts at some time of day D)."""
    last = items[0].day
    for a in items:
        i = a.dose.infusion
        if i is not None and i.type == "continuous" and i.duration and not a.dose.serves:
            last = max(last, a.day + math.ceil(i.duration / 24))
    return last


def unclassified_alerts(drugs: set[str]) -> list[Alert]:
    """EMETOGENIC_RISK_UNCLASSIFIED once per drug no option classifies (e.g. oral anlotinib)."""
    return [
        Alert(
            INFO,
            "EMETOGENIC_RISK_UNCLASSIFIED",
            f"{drug}: no emetic risk class in the guidelines as read (data/emetogenic.yaml); "
            "its days' risk is not stated from it: decide its antiemetic prophylaxis locally",
            drug=drug,
        )
        for drug in sorted(drugs)
    ]
