"""What a stored check of an order (a ledger record of kind ``check``, written by
``verify --record``: ledger/checks.py) must hold, and how it reads in ``ledger list``."""

from __future__ import annotations

import json
from typing import Any

KIND = "check"
VERDICTS = ("release", "release-with-notes", "hold")
NOTE_LIMIT = 1900  # the ledger's note holds 2,000 characters


def problems_of(r: Any) -> list[str]:
    """What is wrong with a stored check (for ``ledger verify``): it must still say which order
    (a SHA-256), what verdict, and carry its note as JSON."""
    out = []
    sha = r["source_sha256"] or ""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        out.append("does not name the order's SHA-256")
    if r["reason"] not in VERDICTS:
        out.append(f"has no verdict (found {r['reason']!r})")
    try:
        data = json.loads(r["note"] or "")
        if not isinstance(data, dict) or data.get("verdict") != r["reason"]:
            out.append("has a note that does not match its verdict")
    except ValueError:
        out.append("has a note that is not the check's JSON")
    return out


def describe(r: dict[str, Any]) -> tuple[str, str]:
    """(what, status) of a stored check, for ``ledger list``."""
    try:
        data = json.loads(r.get("note") or "{}")
    except ValueError:
        data = {}
    order = data.get("order") or r["source_sha256"][:12]
    what = f"verified order {order}: {r['regimen']} cycle {r['cycle']}"
    if data.get("independent"):
        status = f"{r['reason']}, independent double check of #{data.get('double_check_of')}"
    else:
        status = f"{r['reason']} (check {data.get('check', 1)})"
    return what, status
