"""The dose engine and the dated schedule, on real regimen files."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.base.errors import InputError
from dosecalc.clinical.bsa import mosteller
from dosecalc.clinical.patient import build_patient
from dosecalc.clinical.plan import make_plan
from dosecalc.data import regimen as rg
from tests.conftest import write
from tests.strategies import adults, bsas, cycles

BSA_175_70 = mosteller(175, 70)  # 1.844662 m²


def dia_plan(**kw: object):
    kw.setdefault("start", "2026-12-01")
    return make_plan(rg.load("dia"), build_patient("175cm", "70kg"), **kw)


def test_dia_two_cycles_eighteen_administrations_with_dates_and_doses() -> None:
    plan = dia_plan()
    rows = [
        (a.cycle, a.day, a.date.isoformat(), a.dose.drug, round(a.dose.dose, 4))
        for a in plan.administrations
        if a.serves is None  # the protocol's own lines (mesna serves ifosfamide: test_supportive)
    ]
    assert len(rows) == 18
    cis, epi, ifo = (round(x * BSA_175_70, 4) for x in (120, 40, 2000))
    assert rows[:9] == [
        (1, 1, "2026-12-01", "cisplatin", cis),
        (1, 1, "2026-12-01", "epirubicin", epi),
        (1, 1, "2026-12-01", "ifosfamide", ifo),
        (1, 2, "2026-12-02", "epirubicin", epi),
        (1, 2, "2026-12-02", "ifosfamide", ifo),
        (1, 3, "2026-12-03", "epirubicin", epi),
        (1, 3, "2026-12-03", "ifosfamide", ifo),
        (1, 4, "2026-12-04", "ifosfamide", ifo),
        (1, 5, "2026-12-05", "ifosfamide", ifo),
    ]
    # cycle 2 starts 14 days after cycle 1 (start to start)
    assert [r[2] for r in rows[9:]] == ["2026-12-15"] * 3 + ["2026-12-16"] * 2 + [
        "2026-12-17"
    ] * 2 + ["2026-12-18", "2026-12-19"]
    assert cis == pytest.approx(221.3594, abs=1e-4)  # 120 mg/m² × 1.844662 m²


def test_every_dose_carries_its_trace() -> None:
    a = dia_plan().administrations[1]
    assert a.dose.trace == (
        "protocol: 40 mg/m² on each listed day",
        "× BSA 1.8447 m² (mosteller) = 73.8 mg",
        "dose: 73.8 mg",
    )


def test_cycles_option_overrides_the_regimen_default() -> None:
    plan = dia_plan(cycles=11)
    assert len([a for a in plan.administrations if a.serves is None]) == 11 * 9
    assert len([a for a in plan.administrations if a.dose.drug == "mesna"]) == 11 * 5 * 3


def test_cycles_out_of_range_is_refused() -> None:
    with pytest.raises(InputError, match="give 1 to 500"):
        dia_plan(cycles=0)


def test_bad_start_date() -> None:
    with pytest.raises(InputError) as e:
        dia_plan(start="2026-13-01")
    assert (
        str(e.value)
        == "--start: '2026-13-01' is not a date: there is no month 13 (a month is 01 to 12)"
    )


def test_no_start_means_today_and_says_so() -> None:
    plan = make_plan(rg.load("dia"), build_patient("175cm", "70kg"), today=date(2030, 1, 2))
    assert plan.start == date(2030, 1, 2)
    assert any(w.code == "START_DATE_ASSUMED" for w in plan.warnings)


CAPPED = """\
id: capped
name: "cap test"
cycle_length_days: 21
sources: ["test fixture"]
drugs:
  - drug: VCR
    dose: 1.4 mg/m2
    max_dose: 2 mg
    days: 1
  - drug: bleomycin
    dose: 10 units/m2
    days: 1, 15
  - drug: cisplatin
    dose: 2 mg/kg
    days: 1
  - drug: prednisone
    dose: 100 mg
    days: 1-5
    route: PO
"""


def test_cap_units_weight_and_flat(tmp_path: Path) -> None:
    r = rg.load_file(write(tmp_path, "capped.yaml", CAPPED))
    plan = make_plan(r, build_patient("190cm", "90kg"), start="2026-01-05")
    bsa = mosteller(190, 90)  # 2.1794 m²
    by_drug = {a.dose.drug: a.dose for a in plan.administrations}
    vcr = by_drug["vincristine"]
    assert (vcr.calculated, vcr.dose, vcr.capped) == (pytest.approx(1.4 * bsa), 2.0, True)
    assert "capped at max_dose 2 mg (calculated 3.05 mg)" in vcr.trace
    assert (by_drug["bleomycin"].dose, by_drug["bleomycin"].unit) == (
        pytest.approx(10 * bsa),
        "units",
    )
    assert by_drug["cisplatin"].dose == pytest.approx(180.0)  # 2 mg/kg × 90 kg
    assert by_drug["prednisone"].dose == 100.0
    assert [w.code for w in plan.warnings if w.drug == "vincristine" and w.severity != "info"] == [
        "DOSE_CAPPED"
    ]
    # the file writes VCR: read as vincristine, and said so (ISMP: full generic names)
    assert "ABBREVIATION_READ" in [w.code for w in plan.warnings if w.drug == "vincristine"]


def test_mg_per_m2_dose_needs_a_bsa(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a plan needs the patient's BSA"):
        make_plan(rg.load("dia"), build_patient(weight="70kg", require_bsa=False))


# ---------------------------------------------------------------- properties


@given(adults())
def test_kg_and_lb_cm_and_in_give_identical_doses(hw: tuple[float, float]) -> None:
    h, w = hw
    metric = dia_plan_for(f"{h!r}cm", f"{w!r}kg")
    imperial = dia_plan_for(f"{h / 2.54!r}in", f"{w / 0.45359237!r}lb")
    for a, b in zip(metric.administrations, imperial.administrations, strict=True):
        assert a.dose.dose == pytest.approx(b.dose.dose, rel=1e-12)


def dia_plan_for(height: str, weight: str):
    return make_plan(rg.load("dia"), build_patient(height, weight), start="2026-12-01")


@given(bsas, st.floats(1.01, 3.0))
def test_dose_grows_linearly_with_bsa(bsa: float, factor: float) -> None:
    base = make_plan(rg.load("dia"), build_patient(bsa=str(bsa)), start="2026-12-01")
    scaled_bsa = min(bsa * factor, 4.0)
    scaled = make_plan(rg.load("dia"), build_patient(bsa=str(scaled_bsa)), start="2026-12-01")
    for a, b in zip(base.administrations, scaled.administrations, strict=True):
        assert b.dose.dose / a.dose.dose == pytest.approx(scaled_bsa / bsa, rel=1e-9)


@settings(max_examples=50)
@given(st.sampled_from(rg.library_ids()), cycles, st.dates(date(2000, 1, 1), date(2090, 1, 1)))
def test_dates_lie_inside_their_cycle_and_count_is_cycles_times_days(
    regimen_id: str, n: int, start: date
) -> None:
    r = rg.load(regimen_id)
    plan = make_plan(r, build_patient("175cm", "70kg", gfr="90mL/min"), start=start, cycles=n)
    assert len(plan.administrations) == sum(
        len(o.days) * len(o.at_hours or [0])
        for c in range(1, n + 1)
        for o in r.drugs
        if r.given_in(o, c)
    )
    length = timedelta(days=r.cycle_length_days)
    for a in plan.administrations:
        first = start + (a.cycle - 1) * length
        assert first <= a.date < first + length
        assert a.date == first + timedelta(days=a.day - 1)
    by_drug: dict[tuple[str, str, str | None], list[tuple[date, float]]] = {}
    for a in plan.administrations:  # a timed supportive line: several doses a day, by the hour
        when = (a.date, (a.at_h or 0) % 24)
        key = (a.dose.drug, a.dose.protocol.text, a.dose.note)  # ondansetron before and after
        by_drug.setdefault(key, []).append(when)
    for dates in by_drug.values():
        assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_a_line_given_in_none_of_the_cycles_planned_is_said(run, tmp_path: Path) -> None:
    """Trastuzumab from cycle 5 in a plan of 4 never appeared and nothing said so; a regimen
    whose only line starts after its cycles planned nothing at all, exit 0."""
    import json

    head = "id: late\nname: late\ncycle_length_days: 21\nsources: [x]\ngates: []\n"
    late = tmp_path / "late.yaml"
    late.write_text(head + "cycles: 4\ndrugs:\n  - {drug: paclitaxel, dose: 175 mg/m2, days: 1}\n"
                    "  - {drug: trastuzumab, dose: 6 mg/kg, days: 1, cycles: 5-}\n")  # fmt: skip
    args = ("--height", "175cm", "--weight", "70kg", "--start", "2026-12-01", "--format", "json")
    data = json.loads(run("plan", str(late), *args).stdout)
    [w] = [w for w in data["warnings"] if w["code"] == "LINE_NOT_PLANNED"]
    assert w["severity"] == "info" and "trastuzumab (cycles 5 on)" in w["message"]
    data = json.loads(run("plan", str(late), *args, "--cycles", "5").stdout)
    assert "LINE_NOT_PLANNED" not in {w["code"] for w in data["warnings"]}
    none = tmp_path / "none.yaml"
    none.write_text(head + "cycles: 3\ndrugs:\n"
                    "  - {drug: trastuzumab, dose: 6 mg/kg, days: 1, cycles: 5-9}\n")  # fmt: skip
    data = json.loads(run("plan", str(none), *args).stdout)
    [w] = [w for w in data["warnings"] if w["code"] == "LINE_NOT_PLANNED"]
    assert w["severity"] == "warning" and "the plan gives no drug at all" in w["message"]


def test_no_age_for_a_patient_of_a_small_childs_size_is_named(run) -> None:
    """A patient of 0.45 m² (or 9 kg) with no --age was planned with no word that the checks
    needing the age (an infant, a child: CHILD_DOSING_NOT_STATED, the child's weight-change
    threshold) were not made: an unknown age passed as an adult's."""
    base = ("plan", "dia", "--start", "2026-12-08", "--cycles", "1", "--format", "json")
    for size in (["--bsa", "0.45"], ["--height", "72cm", "--weight", "9kg"]):
        r = run(*base, *size)
        assert r.returncode in (0, 1), r.stderr
        [said] = [w for w in json.loads(r.stdout)["warnings"] if w["code"] == "AGE_NOT_GIVEN"]
        assert said["severity"] == "warning" and "give --age" in said["message"]
        assert "children.small_" in said["message"]
        r = run(*base, *size, "--age", "4")  # the age given: the child's checks are made
        assert "AGE_NOT_GIVEN" not in r.stdout and "CHILD_DOSING_NOT_STATED" in r.stdout
    r = run(*base, "--bsa", "1.8")  # an adult's size: the policy's child rules would not differ
    assert "AGE_NOT_GIVEN" not in r.stdout
