"""Edges of the clinical core that mutation testing (mutmut) showed no test pinned down.

Each test states the promise it keeps; together they kill the surviving mutants that would
change a dose, a ceiling, a crossing or a count (README, "Mutation testing").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dosecalc import ceilings, cumulative
from dosecalc import policy as pol
from dosecalc import regimen as rg
from dosecalc.bsa import livingston_lee
from dosecalc.ceilings import RiskFactors
from dosecalc.check import check_patient
from dosecalc.dosing import Modification, above_usual_maximum, calculate
from dosecalc.history import Row, parse_prior
from dosecalc.patient import build_patient
from dosecalc.plan import make_plan
from tests.conftest import write

BOOK = ceilings.book()


def order(**fields: object) -> rg.DrugOrder:
    return rg.DrugOrder.model_validate({"days": 1, **fields})


def rules(**values: object) -> pol.Policy:
    return pol.load(None, {k.replace("__", "."): (v, "test") for k, v in values.items()})


# ---------------------------------------------------------------- BSA


def test_livingston_lee_uses_the_infant_equation_below_10_kg_only() -> None:
    assert livingston_lee(0, 9.99) == pytest.approx(0.1037 * 9.99**0.6724)
    assert livingston_lee(0, 10.0) == pytest.approx(0.1173 * 10.0**0.6466)
    assert livingston_lee(0, 10.5) == pytest.approx(0.1173 * 10.5**0.6466)


# ---------------------------------------------------------------- doses


def test_rounding_never_lands_above_the_cap_even_when_the_nearest_step_is_above() -> None:
    # 1.1 mg/m² × 1.8 m² = 1.98 mg; steps of 0.3 mg: 2.1 is nearer but above the 2 mg cap
    dose = calculate(
        order(drug="vincristine", dose="1.1 mg/m2", max_dose="2 mg"),
        build_patient(bsa="1.8"),
        rules(rounding__method="increment", rounding__increment_mg=0.3),
    )
    assert dose.dose == pytest.approx(1.8)
    assert (dose.cap, dose.rounding) == (2.0, "nearest 0.3 mg, within 10 %")
    assert dose.deviation_percent == pytest.approx(100 * (1.8 / 1.98 - 1))


def test_bands_are_6_percent_for_chemotherapy_and_10_percent_for_antibodies() -> None:
    person = build_patient(bsa="1.0")
    policy = rules(
        rounding__method="bands", rounding__bands={"cisplatin": [100], "rituximab": [100]}
    )
    # 91 → 100 is +9.9 %: too far for a cytotoxic band (6 %), within a biologic's (10 %)
    chemo = calculate(order(drug="cisplatin", dose="91 mg/m2"), person, policy)
    antibody = calculate(order(drug="rituximab", dose="91 mg/m2"), person, policy)
    assert chemo.dose == pytest.approx(91) and "more than 6 % away" in chemo.rounding_note
    assert (antibody.dose, antibody.rounding) == (100, "band table for rituximab (policy)")


def test_flat_doses_are_never_rounded() -> None:
    dose = calculate(
        order(drug="prednisone", dose="100 mg"),
        build_patient(bsa="1.8"),
        rules(rounding__method="increment", rounding__increment_mg=7),
    )
    assert (dose.dose, dose.rounding) == (100.0, None)
    assert dose.trace == (
        "protocol: 100 mg on each listed day",
        "flat dose = 100 mg",
        "dose: 100 mg",
    )


def test_a_per_kg_dose_uses_the_policys_dosing_weight() -> None:
    policy = rules(weight__dosing_weight="ideal")
    person = build_patient("175cm", "120kg", sex="male", policy=policy)
    dose = calculate(order(drug="cisplatin", dose="2 mg/kg"), person, policy)
    assert dose.dose == pytest.approx(2 * person.ideal_weight_kg)
    assert "× weight 70.5 kg (ideal)" in dose.trace[1]


def test_the_trace_says_every_step_in_words() -> None:
    person = build_patient("190cm", "90kg")
    mod = Modification("vincristine", 20.0, 1, "protocol escalation")
    dose = calculate(
        order(drug="vincristine", total_dose="2.8 mg/m2", days="1,8", max_dose="2 mg"),
        person,
        rules(),
        mod,
    )
    assert dose.trace == (
        "protocol: total 2.8 mg/m² per cycle divided over 2 days = 1.4 mg/m² per day",
        "× BSA 2.1794 m² (mosteller) = 3.05 mg",
        "escalated 20 % from cycle 1 (protocol escalation): 3.05 → 3.66 mg",
        "capped at max_dose 2 mg (calculated 3.66 mg)",
        "dose: 2 mg",
    )
    given = calculate(order(drug="cisplatin", dose="100 mg/m2"), build_patient(bsa="2"))
    assert given.trace[1] == "× BSA 2.0000 m² (given) = 200 mg"


def test_the_single_dose_guard_per_basis_and_at_its_boundary() -> None:
    person = build_patient("170cm", "70kg")
    exact = calculate(order(drug="cisplatin", dose="150 mg/m2"), person)
    above = calculate(order(drug="cisplatin", dose="151 mg/m2"), person)
    flat = calculate(order(drug="cisplatin", dose=f"{151 * person.bsa_m2!r} mg"), person)
    assert above_usual_maximum(exact, person) is None  # at the guard: not above it
    message = above_usual_maximum(above, person)
    assert (
        message
        and "151 mg/m², above the usual maximum single dose of 150 mg/m2 (unverified)" in message
    )
    assert above_usual_maximum(flat, person)  # a flat dose is compared per m² too
    per_kg = calculate(order(drug="trastuzumab", dose="12 mg/kg"), person)
    assert "12 mg/kg, above the usual maximum single dose of 8 mg/kg (" in (
        above_usual_maximum(per_kg, person) or ""
    )
    assert (
        above_usual_maximum(calculate(order(drug="trastuzumab", dose="8 mg/kg"), person), person)
        is None
    )


# ---------------------------------------------------------------- lifetime totals


def rows_of(*spec: tuple[int, str, float]) -> list[Row]:
    return [
        Row(date(2020, 1, d), drug, amount, "mg", True, None, where=f"h.csv:{i + 2}")
        for i, (d, drug, amount) in enumerate(spec)
    ]


def test_crossings_follow_the_dates_not_the_order_of_the_rows() -> None:
    # rows listed newest first: the 900 mg/m² threshold is crossed on 20 January, not on the 1st
    rows = rows_of((20, "epirubicin", 100), (10, "epirubicin", 400), (1, "epirubicin", 450))
    result = cumulative.evaluate(
        cumulative.from_rows(rows, BOOK, cumulative.BsaUse(None, "")), BOOK, RiskFactors()
    )
    [thr] = [a for a in result.alerts if a.code == "CUMULATIVE_THRESHOLD_REACHED"]
    assert thr.date == date(2020, 1, 20) and "total 950 mg/m²" in thr.message


def test_ceiling_options_of_the_policy_are_applied(cli, tmp_path: Path) -> None:
    rows = rows_of((1, "idarubicin", 130))
    events = cumulative.from_rows(rows, BOOK, cumulative.BsaUse(None, ""))
    default = cumulative.evaluate(events, BOOK, RiskFactors())
    uk = cumulative.evaluate(events, BOOK, RiskFactors(), options={"idarubicin": "uk-smpc"})
    assert [t.limit for t in default.totals if t.drug == "idarubicin"] == [120.0]
    assert [(t.threshold, t.limit) for t in uk.totals if t.drug == "idarubicin"] == [(150.0, None)]
    policy = write(tmp_path, "p.toml", '[cumulative.options]\nidarubicin = "uk-smpc"\n')
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2020-01-01,idarubicin,130,mg/m2\n")
    assert cli("check", "--history", str(history))[0] == 1  # 130 > 120: the German limit
    assert cli("check", "--history", str(history), "--policy", str(policy))[0] == 0


def test_totals_carry_their_ceilings_into_the_output() -> None:
    (result,) = [
        cumulative.evaluate(
            cumulative.from_rows(rows_of((1, "epirubicin", 10)), BOOK, cumulative.BsaUse(None, "")),
            BOOK,
            RiskFactors(),
        )
    ]
    epi = result.totals[0].as_dict()
    assert (epi["threshold"], epi["limit"], epi["percent_of_limit"]) == (900.0, 1000.0, 1.0)
    eq = result.totals[1].as_dict()
    assert (eq["unit"], eq["agents"], eq["checked"]) == ("mg/m2", ["epirubicin"], False)


def test_cycles_that_land_exactly_on_a_limit_still_fit() -> None:
    # 20 cycles of DDP+EPI from nothing: 20 × 50 = 1,000 mg/m², which is not above the limit
    result = check_patient([], build_patient(bsa="1.8"), RiskFactors(), proposed=rg.load("ddp-epi"))
    assert (result.next.cycles_within_threshold, result.next.cycles_within_limit) == (17, 20)


def test_a_threshold_without_a_limit_still_bounds_the_cycles() -> None:
    # mitomycin's default option has a 30 mg/m² threshold and no limit
    regimen = rg.Regimen.model_validate(
        {
            "id": "mmc",
            "name": "mmc",
            "cycle_length_days": 28,
            "sources": ["fixture"],
            "drugs": [{"drug": "mitomycin", "dose": "10 mg/m2", "days": 1}],
        }
    )
    result = check_patient(
        [parse_prior("mitomycin=5mg/m2")], build_patient(bsa="1.8"), RiskFactors(), proposed=regimen
    )
    fit = result.next.fits["mitomycin"]
    assert (fit.threshold, fit.limit, fit.within_threshold, fit.within_limit) == (30, None, 2, None)
    assert result.next.cycles_within_threshold == 2


def test_a_plan_past_the_limit_before_it_starts_fits_no_cycle() -> None:
    plan = make_plan(
        rg.load("ddp-epi"),
        build_patient("175cm", "70kg"),
        start="2026-12-01",
        history=[parse_prior("epirubicin=1001mg/m2")],
    )
    [proj] = [p for p in plan.projection if p.fit.drug == "epirubicin"]
    assert (proj.fit.within_threshold, proj.fit.within_limit) == (0, 0)
