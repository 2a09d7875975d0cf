"""The audit's walk of a PostgreSQL ledger, asked of the database (dosecalc/ledger/screen.py),
held to the Python walk (chain.Walk): the same hash of every record, whatever its text; a pass
only where the walk passes (each kind of damage, even with the chain rewritten around it, sends
the audit to the walk, whose words refuse it); and a pass on an intact ledger (else the audit
would walk a million records in Python)."""

from __future__ import annotations

import csv
import json
import subprocess
from json.encoder import encode_basestring
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import sql

ODD = [
    'O"Brien',
    "back\\slash",
    "José—μ ß",  # non-ASCII that Unicode reads as itself (an id in other forms is refused)
    "emoji 😀 ok",
    "line\u2028sep\u2029x",
    "  spaced  ",
]


@pytest.fixture
def pg_db(postgres_server: str):
    from tests import pg

    with pg.database(postgres_server) as url:
        yield url


def _ok(p: subprocess.CompletedProcess[str], code: int = 0) -> subprocess.CompletedProcess[str]:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    return p


def _odd_ledger(run, db: str, tmp_path: Path) -> None:
    """Doses of patients with odd ids and notes (quotes, backslashes, line breaks, tabs,
    non-ASCII), a void and a check: what the hash covers, in every form the ledger stores."""
    rows = [["date", "drug", "dose", "unit", "bsa_m2", "patient", "regimen", "cycle", "day",
             "note", "time", "id"]]  # fmt: skip
    for i, who in enumerate(ODD):
        day = f"2024-0{1 + i % 9}-0"
        note = f"{who}\nsecond line\tand a tab"
        rows.append([day + "5", "EPI", "50", "mg/m2", "", who, "EC", i + 1, 1, note, f"08:3{i}",
                     f"adm-{i}"])  # fmt: skip
        rows.append([day + "6", "cyclophosphamide", "0.6", "g/m2", "1.8", f"P{i}"] + [""] * 6)
    path = tmp_path / "odd.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    _ok(run("ledger", "import", str(path), "--db", db))
    _ok(run("ledger", "void", "2", "--patient", "P0", "--reason", "entered twice", "--db", db))


def _passes(db: str) -> bool:
    from dosecalc.ledger import Ledger, screen

    ledger = Ledger(db)
    with ledger.read() as conn:
        return screen.passes(conn, ledger._columns)


def _digests(db: str) -> list[tuple[str, str]]:
    """(the stored hash, the hash the database recomputes) of every record."""
    from dosecalc.ledger import Ledger, screen

    ledger = Ledger(db)
    with ledger.read() as conn:
        present = {c.name for c in ledger._columns}
        digest, laterals = screen._digest_sql(present)
        query = f"SELECT r.hash, {digest} FROM dosecalc_records r, {laterals} ORDER BY r.seq"
        return [tuple(r) for r in conn.exec_driver_sql(query)]


def test_the_database_hashes_every_record_as_the_walk_does(run, pg_db, tmp_path) -> None:
    _odd_ledger(run, pg_db, tmp_path)
    found = _digests(pg_db)
    assert len(found) == 2 * len(ODD) + 1
    assert all(stored == computed for stored, computed in found), found
    assert _passes(pg_db)
    p = _ok(run("check", "--all-patients", "--db", pg_db, "--format", "json"))
    patients = [r["patient"] for r in json.loads(p.stdout)["patients"]]
    assert len(patients) == 2 * len(ODD) - 1 and "P0" not in patients  # P0's only dose voided


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFFF,
                                      blacklist_categories=("Cs",)), max_size=12),
                min_size=1, max_size=20))  # fmt: skip
def test_postgresql_escapes_a_string_as_python(postgres_server, texts) -> None:
    """The kernel of the hash: a row's JSON text, in PostgreSQL and in Python's json module
    (every character PostgreSQL's text holds: all but NUL and lone surrogates)."""
    import sqlalchemy

    every = [*texts, "".join(chr(i) for i in range(1, 128))]
    engine = sqlalchemy.create_engine(
        postgres_server.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        poolclass=sqlalchemy.pool.NullPool,
    )
    with engine.connect() as conn:
        got = conn.execute(
            sqlalchemy.text(
                "SELECT row_to_json(x)::text FROM (SELECT t AS s, 7 AS n, NULL::text AS z "
                "FROM unnest(CAST(:a AS text[])) WITH ORDINALITY u(t, i) ORDER BY i) x"
            ),
            {"a": every},
        ).scalars()
        assert list(got) == [f'{{"s":{encode_basestring(t)},"n":7,"z":null}}' for t in every]
    engine.dispose()


def _rechain(db: str) -> None:
    """Rewrite every hash and link after a change, and the head: what someone who edits the
    records and covers the edit would do (the walk still reads what the records say)."""
    from dosecalc.ledger import chain

    rows = sql(db, "SELECT * FROM dosecalc_records ORDER BY seq")
    names = [name for (name,) in sql(db, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'dosecalc_records' "
                                         "ORDER BY ordinal_position")]  # fmt: skip
    prev, last = chain.GENESIS, 0
    sql(db, "UPDATE dosecalc_records SET hash = 'x' || seq, prev_hash = 'y' || seq")
    for values in rows:
        record = dict(zip(names, values, strict=True))
        record["prev_hash"] = prev
        record["hash"] = chain.digest(record)
        sql(db, "UPDATE dosecalc_records SET hash = :h, prev_hash = :p WHERE seq = :s",
            h=record["hash"], p=prev, s=record["seq"])  # fmt: skip
        prev, last = record["hash"], record["seq"]
    sql(db, "UPDATE dosecalc_meta SET value = :v WHERE key = 'head'", v=f"{last} {prev}")


DAMAGE = [
    # (what is done behind dosecalc's back, whether the chain is then rewritten around it)
    ("UPDATE dosecalc_records SET dose = '5' WHERE seq = 3", False),
    ("UPDATE dosecalc_records SET dose = 'abc' WHERE seq = 3", True),
    ("UPDATE dosecalc_records SET dose = '0' WHERE seq = 3", True),
    ("UPDATE dosecalc_records SET unit = 'mg/kg' WHERE seq = 3", True),
    ("UPDATE dosecalc_records SET dose = '90000', unit = 'g/m2' WHERE seq = 4", True),
    ("UPDATE dosecalc_records SET date = '2024-13-40' WHERE seq = 3", True),
    ("UPDATE dosecalc_records SET drug = 'unobtainium' WHERE seq = 3", True),
    ("UPDATE dosecalc_records SET bsa_m2 = '9' WHERE seq = 4", True),
    ("UPDATE dosecalc_records SET time = '25:00' WHERE seq = 1", True),
    ("UPDATE dosecalc_records SET cycle = 501 WHERE seq = 1", True),
    ("UPDATE dosecalc_records SET kind = 'gift' WHERE seq = 5", True),
    ("UPDATE dosecalc_records SET voids = 3 WHERE kind = 'void'", True),  # another patient's
    ("UPDATE dosecalc_records SET voids = 99 WHERE kind = 'void'", True),  # nothing there
    ("UPDATE dosecalc_records SET patient = 'P1' WHERE kind = 'void'", True),
    ("DELETE FROM dosecalc_records WHERE seq = 6", True),
    # each patient's links (schema 3): P0's records are #2 and the void #13
    ("UPDATE dosecalc_records SET patient = 'P1' WHERE seq = 1", True),  # P1's #4 follows it
    ("UPDATE dosecalc_records SET patient_seq = 3 WHERE seq = 13", True),
    ("UPDATE dosecalc_records SET patient_prev_seq = 1 WHERE seq = 13", True),
    ("UPDATE dosecalc_records SET patient_seq = NULL WHERE seq = 13", True),  # one link of two
    (
        "UPDATE dosecalc_records SET patient_seq = NULL, patient_prev_seq = NULL WHERE seq = 13",
        True,
    ),  # fmt: skip
    ("ALTER TABLE dosecalc_records ALTER COLUMN cycle TYPE text", False),
]


@pytest.mark.parametrize(("tamper", "rechain"), DAMAGE)
def test_damage_sends_the_audit_to_the_walk(run, pg_db, tmp_path, tamper, rechain) -> None:
    """The audit and the export of every record ask the database first; the walk refuses."""
    _odd_ledger(run, pg_db, tmp_path)
    assert _passes(pg_db)
    sql(pg_db, tamper)
    if rechain:
        _rechain(pg_db)
    assert not _passes(pg_db)
    for args in (["check", "--all-patients", "--format", "json"], ["ledger", "export"]):
        p = _ok(run(*args, "--db", pg_db), 2)
        assert p.stdout == "" and "failed its integrity check" in p.stderr, p.stderr
    _ok(run("ledger", "verify", "--db", pg_db), 1)  # the walk agrees


def test_a_rewritten_chain_of_sound_records_passes_both(run, pg_db, tmp_path) -> None:
    """The rewrite itself is sound (the screen is not failing for want of a check)."""
    _odd_ledger(run, pg_db, tmp_path)
    sql(pg_db, "UPDATE dosecalc_records SET dose = '55' WHERE seq = 3")
    _rechain(pg_db)
    assert _passes(pg_db)
    elsewhere = {"DOSECALC_STATE_DIR": str(tmp_path / "a-machine-that-never-saw-it")}
    _ok(run("ledger", "verify", "--db", pg_db, env=elsewhere))


def test_an_upgraded_ledger_passes_both(run, pg_db, tmp_path) -> None:
    """Records of schema 2 (no links) and of schema 3 after them, for one patient and others:
    the database hashes each as the walk does, and passes the links as the walk does."""
    from tests.test_ledger_integrity import _as_of_schema

    _odd_ledger(run, pg_db, tmp_path)
    _as_of_schema(pg_db, 2)
    for patient in ("P0", "P1", "new"):
        _ok(run("ledger", "record", "--patient", patient, "--date", "2024-11-05", "--drug",
                "cisplatin", "--dose", "50mg/m2", "--db", pg_db))  # fmt: skip
    assert all(stored == computed for stored, computed in _digests(pg_db))
    assert sql(pg_db, "SELECT patient, patient_seq FROM dosecalc_records WHERE patient_seq "
                      "IS NOT NULL ORDER BY seq") == [("P0", 3), ("P1", 2), ("new", 1)]  # fmt: skip
    assert _passes(pg_db)
    _ok(run("ledger", "verify", "--db", pg_db))
