"""A history row above its drug's usual maximum single dose (CONTRACT §12): counted as written
and flagged (HISTORY_DOSE_HIGH, naming the row and pointing to --prior); at ten times that
maximum or more refused as a unit slip. Ledger records and --prior totals are not flagged."""

from __future__ import annotations

import json
from pathlib import Path

HEADER = "date,drug,dose,unit,bsa_m2"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _high(warnings: list[dict]) -> list[dict]:
    return [w for w in warnings if w["code"] == "HISTORY_DOSE_HIGH"]


def _total(data: dict, drug: str) -> float:
    return next(t["total"] for t in data["cumulative"] if t["drug"] == drug)


def test_a_row_above_the_usual_maximum_is_counted_and_flagged_naming_the_row(
    run, tmp_path: Path
) -> None:
    # epirubicin's usual maximum is 150 mg/m2: 360 mg at 1.8 m² is 200 mg/m²; 300 mg/m² is 2x
    h = _csv(
        tmp_path / "h.csv",
        "2024-02-05,epirubicin,90,mg/m2,",
        "2024-03-05,epirubicin,360,mg,1.8",
        "2024-04-05,cisplatin,1000,mg/m2,",
        "2024-05-05,epirubicin,300,mg/m2,",
    )
    r = run("check", "--history", str(h), "--bsa", "1.8", "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    assert _total(data, "epirubicin") == 590  # counted as written: 90 + 200 + 300
    assert _total(data, "cisplatin") == 1000
    high = {w["drug"]: w for w in _high(data["warnings"])}
    assert set(high) == {"epirubicin", "cisplatin"}
    assert high["epirubicin"]["severity"] == "warning"
    assert high["epirubicin"]["message"].startswith(f"{h}:3: epirubicin 360 mg is above")
    assert "(and 1 more row)" in high["epirubicin"]["message"]
    assert "--prior" in high["epirubicin"]["message"]
    assert high["cisplatin"]["message"].startswith(f"{h}:4: cisplatin 1,000 mg/m2 is above")
    # dated by the first row it names (the table shows the date in its Where column)
    assert high["epirubicin"]["date"] == "2024-03-05"
    assert high["cisplatin"]["date"] == "2024-04-05"


def test_a_usual_dose_is_not_flagged(run, tmp_path: Path) -> None:
    h = _csv(tmp_path / "h.csv", "2024-02-05,epirubicin,150,mg/m2,", "2024-03-05,EPI,270,mg,1.8")
    r = run("check", "--history", str(h), "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    assert _high(json.loads(r.stdout)["warnings"]) == []


def test_ten_times_the_usual_maximum_is_refused_as_a_unit_slip(run, tmp_path: Path) -> None:
    h = _csv(
        tmp_path / "h.csv",
        "2024-02-05,epirubicin,90,mg/m2,",
        "2024-03-05,epirubicin,1500,mg/m2,",
        "2024-04-05,cisplatin,75,g/m2,",
    )
    for args in (
        ("check", "--history", str(h)),
        ("plan", "ec", "--bsa", "1.8", "--start", "2025-01-06", "--history", str(h)),
    ):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout)
        assert r.stdout == "" and "Traceback" not in r.stderr
        assert f"{h}:3: epirubicin 1,500 mg/m2 is 10 times the usual maximum" in r.stderr
        assert f"{h}:4: cisplatin" in r.stderr and "unit or decimal slip" in r.stderr
        assert f"{h}:2" not in r.stderr


def test_a_plan_on_such_a_history_carries_the_flag(run, tmp_path: Path) -> None:
    h = _csv(tmp_path / "h.csv", "2024-03-05,epirubicin,200,mg/m2,")
    r = run(
        "plan", "ec", "--bsa", "1.8", "--start", "2025-01-06", "--history", str(h),
        "--format", "json",
    )  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    [w] = _high(json.loads(r.stdout)["warnings"])
    assert w["message"].startswith(f"{h}:2: epirubicin 200 mg/m2 is above")


def test_prior_totals_and_ledger_records_are_not_flagged(run, tmp_path: Path) -> None:
    r = run("check", "--prior", "epirubicin=600mg/m2", "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    assert _high(json.loads(r.stdout)["warnings"]) == []
    db = str(tmp_path / "l.db")
    record = (
        "ledger", "record", "--db", db, "--patient", "P", "--date", "2024-03-05",
        "--drug", "epirubicin", "--dose", "200mg/m2",
    )  # fmt: skip
    assert run(*record).returncode == 2  # the ledger asks why first
    assert run(*record, "--allow-high-dose", "protocol X").returncode == 0
    r = run("check", "--patient", "P", "--db", db, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    assert _total(data, "epirubicin") == 200
    assert _high(data["warnings"]) == []


def test_the_summary_of_many_patients_says_how_many_have_such_rows(run, tmp_path: Path) -> None:
    # the summary lists only the patients over a threshold: the flagged rows are counted on
    # standard error; with --next every patient is printed in full (the summary dropped the
    # cycles that fit), each flagged row named in its patient's warnings
    h = tmp_path / "many.csv"
    h.write_text(
        "date,drug,dose,unit,bsa_m2,patient\n"
        "2024-01-01,epirubicin,190,mg/m2,,A\n"
        "2024-01-02,cisplatin,150,mg/m2,,B\n"
        "2024-01-03,cisplatin,75,mg/m2,,C\n",
        encoding="utf-8",
    )
    r = run("check", "--history", str(h))
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("3 patients checked: 0 over a threshold, 0 over a limit\n")
    assert (
        "notice: 2 patients have history rows above their drug's usual maximum single "
        "dose, counted as written (HISTORY_DOSE_HIGH)" in r.stderr
    )
    r = run("check", "--history", str(h), "--next", "ec")  # a BSA is one patient's
    assert r.returncode == 0, r.stderr
    shown = r.stdout.split("Patient ")[1:]
    assert [x.split("\n")[0] for x in shown] == ["A", "B", "C"]
    assert ["HISTORY_DOSE_HIGH" in x for x in shown] == [True, True, False]
    h.write_text(
        "date,drug,dose,unit,patient\n2024-01-03,cisplatin,75,mg/m2,C\n"
        "2024-01-04,cisplatin,75,mg/m2,D\n",
        encoding="utf-8",
    )
    r = run("check", "--history", str(h))
    assert r.returncode == 0 and "HISTORY_DOSE_HIGH" not in r.stderr


def test_a_dose_made_with_a_bsa_written_to_two_places_is_not_called_high(
    run, tmp_path: Path
) -> None:
    """221.4 mg of cisplatin (120 mg/m² x 1.8447 m², as a plan prints it) recorded with the
    BSA 1.84 is 120.3 mg/m²: it was flagged above the usual maximum of 120 mg/m² on every row
    of the reference case. 230 mg is still flagged, its per-m² figure named."""
    h = tmp_path / "h.csv"
    h.write_text("date,drug,dose,unit,bsa_m2\n2024-01-01,cisplatin,221.4,mg,1.84\n")
    data = json.loads(run("check", "--history", str(h), "--format", "json").stdout)
    assert not [w for w in data["warnings"] if w["code"] == "HISTORY_DOSE_HIGH"]
    h.write_text("date,drug,dose,unit,bsa_m2\n2024-01-01,cisplatin,230,mg,1.84\n")
    data = json.loads(run("check", "--history", str(h), "--format", "json").stdout)
    [w] = [w for w in data["warnings"] if w["code"] == "HISTORY_DOSE_HIGH"]
    assert "(125 mg/m² at its BSA of 1.84 m²)" in w["message"]
