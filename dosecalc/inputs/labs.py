"""Laboratory values as people and laboratories send them: ``--lab NAME=VALUE[@YYYY-MM-DD]``
(``--lab anc=1.2x10^9/L@2026-11-28``; with the time the sample was taken,
``--lab mtx=12umol/L@2026-12-03T14:00``) and lab files (CSV ``date,name,value,unit``, as a
laboratory exports them), read into :class:`dosecalc.data.labs.Labs`. Every bad row of a file is
reported with file:line, all at once.

A lab file may also carry a pharmacogenomic result: a row whose name is a gene (``DPYD``,
``UGT1A1``), whose value is the genotype (``*1/*2A``, ``AS:1``) and whose unit is empty or
``genotype``; it is read as ``--genotype`` reads it (clinical/pgx.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, time
from pathlib import Path
from typing import Any

from dosecalc.base import clock, strict, units
from dosecalc.base.errors import DosecalcError, FileError, Problem, fail
from dosecalc.data.labs import KINDS, Labs, LabValue, clashes, kind, merge, parse_value
from dosecalc.inputs.history import looks_like


def parse_date(text: str, field_name: str, today: date | None = None) -> date:
    return parse_when(text, field_name, today)[0]


def parse_when(text: str, field_name: str, today: date | None = None) -> tuple[date, time | None]:
    """``2026-12-03`` or ``2026-12-03T14:00`` (when the sample was taken) → (date, time)."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2}))?", text, re.ASCII)
    if m:  # a date that is no day (2025-02-30) says why, as every date reader does
        try:
            strict.iso_date(m.group(1))
        except ValueError as e:
            raise fail(field_name, str(e)) from None
    try:
        if not m:
            raise ValueError
        when = date.fromisoformat(m.group(1))
        at = time(int(m.group(2)), int(m.group(3))) if m.group(2) else None
    except ValueError:
        raise fail(
            field_name, f"'{text[:40]}' is not a date; write YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if when > (today or clock.today()):
        raise fail(
            field_name,
            f"{when.isoformat()} is in the future: a sample's date is the day it was taken",
        )
    return when, at


def parse_lab(text: str, today: date | None = None) -> LabValue:
    """``'anc=1.2x10^9/L@2026-11-28'`` -> a :class:`LabValue`."""
    name, sep, rest = text.partition("=")
    if sep and _gene(name):
        raise fail(
            "--lab",
            f"{name.strip()} is a gene, not a laboratory test: give its result with --genotype "
            f"{name.strip()}=A/B (or a row of a lab file)",
        )
    if not sep or not name.strip() or not rest.strip():
        raise fail(
            "--lab",
            f"'{text[:60]}' is not NAME=VALUE[@YYYY-MM-DD[THH:MM]]; e.g. "
            f"anc=1.2x10^9/L@2026-11-28 or mtx=12umol/L@2026-12-03T14:00 "
            f"(names: {', '.join(KINDS)})",
        )
    value_text, at, when = rest.partition("@")
    k = kind(name)
    value, unit = parse_value(k.name, value_text.strip())
    day, clock = parse_when(when, "--lab", today) if at else (None, None)
    return LabValue(k.name, value, unit, day, "--lab", value_text.strip(), clock)


COLUMNS = ("date", "name", "value", "unit")


MAX_FILE_BYTES = 5_000_000


def _gene(name: str) -> str | None:
    from dosecalc.data.pgx import book

    return book().gene(name)


def read_file(path: Path, today: date | None = None) -> list[Any]:
    """A lab file (CSV with the columns date, name, value, unit; a header row first): its
    LabValues, and a pgx.Genotype for each row that names a gene. Every bad row is reported,
    each with file:line, in one error."""
    from dosecalc.data.yamlfile import read_text

    source = str(path)
    text = read_text(path, "lab", MAX_FILE_BYTES)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as e:
        raise FileError(Problem(f"not valid CSV: {e}", file=source)) from None
    numbered = [(n, r) for n, r in enumerate(rows, 1) if any(c.strip() for c in r)]
    if not numbered:
        raise FileError(
            Problem(f"the lab file is empty; its header is {','.join(COLUMNS)}", file=source)
        )
    head_line, head = numbered[0]
    names = [c.strip().lower() for c in head]
    unknown = [c for c in names if c not in COLUMNS]
    missing = [c for c in COLUMNS if c not in names]
    if unknown or missing or len(set(names)) != len(names):
        what = []
        if unknown:
            what.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
        if missing:
            what.append(f"missing column(s) {', '.join(missing)}")
        if len(set(names)) != len(names):
            what.append("a column is named twice")
        raise FileError(
            Problem(
                f"{'; '.join(what)}; the header must name the columns {','.join(COLUMNS)}"
                + looks_like(names, "lab"),
                file=source,
                line=head_line,
            )
        )
    at = {c: names.index(c) for c in COLUMNS}
    out: list[Any] = []
    problems: list[Problem] = []
    for line, row in numbered[1:]:
        if len(row) != len(names):
            problems.append(
                Problem(
                    f"has {len(row)} fields; the header has {len(names)}", file=source, line=line
                )
            )
            continue
        cell = {c: row[i].strip() for c, i in at.items()}
        try:
            if not cell["date"]:
                raise fail("date", "is empty; every row of a lab file needs its sample date")
            when, clock = parse_when(cell["date"], "date", today)
            if _gene(cell["name"]):
                out.append(_genotype(cell, f"{path.name}:{line}"))
                continue
            k = kind(cell["name"], "name")
            if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", cell["value"]):
                raise fail("value", f"'{cell['value'][:40]}' is not a number")
            number = units.exported(cell["value"])  # a number column: 1.100 is 1.1
            value, unit = parse_value(k.name, f"{number} {cell['unit']}", "value/unit")
        except DosecalcError as e:  # one clear sentence for this row, with its line
            problems += [
                Problem(p.message, field=p.field, file=source, line=line) for p in e.problems
            ]
            continue
        out.append(
            LabValue(
                k.name,
                value,
                unit,
                when,
                f"{path.name}:{line}",
                f"{cell['value']} {cell['unit']}".strip(),
                clock,
            )
        )
    problems += _conflicts([v for v in out if isinstance(v, LabValue)], source)
    if problems:
        raise FileError(*sorted(problems, key=lambda p: p.line or 0))
    return out


def _conflicts(values: list[LabValue], source: str) -> list[Problem]:
    """Two different values of one lab at one date (and time) in the file, each pair with its
    lines: said with the file's other problems, not in a second round once those are fixed."""
    return [
        Problem(
            f"a second {v.name} value for {v.when}: {v.text}, and "
            f"{seen.text} at {seen.where}; give the one that is right",
            file=source,
            line=int(v.where.rsplit(":", 1)[1]),
        )
        for seen, v in clashes(values)[1]
    ]


def collect(
    texts: Iterable[str] = (),
    files: Iterable[Path] = (),
    today: date | None = None,
) -> Labs:
    """The values of ``--lab`` options and lab files, merged and checked: one lab's values are
    all dated or all undated, and two different values of one lab on one date are refused."""
    values: list[Any] = [parse_lab(t, today) for t in texts]
    for path in files:
        values += read_file(Path(path), today)
    from dosecalc.clinical import pgx

    genotypes: dict[str, Any] = {}
    for g in values:
        if isinstance(g, pgx.Genotype):
            pgx.add(genotypes, g)
    merged = merge([v for v in values if isinstance(v, LabValue)])
    return merged._replace(genotypes=tuple(genotypes.values()))


def _genotype(cell: dict[str, str], where: str) -> Any:
    """A lab file's genotype row (a gene's name, its result, an empty unit or 'genotype')."""
    from dosecalc.clinical import pgx

    if cell["unit"].lower() not in ("", "genotype"):
        raise fail("unit", f"'{cell['unit'][:40]}': a genotype row's unit is empty or 'genotype'")
    return pgx.parse(cell["name"], cell["value"], "value")._replace(where=where)
