"""Treatment courses: phases on one calendar, radiotherapy, delays, the reference case replay."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosecalc.clinical.schedule import cycle_starts, fractions
from tests.conftest import ROOT, schema, write

REFERENCE = str(ROOT / "examples" / "chen-2023-pelvic-osteosarcoma.yaml")
DIVIDED = str(ROOT / "examples" / "chen-2023-pelvic-osteosarcoma-divided.yaml")


@pytest.fixture(scope="module")
def reference() -> dict:
    from typer.testing import CliRunner

    from dosecalc.cli import app

    result = CliRunner().invoke(app, ["plan", REFERENCE, "--format", "json"])
    assert result.exit_code == 1, result.stderr  # the epirubicin limit is exceeded
    return json.loads(result.stdout)


def test_the_reference_course_runs_as_it_is_and_matches_the_contract(reference) -> None:
    jsonschema.validate(reference, schema("plan-output"))
    assert reference["regimen"]["id"] == "chen-2023-pelvic-osteosarcoma"
    # DIA 2 + 9 cycles × 9 administrations, anlotinib 2 × 14 days, DDP+EPI 4 × 2, DDP+IFO 2 × 6
    given = reference["administrations"]
    assert len([a for a in given if not a["supportive"]]) == 11 * 9 + 28 + 8 + 12
    # mesna with each ifosfamide dose: 3 a day on days 1-5 of DIA (11 cycles) and DDP+IFO (2)
    assert len([a for a in given if a["drug"] == "mesna"]) == (11 + 2) * 5 * 3
    assert {a["regimen"] for a in reference["administrations"]} == {
        "dia",
        "anlotinib",
        "ddp-epi",
        "ddp-ifo",
    }


def test_the_reference_course_flags_the_epirubicin_ceiling_in_the_right_place(reference) -> None:
    """Per-day reading: 240 mg/m² after neoadjuvant DIA; adjuvant DIA (phase 3) adds 120 per
    cycle, so 900 is reached on its cycle 6 day 2 (840 + 80 = 920) and 1,000 exceeded on its
    cycle 7 day 2 (960 + 80 = 1,040)."""
    crossings = {
        w["code"]: (w["phase"], w["cycle"], w["day"], w["date"], w["severity"])
        for w in reference["warnings"]
        if w["drug"] == "epirubicin" and w["code"].startswith("CUMULATIVE")
    }
    assert crossings == {
        "CUMULATIVE_THRESHOLD_REACHED": (3, 6, 2, "2019-02-21", "warning"),
        "CUMULATIVE_LIMIT_EXCEEDED": (3, 7, 2, "2019-03-07", "critical"),
    }
    epi = next(t for t in reference["cumulative"] if t["drug"] == "epirubicin")
    assert epi["total"] == pytest.approx(11 * 120 + 4 * 50)


def test_phases_are_dated_on_one_calendar(reference) -> None:
    phases = {p["phase"]: p for p in reference["regimen"]["phases"]}
    assert [p["kind"] for p in phases.values()] == [
        "regimen",
        "event",
        "regimen",
        "event",
        "radiotherapy",
        "regimen",
        "regimen",
        "regimen",
    ]
    rt = phases[5]
    assert (rt["fractions"], rt["total_gy"], rt["cardiac"]) == (20, 60.0, False)
    assert rt["fraction_dates"][-1] == "2021-04-30"  # 20 weekdays from Monday 2021-04-05
    # anlotinib overlaps the radiotherapy; DDP+EPI starts the day after anlotinib ends
    assert phases[6]["start"] == "2021-04-05" and phases[7]["start"] == "2021-05-17"
    assert phases[8]["start"] == "2021-08-09"
    assert phases[3]["totals_after"]["epirubicin"] == pytest.approx(240 + 9 * 120)
    assert reference["patient"]["cardiac_radiation_gy"] is None  # a pelvic field


def test_the_divided_reading_stays_under_the_ceiling(cli) -> None:
    code, out, _ = cli("plan", DIVIDED, "--format", "json")
    data = json.loads(out)
    epi = next(t for t in data["cumulative"] if t["drug"] == "epirubicin")
    assert epi["total"] == pytest.approx(11 * 40 + 4 * 50)  # 640 mg/m²
    assert not [w for w in data["warnings"] if w["code"].startswith("CUMULATIVE")]
    # critical (exit 1) only for cisplatin 140 mg/m², above the usual maximum single dose
    critical = {(w["code"], w["drug"]) for w in data["warnings"] if w["severity"] == "critical"}
    assert code == 1 and critical == {("DOSE_ABOVE_USUAL_MAXIMUM", "cisplatin")}


def test_the_reference_table_groups_by_phase_and_shows_oral_runs(cli) -> None:
    code, out, _ = cli("plan", REFERENCE)
    assert code == 1
    assert "Phase 5: radiotherapy IMRT, pelvis: 20 × 3 Gy = 60 Gy" in out
    assert "1-14   Mon 2021-04-05 → Sun 2021-04-18   anlotinib   12 mg daily" in out
    assert "epirubicin reaches its 900 mg/m² threshold at phase 3 cycle 6 day 2 (2019-02-21)" in out
    assert "lifetime after this phase: epirubicin 1,320 mg/m² (132 % of limit)" in out


CHEST = """\
course: chest-rt
patient: {{height: 170cm, weight: 70kg}}
phases:
  - radiotherapy: "mantle field"
    site: {site}
    dose_per_fraction: 200 cGy
    fractions: 15
    start: 2026-01-05
  - regimen: ap
    cycles: 6
"""


def test_a_cardiac_field_lowers_the_doxorubicin_limit(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", CHEST.format(site="mediastinum"))
    code, out, _ = cli("plan", str(path), "--format", "json")
    data = json.loads(out)
    dox = next(t for t in data["cumulative"] if t["drug"] == "doxorubicin")
    assert data["patient"]["cardiac_radiation_gy"] == pytest.approx(30.0)
    # AP: 75 mg/m² a cycle × 6 = 450 > the 400 mg/m² limit with cardiac-region radiation
    assert (dox["limit"], dox["total"], code) == (400, 450, 1)
    assert dox["adjustments"] and "cardiac region" in dox["adjustments"][0]
    # the RT phase ends on a Friday: the regimen starts the day after its last fraction
    assert data["regimen"]["phases"][1]["start"] == "2026-01-24"


def test_an_unclassified_site_must_say_whether_it_is_cardiac(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", CHEST.format(site="left arm"))
    code, _, err = cli("plan", str(path))
    assert code == 2
    assert err.startswith(
        f"Error: {path}:5: site: dosecalc does not know whether a 'left arm' "
        "field includes the heart; add 'cardiac: true' or 'cardiac: false'"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "course: x\nphases:\n  - regimen: dai\n    cycles: 2\n    start: 2026-01-05\n",
            "c.yaml:3: phases[0].regimen: 'dai' is neither a library regimen nor a file; did you mean "
            "dia?",
        ),
        (
            "course: x\nphases:\n  - regimen: dia\n    cycle: 2\n",
            "c.yaml:4: phases[0].cycle: unknown key 'cycle'; valid keys here: regimen, cycles, start",
        ),
        ("course: x\nphases:\n  - surgery: 2026-01-05\n", "c.yaml:3: phases[0]: a phase is one of"),
        (
            "course: x\nphases:\n  - regimen: dia\n",
            "c.yaml:3: phases[0].start: the first treatment "
            "phase needs a start date (or give --start)",
        ),
        (
            "course: x\nphases:\n  - event: surgery\n    date: 2026-02-30\n",
            "c.yaml:4: phases[0].date: '2026-02-30' is not a date: there is no 30 February (February "
            "2026 has 28 days)",
        ),
    ],
)
def test_bad_course_files_name_file_line_and_key(
    cli, tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "c.yaml", text)
    code, _, err = cli("plan", str(path), "--bsa", "1.8")
    assert code == 2 and message in err.replace(f"{tmp_path}/", ""), err


def test_the_patient_block_is_used_and_the_command_line_wins(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", CHEST.format(site="pelvis"))
    data = json.loads(cli("plan", str(path), "--format", "json")[1])
    assert (data["patient"]["height_cm"], data["patient"]["weight_kg"]) == (170, 70)
    data = json.loads(cli("plan", str(path), "--weight", "80kg", "--format", "json")[1])
    assert data["patient"]["weight_kg"] == 80


# ---------------------------------------------------------------- delays and calendars


def test_a_delay_shifts_the_later_cycles_or_keeps_the_grid(cli) -> None:
    base = [
        "plan",
        "dia",
        "--height",
        "175cm",
        "--weight",
        "70kg",
        "--start",
        "2026-12-01",
        "--cycles",
        "3",
        "--delay",
        "2=7",
        "--format",
        "json",
    ]
    shifted = json.loads(cli(*base)[1])
    kept = json.loads(cli(*base, "--delay-mode", "keep")[1])
    assert shifted["regimen"]["cycle_starts"] == ["2026-12-01", "2026-12-22", "2027-01-05"]
    assert kept["regimen"]["cycle_starts"] == ["2026-12-01", "2026-12-22", "2026-12-29"]
    assert [w["cycle"] for w in kept["warnings"] if w["code"] == "SHORT_INTERVAL"] == [3]
    assert not [w for w in shifted["warnings"] if w["code"] == "SHORT_INTERVAL"]
    dates = [a["date"] for a in shifted["administrations"] if a["cycle"] == 3]
    assert dates[0] == "2027-01-05"


def test_a_delay_in_a_course_names_its_phase(cli) -> None:
    data = json.loads(cli("plan", REFERENCE, "--delay", "7.2=7", "--format", "json")[1])
    phase7 = next(p for p in data["regimen"]["phases"] if p["phase"] == 7)
    assert phase7["cycle_starts"][:2] == ["2021-05-17", "2021-06-14"]  # 21 + 7 days
    code, _, err = cli("plan", REFERENCE, "--delay", "2.1=7")
    assert code == 2 and "phase 2 is not a regimen phase" in err


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        ("0=7", "numbered from 1"),
        ("2=0", "a delay is 1 to 365 days"),
        ("two=7", "is not CYCLE=DAYS"),
    ],
)
def test_bad_delays(cli, delay: str, message: str) -> None:
    code, _, err = cli("plan", "dia", "--bsa", "1.8", "--delay", delay)
    assert code == 2 and message in err


def test_actual_dates_from_a_history_date_the_given_cycle(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,regimen,cycle,day\n"
        "2026-11-03,cisplatin,120,mg/m2,dia,1,1\n2026-11-03,epirubicin,40,mg/m2,dia,1,1\n"
        "2026-11-04,epirubicin,40,mg/m2,dia,1,2\n",
    )
    code, out, _ = cli(
        "plan",
        "dia",
        "--height",
        "175cm",
        "--weight",
        "70kg",
        "--cycles",
        "2",
        "--history",
        str(path),
        "--actual-dates",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["regimen"]["cycle_starts"] == ["2026-11-03", "2026-11-17"]
    epi = next(t for t in data["cumulative"] if t["drug"] == "epirubicin")
    assert (epi["prior"], epi["planned"]) == (80, pytest.approx(160))  # counted once
    assert "GIVEN_FROM_HISTORY" in [w["code"] for w in data["warnings"]]


@given(st.dates(date(2000, 1, 1), date(2090, 1, 1)), st.integers(1, 40))
def test_fractions_are_weekdays_and_consecutive(start: date, count: int) -> None:
    days = fractions(start, count)
    assert len(days) == count and all(d.weekday() < 5 for d in days)
    assert days == sorted(set(days)) and days[0] >= start
    # no weekday is skipped between the first and last fraction
    span = [days[0] + timedelta(n) for n in range((days[-1] - days[0]).days + 1)]
    assert [d for d in span if d.weekday() < 5] == days


@given(
    st.integers(1, 30), st.integers(7, 42), st.dictionaries(st.integers(1, 30), st.integers(1, 30))
)
def test_shifted_cycles_never_come_closer_than_the_cycle_length(n, length, delays) -> None:
    starts = cycle_starts(date(2026, 1, 1), n, length, delays, "shift")
    assert all((b - a).days >= length for a, b in zip(starts, starts[1:], strict=False))


def test_a_phase_naming_a_course_file_says_courses_do_not_nest(run, tmp_path: Path) -> None:
    """Eight 'id: this required key is missing' errors at the inner file's line 1."""
    inner = tmp_path / "inner.yaml"
    inner.write_text("course: inner\nphases:\n  - regimen: ec\n    cycles: 1\n")
    outer = tmp_path / "outer.yaml"
    outer.write_text("course: outer\nphases:\n  - regimen: ec\n    cycles: 1\n    start: 2026-12-01\n"
                     "  - regimen: inner.yaml\n    cycles: 1\n")  # fmt: skip
    p = run("plan", str(outer), "--height", "175cm", "--weight", "70kg")
    assert p.returncode == 2 and p.stderr.count("Error") == 1, p.stderr
    assert "outer.yaml:6: phases[1].regimen: inner.yaml: this is a course file" in p.stderr
    assert "courses do not nest" in p.stderr


def test_a_course_phase_says_a_line_it_does_not_give(run, tmp_path: Path) -> None:
    """LINE_NOT_PLANNED in a course names its phase (courses schedule each phase themselves)."""
    import json

    (tmp_path / "late.yaml").write_text(
        "id: late\nname: late\ncycle_length_days: 21\nsources: [x]\ngates: []\ndrugs:\n"
        "  - {drug: paclitaxel, dose: 175 mg/m2, days: 1}\n"
        "  - {drug: trastuzumab, dose: 6 mg/kg, days: 1, cycles: 5-}\n"
    )
    course = tmp_path / "c.yaml"
    course.write_text("course: c\nphases:\n  - regimen: ec\n    cycles: 1\n    start: 2026-12-01\n"
                      "  - regimen: late.yaml\n    cycles: 2\n")  # fmt: skip
    p = run("plan", str(course), "--height", "175cm", "--weight", "70kg", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    [w] = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "LINE_NOT_PLANNED"]
    assert w["phase"] == 2 and "trastuzumab (cycles 5 on)" in w["message"]


def test_the_calendar_line_prints_the_last_day_and_the_json_end_stays_exclusive(cli) -> None:
    """A phase's JSON `end` is the day after its last day (other tools rely on it); the table's
    'Calendar: … to DAY' read inclusive and named that day after: it names the last day."""
    _, text, _ = cli("plan", REFERENCE, "--format", "json")
    phases = json.loads(text)["regimen"]["phases"]
    last = phases[-1]
    assert (
        last["end"]
        == (
            date.fromisoformat(last["cycle_starts"][-1]) + timedelta(days=last["cycle_length_days"])
        ).isoformat()
        == "2021-09-20"
    )
    _, out, _ = cli("plan", REFERENCE)
    assert "Calendar: 8 phases from Wed 2018-09-19 to Sun 2021-09-19\n" in out
