"""Lifetime cumulative exposure: boundaries, additivity, equivalents, modifiers, projection."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.base.errors import DosecalcError
from dosecalc.clinical import cumulative
from dosecalc.clinical.check import check_patient
from dosecalc.clinical.patient import build_patient
from dosecalc.clinical.plan import make_plan
from dosecalc.data import ceilings, records
from dosecalc.data import regimen as rg
from dosecalc.data.ceilings import EQUIVALENT, RiskFactors
from dosecalc.data.records import Row
from dosecalc.inputs.history import parse_prior
from tests.conftest import schema, write

BOOK = ceilings.book()
TODAY = date(2026, 11, 21)


def row(
    drug: str,
    amount: float,
    per_m2: bool = True,
    bsa: float | None = None,
    day: int = 1,
    unit: str = "mg",
) -> Row:
    return Row(date(2020, 1, day), drug, amount, unit, per_m2, bsa, where=f"h.csv:{day + 1}")


def codes(alerts, drug: str | None = None) -> list[str]:
    return [a.code for a in alerts if drug is None or a.drug == drug]


def totals(
    rows: list[Row],
    bsa: float | None = None,
    table: str | None = None,
    factors: RiskFactors | None = None,
):
    use = cumulative.BsaUse(bsa, "the current BSA")
    events = cumulative.from_rows(rows, BOOK, use)
    return cumulative.evaluate(events, BOOK, factors or RiskFactors(), table), use


# ------------------------------------------------------------ the contract's fixed ceiling


def test_epirubicin_ceiling_is_900_and_1000_mg_m2() -> None:
    c = BOOK.resolve("epirubicin", RiskFactors(), frozenset({"epirubicin"}))
    assert (c.unit, c.threshold, c.limit) == ("mg/m2", 900.0, 1000.0)


CEILINGED = [
    (d, c.threshold, c.limit)
    for d in BOOK.entries
    if d != EQUIVALENT
    for c in [BOOK.resolve(d, RiskFactors(), frozenset({d}))]
    if c.threshold is not None or c.limit is not None
]


@pytest.mark.parametrize(("drug", "threshold", "limit"), CEILINGED, ids=[c[0] for c in CEILINGED])
def test_boundaries_at_every_threshold_and_limit(
    drug: str, threshold: float | None, limit: float | None
) -> None:
    """Exactly at, just below, just above: threshold is ``>=``, limit is ``>``."""
    unit = BOOK.unit(drug)
    per_m2 = unit.endswith("/m2")
    dose_unit = "units" if unit.startswith("units") else "mg"
    for value, kind in ((threshold, "threshold"), (limit, "limit")):
        if value is None:
            continue
        eps = value * 1e-9  # far above float noise (dosecalc tolerates 1e-11), far below meaning
        code = (
            "CUMULATIVE_THRESHOLD_REACHED" if kind == "threshold" else "CUMULATIVE_LIMIT_EXCEEDED"
        )
        below, _ = totals([row(drug, value - eps, per_m2, unit=dose_unit)])
        at, _ = totals([row(drug, value, per_m2, unit=dose_unit)])
        above, _ = totals([row(drug, value + eps, per_m2, unit=dose_unit)])
        assert code not in codes(below.alerts, drug)
        assert (code in codes(at.alerts, drug)) == (kind == "threshold"), (drug, kind)
        assert code in codes(above.alerts, drug)


def test_limit_exceeded_is_critical_and_threshold_a_warning() -> None:
    result, _ = totals([row("epirubicin", 1001)])
    severities = {a.code: a.severity for a in result.alerts}
    assert severities["CUMULATIVE_THRESHOLD_REACHED"] == "warning"
    assert severities["CUMULATIVE_LIMIT_EXCEEDED"] == "critical"


# ------------------------------------------------------------ additivity and order


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["epirubicin", "doxorubicin", "cisplatin", "bleomycin"]),
        st.floats(0.5, 200, allow_nan=False),
        st.integers(1, 28),
    ),
    min_size=1,
    max_size=25,
)


def _rows(spec: list[tuple[str, float, int]]) -> list[Row]:
    return [
        row(d, a, d != "bleomycin", None, day, "units" if d == "bleomycin" else "mg")
        for d, a, day in spec
    ]


@settings(max_examples=60)
@given(rows_strategy, st.randoms(use_true_random=False))
def test_totals_do_not_depend_on_row_order(spec, rnd) -> None:
    shuffled = list(spec)
    rnd.shuffle(shuffled)
    a, _ = totals(_rows(spec))
    b, _ = totals(_rows(shuffled))
    assert {t.drug: round(t.total, 6) for t in a.totals} == {
        t.drug: round(t.total, 6) for t in b.totals
    }


@settings(max_examples=60)
@given(st.floats(1, 2000, allow_nan=False), st.integers(1, 12))
def test_totals_do_not_depend_on_how_a_dose_is_split(amount: float, parts: int) -> None:
    whole, _ = totals([row("epirubicin", amount)])
    split, _ = totals([row("epirubicin", amount / parts, day=1 + i % 28) for i in range(parts)])
    assert split.totals[0].total == pytest.approx(whole.totals[0].total, rel=1e-12)


@given(st.floats(0.5, 3.0, allow_nan=False), st.floats(1, 500, allow_nan=False))
def test_mg_rows_with_their_bsa_equal_mg_per_m2_rows(bsa: float, per_m2: float) -> None:
    as_m2, _ = totals([row("epirubicin", per_m2)])
    as_mg, _ = totals([row("epirubicin", per_m2 * bsa, per_m2=False, bsa=bsa)])
    assert as_mg.totals[0].total == pytest.approx(as_m2.totals[0].total, rel=1e-12)


def test_absolute_rows_without_bsa_use_the_current_one_and_say_so() -> None:
    result, use = totals([row("epirubicin", 90, per_m2=False)], bsa=1.8)
    assert result.totals[0].total == pytest.approx(50.0)
    [alert] = cumulative.bsa_assumed(use)
    assert alert.code == "BSA_ASSUMED" and "h.csv:2" in alert.message


def test_absolute_rows_without_any_bsa_are_refused() -> None:
    with pytest.raises(DosecalcError) as e:
        totals([row("epirubicin", 90, per_m2=False)])
    assert str(e.value).startswith("h.csv:2: 90 mg of epirubicin cannot be converted to mg/m²")


def test_bleomycin_is_tracked_in_absolute_units() -> None:
    """Bleomycin's 400-unit ceiling is absolute: units/m² rows are multiplied by the BSA."""
    result, _ = totals([row("bleomycin", 10, per_m2=True, bsa=2.0, unit="units")] * 20)
    t = result.totals[0]
    assert (t.unit, t.total) == ("units", pytest.approx(400.0))
    assert "CUMULATIVE_THRESHOLD_REACHED" in codes(result.alerts)
    assert "CUMULATIVE_LIMIT_EXCEEDED" not in codes(result.alerts)


# ------------------------------------------------------------ doxorubicin equivalents


def eq_total(result):
    return next(t for t in result.totals if t.drug == EQUIVALENT)


def test_equivalent_ceiling_is_checked_only_with_two_anthracyclines() -> None:
    alone, _ = totals([row("epirubicin", 800)])  # 640 dox-eq: over 550, but single agent
    t = eq_total(alone)
    assert (t.total, t.threshold, t.limit, t.extra["checked"]) == (640, None, None, False)
    assert not [c for c in codes(alone.alerts, EQUIVALENT) if c.startswith("CUMULATIVE")]
    both, _ = totals([row("epirubicin", 500), row("doxorubicin", 200)])  # 400 + 200 = 600
    t = eq_total(both)
    assert (t.total, t.limit, t.extra["checked"]) == (pytest.approx(600), 550, True)
    assert "CUMULATIVE_LIMIT_EXCEEDED" in codes(both.alerts, EQUIVALENT)
    # each agent's own ceiling still applies and neither is exceeded here
    assert "CUMULATIVE_LIMIT_EXCEEDED" not in codes(both.alerts, "epirubicin")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("esc-2022", 0.8 * 100 + 0.6 * 100 + 10.5 * 10),
        ("feijen-2019", 0.8 * 100 + 0.6 * 100 + 10.5 * 10),
    ],
)
def test_factor_tables(table: str, expected: float) -> None:
    result, _ = totals(
        [row("epirubicin", 100), row("daunorubicin", 100), row("mitoxantrone", 10)], table=table
    )
    assert eq_total(result).total == pytest.approx(expected)
    assert eq_total(result).extra["equivalence_table"] == table


def test_a_table_without_a_factor_leaves_the_agent_out_and_says_so() -> None:
    result, _ = totals([row("epirubicin", 100), row("doxorubicin", 100)], table="ighg-2025")
    assert eq_total(result).total == pytest.approx(100.0)
    [alert] = [a for a in result.alerts if a.code == "EQUIVALENCE_NOT_AVAILABLE"]
    assert alert.drug == "epirubicin" and "ighg-2025" in alert.message


def test_unknown_table_is_refused() -> None:
    with pytest.raises(DosecalcError, match="'nope' is not an equivalence table"):
        totals([row("epirubicin", 100)], table="nope")


# ------------------------------------------------------------ risk modifiers


def test_cardiac_radiation_lowers_the_doxorubicin_limit_to_400() -> None:
    exposed = frozenset({"doxorubicin"})
    plain = BOOK.resolve("doxorubicin", RiskFactors(), exposed)
    rt = BOOK.resolve("doxorubicin", RiskFactors(cardiac_radiation_gy=20), exposed)
    assert (plain.limit, rt.limit) == (550, 400)
    assert rt.adjustments and "cardiac region" in rt.adjustments[0]


def test_a_pelvic_field_is_not_cardiac_radiation() -> None:
    # the reference case had pelvic IMRT 60 Gy: no --chest-rt, so no modifier
    c = BOOK.resolve("doxorubicin", RiskFactors(cardiac_radiation_gy=None), frozenset())
    assert c.limit == 550 and not c.adjustments


def test_dexrazoxane_consideration_at_300_doxorubicin_equivalent() -> None:
    result, _ = totals([row("doxorubicin", 299.9), row("doxorubicin", 0.1, day=2)])
    [a] = [a for a in result.alerts if a.code == "DEXRAZOXANE_CONSIDER"]
    assert a.date == date(2020, 1, 2)


# ------------------------------------------------------------ the plan: running totals


def dia(n: int, history: list[Row] = (), **kw):
    return make_plan(
        rg.load("dia"),
        build_patient("175cm", "70kg"),
        start="2026-12-01",
        cycles=n,
        history=history,
        **kw,
    )


def test_dia_flags_the_cycle_and_day_of_900_and_1000_mg_m2() -> None:
    """120 mg/m² of epirubicin per cycle (40 × days 1-3): 900 is reached on cycle 8 day 2
    (7 × 120 + 2 × 40 = 920), 1,000 is exceeded on cycle 9 day 2 (8 × 120 + 80 = 1,040)."""
    plan = dia(11)
    epi = {
        a.code: a
        for a in plan.warnings
        if a.drug == "epirubicin" and a.code.startswith("CUMULATIVE")
    }
    thr, lim = epi["CUMULATIVE_THRESHOLD_REACHED"], epi["CUMULATIVE_LIMIT_EXCEEDED"]
    assert (thr.cycle, thr.day, thr.date) == (8, 2, date(2027, 3, 10))
    assert (lim.cycle, lim.day, lim.date, lim.severity) == (9, 2, date(2027, 3, 24), "critical")
    assert plan.critical
    [proj] = [p for p in plan.projection if p.fit.drug == "epirubicin"]
    assert (proj.fit.within_threshold, proj.fit.within_limit) == (7, 8)
    assert proj.message.startswith(
        "epirubicin reaches its 900 mg/m² threshold at cycle 8 day 2 "
        "(2027-03-10); 7 full cycles fit below it (this plan has 11)"
    )


def test_prior_exposure_moves_the_crossing_earlier() -> None:
    plan = dia(2, [parse_prior("EPI=800mg/m2")])
    [thr] = [
        a
        for a in plan.warnings
        if a.code == "CUMULATIVE_THRESHOLD_REACHED" and a.drug == "epirubicin"
    ]
    assert (thr.cycle, thr.day) == (1, 3)  # 800 + 40 + 40 + 40 = 920
    epi = next(t for t in plan.cumulative if t.drug == "epirubicin")
    assert (epi.prior, epi.planned, epi.total) == (800, 240, 1040)


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0, 1100, allow_nan=False),
    st.sampled_from(["dia", "ddp-epi", "ec", "fec-100", "ap", "ac", "abvd"]),
)
def test_projection_equals_a_replay(prior: float, regimen_id: str) -> None:
    """The cycles said to fit are exactly those a plan of that many cycles stays under."""
    history = [parse_prior(f"epirubicin={prior!r}mg/m2")] if prior > 0 else []
    base = make_plan(
        rg.load(regimen_id),
        build_patient("170cm", "72kg"),
        start="2026-12-01",
        cycles=1,
        history=history,
    )
    for proj in base.projection:
        drug = proj.fit.drug
        for n, attr, code in (
            (proj.fit.within_threshold, "threshold", "CUMULATIVE_THRESHOLD_REACHED"),
            (proj.fit.within_limit, "limit", "CUMULATIVE_LIMIT_EXCEEDED"),
        ):
            if n is None or n >= 60:
                continue
            already = prior and any(
                a.code == code and a.drug == drug and not a.phase for a in base.warnings
            )
            if already:
                assert n == 0
                continue
            assert n == 0 or not _crossed(regimen_id, history, n, code, drug), (drug, attr, n)
            assert _crossed(regimen_id, history, n + 1, code, drug), (drug, attr, n)


def _crossed(regimen_id: str, history: list[Row], cycles: int, code: str, drug: str) -> bool:
    p = make_plan(
        rg.load(regimen_id),
        build_patient("170cm", "72kg"),
        start="2026-12-01",
        cycles=cycles,
        history=history,
    )
    return any(a.code == code and a.drug == drug and a.phase for a in p.warnings)


# ------------------------------------------------------------ check


def test_check_next_counts_cycles_per_the_contract() -> None:
    # 600 mg/m² epirubicin so far; DDP+EPI adds 50 per cycle: 5 cycles stay < 900 (850),
    # 8 cycles reach exactly 1,000, which is still <= the limit
    result = check_patient(
        [parse_prior("epirubicin=600mg/m2")],
        build_patient(bsa="1.8"),
        RiskFactors(),
        proposed=rg.load("ddp-epi"),
    )
    assert (result.next.cycles_within_threshold, result.next.cycles_within_limit) == (5, 8)
    assert result.next.threshold_bound_by == "epirubicin"


def test_a_proposed_regimen_never_moves_the_day_a_past_dose_crossed_a_level(run, tmp_path) -> None:
    """8 x 75 mg/m2 doxorubicin: over the 550 limit on 2022-09-26. With --next ec, whose
    cyclophosphamide lowers the limit to 400 for what is given with it, the past crossing moved
    to 2022-08-15 'against 400 [prior or concomitant cyclophosphamide]', a drug not yet given."""
    rows = "".join(f"2022-{m:02d}-{d:02d},doxorubicin,75,mg/m2\n" for m, d in
                   ((5, 2), (5, 23), (6, 13), (7, 4), (7, 25), (8, 15), (9, 5), (9, 26)))  # fmt: skip
    h = tmp_path / "h.csv"
    h.write_text("date,drug,dose,unit\n" + rows)

    def crossings(*extra: str) -> tuple[list[str], dict]:
        data = json.loads(run("check", "--history", str(h), *extra, "--format", "json").stdout)
        found = [w["message"] for w in data["warnings"] if w["code"] == "CUMULATIVE_LIMIT_EXCEEDED"]
        return found, data.get("next") or {}

    alone, _ = crossings()
    ahead, nxt = crossings("--next", "ec", "--bsa", "1.8")
    assert alone == ahead and "550 mg/m² limit" in alone[0] and "2022-09-26" in alone[0]
    limits = {b["drug"]: b["limit"] for b in nxt["by_drug"]}
    assert limits["doxorubicin equivalent"] == 400  # what fits from now on: the lower limit
    # and not one cycle fits: said, critical, with the limit in force with EC's drugs
    p = run("check", "--history", str(h), "--next", "ec", "--bsa", "1.8", "--format", "json")
    [w] = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "NEXT_EXCEEDS_LIMIT"]
    assert p.returncode == 1 and w["severity"] == "critical" and "400 mg/m² limit" in w["message"]


def test_check_next_without_a_bsa_when_it_cancels_out() -> None:
    result = check_patient(
        [parse_prior("epirubicin=600mg/m2")], None, RiskFactors(), proposed=rg.load("ddp-epi")
    )
    assert (result.next.cycles_within_threshold, result.next.cycles_within_limit) == (5, 8)


def test_check_next_with_a_capped_drug_needs_the_bsa() -> None:
    with pytest.raises(DosecalcError, match="vincristine .* needs the patient's BSA"):
        check_patient(
            [parse_prior("doxorubicin=100mg/m2")],
            None,
            RiskFactors(),
            proposed=rg.load("r-chop-21"),
        )


# ------------------------------------------------------------ the command line


HISTORY = """\
date,drug,dose,unit,bsa_m2,patient,regimen,cycle,day,note
2019-01-05,epirubicin,40,mg/m2,,P1,dia,1,1,
2019-01-06,EPI,72,mg,1.80,P1,dia,1,2,
2019-01-07,EPI,72,mg,1.80,P1,dia,1,3,
2019-02-06,doxorubicin,300,mg/m2,,P2,,,,
2019-02-06,epirubicin,200,mg/m2,,P2,,,,
2019-03-01,epirubicin,1000,mg/m2,,P3,,,,
2019-03-02,epirubicin,1,mg/m2,,P3,,,,
"""


def test_check_every_patient_json_against_the_contract(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "history.csv", HISTORY)
    code, out, err = cli("check", "--history", str(path), "--next", "ddp-epi", "--format", "json")
    assert code == 1, err  # P3 is over the epirubicin limit
    data = json.loads(out)
    jsonschema.validate(data, schema("check-output"))
    by = {p["patient"]: p for p in data["patients"]}
    assert set(by) == {"P1", "P2", "P3"}
    p1 = {t["drug"]: t for t in by["P1"]["cumulative"]}
    assert p1["epirubicin"]["total"] == pytest.approx(120.0)
    assert by["P1"]["next"]["cycles_within_threshold"] == 15  # 120 + 15 × 50 = 870 < 900
    assert by["P3"]["next"]["cycles_within_limit"] == 0
    assert [w["code"] for w in by["P3"]["warnings"] if w["severity"] == "critical"] == [
        "CUMULATIVE_LIMIT_EXCEEDED"
    ]


def test_check_single_patient_json(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "date,drug,dose,unit\n2019-01-05,EPI,700,mg/m2\n")
    code, out, _ = cli(
        "check",
        "--history",
        str(path),
        "--prior",
        "doxorubicin=50mg/m2",
        "--next",
        "ddp-epi",
        "--format",
        "json",
    )
    data = json.loads(out)
    jsonschema.validate(data, schema("check-output"))
    assert set(data) >= {"cumulative", "warnings", "next"}
    eq = next(t for t in data["cumulative"] if "equivalent" in t["drug"])
    # 700 × 0.8 + 50 = 610 doxorubicin-equivalent: over the combined 550 limit although
    # neither agent is over its own ceiling
    assert eq["total"] == pytest.approx(610) and eq["checked"] is True
    assert code == 1
    assert [(w["code"], w["drug"]) for w in data["warnings"] if w["severity"] == "critical"] == [
        ("CUMULATIVE_LIMIT_EXCEEDED", "doxorubicin equivalent")
    ]


def test_check_table_shows_bars(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "date,drug,dose,unit\n2019-01-05,EPI,950,mg/m2\n")
    code, out, _ = cli("check", "--history", str(path))
    assert code == 0
    assert "950 mg/m²" in out and "│" in out and "95 %" in out


def test_plan_with_enough_dia_cycles_exits_1(cli) -> None:
    code, out, _ = cli(
        "plan",
        "dia",
        "--height",
        "175cm",
        "--weight",
        "70kg",
        "--start",
        "2026-12-01",
        "--cycles",
        "9",
        "--format",
        "json",
    )
    data = json.loads(out)
    jsonschema.validate(data, schema("plan-output"))
    assert code == 1
    crit = [w for w in data["warnings"] if w["severity"] == "critical"]
    assert [(w["code"], w["cycle"], w["day"], w["date"]) for w in crit] == [
        ("CUMULATIVE_LIMIT_EXCEEDED", 9, 2, "2027-03-24")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,drug,dose\n", "missing column unit; a history needs date, drug, dose and unit"),
        ("date,drug,dose,unit,colour\n", "unknown column 'colour'; valid columns: date, drug"),
        ("date;drug;dose;unit\n", "the columns are separated by semicolons"),
        (
            "date,drug,dose,unit\n2019-13-01,EPI,40,mg/m2\n",
            "h.csv:2: date '2019-13-01' is not a date: there is no month 13 (a month is 01 to 12)",
        ),
        (
            "date,drug,dose,unit\n2019-01-01 08:30:00,EPI,40,mg/m2\n",
            "h.csv:2: date '2019-01-01 08:30:00' is not a date; write it as YYYY-MM-DD (the date "
            "only: a time of day goes in the time column as HH:MM)",
        ),
        (
            "date,drug,dose,unit\n2099-01-01,EPI,40,mg/m2\n",
            "h.csv:2: date 2099-01-01 is in the future",
        ),
        ("date,drug,dose,unit\n2019-01-01,EPI,0,mg/m2\n", "h.csv:2: dose 0 is not above zero"),
        (
            "date,drug,dose,unit\n2019-01-01,EPI,,mg/m2\n",
            "h.csv:2: dose is empty; write its number",
        ),
        (
            "date,drug,dose,unit\n2019-01-01,EPI,40,units\n",
            "h.csv:2: epirubicin is dosed in mg, but this row is in 'units'",
        ),
        ("date,drug,dose,unit\n2019-01-01,EPI,40,mg/kg\n", "h.csv:2: 'mg/kg' is not a dose unit"),
        (
            "date,drug,dose,unit\n2019-01-01,EPI,40\n",
            "h.csv:2: this row has 3 fields, the header has 4",
        ),
        ("date,drug,dose,unit\n2019-01-01,TAX,40,mg/m2\n", "h.csv:2: 'TAX' is ambiguous"),
        (
            "date,drug,dose,unit\n2019-01-01,EPI,1e400,mg/m2\n",
            "h.csv:2: dose '1e400' is too large a number",
        ),
    ],
)
def test_bad_history_rows_are_refused_with_file_and_line(
    cli, tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "h.csv", text)
    code, out, err = cli("check", "--history", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"Error: {path}".replace("/h.csv", "/")) and message in err, err


def test_yaml_history_gives_the_same_totals(cli, tmp_path: Path) -> None:
    csv_path = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,bsa_m2\n2019-01-05,EPI,72,mg,1.8\n2019-01-06,epirubicin,40,mg/m2,\n",
    )
    yaml_path = write(
        tmp_path,
        "h.yaml",
        "- {date: 2019-01-05, drug: EPI, dose: 72, unit: mg, "
        "bsa_m2: 1.8}\n- date: 2019-01-06\n  drug: epirubicin\n  dose: 40\n"
        "  unit: mg/m2\n",
    )
    a = json.loads(cli("check", "--history", str(csv_path), "--format", "json")[1])
    b = json.loads(cli("check", "--history", str(yaml_path), "--format", "json")[1])
    assert a["cumulative"][0]["total"] == b["cumulative"][0]["total"] == pytest.approx(80)


def test_yaml_history_row_errors_name_the_line(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.yaml",
        "- {date: 2019-01-05, drug: EPI, dose: 72, unit: mg/m2}\n"
        "- {date: 2019-01-06, drug: EPI, dose: -1, unit: mg/m2}\n",
    )
    code, _, err = cli("check", "--history", str(path))
    assert code == 2 and err.startswith(f"Error: {path}:2: dose -1 is not above zero")


def test_histories_are_repeatable_and_add_up(cli, tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "date,drug,dose,unit\n2019-01-05,EPI,400,mg/m2\n")
    b = write(tmp_path, "b.csv", "date,drug,dose,unit\n2020-01-05,epirubicin,550,mg/m2\n")
    code, out, _ = cli("check", "--history", str(a), "--history", str(b), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["cumulative"][0]["total"] == 950
    assert "CUMULATIVE_THRESHOLD_REACHED" in [w["code"] for w in data["warnings"]]


def test_chest_rt_option_lowers_doxorubicin_in_check(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "date,drug,dose,unit\n2019-01-05,doxorubicin,420,mg/m2\n")
    assert cli("check", "--history", str(path))[0] == 0
    code, out, _ = cli("check", "--history", str(path), "--chest-rt", "20Gy", "--format", "json")
    dox = json.loads(out)["cumulative"][0]
    assert code == 1 and dox["limit"] == 400 and dox["adjustments"]


@pytest.mark.parametrize("height", ["150cm", "163cm", "177cm", "191cm"])
def test_a_total_landing_exactly_on_a_ceiling_is_at_it_whatever_the_bsa(height: str) -> None:
    """AP × 6 gives exactly 450 mg/m² of doxorubicin: the threshold is reached on the last day
    and the limit is not exceeded, whatever mg the BSA turns each dose into."""
    plan = make_plan(rg.load("ap"), build_patient(height, "77kg"), start="2026-12-01", cycles=6)
    dox = next(t for t in plan.cumulative if t.drug == "doxorubicin")
    assert dox.total == 450.0
    [thr] = [
        w
        for w in plan.warnings
        if w.code == "CUMULATIVE_THRESHOLD_REACHED" and w.drug == "doxorubicin"
    ]
    assert (thr.cycle, thr.day) == (6, 3)
    assert not [w for w in plan.warnings if w.code == "CUMULATIVE_LIMIT_EXCEEDED"]


def test_rows_of_files_with_and_without_regimen_columns_keep_their_own_file_and_cycle(
    tmp_path: Path,
) -> None:
    """The scan fills a file's file/regimen/cycle/day columns once when it has no such columns;
    a patient's rows from several files must still line up, row by row."""
    from dosecalc.inputs import history as hist

    plain = tmp_path / "plain.csv"
    plain.write_text(
        "date,drug,dose,unit,patient\n2020-01-01,epirubicin,90,mg/m2,A\n"
        "2020-01-02,cisplatin,100,mg/m2,B\n"
    )
    cycles = tmp_path / "cycles.csv"
    cycles.write_text(
        "date,drug,dose,unit,patient,regimen,cycle,day\n"
        "2020-02-01,epirubicin,90,mg/m2,A,dia,2,1\n2020-02-02,epirubicin,90,mg/m2,C,dia,1,2\n"
    )
    loaded = hist.load([plain, cycles, plain], [])
    a = loaded.patients["A"]
    assert [loaded.where(a, i) for i in range(len(a))] == [
        f"{plain}:2",
        f"{cycles}:2",
        f"{plain}:2",
    ]
    assert list(a.cycle) == [0, 2, 0] and list(a.day) == [0, 1, 0]
    assert [loaded.regimens[r] for r in a.regimen] == ["", "dia", ""]
    rows = loaded.rows("A")
    assert [(r.date, r.cycle) for r in rows] == [
        (date(2020, 1, 1), None),
        (date(2020, 2, 1), 2),
        (date(2020, 1, 1), None),
    ]
    for cols in loaded.patients.values():  # every column as long as the rows
        assert {len(getattr(cols, c)) for c in records.Columns.__slots__} == {len(cols)}


def test_a_total_past_a_limit_never_prints_as_the_limit(run, tmp_path: Path) -> None:
    """550.004 mg/m² of doxorubicin exceeds its 550 limit: it was printed '550 mg/m² (100 % of
    limit 550)' in the message, the table, the pharmacy summary and verify, with a headroom 0."""
    r = run("check", "--prior", "doxorubicin=550.004mg/m2", "--format", "json")
    [w] = [w for w in json.loads(r.stdout)["warnings"] if w["code"] == "CUMULATIVE_LIMIT_EXCEEDED"]
    assert w["message"].endswith("total 550.004 mg/m²")
    table = run("check", "--prior", "doxorubicin=550.004mg/m2").stdout
    assert "550.004" in table and "100.001 %" in table and "-0.004" in table
    history = tmp_path / "h.csv"
    history.write_text(
        "patient,date,drug,dose,unit\nA,2023-01-01,doxorubicin,540,mg/m2\n"
        "A,2023-02-01,doxorubicin,10.004,mg/m2\nB,2023-01-01,epirubicin,50,mg/m2\n"
    )
    summary = run("check", "--history", str(history)).stdout
    assert "A: LIMIT EXCEEDED: DOXOrubicin 550.004 mg/m² (100.001 % of limit 550)" in summary
    # a total that is not past a level prints as before
    assert "450.5" in run("check", "--prior", "doxorubicin=450.5mg/m2").stdout


def test_a_ceiling_lower_at_some_ages_is_named_when_no_age_was_given(run) -> None:
    """320 mg/m² of daunorubicin without an age was 58 % of the adult 550 limit, silently; a
    child's is 300 mg/m² (10 mg/kg under 2 years)."""
    args = ["check", "--prior", "daunorubicin=320mg/m2", "--height", "85cm", "--weight", "12kg"]
    data = json.loads(run(*args, "--format", "json").stdout)
    [w] = [w for w in data["warnings"] if w["code"] == "CEILING_AGE_NOT_GIVEN"]
    assert w["severity"] == "warning" and w["drug"] == "daunorubicin"
    assert "past the 225.4 mg/m² limit its ceiling has at some ages" in w["message"]
    for quiet in (["--age", "30"], ["--age", "4"]):  # an age: its own ceiling, said as such
        data = json.loads(run(*args, *quiet, "--format", "json").stdout)
        assert not [w for w in data["warnings"] if w["code"] == "CEILING_AGE_NOT_GIVEN"]
    low = ["check", "--prior", "daunorubicin=200mg/m2", "--format", "json"]
    assert "CEILING_AGE_NOT_GIVEN" not in run(*low).stdout
