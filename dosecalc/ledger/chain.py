"""The ledger's hash chain: what a record's hash covers, and the walk that checks a chain.

Every record carries the SHA-256 of its own fields and of the record before it. Recomputing
the chain shows an edit or a deletion made behind dosecalc's back; someone who rewrites the
whole chain after the edit is caught only against a head noted earlier (``verify --anchor``):
the chain is tamper-evident, not tamper-proof.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from dosecalc import history as hist
from dosecalc.errors import DosecalcError, FileError, Problem

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


def digest(record: dict[str, Any]) -> str:
    """The SHA-256 of a record's fields (its previous hash among them): the chain link."""
    payload = {k: record.get(k) for k in FIELDS}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dose_row(r: Any) -> hist.Row:
    """A stored dose record, read back through the history checks."""
    where = f"ledger record #{r['seq']}"
    try:
        return hist.parse_row(r, where, date.max)
    except ValueError as e:
        raise FileError(Problem(f"{e}", file=where)) from None


class Walk:
    """A walk over a whole chain, record by record in order: every link, the numbering, what
    the voids point at, that every dose still reads as a dose, and (at the end) the head."""

    def __init__(self, anchor: str | None = None) -> None:
        self.problems: list[str] = []
        self.counts = {"records": 0, "doses": 0, "voids": 0}
        self.prev, self.expected, self.last = GENESIS, 1, 0
        self.kinds: dict[int, tuple[str, str]] = {}
        self.voided: dict[int, int] = {}
        self.patients: set[str] = set()
        self.anchor = anchor
        self.anchored = anchor is None

    def add(self, r: Any) -> None:
        seq = r["seq"]
        self.counts["records"] += 1
        if seq != self.expected:
            self.problems.append(
                f"records #{self.expected}–#{seq - 1} are missing (deleted?)"
                if seq > self.expected
                else f"record #{seq} is out of order"
            )
        if r["prev_hash"] != self.prev:
            self.problems.append(f"record #{seq} does not follow the record before it")
        if digest(dict(r)) != r["hash"]:
            self.problems.append(f"record #{seq} was changed after it was recorded")
        if self.anchor and r["hash"].startswith(self.anchor.lower()):
            self.anchored = True
        self.prev, self.expected, self.last = r["hash"], seq + 1, seq
        self.patients.add(r["patient"])
        self.kinds[seq] = (r["kind"], r["patient"])
        self.problems += self._check_record(r)

    def _check_record(self, r: Any) -> list[str]:
        seq = r["seq"]
        if r["kind"] == "dose":
            self.counts["doses"] += 1
            try:
                dose_row(r)
            except DosecalcError as e:
                return [f"record #{seq} no longer reads as a dose: {e}"]
            return []
        if r["kind"] != "void":
            return [f"record #{seq} is of an unknown kind '{r['kind']}'"]
        self.counts["voids"] += 1
        target = r["voids"]
        if self.kinds.get(target) != ("dose", r["patient"]):
            return [f"void #{seq} points at #{target}, which is not an earlier dose of its patient"]
        if target in self.voided:
            return [f"record #{target} is voided twice (#{self.voided[target]} and #{seq})"]
        self.voided[target] = seq
        return []

    def finish(self, head: str | None) -> None:
        """Check the stored head against the last record walked, and the anchor."""
        if head != f"{self.last} {self.prev}":
            self.problems.append(
                f"the chain head says {head.split()[0] if head else '?'} records, the chain "
                f"has {self.last}: records were removed from the end or the head was altered"
            )
        if not self.anchored:
            self.problems.append(
                f"no record has the anchored hash {self.anchor}: the chain was rewritten since"
            )
