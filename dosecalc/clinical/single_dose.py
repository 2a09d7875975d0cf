"""The single-dose guard: a dose given against the drug's usual maximum single
dose, the ``max_single_dose`` of the drug data (the same figure a plan warns against).

A dose above that maximum may be real (a high-dose protocol) and needs an explicit word before
it is recorded; a dose at ten times the maximum or more is a unit or decimal slip and is never
taken. A recorded dose does not always say enough to compare exactly (72 mg with no BSA, for a
maximum per m²): then the comparison is made with the patient the dose is *smallest* for (the
largest plausible BSA or weight), so the guard never stops a dose that could be right.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dosecalc.base.numbers import fmt
from dosecalc.clinical.patient import BSA_M2, WEIGHT_KG

TEN_FOLD = 10.0  # at ten times the usual maximum or more: a unit slip, refused


@dataclass(frozen=True)
class Excess:
    """A dose above its drug's usual maximum single dose."""

    ratio: float  # the dose over the maximum (at least this much, where it is not exact)
    text: str  # "epirubicin 200 mg/m2 is above the usual maximum single dose of 150 mg/m2 …"

    @property
    def slip(self) -> bool:
        """At ten times the maximum or more: a unit or decimal slip, never a real dose."""
        return self.ratio >= TEN_FOLD


@lru_cache(maxsize=512)
def _guard(drug: str) -> tuple[Any, Any] | None:
    from dosecalc.data import drugs
    from dosecalc.data.regimen import parse_dose

    guard = drugs.book().drugs[drug].max_single_dose
    if guard is None:
        return None
    return guard, parse_dose(guard.dose)


def guarded(drug: str) -> bool:
    """Whether ``drug`` has a usual maximum single dose to compare with."""
    return _guard(drug) is not None


def spec(drug: str) -> tuple[str, float, str] | None:
    """The basis (bsa, flat, weight), amount and unit of ``drug``'s usual maximum single dose."""
    found = _guard(drug)
    if found is None:
        return None
    return found[1].basis, found[1].amount, found[1].unit


def _written(bsa_m2: float) -> float:
    """Half the last place a BSA is written to, at most 0.005 m² (1.84: 0.005; 1.8447: 0.00005):
    how far the BSA a dose was made with may lie from it."""
    text = repr(float(bsa_m2))
    places = len(text.partition(".")[2]) if "e" not in text else 0
    return min(0.5 * 10.0**-places, 0.005)


def excess(
    drug: str, amount: float, unit: str, per_m2: bool, bsa_m2: float | None, given: str
) -> Excess | None:
    """How far a dose of ``amount`` ``unit`` (mg or units; per m² or not, with the BSA that
    day if known) is above ``drug``'s usual maximum single dose; None if it is not (or the
    drug has no such figure). ``given`` is the dose as written, for the message."""
    found = _guard(drug)
    if found is None:
        return None
    guard, spec = found
    if spec.unit != unit:
        return None
    bsa_low, bsa_high = BSA_M2
    assumed = ""
    half = _written(bsa_m2) if bsa_m2 else 0.0
    if spec.basis == "bsa":
        if per_m2:
            value = amount
        elif bsa_m2:
            # a BSA written to 0.01 m² is within 0.005 of the one the dose was made with
            # (221.4 mg, 120 mg/m² x 1.8447 m², is 120.3 mg/m² at 1.84 m²: not above 120)
            value = amount / (bsa_m2 + half)
            assumed = f" ({fmt(amount / bsa_m2)} {unit}/m² at its BSA of {fmt(bsa_m2)} m²)"
        else:
            value = amount / bsa_high
            assumed = f" even at the largest plausible BSA of {fmt(bsa_high)} m²"
    elif spec.basis == "flat":
        if not per_m2:
            value = amount
        elif bsa_m2:
            value = amount * (bsa_m2 - half)
        else:
            value = amount * bsa_low
            assumed = f" even at the smallest plausible BSA of {fmt(bsa_low)} m²"
    elif spec.basis == "weight":
        heaviest = WEIGHT_KG[1]
        value = (amount * (bsa_m2 or bsa_low) if per_m2 else amount) / heaviest
        assumed = f" even at the highest plausible weight of {fmt(heaviest)} kg"
    else:
        return None
    ratio = value / spec.amount
    if ratio <= 1 + 1e-9:
        return None
    verified = "" if guard.verified else ", unverified"
    if ratio >= TEN_FOLD:
        size = f"{fmt(ratio) if ratio < 1000 else 'over 1,000'} times"
    else:
        size = "above"
    return Excess(
        ratio,
        f"{drug} {given} is {size} the usual maximum single dose of {guard.dose}{assumed} "
        f"({guard.source}{verified})",
    )
