"""The ledger's hash chain: what a record's hash covers, and the walk that checks a chain.

Every record carries the SHA-256 of its own fields and of the record before it. Recomputing
the chain shows an edit or a deletion made behind dosecalc's back; someone who rewrites the
whole chain after the edit is caught only against a head noted earlier (``verify --anchor``):
the chain is tamper-evident, not tamper-proof.

**Each patient's records are a chain of their own within it** (schema 3). A record also
carries, under its hash, how many records of its patient there are up to it
(``patient_seq``: 1 for their first) and the number of their record before it
(``patient_prev_seq``: 0 for their first). One patient's read (:func:`check_part`) fetches
only that patient's records, by the patient index, and sees them count 1, 2, 3 … each naming
the one before: a record of theirs moved to another patient id, or removed from among them,
leaves a gap; a record moved in from another patient breaks its own hash and the count. A
record that names one of the patient's records as its patient's previous one but now carries
another id (their newest, moved away by an UPDATE of its patient) is found by the index of
``patient_prev_seq``. So a patient's read costs a lookup per record of theirs, whatever the
ledger's size; the walk of the whole chain (:class:`Walk`) checks every patient's links as it
goes. A link by number is as sound as one by hash here, and a fraction of its size (an integer
and its index, not 64 characters and theirs): the record it names is itself checked, its hash
and its links to the records on both sides, by the same read.

What one patient's read cannot see: that a record of theirs lies beyond their newest, moved
to another id with its links rewritten to fit there (its hash then fails, so ``ledger
verify``, a read of every patient, and the other patient's read refuse it; the count of
records and the witness of the head cover a removal of the ledger's newest records); and a
record written before schema 3 (no links) moved away from a patient with no record written
since (their first record written since counts every record of theirs before it).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from array import array
from datetime import date
from json.encoder import encode_basestring as _encode
from typing import Any

from dosecalc.base.errors import DosecalcError, FileError, Problem
from dosecalc.data import records
from dosecalc.inputs import history as hist
from dosecalc.ledger import fields

GENESIS = "0" * 64  # the "previous hash" of the first record

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


# the links of a record to its patient's record before it (schema 3)
LINKS = ("patient_seq", "patient_prev_seq")
# fields added with schemas 2 and 3: in the hash only when they hold a value, so that every
# record written before them keeps its hash
LATER = ("time", "source_id", *LINKS)


def slow_digest(record: Any) -> str:
    """The definition of a record's hash: SHA-256 of its fields as compact JSON, keys sorted."""
    payload = {k: record.get(k) for k in FIELDS}
    for k in LATER:
        if record.get(k) is not None:
            payload[k] = record[k]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# the keys in the order json.dumps(sort_keys=True) writes them, with or without each later one
_ORDER = {
    given: sorted(FIELDS + tuple(k for k, g in zip(LATER, given, strict=True) if g))
    for given in itertools.product((False, True), repeat=len(LATER))
}
_KEY = {k: json.dumps(k) + ":" for k in FIELDS + LATER}


def digest(record: Any) -> str:
    """The SHA-256 of a record's fields (its previous hash among them): the chain link.
    Writes the same text as :func:`slow_digest`, several times faster (a walk hashes every
    record); anything but text, whole numbers and nulls goes the slow way."""
    get = record.get
    parts = []
    given = (get("time") is not None, get("source_id") is not None)
    given += (get("patient_seq") is not None, get("patient_prev_seq") is not None)
    for k in _ORDER[given]:
        v = get(k)
        if v is None:
            parts.append(_KEY[k] + "null")
        elif type(v) is str:
            parts.append(_KEY[k] + _encode(v))
        elif type(v) is int:
            parts.append(_KEY[k] + int.__repr__(v))
        else:
            return slow_digest(record)
    text = "{" + ",".join(parts) + "}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def dose_row(r: Any) -> records.Row:
    """A stored dose record, read back through the history checks."""
    where = f"ledger record #{r['seq']}"
    try:  # the history's id is the ledger's source_id
        return hist.parse_row({**r, "id": r.get("source_id")}, where, date.max)
    except ValueError as e:
        raise FileError(Problem(f"{e}", file=where)) from None


def damage(r: Any) -> list[str]:
    """What is wrong with a stored record by itself: a value of the wrong type or out of its
    bound (a BLOB where a dose should be, a decimal cycle), or a hash that does not match its
    fields (an edit)."""
    seq = r.get("seq")
    name = f"record #{seq}" if isinstance(seq, int) else "a record"
    bad = fields.problems(r, stored=True)
    if bad:
        return [f"{name}: {message}: it was altered or damaged" for _, message in bad[:3]]
    if digest(r) != r["hash"]:
        return [f"{name} was changed after it was recorded"]
    return []


def link_problem(r: Any, before: int, last: int, linked: bool) -> str | None:
    """What is wrong with how a sound record links to its patient's records before it in the
    ledger: ``before`` of them, the newest numbered ``last`` (0: none); ``linked``: one of them
    carries links (every record written since schema 3 does)."""
    n, prev = r.get("patient_seq"), r.get("patient_prev_seq")
    if n == before + 1 and prev == last:
        return None
    name = f"patient {r['patient']}'s record #{r['seq']}"
    if n is None and prev is None:  # written before schema 3
        return f"{name} has no links, unlike theirs before it: it was altered" if linked else None
    if isinstance(n, int) and n > before + 1:
        return (
            f"{name} is number {n} of theirs, yet the ledger holds {before} of theirs before "
            "it: a record of theirs was moved to another patient or removed"
        )
    return (
        f"{name} does not follow their record before it (#{last}): a record was moved in from "
        "another patient, or the links were altered"
        if last
        else f"{name} is not their first, yet the ledger holds none of theirs before it: a "
        "record was moved in from another patient, or the links were altered"
    )


def _meaning(r: Any, kinds: Any, voided: dict[int, int], keep: Any = None) -> list[str]:
    """What is wrong with what a (well-formed) record says: a dose that no longer reads as a
    dose, a void of something that is not an earlier dose of its patient, a second void. Each
    dose read is passed to ``keep`` (seq, patient, row), if given."""
    seq = r["seq"]
    if r["kind"] == "dose":
        try:
            row = dose_row(r)
        except DosecalcError as e:
            return [f"record #{seq} no longer reads as a dose: {e}"]
        if keep is not None:
            keep((seq, r["patient"], row))
        return []
    if r["kind"] == "check":  # a verified order (dosecalc.verifyrecord): no dose
        from dosecalc.ledger.check_record import problems_of

        return [f"check #{seq} {p}" for p in problems_of(r)]
    if r["kind"] != "void":
        return [f"record #{seq} is of an unknown kind '{r['kind']}'"]
    target = r["voids"]
    if kinds.get(target) != ("dose", r["patient"]) or target >= seq:
        return [f"void #{seq} points at #{target}, which is not an earlier dose of its patient"]
    if target in voided:
        return [f"record #{target} is voided twice (#{voided[target]} and #{seq})"]
    voided[target] = seq
    return []


class Doses:
    """Which records are doses, and whose, for the voids that point back at them: ``doses[seq]
    = (kind, patient)``; ``doses.get(seq)`` is ``("dose", patient)`` for a dose, else None.
    Compact for a walk of a million records (an array of patient numbers in seq order)."""

    def __init__(self) -> None:
        self._owner = array("q", [-1])  # [seq]: the patient's number, -1 if not a dose
        self._other: dict[int, int] = {}  # the same, for a seq out of order
        self._number: dict[str, int] = {}
        self._names: list[str] = []

    def __setitem__(self, seq: int, value: tuple[str, str]) -> None:
        kind, patient = value
        code = -1
        if kind == "dose":
            code = self._number.setdefault(patient, len(self._names))
            if code == len(self._names):
                self._names.append(patient)
        if seq == len(self._owner):
            self._owner.append(code)
        else:
            self._other[seq] = code

    def get(self, seq: Any) -> tuple[str, str] | None:
        if seq in self._other:  # a later record of the same seq: as a dict, the last one
            code = self._other[seq]
        elif type(seq) is int and 0 < seq < len(self._owner):
            code = self._owner[seq]
        else:
            return None
        return ("dose", self._names[code]) if code >= 0 else None


class Walk:
    """A walk over a whole chain, record by record in order: every link, the numbering, what
    the voids point at, that every dose still reads as a dose, and (at the end) the head."""

    def __init__(self, anchor: str | None = None, keep: bool = False) -> None:
        self.problems: list[str] = []
        self.doses: list[tuple[int, str, records.Row]] = []  # with ``keep``: every dose read
        self.counts = {"records": 0, "doses": 0, "voids": 0, "checks": 0}
        self.prev, self.expected, self.last = GENESIS, 1, 0
        self.kinds = Doses()
        self.voided: dict[int, int] = {}
        self.patients: set[str] = set()
        # each patient's records so far: (how many, the newest's number, whether any is linked)
        self.tails: dict[str, tuple[int, int, bool]] = {}
        self.anchor = anchor
        self.anchored = anchor is None
        self._keep = self.doses.append if keep else None

    def add(self, r: Any) -> bool:
        """Walk one more record; False if it is too damaged to be read any further."""
        self.counts["records"] += 1
        broken = damage(r)
        self.problems += broken
        seq = r["seq"]
        if not isinstance(seq, int) or not isinstance(r["hash"], str):
            return False
        if seq != self.expected:
            self.problems.append(
                f"records #{self.expected}–#{seq - 1} are missing (deleted?)"
                if seq > self.expected
                else f"record #{seq} is out of order"
            )
        if r["prev_hash"] != self.prev:
            self.problems.append(f"record #{seq} does not follow the record before it")
        if self.anchor and r["hash"].startswith(self.anchor.lower()):
            self.anchored = True
        self.prev, self.expected, self.last = r["hash"], seq + 1, seq
        patient = r["patient"]
        if isinstance(patient, str):  # an edited record still takes its place among theirs
            before, last, linked = self.tails.get(patient, (0, 0, False))
            bad = None if broken else link_problem(r, before, last, linked)
            n = r.get("patient_seq")
            if bad:  # said once: their records after it are counted on from its number
                self.problems.append(bad)
            count = n if bad and type(n) is int else before + 1
            has_links = n is not None or r.get("patient_prev_seq") is not None
            self.tails[patient] = (count, seq, linked or has_links)
        if broken:
            return True
        self.patients.add(patient)
        self.kinds[seq] = (r["kind"], r["patient"])
        if r["kind"] in ("dose", "void", "check"):
            self.counts[r["kind"] + "s"] += 1
        self.problems += _meaning(r, self.kinds, self.voided, self._keep)
        return True

    def newest(self) -> dict[str, tuple[int, int]]:
        """Each patient's count of records walked and the number of their newest."""
        return {p: (n, seq) for p, (n, seq, _) in self.tails.items()}

    def finish(self, head: tuple[int, str] | None) -> None:
        """Check the stored head against the last record walked, and the anchor."""
        if head is None:
            self.problems.append("the chain head is missing or unreadable: it was altered")
        elif head != (self.last, self.prev):
            self.problems.append(
                f"the chain head says {head[0]} records, the chain has {self.last}: records "
                "were removed from the end or the head was altered"
            )
        if not self.anchored:
            self.problems.append(
                f"no record has the anchored hash {self.anchor}: the chain was rewritten since"
            )


def check_part(rows: list[Any], head: tuple[int, str], patient: str) -> list[str]:
    """Check part of a chain: one patient's records, every void of them and every record that
    links to one of them as its patient's record before it (whoever's each claims to be), each
    with ``_prev``, the hash of the record before it, and ``_next``, the previous hash the
    record after it holds: its fields and hash, both its links, the head at the chain's end,
    and the patient's records linked one to the next from their first. Cheap (a lookup per
    record), and what makes one patient's total trustworthy without a walk."""
    out: list[str] = []
    kinds = Doses()
    voided: dict[int, int] = {}
    last, head_hash = head
    for r in rows:
        broken = damage(r)
        out += broken
        if broken:
            continue
        seq = r["seq"]
        before = GENESIS if seq == 1 else r["_prev"]
        if before is None:
            out.append(f"record #{seq - 1}, before record #{seq}, is missing (deleted?)")
        elif r["prev_hash"] != before:
            out.append(f"record #{seq} does not follow the record before it")
        if seq > last:
            out.append(f"record #{seq} lies beyond the chain head #{last}: the head was altered")
        elif seq == last:
            if r["hash"] != head_hash:
                out.append(f"the chain head does not match record #{seq}: it was altered")
        elif r["_next"] is None:
            out.append(f"record #{seq + 1}, after record #{seq}, is missing (deleted?)")
        elif r["_next"] != r["hash"]:
            out.append(f"record #{seq + 1} does not follow record #{seq}")
        kinds[seq] = (r["kind"], r["patient"])
    if out:
        return out
    before, last, linked = 0, 0, False
    for r in rows:
        if r["patient"] == patient:
            bad = link_problem(r, before, last, linked)
            if bad:
                return [bad]
            before, last = before + 1, r["seq"]
            linked = linked or r.get("patient_seq") is not None
    theirs = {r["seq"] for r in rows if r["patient"] == patient}
    for r in rows:
        if r["patient"] != patient and r.get("patient_prev_seq") in theirs:
            return [
                f"record #{r['seq']} was recorded after patient {patient}'s record "
                f"#{r['patient_prev_seq']} as theirs, but now names patient {r['patient']}: "
                "it was moved to another patient"
            ]
    for r in rows:
        out += _meaning(r, kinds, voided)
    return out
