"""``dosecalc bsa``: body-surface area by one formula, or by all of them side by side."""

from __future__ import annotations

from typing import Any


def run(height: str, weight: str, formula: str, sex: str | None) -> dict[str, Any]:
    """The BSA by ``formula`` (or ``all``), with each formula's citation."""
    from dosecalc.clinical import patient as pt
    from dosecalc.clinical.bsa import FORMULAS

    h, w = pt.parse_height(height), pt.parse_weight(weight)
    pt.check_bmi(h, w)
    s = pt.parse_sex(sex) if sex is not None else None
    if formula.strip().lower() != "all":
        name = pt.bsa_formula(formula)
        return {
            "height_cm": h,
            "weight_kg": w,
            "formula": name,
            "bsa_m2": pt.calculate_bsa(h, w, name, s),
            "citation": FORMULAS[name].citation,
        }
    results: list[dict[str, object]] = []
    for name, f in FORMULAS.items():
        if f.needs_sex and s is None:
            results.append(
                {
                    "formula": name,
                    "bsa_m2": None,
                    "note": "needs --sex male or --sex female",
                    "citation": f.citation,
                }
            )
        else:
            results.append({"formula": name, "bsa_m2": f(h, w, s), "citation": f.citation})
    return {"height_cm": h, "weight_kg": w, "sex": s, "results": results}
