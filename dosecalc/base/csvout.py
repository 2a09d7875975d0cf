"""Every CSV dosecalc writes goes through these writers (``plan --format csv``, ``check --format
csv``, ``ledger export``): formula injection is neutralised.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) runs a cell that begins with ``=``,
``+``, ``-`` or ``@`` as a formula, and a tab or carriage return at the start can hide one; a
patient id ``=HYPERLINK("http://…")`` or a regimen route written into a CSV would run on the
pharmacist's computer. As OWASP recommends ("CSV Injection"), such a text cell gets a single
quote in front, which the spreadsheet shows as text and does not evaluate.

The rule, exactly:

- A text cell (``str``) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  is written with ``'`` in front. So is a text cell that begins with quotes followed by one of
  them (``'=x`` becomes ``''=x``), so that reading undoes the escape exactly (:func:`unescape`).
- A number (``int``, ``float``) is written as the number: dosecalc writes only the number itself,
  and a spreadsheet reads ``-3`` (a day before day 1 in a ledger export) as the number −3, not a
  formula. Doses, totals, percentages, BSAs and cycles in dosecalc's CSVs are never negative; a
  day can be.
- A truth value (``bool``) is written ``true`` or ``false``, as JSON writes it.
- Nothing else changes: other text, empty cells.

dosecalc's own CSV readers (history files, the engine, ``ledger import``) apply :func:`unescape`
to text cells and to the dose (kept as it was typed, so ``+5`` is written ``'+5``), so a
``ledger export`` reads back as it was recorded.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def cell(value: Any) -> Any:
    """One cell as written: a text cell a spreadsheet would run gets ``'`` in front; a truth
    value is ``true`` or ``false``, as in JSON (not Python's ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def written(value: Any) -> str:
    """The text of one cell (already through :func:`cell`) as the CSV writer writes it: quoted
    where it holds a comma, a quote or a line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([value, ""])
    return out.getvalue()[:-2]  # the row's other, empty cell and its line end


def unescape(text: str) -> str:
    """The text a cell written by :func:`cell` had: ``'=x`` → ``=x``, ``''=x`` → ``'=x``."""
    if text.startswith("'") and _FORMULA.match(text, 1):
        return text[1:]
    return text


class Writer:
    """``csv.writer`` with ``\n`` line ends whose every cell goes through :func:`cell`."""

    def __init__(self, f: Any) -> None:
        self._writer = csv.writer(f, lineterminator="\n")

    def writerow(self, row: Any) -> Any:
        return self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Any) -> None:
        for row in rows:
            self.writerow(row)

    def write_cells(self, rows: Any) -> None:
        """Rows each of whose cells went through :func:`cell` already (numbers, and text made
        by it: a check's totals, many patients at a time)."""
        self._writer.writerows(rows)


class DictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """``csv.DictWriter`` with ``\\n`` line ends whose every cell goes through :func:`cell`."""

    def __init__(self, f: Any, fieldnames: Any) -> None:
        super().__init__(f, fieldnames=fieldnames, lineterminator="\n")

    def writerow(self, rowdict: Any) -> Any:
        return super().writerow({k: cell(v) for k, v in rowdict.items()})
