"""Safety invariants as hypothesis properties, each named after the promise it guards.

Together with the properties next to the code they exercise (test_bsa, test_plan,
test_cumulative, test_dosing_rules, test_course), these are dosecalc's promises; README lists
them all. Strategies and their physiological bounds live in ``tests/strategies.py``.
"""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.clinical import cumulative
from dosecalc.clinical.bsa import FORMULAS
from dosecalc.clinical.check import check_patient
from dosecalc.clinical.dosing import calculate
from dosecalc.clinical.patient import build_patient
from dosecalc.clinical.plan import make_plan
from dosecalc.clinical.renal import cockcroft_gault
from dosecalc.data import ceilings
from dosecalc.data import regimen as rg
from dosecalc.data.ceilings import RiskFactors
from dosecalc.data.records import Row
from dosecalc.inputs import policy as pol
from dosecalc.inputs.history import parse_prior
from tests.strategies import adults, bsas, cycles

BOOK = ceilings.book()
LIBRARY = [i for i in rg.library_ids()]


def order(text: str, **extra: object) -> rg.DrugOrder:
    return rg.DrugOrder.model_validate({"drug": "cisplatin", "dose": text, "days": 1, **extra})


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(LIBRARY), adults(), cycles)
def test_the_json_output_round_trips_and_holds_no_nan(regimen_id, hw, n) -> None:
    h, w = hw
    plan = make_plan(
        rg.load(regimen_id),
        build_patient(f"{h!r}cm", f"{w!r}kg", gfr="80mL/min"),
        start="2026-12-01",
        cycles=n,
    )
    text = json.dumps(plan.as_dict(), allow_nan=False)  # raises on NaN or infinity
    assert json.loads(json.dumps(json.loads(text))) == json.loads(text)
    for a in json.loads(text)["administrations"]:
        assert math.isfinite(a["dose"]) and a["dose"] > 0


@given(st.floats(10, 300), st.floats(1.0001, 2.0), st.floats(0.1, 20))
def test_a_per_kg_dose_is_monotone_in_weight(weight, factor, per_kg) -> None:
    light = build_patient(weight=f"{weight!r}kg", require_bsa=False)
    heavy = build_patient(weight=f"{min(weight * factor, 400)!r}kg", require_bsa=False)
    o = order(f"{per_kg!r} mg/kg")
    assert calculate(o, heavy).dose >= calculate(o, light).dose


@given(adults(), st.floats(1, 30), st.floats(1, 30))
def test_every_bsa_formula_grows_with_height_and_weight(hw, dh, dw) -> None:
    h, w = hw
    for name, f in FORMULAS.items():
        base = f(h, w, "male")
        assert f(h, w + dw, "male") > base, name
        if name != "livingston-lee":  # weight only by design
            assert f(h + dh, w, "male") > base, name


@given(st.floats(0.001, 100), bsas)
def test_grams_milligrams_and_micrograms_give_the_same_dose(mg, bsa) -> None:
    person = build_patient(bsa=f"{bsa!r}")
    doses = [
        calculate(order(t), person).dose
        for t in (f"{mg!r} mg/m2", f"{mg / 1000!r} g/m2", f"{mg * 1000!r} mcg/m2")
    ]
    assert doses[1] == pytest.approx(doses[0], rel=1e-12)
    assert doses[2] == pytest.approx(doses[0], rel=1e-12)


@given(st.floats(1, 5000), st.integers(1, 14))
def test_a_divided_total_adds_up_to_the_total(total, days) -> None:
    o = rg.DrugOrder.model_validate(
        {"drug": "ifosfamide", "total_dose": f"{total!r} mg/m2", "days": f"1-{days}"}
    )
    dose = calculate(o, build_patient(bsa="1.0"))
    assert dose.dose * days == pytest.approx(total, rel=1e-12)


@given(
    st.floats(18, 100),
    st.floats(30, 200),
    st.floats(0.1, 10),
    st.sampled_from(["male", "female"]),
    st.floats(1, 10),
)
def test_carboplatin_never_exceeds_auc_times_150_with_the_gfr_cap(age, kg, scr, sex, auc) -> None:
    from dosecalc.clinical.renal import for_calvert

    person = build_patient(
        "170cm",
        f"{kg!r}kg",
        sex=sex,
        age=f"{age!r}",
        scr=f"{max(scr, 0.1)!r}mg/dL",
        require_bsa=False,
    )
    renal = for_calvert(person, pol.load())
    assert auc * (renal.gfr_ml_min + 25) <= auc * 150 + 1e-9
    assert cockcroft_gault(age, kg, 1.0, "female") == pytest.approx(
        0.85 * cockcroft_gault(age, kg, 1.0, "male")
    )


rows = st.lists(
    st.tuples(
        st.sampled_from(["epirubicin", "doxorubicin", "cisplatin"]),
        st.floats(1, 300),
        st.integers(1, 28),
    ),
    min_size=1,
    max_size=15,
)


def _total(spec: list[tuple[str, float, int]]) -> dict[str, float]:
    events = cumulative.from_rows(
        [Row(date(2020, 1, d), drug, a, "mg", True, None) for drug, a, d in spec],
        BOOK,
        cumulative.BsaUse(None, ""),
    )
    result = cumulative.evaluate(events, BOOK, RiskFactors())
    return {t.drug: t.total for t in result.totals}


@given(rows, rows)
def test_lifetime_totals_are_additive(a, b) -> None:
    left, right, both = _total(a), _total(b), _total(a + b)
    for drug, value in both.items():
        assert value == pytest.approx(left.get(drug, 0) + right.get(drug, 0), rel=1e-9)


@given(rows)
def test_a_limit_is_never_exceeded_before_its_threshold_is_reached(spec) -> None:
    events = cumulative.from_rows(
        [Row(date(2020, 1, d), drug, a * 5, "mg", True, None) for drug, a, d in spec],
        BOOK,
        cumulative.BsaUse(None, ""),
    )
    result = cumulative.evaluate(events, BOOK, RiskFactors())
    for drug in {a.drug for a in result.alerts}:
        codes = [a.code for a in result.alerts if a.drug == drug]
        if "CUMULATIVE_LIMIT_EXCEEDED" in codes and "CUMULATIVE_THRESHOLD_REACHED" in codes:
            assert codes.index("CUMULATIVE_THRESHOLD_REACHED") < codes.index(
                "CUMULATIVE_LIMIT_EXCEEDED"
            )


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1200), st.sampled_from(["ddp-epi", "ec", "fec-100", "ap", "ac", "dia"]))
def test_no_more_cycles_fit_under_a_threshold_than_under_its_limit(prior, regimen_id) -> None:
    rows = [parse_prior(f"epirubicin={prior!r}mg/m2")] if prior else []
    result = check_patient(
        rows, build_patient(bsa="1.8"), RiskFactors(), proposed=rg.load(regimen_id)
    )
    assert result.next.cycles_within_threshold <= result.next.cycles_within_limit
