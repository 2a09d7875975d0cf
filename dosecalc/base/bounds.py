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
