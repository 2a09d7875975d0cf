"""The dose engine: protocol dose → patient's basis → cap, every step written into a trace.

Pure functions of plain values: a drug order and a patient in, a :class:`Dose` out.
"""

from __future__ import annotations

from dataclasses import dataclass

from dosecalc.errors import fail
from dosecalc.numbers import fmt
from dosecalc.patient import Patient
from dosecalc.regimen import DoseSpec, DrugOrder


@dataclass(frozen=True)
class Dose:
    """The dose of one drug order for one patient on one administration day."""

    drug: str
    route: str
    basis: str  # "bsa" | "weight" | "flat" | "auc"
    protocol: DoseSpec  # the protocol dose per administration day
    calculated: float  # before the cap, in ``unit``
    dose: float  # to give, in ``unit``
    unit: str  # "mg" or "units"
    capped: bool
    trace: tuple[str, ...]

    @property
    def protocol_text(self) -> str:
        return self.protocol.describe()


def calculate(order: DrugOrder, patient: Patient) -> Dose:
    """The dose of ``order`` for ``patient`` on one of its days."""
    spec = order.per_day
    trace: list[str] = []
    if order.total_dose is not None:
        trace.append(
            f"protocol: total {order.total_dose.describe()} per cycle divided over "
            f"{len(order.days)} days = {spec.describe()} per day"
        )
    else:
        trace.append(f"protocol: {spec.describe()} on each listed day")
    if spec.basis == "bsa":
        if patient.bsa_m2 is None:
            raise fail(
                "--height/--weight",
                f"{order.drug} is dosed per m², so the BSA is needed; "
                "give --height and --weight, or --bsa",
            )
        calculated = spec.amount * patient.bsa_m2
        how = "given" if patient.bsa_formula == "given" else patient.bsa_formula
        trace.append(f"× BSA {patient.bsa_m2:.4f} m² ({how}) = {fmt(calculated)} {spec.unit}")
    elif spec.basis == "weight":
        if patient.weight_kg is None:
            raise fail("--weight", f"{order.drug} is dosed per kg, so --weight is needed")
        calculated = spec.amount * patient.weight_kg
        trace.append(
            f"× weight {fmt(patient.weight_kg)} kg (actual) = {fmt(calculated)} {spec.unit}"
        )
    elif spec.basis == "flat":
        calculated = spec.amount
        trace.append(f"flat dose = {fmt(calculated)} {spec.unit}")
    else:
        raise fail(
            "dose",
            f"{order.drug} '{spec.text}' is dosed by AUC (Calvert), which this version of "
            "dosecalc does not calculate yet; give the dose in mg",
        )
    dose = calculated
    capped = False
    if order.max_dose is not None and calculated > order.max_dose.amount:
        dose = order.max_dose.amount
        capped = True
        trace.append(
            f"capped at max_dose {order.max_dose.describe()} (calculated {fmt(calculated)} "
            f"{spec.unit})"
        )
    trace.append(f"dose: {fmt(dose)} {spec.unit}")
    return Dose(
        drug=order.drug,
        route=order.default_route,
        basis=spec.basis,
        protocol=spec,
        calculated=calculated,
        dose=dose,
        unit=spec.unit,
        capped=capped,
        trace=tuple(trace),
    )
