"""One administration counted once (CONTRACT §12): the same dose reaching a lifetime total twice
is refused, naming both places, unless --again says it was given twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = "date,drug,dose,unit,bsa_m2"


def _csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _epirubicin_total(stdout: str) -> float:
    data = json.loads(stdout)
    return next(t["total"] for t in data["cumulative"] if t["drug"] == "epirubicin")


def test_a_repeated_row_is_refused_naming_both_rows(run, tmp_path: Path) -> None:
    h = _csv(
        tmp_path / "h.csv", "2019-01-05,epirubicin,40,mg/m2,", "2019-01-05,epirubicin,40,mg/m2,"
    )
    r = run("check", "--history", str(h))
    assert r.returncode == 2, r.stdout
    assert r.stdout == ""
    assert f"{h}:3 repeats {h}:2" in r.stderr
    assert "--again" in r.stderr and "Traceback" not in r.stderr


def test_the_same_dose_per_m2_and_in_mg_with_its_bsa_is_one_administration(
    run, tmp_path: Path
) -> None:
    # 40 mg/m² and 72 mg at 1.8 m² are the same dose (CONTRACT §12's own example)
    h = _csv(tmp_path / "h.csv", "2019-01-05,epirubicin,40,mg/m2,", "2019-01-05,EPI,72,mg,1.80")
    r = run("check", "--history", str(h))
    assert r.returncode == 2
    assert f"{h}:3 repeats {h}:2" in r.stderr and "40 mg/m²" in r.stderr


def test_a_rounded_record_of_the_same_dose_is_a_repeat_and_a_different_dose_is_not(
    run, tmp_path: Path
) -> None:
    # 40 mg/m² × 1.84 m² = 73.6 mg, recorded rounded to 75 mg (within the 10 % of dose rounding)
    same = _csv(
        tmp_path / "a.csv", "2019-01-05,epirubicin,40,mg/m2,1.84", "2019-01-05,EPI,75,mg,1.84"
    )
    assert run("check", "--history", str(same)).returncode == 2
    # a bolus and an infusion of one drug on one day are two administrations
    two = _csv(
        tmp_path / "b.csv",
        "2019-01-05,fluorouracil,400,mg/m2,",
        "2019-01-05,fluorouracil,2400,mg/m2,",
    )
    r = run("check", "--history", str(two), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert next(t["total"] for t in data["cumulative"] if t["drug"] == "fluorouracil") == 2800


def test_times_or_ids_tell_twice_daily_doses_apart(run, tmp_path: Path) -> None:
    h = _csv(
        tmp_path / "h.csv",
        "2019-01-05,capecitabine,1000,mg/m2,,08:00,",
        "2019-01-05,capecitabine,1000,mg/m2,,20:00,",
        "2019-01-06,capecitabine,1000,mg/m2,,,A-1",
        "2019-01-06,capecitabine,1000,mg/m2,,,A-2",
        header=HEADER + ",time,id",
    )
    r = run("check", "--history", str(h), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert next(t["total"] for t in data["cumulative"] if t["drug"] == "capecitabine") == 4000


def test_the_same_time_or_the_same_id_does_not_tell_rows_apart(run, tmp_path: Path) -> None:
    h = _csv(
        tmp_path / "h.csv",
        "2019-01-05,epirubicin,40,mg/m2,,08:00,A-1",
        "2019-01-05,epirubicin,40,mg/m2,,08:00,",
        header=HEADER + ",time,id",
    )
    assert run("check", "--history", str(h)).returncode == 2


@pytest.mark.parametrize("patient", ["", "P1"], ids=["reference", "engine"])
def test_rows_with_one_source_id_are_one_administration(run, tmp_path: Path, patient) -> None:
    """The id is the administration's id in the source system: three rows of ADM-1 (two times
    of one day, and the next day) were counted three times, exit 0. A history that names its
    patients is checked by the engine (DuckDB), the same way."""
    rows = [
        "2024-03-05,epirubicin,100,mg/m2,,08:00,ADM-1",
        "2024-03-05,epirubicin,100,mg/m2,,09:00,ADM-1",
        "2024-03-06,epirubicin,100,mg/m2,,,ADM-1",
        "2024-03-06,epirubicin,100,mg/m2,,,ADM-2",
    ]
    header = HEADER + ",time,id" + (",patient" if patient else "")
    h = _csv(tmp_path / "h.csv", *[r + (f",{patient}" if patient else "") for r in rows],
             header=header)  # fmt: skip
    who = f"patient {patient}, " if patient else ""
    r = run("check", "--history", str(h))
    assert r.returncode == 2, r.stdout
    assert (
        f"{h}:3 repeats {h}:2 ({who}the same id ADM-1 in the source system, epirubicin on "
        "2024-03-05): one administration would count twice" in r.stderr
    ), r.stderr
    assert (
        f"{h}:4 repeats {h}:2 ({who}the same id ADM-1 in the source system, epirubicin on "
        "2024-03-05, then on 2024-03-06)" in r.stderr
    ), r.stderr
    assert f"{h}:5" not in r.stderr
    # --again counted ADM-1 three times (400 mg/m²): one id is one administration whatever it says
    r = run("check", "--history", str(h), "--again")
    assert r.returncode == 2 and "--again does not count one id twice" in r.stderr, r.stderr
    assert f"{h}:3 repeats {h}:2" in r.stderr and f"{h}:4 repeats {h}:2" in r.stderr
    # a repeat that no id tells apart is what --again counts again
    rows = ["2024-03-05,epirubicin,100,mg/m2,,,", *rows[:1], *rows[3:]]
    h = _csv(tmp_path / "h2.csv", *[r + (f",{patient}" if patient else "") for r in rows],
             header=header)  # fmt: skip
    r = run("check", "--history", str(h), "--again", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    totals = data["patients"][0]["cumulative"] if patient else data["cumulative"]
    assert next(t["total"] for t in totals if t["drug"] == "epirubicin") == 300
    assert "REPEAT_COUNTED" in r.stdout


@pytest.mark.parametrize("patient", ["", "P1"], ids=["reference", "engine"])
def test_a_row_without_an_id_never_hides_two_rows_of_one_id(run, tmp_path: Path, patient) -> None:
    """Rows A (no id), B and C (both ADM-1) of one day, drug and dose: each later row was paired
    with the first earlier row it repeats, A, which no id tells apart, so --again counted B and
    C, one administration, as two: 270 mg/m² where the rows hold 180, exit 0 (reference, engine,
    ledger import and a ledger record of ADM-1 beside the history alike)."""
    rows = ["2024-03-05,epirubicin,90,mg/m2,,", *["2024-03-05,epirubicin,90,mg/m2,,ADM-1"] * 2]
    header = HEADER + ",id" + (",patient" if patient else "")
    h = _csv(tmp_path / "h.csv", *[r + (f",{patient}" if patient else "") for r in rows],
             header=header)  # fmt: skip
    r = run("check", "--history", str(h), "--again")
    assert r.returncode == 2, r.stdout
    assert f"{h}:4 repeats {h}:3 (" in r.stderr and "the same id ADM-1" in r.stderr, r.stderr
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    imported = run("ledger", "import", str(h), "--again", "--patient", "P1", "--db", db)
    assert imported.returncode == 2 and f"{h}:4: patient P1:" in imported.stderr
    assert "repeats " + f"{h}:3 (the same id ADM-1" in imported.stderr, imported.stderr
    if not patient:  # the ledger's record of ADM-1 is C, beside A and B of the history
        record = ("--patient", "P1", "--date", "2024-03-05", "--drug", "epirubicin")
        assert run("ledger", "record", *record, "--dose", "90mg/m2", "--id", "ADM-1",
                   "--db", db).returncode == 0  # fmt: skip
        _csv(tmp_path / "h2.csv", *rows[:2], header=header)
        r = run("check", "--history", str(tmp_path / "h2.csv"), "--patient", "P1", "--db", db,
                "--again")  # fmt: skip
        assert r.returncode == 2 and "the same id ADM-1" in r.stderr, r.stdout


@pytest.mark.parametrize("bad", ["8:30", "24:00", "12:60", "noon", "08.30", "０８:３０"])
def test_a_time_that_is_not_hh_mm_is_refused_with_file_and_line(run, tmp_path: Path, bad) -> None:
    h = _csv(tmp_path / "h.csv", f"2019-01-05,epirubicin,40,mg/m2,,{bad}", header=HEADER + ",time")
    r = run("check", "--history", str(h))
    assert r.returncode == 2
    assert f"{h}:2" in r.stderr and "HH:MM" in r.stderr


def test_again_counts_the_repeat_and_says_so(run, tmp_path: Path) -> None:
    h = _csv(
        tmp_path / "h.csv", "2019-01-05,epirubicin,40,mg/m2,", "2019-01-05,epirubicin,40,mg/m2,"
    )
    r = run("check", "--history", str(h), "--again", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert _epirubicin_total(r.stdout) == 80
    codes = {w["code"]: w for w in json.loads(r.stdout)["warnings"]}
    assert (
        "REPEAT_COUNTED" in codes and f"{h}:3 repeats {h}:2" in codes["REPEAT_COUNTED"]["message"]
    )


def test_the_same_history_file_twice_is_refused(run, tmp_path: Path) -> None:
    h = _csv(tmp_path / "h.csv", "2019-01-05,epirubicin,40,mg/m2,")
    for second in (str(h), str(tmp_path / "." / "h.csv")):
        r = run("check", "--history", str(h), "--history", second)
        assert r.returncode == 2
        assert "--history" in r.stderr and "twice" in r.stderr


def test_a_history_row_that_repeats_a_ledger_record_is_refused_in_check_and_plan(
    run, tmp_path: Path
) -> None:
    env = {"DOSECALC_DB": f"sqlite:///{tmp_path / 'ledger.db'}"}
    rec = run(
        "ledger", "record", "--patient", "P1", "--date", "2019-01-05", "--drug", "epirubicin",
        "--dose", "40mg/m2", env=env,
    )  # fmt: skip
    assert rec.returncode == 0, rec.stderr
    h = _csv(tmp_path / "h.csv", "2019-01-05,EPI,72,mg,1.8")
    for cmd in (
        ["check", "--patient", "P1", "--history", str(h)],
        ["plan", "ec", "--bsa", "1.8", "--patient", "P1", "--history", str(h)],
    ):
        r = run(*cmd, env=env)
        assert r.returncode == 2, (cmd, r.stdout)
        assert "ledger record #1" in r.stderr and f"{h}:2" in r.stderr
    ok = run(
        "plan", "ec", "--bsa", "1.8", "--patient", "P1", "--history", str(h), "--again",
        "--format", "json", env=env,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert _epirubicin_total(ok.stdout) == 80 + 4 * 90  # both prior doses, then four EC cycles
    assert any(w["code"] == "REPEAT_COUNTED" for w in json.loads(ok.stdout)["warnings"])


def test_repeats_in_a_multi_patient_history_are_refused_before_any_output(
    run, tmp_path: Path
) -> None:
    rows = [f"2019-01-{d:02d},epirubicin,40,mg/m2,,P{p}" for p in range(3) for d in range(1, 9)]
    rows.append("2019-01-03,epirubicin,40,mg/m2,,P2")  # the last patient's third day, again
    h = _csv(tmp_path / "h.csv", *rows, header=HEADER + ",patient")
    for fmt in ("json", "table"):
        r = run("check", "--history", str(h), "--format", fmt)
        assert r.returncode == 2 and r.stdout == ""
        assert f"{h}:26 repeats {h}:20 (patient P2, epirubicin on 2019-01-03" in r.stderr


def test_the_same_patient_on_another_day_or_another_patient_is_not_a_repeat(
    run, tmp_path: Path
) -> None:
    h = _csv(
        tmp_path / "h.csv",
        "2019-01-05,epirubicin,40,mg/m2,,P1",
        "2019-01-05,epirubicin,40,mg/m2,,P2",
        "2019-01-06,epirubicin,40,mg/m2,,P1",
        header=HEADER + ",patient",
    )
    assert run("check", "--history", str(h), "--format", "json").returncode == 0


@pytest.mark.parametrize("patients", [False, True], ids=["one patient", "pharmacy file"])
def test_every_problem_of_a_history_is_named_at_once(run, tmp_path: Path, patients) -> None:
    """A repeat, a unit slip and rows no BSA converts, in one refusal (they came one per run:
    fixing the repeat then showed the slip, then the first row without a BSA); one patient's
    file and a pharmacy file (the engine) name the same rows in the same words."""
    rows = [
        "2026-01-01,epirubicin,60,mg/m2,",
        "2026-01-01,epirubicin,60,mg/m2,",
        "2026-02-01,epirubicin,1600,mg/m2,",
    ]
    other = ["2026-02-05,doxorubicin,130,mg,", "2026-03-05,doxorubicin,140,mg,"]
    if patients:
        rows = [f"{r},A" for r in rows] + [f"{r},B" for r in other]
        h = _csv(tmp_path / "h.csv", *rows, header=HEADER + ",patient")
    else:
        # one patient: rows without a BSA convert with the file's own when it has one
        h = _csv(tmp_path / "h.csv", *rows)
        other_h = _csv(tmp_path / "o.csv", *other)
    r = run("check", "--history", str(h), *([] if patients else ["--history", str(other_h)]))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == "Error: 4 problems:", r.stderr
    assert f"{h}:3 repeats {h}:2" in lines[1]
    assert lines[2].startswith(f"  {h}:4: epirubicin 1,600 mg/m2 is 10.7 times")
    b = h if patients else other_h
    assert lines[3].startswith(f"  {b}:{5 if patients else 2}: 130 mg of doxorubicin cannot be")
    assert lines[4].startswith(f"  {b}:{6 if patients else 3}: 140 mg of doxorubicin cannot be")


@pytest.mark.parametrize("bsa", ["1.8", "2.2"])
@pytest.mark.parametrize("patients", [False, True], ids=["one patient", "pharmacy file"])
def test_a_dose_per_m2_and_an_absolute_one_without_a_bsa_of_that_day_may_be_one(
    run, tmp_path: Path, bsa: str, patients: bool
) -> None:
    """40 mg/m² and 72 mg on one day, neither row with bsa_m2, are one administration if the
    patient's BSA that day was 1.8 m²: the BSA of today (--bsa) does not decide it (at --bsa 2.2
    they were counted twice, 40 + 32.7, with a BSA_ASSUMED note only); both paths refuse it."""
    rows = ["2019-01-05,epirubicin,40,mg/m2,", "2019-01-05,epirubicin,72,mg,"]
    header = HEADER + (",patient" if patients else "")
    h = _csv(tmp_path / "h.csv", *[r + (",A" if patients else "") for r in rows], header=header)
    r = run("check", "--history", str(h), "--bsa", bsa, "--format", "json")
    assert r.returncode == 2 and r.stdout == "", r.stdout
    who = "patient A, " if patients else ""
    assert (
        f"{h}:3 may repeat {h}:2 ({who}epirubicin on 2019-01-05, 40 mg/m² and 72 mg): neither "
        "row gives the bsa_m2 of that day, and at 1.8 m² they are one dose" in r.stderr
    ), r.stderr
    again = run("check", "--history", str(h), "--bsa", bsa, "--format", "json", "--again")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    data = data["patients"][0] if patients else data
    total = next(t["total"] for t in data["cumulative"] if t["drug"] == "epirubicin")
    assert total == pytest.approx(40 + 72 / float(bsa))
    # the BSA of that day on either row decides it: 72 mg at 2.2 m² is 32.7 mg/m², another dose
    given = _csv(
        tmp_path / "g.csv",
        *[r + ("2.2" if k else "") + (",A" if patients else "") for k, r in enumerate(rows)],
        header=header,
    )
    r = run("check", "--history", str(given), "--bsa", bsa, "--format", "json")
    assert r.returncode == 0, r.stderr


def test_doses_no_bsa_makes_one_are_two_administrations(run, tmp_path: Path) -> None:
    # 40 mg/m² and 400 mg would be one dose only at 10 m², outside any BSA dosecalc takes
    h = _csv(tmp_path / "h.csv", "2019-01-05,epirubicin,40,mg/m2,", "2019-01-05,epirubicin,400,mg,")
    r = run("check", "--history", str(h), "--bsa", "2", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert _epirubicin_total(r.stdout) == pytest.approx(40 + 200)


@pytest.mark.parametrize("suffix", [".csv", ".yaml"], ids=["engine", "reference"])
@pytest.mark.parametrize(("one", "other"), [("P001", "p001"), ("007", "7")])
def test_patient_ids_that_differ_only_in_case_are_named_in_every_format(
    run, tmp_path: Path, suffix: str, one: str, other: str
) -> None:
    """P001 and p001 were two patients without a word: one patient under two ids has each total
    split in two (500 + 500 mg/m² of epirubicin, never past 900). Kept apart (ids are
    case-sensitive in many systems), and said in every format, by the engine and the reference.
    So were 007 and 7 (a spreadsheet drops a number's leading zeros)."""
    rows = [(one, "2019-01-05"), (other, "2019-02-05"), ("B", "2019-01-05")]
    if suffix == ".csv":
        h = _csv(
            tmp_path / "h.csv",
            *[f"{d},epirubicin,500,mg/m2,,{p}" for p, d in rows],
            header=HEADER + ",patient",
        )
    else:
        h = tmp_path / "h.yaml"
        h.write_text(
            "".join(
                f"- {{patient: '{p}', date: {d}, drug: epirubicin, dose: 500, unit: mg/m2}}\n"
                for p, d in rows
            ),
            encoding="utf-8",
        )
    said = (
        f"patient ids that differ only in case or leading zeros: '{one}' and '{other}'; each is "
        "checked as a patient"
    )
    r = run("check", "--history", str(h), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    [w] = [w for w in data["warnings"] if w["code"] == "PATIENT_IDS_ALIKE"]
    assert said in w["message"] and w["severity"] == "warning"
    assert [p["patient"] for p in data["patients"]] == [one, other, "B"]
    for fmt in ("table", "csv"):
        r = run("check", "--history", str(h), "--format", fmt)
        assert r.returncode == 0 and said in r.stderr, (fmt, r.stderr)
    alone = _csv(
        tmp_path / "b.csv",
        "2019-01-05,epirubicin,40,mg/m2,,B",
        "2019-01-05,epirubicin,40,mg/m2,,b2",
        header=HEADER + ",patient",
    )
    r = run("check", "--history", str(alone), "--format", "json")
    assert "PATIENT_IDS_ALIKE" not in r.stdout
