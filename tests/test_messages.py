"""Messages that say what the user most likely did (issue 34): a lab file given as a history and
the reverse, a web page saved as CSV."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, write

PERSON = ["--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"]


def test_a_lab_file_given_as_a_history_is_named(run) -> None:
    p = run("check", "--history", str(ROOT / "examples" / "labs.csv"))
    assert p.returncode == 2
    assert "it looks like a lab file (date,name,value,unit): give it with --labs" in p.stderr


def test_a_history_given_as_a_lab_file_is_named(run) -> None:
    p = run("plan", "dia", *PERSON, "--labs", str(ROOT / "examples" / "history.csv"))
    assert p.returncode == 2
    assert "it looks like a history of doses (date,drug,dose,unit): give it with --history" in (
        p.stderr
    )


def test_a_web_page_saved_as_csv_is_named(run, tmp_path: Path) -> None:
    page = write(tmp_path, "export.csv", "<!DOCTYPE html>\n<html><body>login</body></html>\n")
    for args in (["check", "--history", str(page)], ["plan", "dia", *PERSON, "--labs", str(page)]):
        p = run(*args)
        assert p.returncode == 2 and "looks like an HTML or XML page" in p.stderr, p.stderr


def test_an_edited_copy_that_keeps_the_library_id_and_version_is_said(run, tmp_path) -> None:
    text = (ROOT / "regimens" / "ec.yaml").read_text(encoding="utf-8")
    assert "dose: 90 mg/m2" in text
    copy = write(tmp_path, "my-ec.yaml", text.replace("dose: 90 mg/m2", "dose: 100 mg/m2"))
    p = run("regimens", "diff", "ec", str(copy))
    assert p.returncode == 1
    assert "note: both files call themselves ec v1 but their contents differ" in p.stdout
    renamed = write(tmp_path, "ec2.yaml", text.replace('version: "1"', 'version: "1-local"'))
    p = run("regimens", "diff", "ec", str(renamed))
    assert "call themselves" not in p.stdout  # its own version: nothing to say


def test_an_infant_age_with_an_adult_body_is_said_and_the_age_reads_as_people_say_it(run) -> None:
    import json

    base = ["plan", "ec", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-20",
            "--cycles", "1", "--prior", "epirubicin=0mg/m2"]  # fmt: skip
    p = run(*base, "--age", "6weeks")
    assert "age 6 weeks" in p.stdout and "0.115" not in p.stdout
    data = json.loads(run(*base, "--age", "6weeks", "--format", "json").stdout)
    [w] = [w for w in data["warnings"] if w["code"] == "AGE_SIZE_IMPLAUSIBLE"]
    assert w["severity"] == "warning" and "height 175 cm and weight 70 kg" in w["message"]
    assert "age 18 months" in run(*base, "--age", "18months").stdout
    toddler = ["plan", "ec", "--height", "80cm", "--weight", "11kg", "--age", "18months",
               "--start", "2026-12-20", "--cycles", "1", "--format", "json"]  # fmt: skip
    codes = {w["code"] for w in json.loads(run(*toddler).stdout)["warnings"]}
    assert "AGE_SIZE_IMPLAUSIBLE" not in codes  # a toddler's size: nothing to say


VALIDATE = """\
id: my-ec
name: my ec
cycle_length_days: 21
sources: ["x"]
gates: []
status: approved
drugs:
  - drug: epirubicin
    dose: 90 mg/m2
    days: 1
    max_dose: 800 mg
"""


def test_regimens_validate_speaks_plainly_and_at_the_right_line(run, tmp_path) -> None:
    path = write(tmp_path, "r.yaml", VALIDATE)
    p = run("regimens", "validate", str(path))
    assert p.returncode == 2
    # the status line (6), not the file's first line
    assert f"{path}:6: status: status approved needs approved_by" in p.stderr
    path = write(tmp_path, "r.yaml", VALIDATE.replace("max_dose: 800 mg", "max_dose: 800"))
    p = run("regimens", "validate", str(path))
    assert "max_dose: 800 has no unit; write an absolute amount, e.g. '2 mg'" in p.stderr
    assert "mg/m2" not in p.stderr.split("max_dose:")[1]  # a cap is never per m² or an AUC
    bad = VALIDATE.replace("id: my-ec", "id: My EC!").replace('sources: ["x"]', "sources: []")
    p = run("regimens", "validate", str(write(tmp_path, "r.yaml", bad)))
    assert "id: 'My EC!' is not valid here: write lowercase letters, digits and hyphens" in p.stderr
    assert "sources: needs at least 1 item; the file gives 0" in p.stderr
    assert "should" not in p.stderr  # no pydantic wording


def test_a_dose_in_mg_recorded_without_its_bsa_is_said_when_recorded(run, tmp_path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'l.db'}"]
    env = {"DOSECALC_STATE_DIR": str(tmp_path / "state")}
    base = ["ledger", "record", *db, "--patient", "P1", "--drug", "epirubicin"]
    p = run(*base, "--date", "2026-11-01", "--dose", "153mg", env=env)
    assert p.returncode == 0
    assert (
        "notice: warning DOSE_WITHOUT_BSA: epirubicin: a dose in mg was recorded without the BSA "
        "of that day" in p.stderr
    )
    # what it says a check does is what the check does: no BSA given, the latest recorded one
    assert "else the latest bsa_m2 of the patient's records" in " ".join(p.stderr.split())
    for more in (["--dose", "153mg", "--bsa", "1.8"], ["--dose", "83mg/m2"]):
        p = run(*base, "--date", "2026-11-02", *more, "--again", env=env)
        assert p.returncode == 0 and "without the BSA" not in p.stderr, p.stderr
    # the other way round: a dose per m² of a total kept in units (bleomycin) needs that day's
    # BSA as much (a check without one was refused, and nothing was said when it was recorded)
    base = ["ledger", "record", *db, "--patient", "P2", "--drug", "bleomycin"]
    p = run(*base, "--date", "2026-11-01", "--dose", "10units/m2", env=env)
    assert p.returncode == 0
    assert (
        "notice: warning DOSE_WITHOUT_BSA: bleomycin: a dose in units/m² was recorded without "
        "the BSA of that day, and its lifetime total is kept in units" in " ".join(p.stderr.split())
    )
    p = run(*base, "--date", "2026-11-08", "--dose", "10units/m2", "--bsa", "1.8", env=env)
    assert p.returncode == 0 and "without the BSA" not in p.stderr, p.stderr


def test_doses_imported_without_their_bsa_are_said_as_one_recorded_is(run, tmp_path) -> None:
    """ledger import wrote such rows in silence (only ledger record said DOSE_WITHOUT_BSA)."""
    rows = (
        "patient,date,drug,dose,unit,bsa_m2\n"
        "Q1,2026-11-01,epirubicin,150,mg,\nQ1,2026-11-22,epirubicin,150,mg,\n"
        "Q1,2026-11-01,bleomycin,10,units/m2,\nQ1,2026-12-01,epirubicin,90,mg,1.8\n"
    )
    db = ["--db", f"sqlite:///{tmp_path / 'l.db'}"]
    env = {"DOSECALC_STATE_DIR": str(tmp_path / "state"), "DOSECALC_TODAY": "2026-12-08"}
    h = write(tmp_path, "h.csv", rows)
    p = run("ledger", "import", str(h), *db, env=env)
    assert p.returncode == 0, p.stderr
    said = " ".join(p.stderr.split())
    assert (
        f"DOSE_WITHOUT_BSA: epirubicin: 2 doses in mg ({h}:2, {h}:3) were recorded without "
        "the BSA of their day, and its lifetime total is kept in mg/m²" in said
    )
    assert f"DOSE_WITHOUT_BSA: bleomycin: a dose in units/m² ({h}:4) was recorded" in said
    assert f"{h}:5" not in said  # its BSA is on the row


def test_the_json_shape_follows_the_file_not_the_count_of_patients(run, tmp_path) -> None:
    import json

    one = write(
        tmp_path, "one.csv", "patient,date,drug,dose,unit\nP1,2025-01-01,epirubicin,40,mg/m2\n"
    )
    data = json.loads(run("check", "--history", str(one), "--format", "json").stdout)
    assert list(data) == ["patients"] and [p["patient"] for p in data["patients"]] == ["P1"]
    bare = write(tmp_path, "bare.csv", "date,drug,dose,unit\n2025-01-01,epirubicin,40,mg/m2\n")
    data = json.loads(run("check", "--history", str(bare), "--format", "json").stdout)
    assert "patients" not in data and "cumulative" in data


def test_every_problem_of_a_lab_file_comes_at_once(run, tmp_path) -> None:
    """A bad date and two different values of one lab on one day: one error, both problems
    (before, the conflict came only after the date was fixed)."""
    labs = write(
        tmp_path,
        "labs.csv",
        "date,name,value,unit\n2026-11-31,anc,1,x10^9/L\n2026-11-28,anc,1,x10^9/L\n"
        "2026-11-28,anc,2,x10^9/L\n2026-11-28,anc,1,x10^9/L\n",
    )
    p = run("plan", "dia", *PERSON, "--labs", str(labs))
    assert p.returncode == 2
    assert f"{labs}:2: date: '2026-11-31' is not a date" in p.stderr
    assert (
        f"{labs}:4: a second anc value for 2026-11-28: 2 x10^9/L, and 1 x10^9/L at labs.csv:3"
        in (p.stderr)
    )
    assert ":5:" not in p.stderr  # the same value again is the same result, not a conflict


def test_a_unit_read_as_the_regimen_is_named_never_a_look_alike_regimen(run) -> None:
    """`plan --height 175 cm --weight 70kg` (no regimen after the command): 'cm' became the
    regimen and was answered 'did you mean ec or ac?', which could start a wrong plan."""
    from dosecalc.data.regimen import UNIT_WORDS, library_ids

    p = run("plan", "--height", "175", "cm", "--weight", "70kg")
    assert p.returncode == 2
    assert "'cm' is a unit, not a regimen" in p.stderr and "did you mean" not in p.stderr
    assert not set(library_ids()) & UNIT_WORDS
