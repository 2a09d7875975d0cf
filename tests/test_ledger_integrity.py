"""The ledger is never silently wrong (issue 15): a damaged or foreign database file, a chain
with its newest records removed, a tampered record, a value out of its field's bound, a dose
far above its drug's usual maximum, a FHIR file of the wrong shape. Each ends in exit 2 (or,
for `ledger verify`, exit 1) with one clear sentence: never exit 0 with a wrong total, never
exit 3. Tests taking ``ledger_url`` run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.ledger import chain, fields
from tests.conftest import DIA, TODAY, sql, write

EPI = ("--drug", "epirubicin", "--dose", "50mg/m2")


def _ok(p: subprocess.CompletedProcess[str], code: int = 0) -> subprocess.CompletedProcess[str]:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stdout + p.stderr and "internal error" not in p.stderr
    return p


def _refused(p: subprocess.CompletedProcess[str], *says: str) -> str:
    """Exit 2, one sentence on stderr, nothing on stdout."""
    _ok(p, 2)
    assert p.stdout == "" and p.stderr.startswith("Error:"), p.stderr
    assert p.stderr.count("\n") == 1, p.stderr
    for text in says:
        assert text in p.stderr, (text, p.stderr)
    return p.stderr


def _seven(run, db: str, patient: str = "P") -> None:
    """Seven doses of 50 mg/m² epirubicin: 350 mg/m² on record."""
    for month in range(1, 8):
        _ok(
            run(
                "ledger",
                "record",
                "--db",
                db,
                "--patient",
                patient,
                "--date",
                f"2024-{month:02d}-05",
                *EPI,
            )
        )


def _prior(run, db: str, patient: str = "P") -> float:
    p = _ok(run("check", "--patient", patient, "--db", db, "--format", "json"))
    [epi] = [t for t in json.loads(p.stdout)["cumulative"] if t["drug"] == "epirubicin"]
    return epi["prior"]


PLAN = ["plan", "ec", "--bsa", "1.8", "--start", "2026-12-01", "--format", "json"]


def _reads(db: str, patient: str = "P") -> list[list[str]]:
    """Every command that reads a patient's records, or every record."""
    return [
        ["check", "--patient", patient, "--db", db],
        [*PLAN, "--patient", patient, "--db", db],
        ["check", "--all-patients", "--db", db],
        ["ledger", "list", "--patient", patient, "--db", db],
        ["ledger", "export", "--db", db],
        ["ledger", "export", "--patient", patient, "--db", db],
    ]


def _every_use(db: str, patient: str = "P") -> list[list[str]]:
    """Every command that opens the ledger."""
    return [
        ["check", "--patient", patient, "--db", db],
        [*PLAN, "--patient", patient, "--db", db],
        ["check", "--all-patients", "--db", db],
        ["ledger", "list", "--db", db],
        ["ledger", "list", "--patient", patient, "--db", db],
        ["ledger", "export", "--db", db],
        ["ledger", "export", "--patient", patient, "--db", db],
        ["ledger", "void", "1", "--patient", patient, "--reason", "x", "--db", db],
        ["ledger", "record", "--db", db, "--patient", patient, "--date", "2024-09-05", *EPI],
    ]


# ------------------------------------------------------------ damaged and foreign SQLite files


def _cut_1k(path: Path) -> None:
    os.truncate(path, path.stat().st_size - 1024)


def _cut_page(path: Path) -> None:
    os.truncate(path, path.stat().st_size - 4096)


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _zero_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = bytes(100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_cut_1k, "not a whole number of its 4,096-byte pages"),
        (_cut_page, "its header counts"),
        (_zero, "is empty (0 bytes)"),
        (_random, "is not a SQLite database"),
        (_zero_header, "is not a SQLite database"),
    ],
    ids=["1KiB-short", "a-page-short", "0-bytes", "random-bytes", "header-zeroed"],
)
def test_a_damaged_sqlite_ledger_is_refused_everywhere(run, tmp_path: Path, damage, says) -> None:
    path = tmp_path / "ledger.db"
    db = f"sqlite:///{path}"
    _seven(run, db)
    assert _prior(run, db) == pytest.approx(350.0)
    _ok(run("ledger", "verify", "--db", db))
    damage(path)
    before = path.read_bytes()
    for args in [*_every_use(db), ["ledger", "verify", "--db", db]]:
        _refused(run(*args), says, "restore it from a backup")
    assert path.read_bytes() == before  # never re-initialised, never written


def test_the_issue_case_never_reads_50_of_350(run, tmp_path: Path) -> None:
    """The report: a SQLite ledger 1 KiB short passed `ledger verify`, and `check --patient`
    then read 50 mg/m² epirubicin of the 350 on record."""
    path = tmp_path / "ledger.db"
    db = f"sqlite:///{path}"
    _seven(run, db)
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    _cut_1k(path)
    _refused(run("ledger", "verify", "--db", db), "damaged")
    _refused(run("check", "--patient", "P", "--db", db), "damaged")
    _refused(run(*PLAN, "--patient", "P", "--db", db), "damaged")


def _foreign(path: Path, tables: str) -> None:
    conn = sqlite3.connect(path)
    if tables:
        conn.executescript(tables)
    else:
        conn.execute("PRAGMA user_version = 1")  # an empty database: a header, no tables
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("tables", "says"),
    [
        ("", "not a dosecalc ledger"),
        ("CREATE TABLE patients (id TEXT);", "not a dosecalc ledger"),
        ("CREATE TABLE dosecalc_meta (key TEXT PRIMARY KEY, value TEXT);", "is damaged"),
    ],
    ids=["empty-sqlite", "another-app", "half-a-ledger"],
)
def test_a_sqlite_file_that_is_not_a_ledger_is_never_made_one(run, tmp_path, tables, says) -> None:
    path = tmp_path / "other.db"
    _foreign(path, tables)
    before = path.read_bytes()
    db = f"sqlite:///{path}"
    for args in [*_every_use(db), ["ledger", "verify", "--db", db]]:
        _refused(run(*args), says)
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2024-01-05,EPI,50,mg/m2\n")
    _refused(run("ledger", "import", str(history), "--patient", "P", "--db", db), says)
    assert path.read_bytes() == before


def test_a_folder_or_a_non_sqlite_file_is_refused(run, tmp_path: Path) -> None:
    folder = tmp_path / "dir.db"
    folder.mkdir()
    _refused(run("ledger", "verify", "--db", f"sqlite:///{folder}"), "is a folder")
    text = write(tmp_path, "notes.db", "patient notes, not a database\n" * 200)
    _refused(run("check", "--patient", "P", "--db", f"sqlite:///{text}"), "not a SQLite database")


def test_a_deleted_ledger_is_not_silently_started_again(run, tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    db = f"sqlite:///{path}"
    _seven(run, db)
    for side in [path, *path.parent.glob("ledger.db-*")]:
        side.unlink()
    err = _refused(run("check", "--patient", "P", "--db", db), "is gone", "7 records")
    assert "restore it from a backup" in err
    record = ["ledger", "record", "--db", db, "--patient", "P", "--date", "2024-09-05", *EPI]
    _refused(run(*record), "is gone")
    assert not path.exists()
    # a user who really wants a new ledger there removes the witness, as the message says
    witness = Path(err.split("remove ")[1].rstrip(")\n"))
    assert witness.is_file()
    witness.unlink()
    _ok(run(*record))


def test_a_zeroed_page_in_the_middle_fails_verify(run, tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    db = f"sqlite:///{path}"
    rows = "".join(
        f"2020-01-{1 + i % 28:02d},cisplatin,{10 + i % 100},mg/m2,,Q{i}\n" for i in range(400)
    )
    _ok(
        run(
            "ledger",
            "import",
            str(write(tmp_path, "h.csv", f"date,drug,dose,unit,bsa_m2,patient\n{rows}")),
            "--db",
            db,
        )
    )
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096
    data[middle : middle + 4096] = bytes(4096)
    path.write_bytes(bytes(data))
    p = run("ledger", "verify", "--db", db)
    assert p.returncode in (1, 2) and "Traceback" not in p.stderr, p.stderr
    assert "damaged" in p.stdout + p.stderr


# ------------------------------------------------------------ tampering, on both databases


def _drop_newest(db: str, table: bool = True) -> None:
    """Delete the newest record and set the stored head to the record before it; with
    ``table``, the table of patients too (all an older copy restored would show)."""
    [(last,)] = sql(db, "SELECT max(seq) FROM dosecalc_records")
    sql(db, "DELETE FROM dosecalc_records WHERE seq = :s", s=last)
    [(prev,)] = sql(db, "SELECT hash FROM dosecalc_records WHERE seq = :s", s=last - 1)
    sql(db, "UPDATE dosecalc_meta SET value = :v WHERE key = 'head'", v=f"{last - 1} {prev}")
    if table:
        sql(db, "DELETE FROM dosecalc_patients")
        sql(db, "INSERT INTO dosecalc_patients SELECT patient, count(*), max(seq) "
                "FROM dosecalc_records GROUP BY patient")  # fmt: skip


def test_the_newest_record_removed_alone_is_caught_without_a_witness(run, ledger_url, tmp_path):
    """The head set back with the newest record removed and the table of patients left as it
    was: their count shows it to a machine that never saw the record."""
    _seven(run, ledger_url)
    _drop_newest(ledger_url, table=False)
    elsewhere = {"DOSECALC_STATE_DIR": str(tmp_path / "other-machine")}
    says = "the ledger noted 7 record(s) (the newest #7) of patient P"
    _refused(run("check", "--patient", "P", "--db", ledger_url, env=elsewhere), says)
    assert says in _ok(run("ledger", "verify", "--db", ledger_url, env=elsewhere), 1).stdout


def test_removing_the_newest_record_and_resetting_the_head_is_caught(run, ledger_url, tmp_path):
    _seven(run, ledger_url)
    _ok(run("ledger", "verify", "--db", ledger_url))
    _drop_newest(ledger_url)
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "record #7 as the ledger's newest" in p.stdout and "#7–#7 were removed" in p.stdout
    for args in _every_use(ledger_url):
        _refused(run(*args), "failed its integrity check", "dosecalc ledger verify")
    # the JSON report says where the witness is kept: in the state folder the tests give
    report = json.loads(
        _ok(run("ledger", "verify", "--db", ledger_url, "--format", "json"), 1).stdout
    )
    assert report["ok"] is False and report["witness"]["seq"] == 7
    assert Path(report["witness"]["file"]).is_relative_to(os.environ["DOSECALC_STATE_DIR"])
    assert stat.S_IMODE(Path(report["witness"]["file"]).stat().st_mode) == 0o600
    # a machine that never saw record #7 cannot tell (SECURITY.md says so)
    elsewhere = {"DOSECALC_STATE_DIR": str(tmp_path / "other-machine")}
    _ok(run("ledger", "verify", "--db", ledger_url, env=elsewhere))
    # after a deliberate restore, --accept-head takes the ledger as it is, saying what it took
    accepted = _ok(run("ledger", "verify", "--db", ledger_url, "--accept-head"))
    assert "accepted (--accept-head)" in accepted.stderr and "#7–#7" in accepted.stderr
    assert _prior(run, ledger_url) == pytest.approx(300.0)


def test_a_machine_that_only_reads_still_catches_what_it_verified(run, ledger_url, tmp_path):
    """A verify that passes notes the head too: a reader who verified record #7 catches its
    removal, though it never wrote to the ledger."""
    reader = {"DOSECALC_STATE_DIR": str(tmp_path / "reader")}
    _seven(run, ledger_url)
    _ok(run("ledger", "verify", "--db", ledger_url, env=reader))
    _drop_newest(ledger_url)
    _refused(run("check", "--patient", "P", "--db", ledger_url, env=reader), "were removed")


def test_a_tampered_record_is_not_used_for_a_total(run, ledger_url: str) -> None:
    _seven(run, ledger_url)
    _seven(run, ledger_url, "OTHER")
    sql(ledger_url, "UPDATE dosecalc_records SET dose = '5' WHERE seq = 3")
    _ok(run("ledger", "verify", "--db", ledger_url), 1)
    for args in _reads(ledger_url):
        _refused(run(*args), "record #3 was changed after it was recorded", "ledger verify")
    # another patient's total rests on records the change did not touch
    assert _prior(run, ledger_url, "OTHER") == pytest.approx(350.0)


def test_nothing_is_recorded_for_a_patient_whose_records_were_altered(
    run, ledger_url: str, tmp_path: Path
) -> None:
    """A write checks the records of the patients it adds to (the head and count are checked
    for every write): it used to append the dose and only then, reading it back, refuse the
    ledger with exit 2, so a dose said not to be recorded was."""
    _seven(run, ledger_url)
    sql(ledger_url, "UPDATE dosecalc_records SET dose = '5' WHERE seq = 3")
    count = "SELECT count(*) FROM dosecalc_records"
    history = write(tmp_path, "p.csv", "date,drug,dose,unit\n2024-10-05,epirubicin,50,mg/m2\n")
    for args in (
        ["ledger", "record", "--db", ledger_url, "--patient", "P", "--date", "2024-09-05", *EPI],
        ["ledger", "record", "--db", ledger_url, "--patient", "P", "--date", "2024-09-05", *EPI,
         "--again"],
        ["ledger", "import", str(history), "--patient", "P", "--db", ledger_url],
        ["ledger", "void", "5", "--patient", "P", "--reason", "wrong day", "--db", ledger_url],
    ):  # fmt: skip
        _refused(run(*args), "record #3 was changed after it was recorded", "nothing was recorded")
        assert sql(ledger_url, count) == [(7,)], args
    # another patient's dose rests on records the change did not touch: recorded
    _ok(run("ledger", "record", "--db", ledger_url, "--patient", "Q", "--date", "2024-09-05", *EPI))
    assert sql(ledger_url, count) == [(8,)]


def test_a_forged_void_of_another_patient_is_caught(run, ledger_url: str) -> None:
    """A void whose patient is not the dose's (written behind dosecalc's back, chain and all,
    at the end) would cancel the dose: the patient's check looks at every void of their
    records, whoever's it claims to be."""
    _seven(run, ledger_url)
    _ok(run("ledger", "record", "--db", ledger_url, "--patient", "Q", "--date", "2024-01-05", *EPI))
    _ok(run("ledger", "void", "8", "--patient", "Q", "--reason", "test", "--db", ledger_url))
    sql(ledger_url, "UPDATE dosecalc_records SET voids = 1 WHERE seq = 9")
    _refused(run("check", "--patient", "P", "--db", ledger_url), "failed its integrity check")


# ------------------------------------------------------------ each patient's records linked


def _doxorubicin(run, db: str, tmp_path: Path, others: bool = False) -> None:
    """Eight doxorubicin 75 mg/m² records of P1, imported: 600 mg/m², 109 % of the limit; with
    ``others``, four records of P2 between them (P1's are #1, #3, #5, #7 and #9–#12)."""
    rows = []
    for month in range(1, 9):
        rows.append(f"2024-{month:02d}-05,doxorubicin,75,mg/m2,P1\n")
        if others and month <= 4:
            rows.append(f"2024-{month:02d}-06,doxorubicin,50,mg/m2,P2\n")
    f = write(tmp_path, "dox.csv", "date,drug,dose,unit,patient\n" + "".join(rows))
    _ok(run("ledger", "import", str(f), "--db", db))


def _patient_reads(db: str, tmp_path: Path, patient: str = "P1") -> list[list[str]]:
    """check, plan and verify of one patient."""
    from datetime import timedelta

    today = TODAY
    order = write(
        tmp_path,
        "order.yaml",
        f"regimen: ec\ncycle: 1\nstart: '{today + timedelta(days=7)}'\n"
        f"patient: {{height: 175 cm, weight: 70 kg, measured: '{today - timedelta(days=2)}'}}\n"
        "lines:\n  - {drug: epirubicin, dose: 166 mg, day: 1, route: IV}\n"
        "  - {drug: cyclophosphamide, dose: 1107 mg, day: 1, route: IV}\n",
    )
    return [
        ["check", "--patient", patient, "--db", db],
        [*DIA, "--patient", patient, "--db", db],
        ["verify", str(order), "--height", "175cm", "--weight", "70kg", "--patient", patient,
         "--db", db],
    ]  # fmt: skip


def _doxorubicin_prior(run, db: str, patient: str = "P1") -> float:
    p = _ok(run("check", "--patient", patient, "--db", db, "--format", "json"), 1)
    [dox] = [t for t in json.loads(p.stdout)["cumulative"] if t["drug"] == "doxorubicin"]
    return dox["prior"]


def test_a_record_moved_to_another_patient_is_caught_by_the_patients_read(
    run, ledger_url, tmp_path
) -> None:
    """Issue 29, item 14: record #1 of P1 given P9's id read 525 mg/m² (95 %, exit 0) where
    600 (109 %, exit 1) is the truth: P1's read saw only the records that still carry P1."""
    _doxorubicin(run, ledger_url, tmp_path)
    reads = _patient_reads(ledger_url, tmp_path)
    for args in reads:
        _ok(run(*args), 1)  # above the limit: exit 1
    assert _doxorubicin_prior(run, ledger_url) == pytest.approx(600.0)
    sql(ledger_url, "UPDATE dosecalc_records SET patient = 'P9' WHERE seq = 1")
    for args in reads:
        _refused(
            run(*args),
            "failed its integrity check: patient P1's record #2 is number 2 of theirs, yet the "
            "ledger holds 0 of theirs before it: a record of theirs was moved to another patient",
            "Run `dosecalc ledger verify`",
        )
    for args in _patient_reads(ledger_url, tmp_path, "P9"):
        _refused(run(*args), "record #1 was changed after it was recorded", "ledger verify")
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "record #1 was changed" in p.stdout and "patient P1's record #2 is number 2" in p.stdout
    _refused(run("check", "--all-patients", "--db", ledger_url), "failed its integrity check")


@pytest.mark.parametrize(
    ("tamper", "says", "other", "other_says"),
    [
        (  # one of P1's records moved to P2: it still links to P1's record before it
            "UPDATE dosecalc_records SET patient = 'P2' WHERE seq = 5",
            "record #5 was changed after it was recorded",
            "P2",
            "record #5 was changed after it was recorded",
        ),
        (  # the same, its links made to fit P9's first record: P1's count shows the gap
            "UPDATE dosecalc_records SET patient = 'P9', patient_seq = 1, patient_prev_seq = 0 "
            "WHERE seq = 5",
            "patient P1's record #7 is number 4 of theirs, yet the ledger holds 2 of theirs "
            "before it: a record of theirs was moved to another patient or removed",
            "P9",
            "record #5 was changed after it was recorded",
        ),
        (  # P1's newest record moved to P2
            "UPDATE dosecalc_records SET patient = 'P2' WHERE seq = 12",
            "record #12 was changed after it was recorded",
            "P2",
            "record #12 was changed after it was recorded",
        ),
        (  # one of P2's records moved in: its hash, and it still links to P2's
            "UPDATE dosecalc_records SET patient = 'P1' WHERE seq = 4",
            "record #4 was changed after it was recorded",
            "P2",
            "record #4 was changed after it was recorded",
        ),
        (  # one of P1's records deleted from among theirs: the count of records, and the links
            "DELETE FROM dosecalc_records WHERE seq = 5",
            "the chain head numbers 12 records, the ledger holds 11",
            "P2",
            "the chain head numbers 12 records, the ledger holds 11",
        ),
    ],
    ids=["moved-out", "moved-out-links-rewritten", "newest-moved-out", "moved-in", "deleted"],
)
def test_a_patients_read_proves_their_records_are_all_there(
    run, ledger_url, tmp_path, tamper, says, other, other_says
) -> None:
    _doxorubicin(run, ledger_url, tmp_path, others=True)
    assert _doxorubicin_prior(run, ledger_url) == pytest.approx(600.0)
    sql(ledger_url, tamper)
    for args in _patient_reads(ledger_url, tmp_path):
        _refused(run(*args), "failed its integrity check", says, "dosecalc ledger verify")
    _refused(run("check", "--patient", other, "--db", ledger_url), other_says)
    _ok(run("ledger", "verify", "--db", ledger_url), 1)


def test_a_deleted_record_copied_back_under_another_id_is_caught(run, ledger_url, tmp_path):
    """A record removed from among P1's and put back as P9's, so that the count of records
    holds: it still links to P1's record before it."""
    _doxorubicin(run, ledger_url, tmp_path, others=True)
    columns = ", ".join(f'"{s.name}"' for s in fields.SPECS)
    [row] = sql(ledger_url, f"SELECT {columns} FROM dosecalc_records WHERE seq = 3")
    sql(ledger_url, "DELETE FROM dosecalc_records WHERE seq = 3")
    copy = {**dict(zip([s.name for s in fields.SPECS], row, strict=True)), "patient": "P9"}
    sql(ledger_url, f"INSERT INTO dosecalc_records ({columns}) VALUES "
                    f"({', '.join(':' + s.name for s in fields.SPECS)})", **copy)  # fmt: skip
    for args in _patient_reads(ledger_url, tmp_path):
        _refused(run(*args), "record #3 was changed after it was recorded")


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE dosecalc_records SET patient = 'P2', patient_seq = 5, patient_prev_seq = 8 "
        "WHERE seq = 12",  # to P2, its count and link rewritten to fit P2's records
        "UPDATE dosecalc_records SET patient = 'P1-ARCHIVE', patient_seq = 1, "
        "patient_prev_seq = 0 WHERE seq = 12",  # to a new id, as its first record
    ],
    ids=["to-another-patient", "to-a-new-id"],
)
def test_a_patients_newest_record_moved_away_is_caught_by_their_read(
    run, ledger_url, tmp_path, tamper
) -> None:
    """A patient's newest record moved to another id with its count and link rewritten to fit
    there left P1's records a perfect chain of their own: P1's read gave 525 mg/m² for 600,
    exit 0. The ledger notes each patient's count and newest record at each append (schema 4),
    and their read holds their records to it."""
    _doxorubicin(run, ledger_url, tmp_path, others=True)
    sql(ledger_url, tamper)
    for args in _patient_reads(ledger_url, tmp_path):
        _refused(
            run(*args),
            "failed its integrity check: the ledger noted 8 record(s) (the newest #12) of patient "
            "P1 when it last added one of theirs, and 7 (the newest #11) name them now",
            "Run `dosecalc ledger verify`",
        )
    _refused(run("check", "--all-patients", "--db", ledger_url), "record #12 was changed")
    _ok(run("ledger", "verify", "--db", ledger_url), 1)


def test_what_a_patients_read_cannot_see(run, ledger_url, tmp_path) -> None:
    """SECURITY.md: the newest record moved as above *and* the ledger's table of patients
    rewritten to fit leaves P1's records a perfect chain of their own; its hash fails, so
    ledger verify, the audit and the other patient's read refuse it."""
    _doxorubicin(run, ledger_url, tmp_path, others=True)
    sql(ledger_url, "UPDATE dosecalc_records SET patient = 'P2', patient_seq = 5, "
                    "patient_prev_seq = 8 WHERE seq = 12")  # fmt: skip
    sql(ledger_url, "UPDATE dosecalc_patients SET records = 7, last_seq = 11 WHERE patient = 'P1'")
    sql(ledger_url, "UPDATE dosecalc_patients SET records = 5, last_seq = 12 WHERE patient = 'P2'")
    p = _ok(run("check", "--patient", "P1", "--db", ledger_url, "--format", "json"))
    [dox] = [t for t in json.loads(p.stdout)["cumulative"] if t["drug"] == "doxorubicin"]
    assert dox["prior"] == pytest.approx(525.0)
    _refused(run("check", "--patient", "P2", "--db", ledger_url), "record #12 was changed")
    _refused(run("check", "--all-patients", "--db", ledger_url), "record #12 was changed")
    _ok(run("ledger", "verify", "--db", ledger_url), 1)


def test_the_table_of_patients_altered_alone_is_caught(run, ledger_url, tmp_path) -> None:
    _doxorubicin(run, ledger_url, tmp_path, others=True)
    sql(ledger_url, "UPDATE dosecalc_patients SET records = 9 WHERE patient = 'P1'")
    _refused(
        run("check", "--patient", "P1", "--db", ledger_url),
        "noted 9 record(s) (the newest #12) of patient P1",
    )
    _refused(
        run("check", "--all-patients", "--db", ledger_url),
        "noted 9 record(s) (the newest #12) of patient P1",
    )
    p = _ok(run("ledger", "verify", "--db", ledger_url), 1)
    assert "noted 9 record(s) (the newest #12) of patient P1" in p.stdout


def test_a_patients_read_does_not_walk_the_ledger(run, ledger_url, tmp_path, monkeypatch):
    """P1's read checks P1's 8 records (fields and hash) of 2,012, with a few statements, each
    finding its rows by an index but the count of records; ledger verify checks all of them."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _doxorubicin(run, ledger_url, tmp_path, others=True)
    rows = "".join(f"2020-01-{1 + i % 28:02d},cisplatin,10,mg/m2,Q{i % 500}\n" for i in range(2000))
    big = write(tmp_path, "big.csv", f"date,drug,dose,unit,patient\n{rows}")
    _ok(run("ledger", "import", str(big), "--db", ledger_url))
    checked: list[int] = []
    sent: list[tuple[str, object]] = []
    damage = chain.damage
    monkeypatch.setattr(chain, "damage", lambda r: checked.append(r["seq"]) or damage(r))

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", listener)
    try:
        _ok(run("check", "--patient", "P1", "--db", ledger_url), 1)
        assert checked == [1, 3, 5, 7, 9, 10, 11, 12] and len(sent) < 20, sent
        if ledger_url.startswith("sqlite"):
            conn = sqlite3.connect(ledger_url.removeprefix("sqlite:///"))
            for statement, parameters in sent:
                if "dosecalc_records" in statement and "count(" not in statement:
                    plan = conn.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
                    assert not [d for *_, d in plan if d.startswith("SCAN")], (statement, plan)
            conn.close()
        checked.clear()
        _ok(run("ledger", "verify", "--db", ledger_url))
        assert len(checked) == 2012
    finally:
        event.remove(Engine, "before_cursor_execute", listener)


def test_a_blob_where_a_dose_should_be(run, sqlite_url: str) -> None:
    _seven(run, sqlite_url)
    sql(sqlite_url, "UPDATE dosecalc_records SET dose = X'3530' WHERE seq = 2")
    p = _ok(run("ledger", "verify", "--db", sqlite_url), 1)
    assert "record #2: the dose is binary data (a BLOB), not text" in p.stdout
    for args in _reads(sqlite_url):
        _refused(run(*args), "BLOB")
    sql(sqlite_url, "UPDATE dosecalc_records SET dose = '50', cycle = 1.5 WHERE seq = 2")
    p = _ok(run("ledger", "verify", "--db", sqlite_url), 1)
    assert "the cycle is a decimal number (1.5), not a whole number" in p.stdout
    sql(sqlite_url, "UPDATE dosecalc_records SET cycle = NULL WHERE seq = 2")
    sql(sqlite_url, "UPDATE dosecalc_records SET patient_seq = 3.5, patient_prev_seq = -1 "
                    "WHERE seq = 4")  # fmt: skip
    p = _ok(run("ledger", "verify", "--db", sqlite_url), 1)
    assert "record #4: the patient's record count is a decimal number (3.5)" in p.stdout
    assert "record #4: the patient's previous record -1 is outside 0 to 2,147,483,647" in p.stdout
    _refused(run("check", "--patient", "P", "--db", sqlite_url), "record count is a decimal")


def test_a_damaged_head_or_id_is_refused_not_a_crash(run, ledger_url: str) -> None:
    _seven(run, ledger_url)
    sql(ledger_url, "UPDATE dosecalc_meta SET value = 'seven' WHERE key = 'head'")
    _ok(run("ledger", "verify", "--db", ledger_url), 1)
    for args in _every_use(ledger_url):
        _refused(run(*args), "chain head is missing or unreadable")
    sql(ledger_url, "DELETE FROM dosecalc_meta WHERE key = 'schema_version'")
    _refused(run("check", "--patient", "P", "--db", ledger_url), "no ledger schema version")


def test_a_dropped_postgresql_ledger_is_not_started_again(run, postgres_server: str) -> None:
    from tests import pg

    with pg.database(postgres_server) as db:
        _seven(run, db)
        sql(db, "DROP TABLE dosecalc_records")
        _refused(run("check", "--patient", "P", "--db", db), "table dosecalc_records is missing")
        sql(db, "DROP TABLE dosecalc_meta")
        sql(db, "DROP TABLE dosecalc_patients")
        _refused(run("check", "--patient", "P", "--db", db), "is gone", "7 records")
        record = ["ledger", "record", "--db", db, "--patient", "P", "--date", "2024-09-05", *EPI]
        _refused(run(*record), "is gone")
        assert sql(db, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'dosecalc%'") == [(0,)]


# ------------------------------------------------------------ one bound for every field


def _record_args(db: str, **over: str) -> list[str]:
    given = {"--patient": "B", "--date": "2024-01-05", "--drug": "cisplatin", "--dose": "50mg/m2"}
    given.update(over)
    return ["ledger", "record", "--db", db, *[x for kv in given.items() for x in kv]]


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"--patient": "P" * 201}, "--patient: the patient id is 201 characters long"),
        ({"--note": "n" * 2001}, "--note: the note is 2,001 characters long"),
        ({"--regimen": "R" * 300}, "--regimen: the regimen is 300 characters long"),
        ({"--by": "b" * 201}, "--by: the name is 201 characters long"),
        ({"--cycle": HUGE}, "--cycle: '99999999999999999999' is too large a number; give a cycle"),
        ({"--cycle": str(2**31)}, "--cycle: 2147483648 is not a cycle number; give 1 to 500"),
        ({"--cycle": "501"}, "--cycle: 501 is not a cycle number; give 1 to 500"),
        ({"--day": str(-(2**63))}, "--day: '-9223372036854775808' is too large a number"),
        ({"--day": "367"}, "--day: 367"),
        ({"--id": "x" * 101}, "--id: id 'xxxxxxxxxxxxxxxxxxxx…' is longer than 100 characters"),
        ({"--time": "25:00"}, "is not a time of day"),
        ({"--patient": "A\tB"}, "a control character (U+0009)"),
        ({"--note": "a\u0007b"}, "a control character (U+0007)"),
    ],
)
def test_every_field_has_one_bound_on_both_databases(run, ledger_url, over, says) -> None:
    _ok(run(*_record_args(ledger_url, **{"--patient": "seed"})))
    _refused(run(*_record_args(ledger_url, **over)), says)
    assert len(sql(ledger_url, "SELECT seq FROM dosecalc_records")) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["ledger", "void", HUGE, "--patient", "seed", "--reason", "x"],
        ["ledger", "void", str(2**31), "--patient", "seed", "--reason", "x"],
        ["ledger", "void", "1", "--patient", "seed", "--reason", "r" * 2001],
        ["ledger", "void", "1", "--patient", "s" * 300, "--reason", "x"],
        ["check", "--patient", "s" * 300],
        ["check", "--patient", "a\x7fb"],
        ["ledger", "list", "--patient", "s" * 300],
        ["ledger", "export", "--patient", "s" * 300],
        [*PLAN, "--patient", "s" * 300],
    ],
)
def test_lookups_out_of_bound_are_refused_on_both_databases(run, ledger_url, args) -> None:
    _ok(run(*_record_args(ledger_url, **{"--patient": "seed"})))
    _refused(run(*args, "--db", ledger_url))


def test_nul_and_broken_text_in_an_import_on_both_databases(run, ledger_url, tmp_path) -> None:
    cases = {
        "nul-note": {"note": [{"text": "a\u0000b"}]},
        "surrogate-id": {"id": "\ud800"},
        "long-id": {"id": "x" * 201},
    }
    for name, extra in cases.items():
        admin = _admin(**extra)
        f = write(tmp_path, f"{name}.json", _bundle(admin))
        _refused(run("ledger", "import", str(f), "--db", ledger_url), f"{name}.json entry 0")
    assert run("ledger", "verify", "--db", ledger_url).returncode == 2  # nothing was created


def test_a_huge_number_in_an_import_on_both_databases(run, ledger_url, tmp_path) -> None:
    rows = {
        "cycle": f"2024-01-05,EPI,50,mg/m2,{HUGE},1",
        "day": f"2024-01-05,EPI,50,mg/m2,1,{-(2**40)}",
        "dose": f"2024-01-05,EPI,{'9' * 60},mg/m2,1,1",
    }
    for name, row in rows.items():
        f = write(tmp_path, f"{name}.csv", f"date,drug,dose,unit,cycle,day\n{row}\n")
        _refused(
            run("ledger", "import", str(f), "--patient", "H", "--db", ledger_url), f"{name}.csv:2"
        )


# ------------------------------------------------------------ the single-dose guard


def test_a_dose_far_above_the_usual_maximum_is_refused(run, ledger_url: str, tmp_path) -> None:
    slip = _record_args(ledger_url, **{"--drug": "epirubicin", "--dose": "9000mg/m2"})
    err = _refused(run(*slip), "epirubicin 9000 mg/m2 is 60 times the usual maximum", "slip")
    assert "150 mg/m2" in err
    _refused(run(*slip, "--allow-high-dose", "charted so"), "slip")  # never, whatever the reason
    # 72 mg with no BSA cannot be compared exactly: it is compared at the largest BSA (4 m²)
    big = _record_args(ledger_url, **{"--drug": "epirubicin", "--dose": "9g"})
    _refused(run(*big), "15 times", "largest plausible BSA")
    high = _record_args(ledger_url, **{"--drug": "epirubicin", "--dose": "200mg/m2"})
    _refused(run(*high), "above the usual maximum single dose of 150 mg/m2", "--allow-high-dose")
    _refused(run(*high, "--allow-high-dose", " "), "say why")
    _ok(run(*high, "--allow-high-dose", "protocol X, high-dose arm"))
    normal = _record_args(ledger_url, **{"--drug": "epirubicin", "--dose": "90mg/m2"})
    _refused(run(*normal, "--allow-high-dose", "x"), "no dose here is above")
    [r] = json.loads(_ok(run("ledger", "export", "--format", "json", "--db", ledger_url)).stdout)[
        "records"
    ]
    assert (r["dose"], r["reason"]) == ("200", "protocol X, high-dose arm")
    # an import names every row above the maximum
    f = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,bsa_m2\n2024-02-05,epirubicin,90,mg/m2,\n2024-03-05,epirubicin,360,mg,1.8\n"
        "2024-04-05,cisplatin,1000,mg/m2,\n",
    )
    p = _ok(run("ledger", "import", str(f), "--patient", "B", "--db", ledger_url), 2)
    assert "h.csv:3: epirubicin 360 mg is above" in p.stderr
    assert "h.csv:4: cisplatin 1000 mg/m2 is above" in p.stderr and "h.csv:2" not in p.stderr
    assert len(sql(ledger_url, "SELECT seq FROM dosecalc_records")) == 1


# ------------------------------------------------------------ FHIR, read strictly


def _admin(**over: object) -> dict:
    admin: dict = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "completed",
        "medicationCodeableConcept": {
            "text": "Epirubicin",
            "coding": [
                {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "display": "epirubicin"}
            ],
        },
        "subject": {"reference": "Patient/F1"},
        "effectiveDateTime": "2024-01-05T09:30:00+01:00",
        "dosage": {
            "dose": {
                "value": 90,
                "unit": "mg/m2",
                "system": "http://unitsofmeasure.org",
                "code": "mg/m2",
            }
        },
    }
    admin.update(over)
    return admin


def _bundle(*administrations: dict) -> str:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"urn:uuid:{i}", "resource": a} for i, a in enumerate(administrations)
            ],
        }
    )


def _dose(**over: object) -> dict:
    dose = {"value": 90, "unit": "mg/m2", "system": "http://unitsofmeasure.org", "code": "mg/m2"}
    dose.update(over)
    return {"dose": dose}


TYPE_CONFUSION = [
    ({"dosage": "90 mg/m2"}, "resource.dosage is a string; an object is due"),
    ({"subject": "Patient/F1"}, "resource.subject is a string; an object is due"),
    ({"medicationCodeableConcept": "epirubicin"}, "resource.medicationCodeableConcept is a string"),
    (
        {"medicationCodeableConcept": {"coding": {"display": "x"}}},
        "coding is an object; an array is due",
    ),
    ({"medicationCodeableConcept": {"text": ["epirubicin"]}}, "text is an array; a string is due"),
    ({"dosage": _dose(value="90")}, "resource.dosage.dose.value is a string; a JSON number is due"),
    ({"dosage": _dose(value=True)}, "value is true/false; a JSON number is due"),
    ({"dosage": _dose(value=None, unit="mg")}, "needs a value"),
    ({"dosage": _dose(unit=5)}, "resource.dosage.dose.unit is a number; a string is due"),
    ({"dosage": {"dose": [90]}}, "resource.dosage.dose is an array; an object is due"),
    ({"status": 1}, "resource.status is a number; a string is due"),
    ({"status": None}, "resource.status is null; a string is due"),
    ({"effectiveDateTime": 20240105}, "resource.effectiveDateTime is a number"),
    ({"effectivePeriod": "2024-01-05"}, "resource.effectivePeriod is a string"),
    ({"note": "given"}, "resource.note is a string; an array is due"),
    ({"note": [{"author": "x"}]}, "resource.note[0].text is missing"),
    ({"identifier": {"value": "x"}}, "resource.identifier is an object; an array is due"),
    ({"id": 7}, "resource.id is a number; a string is due"),
]


@pytest.mark.parametrize(("over", "says"), TYPE_CONFUSION)
def test_fhir_fields_of_the_wrong_json_type(run, sqlite_url, tmp_path, over, says) -> None:
    # two administrations, two ids (one id twice is one resource given twice: refused, bdl-7)
    f = write(tmp_path, "mar.json", _bundle(_admin(), _admin(**{"id": "a2", **over})))
    _refused(run("ledger", "import", str(f), "--db", sqlite_url), "mar.json entry 1: ", says)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"resourceType":"Bundle","entry":"x"}', "entry is a string; an array is due"),
        ('{"resourceType":"Bundle","entry":["x"]}', "entry[0] is a string"),
        ('{"resourceType":"Bundle","entry":[{"resource":"x"}]}', "entry 0: resource is a string"),
        (
            '{"resourceType":"Bundle","resourceType":"Bundle","entry":[]}',
            "'resourceType' is given twice",
        ),
        (
            '{"resourceType":"Bundle","entry":[{"resource":{"value":NaN}}]}',
            "NaN is not a JSON number",
        ),
        ('[{"resourceType":"Bundle"}]', "a FHIR import is a Bundle"),
    ],
)
def test_a_bundle_of_the_wrong_shape(run, sqlite_url, tmp_path, text, says) -> None:
    f = write(tmp_path, "b.json", text)
    _refused(run("ledger", "import", str(f), "--patient", "F1", "--db", sqlite_url), says)


def test_a_key_given_twice_is_refused_not_the_last_kept(run, sqlite_url, tmp_path) -> None:
    text = _bundle(_admin()).replace('"value": 90', '"value": 50, "value": 500')
    assert '"value": 50, "value": 500' in text
    f = write(tmp_path, "twice.json", text)
    _refused(
        run("ledger", "import", str(f), "--db", sqlite_url),
        "twice.json entry 0: resource.dosage.dose: the key 'value' is given twice",
    )


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"dosage": _dose(unit="mg")}, "dose.unit 'mg' is not the unit its UCUM code 'mg/m2' says"),
        ({"dosage": _dose(unit="g/m2")}, "the code is the unit"),
        ({"dosage": _dose(unit="milligrams a square metre")}, "is not the unit its UCUM code"),
        ({"dosage": _dose(system="http://snomed.info/sct")}, "is not UCUM"),
        (
            {
                "medicationCodeableConcept": {
                    "text": "Doxorubicin",
                    "coding": [{"display": "epirubicin"}],
                }
            },
            "names more than one drug (text 'Doxorubicin' is doxorubicin; coding[0].display "
            "'epirubicin' is epirubicin)",
        ),
        ({"effectiveDateTime": "2025-01-06garbage"}, "'2025-01-06garbage' is not a FHIR dateTime"),
        ({"effectiveDateTime": "2024-02-30"}, "is not a FHIR dateTime"),
        ({"effectiveDateTime": "2024-01-05T25:00:00Z"}, "is not a FHIR dateTime"),
        ({"effectiveDateTime": "2024-01"}, "is not a FHIR dateTime with a day"),
        ({"effectivePeriod": {"start": "2024-01-05"}}, "not both"),
        ({"medicationReference": {"reference": "Medication/x"}}, "not both"),
    ],
)
def test_what_a_fhir_field_says_must_agree(run, sqlite_url, tmp_path, over, says) -> None:
    f = write(tmp_path, "mar.json", _bundle(_admin(**over)))
    _refused(run("ledger", "import", str(f), "--db", sqlite_url), "mar.json entry 0: ", says)


def test_the_ucum_code_is_the_unit(run, sqlite_url, tmp_path) -> None:
    agree = _admin(dosage=_dose(value=162, code="mg", unit="mg"))
    f = write(tmp_path, "mar.json", _bundle(agree, _admin(id="a2", dosage=_dose(unit="mg/m²"))))
    _ok(run("ledger", "import", str(f), "--db", sqlite_url))
    out = json.loads(_ok(run("ledger", "export", "--format", "json", "--db", sqlite_url)).stdout)
    assert [(r["dose"], r["unit"], r["time"], r["source_id"]) for r in out["records"]] == [
        ("162", "mg", "09:30", "a1"),
        ("90", "mg/m2", "09:30", "a2"),
    ]


def test_two_identical_administrations_in_one_file(run, ledger_url, tmp_path) -> None:
    same = _admin(id=None)
    f = write(tmp_path, "twice.json", _bundle(same, same))
    _refused(
        run("ledger", "import", str(f), "--db", ledger_url),
        "twice.json entry 1: patient F1: epirubicin 90 mg/m2 on 2024-01-05 at 09:30 repeats "
        f"{f} entry 0",
        "--again",
    )
    # their ids, or their times, tell two real administrations apart
    f2 = write(tmp_path, "ids.json", _bundle(_admin(id="x1"), _admin(id="x2")))
    _ok(run("ledger", "import", str(f2), "--db", ledger_url))
    later = _admin(id=None, effectiveDateTime="2024-01-05T21:30:00+01:00")
    f3 = write(tmp_path, "times.json", _bundle(later))
    _ok(run("ledger", "import", str(f3), "--db", ledger_url))
    # and a file that repeats what is recorded is refused, with the same identity
    f4 = write(tmp_path, "again.json", _bundle(_admin(id="x1")))
    _refused(run("ledger", "import", str(f4), "--db", ledger_url), "already recorded as #1")
    _ok(run("ledger", "import", str(f), "--db", ledger_url, "--again"))


def test_the_same_dose_written_per_m2_and_in_mg_is_one_administration(run, ledger_url, tmp_path):
    f = write(
        tmp_path,
        "h.csv",
        "date,drug,dose,unit,bsa_m2\n2024-01-05,epirubicin,40,mg/m2,\n2024-01-05,EPI,72,mg,1.8\n",
    )
    _refused(
        run("ledger", "import", str(f), "--patient", "S", "--db", ledger_url),
        "h.csv:3: patient S: EPI 72 mg on 2024-01-05 repeats ",
        f"{f}:2 (the same dose once converted",
    )
    m2 = {"--patient": "S", "--drug": "EPI", "--dose": "40mg/m2", "--time": "08:00"}
    _ok(run(*_record_args(ledger_url, **m2)))
    mg = {**m2, "--drug": "epirubicin", "--dose": "72mg", "--bsa": "1.8"}
    _refused(run(*_record_args(ledger_url, **mg)), "already recorded as #1")
    # the same dose at another time of day is another administration; with no time, it may be
    # the same one
    _ok(run(*_record_args(ledger_url, **{**mg, "--time": "20:00"})))
    del mg["--time"]
    _refused(run(*_record_args(ledger_url, **mg)), "already recorded as #1")


def test_the_bundles_accepted_here_are_valid_r4b(tmp_path) -> None:
    """What this reader accepts, fhir.resources (R4B) accepts too."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate_json(_bundle(_admin(), _admin(id="a2", dosage=_dose(value=162.5))))


# ------------------------------------------------------------ schema 1, the witness, the hash


def _as_of_schema(db: str, version: int) -> None:
    """Make a new ledger one an older dosecalc wrote, at schema ``version``: its records
    without the fields of later schemas, hashed and chained as that dosecalc hashed them, the
    later columns and their indexes gone, and this machine's witness of the newer chain
    forgotten (it never saw that one)."""
    from dosecalc.ledger import Ledger, fields, witness

    names = [s.name for s in fields.SPECS]
    later = [s.name for s in fields.SPECS if s.since > version]
    columns = ", ".join(f'"{n}"' for n in names)
    rows = sql(db, f"SELECT {columns} FROM dosecalc_records ORDER BY seq")
    prev, last = chain.GENESIS, 0
    for values in rows:
        r = {**dict(zip(names, values, strict=True)), **dict.fromkeys(later), "prev_hash": prev}
        r["hash"] = chain.digest(r)
        sql(db, "UPDATE dosecalc_records SET hash = :h, prev_hash = :p WHERE seq = :s",
            h=r["hash"], p=prev, s=r["seq"])  # fmt: skip
        prev, last = r["hash"], r["seq"]
    sql(db, "UPDATE dosecalc_meta SET value = :v WHERE key = 'head'", v=f"{last} {prev}")
    for s in fields.SPECS[::-1]:
        if s.since > version:
            if s.index:
                sql(db, f"DROP INDEX ix_dosecalc_records_{s.name}")
            sql(db, f'ALTER TABLE dosecalc_records DROP COLUMN "{s.name}"')
    if version < 2:
        sql(db, "DROP INDEX ix_dosecalc_records_voids")
    if version < 4:
        sql(db, "DROP TABLE dosecalc_patients")
    sql(db, "UPDATE dosecalc_meta SET value = :v WHERE key = 'schema_version'", v=str(version))
    witness.path_for(Ledger(db).url).unlink()


def test_a_schema_1_ledger_is_read_as_it_is_and_upgraded_by_a_write(run, ledger_url) -> None:
    _seven(run, ledger_url)
    _as_of_schema(ledger_url, 1)
    hashes = sql(ledger_url, "SELECT hash FROM dosecalc_records ORDER BY seq")
    assert _prior(run, ledger_url) == pytest.approx(350.0)  # read without an upgrade
    _ok(run("ledger", "verify", "--db", ledger_url))
    _ok(run(*_record_args(ledger_url, **{"--patient": "P", "--time": "10:00"})))
    assert sql(ledger_url, "SELECT value FROM dosecalc_meta WHERE key = 'schema_version'") == [
        ("4",)
    ]
    assert (
        sql(ledger_url, "SELECT hash FROM dosecalc_records WHERE seq <= 7 ORDER BY seq") == hashes
    )
    report = json.loads(_ok(run("ledger", "verify", "--db", ledger_url, "--format", "json")).stdout)
    assert report["ok"] and report["records"] == 8


def test_a_schema_2_ledger_is_linked_from_each_patients_next_record(run, ledger_url) -> None:
    """Records written before schema 3 carry no links and keep their hashes; a patient's next
    record counts every record of theirs before it, so from then on one of those moved away
    is caught by their read. A patient with no record since reads as before (SECURITY.md)."""
    _seven(run, ledger_url)  # P: #1–#7
    _seven(run, ledger_url, "Q")  # Q: #8–#14
    _as_of_schema(ledger_url, 2)
    hashes = sql(ledger_url, "SELECT hash FROM dosecalc_records ORDER BY seq")
    assert _prior(run, ledger_url) == pytest.approx(350.0)
    _ok(run("ledger", "verify", "--db", ledger_url))
    _ok(run(*_record_args(ledger_url, **{"--patient": "P"})))  # #15
    assert sql(ledger_url, "SELECT value FROM dosecalc_meta WHERE key = 'schema_version'") == [
        ("4",)
    ]
    assert sql(ledger_url, "SELECT hash FROM dosecalc_records WHERE seq <= 14 ORDER BY seq") == (
        hashes
    )
    links = "SELECT seq, patient_seq, patient_prev_seq FROM dosecalc_records"
    assert sql(ledger_url, f"{links} WHERE patient_seq IS NOT NULL") == [(15, 8, 7)]
    _ok(run("ledger", "verify", "--db", ledger_url))
    sql(ledger_url, "UPDATE dosecalc_records SET patient = 'P9' WHERE seq = 3")
    _refused(
        run("check", "--patient", "P", "--db", ledger_url),
        "patient P's record #15 is number 8 of theirs, yet the ledger holds 6",
    )
    sql(ledger_url, "UPDATE dosecalc_records SET patient = 'Q9' WHERE seq = 10")
    # no link says so, but the table of patients the upgrade to schema 4 filled does
    _refused(
        run("check", "--patient", "Q", "--db", ledger_url),
        "noted 7 record(s) (the newest #14) of patient Q",
    )
    _refused(run("check", "--patient", "Q9", "--db", ledger_url), "record #10 was changed")
    _ok(run("ledger", "verify", "--db", ledger_url), 1)


def test_a_schema_3_ledger_gets_its_table_of_patients_at_its_first_write(run, ledger_url) -> None:
    """Read as it is (a newest record moved away unseen, as before); the first write fills
    the table of patients from the records, and from then on such a move is caught."""
    _seven(run, ledger_url)  # P: #1–#7
    _seven(run, ledger_url, "Q")  # Q: #8–#14
    _as_of_schema(ledger_url, 3)
    assert _prior(run, ledger_url, "Q") == pytest.approx(350.0)
    _ok(run(*_record_args(ledger_url, **{"--patient": "P"})))  # #15, upgrades
    assert sql(ledger_url, "SELECT value FROM dosecalc_meta WHERE key = 'schema_version'") == [
        ("4",)
    ]
    assert sql(ledger_url, "SELECT * FROM dosecalc_patients ORDER BY patient") == [
        ("P", 8, 15),
        ("Q", 7, 14),
    ]
    _ok(run("ledger", "verify", "--db", ledger_url))
    sql(ledger_url, "UPDATE dosecalc_records SET patient = 'Q9', patient_seq = 1, "
                    "patient_prev_seq = 0 WHERE seq = 14")  # fmt: skip
    _refused(
        run("check", "--patient", "Q", "--db", ledger_url),
        "noted 7 record(s) (the newest #14) of patient Q",
    )


def test_a_witness_that_cannot_be_kept_or_read(run, sqlite_url, tmp_path) -> None:
    blocked = write(tmp_path, "not-a-folder", "x")
    p = _ok(run(*_record_args(sqlite_url), env={"DOSECALC_STATE_DIR": str(blocked)}))
    assert p.stderr.startswith("warning: could not note the ledger's head #1"), p.stderr
    assert "recorded #1" in p.stdout
    state = tmp_path / "state"
    _ok(run("ledger", "verify", "--db", sqlite_url, env={"DOSECALC_STATE_DIR": str(state)}))
    [note] = (state / "ledgers").glob("*.json")
    note.write_text("{not json", encoding="utf-8")
    _refused(
        run("check", "--patient", "B", "--db", sqlite_url, env={"DOSECALC_STATE_DIR": str(state)}),
        "the witness of this ledger's head is unreadable",
        "remove that file",
    )


_VALUE = st.one_of(st.none(), st.integers(-(2**70), 2**70), st.text(max_size=30))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*chain.FIELDS, *chain.LATER]), _VALUE))
def test_the_quick_hash_is_the_defined_one(record: dict) -> None:
    """digest() writes the text json.dumps would, without it; any record, any text."""
    assert chain.digest(record) == chain.slow_digest(record)
