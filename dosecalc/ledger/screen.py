"""The walk of a PostgreSQL ledger's chain, as queries in the database (for the audit).

:class:`dosecalc.ledger.chain.Walk` is the definition: record by record in Python, every field
within its bound, every hash recomputed, every link, the numbering, what the voids point at,
every check record, every dose read as a history row. A million records take it a minute. The
screen asks the database the same questions at once, and is sound one way only: it passes a
ledger when each of the walk's checks holds, and anything it cannot answer for (a table not as
dosecalc made it, a database without sha256(), any record it flags) is walked instead, so the
words a pharmacist reads about a damaged ledger are always the walk's.

* **Fields and hashes.** Each field's bound (fields.SPECS) as a condition, and each record's
  hash recomputed: the compact JSON of its fields with sorted keys, as chain.digest writes it
  (PostgreSQL's row_to_json writes a string as its to_json does, which escapes exactly as
  Python's json module does with ensure_ascii=False: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``,
  other control characters as lower-case ``\\u00xx``; tests/test_ledger_screen.py holds the
  two to each other).
* **Links and numbering.** Each record's previous hash is the hash of the record numbered one
  before it, from #1 (whose previous hash is GENESIS); the head, count and witness are the
  ledger's own lookups (``Ledger._state``). Each patient's records (schema 3, chain.py): a
  record with links counts one more than theirs before it and names the last of them (0 for
  their first); one without links has no linked record of its patient before it; one link
  without the other is flagged (the hash's variants take the two together).
* **Meaning.** Each void points at an earlier dose of its patient, no dose is voided twice, no
  record is of another kind; check records are few and read by verifyrecord.problems_of; each
  distinct value of a dose's fields is read by the history reader itself (history.parse_row,
  one field or the drug, dose and unit together, varied on a row that reads), which is the
  whole of what reading a row checks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dosecalc.inputs import history as hist
from dosecalc.ledger import chain, fields

# a row the history reader takes; each distinct value of a dose's fields is tried in it
GOOD_ROW = {"date": "2000-01-01", "drug": "cisplatin", "dose": "1", "unit": "mg/m2"}

# the SQL type of each field as dosecalc creates it (fields._tables)
_INTEGER = "integer"


def _type(spec: fields.Spec) -> tuple[str, int | None]:
    if not spec.text:
        return _INTEGER, None
    if spec.multiline or spec.length > 1000:
        return "text", None
    return "character varying", spec.length


def _q(name: str) -> str:
    return '"' + name + '"'


def _sound_sql(present: set[str]) -> str:
    """A record within every bound (fields.problems with stored=True: PostgreSQL's text holds no
    NUL, and the column types are checked first)."""
    terms = []
    for s in fields.SPECS:
        if s.name not in present:
            continue
        col = "r." + _q(s.name)
        if s.required:
            terms.append(f"{col} IS NOT NULL")
        if s.text:  # no more characters than bytes: the count only for a long text
            terms.append(
                f"({col} IS NULL OR octet_length({col}) <= {s.length} OR length({col}) <= {s.length})"
            )
        else:
            terms.append(f"({col} IS NULL OR {col} BETWEEN {s.low} AND {s.high})")
    return " AND ".join(terms)


def _digest_sql(present: set[str]) -> tuple[str, str]:
    """chain.digest in SQL: SHA-256 of the compact JSON of the fields, keys sorted, the later
    fields only when they hold a value. PostgreSQL's row_to_json writes a row as json.dumps
    writes a dict with separators (",", ":"): each field a key in the row's order, a text as
    to_json escapes it, a whole number as its digits, NULL as null. Returns (the hash, the
    LATERAL subqueries of the rows it reads: one for each set of later fields present, the
    patient's two links together; NULL for a record with one link only, which is flagged)."""
    later = [(k,) for k in chain.LATER if k in present and k not in chain.LINKS]
    later += [chain.LINKS] if chain.LINKS[0] in present else []
    variants = []  # (condition, alias) from the most fields to none
    laterals = []
    for n in range(2 ** len(later)):
        given = [k for i, unit in enumerate(later) if n >> i & 1 for k in unit]
        keys = sorted([k for k in chain.FIELDS if k in present] + given)
        alias = "j" + "".join(str(n >> i & 1) for i in range(len(later)))
        laterals.append(f"LATERAL (SELECT {', '.join('r.' + _q(k) for k in keys)}) {alias}")
        test = [f"r.{_q(k)} IS {'NOT ' if k in given else ''}NULL" for unit in later for k in unit]
        variants.append((" AND ".join(test) or "true", alias))
    cases = " ".join(f"WHEN {test} THEN row_to_json({alias})::text" for test, alias in variants)
    text = f"CASE {cases} END"
    return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')", ", ".join(laterals)


def _types_as_made(conn: Any, present: set[str]) -> bool:
    rows = conn.exec_driver_sql(
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = 'dosecalc_records' AND table_schema = current_schema()"
    ).all()
    found = {name: (kind, length) for name, kind, length in rows}
    return set(found) == present and all(
        found[s.name] == _type(s) for s in fields.SPECS if s.name in present
    )


def _none_flagged(conn: Any, sql: str) -> bool:
    return conn.exec_driver_sql(sql).scalar() == 0


def _patients_linked(conn: Any, present: set[str]) -> bool:
    """Every patient's records linked one to the next (chain.link_problem), from their first."""
    if chain.LINKS[0] not in present:  # schema 2: no record has links
        return True
    return _none_flagged(
        conn,
        "SELECT count(*) FROM (SELECT patient_seq, patient_prev_seq, "
        "row_number() OVER w AS n, lag(seq, 1, 0) OVER w AS before, bool_or(patient_seq IS NOT "
        "NULL) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS linked "
        "FROM dosecalc_records WINDOW w AS (PARTITION BY patient ORDER BY seq)) r "
        "WHERE NOT coalesce(CASE WHEN patient_seq IS NULL AND patient_prev_seq IS NULL "
        "THEN NOT coalesce(linked, false) ELSE patient_seq = n AND patient_prev_seq = before "
        "END, false)",
    )


def _doses_read(conn: Any, present: set[str]) -> bool:
    """Every dose record reads as a history row (chain.dose_row), from its distinct values, in
    one scan of the records: those of each field alone, and of the drug, dose and unit together
    (and each id longer than the reader takes: the column is shorter)."""
    given = [(n, _q(n)) for n in ("date", "bsa_m2", "cycle", "day", "time") if n in present]
    given += [("drug", "drug"), ("dose", "dose"), ("unit", "unit")]
    long_id = "NULL"
    if "source_id" in present:
        long_id = f"CASE WHEN length(source_id) > {hist.MAX_ID_CHARS} THEN source_id END"
        given.append(("id", "long_id"))
    columns = ", ".join(c for _, c in given)
    sets = [f"({c})" for n, c in given if n not in ("drug", "dose", "unit")] + [
        "(drug, dose, unit)"
    ]
    rows = conn.exec_driver_sql(
        f"SELECT GROUPING({columns}), {columns} "
        f"FROM (SELECT *, {long_id} AS long_id FROM dosecalc_records WHERE kind = 'dose') r "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    width = len(given)
    for g, *values in rows:
        row = {n: v for i, ((n, _), v) in enumerate(zip(given, values, strict=True))
               if not g >> (width - 1 - i) & 1}  # fmt: skip
        if "id" in row and row["id"] is None:  # no id longer than the reader takes
            continue
        try:
            hist.parse_row({**GOOD_ROW, **row}, "", date.max)
        except ValueError:
            return False
    return True


def _checks_read(conn: Any, columns: list[Any]) -> bool:
    from sqlalchemy import select

    from dosecalc.ledger.check_record import problems_of
    from dosecalc.ledger.fields import RECORDS

    query = select(*columns).where(RECORDS.c.kind == "check")
    return not any(problems_of(dict(r)) for r in conn.execute(query).mappings())


def passes(conn: Any, columns: list[Any]) -> bool:
    """Whether every check of a walk of the whole chain holds, asked of the database (False
    also when it cannot say: then walk). The head, count and witness are checked apart."""
    present = {c.name for c in columns}
    if not _types_as_made(conn, present):
        return False
    genesis = chain.GENESIS
    digest, laterals = _digest_sql(present)
    return (
        _none_flagged(
            conn,
            f"SELECT count(*) FROM dosecalc_records r, {laterals} "
            f"WHERE NOT coalesce({_sound_sql(present)} AND r.kind IN ('dose', 'void', 'check') "
            f"AND {digest} = r.hash, false)",
        )
        and _none_flagged(
            conn,
            "SELECT count(*) FROM (SELECT seq, prev_hash, lag(hash) OVER (ORDER BY seq) AS before, "
            "row_number() OVER (ORDER BY seq) AS n FROM dosecalc_records) r "
            f"WHERE NOT coalesce(seq = n AND prev_hash = coalesce(before, '{genesis}'), false)",
        )
        and _patients_linked(conn, present)
        and _none_flagged(
            conn,
            "SELECT count(*) FROM dosecalc_records v LEFT JOIN dosecalc_records d "
            "ON d.seq = v.voids WHERE v.kind = 'void' AND NOT coalesce(d.kind = 'dose' "
            "AND d.patient = v.patient AND v.voids < v.seq, false)",
        )
        and _none_flagged(
            conn,
            "SELECT count(*) FROM (SELECT voids FROM dosecalc_records WHERE kind = 'void' "
            "GROUP BY voids HAVING count(*) > 1) twice",
        )
        and _checks_read(conn, columns)
        and _doses_read(conn, present)
    )
