"""Edges of the clinical core that mutation testing (mutmut) showed no test pinned down.

Each test states the promise it keeps; together they kill the surviving mutants that would
change a dose, a ceiling, a crossing or a count (README, "Mutation testing").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dosecalc.clinical import cumulative
from dosecalc.clinical.bsa import livingston_lee
from dosecalc.clinical.check import check_patient
from dosecalc.clinical.dosing import Modification, above_usual_maximum, calculate
from dosecalc.clinical.patient import build_patient
from dosecalc.clinical.plan import make_plan
from dosecalc.data import ceilings
from dosecalc.data import regimen as rg
from dosecalc.data.ceilings import RiskFactors
from dosecalc.data.records import Row
from dosecalc.inputs import policy as pol
from dosecalc.inputs.history import parse_prior
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
    """Cisplatin's guard is 120 mg/m² (Le Chevalier 1994: 120 mg/m² on one day)."""
    person = build_patient("170cm", "70kg")
    exact = calculate(order(drug="cisplatin", dose="120 mg/m2"), person)
    above = calculate(order(drug="cisplatin", dose="121 mg/m2"), person)
    flat = calculate(order(drug="cisplatin", dose=f"{121 * person.bsa_m2!r} mg"), person)
    assert above_usual_maximum(exact, person) is None  # at the guard: not above it
    message = above_usual_maximum(above, person)
    assert message and "121 mg/m², above the usual maximum single dose of 120 mg/m2 (Le " in message
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
    # a lifetime total as one number (one row of 130 mg/m² would be ten times the usual single
    # dose: refused as a unit slip)
    prior = "idarubicin=130mg/m2"
    assert cli("check", "--prior", prior)[0] == 1  # 130 > 120: the German limit
    assert cli("check", "--prior", prior, "--policy", str(policy))[0] == 0


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


# ---------------------------------------------------------------- cycles that fit


def _ceiling(drug: str, threshold: float | None, limit: float | None) -> ceilings.Ceiling:
    return ceilings.Ceiling(drug, "mg/m2", "test", "standard", threshold, limit)


def _cycles(*per_cycle: dict[str, float]):
    """An endless run of identical cycles (a regimen continued)."""
    cycle = [cumulative.Event(d, a, True) for d, a in per_cycle[0].items()]
    return cumulative.repeat_last([cycle])


def test_cycles_fit_counts_full_cycles_below_a_threshold_and_within_a_limit() -> None:
    c = {"epirubicin": _ceiling("epirubicin", 900, 1000)}
    # 120 a cycle: 7 cycles = 840 < 900, the 8th reaches 960; 8 = 960 <= 1000, the 9th 1080
    fit = cumulative.cycles_fit({}, _cycles({"epirubicin": 120}), c, None)["epirubicin"]
    assert (fit.within_threshold, fit.within_limit) == (7, 8)
    assert (fit.drug, fit.unit, fit.threshold, fit.limit) == ("epirubicin", "mg/m2", 900, 1000)
    # landing exactly: 100 a cycle reaches 900 at the 9th (>=), exceeds 1000 only at the 11th
    fit = cumulative.cycles_fit({}, _cycles({"epirubicin": 100}), c, None)["epirubicin"]
    assert (fit.within_threshold, fit.within_limit) == (8, 10)
    # prior exposure counts; already past both: nothing more fits
    fit = cumulative.cycles_fit({"epirubicin": 500}, _cycles({"epirubicin": 100}), c, None)
    assert (fit["epirubicin"].within_threshold, fit["epirubicin"].within_limit) == (3, 5)
    fit = cumulative.cycles_fit({"epirubicin": 1001}, _cycles({"epirubicin": 1}), c, None)
    assert (fit["epirubicin"].within_threshold, fit["epirubicin"].within_limit) == (0, 0)


def test_cycles_fit_looks_exactly_cap_cycles_ahead() -> None:
    c = {"epirubicin": _ceiling("epirubicin", 900, 1000)}
    # the threshold is reached at cycle 8 and the limit passed at cycle 9: a cap of 8 sees the
    # first and not the second; a cap of 7 sees neither
    fit = cumulative.cycles_fit({}, _cycles({"epirubicin": 120}), c, None, cap=8)["epirubicin"]
    assert (fit.within_threshold, fit.within_limit) == (7, None)
    fit = cumulative.cycles_fit({}, _cycles({"epirubicin": 120}), c, None, cap=7)["epirubicin"]
    assert (fit.within_threshold, fit.within_limit) == (None, None)
    # a finite regimen that ends first: nothing binds within it
    one = iter([[cumulative.Event("epirubicin", 120, True)]])
    fit = cumulative.cycles_fit({}, one, c, None)["epirubicin"]
    assert (fit.within_threshold, fit.within_limit) == (None, None)


def test_cycles_fit_with_one_sided_ceilings_and_drugs_without_any() -> None:
    c = {
        "bleomycin": _ceiling("bleomycin", None, 400),
        "cisplatin": _ceiling("cisplatin", None, None),
        "doxorubicin": _ceiling("doxorubicin", 450, None),
    }
    run = _cycles({"bleomycin": 90, "cisplatin": 100, "doxorubicin": 60, "ifosfamide": 9000})
    fit = cumulative.cycles_fit({}, run, c, None)
    assert set(fit) == {"bleomycin", "doxorubicin"}  # no ceiling, no count
    assert (fit["bleomycin"].within_threshold, fit["bleomycin"].within_limit) == (None, 4)
    assert (fit["doxorubicin"].within_threshold, fit["doxorubicin"].within_limit) == (7, None)


def test_cycles_fit_counts_the_doxorubicin_equivalent_of_two_anthracyclines() -> None:
    exposure = [
        cumulative.Event("epirubicin", 300, False, date(2024, 1, 5)),
        cumulative.Event("doxorubicin", 100, False, date(2024, 2, 5)),
    ]
    result = cumulative.evaluate(exposure, BOOK, RiskFactors())
    eq_ceiling = result.ceilings[cumulative.EQUIVALENT]
    assert result.with_equivalent and eq_ceiling.threshold is not None
    start = {t.drug: t.total for t in result.totals}
    run = _cycles({"epirubicin": 60, "doxorubicin": 30})
    fit = cumulative.cycles_fit(start, run, result.ceilings, result.equivalence)
    factor = result.equivalence.factors["epirubicin"]
    per_cycle = 60 * factor + 30 * result.equivalence.factors["doxorubicin"]
    expected = 0
    while start[cumulative.EQUIVALENT] + (expected + 1) * per_cycle < eq_ceiling.threshold:
        expected += 1
    assert fit[cumulative.EQUIVALENT].within_threshold == expected
    # without the equivalence table the equivalent total never moves, so nothing binds it
    bare = cumulative.cycles_fit(start, _cycles({"epirubicin": 60}), result.ceilings, None)
    assert cumulative.EQUIVALENT not in bare


# ---------------------------------------------------------------- totals as users read them


def test_a_total_reports_its_percentages_and_headroom() -> None:
    c = _ceiling("epirubicin", 900, 1000)
    t = cumulative.Total("epirubicin", "mg/m2", 450.0, 90.0, 900.0, 1000.0, c)
    d = t.as_dict()
    assert d["total"] == 540.0
    assert d["percent_of_threshold"] == pytest.approx(60.0)
    assert d["percent_of_limit"] == pytest.approx(54.0)
    assert (d["headroom_to_threshold"], d["headroom_to_limit"]) == (360.0, 460.0)
    assert (d["toxicity"], d["ceiling_option"], d["sources"]) == ("test", "standard", [])
    bare = cumulative.Total("ifosfamide", "mg/m2", 100.0).as_dict()
    assert [bare[k] for k in ("percent_of_threshold", "headroom_to_limit")] == [None, None]
    assert "toxicity" not in bare


def test_a_pharmacy_history_converts_each_row_with_its_own_bsa(tmp_path: Path) -> None:
    """The column-wise path of `check` on a multi-patient history: an mg row of a per-m²
    ceiling is divided by its row's BSA, a per-m² row of a drug tracked in mg is multiplied by
    it, and a row without a BSA uses the current patient's with a warning naming the row."""
    from dosecalc.clinical.check import check_history
    from dosecalc.inputs import history as hist

    f = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,bsa_m2,patient,regimen,cycle,day\n"
        "2024-01-05,epirubicin,180,mg,2.0,P1,DIA,1,2\n"
        "2024-01-26,epirubicin,900,mg,1.8,P1,DIA,2,1\n"
        "2024-01-05,epirubicin,100,mg,,P2,,,\n"
        "2024-01-05,carboplatin,300,mg/m2,1.5,P2,,,\n",
    )
    loaded = hist.load([f])
    p1, p2 = check_history(loaded, build_patient(bsa="1.6"), RiskFactors())
    totals = {t.drug: t.total for t in p1.cumulative}
    assert totals["epirubicin"] == pytest.approx(90 + 500)
    over = [w for w in p1.warnings if w.code == "CUMULATIVE_THRESHOLD_REACHED"]
    assert over == []  # 590 < 900
    totals2 = {t.drug: t.total for t in p2.cumulative}
    assert totals2["epirubicin"] == pytest.approx(100 / 1.6)
    assert totals2["carboplatin"] == pytest.approx(300 * 1.5)
    [assumed] = [w for w in p2.warnings if w.code == "BSA_ASSUMED"]
    assert f"{f}:4" in assumed.message and "epirubicin" in assumed.message
    assert all(t.planned == 0.0 for t in p1.cumulative + p2.cumulative)  # history is prior


def test_a_crossing_in_a_pharmacy_history_names_its_row_date_cycle_and_day(tmp_path) -> None:
    from dosecalc.clinical.check import check_history
    from dosecalc.inputs import history as hist

    f = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,bsa_m2,patient,regimen,cycle,day\n"
        "2024-01-05,epirubicin,800,mg/m2,,P1,DIA,1,1\n"
        "2024-02-06,epirubicin,150,mg/m2,,P1,DIA,2,3\n",
    )
    [p1] = check_history(hist.load([f]), None, RiskFactors())
    [w] = [w for w in p1.warnings if w.code == "CUMULATIVE_THRESHOLD_REACHED"]
    d = w.as_dict()
    assert (d["date"], d["cycle"], d["day"], d["phase"]) == ("2024-02-06", 2, 3, None)
    assert f"{f}:3" in w.message and "2024-02-06" in w.message and "950" in w.message


def test_the_chart_series_is_the_running_total_per_date() -> None:
    events = [
        cumulative.Event("epirubicin", 200, False, None, where="--prior"),
        cumulative.Event("epirubicin", 90, False, date(2024, 1, 5)),
        cumulative.Event("epirubicin", 90, False, date(2024, 1, 5)),
        cumulative.Event("doxorubicin", 50, False, date(2024, 2, 1)),
    ]
    result = cumulative.evaluate(events, BOOK, RiskFactors())
    series = result.series()
    assert series["epirubicin"] == [(date(2024, 1, 5), 380.0)]  # prior starts on the first date
    assert series["doxorubicin"] == [(date(2024, 2, 1), 50.0)]
    f = result.equivalence.factors
    assert series[cumulative.EQUIVALENT] == [
        (date(2024, 1, 5), pytest.approx(380 * f["epirubicin"])),
        (date(2024, 2, 1), pytest.approx(380 * f["epirubicin"] + 50 * f["doxorubicin"])),
    ]
    assert set(result.series(["doxorubicin"])) == {"doxorubicin"}


# ---------------------------------------------------------------- dose modifications


def test_a_modification_names_its_drug_percent_and_first_cycle() -> None:
    from dosecalc.clinical.dosing import modification_for, parse_modifications

    drugs_ = {"cisplatin", "epirubicin", "ifosfamide"}
    mods = parse_modifications(["DDP=25%@3", "all=10%"], ["epirubicin=20%@2"], " renal ", drugs_)
    assert mods == [
        Modification("cisplatin", -25.0, 3, "renal"),
        Modification(None, -10.0, 1, "renal"),
        Modification("epirubicin", 20.0, 2, "renal"),
    ]
    # the one in force: the latest that has started (one drug's, or all drugs')
    assert modification_for(mods, "cisplatin", 2) == mods[1]
    assert modification_for(mods, "cisplatin", 3) == mods[0]
    assert modification_for(mods, "ifosfamide", 9) == mods[1]
    assert modification_for(mods, "epirubicin", 1) == mods[1]
    assert modification_for(mods, "epirubicin", 2) == mods[2]
    assert modification_for([], "epirubicin", 2) is None


@pytest.mark.parametrize(
    ("reduce", "escalate", "message"),
    [
        (["cisplatin=0%"], None, "above 0 and at most 90"),
        (["cisplatin=90.5%"], None, "at most 90"),
        (None, ["cisplatin=100.5%"], "at most 100"),
        (["cisplatin=10%@0"], None, "numbered from 1"),
        (["cisplatin=10%", "DDP=20%"], None, "both apply to cisplatin from cycle 1"),
        (["all=10%@2", "epirubicin=5%@2"], None, "both apply to epirubicin"),
        (["carboplatin=10%"], None, "not part of this regimen"),
        (["cisplatin:10"], None, "not DRUG=PERCENT"),
        # a fraction for a percentage: 0.25 was read as 0.25 %, a dose 99.75 % of the standard
        (["cisplatin=0.25"], None, "ambiguous: 0.25 could be 0.25 % or the fraction 0.25"),
        (None, ["all=1@2"], r"write the percent sign: all=1% or all=100%"),
    ],
)
def test_a_modification_out_of_bounds_is_refused(reduce, escalate, message) -> None:
    from dosecalc.clinical.dosing import parse_modifications

    with pytest.raises(ValueError, match=message) as e:
        parse_modifications(reduce, escalate, "why", {"cisplatin", "epirubicin"})
    option = "--reduce" if reduce else "--escalate"
    assert e.value.problems[0].field == option


def test_the_largest_reduction_and_escalation_are_accepted() -> None:
    from dosecalc.clinical.dosing import parse_modifications

    [r] = parse_modifications(["cisplatin=90%"], None, "x", {"cisplatin"})
    [e] = parse_modifications(None, ["cisplatin=100%"], "x", {"cisplatin"})
    assert (r.percent, e.percent) == (-90.0, 100.0)
    with pytest.raises(ValueError, match="needs a --reason") as err:
        parse_modifications(["cisplatin=10%"], None, "  ", {"cisplatin"})
    assert err.value.problems[0].field == "--reason"
    assert parse_modifications(None, None, None, {"cisplatin"}) == []


def test_the_trace_says_which_bsa_and_weight_a_dose_came_from() -> None:
    given = calculate(order(drug="epirubicin", dose="40 mg/m2"), build_patient(bsa="1.8"), rules())
    assert "× BSA 1.8000 m² (given) = 72 mg" in given.trace
    ideal = rules(weight__dosing_weight="ideal")
    p = build_patient("175cm", "110kg", sex="male", policy=ideal)
    d = calculate(order(drug="epirubicin", dose="40 mg/m2"), p, ideal)
    [line] = [t for t in d.trace if t.startswith("× BSA")]
    assert f"(mosteller, ideal weight {p.dosing_weight_kg:.1f} kg)" in line
    # a BSA given is used as given, whatever the weight policy
    d = calculate(
        order(drug="epirubicin", dose="40 mg/m2"), build_patient(bsa="1.8", policy=ideal), ideal
    )
    assert "× BSA 1.8000 m² (given) = 72 mg" in d.trace
    # per kg: the dosing weight, named
    d = calculate(order(drug="carboplatin", dose="5 mg/kg"), p, ideal)
    assert d.dose == pytest.approx(5 * p.dosing_weight_kg)
    assert any(f"× weight {p.dosing_weight_kg:.1f} kg (ideal)" in t for t in d.trace)


def test_an_age_from_a_date_of_birth_is_whole_on_a_birthday() -> None:
    from datetime import date

    from dosecalc.base.clock import years_old

    assert years_old(date(2008, 12, 8), date(2026, 12, 8)) == 18.0  # an adult, not 17.999
    assert years_old(date(2008, 12, 8), date(2026, 12, 7)) < 18
    assert years_old(date(2008, 2, 29), date(2026, 3, 1)) == 18.0  # 1 March in common years
    assert years_old(date(2026, 6, 1), date(2026, 12, 7)) == pytest.approx(189 / 365)
