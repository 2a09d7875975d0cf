"""Pharmacy-wide checks on an analytics engine: DuckDB reads, checks and totals the histories.

The per-patient Python engine (:mod:`dosecalc.cumulative`) is the reference: a plan and a
single patient's check use it, and this path is proven equal to it (tests/test_batch.py). What
is computed here is the same clinical rules as queries:

* **Reading.** A CSV history is read by DuckDB's CSV reader, every column as text (never cast
  by DuckDB), once, into a table whose row order is the file's (a row's place is its number);
  a Parquet history natively, each column cast to text. Each distinct date, drug
  and unit, dose, BSA, cycle, day, time and patient text is read once by the Python reader's
  own functions (:mod:`dosecalc.history`: one strict reader for every number); a row any of
  them refuses is reported with file:line in the Python reader's words (up to
  MAX_PROBLEMS, then how many more), and nothing is counted. A CSV file the engine cannot read
  as one row a line (a line break inside quotes, a blank line, mixed line ends, a row of the
  wrong width) is read by Python's csv module instead, which knows every row's line.
* **The ceilings.** The levels in force for a patient depend on what the patient was exposed to
  (a modifier ``with_drug``), on the risk factors and the options given: each distinct exposure
  is resolved once by :func:`dosecalc.cumulative.setup_for` (the reference's own resolution) into
  rows of small tables (levels, equivalence factors, the JSON of each total) that the queries
  join.
* **The totals.** Each row converted to the unit its total is kept in (its own BSA, else the
  patient's), anthracyclines also added to the doxorubicin-equivalent total, sorted by
  patient, total, date and row. A float sum depends on the order of its additions, and the
  reference adds one amount after another in date order; DuckDB's window sums add in another
  order (a segment tree) and its ordered aggregates sort every group anew, so the running sums
  are numpy's cumsum over the engine's sorted columns (:func:`_exact`): the same additions, in
  the same order, many patients at once. Totals and first crossings (``>=`` a threshold, ``>``
  a limit, the reference's own bounds with REL_TOL) come from them.
* **The output.** The engine hands back numbers (each patient's totals, first crossings, rows
  converted with the patient's BSA), a few rows per patient; each patient's check is made from
  them by the reference's own functions (Total, Alert, PatientCheck: the same words), and a CSV
  of totals by the reference's own row function from the totals and first crossings alone
  (:meth:`Checked.numbers`), which tests/test_batch.py holds to the reference byte for byte.

A PostgreSQL ledger runs the same stage 1 as queries in the database, where a running window
sum adds one row after another (:mod:`dosecalc.audit`); the engine writes the text.
"""

from __future__ import annotations

import csv
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from dosecalc.base import clock
from dosecalc.base.alerts import CRITICAL, Alert
from dosecalc.base.bounds import BSA_M2, DOSE
from dosecalc.base.csvout import unescape
from dosecalc.base.errors import FileError, Problem, capped, together
from dosecalc.clinical import check as chk
from dosecalc.clinical import cumulative
from dosecalc.clinical.check import PatientCheck
from dosecalc.data import ceilings, records
from dosecalc.data.ceilings import EQUIVALENT, RiskFactors
from dosecalc.inputs import history as hist

MAX_PROBLEMS = 20  # bad rows listed; then how many more
MEMORY_LIMIT = "512MB"  # the engine's working memory; it spills to a temporary folder beyond
# the typed rows of a check of up to this many rows are kept in memory (a million: 0.3 s
# sooner); more go to the database file, compressed (ten million in memory: 33 s, 945 MB at
# the peak, against 28 s and 835 MB in the file)
IN_MEMORY_ROWS = 2_000_000
BATCH_ROWS = 100_000  # rows per insert when Python feeds the engine (odd CSV files, SQLite)

TEXT_COLUMNS = ("date", "drug", "dose", "unit", "bsa_m2", "patient", "regimen", "cycle", "day")
TEXT_COLUMNS += ("time", "id")
assert set(TEXT_COLUMNS) == set(hist.COLUMNS) - {"note"}

# Python's str.strip() removes these (str.isspace: written out, as scanning every code point
# took a quarter of a second at import; tests/test_batch.py checks the list against Python's)
_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
_SPACE += "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
assert all(ord(c) <= 32 or ord(c) >= 133 for c in _SPACE)  # the engine's quick test (pystrip)
_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _SPACE) + "]"


def engine(jobs: int | None, spill: str) -> Any:
    """A DuckDB connection with ``jobs`` threads and bounded memory (it spills to ``spill``)."""
    import duckdb

    # a database file in the spill folder rather than memory: the engine compresses what it
    # stores there and keeps only what it works on in memory (a tenth of the memory for a
    # pharmacy's rows; the folder goes when the check ends)
    con = duckdb.connect(
        os.path.join(spill, "work.duckdb"),
        config={
            "threads": max(1, jobs or os.cpu_count() or 1),
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": spill,
            "preserve_insertion_order": True,
            # a scan of a CSV file looks tiny to the planner (it cannot count the rows before
            # reading them): keep the hash tables on the small side, as the joins are written
            "disabled_optimizers": "build_side_probe_side",
        },
    )
    # the database file goes with the spill folder: nothing to write into it on closing
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    _macros(con)
    return con


def _macros(con: Any) -> None:
    """Python's text of numbers and strings, in the engine (tests/test_batch.py holds them to it)."""
    con.execute(
        f"""
        CREATE MACRO pystrip(s) AS CASE
            WHEN ascii(s) <= 32 OR ascii(s) >= 133 OR ascii(right(s, 1)) <= 32
                 OR ascii(right(s, 1)) >= 133
            THEN regexp_replace(s, '^{_SPACE_CLASS}+|{_SPACE_CLASS}+$', '', 'g') ELSE s END;
        -- csvout.unescape: the leading quote dosecalc's CSV writer puts before a formula
        CREATE MACRO unesc(s) AS CASE WHEN regexp_matches(s, '^''+[=+@\\-\\t\\r]')
            THEN s[2:] ELSE s END;
        -- history.text_cell's refusal: a space before an opening quote (' "X1"' is not X1)
        CREATE MACRO spacedq(s) AS coalesce(regexp_matches(s, '^{_SPACE_CLASS}+"'), false);
        """
    )


# ---------------------------------------------------------------- reading and checking rows


@dataclass
class Source:
    """One history file, or the ledger."""

    name: str  # the file as given (in messages), or records.LEDGER_SOURCE
    kind: str  # "csv" | "parquet" | "ledger"
    columns: tuple[str, ...] = ()
    path: Path | None = None
    rows: int = 0
    slow: bool = False  # read by Python's csv module (line breaks in quotes, blank lines, …)
    # what Python's csv module refused (rows of the wrong width, then any unreadable rest):
    # the first MAX_PROBLEMS, how many, and the last
    refused: list[Problem] = field(default_factory=list)
    refused_count: int = 0
    refused_last: Problem | None = None

    def where(self, line: int) -> str:
        if self.kind == "ledger":
            return f"ledger record #{line}"
        return f"{self.name}:{line}"


class Batch:
    """Histories loaded into the engine: table ``rows`` holds every checked administration."""

    def __init__(self, today: date, jobs: int | None = None, patient_column: bool = True) -> None:
        self.today = today
        self.patient_column = patient_column
        self.sources: list[Source] = []
        self.totals: list[str] = []  # the totals a check can have, in output order
        self._written: dict[str, tuple[str, int]] = {}  # drug text → where first written
        self._spill = tempfile.mkdtemp(prefix="dosecalc-")
        self.con = engine(jobs, self._spill)

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self) -> Batch:
        return self

    def compute(self, settings: Settings, again: bool) -> Checked:
        return _compute(self, settings, again)

    def names_read(self) -> list[Any]:
        """The abbreviations the drug names of these rows were read through, once each, at
        their first place (as history.History.names_read)."""
        from dosecalc.data import drugs

        return drugs.names_read(
            (text, name, line or None, None) for text, (name, line) in self._written.items()
        )

    def __exit__(self, *exc: object) -> None:
        self.close()

    # reading --------------------------------------------------------------------------------

    def _plain(self, path: Path, src: int) -> str:
        """The path the engine is given for a file: a link to it under a name of our own, since
        the engine reads ``*``, ``?`` and ``[...]`` in a path as a pattern (``ward[12].csv``
        read ``ward1.csv``)."""
        link = Path(self._spill) / f"input-{src}{path.suffix.lower()}"
        link.unlink(missing_ok=True)
        link.symlink_to(path.resolve())
        return str(link)

    def add_file(self, path: Path) -> None:
        src = len(self.sources)
        if path.suffix.lower() == ".parquet":
            source = self._parquet(path, src)
        else:
            source = self._csv(path, src)
        self.sources.append(source)

    def _csv(self, path: Path, src: int) -> Source:
        name = str(path)
        handle = _open(path)
        try:
            reader = csv.reader(handle, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise FileError(Problem("the history file is empty", file=name)) from None
            except (csv.Error, UnicodeDecodeError) as e:
                raise hist.read_error(e, name, 1) from None
            hist.read_layout(header, name)  # the reader's own checks and messages
        finally:
            handle.close()
        columns = tuple(c.strip() for c in header)
        source = Source(name, "csv", columns, path)
        self._csv_view(source, src)
        return source

    def _csv_view(self, source: Source, src: int) -> None:
        """The file as the engine reads it: one row a line after the header, every column text.
        Its lines are at most the reader's default 2 MB (its buffer is 16 of them, within the
        engine's memory whatever the file's size); a longer line goes to Python's csv module,
        which refuses it with its line."""
        types = ", ".join(f"'{c}': 'VARCHAR'" for c in source.columns)
        scan = (
            f"read_csv({_literal(self._plain(source.path, src))}, header = true, "
            f"columns = {{{types}}}, "
            "delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
            "store_rejects = true, null_padding = false)"
        )
        # the row's number and line are its place in the table it is read into (_materialize)
        self._view(src, f"(SELECT NULL::BIGINT AS k, * FROM {scan})", source, "k")

    def _view(self, src: int, relation: str, source: Source, line: str) -> None:
        cols = ", ".join(
            f"coalesce(CAST({_ident(c)} AS VARCHAR), '') AS {_ident(c)}"
            if c in source.columns
            else f"'' AS {_ident(c)}"
            for c in TEXT_COLUMNS
        )
        self.con.execute(
            f"CREATE OR REPLACE VIEW scan_{src} AS SELECT {src} AS src, k, {line} AS line, "
            f"{cols} FROM {relation}"
        )

    def _parquet(self, path: Path, src: int) -> Source:
        name = str(path)
        try:
            hist.open_checked(path, 1 << 62, lambda p: p.open("rb").close())
            plain = self._plain(path, src)
            described = self.con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({_literal(plain)})"
            ).fetchall()
        except FileError:
            raise
        except Exception as e:  # not a Parquet file, or a damaged one
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise FileError(
                Problem(f"not a Parquet file dosecalc can read ({first})", file=name)
            ) from None
        columns = tuple(str(row[0]) for row in described)
        hist.check_columns(columns, name, None)
        typed = {str(row[0]).strip(): str(row[1]) for row in described}
        if typed.get("patient", "VARCHAR").split("(")[0] in ("FLOAT", "DOUBLE", "BOOLEAN"):
            # as the reader refuses an id read as a number (history.patient_cell)
            raise FileError(
                Problem(
                    f"its patient column is stored as {typed['patient']}, which loses how each id "
                    "was written (7.0 is not 7; 101.10 and 101.1 would be one patient): store "
                    "the ids as text (VARCHAR) or as whole numbers (BIGINT)",
                    file=name,
                )
            )
        source = Source(name, "parquet", tuple(c.strip() for c in columns), path)
        spaced = [f"{_ident(c)} AS {_ident(c.strip())}" for c in columns if c != c.strip()]
        rename = f" RENAME ({', '.join(spaced)})" if spaced else ""  # ' patient' is patient
        relation = (
            f"(SELECT file_row_number + 1 AS k, *{rename} FROM read_parquet({_literal(plain)}, "
            "file_row_number = true))"
        )
        # a Parquet file has no lines: a row is named by its number (1 for the first row)
        self._view(src, relation, source, "k")
        return source

    def add_rows(self, source: Source, batches: Iterator[list[tuple[Any, ...]]]) -> None:
        """Rows fed by Python, each (line, then each of TEXT_COLUMNS as text), in order."""
        source.columns = source.columns or TEXT_COLUMNS
        self.sources.append(source)
        self._feed(len(self.sources) - 1, batches)

    def _feed(self, src: int, batches: Iterator[list[tuple[Any, ...]]]) -> None:
        source = self.sources[src]
        names = ", ".join(f"{_ident(c)} VARCHAR" for c in TEXT_COLUMNS)
        self.con.execute(f"CREATE OR REPLACE TABLE fed_{src} (k BIGINT, line BIGINT, {names})")
        k = 0
        for batch in batches:
            if not batch:
                continue
            columns = [list(c) for c in zip(*batch, strict=True)]
            ks = list(range(k + 1, k + len(batch) + 1))
            k += len(batch)
            unnest = ", ".join(f"unnest(${i + 2})" for i in range(len(columns)))
            self.con.execute(f"INSERT INTO fed_{src} SELECT unnest($1), {unnest}", [ks, *columns])
        source.rows = k
        self._view(src, f"fed_{src}", Source(source.name, source.kind, TEXT_COLUMNS), "line")

    def _slow_csv(self, src: int) -> None:
        """Read a CSV file with Python's csv module (which knows the line of every row)."""
        source = self.sources[src]
        assert source.path is not None
        source.slow = True
        source.refused, source.refused_count, source.refused_last = [], 0, None
        width = len(source.columns)
        index = [source.columns.index(c) if c in source.columns else None for c in TEXT_COLUMNS]

        def refuse(problem: Problem) -> None:
            source.refused_count += 1
            source.refused_last = problem
            if len(source.refused) < MAX_PROBLEMS:
                source.refused.append(problem)

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            handle = _open(source.path)  # type: ignore[arg-type]
            reader = csv.reader(handle, strict=True)
            line = 1
            batch: list[tuple[Any, ...]] = []
            try:
                next(reader)
                for values in reader:
                    line = reader.line_num
                    if not values:
                        continue  # a blank line is not a row
                    if len(values) != width:
                        refuse(
                            Problem(
                                f"this row has {len(values)} fields, the header has {width}",
                                file=source.name,
                                line=line,
                            )
                        )
                        continue
                    batch.append((line, *(values[i] if i is not None else "" for i in index)))
                    if len(batch) >= BATCH_ROWS:
                        yield batch
                        batch = []
            except (csv.Error, UnicodeDecodeError) as e:  # nothing after it can be read
                refuse(hist.read_error(e, source.name, line).problems[0])
            finally:
                handle.close()
            yield batch

        self._feed(src, batches())

    def _union(self) -> str:
        return " UNION ALL ".join(f"SELECT * FROM raw_{i}" for i in range(len(self.sources)))

    # checking -------------------------------------------------------------------------------

    def check_rows(self) -> None:
        """Every row of every source checked; refuse the lot with the bad rows, file:line."""
        self._distinct_texts()
        self._rows()

    def _distinct_texts(self) -> None:
        """Read each distinct text of the columns the Python reader resolves, once, with its
        own functions; the engine joins the verdicts to the rows (tables t_*). Each source is
        read once, into table raw_N; a CSV file the engine does not read as one row a line goes
        to Python's csv module instead."""
        from concurrent.futures import ThreadPoolExecutor

        import numpy  # noqa: F401 - loaded before the thread, so pint never hides it (units._pint)

        # while the engine reads (it lets go of Python meanwhile): the reader's drug book and
        # units, the ceilings, and the lines of each CSV file counted
        with ThreadPoolExecutor(2, thread_name_prefix="dosecalc-read") as pool:
            warm = pool.submit(_warm)
            lines = {
                src: pool.submit(_lines, s.path)
                for src, s in enumerate(self.sources)
                if s.kind == "csv" and not s.slow
            }
            for src in range(len(self.sources)):
                if not self._materialize(src, lines.get(src)):
                    self._slow_csv(src)
                    self._materialize(src, None)
            warm.result()
        counts, texts = self._scan_texts()
        for i, s in enumerate(self.sources):
            s.rows = counts.get(i, 0)
            if not s.rows and not s.refused_count:  # as the reader refuses it (hist.NO_ROWS)
                what = "its header" if s.kind == "csv" else "its columns"
                raise FileError(Problem(hist.NO_ROWS.format(what=what), file=s.name))
        self.totals = _resolve(self.con, texts, self.today)

    def _materialize(self, src: int, lines: Any) -> bool:
        """Source N read once, into a table (stored_N, seen through raw_N); False if the
        engine's CSV reader could not read the file as one row a line (then Python's csv module
        reads it)."""
        source = self.sources[src]
        fast = source.kind == "csv" and not source.slow
        self.con.execute("DROP TABLE IF EXISTS reject_errors")
        self.con.execute("DROP TABLE IF EXISTS reject_scans")
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE stored_{src} AS SELECT * FROM scan_{src}"
            )
        except Exception:  # mixed line ends, an unclosed quote, …
            if fast:
                return False
            raise
        # a CSV file read by the engine: its rows are stored in the file's order (the engine
        # preserves insertion order), so a row's place is its number, the header line 1
        place = "REPLACE (rowid + 1 AS k, rowid + 2 AS line)" if fast else ""
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW raw_{src} AS SELECT * {place} FROM stored_{src}"
        )
        if not fast:
            return True
        (rows,) = self.con.execute(f"SELECT count(*) FROM raw_{src}").fetchone()
        return lines.result() == rows + 1 and not self._rejected()

    def _rejected(self) -> bool:
        """Whether the engine's CSV reader refused rows of the file it just read (wrong width,
        bad quotes, …)."""
        try:
            return bool(self.con.execute("SELECT count(*) FROM reject_errors").fetchone()[0])
        except Exception:  # no reject table: nothing was refused
            return False

    def _scan_texts(self) -> tuple[dict[int, int], dict[str, list[Any]]]:
        """Rows per source, and the distinct texts of the columns the reader resolves (only
        of the columns some source has)."""
        given = {c for s in self.sources for c in s.columns}
        sets = [("src",), ("date",), ("drug", "unit"), ("drug",), ("dose",)]
        sets += [(c,) for c in ("bsa_m2", "cycle", "day", "time", "patient") if c in given]
        columns = list(dict.fromkeys(c for group in sets for c in group))
        result = self.con.execute(
            f"""
            SELECT grouping({", ".join(columns)}) AS g, {", ".join(columns)}, count(*) AS n,
                   min(src * 1099511627776 + k) AS first, arg_min(line, src * 1099511627776 + k)
            FROM ({self._union()})
            GROUP BY GROUPING SETS ({", ".join("(" + ", ".join(g) + ")" for g in sets)})
            """
        )
        counts: dict[int, int] = {}
        texts: dict[str, list[Any]] = {c: [] for c in ("date", "kind", "dose", "bsa_m2", "cycle")}
        texts["day"] = []
        texts["time"] = []
        # the patient ids, millions in a registry, are read a part at a time (the verdicts go
        # into t_patient through a connection of their own while this result streams)
        patients = _Patients(self.con)
        width = len(columns)
        first: list[tuple[int, str, int]] = []  # where each drug text is first written
        while rows := result.fetchmany(BATCH_ROWS):
            for g, *values, n, at, line in rows:
                used = [c for i, c in enumerate(columns) if not g >> (width - 1 - i) & 1]
                value = dict(zip(columns, values, strict=True))
                if used == ["src"]:
                    counts[value["src"]] = n
                elif used == ["drug", "unit"]:
                    texts["kind"].append((value["drug"], value["unit"]))
                elif used == ["drug"]:
                    first.append((at, value["drug"], line))
                elif used == ["patient"]:
                    patients.add(value["patient"])
                else:
                    texts[used[0]].append(value[used[0]])
        patients.close()
        self._written = {}
        for at, text, line in sorted(first):
            if text.strip():
                source = self.sources[at >> 40]
                self._written.setdefault(text.strip(), (source.name, line))
        return counts, texts

    def _rows(self) -> None:
        """Table ``rows``: every row, typed; ``ok`` says whether the reader takes it."""
        with_patient = self.patient_column
        given = {c for s in self.sources for c in s.columns}

        def optional(column: str, table: str, alias: str) -> tuple[str, str, str]:
            """(value, ok, join) of an optional column resolved by a t_* table."""
            if column not in given:
                return "NULL", "true", ""
            return (
                f"{alias}.v",
                f"{alias}.ok",
                f"LEFT JOIN {table} {alias} ON {alias}.t = r.{_ident(column)}",
            )

        bsa, cycle, day, tm = (
            optional(c, t, a)
            for c, t, a in (
                ("bsa_m2", "t_bsa", "tb"),
                ("cycle", "t_cycle", "tc"),
                ("day", "t_day", "tdy"),
                ("time", "t_time", "tt"),
            )
        )
        ident = (
            "nullif(pystrip(unesc(r.id)), '')",
            f"length(pystrip(unesc(r.id))) <= {hist.MAX_ID_CHARS} AND NOT spacedq(unesc(r.id))",
        )
        if "id" not in given:
            ident = ("NULL", "true")
        # the regimen's text is not used by a total, but read by the reader's rule all the same
        regimen = "NOT spacedq(unesc(r.regimen))" if "regimen" in given else "true"
        # a patient id is read by the reader's own rule (records.patient_id), once per text
        pat = ("tp.v", "tp.ok AND tp.v IS NOT NULL") if with_patient else ("''", "true")
        pat_join = "LEFT JOIN t_patient tp ON tp.t = r.patient" if with_patient else ""
        small = sum(s.rows for s in self.sources) <= IN_MEMORY_ROWS
        self.con.execute(
            f"""
            CREATE OR REPLACE {"TEMP TABLE" if small else "TABLE"} rows AS
            SELECT r.src, r.line, r.src * 1099511627776 + r.k AS ord,
                   {pat[0]} AS pat, td.d, tk.dc, tk.per_m2, tk.m2,
                   CASE WHEN tn.ok THEN tn.v * tk.factor END AS amount,
                   {bsa[0]} AS bsa, {cycle[0]} AS cycle, {day[0]} AS day, {tm[0]} AS tm,
                   {ident[0]} AS ident,
                   coalesce(td.ok AND tk.ok AND {bsa[1]} AND {cycle[1]} AND {day[1]} AND {tm[1]}
                            AND tn.ok AND tn.v * tk.factor >= {DOSE[0]!r}
                            AND tn.v * tk.factor <= {DOSE[1]!r}
                            AND {pat[1]} AND {ident[1]} AND {regimen}, false) AS ok
            FROM ({self._union()}) r
            LEFT JOIN t_date td ON td.t = r.date
            LEFT JOIN t_dose tn ON tn.t = r.dose
            LEFT JOIN t_kind tk ON tk.drug_t = r.drug AND tk.unit_t = r.unit
            {bsa[2]} {cycle[2]} {day[2]} {tm[2]} {pat_join}
            """
        )
        counts = dict(
            self.con.execute("SELECT src, count(*) FROM rows WHERE NOT ok GROUP BY src").fetchall()
        )
        bad = [i for i, s in enumerate(self.sources) if counts.get(i) or s.refused_count]
        if bad:  # every bad file's rows, in one error (as the reader refuses them: hist.load)
            raise together([self._refusal(i, counts.get(i, 0)) for i in bad])

    def _refusal(self, src: int, count: int) -> FileError:
        """Every bad row of a source, as the reader refuses a file (history.refuse): the first
        MAX_PROBLEMS in line order, then how many more and the line of the last."""
        source = self.sources[src]
        names = ("src", "k", "line", *TEXT_COLUMNS)

        def refused(order: str, limit: int) -> list[Problem]:
            if not count:
                return []
            rows = self.con.execute(
                f"""
                SELECT raw.* FROM raw_{src} raw
                JOIN (SELECT ord - {src} * 1099511627776 AS k FROM rows
                      WHERE NOT ok AND src = {src} ORDER BY ord {order} LIMIT {limit}) b
                USING (k) ORDER BY k
                """
            ).fetchall()
            out = []
            for values in rows:
                raw = dict(zip(names, values, strict=True))
                why = row_problem(raw, source, self.patient_column, self.today)
                out.append(Problem(why, file=source.name, line=raw["line"]))
            return out

        first = sorted(refused("ASC", MAX_PROBLEMS) + source.refused, key=lambda p: p.line or 0)[
            :MAX_PROBLEMS
        ]
        lasts = refused("DESC", 1) + [p for p in (source.refused_last,) if p is not None]
        last = max(lasts, key=lambda p: p.line or 0)
        return hist.refuse_first(first, count + source.refused_count, last)


def row_problem(raw: dict[str, Any], source: Source, with_patient: bool, today: date) -> str:
    """What the Python reader says about a row the engine refused (its checks, its order)."""
    try:
        hist.parse_fields(raw["date"], raw["drug"], raw["dose"], raw["unit"], raw["bsa_m2"], today)
        if with_patient and hist.text_cell(raw["patient"]) is None:
            return (
                "the patient is missing: in a history with a patient column, every row names "
                "its patient"
            )
        hist.parse_row(raw, source.where(raw["line"]), today)
    except ValueError as e:
        return str(e)
    # the engine joins the reader's verdicts on each text: a row only it refuses is a fault
    return f"this row could not be read ({', '.join(f'{k} {v!r}' for k, v in raw.items())})"


def _resolve(con: Any, texts: dict[str, list[Any]], today: date) -> list[str]:
    """The Python reader's verdict on each distinct text, as tables the rows join (t_*); the
    totals a check can have, in their order: the drugs by name, then the equivalent."""

    def day(t: str) -> date:
        text = hist.text_cell(t)
        if text is None:
            raise ValueError("the date is missing")
        when = hist.date_cell(text)
        if when > today:
            raise ValueError("in the future")
        return when

    def kind(pair: tuple[str, str]) -> tuple[str, float, bool]:
        drug_t, unit_t = (hist.text_cell(x) for x in pair)
        if drug_t is None or unit_t is None:
            raise ValueError("missing")
        drug, factor, per_m2, _ = hist.drug_and_unit(drug_t, unit_t)
        return drug, factor, per_m2

    duck_table(
        con,
        "t_date",
        "t VARCHAR, ok BOOLEAN, d DATE",
        [(t, *_verdict(day, t)) for t in texts["date"]],
    )
    kinds = [(pair, *_verdict(kind, pair)) for pair in texts["kind"]]
    names = sorted({v[0] for _, ok, v in kinds if ok}) + [EQUIVALENT]
    code = {name: i for i, name in enumerate(names)}
    book = ceilings.book()
    duck_table(
        con,
        "t_kind",
        "drug_t VARCHAR, unit_t VARCHAR, ok BOOLEAN, canonical VARCHAR, factor DOUBLE, "
        "per_m2 BOOLEAN, dc INTEGER, m2 BOOLEAN",
        [
            (
                *pair,
                ok,
                *(v or (None, None, None)),
                code[v[0]] if ok else None,
                cumulative.tracking_unit(v[0], book).endswith("/m2") if ok else None,
            )
            for pair, ok, v in kinds
        ],
    )

    def bsa(t: str) -> float | None:
        return None if t == "" else hist.bsa_cell(t.strip())

    def number(fn: Any) -> Any:
        return lambda t: fn(t) or None

    def dose(t: str) -> float:
        amount = hist.dose_number(t)  # the reader's, for the dose column (its text as written)
        if not amount > 0:
            raise ValueError("not above zero")
        return amount

    simple = {
        "t_dose": ("dose", dose, "DOUBLE"),
        "t_bsa": ("bsa_m2", bsa, "DOUBLE"),
        "t_cycle": ("cycle", number(lambda t: hist.int_cell(t, "cycle", 1)), "INTEGER"),
        "t_day": ("day", number(lambda t: hist.int_cell(t, "day", -366)), "INTEGER"),
        "t_time": ("time", lambda t: records.minutes(hist.time_cell(t)) or None, "INTEGER"),
    }
    for name, (key, fn, typ) in simple.items():
        duck_table(
            con,
            name,
            f"t VARCHAR, ok BOOLEAN, v {typ}",
            [(t, *_verdict(fn, t)) for t in texts[key]],
        )
    return names


def _verdict(fn: Any, text: Any) -> tuple[bool, Any]:
    """(True, what the reader makes of ``text``) or (False, None) where it refuses it."""
    try:
        return True, fn(text)
    except ValueError:
        return False, None


class _Patients:
    """Table t_patient: each distinct patient id text with the reader's verdict (as
    records.patient_id reads it, once per text), written BATCH_ROWS texts at a time."""

    def __init__(self, con: Any) -> None:
        self.con = con.cursor()  # its own connection: the texts stream from the other
        self.con.execute("CREATE OR REPLACE TABLE t_patient (t VARCHAR, ok BOOLEAN, v VARCHAR)")
        self.texts: list[str] = []

    def add(self, text: str) -> None:
        self.texts.append(text)
        if len(self.texts) >= BATCH_ROWS:
            self._write()

    def _write(self) -> None:
        rows = [(t, *_verdict(lambda x: hist.patient_cell(unescape(x)), t)) for t in self.texts]
        if rows:
            columns = [list(c) for c in zip(*rows, strict=True)]
            self.con.execute(
                "INSERT INTO t_patient SELECT unnest($1), unnest($2), unnest($3)", columns
            )
        self.texts = []

    def close(self) -> None:
        self._write()
        self.con.close()


def _warm() -> None:
    """Load what reading the distinct texts needs: the drug book, pint's units, the ceilings."""
    hist.drug_and_unit("cisplatin", "mg/m2")
    ceilings.book()


# a quote beside a space or tab: Python's csv module and the engine's reader read ' "B"' and
# '"B" ,' differently (the text ' "B"' and a refusal, where the engine reads B): such a file is
# read by Python's csv module, the reference's reader
SPACED_QUOTES = (b' "', b'" ', b'\t"', b'"\t')


def _lines(path: Path | None) -> int:
    """Lines of a file as Python's csv module counts them (``\\n``, ``\\r\\n`` or ``\\r``
    ends a line), up to its last text (line ends after it close no row)."""
    assert path is not None
    ends = 0
    prev_cr = False
    last = b""
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            ends += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if prev_cr and block.startswith(b"\n"):
                ends -= 1
            prev_cr = block.endswith(b"\r")
            seam = last + block[:1]
            if any(q in block or q == seam for q in SPACED_QUOTES):
                return -1  # read by Python's csv module, as the reference reads it
            last = block[-1:]
        tail, pos = b"", f.tell()
        while pos > 0:
            step = min(1 << 16, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            text = chunk.rstrip(b"\r\n")
            tail = chunk[len(text) :] + tail
            if text:
                break
            pos -= step
    ends -= tail.count(b"\n") + tail.count(b"\r") - tail.count(b"\r\n")
    return ends + 1


def _open(path: Path) -> Any:
    """A CSV history opened as text (no size limit: the engine spills to disk, Python's csv
    module streams)."""
    return hist.open_checked(
        path, 1 << 62, lambda p: p.open(encoding="utf-8-sig", errors="strict", newline="")
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- the ceilings, as tables


@dataclass(frozen=True)
class Settings:
    """What every patient of a check shares: the BSA given, risk factors, table and options."""

    bsa_m2: float | None  # the current BSA given on the command line (else each patient's)
    described: str  # how that BSA came about ("the current BSA 1.84 m² (given)")
    factors: RiskFactors
    table: str
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Exposures:
    """The reference's resolution of each distinct exposure's ceilings: its setup (the
    ceilings, levels, units and fixed warnings every patient of that exposure shares) and its
    levels as plain numbers for the running sums."""

    setups: dict[int, cumulative.Setup]  # eid → the reference's setup of that exposure
    levels: dict[tuple[int, int], list[tuple[int, float, bool]]]  # (eid, tc) → (lvl, bound, strict)
    shape: tuple[int, int]  # 1 + the largest exposure code, the number of totals


def number_exposures(
    pairs: list[tuple[Any, Any]], settings: Settings
) -> tuple[list[tuple[Any, Any, int]], list[tuple[int, list[int], float | None]]]:
    """Number the distinct exposures of the patients: the drugs a patient had (codes) and, when
    an age is given, the age at the first anthracycline-type dose (``fa``, its date), on which
    ceilings and surveillance levels depend (cumulative._with_first_exposure). From the
    distinct (codes, fa) pairs: each pair with its number, and (number, codes, age) of each."""
    f = settings.factors
    found: dict[tuple[tuple[int, ...], float | None], int] = {}
    rows = []
    for ekey, fa in pairs:
        age = None
        if f.age_years is not None and f.age_on is not None and fa is not None:
            when = fa if isinstance(fa, date) else date.fromisoformat(fa)
            age = round(f.age_at(when), 2)  # type: ignore[arg-type]
        eid = found.setdefault((tuple(ekey), age), len(found) + 1)
        rows.append((list(ekey), fa, eid))
    return rows, [(eid, list(key), age) for (key, age), eid in found.items()]


def _exposures(con: Any, settings: Settings) -> list[tuple[int, list[int], float | None]]:
    """Number the distinct exposures of table pinfo (its column eid)."""
    pairs = con.execute("SELECT DISTINCT ekey, fa FROM pinfo").fetchall()
    rows, keys = number_exposures(pairs, settings)
    duck_table(con, "pe", "ekey INTEGER[], fa DATE, eid INTEGER", rows)
    con.execute(
        "CREATE OR REPLACE TABLE pinfo AS SELECT p.* REPLACE (e.eid AS eid) FROM pinfo p "
        "JOIN pe e ON e.ekey = p.ekey AND e.fa IS NOT DISTINCT FROM p.fa ORDER BY p.pid"
    )
    return keys


def exposure_tables(
    con: Any, keys: list[tuple[int, list[int], float | None]], names: list[str], settings: Settings
) -> Exposures:
    """For each distinct exposure (the drugs a patient had, as codes into ``names``), the
    reference's resolution of its ceilings (cumulative.setup_for), and its numbers as small
    tables the queries join: levels (lv: bound, severity and code of each level of each total),
    equivalence factors (eqf) and each total's threshold and limit (tm). ``names`` are the
    totals in their order: drugs by name, then the equivalent. No text is made here: every
    message is the reference's, made from these numbers when the output is written."""
    book = ceilings.book()
    code = {name: i for i, name in enumerate(names)}
    lv, eqf, tm = [], [], []
    levels: dict[tuple[int, int], list[tuple[int, float, bool]]] = {}
    setups: dict[int, cumulative.Setup] = {}
    for eid, codes, age in keys:
        exposed = frozenset(names[c] for c in codes)
        factors = replace(settings.factors, first_exposure_age=age)
        setup = setups[eid] = cumulative.setup_for(
            book, factors, settings.table, settings.options, exposed
        )
        for name in sorted(exposed | ({EQUIVALENT} if setup.agents else set())):
            tc = code[name]
            c = setup.ceilings.get(name)
            tm.append((eid, tc, c.threshold if c else None, c.limit if c else None))
            for n, level in enumerate(setup.levels.get(name, ())):
                levels.setdefault((eid, tc), []).append((n, level.bound, bool(level.strict)))
                lv.append((eid, tc, n, level.bound, level.severity, level.code))
        if setup.agents:
            eqf += [(eid, code[d], f) for d, f in setup.eq.factors.items() if d in exposed]
    duck_table(
        con,
        "lv",
        "eid INTEGER, tc INTEGER, lvl INTEGER, bound DOUBLE, severity VARCHAR, code VARCHAR",
        lv,
    )
    duck_table(con, "eqf", "eid INTEGER, dc INTEGER, factor DOUBLE", eqf)
    duck_table(con, "tm", "eid INTEGER, tc INTEGER, threshold DOUBLE, lim DOUBLE", tm)
    return Exposures(setups, levels, (1 + max((e for e, _, _ in keys), default=0), len(names)))


def duck_table(con: Any, name: str, decl: str, rows: list[tuple[Any, ...]]) -> None:
    """A temporary table of Python rows."""
    _columns(con, name, decl, [list(c) for c in zip(*rows, strict=True)] if rows else [])


def _columns(con: Any, name: str, decl: str, columns: list[list[Any]]) -> None:
    """A temporary table of Python columns (lists of equal length)."""
    con.execute(f"CREATE OR REPLACE TABLE {name} ({decl})")
    if columns and columns[0]:
        unnest = ", ".join(f"unnest(${i + 1})" for i in range(len(columns)))
        con.execute(f"INSERT INTO {name} SELECT {unnest}", columns)


# ---------------------------------------------------------------- stage 1: rows → totals
# Input: table rows (every checked administration: patient, order, where, date, drug code dc,
# amount in mg or units, per m² or not, m2: whether the drug's total counts per m², BSA, …).

PINFO = """
CREATE OR REPLACE TABLE pinfo AS
WITH p AS (
    SELECT pat, min(ord) AS first_ord, list(DISTINCT dc ORDER BY dc) AS ekey,
           arg_max({{'bsa': bsa, 'd': d, 'src': src, 'line': line}}, {{'d': d, 'ord': ord}})
               FILTER (WHERE bsa IS NOT NULL) AS h,
           min(d) FILTER (WHERE dc IN ({anthracyclines})) AS fa
    FROM rows GROUP BY pat)
SELECT row_number() OVER (ORDER BY first_ord) AS pid, 0 AS eid,
       pat, first_ord, ekey, fa, h.bsa AS hbsa, h.d AS hbsa_d, h.src AS hbsa_src,
       h.line AS hbsa_line, coalesce({given}, h.bsa) AS pbsa
FROM p
"""

# rows whose amount must be converted with a BSA that no one gave
NO_BSA = """
SELECT p.pid, r.src, r.line, r.d, n.drug, r.amount, r.per_m2
FROM rows r JOIN pinfo p ON p.pat = r.pat JOIN names n ON n.dc = r.dc
WHERE r.per_m2 <> r.m2 AND r.bsa IS NULL AND p.pbsa IS NULL
ORDER BY p.pid, r.ord
"""

# the same administration twice: for each later row, the first earlier row of the same patient
# that carries the same id (sid: the administration's id in the source system, whatever the day,
# drug or amount), or of the same date and drug that no time or id tells apart and that is the
# same administration by cumulative.same_administration: amounts in the unit of the drug's
# total, each converted with its own BSA else the other row's, within REPEAT_TOLERANCE; neither
# row's BSA, as written (wm: each row's per-m² form), one form within the tolerance, a dose per
# m² and an absolute one when the BSA that makes them one dose is within BSA_M2 (two ledger
# records are not compared); the earliest row of the same id first, else the earliest row
# (cumulative.repeats: --again never counts a row of the same id)
REPEATS = """
WITH k AS (SELECT pat, d, dc FROM rows GROUP BY pat, d, dc HAVING count(*) > 1),
ik AS (SELECT pat, ident FROM rows WHERE ident IS NOT NULL GROUP BY pat, ident
       HAVING count(*) > 1),
dup AS (SELECT r.* FROM rows r SEMI JOIN k ON k.pat = r.pat AND k.d = r.d AND k.dc = r.dc),
idup AS (SELECT r.* FROM rows r SEMI JOIN ik ON ik.pat = r.pat AND ik.ident = r.ident),
cand AS (
    SELECT b.ord AS bo, a.ord AS ao, false AS sid
    FROM dup b JOIN dup a ON a.pat = b.pat AND a.d = b.d AND a.dc = b.dc AND a.ord < b.ord
    WHERE NOT (a.tm IS NOT NULL AND b.tm IS NOT NULL AND a.tm <> b.tm)
      AND NOT (a.ident IS NOT NULL AND b.ident IS NOT NULL AND a.ident <> b.ident)
    UNION ALL
    SELECT b.ord, a.ord, true
    FROM idup b JOIN idup a ON a.pat = b.pat AND a.ident = b.ident AND a.ord < b.ord),
sel AS (SELECT * FROM dup UNION SELECT * FROM idup),
pairs AS (
    SELECT p.pid, b.ord AS i_ord, a.ord AS j_ord, b.src AS i_src, b.line AS i_line,
           a.src AS j_src, a.line AS j_line, b.d, n.drug, c.sid, b.ident, a.d AS j_d,
           na.drug AS j_drug,
           coalesce(a.bsa, b.bsa) IS NULL AND NOT (a.per_m2 = a.m2 AND b.per_m2 = b.m2) AS asis,
           CASE WHEN asis OR a.per_m2 = a.m2 THEN a.amount
                WHEN a.m2 THEN a.amount / coalesce(a.bsa, b.bsa)
                ELSE a.amount * coalesce(a.bsa, b.bsa) END AS av,
           CASE WHEN asis OR b.per_m2 = b.m2 THEN b.amount
                WHEN b.m2 THEN b.amount / coalesce(b.bsa, a.bsa)
                ELSE b.amount * coalesce(b.bsa, a.bsa) END AS bv,
           a.per_m2 AS a_m2, b.per_m2 AS b_m2
    FROM cand c
    JOIN sel b ON b.ord = c.bo
    JOIN sel a ON a.ord = c.ao
    JOIN pinfo p ON p.pat = b.pat
    JOIN names n ON n.dc = b.dc
    JOIN names na ON na.dc = a.dc
    JOIN srcs sa ON sa.src = a.src
    JOIN srcs sb ON sb.src = b.src
    WHERE NOT (sa.ledger AND sb.ledger)),
found AS (
    SELECT *, row_number() OVER (PARTITION BY pid, i_ord ORDER BY sid DESC, j_ord) AS k
    FROM pairs
    WHERE sid OR CASE WHEN asis AND a_m2 <> b_m2
               THEN (CASE WHEN a_m2 THEN bv / av ELSE av / bv END) BETWEEN {bsa_low} AND {bsa_high}
               ELSE abs(av - bv) <= {tolerance} * greatest(av, bv) END)
SELECT pid, i_ord, j_ord, i_src, i_line, j_src, j_line, d, drug, av, bv,
       CASE WHEN asis THEN [a_m2, b_m2] END AS wm,
       CASE WHEN sid THEN [ident, j_drug, CAST(j_d AS VARCHAR)] END AS same_id
FROM found WHERE k = 1
"""

# each administration's contribution to each total (tc: the total's code, in output order),
# in the unit the total is kept in, sorted as the totals add them
CONTRIBUTIONS = """
CREATE OR REPLACE {kind} contrib AS
SELECT p.pid, p.eid, r.dc, r.d, r.ord,
       CASE WHEN r.per_m2 = r.m2 THEN r.amount
            WHEN r.m2 THEN r.amount / coalesce(r.bsa, p.pbsa)
            ELSE r.amount * coalesce(r.bsa, p.pbsa) END AS amt
FROM rows r JOIN pinfo p ON p.pat = r.pat
"""
# a part of the patients (pid lo to hi): a range, which the engine finds without reading the
# others where the rows come patient by patient (as exports do)
STREAMS = """
SELECT pid, eid, dc AS tc, ord, amt FROM (
    SELECT pid, eid, dc, d, ord, amt FROM contrib WHERE pid BETWEEN {lo} AND {hi}
    UNION ALL
    SELECT c.pid, c.eid, {eq}, c.d, c.ord, c.amt * e.factor
    FROM contrib c JOIN eqf e ON e.eid = c.eid AND e.dc = c.dc
    WHERE c.pid BETWEEN {lo} AND {hi})
ORDER BY pid, dc, d, ord
"""
PART_ROWS = 1_500_000  # rows of the patients whose running sums are made at a time


# rows converted with the patient's BSA for want of their own (BSA_ASSUMED), per drug
ASSUMED = """
CREATE OR REPLACE TABLE ba AS
WITH a AS (
    SELECT p.pid, r.dc, count(*) AS n, min(r.ord) AS first_ord
    FROM rows r JOIN pinfo p ON p.pat = r.pat
    WHERE r.per_m2 <> r.m2 AND r.bsa IS NULL
    GROUP BY p.pid, r.dc)
SELECT a.pid, n.drug, a.n, a.first_ord, r.src, r.line
FROM rows r JOIN a ON a.first_ord = r.ord JOIN names n ON n.dc = a.dc
"""


def _exact(con: Any, exposures: Exposures, rows: int, eq: int) -> None:
    """Lifetime totals (table tot) and first crossings (table cx) from each administration's
    contribution to each total (STREAMS), a part of the patients at a time.

    A float sum depends on the order of its additions; the reference adds each total's amounts
    one by one in date order. DuckDB's window sums add in another order (a segment tree), and
    its ordered aggregates sort each group anew, so the running sums are made here: numpy's
    cumsum is the same sequential addition, done for many streams at once (each a row of a
    matrix, padded with zeros after its end, streams of similar length together)."""
    import numpy as np

    con.execute("CREATE OR REPLACE TABLE tot (pid BIGINT, eid BIGINT, tc BIGINT, value DOUBLE)")
    con.execute("CREATE OR REPLACE TABLE cx0 (ord BIGINT, lvl BIGINT, total DOUBLE, tc BIGINT)")

    def store(table: str, names: tuple[str, ...], parts: list[Any]) -> None:
        """A part's arrays into a table of the engine (Python keeps none of them)."""
        if parts:
            con.register("part_np", {n: np.concatenate([p[i] for p in parts])
                                     for i, n in enumerate(names)})  # fmt: skip
            con.execute(f"INSERT INTO {table} SELECT {', '.join(names)} FROM part_np")
            con.unregister("part_np")

    # levels as arrays indexed [eid, tc, slot]: bound (inf: none) and strict
    eids, tcs = exposures.shape
    slots = max((len(v) for v in exposures.levels.values()), default=0)
    bound = np.full((eids, tcs, max(slots, 1)), np.inf)
    strict = np.zeros((eids, tcs, max(slots, 1)), dtype=bool)
    for (e, t), lvls in exposures.levels.items():
        for j, (_, b, s) in enumerate(lvls):
            bound[e, t, j], strict[e, t, j] = b, s
    con.execute(CONTRIBUTIONS.format(kind="TEMP TABLE" if rows <= IN_MEMORY_ROWS else "TABLE"))
    # parts of consecutive patients of about PART_ROWS rows each
    counts = con.execute(
        "SELECT pid, count(*) AS n FROM contrib GROUP BY pid ORDER BY pid"
    ).fetchnumpy()
    ends = np.cumsum(np.asarray(counts["n"], dtype=np.int64))
    pids = np.asarray(counts["pid"], dtype=np.int64)
    cuts = np.searchsorted(ends, np.arange(PART_ROWS, int(ends[-1]) if len(ends) else 0, PART_ROWS))
    bounds = [int(pids[i]) for i in np.unique(cuts)] + ([int(pids[-1])] if len(pids) else [])
    lows = [0, *[b + 1 for b in bounds[:-1]]][: len(bounds)]  # no patient, no part
    for lo, hi in zip(lows, bounds, strict=True):
        a = con.execute(STREAMS.format(lo=lo, hi=hi, eq=eq)).fetchnumpy()
        gi, pid, eid, tc = (np.asarray(a[k], dtype=np.int64) for k in ("ord", "pid", "eid", "tc"))
        amt = np.asarray(a["amt"], dtype=np.float64)
        if len(gi) == 0:
            continue
        cx: list[Any] = []  # arrays of gi, level slot, running total, total code
        new = np.ones(len(gi), dtype=bool)
        new[1:] = (pid[1:] != pid[:-1]) | (tc[1:] != tc[:-1])
        starts = np.flatnonzero(new)
        lengths = np.diff(np.append(starts, len(gi)))
        sums = np.empty_like(amt)
        # streams of similar length (within a factor of two) share a matrix
        width = (2 ** np.ceil(np.log2(lengths))).astype(np.int64)
        for w in np.unique(width):
            seg = np.flatnonzero(width == w)
            lens = lengths[seg]
            rows = np.repeat(np.arange(len(seg)), lens)
            offset = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
            where = np.repeat(starts[seg], lens) + offset
            m = np.zeros((len(seg), int(w)))
            m[rows, offset] = amt[where]
            c = np.cumsum(m, axis=1)  # sequential, row by row: the reference's additions
            sums[where] = c[rows, offset]
            s_eid, s_tc = eid[starts[seg]], tc[starts[seg]]
            for j in range(slots):
                b = bound[s_eid, s_tc, j]
                hit = np.where(strict[s_eid, s_tc, j][:, None], c > b[:, None], c >= b[:, None])
                crossed = np.flatnonzero(hit[np.arange(len(seg)), lens - 1])
                at = starts[seg[crossed]] + hit[crossed].argmax(axis=1)
                cx.append((gi[at], np.full(len(at), j), sums[at], tc[at]))
        last = starts + lengths - 1
        store("tot", ("pid", "eid", "tc", "value"), [(pid[last], eid[last], tc[last], sums[last])])
        store("cx0", ("ord", "lvl", "total", "tc"), cx)
    con.execute(
        """
        CREATE OR REPLACE TABLE cx AS
        SELECT p.pid, p.eid, c.tc, c.lvl, r.d, r.ord, r.src,
               r.line, r.cycle, r.day, c.total AS tot_at
        FROM rows r JOIN cx0 c ON c.ord = r.ord JOIN pinfo p ON p.pat = r.pat
        ORDER BY p.pid
        """
    )
    con.execute("DROP TABLE contrib")


# ---------------------------------------------------------------- stage 2: the output
# The engine hands back numbers: each patient's totals, first crossings, rows converted with the
# patient's BSA. Each patient's check is then made by the reference's own functions (the same
# Total, Alert and PatientCheck, the same words), a chunk of patients at a time.

CHUNK = 5_000  # patients per query (bounds the memory of the output)
NUMBERS_CHUNK = 50_000  # patients per query of their numbers only (a few rows each)

# patients with a total at or over its threshold (or over its limit), for --patients-over
OVER = {
    "threshold": ("CUMULATIVE_THRESHOLD_REACHED", "CUMULATIVE_LIMIT_EXCEEDED"),
    "limit": ("CUMULATIVE_LIMIT_EXCEEDED",),
}

HEADS = """
SELECT p.pid, p.pat, p.eid, p.pbsa, p.hbsa, p.hbsa_d, p.hbsa_src, p.hbsa_line
FROM pinfo p WHERE p.pid BETWEEN $lo AND $hi {selected} ORDER BY p.pid
"""
TOTALS = """
SELECT p.pid, t.tc, t.value FROM tot t JOIN pinfo p ON p.pid = t.pid
WHERE t.pid BETWEEN $lo AND $hi AND p.pid BETWEEN $lo AND $hi {selected} ORDER BY p.pid, t.tc
"""
# in the reference's order of its warnings: by date, row, own total before the equivalent, level
CROSSINGS = """
SELECT p.pid, c.tc, c.lvl, c.d, c.src, c.line, c.cycle, c.day, c.tot_at
FROM cx c JOIN pinfo p ON p.pid = c.pid
WHERE c.pid BETWEEN $lo AND $hi AND p.pid BETWEEN $lo AND $hi {selected}
ORDER BY p.pid, c.d, c.ord, c.tc = $eq, c.lvl
"""
LEAN_HEADS = """
SELECT p.pid, p.pat, p.eid, p.pbsa
FROM pinfo p WHERE p.pid BETWEEN $lo AND $hi {selected} ORDER BY p.pid
"""
LEAN_CROSSINGS = """
SELECT c.pid, c.tc, c.lvl, c.d FROM cx c JOIN pinfo p ON p.pid = c.pid
WHERE c.pid BETWEEN $lo AND $hi AND p.pid BETWEEN $lo AND $hi {selected}
ORDER BY c.pid, c.d, c.ord, c.tc = $eq, c.lvl
"""
CONVERTED = """
SELECT p.pid, b.drug, b.n, b.src, b.line FROM ba b JOIN pinfo p ON p.pid = b.pid
WHERE p.pid BETWEEN $lo AND $hi {selected} ORDER BY p.pid, b.first_ord
"""


# The CSV of totals written by the engine from the numbers (Checked.totals_csv): every text
# cell is made in Python by the output's own functions (tables cs, ck, pc); the engine writes the
# numbers, its text of a double being Python's repr (tests/test_batch.py holds it to it) and
# printf's %.1f Python's round(x, 1) below 1e15 (above, Python's own: tenths_py)
TOTALS_CSV = """
WITH x AS (
    SELECT c.pid, k.drug, k.kind, min(c.d) AS d
    FROM cx c JOIN ck k ON k.eid = c.eid AND k.tc = c.tc AND k.lvl = c.lvl
    WHERE c.pid BETWEEN $lo AND $hi GROUP BY ALL),
r AS (
    SELECT t.pid, t.tc,
           {patient} || ',' || s.drug || ',' || s.unit || ',' || CAST(t.value AS VARCHAR)
           || ',' || s.thr || ',' || s.lim
           || ',' || CASE WHEN s.thr_v IS NULL THEN '' ELSE tenths(100 * t.value / s.thr_v) END
           || ',' || CASE WHEN s.lim_v IS NULL THEN '' ELSE tenths(100 * t.value / s.lim_v) END
           || ',' || coalesce(CAST(xt.d AS VARCHAR), '') || ',' || coalesce(CAST(xl.d AS VARCHAR), '')
           || ',' || coalesce(CAST(p.pbsa AS VARCHAR), '') || chr(10) AS line
    FROM tot t JOIN pinfo p ON p.pid = t.pid
    LEFT JOIN cs s ON s.eid = t.eid AND s.tc = t.tc
    LEFT JOIN pc ON pc.pat = p.pat
    LEFT JOIN x xt ON xt.pid = t.pid AND xt.drug = s.drug AND xt.kind = 'threshold'
    LEFT JOIN x xl ON xl.pid = t.pid AND xl.drug = s.drug AND xl.kind = 'limit'
    WHERE t.pid BETWEEN $lo AND $hi AND p.pid BETWEEN $lo AND $hi)
SELECT count(*), count(line), coalesce(string_agg(line, '' ORDER BY pid, tc), '') FROM r
"""
TENTHS = "CREATE OR REPLACE MACRO tenths(x) AS "
TENTHS += "CASE WHEN x < 1e15 THEN printf('%.1f', x) ELSE tenths_py(x) END"
# a patient id whose cell the output's function may change (a formula's quote, CSV quotes):
# these go through it; any other is written as it is
MAY_CHANGE = "[=+\\-@\\t\\r\\n,\"']"


def _by_patient(rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    out: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out


@dataclass
class Checked:
    """The checks of every patient, in the engine, ready to be written out in patient order."""

    batch: Batch
    settings: Settings
    patients: int
    equivalent: int  # the code of the doxorubicin-equivalent total
    setups: dict[int, cumulative.Setup]  # each exposure's (eid) setup, as the reference made it
    notes: dict[int, list[Alert]]  # each patient's (pid) notes: repeats counted, high doses

    def _select(self, over: str | None) -> str:
        if over is None:
            return ""
        codes = ", ".join(_literal(c) for c in OVER[over])
        self.batch.con.execute(
            "CREATE OR REPLACE TABLE sel AS SELECT DISTINCT c.pid FROM cx c "
            "JOIN lv l ON l.eid = c.eid AND l.tc = c.tc AND l.lvl = c.lvl "
            f"WHERE l.code IN ({codes})"
        )
        return "AND p.pid IN (SELECT pid FROM sel)"

    def ids_alike(self) -> list[Alert]:
        """PATIENT_IDS_ALIKE when patient ids differ only in case or leading zeros (the engine finds the
        candidates; cumulative.ids_alike decides and words it, as for the reference)."""
        import duckdb

        con = self.batch.con
        try:
            con.remove_function("alike_key")
        except Exception:  # not made yet
            pass
        con.create_function(
            "alike_key", cumulative.alike_key, [duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR, side_effects=False,
        )  # fmt: skip
        # alike_key's own rules in SQL for ASCII ids (digits without their leading zeros, lower());
        # any other goes through Python's (its final sigma)
        candidates = con.execute(
            """
            WITH k AS MATERIALIZED (
                SELECT pid, pat,
                       CASE WHEN regexp_matches(pat, '^[0-9]+$')
                                 THEN coalesce(nullif(ltrim(pat, '0'), ''), '0')
                            WHEN regexp_matches(pat, '^[[:ascii:]]*$') THEN lower(pat)
                            ELSE alike_key(pat) END AS k FROM pinfo)
            SELECT pat FROM k WHERE k IN (SELECT k FROM k GROUP BY k HAVING count(*) > 1)
            ORDER BY pid
            """
        ).fetchall()
        return cumulative.ids_alike(p for (p,) in candidates)

    def noted(self, code: str) -> int:
        """How many patients have a note (HISTORY_DOSE_HIGH, REPEAT_COUNTED) of ``code``."""
        return sum(any(a.code == code for a in alerts) for alerts in self.notes.values())

    def _parts(
        self, over: str | None, size: int, heads: str, *queries: str
    ) -> Iterator[tuple[list[Any], list[dict[int, list[Any]]]]]:
        """The patients (``over``: those at or over a threshold, or over a limit) ``size`` at a
        time, in patient order: each part's rows of ``heads``, and of each of ``queries`` its
        rows by patient."""
        selected = self._select(over)

        def rows(query: str, bounds: dict[str, int]) -> list[Any]:
            params = bounds | ({"eq": self.equivalent} if "$eq" in query else {})
            return self.batch.con.execute(query.format(selected=selected), params).fetchall()

        for lo in range(1, self.patients + 1, size):
            bounds = {"lo": lo, "hi": lo + size - 1}
            yield rows(heads, bounds), [_by_patient(rows(q, bounds)) for q in queries]

    def checks(self, over: str | None = None) -> Iterator[PatientCheck]:
        """Each patient's check (``over``: of the patients at or over a threshold, or over a
        limit), in patient order, made from the engine's numbers by the reference's functions."""
        parts = self._parts(over, CHUNK, HEADS, TOTALS, CROSSINGS, CONVERTED)
        for heads, (totals, crossed, converted) in parts:
            for head in heads:
                pid = head[0]
                yield self._check(
                    head, totals.get(pid, ()), crossed.get(pid, ()), converted.get(pid, ())
                )

    def numbers(self, over: str | None = None) -> Iterator[Numbers]:
        """Each patient's numbers (``over``: of the patients at or over a threshold, or over a
        limit), in patient order: the totals and the first crossings the engine computed, and
        whether the check the reference's functions make of them is critical (for what prints
        numbers only: a CSV of totals)."""
        names, named = self.batch.totals, self.batch.patient_column
        critical_setup = {
            eid: any(a.severity == CRITICAL for a in s.alerts) for eid, s in self.setups.items()
        }
        critical_notes = {
            pid: any(a.severity == CRITICAL for a in alerts) for pid, alerts in self.notes.items()
        }
        parts = self._parts(over, NUMBERS_CHUNK, LEAN_HEADS, TOTALS, LEAN_CROSSINGS)
        for heads, (totals, crossed) in parts:
            for pid, pat, eid, pbsa in heads:
                setup = self.setups[eid]
                crossings = [(names[tc], lvl, d) for _, tc, lvl, d in crossed.get(pid, ())]
                critical = (
                    critical_setup[eid]
                    or critical_notes.get(pid, False)
                    or any(setup.levels[n][lvl].severity == CRITICAL for n, lvl, _ in crossings)
                )
                yield Numbers(
                    pat if named else None,
                    pbsa,
                    setup,
                    [(names[tc], value) for _, tc, value in totals.get(pid, ())],
                    crossings,
                    critical,
                )

    def totals_csv(
        self, shape: Any, crossing: Any, patient: Any, tenths: Any
    ) -> Iterator[tuple[str, int]]:
        """The CSV rows of every patient's totals (Numbers as :func:`summary.numbers_rows`
        writes them), as text the engine writes, NUMBERS_CHUNK patients at a time: (text,
        patients it accounts for). The text cells come from Python: ``shape(setup, total)`` →
        (drug, unit, threshold, limit as written; threshold and limit as numbers, None where
        no percentage of it is shown), ``crossing(setup, total, lvl)`` → (drug, 'threshold' or
        'limit') or None, ``patient(id)`` → the id as written, ``tenths(x)`` → round(x, 1) as
        written (for the rare x the engine's printf does not write as Python does)."""
        import duckdb

        con, names = self.batch.con, self.batch.totals
        pairs = con.execute("SELECT DISTINCT eid, tc FROM tot").fetchall()
        duck_table(
            con,
            "cs",
            "eid INTEGER, tc INTEGER, drug VARCHAR, unit VARCHAR, thr VARCHAR, lim VARCHAR, "
            "thr_v DOUBLE, lim_v DOUBLE",
            [(e, t, *shape(self.setups[e], names[t])) for e, t in pairs],
        )
        levels = con.execute("SELECT eid, tc, lvl FROM lv").fetchall()
        keys = [(e, t, lvl, crossing(self.setups[e], names[t], lvl)) for e, t, lvl in levels]
        duck_table(
            con,
            "ck",
            "eid INTEGER, tc INTEGER, lvl INTEGER, drug VARCHAR, kind VARCHAR",
            [(e, t, lvl, *key) for e, t, lvl, key in keys if key is not None],
        )
        named = self.batch.patient_column
        odd = con.execute(
            f"SELECT DISTINCT pat FROM pinfo WHERE regexp_matches(pat, {_literal(MAY_CHANGE)})"
        ).fetchall()
        duck_table(con, "pc", "pat VARCHAR, shown VARCHAR", [(p, patient(p)) for (p,) in odd])
        try:
            con.remove_function("tenths_py")
        except Exception:  # not made yet
            pass
        con.create_function(
            "tenths_py", tenths, [duckdb.sqltypes.DOUBLE], duckdb.sqltypes.VARCHAR,
            side_effects=False,
        )  # fmt: skip
        con.execute(TENTHS)
        who = "coalesce(pc.shown, p.pat)" if named else "''"
        query = TOTALS_CSV.format(patient=who)
        for lo in range(1, self.patients + 1, NUMBERS_CHUNK):
            hi = min(lo + NUMBERS_CHUNK - 1, self.patients)
            rows, lines, text = con.execute(query, {"lo": lo, "hi": hi}).fetchone()
            if rows != lines:  # a total without its row: never written short
                raise RuntimeError(f"{rows - lines} totals of patients {lo}-{hi} have no row")
            yield text, hi - lo + 1

    @property
    def any_critical(self) -> bool:
        """Whether any patient's check is critical: a crossing, a warning of the ceilings in
        force for the patient's exposure, or a note (as Numbers.critical, for all of them)."""
        used = {e for (e,) in self.batch.con.execute("SELECT DISTINCT eid FROM pinfo").fetchall()}
        return (
            self.critical
            or any(a.severity == CRITICAL for e in used for a in self.setups[e].alerts)
            or any(a.severity == CRITICAL for alerts in self.notes.values() for a in alerts)
        )

    def _check(
        self, head: tuple[Any, ...], totals: Any, crossed: Any, converted: Any
    ) -> PatientCheck:
        """One patient's check, as the reference's check_history makes it (check._check)."""
        pid, pat, eid, pbsa, hbsa, hbsa_d, hbsa_src, hbsa_line = head
        sources, names, given = self.batch.sources, self.batch.totals, self.settings.bsa_m2
        setup = self.setups[eid]
        if given is not None:
            described = self.settings.described
        elif hbsa is not None:
            described = chk.history_bsa(hbsa, hbsa_d, sources[hbsa_src].where(hbsa_line))
        else:
            described = ""
        alerts = [
            cumulative.bsa_assumed_alert(drug, n, sources[src].where(line), described)
            for _, drug, n, src, line in converted
        ]
        alerts += setup.alerts
        for _, tc, lvl, d, src, line, cycle, day, total in crossed:
            name = names[tc]
            event = cumulative.Event(
                name, 0.0, False, d, None, cycle, day, sources[src].where(line)
            )
            ceiling = setup.ceilings[name]
            alerts.append(
                cumulative.crossing_alert(event, ceiling.drug, setup.levels[name][lvl], total)
            )
        prior = {names[tc]: value for _, tc, value in totals}
        made = cumulative.totals_of(setup, prior, {})
        alerts += cumulative.age_not_given(setup, made)
        if given is None and hbsa is not None:
            alerts.append(chk.bsa_used(described))
        alerts += self.notes.get(pid, ())
        patient = pat if self.batch.patient_column else None
        return PatientCheck(patient, pbsa, made, alerts)

    def over_a_level(self) -> Iterator[tuple[Any, bool, int]]:
        """The patients over a threshold, for the summary of a check of many patients (as the
        reference's check gives them): (patient: its id and totals, critical, patients it
        accounts for); then (None, whether any patient is critical, the rest)."""
        done = 0
        for pid, name, totals, critical in self.audit(None):
            yield _Shown(name, totals), critical, pid - done
            done = pid
        yield None, self.critical, self.patients - done

    def audit(self, over: str | None = "threshold") -> Iterator[tuple[int, str, list[Any], bool]]:
        """Patients over a threshold (or a limit): their number (1 for the first), id, totals
        with a ceiling, and whether they are critical."""
        selected = self._select(over)
        rows = self.batch.con.execute(
            f"""
            SELECT p.pid, p.pat, p.eid, t.tc, t.value,
                   p.pid IN (SELECT c.pid FROM cx c JOIN lv l ON l.eid = c.eid AND l.tc = c.tc
                             AND l.lvl = c.lvl WHERE l.severity = 'critical') AS critical
            FROM tot t JOIN pinfo p ON p.pid = t.pid
            JOIN tm m ON m.eid = t.eid AND m.tc = t.tc
            WHERE (m.threshold IS NOT NULL OR m.lim IS NOT NULL) {selected}
            ORDER BY p.pid, t.tc
            """
        ).fetchall()
        names = self.batch.totals
        for pid, group in itertools.groupby(rows, key=lambda r: r[0]):
            group = list(group)
            _, pat, eid, _, _, critical = group[0]
            prior = {names[tc]: value for _, _, _, tc, value, _ in group}
            yield pid, pat, cumulative.totals_of(self.setups[eid], prior, {}), critical

    @property
    def critical(self) -> bool:
        return bool(
            self.batch.con.execute(
                "SELECT count(*) FROM cx c JOIN lv l ON l.eid = c.eid AND l.tc = c.tc "
                "AND l.lvl = c.lvl WHERE l.severity = 'critical'"
            ).fetchall()[0][0]
        )


@dataclass(frozen=True, slots=True)
class Numbers:
    """One patient's numbers, as the engine computed them: what a check of totals prints."""

    patient: str | None
    bsa_m2: float | None
    setup: cumulative.Setup  # the ceilings and levels in force for the patient's exposure
    totals: list[tuple[str, float]]  # (total, lifetime amount), in the reference's order
    crossings: list[tuple[str, int, date]]  # (total, level: its place in setup.levels, date)
    critical: bool  # whether the patient's check (its warnings) is critical


@dataclass(frozen=True)
class _Shown:
    """What a status line reads of a patient's check."""

    patient: str
    cumulative: list[Any]


def check(batch: Batch, settings: Settings, again: bool = False) -> Checked:
    """Stage 1: the refusals first (nothing is written before them), then the tables the
    output is assembled from (in the ledger's database for a PostgreSQL ledger)."""
    return batch.compute(settings, again)


def _compute(batch: Batch, settings: Settings, again: bool) -> Checked:
    """Stage 1 over ``rows``, in the engine."""
    con = batch.con
    given = "NULL" if settings.bsa_m2 is None else f"CAST({settings.bsa_m2!r} AS DOUBLE)"
    duck_table(
        con,
        "srcs",
        "src INTEGER, ledger BOOLEAN",
        [(i, s.kind == "ledger") for i, s in enumerate(batch.sources)],
    )
    duck_table(con, "names", "dc INTEGER, drug VARCHAR", list(enumerate(batch.totals)))
    anthracyclines = ceilings.book().anthracyclines()
    codes = [str(i) for i, name in enumerate(batch.totals) if name in anthracyclines] or ["-1"]
    con.execute(PINFO.format(given=given, anthracyclines=", ".join(codes)))
    # every refusal at once, in the reference's order: repeats, doses at ten times the usual
    # maximum, then rows without a BSA
    problems, notes = _repeats(batch, again)
    slips, high = _high_doses(batch)
    problems += slips + _missing_bsa(batch)
    if problems:
        raise FileError(*problems)
    notes += high
    noted: dict[int, list[Alert]] = {}
    for pid, alert in notes:
        noted.setdefault(pid, []).append(alert)
    keys = _exposures(con, settings)
    exposures = exposure_tables(con, keys, batch.totals, settings)
    equivalent = len(batch.totals) - 1
    con.execute(ASSUMED)
    patients = con.execute("SELECT count(*) FROM pinfo").fetchall()[0][0]
    _exact(con, exposures, sum(s.rows for s in batch.sources), equivalent)
    return Checked(batch, settings, patients, equivalent, exposures.setups, noted)


def _missing_bsa(batch: Batch) -> list[Problem]:
    """A row whose amount needs a BSA (mg of a drug counted per m², or the reverse) when neither
    the row nor the patient has one: the reference's message for each (up to MAX_PROBLEMS)."""
    rows = batch.con.execute(NO_BSA + f" LIMIT {MAX_PROBLEMS}").fetchall()
    if not rows:
        return []
    total = batch.con.execute(f"SELECT count(*) FROM ({NO_BSA})").fetchall()[0][0]
    from dosecalc.base.errors import DosecalcError
    from dosecalc.data import drugs

    book = ceilings.book()
    problems = []
    for _, src, line, d, drug, amount, per_m2 in rows:
        row = records.Row(
            d,
            drug,
            amount,
            drugs.book().drugs[drug].dose_unit,
            per_m2,
            None,
            where=batch.sources[src].where(line),
        )
        try:
            cumulative.from_rows([row], book, cumulative.BsaUse(None, ""))
        except DosecalcError as e:
            problems.append(e.problems[0])
    return capped(problems, total, "rows")


# rows that may be above their drug's usual maximum single dose: the value single_dose.excess
# compares (its conservative BSA or weight where the row has none), a little loose; each found
# row is then judged by the reference's own function
HIGH = """
SELECT p.pid, p.pat, r.src, r.line, n.drug, r.amount, r.per_m2, coalesce(r.bsa, p.pbsa), r.d
FROM rows r JOIN g ON g.dc = r.dc JOIN pinfo p ON p.pat = r.pat JOIN names n ON n.dc = r.dc
JOIN srcs s ON s.src = r.src
WHERE NOT s.ledger AND (CASE g.basis
    WHEN 'bsa' THEN CASE WHEN r.per_m2 THEN r.amount
                         ELSE r.amount / coalesce(r.bsa, p.pbsa, {bsa_high}) END
    WHEN 'flat' THEN CASE WHEN NOT r.per_m2 THEN r.amount
                          ELSE r.amount * coalesce(r.bsa, p.pbsa, {bsa_low}) END
    ELSE (CASE WHEN r.per_m2 THEN r.amount * coalesce(r.bsa, p.pbsa, {bsa_low})
               ELSE r.amount END) / {heaviest} END) > g.amount * 0.999999
ORDER BY p.pid, r.ord
"""


def _high_doses(batch: Batch) -> tuple[list[Problem], list[tuple[int, Alert]]]:
    """The rows above their usual maximum single dose: the problems that refuse the unit
    slips, and each patient's HISTORY_DOSE_HIGH notes (by patient), as the reference judges
    them."""
    from dosecalc.clinical import single_dose
    from dosecalc.clinical.patient import BSA_M2, WEIGHT_KG
    from dosecalc.data import drugs

    guards = []
    for dc, name in enumerate(batch.totals):
        found = single_dose.spec(name) if name in drugs.book().drugs else None
        if found is not None and found[2] == drugs.book().drugs[name].dose_unit:
            guards.append((dc, found[0], found[1]))
    if not guards:
        return [], []
    duck_table(batch.con, "g", "dc INTEGER, basis VARCHAR, amount DOUBLE", guards)
    query = HIGH.format(bsa_low=BSA_M2[0], bsa_high=BSA_M2[1], heaviest=WEIGHT_KG[1])
    pids: dict[str, int] = {}

    def found() -> Any:
        for pid, pat, src, line, drug, amount, per_m2, bsa, d in batch.con.execute(
            query
        ).fetchall():
            over = cumulative.row_excess(drug, amount, per_m2, bsa)
            if over is not None:
                pids[pat] = pid
                yield pat, drug, batch.sources[src].where(line), over, d

    problems, alerts = cumulative.judge_high_doses(found())
    return problems, [(pids[p], a) for p, a in alerts]


def _repeats(batch: Batch, again: bool) -> tuple[list[Problem], list[tuple[int, Alert]]]:
    """The problems that refuse a repeated administration, naming both rows; or (``again``)
    those of rows sharing an id in the source system, else the REPEAT_COUNTED note of each
    patient who has one (by patient)."""
    con = batch.con
    low, high = BSA_M2
    query = REPEATS.format(
        tolerance=repr(cumulative.REPEAT_TOLERANCE), bsa_low=repr(low), bsa_high=repr(high)
    )
    con.execute(f"CREATE OR REPLACE TABLE rp AS {query}")
    # --again counts a repeat again, never two rows of one id in the source system
    refused = "same_id IS NOT NULL" if again else "true"
    found = con.execute(f"SELECT count(*) FROM rp WHERE {refused}").fetchall()[0][0]
    where = batch.sources
    if found:
        first = con.execute(
            f"SELECT rp.*, p.pat FROM rp JOIN pinfo p USING (pid) WHERE {refused} "
            f"ORDER BY pid, i_ord LIMIT {cumulative.MAX_REPEATS_LISTED}"
        ).fetchall()
        problems = [
            Problem(
                cumulative.repeat_text(
                    where[i_src].where(i_line),
                    where[j_src].where(j_line),
                    pat if batch.patient_column else None,
                    drug,
                    d,
                    (av, bv, tuple(wm) if wm else None),
                    None if same is None else (same[0], same[1], date.fromisoformat(same[2])),
                )
            )
            for _, _, _, i_src, i_line, j_src, j_line, d, drug, av, bv, wm, same, pat in first
        ]
        if found > len(problems):
            problems.append(Problem(f"and {found - len(problems)} more repeated administrations"))
        return problems, []
    if not again:
        return [], []
    notes = []
    for pid, n, i_src, i_line, j_src, j_line, drug in con.execute(
        """
        SELECT pid, count(*) OVER (PARTITION BY pid), i_src, i_line, j_src, j_line, drug
        FROM rp WHERE same_id IS NULL
        QUALIFY row_number() OVER (PARTITION BY pid ORDER BY i_ord) = 1
        """
    ).fetchall():
        alert = cumulative.repeat_counted(
            n, where[i_src].where(i_line), where[j_src].where(j_line), drug
        )
        notes.append((pid, alert))
    return [], notes


def load(paths: Sequence[Path], today: date | None = None, jobs: int | None = None) -> Batch:
    """Every row of the history files (CSV, Parquet) checked in the engine (all-or-nothing)."""
    hist.refuse_same_file(list(paths))
    batch = Batch(today or clock.today(), jobs)
    try:
        for path in paths:
            batch.add_file(path)
        named = ["patient" in s.columns for s in batch.sources]
        batch.patient_column = any(named)
        if batch.patient_column and not all(named):
            raise FileError(
                Problem(
                    "this file has no patient column, but others name patients; give every "
                    "file a patient column (or none)",
                    file=batch.sources[named.index(False)].name,
                )
            )
        batch.check_rows()
    except BaseException:
        batch.close()
        raise
    return batch


def wanted(paths: Sequence[Path]) -> bool:
    """Whether the engine checks these histories: CSV files that all name patients in a column,
    or any Parquet file (YAML histories, and a CSV file without a patient column, are one
    patient's: the reference reads them)."""
    if not paths or any(p.suffix.lower() in (".yaml", ".yml") for p in paths):
        return False
    if any(p.suffix.lower() == ".parquet" for p in paths):
        return True
    for path in paths:
        try:
            with path.open(encoding="utf-8-sig", errors="strict", newline="") as f:
                header = next(csv.reader(f), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            return False  # the reference's reader says what is wrong with it
        if "patient" not in (c.strip() for c in header):
            return False
    return True


def settings(person: Any, factors: RiskFactors, table: str | None, rules: Any) -> Settings:
    """What every patient of a check shares, from the command line and the policy."""

    given, described = chk.bsa_of(person, ())
    if factors.age_on is None:  # the age given is the age today (as check._check says)
        factors = replace(factors, age_on=clock.today())
    return Settings(
        given,
        described,
        factors,
        table or rules["cumulative.equivalence"],
        tuple(sorted(rules["cumulative.options"].items())),
    )
