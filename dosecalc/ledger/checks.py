"""The record of an order's check in the ledger (``verify --record``): who checked which order
(its SHA-256), when, and what they found.

A check is one more record of the ledger's chained table, of kind ``check``: the hash chain
covers it like a dose, ``ledger verify`` checks it, and it is never a dose (nothing reads it
into a lifetime total). The columns it uses:

- ``patient``, ``date`` (the cycle's day 1), ``regimen``, ``cycle``, ``bsa_m2`` (the BSA the
  doses were recomputed with);
- ``source_sha256``: the order file's SHA-256; ``source``: ``dosecalc verify FILE``;
- ``reason``: the verdict (release, release-with-notes, hold);
- ``note``: a small JSON object: the order id, the verdict, each line (ordered, expected,
  deviation, status), what was missing, the critical codes and acknowledgements, and which
  check of this order it is. A second check of the same order by someone else is the
  independent double check (ASCO/ONS standards, Neuss et al. 2016) and names the first.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from dosecalc.base.numbers import fmt
from dosecalc.ledger.check_record import KIND, NOTE_LIMIT


def note(result: Any, check: int, first: Any, independent: bool) -> str:
    """The check's note: JSON, within the ledger's bound (lines beyond it are counted, and the
    order's SHA-256 names the file that has them all)."""
    lines = []
    for c in result.lines:
        ln = c.line
        expected = c.expected_amount
        dev = c.deviation
        lines.append(
            f"day {ln.day} {ln.drug} {fmt(ln.amount)} {ln.unit}"
            + (f" / {fmt(expected)} {ln.unit} {dev:+.1f} %" if expected is not None else "")
            + f" {c.status}"
        )
    data: dict[str, Any] = {
        "verdict": result.verdict,
        "order": result.order.id,
        "check": check,
        "double_check_of": first,
        "independent": independent,
        "lines": lines,
        "missing": [f"day {a.day} {a.dose.drug}" for a in result.missing],
        "critical": sorted({w.code for w in result.warnings if w.severity == "critical"}),
        "acknowledged": [f"{a.code} {a.drug or ''}".strip() for a in result.order.acknowledged],
        "measurements_from": result.patient_from,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    omitted = 0
    while len(text) > NOTE_LIMIT and data["lines"]:
        data["lines"].pop()
        omitted += 1
        data["lines_omitted"] = omitted
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(text) > NOTE_LIMIT:  # a huge list of missing doses or codes: the counts only
        for key in ("missing", "critical", "acknowledged"):
            data[key] = len(data[key]) if isinstance(data[key], list) else data[key]
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))[:NOTE_LIMIT]
    return text


def record(result: Any, patient: str, db: str | None, by: str | None) -> Any:
    """Append the check to ``patient``'s ledger; the result, with what was recorded."""
    from sqlalchemy import select

    from dosecalc.ledger.chain import FIELDS
    from dosecalc.ledger.fields import RECORDS
    from dosecalc.ledger.store import Ledger

    o = result.order
    ledger = Ledger(db, create=True)
    with ledger.write() as conn:
        stamp = ledger._stamp(by, str(uuid.uuid4()))
        earlier = conn.execute(
            select(RECORDS.c.seq, RECORDS.c.recorded_by, RECORDS.c.os_user)
            .where(
                RECORDS.c.kind == KIND,
                RECORDS.c.patient == patient,
                RECORDS.c.source_sha256 == o.sha256,
            )
            .order_by(RECORDS.c.seq)
        ).all()
        # a double check is independent only when someone else did it: another name than
        # every earlier checker's, and another account at the keyboard (--by alone is a word
        # anyone can type)
        independent = bool(earlier) and all(
            e.recorded_by != stamp["recorded_by"] and e.os_user != stamp["os_user"] for e in earlier
        )
        first = earlier[0].seq if independent else None
        row = {k: None for k in FIELDS if k not in ("seq", "prev_hash")}
        row.update(
            kind=KIND,
            patient=patient,
            date=o.start.isoformat(),
            regimen=result.regimen.id,
            cycle=o.cycle,
            bsa_m2=f"{result.plan.patient.bsa_m2:.4f}",
            note=note(result, len(earlier) + 1, first, independent),
            reason=result.verdict,
            source=f"dosecalc verify {o.source}"[:5000],
            source_sha256=o.sha256,
            **stamp,
        )
        [seq] = ledger._append(conn, [row])
    if independent:
        what = f"the independent double check of #{first} (by {earlier[0].recorded_by})"
        kind = "independent"
    elif earlier:
        same = {e.recorded_by for e in earlier if e.recorded_by == stamp["recorded_by"]} or {
            f"the account {stamp['os_user']}"
        }
        what = (
            f"check {len(earlier) + 1} of this order, a re-check: it was checked before by "
            f"{', '.join(sorted(same))} (the same name or the same account), so it is not an "
            "independent double check (that needs a second person)"
        )
        kind = "re-check"
    else:
        what = "the first check of this order; a second person's check makes the double check"
        kind = "first"
    recorded = {
        "ledger": str(ledger),
        "seq": seq,
        "patient": patient,
        "by": stamp["recorded_by"],
        "at": stamp["recorded_at"],
        "check": len(earlier) + 1,
        "double_check_of": first,
        "independent": independent,
        "kind": kind,
        "summary": f"recorded as #{seq} in {ledger} by {stamp['recorded_by']}: {what}",
    }
    return replace(result, recorded=recorded)
