"""The ledger's storage: every administration recorded, per patient, for life.

Storage is SQLAlchemy Core: SQLite by default (a file in the user's data folder, WAL, mode
0600) or PostgreSQL by URL for a pharmacy shared by many users.

* Records are appended, never edited or deleted: a correction is a ``void`` record naming the
  record it cancels. Every record says who (the ``--by`` name and the OS user), when, and from
  what source (the command, or the file and line it was imported from).
* Every record is a link of a hash chain (:mod:`.chain`), and of its patient's own chain
  within it (schema 3: how many records of its patient there are up to it, and the number of
  their record before it); the newest head this user saw is kept outside the database
  (:mod:`.witness`). Nothing is read for a total, nor written, before the part of the chain
  it rests on is checked: one patient's records, their links to the records on both sides and
  to each other from their first, any record still naming one of theirs as its patient's
  previous record under another id, the head, the count of records and the witness (a lookup
  per record of the patient); ``verify`` and a read of every patient walk the whole chain.
* A ledger is only ever started at a path where there is nothing: a file that exists and is
  not a ledger (empty, cut short, another database) is refused, never started again.
* Appends are serialised: ``BEGIN IMMEDIATE`` on SQLite, a row lock on the chain head on
  PostgreSQL; numbers are gapless and a fork of the chain is refused by a unique constraint.
  An import is one transaction: all its rows or none.
* Every value is checked against its field's bound (:mod:`.fields`) before the database sees
  it, so SQLite and PostgreSQL take exactly the same input.

Doses are stored as given (the drug, number and unit texts), and read back through the same
checks as a history file, so the ledger and a history CSV can never disagree about a dose.
"""

from __future__ import annotations

import getpass
import os
import re
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dosecalc.base import clock
from dosecalc.base.errors import DosecalcError, FileError, Problem, fail
from dosecalc.data import records
from dosecalc.inputs import history as hist
from dosecalc.ledger import chain, fields, witness
from dosecalc.ledger.chain import FIELDS, GENESIS, Walk, digest, dose_row
from dosecalc.ledger.fields import INT32, META, METADATA, PATIENTS, RECORDS

SCHEMA_VERSION = 4
SOURCE_LIMIT = 50_000_000  # bytes of one import file
NEEDS_PSYCOPG = "a PostgreSQL ledger needs the psycopg driver: pip install 'dosecalc[postgres]'"
RECORD_SOURCE = "dosecalc ledger record"
SQLITE_MAGIC = b"SQLite format 3\x00"
_HEAD = re.compile(r"(\d{1,10}) ([0-9a-f]{64})")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# the option of `ledger record` each stored field comes from, for its messages
OPTION = {
    "patient": "--patient",
    "date": "--date",
    "drug_given": "--drug",
    "dose": "--dose",
    "unit": "--dose",
    "bsa_m2": "--bsa",
    "regimen": "--regimen",
    "cycle": "--cycle",
    "day": "--day",
    "note": "--note",
    "reason": "--allow-high-dose",
    "recorded_by": "--by",
    "time": "--time",
    "source_id": "--id",
}


def _to_2(conn: Any) -> None:
    """Schema 2: an administration's time and its id in the source system, and
    an index of what each void cancels (one patient's voids found without a scan)."""
    from sqlalchemy import text

    conn.execute(text('ALTER TABLE dosecalc_records ADD COLUMN "time" VARCHAR(5)'))
    conn.execute(text("ALTER TABLE dosecalc_records ADD COLUMN source_id VARCHAR(100)"))
    conn.execute(text("CREATE INDEX ix_dosecalc_records_voids ON dosecalc_records (voids)"))


def _to_3(conn: Any) -> None:
    """Schema 3: each record's links to its patient's record before it (chain.py), and an index
    of them (a record moved away from a patient found by their read). Records written before
    keep their hashes: the links are hashed only where they hold a value."""
    from sqlalchemy import text

    conn.execute(text("ALTER TABLE dosecalc_records ADD COLUMN patient_seq INTEGER"))
    conn.execute(text("ALTER TABLE dosecalc_records ADD COLUMN patient_prev_seq INTEGER"))
    conn.execute(
        text(
            "CREATE INDEX ix_dosecalc_records_patient_prev_seq "
            "ON dosecalc_records (patient_prev_seq)"
        )
    )


def _to_4(conn: Any) -> None:
    """Schema 4: each patient's count of records and the number of their newest
    (``dosecalc_patients``), filled from the records there (one grouped query, once)."""
    from sqlalchemy import func, insert, select

    PATIENTS.create(conn)
    counted = select(RECORDS.c.patient, func.count(), func.max(RECORDS.c.seq)).group_by(
        RECORDS.c.patient
    )
    conn.execute(insert(PATIENTS).from_select(["patient", "records", "last_seq"], counted))


# Each entry upgrades the schema by one version: MIGRATIONS[0] takes version 1 to 2, and so on.
MIGRATIONS: list[Any] = [_to_2, _to_3, _to_4]


class LedgerError(DosecalcError):
    """The ledger cannot be reached or used as asked (exit 2)."""


def _error(message: str) -> LedgerError:
    return LedgerError(Problem(message, field="--db"))


# Where the ledger is ------------------------------------------------------------------------


def default_url() -> str:
    import platformdirs

    folder = Path(platformdirs.user_data_dir("dosecalc", appauthor=False))
    return f"sqlite:///{folder / 'ledger.db'}"


def resolve_url(given: str | None) -> str:
    """``--db``, else ``DOSECALC_DB``, else the SQLite file in the user's data folder. A plain
    path (no ``scheme://``) is a SQLite file: ``--db ~/ledger.db``."""
    text = given or os.environ.get("DOSECALC_DB") or default_url()
    if "://" not in text and text.strip() and "\0" not in text:
        text = f"sqlite:///{Path(text.strip()).expanduser().resolve()}"
    return text


def shown(url: Any) -> str:
    """A ledger URL fit to print: never its password."""
    return url.render_as_string(hide_password=True)


def _parse_url(text: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        if "\0" in text:
            raise ArgumentError("NUL")
        url = make_url(text)
    except (ArgumentError, ValueError):
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


def sqlite_damage(path: Path) -> str | None:
    """Why the existing file ``path`` cannot be a sound SQLite ledger, from its size and its
    100-byte header (no database is opened): empty, not SQLite, or cut short. A file cut short
    by a bad copy can otherwise read as a smaller, intact ledger."""
    restore = (
        "restore it from a backup, or give a path that does not exist yet to start a new ledger"
    )
    if path.is_dir():
        return f"{path} is a folder; give the path of the ledger file"
    if path.is_symlink() and not path.exists():
        return f"{path} is a link to a file that is not there; {restore}"
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a device, a pipe (reading it could hang)
            return f"{path} is not a file, so not a ledger; give the path of the ledger file"
        size = info.st_size
        with path.open("rb") as f:
            header = f.read(100)
    except OSError:
        return None  # unreadable: SQLite says why when it opens it
    if size == 0:
        return f"the ledger file {path} is empty (0 bytes), not a ledger; {restore}"
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return f"{path} is not a SQLite database, so not a dosecalc ledger; {restore}"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"the ledger file {path} is damaged (its header is not SQLite's); {restore}"
    if size % page:
        return (
            f"the ledger file {path} is damaged: its {size:,} bytes are not a whole number of "
            f"its {page:,}-byte pages (cut short by a failed copy or restore?); {restore}"
        )
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] == header[92:96] and pages * page > size:
        # a checkpoint in another process writes the header before it extends the file: a
        # file is only cut short if it stays short
        for _ in range(20):
            time.sleep(0.05)
            try:
                size = path.stat().st_size
            except OSError:
                return None
            if pages * page <= size:
                return None
        return (
            f"the ledger file {path} is damaged: its header counts {pages:,} pages of "
            f"{page:,} bytes, the file holds {size // page:,} (cut short by a failed copy or "
            f"restore?); {restore}"
        )
    return None


def _init_tables(conn: Any) -> None:
    """Create the tables of a new ledger and its first meta rows (its id, an empty chain)."""
    from sqlalchemy import delete, insert

    METADATA.create_all(conn)
    conn.execute(delete(PATIENTS))  # a table of patients left from a dropped ledger
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


def _create_sqlite(path: Path) -> None:
    """Start a new SQLite ledger at ``path``, where there is nothing yet: made whole beside it
    (tables and all, mode 0600) and linked into place, so no process ever sees a half-made
    ledger; if another process got there first, theirs is kept."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.new")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        engine = create_engine(f"sqlite+pysqlite:///{tmp}", poolclass=NullPool)
        with engine.begin() as conn:
            _init_tables(conn)
        # WAL, kept in the file: readers never block the writer (set here, once: an existing
        # file is never changed before it is known to be a ledger)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.commit()
        engine.dispose()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another dosecalc made it first: that one is the ledger
        except OSError:  # a file system without hard links
            if not path.exists():
                os.rename(tmp, path)
    except OSError as e:
        raise _error(f"cannot create the ledger file {path}: {e.strerror or e}") from None
    finally:
        for leftover in [tmp, *(tmp.with_name(tmp.name + x) for x in ("-journal", "-wal", "-shm"))]:
            leftover.unlink(missing_ok=True)


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
    source: str = RECORD_SOURCE
    time: str | None = None  # HH:MM, when the source says
    source_id: str | None = None  # the administration's id in the source system


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        return f"uid {os.getuid()}"


class EntryError(ValueError):
    """What is wrong with an entry, and the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_entry(entry: Entry, today: date) -> records.Row:
    """The dose an entry stands for, through the same checks as a history row (its time and id
    too)."""
    if not entry.patient or not entry.patient.strip():
        raise EntryError("patient", "the patient is missing")
    bad = fields.problem("patient", entry.patient)
    if bad:
        raise EntryError("patient", bad)
    try:
        time_ = hist.time_cell(entry.time)
    except ValueError as e:
        raise EntryError("time", str(e)) from None
    try:
        ident = hist.ident_cell(entry.source_id)
    except ValueError as e:
        raise EntryError("source_id", str(e)) from None
    when, drug, amount, unit, per_m2, bsa = hist.parse_fields(
        entry.date, entry.drug, entry.dose, entry.unit, entry.bsa_m2, today
    )
    return records.Row(
        when,
        drug,
        amount,
        unit,
        per_m2,
        bsa,
        entry.patient,
        entry.regimen,
        entry.cycle,
        entry.day,
        entry.source,
        time_,
        ident,
    )


class Ledger:
    """An open ledger. ``Ledger(url, create=True)`` makes a new SQLite file if there is none."""

    def __init__(self, url_text: str | None, create: bool = False) -> None:
        self._seen: witness.Witness | None = None
        self._seen_error: str | None = None
        self.url = _parse_url(resolve_url(url_text))
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = None
        if self.sqlite:
            self.path = Path(self.url.database).expanduser()
            if self.path.exists() or self.path.is_symlink():
                damage = sqlite_damage(self.path)
                if damage:
                    raise _error(damage)
            else:
                self.url = self.url.set(database=str(self.path))
                self._load_witness()
                self._refuse_gone()
                if not create:
                    raise _error(
                        f"there is no ledger at {self.path} yet; `dosecalc ledger record` or "
                        "`dosecalc ledger import` creates it (or give --db / DOSECALC_DB)"
                    )
            self.url = self.url.set(database=str(self.path))
        self.engine = self._engine()
        self.ready = False
        self._columns: list[Any] = list(RECORDS.columns)
        self._tails = True  # schema 4 on: each patient's count and newest record kept
        self.warnings: list[str] = []  # said on stderr by the command: e.g. a witness not noted
        self._pending: tuple[str, tuple[int, str], bool] | None = None

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
            cursor.execute("PRAGMA synchronous=FULL")  # a committed dose survives a power cut
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            write = conn.get_execution_options().get("dosecalc_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    @contextmanager
    def _connection(self, write: bool, scratch: bool = False) -> Iterator[Any]:
        """A transaction; database errors become one clear sentence (exit 2). A PostgreSQL read
        sees one snapshot throughout (repeatable read), as a SQLite read does, and is read-only
        unless ``scratch`` (the audit's temporary tables; it writes no ledger table)."""
        from sqlalchemy.exc import DBAPIError, NoSuchModuleError

        try:
            with self.engine.connect() as conn:
                if write:
                    conn = conn.execution_options(dosecalc_write=True)
                elif not self.sqlite:
                    conn = conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=not scratch
                    )
                with conn.begin():
                    yield conn
        except NoSuchModuleError:
            raise _error(NEEDS_PSYCOPG) from None
        except DBAPIError as e:  # not reachable, locked, no space, damaged, …
            first = (str(e.orig).strip().splitlines() or ["?"])[0]
            if self.sqlite and re.search(r"malformed|not a database|corrupt", first):
                raise _error(
                    f"the ledger file {self.path} is damaged ({first}); restore it from a backup"
                ) from None
            raise _error(f"the ledger {self} cannot be used: {first}") from None
        except ModuleNotFoundError as e:
            raise _error(f"{NEEDS_PSYCOPG} ({e})") from None
        except UnicodeError as e:  # SQLite: text that is not UTF-8 (its schema too)
            if not self.sqlite:
                raise
            raise _error(
                f"the ledger file {self.path} is damaged (text that is not UTF-8: {e.reason}); "
                "restore it from a backup"
            ) from None

    def _load_witness(self) -> None:
        """Read this user's witness of the ledger's head, before the transaction's snapshot is
        taken (a witness is noted after a commit, so the snapshot is never older than it)."""
        try:
            self._seen, self._seen_error = witness.load(self.url), None
        except witness.Unreadable as e:
            self._seen, self._seen_error = (
                None,
                f"the witness of this ledger's head is unreadable ({e}); remove that file to start a new one",
            )

    def _refuse_gone(self) -> None:
        """Refuse a ledger that is not there (no file, no tables) where this user has seen one:
        starting a new one would silently start every patient's lifetime totals again."""
        w = self._seen
        if w is not None and w.seq > 0:
            raise _error(
                f"the ledger {self} is gone: this machine saw it with {w.seq} records on "
                f"{w.seen_at[:10]}; restore it from a backup (to start a new, empty ledger "
                f"there instead, remove {w.path})"
            )

    def no_ledger(self, consequence: str) -> LedgerError:
        """A database that holds no ledger (a PostgreSQL database nothing was recorded in, or
        the wrong one of its server): refused, as a SQLite file that is not there is, rather
        than read as a ledger of no records."""
        return _error(
            f"{self} holds no dosecalc ledger yet: {consequence}; `dosecalc ledger record` or "
            "`dosecalc ledger import` creates it (or give --db / DOSECALC_DB)"
        )

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction that holds the ledger's write lock from its first statement, so
        whatever it reads (repeats, the head) stays true until it commits. A ledger whose
        head, count or witness does not hold is not written to."""
        self._load_witness()
        if self.path is not None and not self.path.exists():  # first write: a new ledger
            self._refuse_gone()
            _create_sqlite(self.path)
        with self._connection(write=True) as conn:  # SQLite: BEGIN IMMEDIATE
            self._prepare(conn)
            head = self._head(conn, lock=True)
            problems = self._state(conn, head)
            if problems:
                raise self.untrusted(problems, "nothing was recorded")
            yield conn
        self._save_pending()  # committed: note the new head as this user's witness

    @contextmanager
    def read(self, scratch: bool = False) -> Iterator[Any]:
        """A read transaction (``self.ready`` says whether the ledger holds any table yet);
        ``scratch``: one that may make temporary tables (PostgreSQL's audit)."""
        self._load_witness()
        if self.path is not None and not self.path.exists():  # nothing written yet
            self._refuse_gone()
            self.ready = False
            yield None
            return
        with self._connection(write=False, scratch=scratch) as conn:
            self.ready = self._schema(conn)
            if not self.ready:
                self._refuse_gone()
            yield conn

    def _schema(self, conn: Any) -> bool:
        """True if the tables are there at a version this dosecalc reads; False for a PostgreSQL
        database without them (no ledger started there yet). Anything else is refused: a SQLite
        file without them, one table without the other, missing columns, a newer schema."""
        from sqlalchemy import inspect, select

        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        have = [t in tables for t in (META.name, RECORDS.name)]
        if not any(have):
            if self.sqlite:
                raise _error(
                    f"{self.path} is a SQLite database but not a dosecalc ledger (it has no "
                    "ledger tables); give the path of a ledger, or a path that does not exist "
                    "yet to start a new one"
                )
            return False
        if not all(have):
            missing = META.name if not have[0] else RECORDS.name
            raise _error(f"the ledger {self} is damaged: its table {missing} is missing")
        version = conn.execute(
            select(META.c.value).where(META.c.key == "schema_version")
        ).scalar_one_or_none()
        if not isinstance(version, str) or not version.isdigit() or len(version) > 6:
            raise _error(f"{self} has no ledger schema version: it is damaged")
        if int(version) > SCHEMA_VERSION:
            raise _error(
                f"{self} is at ledger schema {version}, made by a newer dosecalc; this one "
                f"reads schema {SCHEMA_VERSION}: upgrade dosecalc"
            )
        present = {c["name"] for c in inspector.get_columns(RECORDS.name)}
        missing_columns = [
            s.name for s in fields.SPECS if s.since <= int(version) and s.name not in present
        ]
        if missing_columns:
            raise _error(
                f"the ledger {self} is damaged: its records have no {', '.join(missing_columns)}"
            )
        self._tails = int(version) >= 4
        if self._tails and PATIENTS.name not in tables:
            raise _error(f"the ledger {self} is damaged: its table {PATIENTS.name} is missing")
        # an older schema is read as it is (its later fields empty); a write upgrades it
        self._columns = [c for c in RECORDS.columns if c.name in present]
        return True

    def _prepare(self, conn: Any) -> None:
        """Create the tables of a new PostgreSQL ledger, and upgrade an older schema, inside the
        write lock."""
        from sqlalchemy import inspect, select, text, update

        if not self.sqlite:  # one process at a time creates or upgrades the tables
            conn.execute(text("SELECT pg_advisory_xact_lock(4242424201)"))
            if not set(inspect(conn).get_table_names()) & {META.name, RECORDS.name}:
                self._refuse_gone()
                _init_tables(conn)
        self._schema(conn)
        version = int(
            conn.execute(select(META.c.value).where(META.c.key == "schema_version")).scalar_one()
        )
        if version < SCHEMA_VERSION:
            from sqlalchemy.exc import ProgrammingError

            try:
                for step in MIGRATIONS[version - 1 :]:
                    step(conn)
            except ProgrammingError:  # PostgreSQL: a role that may insert, not alter
                raise _error(
                    f"the ledger {self} is at schema {version}, and this dosecalc writes schema "
                    f"{SCHEMA_VERSION}: the tables' owner must upgrade it once (any record or "
                    "import by the owner does); reading it works meanwhile"
                ) from None
            conn.execute(
                update(META).where(META.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
            )
            self._schema(conn)
        self.ready = True

    # the state of the chain ------------------------------------------------------------------

    def _head(self, conn: Any, lock: bool = False) -> tuple[int, str] | None:
        """The stored chain head (number and hash of the newest record); None if unreadable."""
        from sqlalchemy import select

        query = select(META.c.value).where(META.c.key == "head")
        text = conn.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        m = _HEAD.fullmatch(text) if isinstance(text, str) else None
        return (int(m.group(1)), m.group(2)) if m else None

    def _ledger_id(self, conn: Any) -> str | None:
        from sqlalchemy import select

        value = conn.execute(
            select(META.c.value).where(META.c.key == "ledger_id")
        ).scalar_one_or_none()
        return value if isinstance(value, str) and _UUID.fullmatch(value) else None

    def _hash_at(self, conn: Any, seq: int) -> str | None:
        from sqlalchemy import select

        return conn.execute(select(RECORDS.c.hash).where(RECORDS.c.seq == seq)).scalar()

    def _state(self, conn: Any, head: tuple[int, str] | None) -> list[str]:
        """The checks every use of the ledger rests on, each a lookup: the head readable, as
        many records as it numbers with the newest its own, and this user's witness of an
        earlier head still there."""
        from sqlalchemy import func, select

        if head is None:
            return ["the chain head is missing or unreadable: it was altered"]
        ledger_id = self._ledger_id(conn)
        if ledger_id is None:
            return ["the ledger's id is missing or unreadable: it was altered"]
        count, last = conn.execute(select(func.count(), func.max(RECORDS.c.seq))).one()
        seq, hash_ = head
        if count != seq or (last or 0) != seq:
            return [
                f"the chain head numbers {seq} records, the ledger holds {count} (the newest "
                f"#{last or 0}): records were removed or added behind dosecalc's back, or the "
                "head was altered"
            ]
        if seq and self._hash_at(conn, seq) != hash_:
            return [f"the chain head does not match record #{seq}: it was altered"]
        return self._witness_problems(conn, ledger_id, seq)

    def _witness_problems(self, conn: Any, ledger_id: str, head_seq: int) -> list[str]:
        if self._seen_error:
            return [self._seen_error]
        w = self._seen
        if w is None:
            return []
        at = self._hash_at(conn, w.seq) if 0 < w.seq <= head_seq else None
        return witness.problems(w, ledger_id, head_seq, at)

    def _note_head(self, conn: Any, force: bool = False) -> None:
        """Note the head just committed (or verified) as this user's witness."""
        head, ledger_id = self._head(conn), self._ledger_id(conn)
        if head is None or ledger_id is None:
            return
        self._pending = (ledger_id, head, force)

    def _save_pending(self) -> None:
        """After the commit: note the head as this user's witness."""
        if self._pending is None:
            return
        ledger_id, (seq, hash_), force = self._pending
        self._pending = None
        failed = witness.save(self.url, str(self), ledger_id, seq, hash_, force=force)
        if failed:
            self.warnings.append(
                f"{failed}; `dosecalc ledger verify` cannot tell if records after #{seq} are "
                "removed later"
            )

    def untrusted(self, problems: list[str], consequence: str) -> LedgerError:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return _error(
            f"the ledger {self} failed its integrity check: {problems[0]}{more}; {consequence}. "
            "Run `dosecalc ledger verify` for the whole report"
        )

    # writing ---------------------------------------------------------------------------------

    def _append(
        self, conn: Any, rows: list[dict[str, Any]], known: dict[str, list[Any]] | None = None
    ) -> list[int]:
        """Chain and insert ``rows`` after the head, each linked to its patient's record before
        it (the caller holds the write lock). ``known``: each patient's records as
        :meth:`_checked_patient` read them in this write; a patient not in it is checked here,
        so no record is linked onto a patient's damaged records."""
        from sqlalchemy import insert, update

        head = self._head(conn)
        assert head is not None  # write() refused an unreadable head
        for row in rows:  # every writer's rows, whatever checked them before (verifyrecord)
            for name, message in fields.problems(row, stored=True)[:1]:
                raise fail(OPTION.get(name), message)
        known = known or {}
        tails = {}  # each patient's records so far: how many, and the newest's number
        for p in {row["patient"] for row in rows}:
            records = known[p] if p in known else self._checked_patient(conn, p, head)
            theirs = [r["seq"] for r in records if r["patient"] == p]
            tails[p] = (len(theirs), theirs[-1] if theirs else 0)
        seq, prev = head
        numbers = []
        new = {p for p, (n, _) in tails.items() if n == 0}
        for row in rows:
            seq += 1
            n, before = tails[row["patient"]]
            row.update(seq=seq, prev_hash=prev, patient_seq=n + 1, patient_prev_seq=before)
            row["hash"] = prev = digest(row)
            tails[row["patient"]] = (n + 1, seq)
            numbers.append(seq)
        for start in range(0, len(rows), 5000):
            conn.execute(insert(RECORDS), rows[start : start + 5000])
        self._keep_tails(conn, tails, new)
        conn.execute(update(META).where(META.c.key == "head").values(value=f"{seq} {prev}"))
        self._note_head(conn)
        return numbers

    def _keep_tails(self, conn: Any, tails: dict[str, tuple[int, int]], new: set[str]) -> None:
        """Note each patient's count of records and their newest after an append (schema 4)."""
        from sqlalchemy import bindparam, insert, update

        if not self._tails:
            return
        added = [
            {"patient": p, "records": n, "last_seq": s} for p, (n, s) in tails.items() if p in new
        ]
        kept = [{"p": p, "n": n, "s": s} for p, (n, s) in tails.items() if p not in new]
        if added:
            for start in range(0, len(added), 5000):
                conn.execute(insert(PATIENTS), added[start : start + 5000])
        if kept:
            query = (
                update(PATIENTS)
                .where(PATIENTS.c.patient == bindparam("p"))
                .values(records=bindparam("n"), last_seq=bindparam("s"))
            )
            conn.execute(query, kept)

    def _tail_of(self, conn: Any, patient: str, rows: list[dict[str, Any]]) -> list[str]:
        """One patient's records against their count and newest record as the ledger noted them
        at each append (schema 4): their newest record moved to another id, or one moved in,
        shows here without a walk (one lookup)."""
        from sqlalchemy import select

        if not self._tails:
            return []
        theirs = [r["seq"] for r in rows if r["patient"] == patient]
        noted = conn.execute(
            select(PATIENTS.c.records, PATIENTS.c.last_seq).where(PATIENTS.c.patient == patient)
        ).first()
        have = (len(theirs), theirs[-1]) if theirs else None
        if (tuple(noted) if noted else None) == have:
            return []
        return [tail_problem(patient, tuple(noted) if noted else None, have)]

    def _tails_match(self, conn: Any, walked: dict[str, tuple[int, int]] | None) -> list[str]:
        """Every patient's count and newest record as noted against the records (``walked``:
        as a walk found them; else one grouped query): for a read of every patient."""
        from sqlalchemy import func, select

        if not self._tails:
            return []
        if walked is None:
            query = select(RECORDS.c.patient, func.count(), func.max(RECORDS.c.seq))
            walked = {p: (n, s) for p, n, s in conn.execute(query.group_by(RECORDS.c.patient))}
        noted = {
            p: (n, s)
            for p, n, s in conn.execute(
                select(PATIENTS.c.patient, PATIENTS.c.records, PATIENTS.c.last_seq)
            )
        }
        return [
            tail_problem(p, noted.get(p), walked.get(p))
            for p in sorted(set(noted) | set(walked), key=str)
            if noted.get(p) != walked.get(p)
        ]

    def _stamp(self, by: str | None, batch: str) -> dict[str, Any]:
        return {
            "recorded_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "recorded_by": (by or "").strip() or who(),
            "os_user": who(),
            "batch": batch,
        }

    @staticmethod
    def _problem(entry: Entry, field: str | None, message: str) -> Problem:
        """A problem with one entry: named by its option for `ledger record`, else by its
        file and line (or FHIR entry)."""
        if entry.source == RECORD_SOURCE:
            return Problem(message, field=OPTION.get(field or "", None))
        return Problem(message, file=entry.source)

    def record(
        self,
        entries: list[Entry],
        by: str | None = None,
        again: bool = False,
        source_sha256: str | None = None,
        source_file: str | None = None,
        today: date | None = None,
        before_write: Any = None,
        high_dose: str | None = None,
    ) -> list[int]:
        """Append dose records (all or none). Refuse one that repeats an active record or
        another entry unless ``again`` (a real second administration); one above its drug's
        usual maximum single dose unless ``high_dose`` gives the reason (kept with it); one
        at ten times that maximum or more always (a unit slip)."""
        from dosecalc.clinical.single_dose import excess

        # DOSECALC_TODAY replays a check as of a day; it never lets a dose after the real
        # date into the ledger, which is written for good
        today = min(today or clock.today(), date.today())
        rows, parsed, problems = [], [], []
        high = (high_dose or "").strip() if high_dose is not None else None
        if high is not None and not high:
            raise fail("--allow-high-dose", "say why the dose above the usual maximum is right")
        stamp = self._stamp(by, str(uuid.uuid4()))
        for name in ("recorded_by", "os_user"):
            bad = fields.problem(name, stamp[name])
            if bad:
                raise fail("--by" if name == "recorded_by" else None, bad)
        any_high = False
        for entry in entries:
            try:
                row = check_entry(entry, today)
            except ValueError as e:
                problems.append(self._problem(entry, getattr(e, "field", None), str(e)))
                continue
            over = excess(
                row.drug, row.amount, row.unit, row.per_m2, row.bsa_m2, f"{entry.dose} {entry.unit}"
            )
            if over is not None and (over.slip or high is None):
                problems.append(
                    self._problem(
                        entry,
                        "dose",
                        f"{over.text}: a unit or decimal slip, not recorded"
                        if over.slip
                        else f"{over.text}; if it was given, record it with --allow-high-dose "
                        "REASON",
                    )
                )
                continue
            any_high = any_high or over is not None
            record = {
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
                "reason": high if over is not None else None,
                "source": entry.source,
                "source_sha256": source_sha256,
                "time": entry.time,
                "source_id": entry.source_id,
                **stamp,
            }
            bad = fields.problems(record)
            if bad:
                problems += [self._problem(entry, name, message) for name, message in bad]
                continue
            parsed.append(row)
            rows.append(record)
        if problems:
            raise FileError(*problems[:20])
        if high is not None and not any_high:
            raise fail(
                "--allow-high-dose",
                "no dose here is above its drug's usual maximum single dose; leave the option out",
            )
        # within the file first: a new ledger is not even started (--again: one id only)
        self._refuse_repeats(None, parsed, entries, again)
        with self.write() as conn:
            if source_sha256 and not again:
                self._refuse_reimport(conn, source_sha256, source_file)
            # each patient's records as their chain holds them: a patient whose records were
            # altered gets nothing more (the record would be refused at its next read)
            head = self._head(conn)
            patients = {e.patient for e in entries}
            present = self._present(conn, patients)  # a new patient has nothing to check yet
            self._say_alike(conn, patients - present)
            known = {
                p: self._checked_patient(conn, p, head) if p in present else [] for p in patients
            }
            self._refuse_repeats(known, parsed, entries, again)
            if before_write is not None:
                before_write(len(rows))
            return self._append(conn, rows, known)

    def _say_alike(self, conn: Any, new: set[str]) -> None:
        """A notice for each new patient id equal to an id of the ledger apart from case."""
        from dosecalc.clinical import cumulative

        if not new:
            return
        for patient, others in sorted(self._alike(conn, new).items()):
            for alert in cumulative.ids_alike([patient, *others]) if others else []:
                self.warnings.append(f"{alert.code}: {alert.message}")

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
                    f"{str(found[2])[:10]}); importing it again would count every dose twice. "
                    "Void those records first, or give --again if these are new administrations",
                    file=source_file,
                )
            )

    @staticmethod
    def _describe(entry: Entry) -> str:
        at = f" at {entry.time}" if entry.time else ""
        return (
            f"patient {entry.patient}: {entry.drug} {entry.dose} {entry.unit} on {entry.date}{at}"
        )

    def _refuse_repeats(
        self,
        known: dict[str, list[dict[str, Any]]] | None,
        rows: list[records.Row],
        entries: list[Entry],
        again: bool = False,
    ) -> None:
        """Refuse an entry that is the same administration as another entry, or (with
        ``known``, each patient's records) as an active record of its patient: the identity
        ``check`` uses, from :func:`dosecalc.cumulative.repeats`. ``again`` (a real second
        administration) lets a dose like another through, never one with the same id in the
        source system: that id is one administration."""
        from dosecalc.clinical import cumulative

        history = records.History()
        history.sources += [records.LEDGER_SOURCE, "\0entries"]  # files 0 and 1
        if known is not None:
            for patient in sorted(known):
                for r in self._active(known[patient]):
                    history.add(dose_row(r), patient, 0, r["seq"])
        for k, (row, entry) in enumerate(zip(rows, entries, strict=True)):
            history.add(row, entry.patient, 1, k)  # after the records: always the later row
        problems = []
        for patient, cols in history.patients.items():
            for pair in cumulative.repeats(history, patient):
                j, i, written = pair.first, pair.later, pair.written
                if again and pair.ident is None:
                    continue
                entry = entries[cols.line[i]]
                maybe = written is not None and written[0] != written[1]
                if cols.file[j] == 0:
                    text = f"{'may be' if maybe else 'is'} already recorded as #{cols.line[j]}"
                else:
                    text = f"{'may repeat' if maybe else 'repeats'} {entries[cols.line[j]].source}"
                if pair.ident is not None:
                    text += (
                        " ("
                        + cumulative.same_id_details(
                            pair.ident,
                            (history.names[cols.drug[j]], date.fromordinal(cols.date[j])),
                            (history.names[cols.drug[i]], date.fromordinal(cols.date[i])),
                        )
                        + ": one administration)"
                    )
                elif maybe:
                    text += (
                        " (a dose per m² and an absolute one, without the bsa_m2 of that day to "
                        "tell whether they are one dose)"
                    )
                elif cols.file[j] != 0:
                    text += " (the same dose once converted, and no time or id tells them apart)"
                then = (
                    "; a second administration has an id of its own in the source system"
                    if pair.ident is not None
                    else "; give --again if it was given twice"
                )
                problems.append(self._problem(entry, None, f"{self._describe(entry)} {text}{then}"))
        if problems:
            raise FileError(*problems[:20])

    def void(self, seq: int, patient: str, reason: str, by: str | None = None) -> int:
        """Cancel record ``seq`` of ``patient`` with a new record that says why."""
        from sqlalchemy import select

        if not reason.strip():
            raise fail("--reason", "say why the record is voided (it stays in the audit trail)")
        _check_lookup(patient)
        if not 1 <= seq <= INT32:
            raise fail("SEQ", f"there is no record #{seq} in {self}")
        row = {k: None for k in FIELDS if k not in ("seq", "prev_hash")}
        row.update(
            kind="void",
            patient=patient,
            voids=seq,
            reason=reason.strip(),
            source="dosecalc ledger void",
            time=None,
            source_id=None,
            **self._stamp(by, str(uuid.uuid4())),
        )
        for name, message in fields.problems(row):
            raise fail("--reason" if name == "reason" else OPTION.get(name), message)
        with self.write() as conn:
            target = (
                conn.execute(select(*self._columns).where(RECORDS.c.seq == seq)).mappings().first()
            )
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
            known = self._checked_patient(conn, patient, self._head(conn))  # as a dose's write
            [number] = self._append(conn, [row], {patient: known})
        return number

    # reading ---------------------------------------------------------------------------------

    def _patient_rows(self, conn: Any, patient: str) -> list[dict[str, Any]]:
        """One patient's records, every void of them and every record linked to one of them as
        its patient's previous record (whoever's each claims to be), in order, each with the
        hash of the record before it (``_prev``) and the previous hash the record after it
        holds (``_next``): what :func:`chain.check_part` needs. Index lookups only."""
        from sqlalchemy import and_, select

        r, before, after, target = (RECORDS.alias(n) for n in ("r", "b", "a", "t"))
        columns = [r.c[c.name] for c in self._columns]

        def query(where: Any, join: Any = None) -> Any:
            source = r if join is None else r.join(*join)
            source = source.outerjoin(before, before.c.seq == r.c.seq - 1).outerjoin(
                after, after.c.seq == r.c.seq + 1
            )
            return (
                select(*columns, before.c.hash.label("_prev"), after.c.prev_hash.label("_next"))
                .select_from(source)
                .where(where)
            )

        own = query(r.c.patient == patient)
        voids = query(
            and_(target.c.patient == patient, r.c.kind == "void", r.c.patient != patient),
            (target, r.c.voids == target.c.seq),
        )
        queries = [own, voids]
        if any(c.name == "patient_prev_seq" for c in self._columns):  # schema 3 on
            queries.append(
                query(
                    and_(target.c.patient == patient, r.c.patient != patient),
                    (target, r.c.patient_prev_seq == target.c.seq),
                )
            )
        found = {x["seq"]: dict(x) for q in queries for x in conn.execute(q).mappings()}
        return sorted(found.values(), key=lambda x: x["seq"] if isinstance(x["seq"], int) else 0)

    def _checked_patient(
        self, conn: Any, patient: str, write_head: Any = None
    ) -> list[dict[str, Any]]:
        """One patient's records, after the chain they rest on is checked. In a write (which
        checked the head and the count when it began: ``write_head``), a failure means nothing
        is written."""
        head = write_head or self._head(conn)
        problems = [] if write_head else self._state(conn, head)
        rows = self._patient_rows(conn, patient)
        if not problems and head is not None:
            problems = chain.check_part(rows, head, patient) or self._tail_of(conn, patient, rows)
        if problems:
            consequence = "nothing was recorded" if write_head else "it is not used for a total"
            raise self.untrusted(problems, consequence)
        return rows

    def _alike(self, conn: Any, patients: set[str]) -> dict[str, list[str]]:
        """For each of ``patients``, the other ids of the ledger equal to it apart from case (as
        :func:`dosecalc.clinical.cumulative.ids_alike` compares them): from the table of
        patients (schema 4), else the records' ids."""
        from sqlalchemy import select

        from dosecalc.clinical.cumulative import alike_key

        query = select(PATIENTS.c.patient) if self._tails else select(RECORDS.c.patient).distinct()
        wanted = {alike_key(p) for p in patients}
        known = [p for (p,) in conn.execute(query) if isinstance(p, str) and alike_key(p) in wanted]
        return {
            p: sorted(k for k in known if k != p and alike_key(k) == alike_key(p)) for p in patients
        }

    def alike_alerts(self, patient: str) -> list[Any]:
        """PATIENT_IDS_ALIKE (built by the clinical layer's function, as for a history) when the
        ledger holds records under an id equal to ``patient`` apart from case."""
        from dosecalc.clinical import cumulative

        with self.read() as conn:
            if not self.ready:
                return []
            others = self._alike(conn, {patient})[patient]
        return cumulative.ids_alike([patient, *others]) if others else []

    @staticmethod
    def _present(conn: Any, patients: set[str]) -> set[str]:
        """Which of ``patients`` have any record yet (one indexed query per 500)."""
        from sqlalchemy import select

        ordered, found = sorted(patients), set()
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            query = select(RECORDS.c.patient).where(RECORDS.c.patient.in_(chunk)).distinct()
            found.update(conn.execute(query).scalars())
        return found

    def _walked(self, conn: Any, keep: bool = False) -> Walk:
        """The whole chain walked (for a read of every patient; ``keep``: with every dose
        read); refused if it fails."""
        from sqlalchemy import select

        head = self._head(conn)
        problems = self._state(conn, head)
        walk = Walk(keep=keep)
        if not problems:
            query = select(*self._columns).order_by(RECORDS.c.seq)
            for r in _dicts(conn.execute(query.execution_options(yield_per=5000))):
                walk.add(r)
            walk.finish(head)
            problems = walk.problems or self._tails_match(conn, walk.newest())
        if problems:
            raise self.untrusted(problems, "it is not used for a total")
        return walk

    @staticmethod
    def _active(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The dose records of ``rows`` no void in ``rows`` cancels, in order."""
        voided = {r["voids"] for r in rows if r["kind"] == "void"}
        return [r for r in rows if r["kind"] == "dose" and r["seq"] not in voided]

    def records(self, patient: str | None = None) -> list[dict[str, Any]]:
        """Every record (voids too), of one patient or all, with what voided each; a patient the
        ledger does not know is refused (with the closest ids). The chain they rest on is
        checked first."""
        from sqlalchemy import select

        if patient is not None:
            _check_lookup(patient)
        out: list[dict[str, Any]] = []
        with self.read() as conn:
            if self.ready and patient is not None:
                out = [
                    {c.name: r.get(c.name) for c in RECORDS.columns}
                    for r in self._checked_patient(conn, patient)
                    if r["patient"] == patient
                ]
            elif not self.ready:  # a database with no ledger in it (the wrong one?): not empty
                raise self.no_ledger("no patient has a record in it")
            else:
                if not self._screened(conn):  # every record: the whole chain checked
                    self._walked(conn)
                query = select(*self._columns).order_by(RECORDS.c.seq)
                out = [
                    {c.name: r.get(c.name) for c in RECORDS.columns}
                    for r in conn.execute(query).mappings()
                ]
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
            if not self.ready:  # (a first check of an order may be recorded in it: no one yet)
                return []
            problems = self._state(conn, self._head(conn))
            if problems:
                raise self.untrusted(problems, "it is not listed")
            voided = select(RECORDS.c.voids).where(
                RECORDS.c.kind == "void", RECORDS.c.voids.is_not(None)
            )
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

    def add_to(self, history: records.History, patient: str | None) -> int:
        """Add one patient's active doses to ``history`` as the history's own patient (they join
        any --history rows and --prior amounts given for the same person), or, with ``None``,
        every patient's under their id. The chain they rest on is checked first: one
        patient's part of it, or all of it. Refuse an id the ledger does not know: a
        typo would otherwise read as no exposure at all."""

        if patient is not None:
            _check_lookup(patient)
        if records.LEDGER_SOURCE not in history.sources:
            history.sources.append(records.LEDGER_SOURCE)
        file = history.sources.index(records.LEDGER_SOURCE)
        n = 0
        with self.read() as conn:
            if self.ready and patient is not None:
                mine = [r for r in self._checked_patient(conn, patient) if r["patient"] == patient]
                for r in self._active(mine):
                    history.add(dose_row(r), None, file, r["seq"])
                    n += 1
                others = self._alike(conn, {patient})[patient]
                if others and n:
                    from dosecalc.clinical import cumulative

                    notes = history.notes.setdefault(None, [])
                    notes += cumulative.ids_alike([patient, *others])
            elif self.ready:
                walk = self._walked(conn, keep=True)
                voided = walk.voided
                for seq, who_, row in walk.doses:
                    if seq not in voided:
                        history.add(row, who_, file, seq)
                        n += 1
        if patient is not None and n == 0:
            raise fail("--patient", self._unknown(patient))
        return n

    def _unknown(self, patient: str) -> str:
        import difflib

        from dosecalc.clinical.cumulative import alike_key

        known = [p["patient"] for p in self.patients()]
        alike = [p for p in known if p != patient and alike_key(p) == alike_key(patient)]
        close = alike + [
            p for p in difflib.get_close_matches(patient, known, n=3, cutoff=0.6) if p not in alike
        ]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return (
            f"patient {patient} has no doses in the ledger {self}{hint} (`dosecalc ledger list` "
            "shows who is in it; leave out --patient for a patient with no recorded doses)"
        )

    # integrity -------------------------------------------------------------------------------

    def _screened(self, conn: Any) -> bool:
        """Whether the whole chain passes the walk's checks, asked of the database: PostgreSQL
        only (dosecalc/ledger/screen.py); False where it cannot say (then walk)."""
        if self.sqlite or not self.ready:
            return False
        from sqlalchemy.exc import DBAPIError

        from dosecalc.ledger import screen

        try:
            with conn.begin_nested():  # a query that fails (no sha256()): walk instead
                head = self._head(conn)
                return (
                    not self._state(conn, head)
                    and screen.passes(conn, self._columns)
                    and not self._tails_match(conn, None)
                )
        except DBAPIError:
            return False

    def verify_whole(self) -> dict[str, Any]:
        """:meth:`verify` of the whole chain for an audit of every patient: on PostgreSQL the
        walk's checks are asked of the database; a ledger they do not pass outright is walked,
        and the report is the walk's."""
        passed = False
        with self.read() as conn:
            if self._screened(conn):
                passed = True
                self._note_head(conn)
        if not passed:
            return self.verify()
        self._save_pending()
        return {"ledger": str(self), "ok": True, "problems": []}

    def verify(self, anchor: str | None = None, accept_head: bool = False) -> dict[str, Any]:
        """Check the whole ledger: the database file (SQLite's integrity check), every record's
        fields, hash and links, the numbering and count against the head, what the voids point
        at, that every dose still reads as a dose, and this user's witness of an earlier head.
        Returns counts and the problems found. When all holds, the head is noted as the witness;
        ``accept_head`` notes it even though the witness disagrees (after a deliberate restore),
        reporting what was accepted."""
        from sqlalchemy import func, select
        from sqlalchemy.exc import DBAPIError

        walk = Walk(anchor)
        damage: list[str] = []
        accepted: list[str] = []
        with self.read() as conn:
            if not self.ready:
                raise self.no_ledger("nothing to verify")
            if self.sqlite:
                found = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check(20)")]
                if found != ["ok"]:
                    damage += [f"the database file is damaged: {line}" for line in found[:5]]
            head = self._head(conn)
            ledger_id = self._ledger_id(conn)
            if ledger_id is None:
                damage.append("the ledger's id is missing or unreadable: it was altered")
            query = select(*self._columns).order_by(RECORDS.c.seq)
            try:
                for r in _dicts(conn.execute(query.execution_options(yield_per=5000))):
                    walk.add(r)
                count = conn.execute(select(func.count()).select_from(RECORDS)).scalar()
            except DBAPIError as e:
                first = (str(e.orig).strip().splitlines() or ["?"])[0]
                damage.append(f"the records cannot all be read ({first}): the database is damaged")
                count = walk.counts["records"]
            walk.finish(head)
            if count != walk.counts["records"]:
                damage.append(
                    f"the database counts {count} records, {walk.counts['records']} could be "
                    "read: it is damaged"
                )
            seen = []
            if ledger_id is not None and head is not None:
                seen = self._witness_problems(conn, ledger_id, head[0])
            problems = damage + walk.problems
            if not problems:
                problems = self._tails_match(conn, walk.newest())
            if seen and accept_head and not problems and not self._seen_error:
                accepted, seen = seen, []
            problems += seen
            if not problems:
                self._note_head(conn, force=bool(accepted))
        self._save_pending()
        w = self._seen
        return {
            "ledger": str(self),
            "ok": not problems,
            **walk.counts,
            "patients": len(walk.patients),
            "head": {"seq": walk.last, "hash": walk.prev},
            "witness": None
            if w is None
            else {"seq": w.seq, "hash": w.hash, "seen_at": w.seen_at, "file": str(w.path)},
            "accepted": accepted,
            "problems": problems,
        }


def tail_problem(patient: str, noted: tuple[int, int] | None, have: tuple[int, int] | None) -> str:
    """What a patient's records and their count as noted at each append (schema 4) disagree on."""

    noted_ = "no record" if noted is None else f"{noted[0]} record(s) (the newest #{noted[1]})"
    have_ = "none" if have is None else f"{have[0]} (the newest #{have[1]})"
    return (
        f"the ledger noted {noted_} of patient {patient} when it last added one of theirs, and "
        f"{have_} name them now: a record of theirs was moved to another patient id or removed, "
        "one was moved in, or the ledger's table of patients was altered"
    )


def _check_lookup(patient: str) -> None:
    """A patient id to look up: refused as the same bound refuses it when it is recorded."""
    bad = fields.problem("patient", patient)
    if bad:
        raise fail("--patient", bad)


def _dicts(result: Any) -> Iterator[dict[str, Any]]:
    """The rows of a query as plain dicts (a walk reads each record's fields several times; a
    plain dict answers in a tenth of the time of SQLAlchemy's row mapping)."""
    keys = list(result.keys())
    for row in result:
        yield dict(zip(keys, row, strict=True))
