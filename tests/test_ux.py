"""What a user reads: messages that name the right option, all of a file's problems at once,
near misses answered, help without Python types, wording without slips, options that would do
nothing said, and the check of a history as a person reads it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import DIA, ROOT, write

HISTORY = (
    "date,drug,dose,unit,bsa_m2\n2019-01-05,epirubicin,500,mg/m2,\n2019-06-05,EPI,450,mg/m2,\n"
)
PHARMACY = (
    "patient,date,drug,dose,unit,bsa_m2\n"
    "P001,2019-01-05,epirubicin,400,mg/m2,\n"
    "P002,2019-01-05,doxorubicin,240,mg/m2,1.8\n"
    "P003,2019-01-05,epirubicin,950,mg/m2,\n"
)


# ---------------------------------------------------------------- output targets


def test_chart_onto_an_existing_file_names_chart(run, tmp_path: Path) -> None:
    chart = write(tmp_path, "c.svg", "mine")
    p = run(*DIA, "--chart", str(chart))
    assert p.returncode == 2
    assert p.stderr.startswith("Error: --chart: ") and "already exists" in p.stderr
    history = write(tmp_path, "h.csv", HISTORY)
    p = run("check", "--history", str(history), "--chart", str(chart))
    assert p.returncode == 2 and "--chart: " in p.stderr
    assert chart.read_text() == "mine"
    p = run("check", "--history", str(history), "--chart", str(chart), "--force")
    assert p.returncode == 0 and chart.read_text().startswith("<?xml")


def test_every_target_is_checked_before_anything_is_written(run, tmp_path: Path) -> None:
    output = write(tmp_path, "plan.json", "kept")
    chart = tmp_path / "new.svg"
    p = run(*DIA, "--format", "json", "--output", str(output), "--chart", str(chart))
    assert p.returncode == 2 and "--output: " in p.stderr and "already exists" in p.stderr
    assert not chart.exists() and output.read_text() == "kept"
    p = run(*DIA, "--chart", str(tmp_path / "no" / "c.svg"))
    assert p.returncode == 2 and "--chart: the folder" in p.stderr
    p = run(*DIA, "--output", str(tmp_path / "same.svg"), "--chart", str(tmp_path / "same.svg"))
    assert p.returncode == 2 and "--chart and --output both name" in p.stderr


def test_the_one_patient_chart_counts_patients(run, tmp_path: Path) -> None:
    several = write(tmp_path, "p.csv", PHARMACY)
    p = run("check", "--history", str(several), "--chart", str(tmp_path / "c.svg"))
    assert p.returncode == 2
    assert "the history names 3 patients (P001, P002, P003)" in p.stderr
    one = write(tmp_path, "one.csv", "\n".join(PHARMACY.splitlines()[:2]) + "\n")
    p = run("check", "--history", str(one), "--chart", str(tmp_path / "c.svg"))
    assert p.returncode == 0, p.stderr  # a patient column naming one patient is one patient
    assert (tmp_path / "c.svg").exists()


# ---------------------------------------------------------------- history files


def test_a_dose_with_its_unit_says_to_split_them(run, tmp_path: Path) -> None:
    f = write(tmp_path, "h.csv", "date,drug,dose,unit\n2019-01-05,epirubicin,90 mg/m2,\n")
    p = run("check", "--history", str(f))
    assert p.returncode == 2
    assert (
        "h.csv:2: dose '90 mg/m2' holds a unit: put the number in the dose column (90) and "
        "the unit in the unit column (mg/m2)"
    ) in p.stderr


def test_a_history_reports_all_its_bad_rows_at_once_up_to_a_cap(run, tmp_path: Path) -> None:
    rows = "".join(f"2019-01-{d:02d},epirubicin,x{d},mg/m2\n" for d in range(1, 29))
    f = write(tmp_path, "h.csv", "date,drug,dose,unit\n2019-02-01,epirubicinx,40,mg/m2\n" + rows)
    p = run("check", "--history", str(f))
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert lines[0] == "Error: 29 problems:"
    assert "h.csv:2: 'epirubicinx' is not a drug dosecalc knows" in lines[1]
    assert "h.csv:3: dose 'x1' is not a number" in lines[2]
    assert len(lines) == 1 + 20 + 1
    assert lines[-1].endswith("h.csv: and 9 more bad rows (the last on line 30)")
    y = write(
        tmp_path,
        "h.yaml",
        "- {date: 2019-01-05, drug: epi, dose: x, unit: mg/m2}\n"
        "- {date: 2019-01-06, drug: epi, dose: 40, unit: furlongs}\n",
    )
    p = run("check", "--history", str(y))
    assert p.returncode == 2 and "Error: 2 problems:" in p.stderr


@pytest.mark.parametrize(
    ("unit", "ok"),
    [("MG/M2", True), ("MCG/M2", True), ("mg/m2", True), ("Mg/m2", False), ("U", False)],
)
def test_units_in_capitals_are_read_where_unambiguous(run, unit: str, ok: bool) -> None:
    p = run("check", "--prior", f"epirubicin=40{unit}", "--format", "json")
    assert (p.returncode == 0) == ok, p.stderr
    if ok:
        [total] = [t for t in json.loads(p.stdout)["cumulative"] if t["drug"] == "epirubicin"]
        assert total["total"] == pytest.approx(0.04 if unit.lower().startswith("mcg") else 40)


def test_height_and_weight_in_capitals(run) -> None:
    p = run("plan", "dia", "--height", "175CM", "--weight", "70KG", "--start", "2026-12-01")
    assert p.returncode == 0 and "BSA 1.84 m²" in p.stdout


# ---------------------------------------------------------------- near misses, plain paths


def test_a_near_miss_gets_a_did_you_mean(run) -> None:
    p = run("bsa", "--height", "175cm", "--weight", "70kg", "--formula", "dubios")
    assert p.returncode == 2 and "(did you mean dubois?)" in p.stderr
    p = run(*DIA, "--format", "jsno")
    assert "(did you mean json?)" in p.stderr
    p = run(*DIA, "--equivalence", "esc-2020")
    assert "(did you mean esc-2022?)" in p.stderr
    p = run("check", "--prior", "epirubicin=1mg/m2", "--only-over", "limt")
    assert "(did you mean limit?)" in p.stderr


def test_db_takes_a_plain_path(run, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    p = run(
        "ledger",
        "record",
        "--db",
        str(db),
        "--patient",
        "A",
        "--date",
        "2020-01-01",
        "--drug",
        "epirubicin",
        "--dose",
        "40mg/m2",
    )
    assert p.returncode == 0, p.stderr
    assert db.is_file()
    p = run("check", "--patient", "A", "--db", "ledger.db", "--format", "json", cwd=tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["cumulative"][0]["total"] == 40


# ---------------------------------------------------------------- help


def test_help_shows_choices_and_no_python_types(run) -> None:
    from tests.test_docs import commands

    for cmd in commands():
        p = run(*cmd.split(), "--help")
        assert p.returncode == 0
        assert not re.search(r"<(str|int|float|list|Path|path|file)\b[^>]*>", p.stdout), cmd
        assert "{" not in p.stdout.splitlines()[0], cmd  # the usage line
    plan = run("plan", "--help").stdout
    for choices in (
        "table|json|csv|ics|html|fhir",
        "a4|letter",
        "shift|keep",
        "male|female",
        "esc-2022|feijen-2019|ighg-2025|cog-ltfu-v5",
    ):
        assert choices in plan, choices
    assert "gehan-george" in plan and "livingston-lee" in plan  # --formula's names
    check = run("check", "--help").stdout
    assert "table|json|csv" in check and "threshold|limit" in check


# ---------------------------------------------------------------- wording


def test_wording_is_made_right_where_it_is_made() -> None:
    from dosecalc.base.numbers import article, percent, plural, signed
    from dosecalc.clinical.policy import show

    assert (article("age"), article("height"), article("order")) == (
        "an age",
        "a height",
        "an order",
    )
    assert percent(1010, 100) == "1,010 %" and percent(5, None) == "—"
    assert signed(-0.00001) == "+0.0 %" and signed(-4.62) == "-4.6 %"
    assert (plural(1, "cycle"), plural(3, "cycle")) == ("1 cycle", "3 cycles")
    assert show([50.0, 150.0]) == "50, 150" and show(False) == "false"
    assert show({"cisplatin": [10.0, 50.0]}) == "cisplatin: 10, 50"


def test_no_slip_reaches_the_user(run, tmp_path: Path) -> None:
    p = run(*DIA, "--age", "200")
    assert "give an age between" in p.stderr
    history = write(tmp_path, "h.csv", HISTORY)
    out = run("check", "--history", str(history), "--next", "ddp-epi", "--bsa", "1.8").stdout
    assert "1 more full cycle keeps every total within its limit" in out
    assert "cycles keeps" not in out and "cycle keep " not in out
    big = run("check", "--prior", "epirubicin=10100mg/m2").stdout
    assert "1,010 %" in big and "1010 %" not in big
    policy = write(
        tmp_path,
        "p.toml",
        '[rounding]\nmethod = "strengths"\n[rounding.strengths]\ncisplatin = [50, 150]\n',
    )
    shown = run("policy", "show", "--policy", str(policy)).stdout
    assert "cisplatin: 50, 150" in shown and "[50.0" not in shown and "False" not in shown
    bsa = run("bsa", "--height", "175cm", "--weight", "70kg", "--formula", "all", "--sex", "male")
    assert "-0.0 %" not in bsa.stdout and "+0.0 %" in bsa.stdout


# ---------------------------------------------------------------- options that would do nothing


def test_a_prior_drug_that_checks_nothing_is_said(run) -> None:
    p = run(
        "check",
        "--prior",
        "cyclophosphamide=3000mg/m2",
        "--prior",
        "epirubicin=100mg/m2",
        "--format",
        "json",
    )
    notices = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "PRIOR_NOT_TRACKED"]
    assert [w["drug"] for w in notices] == ["cyclophosphamide"]
    assert "checks nothing" in notices[0]["message"]
    p = run(*DIA, "--prior", "fluorouracil=1000mg/m2", "--format", "json")
    assert any(w["code"] == "PRIOR_NOT_TRACKED" for w in json.loads(p.stdout)["warnings"])


def test_an_option_over_a_course_files_value_is_said(run) -> None:
    course = str(ROOT / "examples" / "chen-2023-pelvic-osteosarcoma.yaml")
    p = run("plan", course, "--height", "180cm", "--format", "json")
    [w] = [
        w for w in json.loads(p.stdout)["warnings"] if w["code"] == "PATIENT_OPTION_OVERRIDES_FILE"
    ]
    assert "--height 180cm is used instead of height 175" in w["message"]
    p = run("plan", course, "--height", "175 cm", "--format", "json")
    assert not any(
        w["code"] == "PATIENT_OPTION_OVERRIDES_FILE" for w in json.loads(p.stdout)["warnings"]
    )


def test_modifications_and_delays_are_listed(run) -> None:
    args = [
        *DIA,
        "--cycles",
        "3",
        "--delay",
        "2=7",
        "--reduce",
        "epirubicin=20%@2",
        "--reason",
        "mucositis",
    ]
    out = run(*args).stdout
    assert (
        "Changed: epirubicin reduced 20 % from cycle 2 (mucositis); cycle 2 starts 7 days late"
        in out
    )
    data = json.loads(run(*args, "--format", "json").stdout)
    assert data["changes"] == [
        "epirubicin reduced 20 % from cycle 2 (mucositis)",
        "cycle 2 starts 7 days late (21 days after cycle 1)",
    ]


# ---------------------------------------------------------------- check --next agrees with plan


def test_next_cycles_past_a_limit_are_as_critical_as_in_a_plan(run, tmp_path: Path) -> None:
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2019-01-05,epirubicin,700,mg/m2\n")
    fits = run(
        "check", "--history", str(history), "--next", "ddp-epi", "--cycles", "2", "--format", "json"
    )
    assert fits.returncode == 0, fits.stdout
    too_many = run(
        "check", "--history", str(history), "--next", "ddp-epi", "--cycles", "7", "--format", "json"
    )
    assert too_many.returncode == 1
    [w] = [w for w in json.loads(too_many.stdout)["warnings"] if w["code"] == "NEXT_EXCEEDS_LIMIT"]
    assert w["severity"] == "critical" and w["message"].startswith("7 cycles of ddp-epi")
    # the same cycles planned: a critical too
    plan = run(
        "plan",
        "ddp-epi",
        "--bsa",
        "1.8",
        "--start",
        "2026-01-01",
        "--cycles",
        "7",
        "--history",
        str(history),
        "--format",
        "json",
    )
    assert plan.returncode == 1
    threshold = run(
        "check", "--history", str(history), "--next", "ddp-epi", "--cycles", "4", "--format", "json"
    )
    data = json.loads(threshold.stdout)
    codes = {w["code"]: w["severity"] for w in data["warnings"]}
    # 700 + 4 × 50 mg/m² of epirubicin: past the 900 threshold, within the 1,000 limit
    assert (data["next"]["cycles_within_threshold"], data["next"]["cycles_within_limit"]) == (3, 6)
    assert codes["NEXT_REACHES_THRESHOLD"] == "warning" and "NEXT_EXCEEDS_LIMIT" not in codes
    assert threshold.returncode == 0


# ---------------------------------------------------------------- a history of many patients


def test_a_pharmacy_history_is_a_summary_by_default(run, tmp_path: Path) -> None:
    f = write(tmp_path, "p.csv", PHARMACY + "P004,2019-01-05,doxorubicin,600,mg/m2,1.7\n")
    p = run("check", "--history", str(f))
    assert p.returncode == 1
    assert p.stdout.splitlines() == [
        "P003: threshold reached: epiRUBicin 950 mg/m² (106 % of threshold 900)",
        "P004: LIMIT EXCEEDED: DOXOrubicin 600 mg/m² (109 % of limit 550)",
        "4 patients checked: 2 over a threshold, 1 over a limit",
    ]
    only = run("check", "--history", str(f), "--only-over", "limit").stdout.splitlines()
    assert only[0].startswith("P004: LIMIT EXCEEDED") and len(only) == 2
    details = run("check", "--history", str(f), "--details").stdout
    assert all(f"Patient P00{i}" in details for i in range(1, 5))
    rows = run("check", "--history", str(f), "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("patient,drug,unit,total,threshold,limit,percent_of_threshold")
    assert "P004,doxorubicin,mg/m2,600.0,450.0,550.0,133.3,109.1,2019-01-05,2019-01-05,1.7" in rows


# ---------------------------------------------------------------- the chart


def test_chart_panels_share_a_dated_axis_with_labelled_ceilings(run, tmp_path: Path) -> None:
    history = write(
        tmp_path,
        "h.csv",
        HISTORY + "2019-07-05,bleomycin,30,units,\n",
    )
    svg = tmp_path / "c.svg"
    assert run("check", "--history", str(history), "--chart", str(svg)).returncode == 0
    text = svg.read_text()
    comments = re.findall(r"<!-- (.*?) -->", text)
    ticks = [c for c in comments if re.fullmatch(r"\d{4}-\d{2}-\d{2}", c)]
    # two panels (bleomycin, epirubicin), each with its own date labels, on one axis
    assert len(ticks) >= 4 and len(ticks) == 2 * len(set(ticks)), ticks
    for label in (
        "threshold 900 mg/m²",
        "limit 1,000 mg/m²",
        "limit 400 units",
        "last dose 2019-06-05: 950 mg/m²",  # a number with its unit (it had none)
        "last dose 2019-07-05: 30 units",
    ):
        assert label in comments, label


def test_the_check_table_says_its_headroom_is_to_the_limit(cli, tmp_path: Path) -> None:
    """Beside '% of thr.', a bare 'Headroom' read as the headroom to the threshold: a patient at
    950 of a 900 threshold showed 'Headroom 50'. The column is the headroom to the limit."""
    history = tmp_path / "h.csv"
    history.write_text("date,drug,dose,unit\n2024-01-02,epirubicin,950,mg/m2\n")
    code, out, _ = cli("check", "--history", str(history))
    assert code == 0, out
    header = next(line for line in out.splitlines() if line.startswith("Drug "))
    assert "To limit" in header and "Headroom" not in header
    row = next(line for line in out.splitlines() if line.startswith("epiRUBicin"))
    assert row.split()[-1 if "█" not in row else -2] == "50"


def test_a_path_that_is_no_regimen_file_says_what_it_is(cli, tmp_path: Path) -> None:
    """A folder or a device was 'no such regimen or course file', though the path exists; an
    order's unknown regimen id ended with the id again, '… r-chop-21) (ecx)'."""
    code, _, err = cli("plan", str(tmp_path), "--bsa", "1.8")
    assert code == 2 and err.strip().endswith(": a folder, not a regimen or course file"), err
    code, _, err = cli("plan", "/dev/null", "--bsa", "1.8")
    assert code == 2 and "/dev/null: not a regular file (a device or a pipe)" in err, err
    code, _, err = cli("plan", str(tmp_path / "none.yaml"), "--bsa", "1.8")
    assert code == 2 and "none.yaml: no such regimen or course file" in err, err
    order = (ROOT / "examples" / "order-ec-cycle2.yaml").read_text(encoding="utf-8")
    path = tmp_path / "o.yaml"
    path.write_text(re.sub(r"(?m)^regimen: .*$", "regimen: ecx", order), encoding="utf-8")
    code, _, err = cli("verify", str(path), "--height", "175cm", "--weight", "70kg")
    assert code == 2 and "did you mean ec?" in err and err.strip().endswith("r-chop-21)"), err
    path.write_text(re.sub(r"(?m)^regimen: .*$", "regimen: none.yaml", order), encoding="utf-8")
    code, _, err = cli("verify", str(path), "--height", "175cm", "--weight", "70kg")
    assert code == 2 and f"regimen: {tmp_path / 'none.yaml'}: no such regimen" in err, err


def test_policy_show_says_what_the_default_follows_of_the_default_not_of_the_value(run) -> None:
    """A value from a policy file was printed over the default's reason: 'carboplatin
    .scr_floor_mg_dl 0.8' above 'consider a minimum SCr of 0.7 mg/dL', and 'rounding.strengths
    cisplatin: 10, 50, 100' above 'none configured'."""
    policy = ROOT / "examples" / "policy.toml"
    for width in ("80", "120"):
        p = run("policy", "show", "--policy", str(policy), env={"COLUMNS": width})
        text = " ".join(p.stdout.split())
        assert p.returncode == 0, p.stderr
        floor = text.split("carboplatin.scr_floor_mg_dl", 1)[1].split("carboplatin.", 1)[0]
        assert "default 0.7: NCCN carboplatin dosing template" in floor, floor
        strengths = text.split("rounding.strengths", 1)[1].split("rounding.", 1)[0]
        assert "default none: none configured" in strengths, strengths
        fallback = text.split("weight.change_threshold_percent_child", 1)[1].split("weight.", 1)[0]
        assert "default:" not in fallback and "NIH Clinical Center" in fallback  # the default's own
