"""A large CSV history read by worker processes, a range of rows each, is the history a serial
read gives: same patients, drugs and regimens in the same order, same rows, same refusals."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import pytest

from dosecalc import history
from dosecalc.errors import FileError

# the first half of the file uses the first three; the others first appear later, in another
# order than a worker reading the second half alone meets them (its drug codes are remapped)
DRUGS = [
    ("epirubicin", "40", "mg/m2"),
    ("cisplatin", "60", "mg/m2"),
    ("EPI", "70", "mg"),
    ("ifosfamide", "2", "g/m2"),
    ("doxorubicin", "25", "mg/m2"),
    ("carboplatin", "500", "mg"),
]


def _write(
    path: Path, rows: int, *, regimen: bool = False, newline: str = "\n", bom: bool = False
) -> None:
    rnd = random.Random(7)
    header = ["date", "drug", "dose", "unit", "bsa_m2", "patient"]
    header += ["regimen", "cycle", "day", "note"] if regimen else []
    lines = [",".join(header)]
    for i in range(rows):
        drug, dose, unit = DRUGS[rnd.randrange(3 if i < rows // 2 else len(DRUGS))]
        p = rnd.randrange(900) if i < rows // 2 else rnd.randrange(300, 1200)
        when = date.fromordinal(737_000 + i // 40).isoformat()
        fields = [when, drug, dose, unit, "1.8" if unit == "mg" else "", f"P{p:04d}"]
        if regimen:
            note = '"held, then given\nnext day"' if i % 2 else ""
            fields += [("dia", "ddp-epi", "")[i % 3], str(i % 6 + 1), str(i % 3 + 1), note]
        lines.append(",".join(fields))
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        f.write(newline.join(lines) + newline)
    assert path.stat().st_size >= history.PARALLEL_BYTES


def _same(a: history.History, b: history.History) -> None:
    assert (a.names, a.regimens, a.sources) == (b.names, b.regimens, b.sources)
    assert list(a.patients) == list(b.patients)  # in the order of their first row
    for name, cols in a.patients.items():
        for slot in history.Columns.__slots__:
            assert getattr(cols, slot) == getattr(b.patients[name], slot), (name, slot)


def _parallel(path: Path, jobs: int) -> bool:
    """Whether the workers read ``path`` (rather than leaving it to the serial read)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        layout = history._layout(next(csv.reader(f)), str(path))
    return history._scan_parallel(path, layout, history.History(), 0, date.today(), jobs)


@pytest.mark.parametrize("jobs", [2, 3])
def test_workers_read_the_same_history_as_one_process(tmp_path: Path, jobs: int) -> None:
    path = tmp_path / "pharmacy.csv"
    _write(path, 60_000)
    assert _parallel(path, jobs)
    _same(history.load([path], jobs=jobs), history.load([path], jobs=1))


def test_quoted_line_ends_crlf_and_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    _write(path, 50_000, regimen=True, newline="\r\n", bom=True)
    ranges = history._row_ranges(path, 3)
    assert ranges is not None and len(ranges) == 3
    data = path.read_bytes()
    naive = [data.find(b"\n", len(data) * k // 3) + 1 for k in (1, 2)]
    assert any(data[:cut].count(b'"') % 2 for cut in naive)  # a cut at the next line end
    for start, _, line in ranges:  # would land in a note; these are row boundaries
        assert data[:start].count(b'"') % 2 == 0 and data[start - 1 : start] == b"\n"
        assert data[:start].count(b"\n") + 1 == line
    assert _parallel(path, 3)
    serial = history.load([path], jobs=1)
    _same(history.load([path], jobs=3), serial)
    assert serial.regimens == ["", "dia", "ddp-epi"]


def test_a_bad_row_late_in_the_file_is_refused_as_a_serial_read_refuses_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.csv"
    _write(path, 60_000)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[55_000] = lines[55_000].replace(",P", ",").replace("mg", "mg/kg", 1)
    path.write_text("".join(lines), encoding="utf-8")
    assert not _parallel(path, 2)
    errors = []
    for jobs in (1, 2):
        with pytest.raises(FileError) as e:
            history.load([path], jobs=jobs)
        errors.append(str(e.value))
    assert errors[0] == errors[1] and f"{path}:55001" in errors[0], errors


def test_line_ends_the_ranges_do_not_count_leave_it_to_the_serial_read(tmp_path: Path) -> None:
    path = tmp_path / "old-mac.csv"
    _write(path, 60_000)
    text = path.read_text(encoding="utf-8")
    half = len(text) // 2
    path.write_text(text[:half] + text[half:].replace("\n", "\r", 50), encoding="utf-8")
    assert not _parallel(path, 2)  # csv reads a lone \r as a line end; the ranges do not
    _same(history.load([path], jobs=2), history.load([path], jobs=1))


def test_small_files_are_read_serially(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("date,drug,dose,unit\n2024-01-02,epirubicin,40,mg/m2\n", encoding="utf-8")
    assert history._row_ranges(path, 4) is None
    _same(history.load([path], jobs=4), history.load([path], jobs=1))


def test_a_large_file_after_others_keeps_their_rows_first(tmp_path: Path) -> None:
    """The ranges of a second file merge into a history that already has patients, drugs and
    a file of its own; --prior amounts come after, as always."""
    first = tmp_path / "ward.csv"
    first.write_text(
        "date,drug,dose,unit,bsa_m2,patient\n"
        "2019-03-01,doxorubicin,50,mg/m2,,P0500\n"
        "2019-03-22,carboplatin,400,mg,1.7,P9999\n",
        encoding="utf-8",
    )
    big = tmp_path / "pharmacy.csv"
    _write(big, 60_000)
    paths = [first, big]
    serial = history.load(paths, jobs=1)
    _same(history.load(paths, jobs=2), serial)
    assert serial.sources == [str(first), str(big)]
    assert list(serial.patients)[:2] == ["P0500", "P9999"]
