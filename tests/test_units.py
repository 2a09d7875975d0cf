"""Quantities typed by people: clinical notations accepted, anything ambiguous refused."""

from __future__ import annotations

import pytest

from dosecalc.base.errors import InputError
from dosecalc.base.units import measure
from dosecalc.clinical.patient import parse_height, parse_weight
from dosecalc.data.regimen import parse_dose


@pytest.mark.parametrize(
    ("text", "cm"),
    [
        ("175cm", 175),
        ("175 cm", 175),
        ("1.75m", 175),
        ("69in", 175.26),
        ("5ft9in", 175.26),
        ("5 ft 9 in", 175.26),
        ("5'9\"", 175.26),
        ("175", 175),
        ("1750mm", 175),
    ],
)
def test_heights_in_every_notation_of_the_contract(text: str, cm: float) -> None:
    assert parse_height(text) == pytest.approx(cm)


@pytest.mark.parametrize(
    ("text", "kg"), [("70kg", 70), ("70 kg", 70), ("70", 70), ("154lb", 69.853), ("70000g", 70)]
)
def test_weights(text: str, kg: float) -> None:
    assert parse_weight(text) == pytest.approx(kg, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "amount", "unit", "basis"),
    [
        ("120 mg/m2", 120, "mg", "bsa"),
        ("120 mg/m²", 120, "mg", "bsa"),
        ("120 mg/m^2", 120, "mg", "bsa"),
        ("2 g/m^2", 2000, "mg", "bsa"),
        ("2 g/m2", 2000, "mg", "bsa"),
        ("500 mcg/m2", 0.5, "mg", "bsa"),
        ("5 mg/kg", 5, "mg", "weight"),
        ("12 mg", 12, "mg", "flat"),
        ("1 g", 1000, "mg", "flat"),
        ("10 units/m2", 10, "units", "bsa"),
        ("15 units", 15, "units", "flat"),
        ("AUC 5", 5, "mg", "auc"),
        ("AUC5", 5, "mg", "auc"),
    ],
)
def test_dose_notations_and_their_basis(text: str, amount: float, unit: str, basis: str) -> None:
    spec = parse_dose(text)
    assert (spec.amount, spec.unit, spec.basis) == (pytest.approx(amount), unit, basis)


def test_units_never_convert_to_mg() -> None:
    with pytest.raises(ValueError, match="is a number of units, not a mass"):
        measure("15 units", "dose", "mg", bare=None, examples="2 mg")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mg/m2", "does not start with a number"),
        ("1,5 mg/m2", "comma"),
        ("120", "has no unit"),
        ("nan mg", "is not a finite number"),
        ("inf mg", "is not a finite number"),
        ("0 mg/m2", "above zero"),
        ("-40 mg/m2", "above zero"),
        ("15 U", "uses U or IU"),
        ("15000 IU", "1,000 IU per USP unit"),
        ("15 stone", "'stone' is not a unit dosecalc knows \\(in '15 stone'\\)"),
        ("120 mg/m2/day", "per administration day"),
        ("120 mL", "per administration day"),
        ("AUC 0", "above 0"),
        ("AUC 25", "at most 10"),
    ],
)
def test_bad_doses_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_dose(text)


def test_a_comma_in_a_measurement_is_refused() -> None:
    with pytest.raises(InputError, match="comma"):
        parse_weight("70,5kg")


def test_a_length_is_not_a_weight() -> None:
    with pytest.raises(InputError) as e:
        parse_weight("175cm")
    assert str(e.value) == "--weight: '175cm' is a length, not a mass; give e.g. 70kg or 154lb"


@pytest.mark.parametrize(("text", "written"), [("70Kg", "kg"), ("90 Mg/m2", "mg/m2")])
def test_a_unit_in_mixed_case_is_refused_saying_that_case_matters(text: str, written: str) -> None:
    """'70KG' is read as kg and '70Kg' was 'not a unit dosecalc knows', with no word of why."""
    with pytest.raises((InputError, ValueError)) as e:
        parse_weight(text) if "g/" not in text else parse_dose(text)
    assert "is read in the case written, or in capitals" in str(e.value)
    assert f"write '{written}'" in str(e.value)
    assert parse_weight("70KG") == parse_weight("70kg")
