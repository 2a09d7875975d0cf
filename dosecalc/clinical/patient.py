"""The patient's measurements, parsed, checked for plausibility and turned into a BSA.

Implausible values are refused, never clamped: a height of 1.75 given as a bare number means
1.75 cm, which no patient is, so the user is told to write ``1.75m``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from dosecalc.base.bounds import AGE_YEARS, BMI, BSA_M2, GFR_ML_MIN, HEIGHT_CM, SCR_MG_DL, WEIGHT_KG
from dosecalc.base.errors import fail
from dosecalc.base.numbers import article
from dosecalc.base.units import is_bare, measure
from dosecalc.clinical.bsa import DEFAULT_FORMULA, FORMULAS
from dosecalc.data.labs import CREATININE_G_PER_MOL

if TYPE_CHECKING:  # pragma: no cover
    from dosecalc.clinical.policy import Policy

SEXES = {"male": "male", "m": "male", "female": "female", "f": "female"}


@dataclass(frozen=True)
class Patient:
    height_cm: float | None
    weight_kg: float | None  # actual body weight
    bsa_m2: float | None  # the BSA doses use; None only where none was needed (check)
    bsa_formula: str  # a formula name, or "given" when --bsa was used
    sex: str | None = None
    age_years: float | None = None
    calculated_bsa_m2: float | None = None  # from height/weight, when --bsa was also given
    dosing_weight_kg: float | None = None  # the weight BSA and per-kg doses use
    weight_basis: str = "actual"  # actual | ideal | adjusted (policy weight.dosing_weight)
    ideal_weight_kg: float | None = None  # Devine, when height and sex are known
    bsa_uncapped_m2: float | None = None  # set when policy bsa.cap_m2 lowered the BSA
    scr_mg_dl: float | None = None
    gfr_ml_min: float | None = None  # given with --gfr
    gfr_measured: bool = False  # --gfr-measured: the --gfr value was measured, not estimated
    previous_weight_kg: float | None = None
    height_bare: bool = False  # the height was a bare number, read as cm
    weight_bare: bool = False  # the weight was a bare number, read as kg
    born: date | None = None  # --birth-date: the age on each cycle's day 1 is exact from it

    def as_dict(self) -> dict[str, object]:
        return {
            "height_cm": self.height_cm,
            "weight_kg": self.weight_kg,
            "bsa_m2": self.bsa_m2,
            "bsa_formula": self.bsa_formula,
            "sex": self.sex,
            "age_years": self.age_years,
            "dosing_weight_kg": self.dosing_weight_kg,
            "weight_basis": self.weight_basis,
            "ideal_weight_kg": self.ideal_weight_kg,
            "bsa_uncapped_m2": self.bsa_uncapped_m2,
            "scr_mg_dl": self.scr_mg_dl,
            "gfr_ml_min": self.gfr_ml_min,
            "gfr_measured": self.gfr_measured if self.gfr_ml_min is not None else None,
        }


DEVINE_FROM_CM = 60 * 2.54  # Devine's ideal weight is defined from 60 in (5 ft) up


def devine_ibw(height_cm: float, sex: str) -> float:
    """Devine BJ. Drug Intell Clin Pharm 1974;8:650-5: men 50 kg, women 45.5 kg, + 2.3 kg per
    inch over 60 in (not validated below 60 in: :data:`DEVINE_FROM_CM`)."""
    return (50.0 if sex == "male" else 45.5) + 2.3 * (height_cm / 2.54 - 60.0)


def adjusted_weight(actual: float, ideal: float) -> float:
    """IBW + 0.4 × (actual − IBW) (NCCN carboplatin template; globalrph)."""
    return ideal + 0.4 * (actual - ideal)


def _in_range(
    value: float, bounds: tuple[float, float], field: str, what: str, unit: str, hint: str
) -> float:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise fail(
            field,
            f"{value:g} {unit} is not a plausible {what}; give {article(what)} between "
            f"{lo:g} and {hi:g} {unit}{hint}",
        )
    return value


def parse_height(text: str | float) -> float:
    cm = measure(text, "--height", "cm", bare="cm", examples="175cm, 1.75m, 69in or 5ft9in")
    return _in_range(
        cm,
        HEIGHT_CM,
        "--height",
        "height",
        "cm",
        " (a bare number means cm: write 1.75m for metres, 69in for inches)",
    )


def parse_weight(text: str | float) -> float:
    kg = measure(text, "--weight", "kg", bare="kg", examples="70kg or 154lb")
    return _in_range(
        kg,
        WEIGHT_KG,
        "--weight",
        "weight",
        "kg",
        " (a bare number means kg: write 154lb for pounds)",
    )


def parse_bsa(text: str | float) -> float:
    m2 = measure(text, "--bsa", "m**2", bare="m**2", examples="1.8 or 1.8m2")
    return _in_range(m2, BSA_M2, "--bsa", "BSA", "m²", "")


def parse_age(text: str | float) -> float:
    years = measure(text, "--age", "year", bare="year", examples="29, 29y or 18months")
    return _in_range(years, AGE_YEARS, "--age", "age", "years", "")


def parse_chest_rt(text: str | float) -> float:
    gy = measure(text, "--chest-rt", "Gy", bare="Gy", examples="20Gy or 2000cGy")
    return _in_range(gy, (0.0, 100.0), "--chest-rt", "cardiac-region radiation dose", "Gy", "")


def parse_scr(text: str | float) -> float:
    """Serum creatinine in mg/dL (``0.9mg/dL``) or µmol/L (``80umol/L``) → mg/dL."""
    examples = "0.9mg/dL or 80umol/L"
    if isinstance(text, str) and "mol" in text:
        umol = measure(text, "--scr", "umol/L", bare=None, examples=examples)
        value = umol * CREATININE_G_PER_MOL / 10_000.0
    else:
        value = measure(text, "--scr", "mg/dL", bare=None, examples=examples)
    return _in_range(value, SCR_MG_DL, "--scr", "serum creatinine", "mg/dL", "")


def parse_gfr(text: str | float) -> float:
    if isinstance(text, str) and "1.73" in text:
        raise fail(
            "--gfr",
            f"'{text}' is normalised to 1.73 m²; Calvert needs the patient's own "
            "clearance in mL/min (eGFR × BSA / 1.73): give it as e.g. 90mL/min",
        )
    value = measure(text, "--gfr", "mL/min", bare=None, examples="90mL/min")
    return _in_range(value, GFR_ML_MIN, "--gfr", "GFR", "mL/min", "")


def parse_sex(text: str) -> str:
    sex = SEXES.get(text.strip().lower())
    if sex is None:
        raise fail("--sex", f"'{text}' is not a sex dosecalc uses; give male or female")
    return sex


def bsa_formula(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key not in FORMULAS:
        from dosecalc.base.errors import did_you_mean

        raise fail(
            "--formula",
            f"'{name}' is not a BSA formula{did_you_mean(key, tuple(FORMULAS))}; give one of "
            f"{', '.join(FORMULAS)}",
        )
    return key


def calculate_bsa(height_cm: float, weight_kg: float, formula: str, sex: str | None) -> float:
    """BSA by a named formula, with the inputs already checked."""
    try:
        bsa = FORMULAS[formula](height_cm, weight_kg, sex)
    except ValueError as e:
        raise fail("--sex", str(e)) from None
    return bsa


def check_bmi(height_cm: float, weight_kg: float) -> None:
    bmi = weight_kg / (height_cm / 100.0) ** 2
    lo, hi = BMI
    if not lo <= bmi <= hi:
        raise fail(
            "--height/--weight",
            f"{height_cm:g} cm with {weight_kg:g} kg gives a BMI of {bmi:.1f} kg/m², which is not "
            f"plausible (valid {lo:g}-{hi:g}); check the units: a bare number means cm for height "
            "and kg for weight",
        )


def build_patient(
    height: str | float | None = None,
    weight: str | float | None = None,
    bsa: str | float | None = None,
    formula: str | None = None,
    sex: str | None = None,
    age: str | float | None = None,
    *,
    scr: str | float | None = None,
    gfr: str | float | None = None,
    previous_weight: str | float | None = None,
    policy: Policy | None = None,
    require_bsa: bool = True,
    gfr_measured: bool = False,
) -> Patient:
    """Parse and check a patient's measurements; compute the BSA unless it was given.

    The policy decides the default formula, the dosing weight (actual, ideal or adjusted) the
    BSA is calculated from, and an optional BSA cap.
    """
    h = parse_height(height) if height is not None else None
    w = parse_weight(weight) if weight is not None else None
    s = parse_sex(sex) if sex is not None else None
    a = parse_age(age) if age is not None else None
    extra = {
        "scr_mg_dl": parse_scr(scr) if scr is not None else None,
        "gfr_ml_min": parse_gfr(gfr) if gfr is not None else None,
        "gfr_measured": gfr_measured,
        "previous_weight_kg": (
            parse_weight(previous_weight) if previous_weight is not None else None
        ),
    }
    if gfr_measured and gfr is None:
        raise fail("--gfr-measured", "says the --gfr value was measured: give --gfr too")
    if h is not None and w is not None:
        check_bmi(h, w)
    if bsa is not None and formula is not None:
        raise fail(
            "--bsa/--formula",
            "both a BSA and a BSA formula were given, so it is unclear which to use; give --bsa "
            "to use a measured or prescribed BSA, or --formula to calculate it, not both",
        )
    values = policy.values if policy is not None else {}
    basis = values.get("weight.dosing_weight", "actual")
    # Devine's formula is defined from 60 in up: below it there is no ideal weight (at 100 cm it
    # is negative), never an extrapolated one
    devine = h is not None and s is not None and h >= DEVINE_FROM_CM
    ideal = devine_ibw(h, s) if devine and h is not None and s is not None else None
    dosing = w
    if w is not None and basis != "actual":
        actual = "dose by actual weight (weight.dosing_weight = actual)"
        if h is None or s is None:
            raise fail(
                "--sex" if s is None else "--height",
                f"the policy's dosing weight is {basis} body weight (Devine), which needs "
                "--height and --sex",
            )
        if h < DEVINE_FROM_CM:
            raise fail(
                "--height",
                f"the policy's dosing weight is {basis} body weight (weight.dosing_weight), "
                f"from Devine's ideal weight, which is defined from 60 in (152.4 cm) up and not "
                f"for a height of {h:g} cm: {actual}",
            )
        child = values.get("weight.child_below_age_years", 18.0)
        if a is not None and a < child:
            raise fail(
                "--age",
                f"the policy's dosing weight is {basis} body weight (weight.dosing_weight), "
                f"from Devine's ideal weight, which dosecalc does not apply to a child, and the "
                f"patient is {a:g} years old (younger than weight.child_below_age_years = "
                f"{child:g}): {actual}",
            )
        assert ideal is not None
        dosing = ideal if basis == "ideal" else adjusted_weight(w, ideal)
    default = values.get("bsa.formula", DEFAULT_FORMULA)
    name = bsa_formula(formula) if formula is not None else default
    calculated = calculate_bsa(h, dosing, name, s) if h is not None and dosing is not None else None
    common = dict(
        height_bare=height is not None and is_bare(height),
        weight_bare=weight is not None and is_bare(weight),
        sex=s,
        age_years=a,
        dosing_weight_kg=dosing,
        weight_basis=basis,
        ideal_weight_kg=ideal,
        **extra,
    )
    if bsa is not None:
        value = parse_bsa(bsa)
        return Patient(h, w, value, "given", calculated_bsa_m2=calculated, **common)
    if calculated is None:
        if require_bsa:
            missing = " and ".join(o for o, v in (("--height", h), ("--weight", w)) if v is None)
            raise fail(
                None,  # the sentence names the options itself
                f"{missing} {'is' if ' and ' not in missing else 'are'} needed to calculate the "
                "BSA; give --height and --weight, or a measured --bsa",
            )
        return Patient(h, w, None, name, **common)
    _in_range(
        calculated,
        BSA_M2,
        "--height/--weight",
        "BSA",
        "m²",
        f" ({name} gives {calculated:.2f} m² for {h:g} cm and {dosing:g} kg)",
    )
    cap = values.get("bsa.cap_m2")
    if cap is not None and calculated > cap:
        return Patient(h, w, cap, name, bsa_uncapped_m2=calculated, **common)
    return Patient(h, w, calculated, name, **common)
