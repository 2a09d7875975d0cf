"""What a ledger record holds: every stored field with its one bound, and the tables built
from them (one place: SQLite and PostgreSQL get the same limits, checked before either database
sees a value, and checked again on every record read back).

SQLite would store a text of any length, an integer past 2⁶³ (as text) or a NUL byte;
PostgreSQL refuses each with an error of its own. Neither is left to decide: every value is
checked here first, so both databases take exactly the same input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dosecalc.data.regimen import MAX_CYCLE_LENGTH_DAYS, MAX_CYCLES
from dosecalc.inputs.history import MAX_ID_CHARS

INT32 = 2**31 - 1  # PostgreSQL's INTEGER; SQLite's is wider, the bound is the same on both


@dataclass(frozen=True)
class Spec:
    """One stored field: its type and bound, and how a message names it."""

    name: str
    label: str  # "the patient id", for messages
    length: int = 0  # text: at most this many characters (0: an integer field)
    low: int = 0  # integer: the smallest value
    high: int = 0  # integer: the largest value
    required: bool = False
    multiline: bool = False  # a free text that may hold line breaks and tabs
    unique: bool = False
    index: bool = False
    since: int = 1  # the ledger schema that added the field

    @property
    def text(self) -> bool:
        return self.length > 0


# Every column of dosecalc_records, in table order. A text's length is in characters (what
# PostgreSQL's VARCHAR counts); the free texts get a bound of their own (their column is TEXT).
SPECS = (
    Spec("seq", "the record number", low=1, high=INT32, required=True),
    Spec("kind", "the record kind", 8, required=True),  # "dose" | "void" | "check" (verifyrecord)
    Spec("patient", "the patient id", 200, required=True, index=True),
    Spec("date", "the date", 10),
    Spec("drug", "the drug", 100),  # the canonical name
    Spec("drug_given", "the drug name", 200),  # as written (EPI, DDP, …)
    Spec("dose", "the dose", 40),  # the number as written
    Spec("unit", "the unit", 40),  # the unit as written
    Spec("bsa_m2", "the BSA", 20),
    Spec("regimen", "the regimen", 200),
    Spec("cycle", "the cycle", low=1, high=MAX_CYCLES),  # the regimen bound, as --cycle
    Spec("day", "the day", low=-MAX_CYCLE_LENGTH_DAYS, high=MAX_CYCLE_LENGTH_DAYS),
    Spec("note", "the note", 2000, multiline=True),
    Spec("voids", "the record number", low=1, high=INT32, index=True),  # what a void cancels
    Spec("reason", "the reason", 2000, multiline=True),  # a void's, or a high dose's
    Spec("recorded_at", "the time recorded", 40, required=True),
    Spec("recorded_by", "the name", 200, required=True),
    Spec("os_user", "the user name", 200, required=True),
    Spec("source", "the source", 5000, required=True),  # a file name (4096 at most) and line
    Spec("source_sha256", "the file's SHA-256", 64),
    Spec("batch", "the batch", 36, required=True),
    Spec("prev_hash", "the previous hash", 64, required=True, unique=True),  # no fork
    Spec("hash", "the hash", 64, required=True, unique=True),
    Spec("time", "the time", 5, since=2),  # HH:MM, when the source says
    Spec("source_id", "the administration id", MAX_ID_CHARS, since=2),  # in the source system
    # the record's place among its patient's records (chain.py): how many of theirs up to it,
    # and the number of the one before it (0 for their first)
    Spec("patient_seq", "the patient's record count", low=1, high=INT32, since=3),
    Spec("patient_prev_seq", "the patient's previous record", high=INT32, index=True, since=3),
)
SPEC = {s.name: s for s in SPECS}


def _tables() -> Any:
    from sqlalchemy import Column, Integer, MetaData, String, Table, Text

    metadata = MetaData()
    meta = Table(
        "dosecalc_meta",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    columns = []
    for s in SPECS:
        kind: Any = (
            (Text if s.multiline or s.length > 1000 else String(s.length)) if s.text else Integer
        )
        columns.append(
            Column(
                s.name,
                kind,
                primary_key=s.name == "seq",
                autoincrement=False,
                nullable=not s.required,
                unique=s.unique or None,
                index=s.index or None,
            )
        )
    records = Table("dosecalc_records", metadata, *columns)
    # schema 4: each patient's count of records and the number of their newest, kept with every
    # append; a read of one patient checks their records against it, so their newest record
    # moved to another id is seen without a walk (store.py)
    patients = Table(
        "dosecalc_patients",
        metadata,
        Column("patient", String(SPEC["patient"].length), primary_key=True),
        Column("records", Integer, nullable=False),
        Column("last_seq", Integer, nullable=False),
    )
    return metadata, meta, records, patients


METADATA, META, RECORDS, PATIENTS = _tables()


_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _control(text: str, multiline: bool, stored: bool) -> str | None:
    if stored:  # what an earlier dosecalc let in is not damage; a NUL is
        return "a NUL character" if "\0" in text else None
    m = (_CONTROL_MULTILINE if multiline else _CONTROL).search(text)
    if m is None:
        return None
    c = m.group()
    if c == "\0":
        return "a NUL character"
    if 0xD800 <= ord(c) <= 0xDFFF:
        return "bytes that are not UTF-8 text"
    return f"a control character (U+{ord(c):04X})"


def problem(name: str, value: Any, stored: bool = False) -> str | None:
    """What is wrong with ``value`` as the stored field ``name`` (None: nothing); ``stored``:
    a value read back (control characters an earlier dosecalc accepted are not damage)."""
    s = SPEC[name]
    if value is None:
        return f"{s.label} is missing" if s.required else None
    if s.text:
        if not isinstance(value, str):
            return f"{s.label} is {_kind(value)}, not text"
        if len(value) > s.length:
            return f"{s.label} is {len(value):,} characters long; the ledger keeps at most {s.length:,}"
        bad = _control(value, s.multiline, stored)
        return f"{s.label} holds {bad}, which the ledger does not store" if bad else None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{s.label} is {_kind(value)}, not a whole number"
    if not s.low <= value <= s.high:
        shown = (
            f"{value}"
            if len(str(value)) <= 30
            else f"{str(value)[:12]}… ({len(str(value))} digits)"
        )
        return f"{s.label} {shown} is outside {s.low} to {s.high:,}"
    return None


_BOUNDS = tuple((s.name, s.length, s.low, s.high, s.required) for s in SPECS)


def _sound(row: Any) -> bool:
    """Whether a stored record is within every bound: the quick answer a walk of every record
    needs (the messages come from :func:`problems`)."""
    for name, length, low, high, required in _BOUNDS:
        if name not in row:
            continue
        v = row[name]
        if v is None:
            if required:
                return False
        elif length:
            if type(v) is not str or len(v) > length or "\0" in v:
                return False
        elif type(v) is not int or not low <= v <= high:
            return False
    return True


def problems(row: Any, stored: bool = False) -> list[tuple[str, str]]:
    """(field, message) for every field of ``row`` out of its bound; ``stored``: a record read
    back (see :func:`problem`)."""
    if stored and _sound(row):
        return []
    out = []
    for name in row.keys():
        if name in SPEC:
            bad = problem(name, row[name], stored)
            if bad:
                out.append((name, bad))
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary data (a BLOB)"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, float):
        return f"a decimal number ({value!r})"
    if isinstance(value, int):
        return f"a number ({value})"
    return f"a {type(value).__name__}"
