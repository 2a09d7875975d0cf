"""The patient ledger (CONTRACT §8): every administration recorded, per patient, for life.

Storage is SQLAlchemy Core: SQLite by default (a file in the user's data folder, WAL, mode
0600) or PostgreSQL by URL for a pharmacy shared by many users.

* Records are appended, never edited or deleted: a correction is a ``void`` record naming the
  record it cancels. Every record says who (the ``--by`` name and the OS user), when, and from
  what source (the command, or the file and line it was imported from).
* Every record carries the SHA-256 of its own fields and of the record before it (a hash
  chain). ``verify`` recomputes the chain, so an edit or a deletion made behind dosecalc's back
  shows. Someone who rewrites the whole chain after the edit is caught only against a head
  hash noted earlier (``verify --anchor``): the chain is tamper-evident, not tamper-proof.
* Appends are serialised: ``BEGIN IMMEDIATE`` on SQLite, a row lock on the chain head on
  PostgreSQL; numbers are gapless and a fork of the chain is refused by a unique constraint.
  An import is one transaction: all its rows or none.

Doses are stored as given (the drug, number and unit texts), and read back through the same
checks as a history file, so the ledger and a history CSV can never disagree about a dose.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dosecalc import history as hist
from dosecalc.errors import DosecalcError, FileError, Problem, fail

SCHEMA_VERSION = 1
GENESIS = "0" * 64  # the "previous hash" of the first record
SOURCE_LIMIT = 50_000_000  # bytes of one import file
NEEDS_PSYCOPG = "a PostgreSQL ledger needs the psycopg driver: pip install 'dosecalc[postgres]'"

# every stored field of a record, in the order of the hash (seq first, the hash itself last)
FIELDS = (
    "seq",
    "kind",
    "patient",
    "date",
    "drug",
    "drug_given",
    "dose",
    "unit",
    "bsa_m2",
    "regimen",
    "cycle",
    "day",
    "note",
    "voids",
    "reason",
    "recorded_at",
    "recorded_by",
    "os_user",
    "source",
    "source_sha256",
    "batch",
    "prev_hash",
)

# Each entry upgrades the schema by one version: MIGRATIONS[0] takes version 1 to 2, and so
# on. Version 1 is the first released schema, so there is nothing to upgrade from yet.
MIGRATIONS: list[Any] = []


class LedgerError(DosecalcError):
    """The ledger cannot be reached or used as asked (exit 2)."""


def _error(message: str) -> LedgerError:
    return LedgerError(Problem(message, field="--db"))


# The tables -----------------------------------------------------------------------------------


def _tables() -> Any:
    from sqlalchemy import Column, Integer, MetaData, String, Table, Text

    metadata = MetaData()
    meta = Table(
        "dosecalc_meta",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    records = Table(
        "dosecalc_records",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("kind", String(8), nullable=False),  # "dose" | "void" | "check" (verifyrecord)
        Column("patient", String(200), nullable=False, index=True),
        Column("date", String(10)),
        Column("drug", String(100)),  # the canonical name
        Column("drug_given", String(200)),  # as written (EPI, DDP, …)
        Column("dose", String(40)),  # the number as written
        Column("unit", String(40)),  # the unit as written
        Column("bsa_m2", String(20)),
        Column("regimen", String(200)),
        Column("cycle", Integer),
        Column("day", Integer),
        Column("note", Text),
        Column("voids", Integer),  # for a void: the record it cancels
        Column("reason", Text),
        Column("recorded_at", String(40), nullable=False),
        Column("recorded_by", String(200), nullable=False),
        Column("os_user", String(200), nullable=False),
        Column("source", Text, nullable=False),
        Column("source_sha256", String(64)),
        Column("batch", String(36), nullable=False),
        Column("prev_hash", String(64), nullable=False, unique=True),  # no fork of the chain
        Column("hash", String(64), nullable=False, unique=True),
    )
    return metadata, meta, records


METADATA, META, RECORDS = _tables()


def digest(record: dict[str, Any]) -> str:
    """The SHA-256 of a record's fields (its previous hash among them): the chain link."""
    payload = {k: record.get(k) for k in FIELDS}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Where the ledger is ------------------------------------------------------------------------


def default_url() -> str:
    import platformdirs

    folder = Path(platformdirs.user_data_dir("dosecalc", appauthor=False))
    return f"sqlite:///{folder / 'ledger.db'}"


def resolve_url(given: str | None) -> str:
    """``--db``, else ``DOSECALC_DB``, else the SQLite file in the user's data folder. A plain
    path (no ``scheme://``) is a SQLite file: ``--db ~/ledger.db``."""
    text = given or os.environ.get("DOSECALC_DB") or default_url()
    if "://" not in text and text.strip():
        text = f"sqlite:///{Path(text.strip()).expanduser().resolve()}"
    return text


def shown(url: Any) -> str:
    """A ledger URL fit to print: never its password."""
    return url.render_as_string(hide_password=True)


def _parse_url(text: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError:
        raise _error(
            f"'{text}' is not a database URL; give sqlite:///path/to/ledger.db or "
            "postgresql://user@host/dbname"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise _error(
                "a SQLite ledger needs a file: give sqlite:///path/to/ledger.db (an in-memory "
                "ledger would be lost at exit)"
            )
        return url.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    raise _error(
        f"'{url.drivername}' databases are not supported; give sqlite:///path/to/ledger.db or "
        "postgresql://user@host/dbname"
    )


def _create_sqlite_file(path: Path) -> None:
    """Create the ledger file readable and writable by its owner only (CONTRACT §8)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass  # another process made it first
    except OSError as e:
        raise _error(f"cannot create the ledger file {path}: {e.strerror or e}") from None


# The ledger itself ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One administration to record, as given (checked by :func:`check_entry`)."""

    patient: str
    date: str
    drug: str
    dose: str
    unit: str
    bsa_m2: str | None = None
    regimen: str | None = None
    cycle: int | None = None
    day: int | None = None
    note: str | None = None
    source: str = "dosecalc ledger record"


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        return f"uid {os.getuid()}"


def check_entry(entry: Entry, today: date) -> hist.Row:
    """The dose an entry stands for, through the same checks as a history row."""
    if not entry.patient or not entry.patient.strip():
        raise ValueError("the patient is missing")
    if len(entry.patient) > 200:
        raise ValueError("the patient id is longer than 200 characters")
    when, drug, amount, unit, per_m2, bsa = hist.parse_fields(
        entry.date, entry.drug, entry.dose, entry.unit, entry.bsa_m2, today
    )
    return hist.Row(when, drug, amount, unit, per_m2, bsa, entry.patient, entry.regimen)


def _key(drug: str, when: str, amount: float, per_m2: bool) -> tuple[str, str, float, bool]:
    """What makes two dose records the same administration (a re-import, a double entry)."""
    return drug, when, round(amount, 6), per_m2


class Ledger:
    """An open ledger. ``Ledger(url, create=True)`` makes a new SQLite file if there is none."""

    def __init__(self, url_text: str | None, create: bool = False) -> None:
        self.url = _parse_url(resolve_url(url_text))
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = None
        if self.sqlite:
            self.path = Path(self.url.database).expanduser()
            if not create and not self.path.exists():
                raise _error(
                    f"there is no ledger at {self.path} yet; `dosecalc ledger record` or "
                    "`dosecalc ledger import` creates it (or give --db / DOSECALC_DB)"
                )
            self.url = self.url.set(database=str(self.path))
        self.engine = self._engine()
        self._ready = False

    def __str__(self) -> str:  # as the user would write it: no driver name, no password
        return shown(self.url.set(drivername=self.url.get_backend_name()))

    def _engine(self) -> Any:
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        try:
            if not self.sqlite:
                return create_engine(self.url, poolclass=NullPool)
            engine = create_engine(self.url, poolclass=NullPool, connect_args={"timeout": 60})
        except ImportError:
            raise _error(NEEDS_PSYCOPG) from None

        @event.listens_for(engine, "connect")
        def _connect(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # dosecalc issues BEGIN itself (below)
            cursor = dbapi.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # a committed dose survives a power cut
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            write = conn.get_execution_options().get("dosecalc_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Any]:
        """A transaction; database errors become one clear sentence (exit 2)."""
        from sqlalchemy.exc import NoSuchModuleError, OperationalError

        try:
            with self.engine.connect() as conn:
                if write:
                    conn = conn.execution_options(dosecalc_write=True)
                with conn.begin():
                    yield conn
        except NoSuchModuleError:
            raise _error(NEEDS_PSYCOPG) from None
        except OperationalError as e:  # not reachable, locked past the timeout, no space, …
            first = (str(e.orig).strip().splitlines() or ["?"])[0]
            raise _error(f"the ledger {self} cannot be used: {first}") from None
        except ModuleNotFoundError as e:
            raise _error(f"{NEEDS_PSYCOPG} ({e})") from None

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction that holds the ledger's write lock from its first statement, so
        whatever it reads (repeats, the head) stays true until it commits."""
        from sqlalchemy import select

        if self.path is not None and not self.path.exists():  # first write: make it private
            _create_sqlite_file(self.path)
        with self._connection(write=True) as conn:  # SQLite: BEGIN IMMEDIATE
            self._prepare(conn)
            conn.execute(select(META.c.value).where(META.c.key == "head").with_for_update())
            yield conn

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A read transaction (``self._ready`` says whether the ledger holds any table yet)."""
        if self.path is not None and not self.path.exists():  # nothing written yet
            self._ready = False
            yield None
            return
        with self._connection(write=False) as conn:
            self._ready = self._ready or self._check_schema(conn, missing_ok=True)
            yield conn

    def _check_schema(self, conn: Any, missing_ok: bool) -> bool:
        """True if the tables exist at the version this dosecalc reads."""
        from sqlalchemy import inspect, select

        if not inspect(conn).has_table(META.name):
            if missing_ok:
                return False
            raise _error(f"{self} holds no dosecalc ledger")
        version = conn.execute(
            select(META.c.value).where(META.c.key == "schema_version")
        ).scalar_one_or_none()
        if version is None or not version.isdigit():
            raise _error(f"{self} has no ledger schema version: it is damaged")
        if int(version) > SCHEMA_VERSION:
            raise _error(
                f"{self} is at ledger schema {version}, made by a newer dosecalc; this one "
                f"reads schema {SCHEMA_VERSION}: upgrade dosecalc"
            )
        if int(version) < SCHEMA_VERSION:
            raise _error(
                f"{self} is at ledger schema {version}; record or import once with this "
                "dosecalc to upgrade it"
            )
        return True

    def _prepare(self, conn: Any) -> None:
        """Create the tables on first use and upgrade an older schema, inside the write lock."""
        from sqlalchemy import insert, inspect, select, text, update

        if not self.sqlite:  # one process at a time creates or upgrades the tables
            conn.execute(text("SELECT pg_advisory_xact_lock(4242424201)"))
        if not inspect(conn).has_table(META.name):
            METADATA.create_all(conn)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            conn.execute(
                insert(META),
                [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "ledger_id", "value": str(uuid.uuid4())},
                    {"key": "created_at", "value": now},
                    {"key": "head", "value": f"0 {GENESIS}"},
                ],
            )
        version = conn.execute(
            select(META.c.value).where(META.c.key == "schema_version")
        ).scalar_one_or_none()
        if version is not None and version.isdigit() and int(version) < SCHEMA_VERSION:
            for step in MIGRATIONS[int(version) - 1 :]:
                step(conn)
            conn.execute(
                update(META).where(META.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
            )
        self._ready = self._check_schema(conn, missing_ok=False)

    # writing ---------------------------------------------------------------------------------

    def _append(self, conn: Any, rows: list[dict[str, Any]]) -> list[int]:
        """Chain and insert ``rows`` after the head (the caller holds the write lock)."""
        from sqlalchemy import insert, select, update

        head = conn.execute(
            select(META.c.value).where(META.c.key == "head").with_for_update()
        ).scalar_one()
        seq_text, prev = head.split()
        seq = int(seq_text)
        numbers = []
        for row in rows:
            seq += 1
            row["seq"] = seq
            row["prev_hash"] = prev
            row["hash"] = prev = digest(row)
            numbers.append(seq)
        for start in range(0, len(rows), 5000):
            conn.execute(insert(RECORDS), rows[start : start + 5000])
        conn.execute(update(META).where(META.c.key == "head").values(value=f"{seq} {prev}"))
        return numbers

    def _stamp(self, by: str | None, batch: str) -> dict[str, Any]:
        return {
            "recorded_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "recorded_by": (by or "").strip() or who(),
            "os_user": who(),
            "batch": batch,
        }

    def record(
        self,
        entries: list[Entry],
        by: str | None = None,
        again: bool = False,
        source_sha256: str | None = None,
        source_file: str | None = None,
        today: date | None = None,
        before_write: Any = None,
    ) -> list[int]:
        """Append dose records (all or none); refuse one that repeats an active record unless
        ``again`` (a real second administration)."""
        today = today or date.today()
        rows, keys = [], []
        for entry in entries:
            try:
                row = check_entry(entry, today)
            except ValueError as e:
                raise FileError(Problem(str(e), file=entry.source)) from None
            keys.append((entry.patient, _key(row.drug, entry.date, row.amount, row.per_m2)))
            rows.append(
                {
                    "kind": "dose",
                    "patient": entry.patient,
                    "date": row.date.isoformat() if row.date else None,
                    "drug": row.drug,
                    "drug_given": entry.drug.strip(),
                    "dose": entry.dose.strip(),
                    "unit": entry.unit.strip(),
                    "bsa_m2": (entry.bsa_m2 or "").strip() or None,
                    "regimen": entry.regimen,
                    "cycle": entry.cycle,
                    "day": entry.day,
                    "note": entry.note,
                    "voids": None,
                    "reason": None,
                    "source": entry.source,
                    "source_sha256": source_sha256,
                }
            )
        batch = str(uuid.uuid4())
        with self.write() as conn:
            if source_sha256 and not again:
                self._refuse_reimport(conn, source_sha256, source_file)
            if not again:
                self._refuse_repeats(conn, keys, entries)
            stamp = self._stamp(by, batch)
            for row in rows:
                row.update(stamp)
            if before_write is not None:
                before_write(len(rows))
            return self._append(conn, rows)

    def _refuse_reimport(self, conn: Any, sha: str, source_file: str | None) -> None:
        from sqlalchemy import func, select

        found = conn.execute(
            select(
                func.min(RECORDS.c.seq), func.max(RECORDS.c.seq), func.min(RECORDS.c.recorded_at)
            ).where(RECORDS.c.source_sha256 == sha, RECORDS.c.kind == "dose")
        ).one()
        if found[0] is not None:
            raise FileError(
                Problem(
                    f"this file was already imported (records #{found[0]}–#{found[1]}, on "
                    f"{found[2][:10]}); importing it again would count every dose twice. Void "
                    "those records first, or give --again if these are new administrations",
                    file=source_file,
                )
            )

    def _refuse_repeats(self, conn: Any, keys: list[tuple[str, Any]], entries: list[Entry]) -> None:
        existing: dict[tuple[str, Any], int] = {}
        for patient in sorted({p for p, _ in keys}):
            for r in self._active(conn, [patient]):
                row = _dose_row(r)
                existing[(patient, _key(row.drug, r["date"], row.amount, row.per_m2))] = r["seq"]
        problems = [
            Problem(
                f"patient {entry.patient}: {entry.drug} {entry.dose} {entry.unit} on {entry.date} "
                f"is already recorded as #{existing[key]}; give --again if it was given twice",
                file=entry.source,
            )
            for key, entry in zip(keys, entries, strict=True)
            if key in existing
        ]
        if problems:
            raise FileError(*problems[:20])

    def void(self, seq: int, patient: str, reason: str, by: str | None = None) -> int:
        """Cancel record ``seq`` of ``patient`` with a new record that says why."""
        from sqlalchemy import select

        if not reason.strip():
            raise fail("--reason", "say why the record is voided (it stays in the audit trail)")
        with self.write() as conn:
            target = conn.execute(select(RECORDS).where(RECORDS.c.seq == seq)).mappings().first()
            if target is None:
                raise fail("SEQ", f"there is no record #{seq} in {self}")
            if target["patient"] != patient:
                raise fail(
                    "--patient",
                    f"record #{seq} belongs to another patient, not {patient}; check the number",
                )
            if target["kind"] == "check":
                raise fail("SEQ", f"record #{seq} is an order's check, not a dose: nothing to void")
            if target["kind"] != "dose":
                raise fail("SEQ", f"record #{seq} is itself a void; record the dose again instead")
            done = conn.execute(
                select(RECORDS.c.seq).where(RECORDS.c.kind == "void", RECORDS.c.voids == seq)
            ).scalar()
            if done is not None:
                raise fail("SEQ", f"record #{seq} is already voided by #{done}")
            row = {k: None for k in FIELDS if k not in ("seq", "prev_hash")}
            row.update(
                kind="void",
                patient=patient,
                voids=seq,
                reason=reason.strip(),
                source="dosecalc ledger void",
                **self._stamp(by, str(uuid.uuid4())),
            )
            return self._append(conn, [row])[0]

    # reading ---------------------------------------------------------------------------------

    def _active(self, conn: Any, patients: list[str] | None) -> Iterator[Any]:
        """Dose records not voided, in order (of some patients, or of all)."""
        from sqlalchemy import select

        voided = select(RECORDS.c.voids).where(RECORDS.c.kind == "void")
        query = select(RECORDS).where(RECORDS.c.kind == "dose", RECORDS.c.seq.not_in(voided))
        if patients is not None:
            query = query.where(RECORDS.c.patient.in_(patients))
        yield from conn.execute(query.order_by(RECORDS.c.seq)).mappings()

    def records(self, patient: str | None = None) -> list[dict[str, Any]]:
        """Every record (voids too), of one patient or all, with what voided each; a patient the
        ledger does not know is refused (with the closest ids)."""
        from sqlalchemy import select

        with self.read() as conn:
            if not self._ready:
                return []
            query = select(RECORDS).order_by(RECORDS.c.seq)
            if patient is not None:
                query = query.where(RECORDS.c.patient == patient)
            out = [dict(r) for r in conn.execute(query).mappings()]
        if patient is not None and not out:
            raise fail("--patient", self._unknown(patient))
        voided = {r["voids"]: r["seq"] for r in out if r["kind"] == "void"}
        for r in out:
            r["voided_by"] = voided.get(r["seq"])
        return out

    def patients(self) -> list[dict[str, Any]]:
        """One summary per patient: records, active doses, first and last dose date."""
        from sqlalchemy import func, select

        with self.read() as conn:
            if not self._ready:
                return []
            voided = select(RECORDS.c.voids).where(RECORDS.c.kind == "void")
            active = RECORDS.c.kind == "dose"
            query = (
                select(
                    RECORDS.c.patient,
                    func.count(),
                    func.min(RECORDS.c.date),
                    func.max(RECORDS.c.date),
                )
                .where(active, RECORDS.c.seq.not_in(voided))
                .group_by(RECORDS.c.patient)
                .order_by(RECORDS.c.patient)
            )
            return [
                {"patient": p, "doses": n, "first": first, "last": last}
                for p, n, first, last in conn.execute(query)
            ]

    def add_to(self, history: hist.History, patient: str | None) -> int:
        """Add one patient's active doses to ``history`` as the history's own patient (they join
        any --history rows and --prior amounts given for the same person), or, with ``None``,
        every patient's under their id. Refuse an id the ledger does not know: a typo would
        otherwise read as no exposure at all."""
        if hist.LEDGER_SOURCE not in history.sources:
            history.sources.append(hist.LEDGER_SOURCE)
        file = history.sources.index(hist.LEDGER_SOURCE)
        n = 0
        with self.read() as conn:
            if self._ready:
                for r in self._active(conn, None if patient is None else [patient]):
                    history.add(_dose_row(r), None if patient else r["patient"], file, r["seq"])
                    n += 1
        if patient is not None and n == 0:
            raise fail("--patient", self._unknown(patient))
        return n

    def _unknown(self, patient: str) -> str:
        import difflib

        known = [p["patient"] for p in self.patients()]
        close = difflib.get_close_matches(patient, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return (
            f"patient {patient} has no doses in the ledger {self}{hint} (`dosecalc ledger list` "
            "shows who is in it; leave out --patient for a patient with no recorded doses)"
        )

    # integrity -------------------------------------------------------------------------------

    def verify(self, anchor: str | None = None) -> dict[str, Any]:
        """Recompute the chain: every link, the numbering, the head, what the voids point at,
        and that every dose still reads as a dose. Returns counts and the problems found."""
        from sqlalchemy import select

        problems: list[str] = []
        counts = {"records": 0, "doses": 0, "voids": 0, "checks": 0}
        prev, expected, last = GENESIS, 1, 0
        kinds: dict[int, tuple[str, str]] = {}
        voided: dict[int, int] = {}
        patients: set[str] = set()
        anchored = anchor is None
        with self.read() as conn:
            if not self._ready:
                raise _error(f"{self} holds no dosecalc ledger yet: nothing to verify")
            head = conn.execute(select(META.c.value).where(META.c.key == "head")).scalar()
            query = select(RECORDS).order_by(RECORDS.c.seq).execution_options(yield_per=5000)
            for r in conn.execute(query).mappings():
                seq = r["seq"]
                counts["records"] += 1
                if seq != expected:
                    problems.append(
                        f"records #{expected}–#{seq - 1} are missing (deleted?)"
                        if seq > expected
                        else f"record #{seq} is out of order"
                    )
                if r["prev_hash"] != prev:
                    problems.append(f"record #{seq} does not follow the record before it")
                if digest(dict(r)) != r["hash"]:
                    problems.append(f"record #{seq} was changed after it was recorded")
                if anchor and r["hash"].startswith(anchor.lower()):
                    anchored = True
                prev, expected, last = r["hash"], seq + 1, seq
                patients.add(r["patient"])
                kinds[seq] = (r["kind"], r["patient"])
                problems += self._check_record(r, kinds, voided, counts)
        head_text = f"{last} {prev}"
        if head != head_text:
            problems.append(
                f"the chain head says {head.split()[0] if head else '?'} records, the chain "
                f"has {last}: records were removed from the end or the head was altered"
            )
        if not anchored:
            problems.append(
                f"no record has the anchored hash {anchor}: the chain was rewritten since"
            )
        return {
            "ledger": str(self),
            "ok": not problems,
            **counts,
            "patients": len(patients),
            "head": {"seq": last, "hash": prev},
            "problems": problems,
        }

    @staticmethod
    def _check_record(
        r: Any, kinds: dict[int, tuple[str, str]], voided: dict[int, int], counts: dict[str, int]
    ) -> list[str]:
        seq = r["seq"]
        if r["kind"] == "dose":
            counts["doses"] += 1
            try:
                _dose_row(r)
            except DosecalcError as e:
                return [f"record #{seq} no longer reads as a dose: {e}"]
            return []
        if r["kind"] == "check":  # a verified order (dosecalc.verifyrecord): no dose
            from dosecalc.verifyrecord import problems_of

            counts["checks"] += 1
            return [f"check #{seq} {p}" for p in problems_of(r)]
        if r["kind"] != "void":
            return [f"record #{seq} is of an unknown kind '{r['kind']}'"]
        counts["voids"] += 1
        target = r["voids"]
        if kinds.get(target) != ("dose", r["patient"]):
            return [f"void #{seq} points at #{target}, which is not an earlier dose of its patient"]
        if target in voided:
            return [f"record #{target} is voided twice (#{voided[target]} and #{seq})"]
        voided[target] = seq
        return []


def _dose_row(r: Any) -> hist.Row:
    """A stored dose record, read back through the history checks."""
    where = f"ledger record #{r['seq']}"
    try:
        return hist.parse_row(r, where, date.max)
    except ValueError as e:
        raise FileError(Problem(f"{e}", file=where)) from None


# Reading files to import ------------------------------------------------------------------


def read_source(path: Path) -> tuple[bytes, str]:
    """An import file's bytes and their SHA-256 (kept with every record it gives)."""
    data = hist.open_checked(path, SOURCE_LIMIT, Path.read_bytes)
    return data, hashlib.sha256(data).hexdigest()


def entries_from_rows(
    rows: list[tuple[int | None, dict[str, Any]]], source: str, patient: str | None
) -> list[Entry]:
    """History rows (line, mapping) → entries; the patient is ``patient`` or the row's own."""
    out, problems = [], []
    for line, raw in rows:
        where = f"{source}:{line}" if line else source
        own = hist._text(raw.get("patient"))
        if patient is not None and own is not None and own != patient:
            problems.append(
                Problem(
                    f"this row is for patient {own}, not --patient {patient}",
                    file=source,
                    line=line,
                )
            )
            continue
        who_ = patient or own
        if who_ is None:
            problems.append(
                Problem(
                    "this row names no patient; give --patient ID (or a patient column)",
                    file=source,
                    line=line,
                )
            )
            continue
        try:
            cycle = hist._int(raw.get("cycle"), "cycle", 1)
            day = hist._int(raw.get("day"), "day", -366)
        except ValueError as e:
            problems.append(Problem(str(e), file=source, line=line))
            continue
        bsa = raw.get("bsa_m2")
        out.append(
            Entry(
                who_,
                str(raw.get("date") or "").strip(),
                str(raw.get("drug") or "").strip(),
                str(raw.get("dose") if raw.get("dose") is not None else "").strip(),
                str(raw.get("unit") or "").strip(),
                str(bsa).strip() if bsa not in (None, "") else None,
                hist._text(raw.get("regimen")),
                cycle,
                day,
                hist._text(raw.get("note")),
                where,
            )
        )
    if problems:
        raise FileError(*problems[:20])
    return out


def history_rows(path: Path, data: bytes) -> list[tuple[int | None, dict[str, Any]]]:
    """The rows of a history CSV or YAML (CONTRACT §5), with their line numbers."""
    import csv
    import io

    from dosecalc.csvout import unescape

    source = str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(Problem("is not UTF-8 text", file=source)) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return hist.yaml_items(text, source)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        if reader.fieldnames is None:
            raise FileError(Problem("the file is empty", file=source))
        hist._check_columns([c.strip() for c in reader.fieldnames], source, 1)
        rows = []
        for raw in reader:
            if None in raw or None in raw.values():
                raise FileError(
                    Problem(
                        "this row's fields do not match the header",
                        file=source,
                        line=reader.line_num,
                    )
                )
            rows.append((reader.line_num, {k.strip(): unescape(v) for k, v in raw.items()}))
    except csv.Error as e:
        raise FileError(
            Problem(f"not a valid CSV file ({e})", file=source, line=reader.line_num)
        ) from None
    return rows


# FHIR R4 MedicationAdministration bundles ----------------------------------------------------

FHIR_TAKEN = {"completed"}
FHIR_NOT_GIVEN = {"not-done", "entered-in-error"}  # nothing was given: reported, not recorded


def fhir_entries(path: Path, data: bytes, patient: str | None) -> tuple[list[Entry], list[str]]:
    """The completed MedicationAdministrations of a FHIR R4 Bundle as entries, and a line for
    every administration not given (``not-done``, ``entered-in-error``). Any other status
    (in-progress, stopped, on-hold, unknown) refuses the file: how much was given is unknown."""
    source = str(path)
    try:
        bundle = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise FileError(Problem(f"is not valid JSON ({e})", file=source)) from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FileError(Problem("a FHIR import is a Bundle (resourceType: Bundle)", file=source))
    resources = [
        (i, e.get("resource"), e.get("fullUrl"))
        for i, e in enumerate(bundle.get("entry") or [])
        if isinstance(e, dict)
    ]
    medications = {}
    for _, res, full in resources:
        if isinstance(res, dict) and res.get("resourceType") == "Medication":
            for ref in (f"Medication/{res.get('id')}", full):
                if ref:
                    medications[ref] = res
    entries, skipped, problems = [], [], []
    for i, res, _ in resources:
        if not isinstance(res, dict) or res.get("resourceType") != "MedicationAdministration":
            continue
        where = f"{source} entry {i}"
        try:
            status = res.get("status")
            if status in FHIR_NOT_GIVEN:
                skipped.append(f"{where}: status {status}, nothing given; not recorded")
                continue
            if status not in FHIR_TAKEN:
                raise ValueError(
                    f"status '{status}' does not say how much was given; only completed "
                    "administrations are recorded (not-done and entered-in-error are skipped)"
                )
            entries.append(_fhir_entry(res, medications, patient, where))
        except ValueError as e:
            problems.append(Problem(str(e), file=where))
    if problems:
        raise FileError(*problems[:20])
    if not entries and not skipped:
        raise FileError(Problem("the Bundle holds no MedicationAdministration", file=source))
    return entries, skipped


def _fhir_entry(
    res: dict[str, Any], medications: dict[str, Any], patient: str | None, where: str
) -> Entry:
    subject = (res.get("subject") or {}).get("reference") or ""
    own = subject.split("/", 1)[1] if subject.startswith("Patient/") else None
    if patient is not None and own is not None and own != patient:
        raise ValueError(f"this administration is for {subject}, not --patient {patient}")
    if patient is None and own is None:
        raise ValueError("the administration names no Patient/ subject; give --patient ID")
    when = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start")
    if not isinstance(when, str) or len(when) < 10:
        raise ValueError("no effectiveDateTime (or effectivePeriod.start) says when it was given")
    dose = ((res.get("dosage") or {}).get("dose")) or {}
    value, unit = dose.get("value"), dose.get("unit") or dose.get("code")
    if not isinstance(value, int | float) or isinstance(value, bool) or not unit:
        raise ValueError("dosage.dose needs a numeric value and a unit (e.g. 40 mg/m2)")
    return Entry(
        patient or own or "",
        when[:10],
        _fhir_drug(res, medications),
        repr(value) if isinstance(value, float) else str(value),
        str(unit),
        source=where,
        note=(res.get("note") or [{}])[0].get("text") if res.get("note") else None,
    )


def _fhir_drug(res: dict[str, Any], medications: dict[str, Any]) -> str:
    concept = res.get("medicationCodeableConcept")
    if concept is None:
        ref = (res.get("medicationReference") or {}).get("reference")
        medication = medications.get(ref)
        if medication is None:
            raise ValueError(
                f"the medication {ref or '(none)'} is not in the Bundle; give "
                "medicationCodeableConcept or include the Medication"
            )
        concept = medication.get("code") or {}
    names = [concept.get("text")] + [c.get("display") for c in concept.get("coding") or []]
    from dosecalc import drugs

    for name in names:  # the first name dosecalc knows, as written (so an abbreviation is seen)
        if isinstance(name, str) and name.strip():
            try:
                drugs.lookup(name.strip())
            except ValueError:
                continue
            return name.strip()
    raise ValueError(
        f"no drug dosecalc knows in the medication's text or codings ({', '.join(map(str, names))})"
    )
