"""The patient ledger (CONTRACT §8), on SQLite and on a real PostgreSQL server: recording,
import (all or nothing), voids, the audit trail and its hash chain, and lifetime exposure that
follows a patient from one command to the next. Every test runs the installed dosecalc.

Tests taking ``ledger_url`` run on both databases (storage, locking, transactions, tampering);
those taking ``sqlite_url`` check what does not depend on the database (input, formats)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import dosecalc_exe, schema, sql, write

HISTORY = """\
date,drug,dose,unit,bsa_m2
2024-01-05,epirubicin,90,mg/m2,
2024-01-26,EPI,162,mg,1.80
2024-02-16,cisplatin,120,mg/m2,
"""


def _ok(p: subprocess.CompletedProcess[str], code: int = 0) -> subprocess.CompletedProcess[str]:
    assert p.returncode == code, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    return p


def _record(run, db: str, patient: str, date: str, drug: str, dose: str, *extra: str):
    return run(
        "ledger",
        "record",
        "--db",
        db,
        "--patient",
        patient,
        "--date",
        date,
        "--drug",
        drug,
        "--dose",
        dose,
        *extra,
    )


def _totals(p: subprocess.CompletedProcess[str]) -> dict[str, float]:
    return {t["drug"]: t["total"] for t in json.loads(p.stdout)["cumulative"]}


def test_record_check_and_plan_follow_the_patient(run, ledger_url: str) -> None:
    _ok(_record(run, ledger_url, "MRN1", "2024-01-05", "EPI", "90mg/m2"))
    _ok(_record(run, ledger_url, "MRN1", "2024-01-26", "epirubicin", "162mg", "--bsa", "1.8"))
    _ok(_record(run, ledger_url, "MRN2", "2024-01-05", "doxorubicin", "60mg/m2"))
    totals = _totals(_ok(run("check", "--patient", "MRN1", "--db", ledger_url, "--format", "json")))
    assert totals["epirubicin"] == pytest.approx(180.0)  # 90 + 162 mg / 1.8 m²
    assert "doxorubicin" not in totals  # another patient's dose never counts

    # the next plan starts from the recorded exposure: DIA's epirubicin is planned on top of it
    plan = _ok(
        run(
            "plan",
            "dia",
            "--height",
            "175cm",
            "--weight",
            "70kg",
            "--start",
            "2026-12-01",
            "--patient",
            "MRN1",
            "--db",
            ledger_url,
            "--format",
            "json",
        ),
    )
    [epi] = [t for t in json.loads(plan.stdout)["cumulative"] if t["drug"] == "epirubicin"]
    assert epi["prior"] == pytest.approx(180.0)
    assert epi["total"] == pytest.approx(180.0 + epi["planned"]) and epi["planned"] > 0

    # the DOSECALC_DB variable names the ledger as --db does
    env = {"DOSECALC_DB": ledger_url}
    again = _ok(run("check", "--patient", "MRN1", "--format", "json", env=env))
    assert _totals(again) == totals


def test_a_patient_the_ledger_does_not_know_is_refused(run, sqlite_url: str) -> None:
    _ok(_record(run, sqlite_url, "MRN100", "2024-01-05", "EPI", "90mg/m2"))
    p = _ok(run("check", "--patient", "MRN10O", "--db", sqlite_url), 2)
    assert "MRN10O has no doses" in p.stderr and "did you mean MRN100" in p.stderr


def test_a_patient_of_a_database_with_no_ledger_yet_is_refused(run, postgres_server) -> None:
    """A PostgreSQL database with no ledger in it yet (the wrong database of the server): `ledger
    list --patient` crashed (IndexError, exit 3) and `ledger export --patient` wrote an empty
    history with exit 0, as if the patient had been given nothing; without --patient, `ledger
    export` still did (a header, exit 0) and `ledger list` listed no one."""
    from tests import pg

    with pg.database(postgres_server) as url:
        for command in ("ledger list", "ledger export", "ledger export --format json", "check"):
            p = _ok(run(*command.split(), "--patient", "MRN1", "--db", url), 2)
            said = "patient MRN1 has no doses in the ledger" if command == "check" else (
                "holds no dosecalc ledger yet: no patient has a record in it"
            )  # fmt: skip
            assert said in p.stderr, (command, p.stderr)
        # without --patient: a header and exit 0 (an export of no one), as if it were empty
        for command in ("ledger list", "ledger export", "ledger export --format json",
                        "check --all-patients", "ledger verify"):  # fmt: skip
            p = _ok(run(*command.split(), "--db", url), 2)
            assert "holds no dosecalc ledger yet" in p.stderr, (command, p.stderr)
            assert "dosecalc ledger import` creates it" in " ".join(p.stderr.split()), command


def test_a_repeated_dose_needs_again(run, sqlite_url: str) -> None:
    _ok(_record(run, sqlite_url, "A", "2024-01-05", "cisplatin", "100mg/m2"))
    p = _ok(_record(run, sqlite_url, "A", "2024-01-05", "DDP", "100 mg/m2"), 2)
    assert "already recorded as #1" in p.stderr and "--again" in p.stderr
    _ok(_record(run, sqlite_url, "A", "2024-01-05", "DDP", "100 mg/m2", "--again"))
    totals = _totals(_ok(run("check", "--patient", "A", "--db", sqlite_url, "--format", "json")))
    assert totals["cisplatin"] == pytest.approx(200.0)


def test_again_does_not_record_one_source_id_twice(run, sqlite_url: str) -> None:
    """--again with the id of a recorded administration wrote it a second time: check counted
    180 mg/m² where the source system holds one dose of 90, and the export listed the id twice."""
    _ok(_record(run, sqlite_url, "A", "2024-01-05", "epirubicin", "90mg/m2", "--id", "MAR-1"))
    p = _ok(
        _record(
            run, sqlite_url, "A", "2024-01-05", "epirubicin", "90mg/m2", "--id", "MAR-1", "--again"
        ),  # fmt: skip
        2,
    )
    assert "already recorded as #1 (the same id MAR-1" in p.stderr
    assert "has an id of its own" in p.stderr and "give --again" not in p.stderr
    _ok(_record(run, sqlite_url, "A", "2024-01-05", "epirubicin", "90mg/m2", "--id", "MAR-2",
                "--again"))  # fmt: skip
    totals = _totals(_ok(run("check", "--patient", "A", "--db", sqlite_url, "--format", "json")))
    assert totals["epirubicin"] == pytest.approx(180.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dose", "40"], "has no unit"),
        (["--dose", "40mg/m2", "--date", "2999-01-01"], "in the future"),
        (["--dose", "40mg/m2", "--drug", "epirubicine"], "epirubicine"),
        (["--dose", "-40mg/m2"], "not above zero"),
        (["--dose", "40mg", "--bsa", "9"], "--bsa"),
        (["--dose", "40 units"], "dosed in mg"),
    ],
)
def test_a_bad_record_is_refused_and_nothing_is_written(run, tmp_path, args, message) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    base = {"--patient": "A", "--date": "2024-01-05", "--drug": "epirubicin"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for kv in base.items() for x in kv]
    p = _ok(run("ledger", "record", "--db", db, *flat), 2)
    assert message in p.stderr
    assert p.stderr.count("\n") == 1  # one sentence
    listed = _ok(run("ledger", "list", "--db", db), 2)  # no ledger was even created
    assert "there is no ledger" in listed.stderr


def test_dosecalc_today_lets_no_dose_after_the_real_date_into_the_ledger(
    run, sqlite_url: str
) -> None:
    """DOSECALC_TODAY replays a check as of a day; with it set ahead, a dose dated after the
    real date was written to the ledger for good."""
    ahead = date.today() + timedelta(days=30)
    later = (date.today() + timedelta(days=10)).isoformat()
    env = {"DOSECALC_TODAY": ahead.isoformat()}
    args = ("ledger", "record", "--db", sqlite_url, "--patient", "A", "--date", later)
    p = _ok(run(*args, "--drug", "epirubicin", "--dose", "90mg/m2", "--bsa", "1.8", env=env), 2)
    assert f"date {later} is in the future (today is {date.today().isoformat()})" in p.stderr
    _ok(run("ledger", "list", "--db", sqlite_url), 2)  # nothing was written


def test_void_is_a_new_record_and_the_dose_stops_counting(run, ledger_url: str) -> None:
    _ok(_record(run, ledger_url, "A", "2024-01-05", "epirubicin", "90mg/m2"))
    slip = ("A", "2024-01-26", "epirubicin", "1000mg/m2")  # 900 typed for 90: above the maximum
    refused = _ok(_record(run, ledger_url, *slip), 2)
    assert "above the usual maximum single dose" in refused.stderr
    assert "--allow-high-dose" in refused.stderr
    _ok(_record(run, ledger_url, *slip, "--allow-high-dose", "as charted"))
    before = _totals(_ok(run("check", "--patient", "A", "--db", ledger_url, "--format", "json"), 1))
    assert before["epirubicin"] == pytest.approx(1090.0)  # over the limit: exit 1
    assert "B" not in {r["patient"] for r in _records(run, ledger_url)}
    _ok(run("ledger", "void", "2", "--patient", "B", "--reason", "x", "--db", ledger_url), 2)
    _ok(run("ledger", "void", "2", "--patient", "A", "--reason", " ", "--db", ledger_url), 2)
    _ok(
        run(
            "ledger",
            "void",
            "2",
            "--patient",
            "A",
            "--reason",
            "typed 900 for 90",
            "--by",
            "pharmacist J",
            "--db",
            ledger_url,
        )
    )
    twice = _ok(
        run("ledger", "void", "2", "--patient", "A", "--reason", "x", "--db", ledger_url), 2
    )
    assert "already voided by #3" in twice.stderr
    after = _totals(_ok(run("check", "--patient", "A", "--db", ledger_url, "--format", "json")))
    assert after["epirubicin"] == pytest.approx(90.0)

    records = _records(run, ledger_url, "A")
    assert [r["seq"] for r in records] == [1, 2, 3]  # nothing deleted
    assert records[1]["voided_by"] == 3 and records[1]["dose"] == "1000"  # nothing edited
    assert records[2] | {"kind": "void", "voids": 2, "recorded_by": "pharmacist J"} == records[2]
    assert records[2]["os_user"]  # the OS user is kept whatever --by says
    csv_text = _ok(run("ledger", "export", "--patient", "A", "--db", ledger_url)).stdout
    assert "1000" not in csv_text and "ledger #1" in csv_text
    _ok(run("ledger", "verify", "--db", ledger_url))


def test_an_export_with_a_dose_recorded_again_reads_back_to_the_same_totals(
    run, ledger_url: str, tmp_path: Path
) -> None:
    """Two doxorubicin 60 mg/m² of one day, the second recorded with --again: the export gave
    both rows nothing to tell them apart, so `check --history` and `ledger import` of it refused
    it as a repeat; and every export → import → export added another "ledger #N: " to notes."""
    for extra in ([], ["--again"]):
        _ok(run("ledger", "record", "--db", ledger_url, "--patient", "R", "--date", "2024-01-05",
                "--drug", "doxorubicin", "--dose", "60mg/m2", "--note", "cycle 1", *extra))  # fmt: skip
    want = _totals(_ok(run("check", "--patient", "R", "--db", ledger_url, "--format", "json")))
    assert want["doxorubicin"] == pytest.approx(120.0)
    exported = tmp_path / "exp.csv"
    _ok(run("ledger", "export", "--db", ledger_url, "-o", str(exported)))
    rows = exported.read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[-2:] for r in rows[1:]] == [["", "ledger #1"], ["", "ledger #2"]]
    assert all(",cycle 1," in r for r in rows[1:])
    checked = _ok(run("check", "--history", str(exported), "--format", "json"))
    [patient] = json.loads(checked.stdout)["patients"]
    assert {t["drug"]: t["total"] for t in patient["cumulative"]} == want
    second = f"sqlite:///{tmp_path / 'second.db'}"
    _ok(run("ledger", "import", str(exported), "--db", second))
    assert _totals(_ok(run("check", "--patient", "R", "--db", second, "--format", "json"))) == want
    round_trip = _ok(run("ledger", "export", "--db", second)).stdout
    assert round_trip.splitlines() == rows  # the notes as recorded, the ids kept


def test_an_export_given_back_to_its_own_ledger_is_not_counted_again(
    run, ledger_url: str, tmp_path: Path
) -> None:
    """The export names a record without an id of its own `ledger #N`; given back to the same
    ledger with --again (for another dose of the file), `ledger import` recorded both doses a
    second time and `check --patient --history` counted them twice: 360 mg/m² where the
    ledger holds 180. Another ledger's `ledger #1` of another day is another record."""
    for extra in ([], ["--again"]):
        _ok(_record(run, ledger_url, "R", "2024-01-05", "epirubicin", "90mg/m2", *extra))
    exported = tmp_path / "exp.csv"
    _ok(run("ledger", "export", "--db", ledger_url, "-o", str(exported)))
    imported = _ok(run("ledger", "import", str(exported), "--again", "--db", ledger_url), 2)
    assert "already recorded as #1 (the same id ledger #1" in imported.stderr
    assert "already recorded as #2 (the same id ledger #2" in imported.stderr
    alone = tmp_path / "alone.csv"  # the export of one patient, without its patient column
    alone.write_text(exported.read_text().replace(",R,", ","), encoding="utf-8")
    alone.write_text(alone.read_text().replace(",patient,", ","), encoding="utf-8")
    args = ("check", "--patient", "R", "--db", ledger_url, "--history", str(alone), "--again")
    checked = _ok(run(*args), 2)
    assert "ledger record #2 repeats" in checked.stderr and "same id ledger #2" in checked.stderr
    totals = _totals(_ok(run("check", "--patient", "R", "--db", ledger_url, "--format", "json")))
    assert totals["epirubicin"] == pytest.approx(180.0)
    other = f"sqlite:///{tmp_path / 'other.db'}"  # its #1 and #2: R on another day
    _ok(_record(run, other, "R", "2024-02-05", "epirubicin", "90mg/m2"))
    _ok(_record(run, other, "R", "2024-02-26", "epirubicin", "90mg/m2"))
    _ok(run("ledger", "import", str(exported), "--db", other))
    totals = _totals(_ok(run("check", "--patient", "R", "--db", other, "--format", "json")))
    assert totals["epirubicin"] == pytest.approx(360.0)


def test_a_dose_written_with_a_plus_reads_back_from_the_export(
    run, sqlite_url: str, tmp_path: Path
) -> None:
    """`--dose +5mg/m2` is exported '+5 (the formula guard): `check --history` refused it
    ("dose ''+5' is not a number") where `ledger import` took it; one reader of a dose now."""
    for day, dose in (("2024-01-03", "+5mg/m2"), ("2024-01-04", "50mg/m2")):
        _ok(run("ledger", "record", "--db", sqlite_url, "--patient", "N", "--date", day,
                "--drug", "cisplatin", "--dose", dose))  # fmt: skip
    exported = tmp_path / "exp.csv"
    _ok(run("ledger", "export", "--db", sqlite_url, "-o", str(exported)))
    assert ",'+5," in exported.read_text(encoding="utf-8")
    checked = _ok(run("check", "--history", str(exported), "--format", "json"))  # the engine
    [patient] = json.loads(checked.stdout)["patients"]
    assert {t["drug"]: t["total"] for t in patient["cumulative"]}["cisplatin"] == 55
    one = write(tmp_path, "one.csv", "date,drug,dose,unit\n2024-01-03,cisplatin,'+5,mg/m2\n")
    assert _totals(_ok(run("check", "--history", str(one), "--format", "json")))["cisplatin"] == 5
    second = f"sqlite:///{tmp_path / 'second.db'}"
    _ok(run("ledger", "import", str(exported), "--db", second))
    assert _totals(_ok(run("check", "--patient", "N", "--db", second, "--format", "json"))) == {
        t["drug"]: t["total"] for t in patient["cumulative"]
    }


def test_patient_ids_alike_in_the_ledger_are_said(run, ledger_url: str, tmp_path: Path) -> None:
    """MRN123 and mrn123 in one ledger were two patients without a word: check --patient MRN123
    read 600 mg/m² of 1,100, exit 0. The history's PATIENT_IDS_ALIKE, by the same function."""
    for month in range(1, 4):
        who = "MRN123" if month < 3 else "mrn123"
        p = _ok(_record(run, ledger_url, who, f"2024-{month:02d}-01", "epirubicin", "100mg/m2"))
        said = (
            "PATIENT_IDS_ALIKE: patient ids that differ only in case or leading zeros: "
            "'mrn123' and 'MRN123'"
        )
        assert (said in p.stderr) == (month == 3), p.stderr  # once: when the new id comes
    checked = json.loads(_ok(run("check", "--patient", "MRN123", "--db", ledger_url,
                                 "--format", "json")).stdout)  # fmt: skip
    [alike] = [w for w in checked["warnings"] if w["code"] == "PATIENT_IDS_ALIKE"]
    assert "'MRN123' and 'mrn123'" in alike["message"] and alike["severity"] == "warning"
    plan = _ok(run("plan", "ddp-epi", "--bsa", "1.8", "--patient", "mrn123", "--db", ledger_url,
                   "--cycles", "1", "--format", "json"), 1)  # fmt: skip
    assert "PATIENT_IDS_ALIKE" in [w["code"] for w in json.loads(plan.stdout)["warnings"]]
    other = _ok(run("check", "--patient", "B7", "--db", ledger_url, "--format", "json"), 2)
    assert "PATIENT_IDS_ALIKE" not in other.stdout
    unknown = _ok(run("check", "--patient", "Mrn123", "--db", ledger_url), 2)
    assert "did you mean MRN123, mrn123?" in unknown.stderr


@pytest.mark.parametrize(
    ("first", "second"),
    [("KIRIŞ", "kırış"), ("İZMİR", "izmir"), ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"), ("007", "7")],
)
def test_patient_ids_alike_in_any_script_are_said(
    run, ledger_url: str, tmp_path: Path, first: str, second: str
) -> None:
    """Turkish KIRIŞ and kırış, İZMİR and izmir, Greek ΟΔΥΣΣΕΥΣ and οδυσσευσ (its final sigma
    typed as a plain one) differ only in case, but Python's lower() of one is not the other's:
    one patient's epirubicin total split between two ids, each checked as a patient of its own,
    without a word (record, check --patient, check --all-patients, the export)."""
    for who, day in ((first, "2024-01-01"), (second, "2024-02-01")):
        p = _ok(_record(run, ledger_url, who, day, "epirubicin", "100mg/m2"))
    assert "PATIENT_IDS_ALIKE" in p.stderr
    one = _ok(run("check", "--patient", second, "--db", ledger_url, "--format", "json"))
    assert "PATIENT_IDS_ALIKE" in [w["code"] for w in json.loads(one.stdout)["warnings"]]
    export = tmp_path / "export.csv"
    _ok(run("ledger", "export", "--db", ledger_url, "-o", str(export)))
    for source in (["--all-patients", "--db", ledger_url], ["--history", str(export)]):
        every = _ok(run("check", *source, "--format", "json"))
        assert "PATIENT_IDS_ALIKE" in [w["code"] for w in json.loads(every.stdout)["warnings"]]


def _records(run, db: str, patient: str | None = None) -> list[dict]:
    args = ["--patient", patient] if patient else []
    p = _ok(run("ledger", "export", "--format", "json", "--db", db, *args))
    return json.loads(p.stdout)["records"]


def test_export_reads_back_as_the_same_exposure(run, sqlite_url: str, tmp_path: Path) -> None:
    history = write(tmp_path, "h.csv", HISTORY)
    p = _ok(run("ledger", "import", str(history), "--patient", "P7", "--db", sqlite_url))
    assert "imported 3 administrations of 1 patient" in p.stdout and "#1–#3" in p.stdout
    exported = tmp_path / "out.csv"
    _ok(run("ledger", "export", "--db", sqlite_url, "--output", str(exported)))
    from_file = _totals(_ok(run("check", "--history", str(history), "--format", "json")))
    from_ledger = _ok(run("check", "--patient", "P7", "--db", sqlite_url, "--format", "json"))
    from_export = _ok(run("check", "--history", str(exported), "--format", "json"))
    assert _totals(from_ledger) == from_file
    [exported_patient] = json.loads(from_export.stdout)["patients"]  # the export names the patient
    assert {t["drug"]: t["total"] for t in exported_patient["cumulative"]} == from_file
    # rows read from the ledger say which record they came from
    assert "ledger record #2" in _ok(run("check", "--patient", "P7", "--db", sqlite_url)).stdout


def test_import_is_all_or_nothing_and_not_twice(run, ledger_url: str, tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", HISTORY)
    bad = write(
        tmp_path, "bad.csv", HISTORY + "2024-03-08,ifosfamide,9,g/m2,\n2024-03-29,EPI,lots,mg,\n"
    )
    p = _ok(run("ledger", "import", str(bad), "--patient", "P1", "--db", ledger_url), 2)
    assert "bad.csv:6" in p.stderr and "lots" in p.stderr
    _ok(run("ledger", "import", str(good), "--patient", "P1", "--db", ledger_url))
    assert len(_records(run, ledger_url)) == 3  # none of bad.csv's rows
    again = _ok(run("ledger", "import", str(good), "--patient", "P1", "--db", ledger_url), 2)
    assert "already imported (records #1–#3" in again.stderr
    # the same doses in another file are caught row by row
    copy = write(tmp_path, "copy.csv", HISTORY.replace("162,mg,1.80", "162,mg,1.8"))
    dup = _ok(run("ledger", "import", str(copy), "--patient", "P1", "--db", ledger_url), 2)
    assert "copy.csv:2" in dup.stderr and "already recorded as #1" in dup.stderr
    # a patient column must agree with --patient
    other = write(
        tmp_path, "other.csv", "date,drug,dose,unit,patient\n2024-01-05,EPI,90,mg/m2,P2\n"
    )
    mixed = _ok(run("ledger", "import", str(other), "--patient", "P1", "--db", ledger_url), 2)
    assert "other.csv:2" in mixed.stderr and "P2" in mixed.stderr
    assert len(_records(run, ledger_url)) == 3
    _ok(run("ledger", "verify", "--db", ledger_url))


def test_import_of_a_pharmacy_export_with_a_patient_column(run, sqlite_url, tmp_path) -> None:
    rows = "".join(
        f"2024-0{m}-0{d},epirubicin,100,mg/m2,,PT{p}\n"
        for p in range(3)
        for m, d in ((1, 5), (2, 6))
    )
    f = write(tmp_path, "all.csv", "date,drug,dose,unit,bsa_m2,patient\n" + rows)
    _ok(run("ledger", "import", str(f), "--db", sqlite_url))
    people = json.loads(_ok(run("ledger", "list", "--db", sqlite_url, "--format", "json")).stdout)
    assert [(p["patient"], p["doses"]) for p in people["patients"]] == [
        ("PT0", 2),
        ("PT1", 2),
        ("PT2", 2),
    ]


def test_yaml_history_import(run, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    f = write(
        tmp_path,
        "h.yaml",
        "- {date: 2024-01-05, drug: EPI, dose: 90, unit: mg/m2, regimen: DIA, cycle: 1, day: 1}\n"
        "- {date: 2024-01-26, drug: EPI, dose: 90, unit: mg/m2, regimen: DIA, cycle: 2, day: 1,"
        " note: reduced}\n",
    )
    _ok(run("ledger", "import", str(f), "--patient", "Y", "--db", db))
    records = _records(run, db, "Y")
    assert [(r["regimen"], r["cycle"], r["day"], r["note"]) for r in records] == [
        ("DIA", 1, 1, None),
        ("DIA", 2, 1, "reduced"),
    ]


def _bundle(*administrations: dict, extra: list[dict] | None = None) -> str:
    entries = [{"fullUrl": f"urn:uuid:{i}", "resource": a} for i, a in enumerate(administrations)]
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": entries + (extra or [])}
    )


def _admin(status: str, drug: str, value: float, unit: str, when: str, subject="Patient/F1"):
    return {
        "resourceType": "MedicationAdministration",
        "status": status,
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "dosage": {"dose": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org"}},
    }


def test_fhir_bundle_import(run, sqlite_url: str, tmp_path: Path) -> None:
    bundle = _bundle(
        _admin("completed", "Epirubicin", 90, "mg/m2", "2024-01-05T09:30:00+08:00"),
        _admin("not-done", "Epirubicin", 90, "mg/m2", "2024-01-26T09:30:00+08:00"),
        _admin("entered-in-error", "Cisplatin", 120, "mg/m2", "2024-01-05T10:00:00+08:00"),
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationReference": {"reference": "Medication/ddp"},
            "subject": {"reference": "Patient/F1"},
            "effectivePeriod": {"start": "2024-01-06T08:00:00Z", "end": "2024-01-06T12:00:00Z"},
            "dosage": {"dose": {"value": 216.0, "code": "mg"}},
        },
        extra=[
            {
                "resource": {
                    "resourceType": "Medication",
                    "id": "ddp",
                    "code": {"coding": [{"display": "cisplatin"}]},
                }
            }
        ],
    )
    f = write(tmp_path, "mar.json", bundle)
    p = _ok(run("ledger", "import", str(f), "--db", sqlite_url))
    assert "imported 2 administrations" in p.stdout
    assert "entry 1: status not-done" in p.stdout and "entry 2: status entered-in-error" in p.stdout
    records = _records(run, sqlite_url, "F1")
    assert [(r["date"], r["drug"], r["dose"], r["unit"]) for r in records] == [
        ("2024-01-05", "epirubicin", "90", "mg/m2"),
        ("2024-01-06", "cisplatin", "216.0", "mg"),
    ]
    assert records[0]["source"] == f"{f} entry 0"

    stopped = write(
        tmp_path,
        "stopped.json",
        _bundle(
            _admin("completed", "Epirubicin", 90, "mg/m2", "2024-03-05", subject="Patient/F2"),
            _admin("stopped", "Epirubicin", 90, "mg/m2", "2024-03-26", subject="Patient/F2"),
        ),
    )
    refused = _ok(run("ledger", "import", str(stopped), "--db", sqlite_url), 2)
    assert "stopped.json entry 1" in refused.stderr and "'stopped'" in refused.stderr
    other = _ok(run("ledger", "import", str(f), "--patient", "F9", "--db", sqlite_url), 2)
    assert "not --patient F9" in other.stderr
    again = _ok(run("ledger", "import", str(f), "--db", sqlite_url), 2)
    assert f"{f}: this file was already imported (records #1–#2" in again.stderr
    assert len(_records(run, sqlite_url)) == 2


def test_one_fhir_administration_imported_again_in_another_offset_is_refused(
    run, ledger_url: str, tmp_path: Path
) -> None:
    """adm-777 given 2024-02-05T23:30-05:00, re-exported as 2024-02-06T04:30Z (the same instant)
    became two records on two days, counted twice (200 mg/m² for 100), exit 0: its id in the
    source system is the same, so it is the same administration."""

    def given(ident: str, when: str) -> str:
        return _bundle({**_admin("completed", "epirubicin", 100, "mg/m2", when), "id": ident})

    first = write(tmp_path, "local.json", given("adm-777", "2024-02-05T23:30:00-05:00"))
    _ok(run("ledger", "import", str(first), "--db", ledger_url))
    for name, when, day in [
        ("utc.json", "2024-02-06T04:30:00Z", "on 2024-02-05, then on 2024-02-06"),
        ("other.json", "2024-02-05T22:30:00-06:00", "epirubicin on 2024-02-05: one"),
    ]:
        again = write(tmp_path, name, given("adm-777", when))
        refused = _ok(run("ledger", "import", str(again), "--db", ledger_url), 2)
        assert "is already recorded as #1 (the same id adm-777 in the source system" in (
            refused.stderr
        ), refused.stderr
        assert day in refused.stderr
    # --again says a dose was given twice; one id in the source system is one administration
    refused = _ok(run("ledger", "import", str(again), "--again", "--db", ledger_url), 2)
    assert "a second administration has an id of its own" in refused.stderr
    assert len(_records(run, ledger_url, "F1")) == 1
    # a history row with the id of a ledger record is the same administration too
    h = write(
        tmp_path, "h.csv", "date,drug,dose,unit,id\n2024-02-07,epirubicin,100,mg/m2,adm-777\n"
    )
    p = _ok(run("check", "--patient", "F1", "--history", str(h), "--db", ledger_url), 2)
    assert "the same id adm-777 in the source system" in p.stderr, p.stderr


def test_one_resource_twice_in_a_bundle_is_refused(run, sqlite_url: str, tmp_path: Path) -> None:
    """FHIR bdl-7: adm-1 completed and adm-1 entered-in-error in one Bundle recorded the dose."""
    done = {**_admin("completed", "epirubicin", 100, "mg/m2", "2024-01-05"), "id": "adm-1"}
    error = {**done, "status": "entered-in-error"}
    same_url = {"resourceType": "Bundle", "type": "collection",
                "entry": [{"fullUrl": "urn:uuid:adm-1", "resource": r} for r in (done, error)]}  # fmt: skip
    f = write(tmp_path, "b.json", json.dumps(same_url))
    p = _ok(run("ledger", "import", str(f), "--db", sqlite_url), 2)
    assert "b.json entry 1: the fullUrl urn:uuid:adm-1 is that of entry 0 too" in p.stderr
    g = write(tmp_path, "c.json", _bundle(done, error))  # other fullUrls, one resource id
    p = _ok(run("ledger", "import", str(g), "--db", sqlite_url), 2)
    assert "c.json entry 1: the resource MedicationAdministration/adm-1 is that of entry 0" in (
        p.stderr
    )
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_verify_catches_edits_deletions_and_a_rewritten_chain(
    run, ledger_url: str, tmp_path: Path
) -> None:
    for i, day in enumerate(("05", "06", "07", "08")):
        _ok(_record(run, ledger_url, "V", f"2024-01-{day}", "epirubicin", f"{40 + i}mg/m2"))
    intact = json.loads(_ok(run("ledger", "verify", "--db", ledger_url, "--format", "json")).stdout)
    assert intact["ok"] and intact["records"] == 4 and intact["problems"] == []
    anchor = intact["head"]["hash"]

    # a dose edited directly in the database
    sql(ledger_url, "UPDATE dosecalc_records SET dose = '4' WHERE seq = 2")
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "record #2 was changed after it was recorded" in p.stdout
    sql(ledger_url, "UPDATE dosecalc_records SET dose = '41' WHERE seq = 2")
    _ok(run("ledger", "verify", "--db", ledger_url, "--anchor", anchor[:16]))

    # a record deleted from the middle, then from the end
    sql(ledger_url, "DELETE FROM dosecalc_records WHERE seq = 3")
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "#3–#3 are missing" in p.stdout and "record #4 does not follow" in p.stdout
    sql(ledger_url, "DELETE FROM dosecalc_records WHERE seq = 4")
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "removed from the end" in p.stdout

    # someone who recomputes the whole chain after an edit is caught by an anchor
    from dosecalc import ledger

    rows = sql(ledger_url, "SELECT * FROM dosecalc_records ORDER BY seq")
    prev = ledger.GENESIS
    columns = [c.name for c in ledger.RECORDS.columns]
    for values in rows:
        r = dict(zip(columns, values, strict=True))
        r["dose"] = "1" if r["seq"] == 1 else r["dose"]
        r["prev_hash"] = prev
        r["hash"] = prev = ledger.digest(r)
        sql(
            ledger_url,
            "UPDATE dosecalc_records SET dose = :dose, prev_hash = :p, hash = :h WHERE seq = :seq",
            dose=r["dose"],
            p=r["prev_hash"],
            h=r["hash"],
            seq=r["seq"],
        )
    sql(ledger_url, "UPDATE dosecalc_meta SET value = :v WHERE key = 'head'", v=f"2 {prev}")
    sql(ledger_url, "DELETE FROM dosecalc_patients")  # and the table of patients made to fit
    sql(ledger_url, "INSERT INTO dosecalc_patients SELECT patient, count(*), max(seq) "
                    "FROM dosecalc_records GROUP BY patient")  # fmt: skip
    # this machine saw record #4 as the newest: its witness catches the shorter, rewritten chain
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "records #3–#4 were removed" in p.stdout
    # on a machine that never saw them it is a perfect forgery, caught only by an anchor
    elsewhere = {"DOSECALC_STATE_DIR": str(tmp_path / "elsewhere")}
    _ok(run("ledger", "verify", "--db", ledger_url, env=elsewhere))
    p = _ok(run("ledger", "verify", "--db", ledger_url, "--anchor", anchor, env=elsewhere), 1)
    assert "no record has the anchored hash" in p.stdout


def test_a_new_sqlite_ledger_is_private_and_in_the_data_folder(run, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    env_no_db = {k: v for k, v in os.environ.items() if k != "DOSECALC_DB"} | env
    p = subprocess.run(
        [
            *dosecalc_exe(),
            "ledger",
            "record",
            "--patient",
            "A",
            "--date",
            "2024-01-05",
            "--drug",
            "EPI",
            "--dose",
            "90mg/m2",
        ],
        capture_output=True,
        text=True,
        env=env_no_db,
        cwd=tmp_path,
        timeout=60,
    )
    _ok(p)
    path = home / "data" / "dosecalc" / "ledger.db"
    assert str(path) in p.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for side in path.parent.glob("ledger.db-*"):  # WAL files, if any are left
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0


def test_reading_a_missing_or_unreachable_ledger_is_one_clear_sentence(run, tmp_path) -> None:
    missing = _ok(run("check", "--patient", "A", "--db", f"sqlite:///{tmp_path / 'no.db'}"), 2)
    assert "there is no ledger at" in missing.stderr and not (tmp_path / "no.db").exists()
    url = "postgresql://pharm:s3cret@127.0.0.1:1/ledger"
    down = _ok(run("ledger", "verify", "--db", url), 2)
    assert "cannot be used" in down.stderr and "s3cret" not in down.stderr
    assert down.stderr.count("\n") == 1
    for bad, says in (
        ("mysql://x/y", "not supported"),
        ("://ledger", "not a database URL"),
        ("ledger.db", "there is no ledger at"),  # a plain path is a SQLite file
        ("sqlite://", "needs a file"),
    ):
        assert says in _ok(run("ledger", "list", "--db", bad), 2).stderr


def test_a_ledger_from_a_newer_dosecalc_is_refused(run, ledger_url: str) -> None:
    _ok(_record(run, ledger_url, "A", "2024-01-05", "EPI", "90mg/m2"))
    sql(ledger_url, "UPDATE dosecalc_meta SET value = '99' WHERE key = 'schema_version'")
    p = _ok(run("check", "--patient", "A", "--db", ledger_url), 2)
    assert "schema 99" in p.stderr and "newer dosecalc" in p.stderr
    _ok(_record(run, ledger_url, "A", "2024-01-06", "EPI", "90mg/m2"), 2)


def test_the_audit_reads_a_patient_id_that_begins_like_a_formula_as_recorded(
    run, ledger_url: str, tmp_path: Path
) -> None:
    """The SQLite audit fed the records to the engine, which takes away the quote dosecalc's
    CSVs put before a formula: patients '=1+2 and =1+2 were checked as one, 20 mg/m² for =1+2
    and no '=1+2, where check --patient, the PostgreSQL audit and the export read 10 each."""
    for day, who in enumerate(("=1+2", "'=1+2", "-7", "''=x"), start=1):
        _ok(_record(run, ledger_url, who, f"2024-01-0{day}", "epirubicin", "10mg/m2"))
    export = tmp_path / "export.csv"
    _ok(run("ledger", "export", "--db", ledger_url, "-o", str(export)))
    audit = _ok(run("check", "--all-patients", "--db", ledger_url, "--format", "json"))
    history = _ok(run("check", "--history", str(export), "--format", "json"))
    totals = {
        p["patient"]: t["total"]
        for p in json.loads(audit.stdout)["patients"]
        for t in p["cumulative"]
        if t["drug"] == "epirubicin"
    }
    assert totals == {"=1+2": 10.0, "'=1+2": 10.0, "-7": 10.0, "''=x": 10.0}
    assert audit.stdout == history.stdout


def test_all_patients_audit(run, sqlite_url: str, tmp_path: Path) -> None:
    rows = ["date,drug,dose,unit,bsa_m2,patient"]
    for p, total in (("LOW", 300), ("NEAR", 950), ("OVER", 1100)):
        rows += [f"2023-{i + 1:02d}-10,epirubicin,{total / 10},mg/m2,,{p}" for i in range(10)]
    f = write(tmp_path, "pharmacy.csv", "\n".join(rows) + "\n")
    _ok(run("ledger", "import", str(f), "--db", sqlite_url))
    p = _ok(run("check", "--all-patients", "--db", sqlite_url), 1)
    lines = p.stdout.strip().splitlines()
    assert lines[-1] == "3 patients checked: 2 over a threshold, 1 over a limit"
    assert any(line.startswith("NEAR: threshold reached: epiRUBicin 950 mg/m²") for line in lines)
    assert any(line.startswith("OVER: LIMIT EXCEEDED: epiRUBicin 1,100 mg/m²") for line in lines)
    assert not any(line.startswith("LOW") for line in lines)
    js = _ok(run("check", "--all-patients", "--db", sqlite_url, "--format", "json"), 1)
    data = json.loads(js.stdout)
    assert [x["patient"] for x in data["patients"]] == ["LOW", "NEAR", "OVER"]
    import jsonschema

    jsonschema.validate(data, schema("check-output"))
    clash = _ok(run("check", "--all-patients", "--patient", "LOW", "--db", sqlite_url), 2)
    assert "--all-patients" in clash.stderr


def test_eight_processes_recording_at_once_lose_and_duplicate_nothing(run, ledger_url) -> None:
    _ok(_record(run, ledger_url, "seed", "2020-01-01", "EPI", "10mg/m2"))  # create the tables
    writers = [
        subprocess.Popen(
            [
                *dosecalc_exe(),
                "ledger",
                "record",
                "--db",
                ledger_url,
                "--patient",
                f"C{i % 2}",
                "--date",
                f"2024-02-{i + 1:02d}",
                "--drug",
                "cisplatin",
                "--dose",
                f"{50 + i}mg/m2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    results = [w.communicate(timeout=120) + (w.returncode,) for w in writers]
    assert [r[2] for r in results] == [0] * 8, results
    records = _records(run, ledger_url)
    assert sorted(r["dose"] for r in records[1:]) == sorted(str(50 + i) for i in range(8))
    assert [r["seq"] for r in records] == list(range(1, 10))
    _ok(run("ledger", "verify", "--db", ledger_url))


def test_the_same_dose_sent_by_four_pharmacists_at_once_is_recorded_once(run, ledger_url) -> None:
    """The repeat check runs inside the write lock: of four identical records sent at once,
    one is recorded and three are refused as repeats."""
    _ok(_record(run, ledger_url, "seed", "2020-01-01", "EPI", "10mg/m2"))
    args = [
        "ledger",
        "record",
        "--db",
        ledger_url,
        "--patient",
        "D",
        "--date",
        "2024-03-01",
        "--drug",
        "epirubicin",
        "--dose",
        "75mg/m2",
    ]
    procs = [
        subprocess.Popen(
            [*dosecalc_exe(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outcomes = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert sorted(o[2] for o in outcomes) == [0, 2, 2, 2], outcomes
    assert all("already recorded as #2" in o[1] for o in outcomes if o[2] == 2)
    assert [r["dose"] for r in _records(run, ledger_url, "D")] == ["75"]


CONCURRENT = """
import sys
from dosecalc.ledger import Entry, Ledger
url, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ledger = Ledger(url, create=True)
for i in range(n):
    day = f"2023-{1 + i // 28:02d}-{1 + i % 28:02d}"
    ledger.record([Entry(f"W{worker}", day, "ifosfamide", str(1000 + i), "mg/m2",
                         source=f"worker {worker} #{i}")], by=f"worker {worker}")
"""


def test_concurrent_writers_through_the_library(ledger_url: str, run) -> None:
    """Eight processes appending 40 records each, at once: 320 records, gapless, one chain."""
    import sys

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, ledger_url, str(w), "40"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    report = json.loads(_ok(run("ledger", "verify", "--db", ledger_url, "--format", "json")).stdout)
    assert report["records"] == 320 and report["ok"], report["problems"]
    people = json.loads(_ok(run("ledger", "list", "--db", ledger_url, "--format", "json")).stdout)
    assert {p["patient"]: p["doses"] for p in people["patients"]} == {f"W{w}": 40 for w in range(8)}


def test_an_import_killed_midway_leaves_the_ledger_as_it_was(run, ledger_url, tmp_path) -> None:
    _ok(_record(run, ledger_url, "K", "2020-01-01", "EPI", "10mg/m2"))
    rows = "".join(
        f"{1990 + i // 336 % 30}-{1 + i // 28 % 12:02d}-{1 + i % 28:02d},cisplatin,{1 + i % 90},mg/m2,,K{i % 50}\n"
        for i in range(20_000)
    )
    big = write(tmp_path, "big.csv", "date,drug,dose,unit,bsa_m2,patient\n" + rows)
    for delay in (0.0, 0.3):
        proc = subprocess.Popen(
            [*dosecalc_exe(), "ledger", "import", str(big), "--db", ledger_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "writing 20000 records to …": the transaction is open
        assert line.startswith("writing 20000 records"), line
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        report = json.loads(
            _ok(run("ledger", "verify", "--db", ledger_url, "--format", "json")).stdout
        )
        assert report["ok"] and report["records"] == 1, report
    done = _ok(run("ledger", "import", str(big), "--db", ledger_url))  # and then it goes through
    assert "imported 20000 administrations of 50 patients" in done.stdout
    report = json.loads(_ok(run("ledger", "verify", "--db", ledger_url, "--format", "json")).stdout)
    assert report["ok"] and report["records"] == 20_001


def test_the_audit_shows_a_progress_bar_on_a_terminal(run, tmp_path: Path, monkeypatch) -> None:
    """On a terminal the audit draws a (transient) progress bar once the work has taken longer
    than DOSECALC_PROGRESS_AFTER seconds (default 1); piped, it prints only lines."""
    import pty

    db = f"sqlite:///{tmp_path / 'l.db'}"
    rows = "".join(f"2023-01-10,epirubicin,{100 + p},mg/m2,,Q{p}\n" for p in range(30))
    f = write(tmp_path, "q.csv", "date,drug,dose,unit,bsa_m2,patient\n" + rows)
    _ok(run("ledger", "import", str(f), "--db", db))
    out = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        out.extend(data)
        return data

    monkeypatch.setenv("DOSECALC_PROGRESS_AFTER", "0")
    pid_status = pty.spawn([*dosecalc_exe(), "check", "--all-patients", "--db", db], read)
    assert os.waitstatus_to_exitcode(pid_status) == 0
    assert b"checking patients" in out and b"30 patients checked: 0 over a threshold" in out
    out.clear()
    monkeypatch.delenv("DOSECALC_PROGRESS_AFTER")  # a quick check: no bar at all
    pid_status = pty.spawn([*dosecalc_exe(), "check", "--all-patients", "--db", db], read)
    assert os.waitstatus_to_exitcode(pid_status) == 0
    assert b"checking patients" not in out and b"30 patients checked" in out
    piped = _ok(run("check", "--all-patients", "--db", db))
    assert piped.stdout == "30 patients checked: 0 over a threshold, 0 over a limit\n"
    assert "checking patients" not in piped.stderr


def test_output_sent_to_a_file_stays_there_while_the_bar_is_drawn(run, tmp_path: Path) -> None:
    """``dosecalc check --history big.csv > report.txt`` typed at a terminal: the bar is drawn
    on the terminal (standard error) and every line of the report, table, CSV or JSON, still
    goes to the file, as it does with no terminal at all (the bar once took them to the screen)."""
    import pty

    rows = "".join(f"2023-01-10,epirubicin,{900 + p},mg/m2,,Q{p}\n" for p in range(40))
    history = write(tmp_path, "q.csv", "date,drug,dose,unit,bsa_m2,patient\n" + rows)
    env = {**os.environ, "DOSECALC_PROGRESS_AFTER": "0"}
    cases = [["table"], ["json"], ["csv", "--patients-over", "threshold"], ["csv"]]
    for fmt, *more in cases:
        args = ["check", "--history", str(history), "--format", fmt, *more]
        piped = run(*args)
        master, slave = pty.openpty()
        report = tmp_path / f"report-{len(more)}.{fmt}"
        with report.open("wb") as out:
            p = subprocess.Popen([*dosecalc_exe(), *args], stdout=out, stderr=slave, env=env)
        os.close(slave)
        shown = bytearray()
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the program closed the terminal
                break
            if not data:
                break
            shown.extend(data)
        os.close(master)
        assert p.wait(timeout=60) == piped.returncode
        # the bar was drawn (every patient's CSV of totals is written in one go: no bar), after
        # what was said while the histories were read
        assert (b"checking patients" in shown) == bool(more or fmt != "csv"), fmt
        assert b"reading and checking the histories" in shown, fmt
        assert report.read_text(encoding="utf-8") == piped.stdout, fmt
        assert b"Q39" not in shown, fmt  # no line of the report on the terminal


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("dose"), st.sampled_from(["A", "B"]), st.integers(1, 150)),
        st.tuples(st.just("void"), st.sampled_from(["A", "B"]), st.integers(0, 30)),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(_OPS)
def test_recording_and_voiding_keep_the_chain_and_the_exposure(
    ops: list[tuple[str, str, int]],
) -> None:
    """Any sequence of records and voids (library level, SQLite): the ledger's exposure equals a
    plain model of it, every number is used once, and the chain verifies."""
    import tempfile

    from dosecalc.data.records import History
    from dosecalc.ledger import Entry, Ledger, LedgerError

    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(f"sqlite:///{folder}/l.db", create=True)
        model: dict[int, tuple[str, float]] = {}  # seq → (patient, dose) in force
        n = 0
        for kind, patient, value in ops:
            if kind == "dose":
                [seq] = ledger.record(
                    [Entry(patient, "2024-01-05", "epirubicin", str(value), "mg/m2")],
                    again=True,
                )
                model[seq] = (patient, float(value))
                n += 1
                assert seq == n
            elif model:
                target = sorted(model)[value % len(model)]
                ledger.void(target, model[target][0], "test")
                del model[target]
                n += 1
        for patient in ("A", "B"):
            expected = sum(d for p, d in model.values() if p == patient)
            h = History()
            if expected:
                ledger.add_to(h, patient)
                got = sum(h.patients[None].amount)
                assert got == pytest.approx(expected)
        if n == 0:  # nothing recorded: there is no ledger to verify
            with pytest.raises(LedgerError, match="holds no dosecalc ledger yet"):
                ledger.verify()
            return
        report = ledger.verify()
        assert report["ok"] and report["records"] == n


def test_a_pharmacist_role_with_the_documented_grants_can_record_but_not_rewrite(
    run, postgres_server: str
) -> None:
    """SECURITY.md's PostgreSQL grants: enough to record, void, check and verify; not enough to
    edit or delete a record."""
    import psycopg

    from tests import pg

    with pg.database(postgres_server) as admin_url:
        _ok(_record(run, admin_url, "A", "2024-01-05", "EPI", "90mg/m2"))  # the admin creates
        role = f"pharm_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(f"GRANT SELECT, INSERT ON dosecalc_records TO {role}")
            conn.execute(f"GRANT SELECT, UPDATE ON dosecalc_meta TO {role}")
            conn.execute(f"GRANT SELECT, INSERT, UPDATE ON dosecalc_patients TO {role}")
        url = admin_url.replace("dosecalc@", f"{role}@")
        _ok(_record(run, url, "A", "2024-01-26", "EPI", "90mg/m2"))
        _ok(run("ledger", "void", "2", "--patient", "A", "--reason", "test", "--db", url))
        _ok(run("check", "--patient", "A", "--db", url))
        _ok(run("ledger", "verify", "--db", url))
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE dosecalc_records SET dose = '9' WHERE seq = 1")
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM dosecalc_records WHERE seq = 1")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
