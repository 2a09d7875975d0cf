"""JSON text for machine output: kept apart from :mod:`dosecalc.render`, so that
``--format json`` never imports rich.

Written by orjson (a pharmacy-wide check writes a megabyte of JSON every few hundred patients:
the standard library's encoder took a fifth of such a check). orjson writes a NaN or an infinity
as ``null``, which would turn a broken number into "unknown" without a word: every float is
looked at first and refused as the standard library's ``allow_nan=False`` does."""

from __future__ import annotations

import math
from typing import Any

import orjson

_LINE = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_INDENTED = _LINE | orjson.OPT_INDENT_2


def to_json_bytes(data: Any) -> bytes:
    """Compact JSON on one line, UTF-8, for one record of a long stream."""
    _refuse_non_finite(data)
    try:
        return orjson.dumps(data, option=_LINE)
    except orjson.JSONEncodeError:  # a text no UTF-8 can hold (a file name's stray byte)
        return _escaped(data, None).encode()


def to_json_line(data: Any) -> str:
    return to_json_bytes(data).decode()


def to_json(data: Any) -> str:
    """JSON indented by two spaces, ending with a new line."""
    _refuse_non_finite(data)
    try:
        return orjson.dumps(data, option=_INDENTED).decode() + "\n"
    except orjson.JSONEncodeError:
        return _escaped(data, 2) + "\n"


def _escaped(data: Any, indent: int | None) -> str:
    """The standard library's JSON with every non-ASCII character escaped: a lone surrogate (a
    byte of a file name that is not UTF-8, as Python reads it) is written as \\udcff, which any
    reader parses, where orjson refuses it."""
    import json

    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(data, indent=indent, allow_nan=False, separators=separators)


def _refuse_non_finite(data: Any) -> None:
    stack = [data]
    isfinite = math.isfinite
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            stack.extend(value.values())
        elif kind is list or kind is tuple:
            stack.extend(value)
        elif (kind is float or isinstance(value, float)) and not isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
