"""Patient-dependent dosing rules of a regimen's drug (children, infants): which applies.

The first rule whose ``when`` holds the patient applies (whether a file's rules make sense is
checked when it is loaded: ``data/regimen_rules.py``). :func:`select` picks the rule for one
patient and never guesses: when a rule could apply but needs a value the user did not give (the
age), it refuses and names the option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dosecalc.base.errors import fail
from dosecalc.data.regimen import DoseSpec, DrugOrder, Rule, RuleWhen

# dimension → (the option that gives its value, an example)
_OPTIONS = {
    "bsa": ("--height and --weight, or --bsa", "--bsa 0.55"),
    "weight": ("--weight", "--weight 6kg"),
    "age": ("--age", "--age 7 or --age 18months"),
}


@dataclass(frozen=True)
class RuleUse:
    """The rule that applies to one patient: its place in the list, and why it matched."""

    index: int  # 1-based within the drug order's rules
    rule: Rule
    why: str  # "BSA 0.3464 m² is below 0.6 m2"

    @property
    def label(self) -> str:
        name = f" '{self.rule.name}'" if self.rule.name else ""
        return f"rule {self.index}{name}"

    def as_dict(self) -> dict[str, object]:
        r = self.rule
        return {
            "index": self.index,
            "name": r.name,
            "when": r.when.describe(),
            "matched": self.why,
            "dose": r.dose.text if r.dose is not None else None,
            "percent": r.percent,
            "source": r.source,
        }


def select(order: DrugOrder, patient: Any) -> RuleUse | None:
    """The first rule of ``order`` that holds for ``patient``, or None.

    A rule whose known conditions all hold but which needs a value the patient does not have
    (no age given) is refused, naming the option: skipping it could give an infant an adult's
    dose, and guessing is worse.
    """
    values = {"bsa": patient.bsa_m2, "weight": patient.weight_kg, "age": patient.age_years}
    for index, rule in enumerate(order.rules, 1):
        held, missing, why = _test(rule.when, values)
        if not held:
            continue
        if missing:
            option, example = _OPTIONS[missing[0]]
            needed = " and ".join(
                dict.fromkeys("the " + m if m != "bsa" else "the BSA" for m in missing)
            )
            raise fail(
                option.split(",")[0] if missing[0] != "bsa" else "--height/--weight",
                f"{order.drug} has a dosing rule for patients with {rule.when.describe()} (rule "
                f"{index}: {rule.action()}; source: {rule.source}); {needed} is needed to know "
                f"whether it applies to this patient: give {option} (e.g. {example})",
            )
        return RuleUse(index, rule, why)
    return None


def _test(when: RuleWhen, values: dict[str, float | None]) -> tuple[bool, list[str], str]:
    """(every known condition holds, the dimensions without a value, why it matched)."""
    missing: list[str] = []
    why: list[str] = []
    checks = (
        ("bsa", when.bsa_below, False, "BSA {v:.4f} m² is below {t}"),
        ("weight", when.weight_below, False, "weight {v:g} kg is below {t}"),
        ("age", when.age_at_least, True, "age {v:g} y is at least {t}"),
        ("age", when.age_below, False, "age {v:g} y is below {t}"),
    )
    for dim, limit, at_least, words in checks:
        if limit is None:
            continue
        value = values[dim]
        if value is None:
            if dim not in missing:
                missing.append(dim)
            continue
        holds = value >= limit.value if at_least else value < limit.value
        if not holds:
            return False, [], ""
        shown = limit.text if not limit.text.endswith(" years") else f"{limit.value:g} y"
        why.append(words.format(v=value, t=shown))
    return True, missing, "; ".join(why)


def effective(order: DrugOrder, patient: Any) -> DoseSpec:
    """The dose spec this patient's dose is calculated from: a matching rule's dose, or the
    order's own (per day)."""
    use = select(order, patient)
    if use is not None and use.rule.dose is not None:
        return use.rule.dose
    return order.per_day
