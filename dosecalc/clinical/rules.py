"""Patient-dependent dosing rules of a regimen's drug (children, infants): which applies, and
whether a file's rules make sense.

A rule's ``when`` is a box in (BSA, weight, age): ``bsa_below`` and ``weight_below`` are upper
bounds (strict), ``age_at_least`` and ``age_below`` a half-open interval of years. The first
rule whose box holds the patient applies. :func:`problems` reports, with file:line, a rule that
can never match (an empty box) and a rule that is dead because the earlier rules together
already hold every patient it would (its box lies inside their union), and a rule dose the drug
cannot take. :func:`select` picks the rule for one patient and never guesses: when a rule could
apply but needs a value the user did not give (the age), it refuses and names the option.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from dosecalc.base.errors import Problem, fail
from dosecalc.data.regimen import DoseSpec, DrugOrder, Regimen, Rule, RuleWhen

INF = math.inf
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


def _box(when: RuleWhen) -> tuple[tuple[float, float], ...]:
    """(bsa, weight, age) intervals [low, high) of the patients the condition holds for."""
    return (
        (0.0, when.bsa_below.value if when.bsa_below else INF),
        (0.0, when.weight_below.value if when.weight_below else INF),
        (
            when.age_at_least.value if when.age_at_least else 0.0,
            when.age_below.value if when.age_below else INF,
        ),
    )


def _empty(box: tuple[tuple[float, float], ...]) -> bool:
    return any(low >= high for low, high in box)


def _inside(inner: tuple[tuple[float, float], ...], outer: tuple[tuple[float, float], ...]) -> bool:
    return all(o[0] <= i[0] and i[1] <= o[1] for i, o in zip(inner, outer, strict=True))


def covered_by(rule: int, boxes: list[tuple[tuple[float, float], ...]]) -> list[int]:
    """The earlier rules (0-based) that together hold every patient rule ``rule`` would; empty
    when some patient reaches it. Exact: the space is cut at every bound of every rule into
    cells, and a cell of the rule's box must lie inside one earlier box."""
    mine = boxes[rule]
    earlier = [(i, b) for i, b in enumerate(boxes[:rule]) if not _empty(b)]
    if not earlier:
        return []
    cuts = [sorted({x for b in boxes for x in b[d]} | {0.0, INF}) for d in range(3)]
    cells_per_dim = [
        [
            (lo, hi)
            for lo, hi in itertools.pairwise(cuts[d])
            if mine[d][0] <= lo and hi <= mine[d][1]
        ]
        for d in range(3)
    ]
    used: set[int] = set()
    for cell in itertools.product(*cells_per_dim):
        holder = next((i for i, b in earlier if _inside(cell, b)), None)
        if holder is None:
            return []
        used.add(holder)
    return sorted(used)


def problems(regimen: Regimen, lines: dict[Any, int], source: str) -> list[Problem]:
    """Every problem of the regimen's rules, with file:line (empty when they are sound)."""
    from dosecalc.data import drugs
    from dosecalc.data.yamlfile import key_path, line_of

    out: list[Problem] = []

    def report(loc: tuple[Any, ...], message: str) -> None:
        out.append(Problem(message, field=key_path(loc), file=source, line=line_of(lines, loc)))

    for i, order in enumerate(regimen.drugs):
        drug = drugs.lookup(order.drug)
        boxes = [_box(r.when) for r in order.rules]
        for j, rule in enumerate(order.rules):
            loc = ("drugs", i, "rules", j)
            if rule.dose is not None:
                message = _dose_problem(order, rule.dose, drug.dose_unit)
                if message:
                    report((*loc, "dose"), message)
            if _empty(boxes[j]):
                report(
                    (*loc, "when"),
                    f"rule {j + 1} can never match: no patient is {rule.when.describe()}",
                )
                continue
            cover = covered_by(j, boxes)
            if cover:
                names = " and ".join(
                    f"rule {k + 1} ({order.rules[k].when.describe()})" for k in cover
                )
                report(
                    (*loc, "when"),
                    f"rule {j + 1} ({rule.when.describe()}) can never apply: {names} "
                    f"{'already matches' if len(cover) == 1 else 'already match'} every patient "
                    "it would, and the first rule that matches wins; put the narrower rule first",
                )
    return out


def _dose_problem(order: DrugOrder, spec: DoseSpec, dose_unit: str) -> str | None:
    if spec.basis == "auc":
        if order.drug != "carboplatin":
            return f"an AUC dose is only valid for carboplatin, not {order.drug}"
        return None
    if spec.unit != dose_unit:
        return (
            f"{order.drug} is dosed in {dose_unit}, but the rule's dose '{spec.text}' is in "
            f"{spec.unit}"
        )
    return None


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
