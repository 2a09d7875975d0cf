"""The patient's measurements, parsed, checked for plausibility and turned into a BSA.

Implausible values are refused, never clamped: a height of 1.75 given as a bare number means
1.75 cm, which no patient is, so the user is told to write ``1.75m``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dosecalc.bsa import DEFAULT_FORMULA, FORMULAS
from dosecalc.errors import fail
from dosecalc.units import measure

# Plausibility bounds for input checking (not dosing limits). Wide enough for a preterm
# neonate and for the tallest and heaviest patients on record, narrow enough to catch unit
# slips (metres or inches typed as bare numbers, pounds as kg, grams as kg).
HEIGHT_CM = (30.0, 260.0)
WEIGHT_KG = (0.5, 400.0)
BSA_M2 = (0.05, 4.0)
BMI = (5.0, 120.0)  # kg/m²: catches a height and a weight that cannot belong to one person
AGE_YEARS = (0.0, 120.0)
SEXES = {"male": "male", "m": "male", "female": "female", "f": "female"}


@dataclass(frozen=True)
class Patient:
    height_cm: float | None
    weight_kg: float | None
    bsa_m2: float | None  # None only where no BSA was needed (e.g. check without measurements)
    bsa_formula: str  # a formula name, or "given" when --bsa was used
    sex: str | None = None
    age_years: float | None = None
    calculated_bsa_m2: float | None = None  # from height/weight, when --bsa was also given

    def as_dict(self) -> dict[str, object]:
        return {
            "height_cm": self.height_cm,
            "weight_kg": self.weight_kg,
            "bsa_m2": self.bsa_m2,
            "bsa_formula": self.bsa_formula,
            "sex": self.sex,
            "age_years": self.age_years,
        }


def _in_range(
    value: float, bounds: tuple[float, float], field: str, what: str, unit: str, hint: str
) -> float:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise fail(
            field,
            f"{value:g} {unit} is not a plausible {what}; give a {what} between "
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


def parse_sex(text: str) -> str:
    sex = SEXES.get(text.strip().lower())
    if sex is None:
        raise fail("--sex", f"'{text}' is not a sex dosecalc uses; give male or female")
    return sex


def bsa_formula(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key not in FORMULAS:
        raise fail("--formula", f"'{name}' is not a BSA formula; give one of {', '.join(FORMULAS)}")
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
            f"{height_cm:g} cm with {weight_kg:g} kg gives a BMI of {bmi:.0f} kg/m², which is not "
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
    require_bsa: bool = True,
) -> Patient:
    """Parse and check a patient's measurements; compute the BSA unless it was given."""
    h = parse_height(height) if height is not None else None
    w = parse_weight(weight) if weight is not None else None
    s = parse_sex(sex) if sex is not None else None
    a = parse_age(age) if age is not None else None
    if h is not None and w is not None:
        check_bmi(h, w)
    if bsa is not None and formula is not None:
        raise fail(
            "--bsa/--formula",
            "both a BSA and a BSA formula were given, so it is unclear which to use; give --bsa "
            "to use a measured or prescribed BSA, or --formula to calculate it, not both",
        )
    name = bsa_formula(formula) if formula is not None else DEFAULT_FORMULA
    calculated = calculate_bsa(h, w, name, s) if h is not None and w is not None else None
    if bsa is not None:
        value = parse_bsa(bsa)
        return Patient(h, w, value, "given", s, a, calculated_bsa_m2=calculated)
    if calculated is None:
        if require_bsa:
            missing = " and ".join(o for o, v in (("--height", h), ("--weight", w)) if v is None)
            raise fail(
                missing,
                f"{missing} {'is' if ' and ' not in missing else 'are'} needed to "
                "calculate the BSA; give --height and --weight, or a measured --bsa",
            )
        return Patient(h, w, None, name, s, a)
    _in_range(
        calculated,
        BSA_M2,
        "--height/--weight",
        "BSA",
        "m²",
        f" ({name} gives {calculated:.2f} m² for {h:g} cm and {w:g} kg)",
    )
    return Patient(h, w, calculated, name, s, a)
