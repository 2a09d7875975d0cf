"""The ledger audit (``check --all-patients``): every patient's lifetime totals, computed where
the ledger lives.

* **PostgreSQL** (a pharmacy's shared ledger): the rows are converted, totalled and their first
  crossings found by queries in the database (STAGE1 and RUN below: the engine's stage 1 in
  PostgreSQL's SQL). PostgreSQL adds a running window sum one row after another, so its totals
  are the reference's additions in the reference's order. What comes back is per patient
  (totals, crossings, BSA notes), copied out as CSV into the engine, which writes the text
  (:mod:`dosecalc.batch`, stage 2). dosecalc never holds the records.
* **SQLite** (one user's ledger): DuckDB's SQLite reader is an extension it would download, and
  SQLite from 3.43 on sums floats with a compensation the reference does not make; so the
  records are streamed into the engine (in batches; it spills to disk beyond its memory) and
  checked there exactly as a history file's rows are.

A ledger whose chain does not verify is not used for a total: on SQLite the chain is walked
first; on PostgreSQL, while the database computes the totals, it also answers the walk's
questions (:mod:`dosecalc.ledger.screen`), and a ledger it flags is walked in Python for the
words. The audit counts the records up to the head that was checked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

from dosecalc.base import clock, csvout
from dosecalc.base.errors import FileError, Problem, capped
from dosecalc.clinical import cumulative
from dosecalc.data import ceilings, records
from dosecalc.inputs import history as hist
from dosecalc.pharmacy import batch
from dosecalc.pharmacy.batch import Batch, Settings, Source

FETCH = 50_000  # rows per fetch from the ledger's database


def load(db: str | None, jobs: int | None = None, today: date | None = None) -> Batch:
    """The ledger's active doses, ready for :func:`dosecalc.batch.check`."""
    from dosecalc.ledger import Ledger

    ledger = Ledger(db)
    if ledger.sqlite:
        return _sqlite(ledger, jobs, today or clock.today())
    return LedgerBatch(ledger, today or clock.today(), jobs)


def _refuse(ledger: Any, report: dict[str, Any]) -> None:
    """A ledger whose walk found a problem is not used for a total (the ledger's own words)."""
    if not report["ok"]:
        raise ledger.untrusted(report["problems"], "it is not used for a total")


def _head(ledger: Any) -> int:
    """The number of the last record the ledger's head names (0: none yet)."""
    from sqlalchemy import select

    from dosecalc.ledger import META

    with ledger.read() as conn:
        if conn is None or not ledger.ready:
            return 0
        head = conn.execute(select(META.c.value).where(META.c.key == "head")).scalar()
    seq = (head or "0").split()[0]
    return int(seq) if seq.isdigit() else 0


ACTIVE = """
SELECT r.seq, r.date, r.drug, r.dose, r.unit, r.bsa_m2, r.patient, r.regimen, r.cycle, r.day
FROM dosecalc_records r
WHERE r.kind = 'dose' AND r.seq <= {head}
  AND r.seq NOT IN (SELECT voids FROM dosecalc_records
                    WHERE kind = 'void' AND voids IS NOT NULL AND seq <= {head})
ORDER BY r.seq
"""


def _sqlite(ledger: Any, jobs: int | None, today: date) -> Batch:
    from sqlalchemy import text

    head = _head(ledger)
    _refuse(ledger, ledger.verify())
    loaded = Batch(today, jobs)
    try:

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            with ledger.read() as conn:
                if conn is None or not ledger.ready:
                    return
                result = conn.execution_options(stream_results=True).execute(
                    text(ACTIVE.format(head=head))
                )
                escaped = [name in _ESCAPED for name in result.keys()][1:]  # after seq
                while rows := result.fetchmany(FETCH):
                    yield [(seq, *_cells(values, escaped), "", "") for seq, *values in rows]

        loaded.add_rows(Source(records.LEDGER_SOURCE, "ledger"), batches())
        loaded.check_rows()
    except BaseException:
        loaded.close()
        raise
    return loaded


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# ACTIVE's columns whose cells the engine's reader unescapes, as it reads a history file's
# (csvout.unescape): a record's own text is escaped first, as `ledger export` writes it, so that
# the patient '=1+2' is not read as =1+2, another patient
_ESCAPED = frozenset({"dose", "patient", "regimen"})


def _cells(values: Any, escaped: list[bool]) -> list[str]:
    return [csvout.cell(_text(v)) if e else _text(v) for v, e in zip(values, escaped, strict=True)]


# ---------------------------------------------------------------- stage 1 in PostgreSQL
# The engine's stage 1 (dosecalc/pharmacy/batch.py) in PostgreSQL's SQL, over the active dose records
# up to the head the chain walk checks. Inputs (temporary tables): dc_kind (each drug and unit
# text: its code, factor to mg or units, per m², whether its total counts per m²), dc_lv (the
# levels of each exposure), dc_eqf (equivalence factors of each exposure).

STAGE1 = """
CREATE TEMP TABLE dc_rows AS
SELECT r.seq AS ord, r.patient AS pat, r.date AS d, k.dc, k.per_m2, k.m2,
       CAST(trim(r.dose) AS float8) * k.factor AS amount,
       CAST(NULLIF(trim(r.bsa_m2), '') AS float8) AS bsa, r.cycle, r.day
FROM dosecalc_records r JOIN dc_kind k ON k.drug = r.drug AND k.unit = r.unit
WHERE r.kind = 'dose' AND r.seq <= {head}
  AND r.seq NOT IN (SELECT voids FROM dosecalc_records
                    WHERE kind = 'void' AND voids IS NOT NULL AND seq <= {head});
ANALYZE dc_rows;
CREATE TEMP TABLE dc_pinfo AS
WITH pd AS (  -- each patient's drugs first (hashed), then the patient
    SELECT pat, dc, min(ord) AS first_ord, min(d) AS first_d FROM dc_rows GROUP BY pat, dc),
p AS (
    SELECT pat, min(first_ord) AS first_ord, array_agg(dc ORDER BY dc) AS ekey,
           min(first_d) FILTER (WHERE dc IN ({anthracyclines})) AS fa
    FROM pd GROUP BY pat),
b AS (
    SELECT pat, bsa, d, ord,
           row_number() OVER (PARTITION BY pat ORDER BY d DESC, ord DESC) AS r
    FROM dc_rows WHERE bsa IS NOT NULL)
SELECT row_number() OVER (ORDER BY p.first_ord) AS pid, 0 AS eid,
       p.pat, p.first_ord, p.ekey, p.fa, b.bsa AS hbsa, b.d AS hbsa_d, b.ord AS hbsa_line,
       coalesce({given}, b.bsa) AS pbsa
FROM p LEFT JOIN b ON b.pat = p.pat AND b.r = 1;
ANALYZE dc_pinfo;
"""

NO_BSA = """
SELECT p.pid, r.ord, r.d, r.dc, r.amount, r.per_m2
FROM dc_rows r JOIN dc_pinfo p ON p.pat = r.pat
WHERE r.per_m2 <> r.m2 AND r.bsa IS NULL AND p.pbsa IS NULL
ORDER BY p.pid, r.ord
"""

# Running totals: a window sum in PostgreSQL adds the rows of its frame one after another (the
# reference's additions in its order). Every amount is above zero (the chain's check reads each
# dose as a history row does), so a running total only grows: a level is first crossed by the
# row that reaches it when the row before did not. One pass gives each total (its last row) and
# each first crossing; nothing of the running sums is stored.
RUN = """
WITH c AS (
    SELECT p.pid, p.eid, r.dc, r.d, r.ord, r.cycle, r.day,
           CASE WHEN r.per_m2 = r.m2 THEN r.amount
                WHEN r.m2 THEN r.amount / coalesce(r.bsa, p.pbsa)
                ELSE r.amount * coalesce(r.bsa, p.pbsa) END AS amt
    FROM dc_rows r JOIN dc_pinfo p ON p.pat = r.pat),
s AS (
    SELECT pid, eid, dc AS tc, d, ord, cycle, day, amt FROM c
    UNION ALL
    SELECT c.pid, c.eid, {eq}, c.d, c.ord, c.cycle, c.day, c.amt * e.factor
    FROM c JOIN dc_eqf e ON e.eid = c.eid AND e.dc = c.dc),
run AS (
    SELECT s.*, sum(amt) OVER w AS run
    FROM s
    WINDOW w AS (PARTITION BY pid, tc ORDER BY d, ord
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
steps AS (
    SELECT run.*, lag(run) OVER w AS before, lead(ord) OVER w IS NULL AS last
    FROM run
    WINDOW w AS (PARTITION BY pid, tc ORDER BY d, ord))
SELECT t.pid, t.eid, t.tc, t.last, l.lvl, t.d, t.ord, t.cycle, t.day, t.run
FROM steps t LEFT JOIN dc_lv l ON l.eid = t.eid AND l.tc = t.tc
    AND CASE WHEN l.strict THEN t.run > l.bound AND NOT coalesce(t.before > l.bound, false)
             ELSE t.run >= l.bound AND NOT coalesce(t.before >= l.bound, false) END
WHERE t.last OR l.lvl IS NOT NULL
"""

ASSUMED = """
SELECT p.pid, r.dc, count(*) AS n, min(r.ord) AS first_ord
FROM dc_rows r JOIN dc_pinfo p ON p.pat = r.pat
WHERE r.per_m2 <> r.m2 AND r.bsa IS NULL
GROUP BY p.pid, r.dc
"""


# this transaction's settings: the sorts and hashes of a pharmacy's records in memory (the
# server's default of 4 MB sorts a million rows on disk), and the window's rows planned to be
# all read (a cursor is otherwise planned for its first tenth)
SESSION = ("work_mem = '256MB'", "cursor_tuple_fraction = 1.0")


class LedgerBatch(Batch):
    """A PostgreSQL ledger: stage 1 runs in the database; the engine writes the output."""

    def __init__(self, ledger: Any, today: date, jobs: int | None) -> None:
        super().__init__(today, jobs)
        self.ledger = ledger
        self.sources.append(Source(records.LEDGER_SOURCE, "ledger"))

    def compute(self, settings: Settings, again: bool) -> batch.Checked:
        from sqlalchemy import text

        head = _head(self.ledger)
        walked: dict[str, Any] = {}

        def walk() -> None:
            try:
                walked["report"] = self.ledger.verify_whole()
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                walked["error"] = e

        # pint is imported with sys.modules["numpy"] set to None for a moment (units._pint):
        # done here, before a second thread exists, so that psycopg in the other thread never
        # looks numpy up in that moment (it did: AttributeError, exit 3)
        from dosecalc.base import units

        units.registry()
        walker = threading.Thread(target=walk, name="ledger-walk")
        walker.start()  # the chain walk runs here while the database computes
        try:
            with self.ledger.read(scratch=True) as conn:  # its temporary tables
                if conn is None or not self.ledger.ready:
                    raise self.ledger.no_ledger("no patient has a record in it")
                checked = self._stage1(conn, text, head, settings)
        except Exception:  # a record that does not read: the walk says which, and why
            walker.join()
            if "report" in walked:
                _refuse(self.ledger, walked["report"])
            raise
        finally:
            walker.join()
        if "error" in walked:
            raise walked["error"]
        _refuse(self.ledger, walked["report"])
        return checked

    def _stage1(self, conn: Any, text: Any, head: int, settings: Settings) -> batch.Checked:
        duck = self.con
        for setting in SESSION:
            conn.execute(text(f"SET LOCAL {setting}"))
        pairs = conn.execute(
            text(
                "SELECT DISTINCT drug, unit FROM dosecalc_records "
                f"WHERE kind = 'dose' AND seq <= {head}"
            )
        ).fetchall()
        book = ceilings.book()
        kinds = []
        for drug_text, unit_text in pairs:
            try:
                drug, factor, per_m2, _ = hist.drug_and_unit(drug_text, unit_text)
            except ValueError as e:  # the walk says which record; this says why
                raise FileError(
                    Problem(
                        f"a dose of {drug_text} in '{unit_text}' does not read: {e}", field="--db"
                    )
                ) from None
            kinds.append((drug_text, unit_text, drug, factor, per_m2))
        self.totals = sorted({k[2] for k in kinds}) + [ceilings.EQUIVALENT]
        code = {name: i for i, name in enumerate(self.totals)}
        m2 = {d: cumulative.tracking_unit(d, book).endswith("/m2") for d in self.totals[:-1]}
        _pg_table(
            conn,
            text,
            "dc_kind",
            "drug text, unit text, dc integer, factor float8, per_m2 boolean, m2 boolean",
            [(dt, ut, code[d], f, p, m2[d]) for dt, ut, d, f, p in kinds],
        )
        given = "NULL" if settings.bsa_m2 is None else f"CAST({settings.bsa_m2!r} AS float8)"
        anthracyclines = book.anthracyclines()
        codes = [str(i) for i, d in enumerate(self.totals) if d in anthracyclines] or ["-1"]
        stage1 = STAGE1.format(head=head, given=given, anthracyclines=", ".join(codes))
        for statement in stage1.split(";"):
            if statement.strip():
                conn.execute(text(statement))
        self._refuse_missing_bsa(conn, text)
        pairs = conn.execute(text("SELECT DISTINCT ekey, fa FROM dc_pinfo")).fetchall()
        numbered, keys = batch.number_exposures(pairs, settings)
        _pg_table(conn, text, "dc_pe", "ekey integer[], fa text, eid integer", numbered)
        conn.execute(
            text(
                # an equality the planner can hash (IS NOT DISTINCT FROM compared every
                # patient with every exposure: 9.5 s of a million records); fa is a date or NULL
                "UPDATE dc_pinfo p SET eid = e.eid FROM dc_pe e "
                "WHERE e.ekey = p.ekey AND coalesce(e.fa, '') = coalesce(p.fa, '')"
            )
        )
        exposures = batch.exposure_tables(duck, keys, self.totals, settings)
        levels = duck.execute("SELECT eid, tc, lvl, bound FROM lv").fetchall()
        strict = {(e, t, lvl): s for (e, t), v in exposures.levels.items() for lvl, _, s in v}
        _pg_table(
            conn,
            text,
            "dc_lv",
            "eid integer, tc integer, lvl integer, bound float8, strict boolean",
            [(e, t, lvl, b, strict[(e, t, lvl)]) for e, t, lvl, b in levels],
        )
        _pg_table(
            conn,
            text,
            "dc_eqf",
            "eid integer, dc integer, factor float8",
            duck.execute("SELECT eid, dc, factor FROM eqf").fetchall(),
        )
        equivalent = len(self.totals) - 1
        # what comes back: per patient, never the records
        _pull(
            conn,
            text,
            duck,
            "SELECT pid, eid, pat, first_ord, hbsa, hbsa_d, hbsa_line, pbsa FROM dc_pinfo",
            "pinfo",
            "pid BIGINT, eid BIGINT, pat VARCHAR, first_ord BIGINT, hbsa DOUBLE, hbsa_d DATE, "
            "hbsa_line BIGINT, pbsa DOUBLE",
        )
        duck.execute("ALTER TABLE pinfo ADD COLUMN hbsa_src INTEGER DEFAULT 0")
        _pull(
            conn,
            text,
            duck,
            RUN.format(eq=equivalent),
            "steps",
            "pid BIGINT, eid INTEGER, tc INTEGER, last BOOLEAN, lvl INTEGER, d DATE, ord BIGINT, "
            "cycle INTEGER, day INTEGER, run DOUBLE",
        )
        duck.execute(
            "CREATE OR REPLACE TABLE tot AS SELECT DISTINCT pid, eid, tc, run AS value "
            "FROM steps WHERE last"
        )
        duck.execute(
            "CREATE OR REPLACE TABLE cx AS SELECT pid, eid, tc, lvl, d, ord, 0 AS src, "
            "ord AS line, cycle, day, run AS tot_at FROM steps WHERE lvl IS NOT NULL"
        )
        duck.execute("DROP TABLE steps")
        _pull(
            conn, text, duck, ASSUMED, "ba0", "pid BIGINT, dc INTEGER, n BIGINT, first_ord BIGINT"
        )
        batch.duck_table(duck, "names", "dc INTEGER, drug VARCHAR", list(enumerate(self.totals)))
        duck.execute(
            "CREATE OR REPLACE TABLE ba AS SELECT b.pid, n.drug, b.n, b.first_ord, 0 AS src, "
            "b.first_ord AS line FROM ba0 b JOIN names n ON n.dc = b.dc"
        )
        patients = duck.execute("SELECT count(*) FROM pinfo").fetchall()[0][0]
        # no notes: the ledger refuses repeats and high doses when they are recorded
        return batch.Checked(self, settings, patients, equivalent, exposures.setups, {})

    def _refuse_missing_bsa(self, conn: Any, text: Any) -> None:
        rows = conn.execute(text(NO_BSA + f" LIMIT {batch.MAX_PROBLEMS}")).fetchall()
        if not rows:
            return
        total = conn.execute(text(f"SELECT count(*) FROM ({NO_BSA}) x")).scalar()
        from dosecalc.base.errors import DosecalcError
        from dosecalc.data import drugs

        book = ceilings.book()
        problems = []
        for _, seq, d, dc, amount, per_m2 in rows:
            drug = self.totals[dc]
            row = records.Row(
                date.fromisoformat(d),
                drug,
                amount,
                drugs.book().drugs[drug].dose_unit,
                per_m2,
                None,
                where=f"ledger record #{seq}",
            )
            try:
                cumulative.from_rows([row], book, cumulative.BsaUse(None, ""))
            except DosecalcError as e:
                problems.append(e.problems[0])
        raise FileError(*capped(problems, total, "records"))


def _pg_table(conn: Any, text: Any, name: str, decl: str, rows: list[tuple[Any, ...]]) -> None:
    """A temporary table in PostgreSQL of a few Python rows."""
    conn.execute(text(f"CREATE TEMP TABLE {name} ({decl})"))
    if rows:
        names = [f"c{i}" for i in range(len(rows[0]))]
        conn.execute(
            text(f"INSERT INTO {name} VALUES ({', '.join(':' + n for n in names)})"),
            [dict(zip(names, r, strict=True)) for r in rows],
        )
    conn.execute(text(f"ANALYZE {name}"))


def _pull(conn: Any, text: Any, duck: Any, query: str, table: str, decl: str) -> None:
    """A query's rows from PostgreSQL into a table of the engine: copied out as CSV (the server
    sends while the file is written, no row becomes a Python object), through a file in the
    engine's spill folder, which the engine reads with the types of ``decl``."""
    import os

    (spill,) = duck.execute("SELECT current_setting('temp_directory')").fetchone()
    path = os.path.join(spill, table + ".csv")
    cursor = conn.connection.dbapi_connection.cursor()
    with open(path, "wb") as f, cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            f.write(block)
    columns = ", ".join(
        f"'{name}': '{kind}'" for name, kind in (part.split() for part in decl.split(","))
    )
    # a text is quoted when it is empty (NULL is not): read as written
    duck.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv(?, header = false, "
        f"columns = {{{columns}}}, quote = '\"', escape = '\"', allow_quoted_nulls = false, "
        "auto_detect = false, strict_mode = true)",
        [path],
    )
    os.remove(path)
