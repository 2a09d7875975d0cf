"""Renal function for carboplatin: the GFR that goes into Calvert, and how it was obtained.

Calvert AH et al. J Clin Oncol 1989;7:1748-56: dose (mg) = target AUC × (GFR + 25).
The GFR is a clearance in mL/min: given with ``--gfr`` (used as given, CONTRACT §1), or
estimated by Cockcroft–Gault (Nephron 1976;16:31-41) from age, sex, weight and serum
creatinine, under the policy's weight choice, creatinine floor and GFR cap (FDA 2010 / NCCN).
"""

from __future__ import annotations

from dataclasses import dataclass

from dosecalc.errors import fail
from dosecalc.numbers import fmt
from dosecalc.patient import Patient, adjusted_weight, devine_ibw
from dosecalc.policy import Policy


@dataclass(frozen=True)
class Renal:
    gfr_ml_min: float  # the value used in Calvert
    source: str  # "given" | "cockcroft-gault"
    uncapped_ml_min: float | None  # the estimate before the cap, when the cap lowered it
    trace: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def cockcroft_gault(age_years: float, weight_kg: float, scr_mg_dl: float, sex: str) -> float:
    """CrCl (mL/min) = (140 − age) × weight / (72 × SCr), × 0.85 for women."""
    crcl = (140.0 - age_years) * weight_kg / (72.0 * scr_mg_dl)
    return crcl * 0.85 if sex == "female" else crcl


def for_calvert(patient: Patient, policy: Policy) -> Renal:
    """The GFR for Calvert, or an error that says what is missing."""
    cap = policy["carboplatin.gfr_cap_ml_min"]
    cap_why = policy.describe("carboplatin.gfr_cap_ml_min")
    if patient.gfr_ml_min is not None:
        gfr = patient.gfr_ml_min
        trace = [f"GFR {fmt(gfr)} mL/min as given (--gfr)"]
        warnings: list[str] = []
        if cap is not None and gfr > cap:
            if policy["carboplatin.cap_given_gfr"]:
                trace.append(f"capped at {fmt(cap)} mL/min ({cap_why})")
                return Renal(cap, "given", gfr, tuple(trace))
            warnings.append(
                f"--gfr {fmt(gfr)} mL/min is above the {fmt(cap)} mL/min cap and was used as "
                "given (a measured clearance needs no cap); if it is an estimate, FDA/NCCN cap "
                f"it at {fmt(cap)} (--set carboplatin.cap_given_gfr=true)"
            )
        return Renal(gfr, "given", None, tuple(trace), tuple(warnings))
    missing = [
        n
        for n, v in (
            ("--scr", patient.scr_mg_dl),
            ("--age", patient.age_years),
            ("--sex", patient.sex),
            ("--weight", patient.weight_kg),
        )
        if v is None
    ]
    if missing:
        raise fail(
            missing[0],
            "carboplatin is dosed by AUC (Calvert), which needs the GFR: "
            "give --gfr, or --scr with --age, --sex and --weight for Cockcroft-Gault "
            f"(missing: {', '.join(missing)})",
        )
    assert patient.scr_mg_dl is not None and patient.age_years is not None
    assert patient.sex is not None and patient.weight_kg is not None
    trace = []
    scr = patient.scr_mg_dl
    floor = policy["carboplatin.scr_floor_mg_dl"]
    if floor is not None and scr < floor:
        trace.append(
            f"SCr {fmt(scr)} mg/dL raised to {fmt(floor)} "
            f"({policy.describe('carboplatin.scr_floor_mg_dl')})"
        )
        scr = floor
    weight, which = _cg_weight(patient, policy)
    crcl = cockcroft_gault(patient.age_years, weight, scr, patient.sex)
    trace.append(
        f"Cockcroft-Gault: (140 − {fmt(patient.age_years)} y) × {fmt(weight)} kg ({which}) / "
        f"(72 × SCr {fmt(scr)} mg/dL){' × 0.85 (female)' if patient.sex == 'female' else ''}"
        f" = {fmt(crcl)} mL/min"
    )
    if cap is not None and crcl > cap:
        trace.append(f"capped at {fmt(cap)} mL/min ({cap_why})")
        return Renal(cap, "cockcroft-gault", crcl, tuple(trace))
    return Renal(crcl, "cockcroft-gault", None, tuple(trace))


def _cg_weight(patient: Patient, policy: Policy) -> tuple[float, str]:
    rule = policy["carboplatin.cockcroft_gault_weight"]
    actual = patient.weight_kg
    assert actual is not None
    if rule == "actual":
        return actual, "actual weight"
    if patient.height_cm is None or patient.sex is None:
        raise fail(
            "--height",
            f"Cockcroft-Gault with {rule} body weight (policy "
            "carboplatin.cockcroft_gault_weight) needs --height and --sex",
        )
    ideal = devine_ibw(patient.height_cm, patient.sex)
    if rule == "ideal":
        return ideal, "ideal weight, Devine"
    bmi = actual / (patient.height_cm / 100) ** 2
    if rule == "adjusted-if-bmi-25" and bmi < 25:
        return actual, f"actual weight, BMI {bmi:.1f} < 25"
    if actual <= ideal:
        return actual, "actual weight, not above ideal"
    return adjusted_weight(actual, ideal), f"adjusted weight, BMI {bmi:.1f}"
