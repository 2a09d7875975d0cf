"""JSON text for machine output: kept apart from :mod:`dosecalc.render`, so that
``--format json`` never imports rich."""

from __future__ import annotations

import json
from typing import Any


def to_json_line(data: Any) -> str:
    """Compact JSON on one line (the fast C encoder), for one record of a long stream."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
