"""Patient measurements: implausible values refused with the valid range, never clamped."""

from __future__ import annotations

import pytest

from dosecalc.base.errors import InputError
from dosecalc.clinical.patient import build_patient


def message(**kwargs: str) -> str:
    with pytest.raises(InputError) as e:
        build_patient(**kwargs)
    return str(e.value)


def test_metres_given_as_a_bare_number_are_refused_with_the_range() -> None:
    assert message(height="1.75", weight="70kg") == (
        "--height: 1.75 cm is not a plausible height; give a height between 30 and 260 cm "
        "(a bare number means cm: write 1.75m for metres, 69in for inches)"
    )


def test_grams_given_as_kilograms_are_refused() -> None:
    assert "between 0.5 and 400 kg" in message(height="175cm", weight="70000")


def test_height_and_weight_that_cannot_belong_to_one_person() -> None:
    # 69 (inches typed as a bare number, read as cm) with 70 kg → BMI 147
    assert message(height="69", weight="70") == (
        "--height/--weight: 69 cm with 70 kg gives a BMI of 147.0 kg/m², which is not plausible "
        "(valid 5-120); check the units: a bare number means cm for height and kg for weight"
    )


def test_bsa_out_of_range() -> None:
    assert message(bsa="18") == (
        "--bsa: 18 m² is not a plausible BSA; give a BSA between 0.05 and 4 m²"
    )


@pytest.mark.parametrize(
    ("h", "ok"), [("30cm", True), ("29.99cm", False), ("260cm", True), ("260.01cm", False)]
)
def test_height_bounds_are_inclusive(h: str, ok: bool) -> None:
    # weight chosen so that BMI stays plausible at both ends
    w = "1kg" if h.startswith(("29", "30")) else "150kg"
    if ok:
        assert build_patient(height=h, weight=w).height_cm == pytest.approx(float(h[:-2]))
    else:
        with pytest.raises(InputError, match="not a plausible height"):
            build_patient(height=h, weight=w)


def test_bsa_and_formula_together_are_ambiguous() -> None:
    assert "not both" in message(bsa="1.8", formula="dubois")


def test_given_bsa_is_used_and_calculated_one_kept_for_comparison() -> None:
    p = build_patient(height="175cm", weight="70kg", bsa="1.9")
    assert (p.bsa_m2, p.bsa_formula) == (1.9, "given")
    assert p.calculated_bsa_m2 == pytest.approx(1.84466, abs=1e-5)


def test_schlich_without_sex_is_refused() -> None:
    assert message(height="175cm", weight="70kg", formula="schlich") == (
        "--sex: the schlich formula needs --sex male or --sex female"
    )


def test_unknown_formula_lists_the_valid_ones() -> None:
    assert message(height="175cm", weight="70kg", formula="du bois2").startswith(
        "--formula: 'du bois2' is not a BSA formula (did you mean dubois?); give one of "
        "mosteller, dubois, haycock"
    )


def test_missing_weight_is_named() -> None:
    assert message(height="175cm") == (
        "--weight is needed to calculate the BSA; give --height and --weight, or a measured --bsa"
    )
