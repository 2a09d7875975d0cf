"""The plausible range of each measurement a person types: one place for each bound.

These are input checks, not dosing limits: wide enough for a preterm neonate and for the
tallest and heaviest patients on record, narrow enough to catch unit slips (metres or inches
typed as bare numbers, pounds as kg, grams as kg, µmol/L as mg/dL). A value outside is refused
with the range, never clamped.
"""

HEIGHT_CM = (30.0, 260.0)
WEIGHT_KG = (0.5, 400.0)
BSA_M2 = (0.05, 4.0)
BMI = (5.0, 120.0)  # kg/m²: catches a height and a weight that cannot belong to one person
AGE_YEARS = (0.0, 120.0)
SCR_MG_DL = (0.1, 25.0)
BUN_MG_DL = (1.0, 300.0)  # blood urea nitrogen: uraemia rarely exceeds 200 mg/dL
GFR_ML_MIN = (1.0, 250.0)

# One administration, in mg or units (per m², per kg or flat, as written): below a microgram or
# above 100 g is no dose any protocol gives; it is a unit or decimal slip. The same bound in every
# reader (regimens, orders, histories, the ledger, the engine of many patients).
DOSE = (0.001, 100_000.0)
# A lifetime amount given elsewhere (--prior): zero says there was none; above 10 kg is a slip.
PRIOR = (0.0, 10_000_000.0)


def dose_problem(amount: float, unit: str) -> str | None:
    """What is wrong with ``amount`` (in ``unit``) as one administration's dose, or None."""
    import math

    low, high = DOSE
    if not math.isfinite(amount) or amount <= 0:
        return "is not above zero"
    if amount < low:
        return f"is below {low:g} {unit}: no protocol gives so little; check the unit"
    if amount > high:
        return f"is above {high:,.0f} {unit}: not a plausible single dose; check the unit"
    return None
