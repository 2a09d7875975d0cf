"""The engine's check of many patients (dosecalc/pharmacy/batch.py) says exactly what the reference says.

The per-patient Python engine (history.load, check.preflight, check.check_history) is the
reference. Random multi-patient histories (mixed units, per-row BSA, equivalents, modifiers,
options, thresholds hit exactly, repeated administrations) go through both; the JSON of every
patient, the refusals and the exit status must be the same, byte for byte.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dosecalc.base.errors import DosecalcError
from dosecalc.base.jsontext import to_json_line
from dosecalc.clinical import check
from dosecalc.clinical.patient import Patient
from dosecalc.data import records
from dosecalc.data.ceilings import RiskFactors
from dosecalc.inputs import history as hist
from dosecalc.inputs import policy
from dosecalc.pharmacy import batch
from tests.conftest import TODAY as RUN_DAY  # the day dosecalc takes as today

TODAY = date(2026, 6, 1)
HEADER = ["date", "drug", "dose", "unit", "bsa_m2", "patient", "cycle", "day", "time", "id"]

# (drug as written, unit, doses): doses that add up to thresholds and limits exactly
# (epirubicin 900/1,000, doxorubicin 450/550 or 400 with cyclophosphamide, equivalents)
ROWS = [
    ("epirubicin", "mg/m2", ["100", "112.5", "90", "75", "37.5", "12.5", "60.25"]),
    ("EPI", "mg", ["70", "144.5", "180", "162"]),
    ("doxorubicin", "mg/m2", ["50", "75", "25", "45", "55", "60", "12.5"]),
    ("ADR", "mg", ["90", "81.5", "100"]),
    ("daunorubicin", "mg/m2", ["45", "60", "90"]),
    ("idarubicin", "mg/m2", ["12", "10", "8", "30"]),
    ("mitoxantrone", "mg/m2", ["12", "14", "10", "14.5"]),
    ("cyclophosphamide", "g/m2", ["0.6", "0.75", "1", "1.2"]),
    ("CTX", "mg", ["1000", "1200", "1500"]),
    ("bleomycin", "units", ["30", "15", "20", "10"]),
    ("bleomycin", "units/m2", ["10", "15"]),
    ("carboplatin", "mg", ["500", "450.5", "600"]),
    ("vincristine", "mg/m2", ["1.4", "1.5"]),
    ("DDP", "mg", ["120", "140"]),
    ("cisplatin", "mg/m2", ["75", "100", "50"]),
    ("ifosfamide", "g/m2", ["2", "1.8", "3"]),
    ("mitomycin", "mg/m2", ["10", "12", "6"]),
    ("carmustine", "mg/m2", ["150", "200", "300"]),
    ("oxaliplatin", "mg/m2", ["85", "130"]),
    # salt and formulation words, abbreviations in other cases (the drug book's reading)
    ("doxorubicin HCl", "mg/m2", ["50", "25"]),
    ("PLD", "mg/m2", ["50", "30"]),
    ("Doxil", "mg", ["90"]),
    ("epi", "mg/m2", ["90"]),
    ("cisplatin injection", "mg", ["150"]),
    # above the usual maximum single dose (HISTORY_DOSE_HIGH), or at ten times it (refused)
    ("epirubicin", "mg/m2", ["200", "600", "1500"]),
    ("epirubicin", "mg", ["700", "1000"]),
    ("cisplatin", "mg/m2", ["160"]),
    ("vincristine", "mg", ["4"]),
]
# the same numbers, written as people write them (every form the strict reader takes)
SPELLINGS = {"100": ["100", "100.0", "1e2", "1E2", " 100 "], "0.6": ["0.6", ".6", "0.60"]}
BSAS = ["", "", "1.8", "1.62", "2.05", "1.555", "0.95"]


# the rows a ledger records without --allow-high-dose (none above a usual maximum)
USUAL = ROWS[: ROWS.index(("epirubicin", "mg/m2", ["200", "600", "1500"]))]


@st.composite
def histories(draw: st.DrawFn, kinds: list = ROWS, other: str = "99999") -> list[list[str]]:
    """Rows of a history naming 1 to 5 patients, in any order, some administrations twice."""
    patients = draw(st.integers(1, 5))
    start = TODAY - timedelta(days=400)
    # ids a CSV writes quoted or with a formula's quote in front, as well as plain ones
    names = [draw(st.sampled_from([f"P{p}", f"Smith, J{p}", f'say "{p}"', f"=A{p}", f"-{p}"]))
             for p in range(patients)]  # fmt: skip
    rows: list[list[str]] = []
    for p in range(patients):
        for _ in range(draw(st.integers(1, 25))):
            drug, unit, doses = draw(st.sampled_from(kinds))
            dose = draw(st.sampled_from(doses))
            dose = draw(st.sampled_from(SPELLINGS.get(dose, [dose])))
            day = start + timedelta(days=draw(st.integers(0, 40)) * 7)
            bsa = draw(st.sampled_from(BSAS))
            cycle = draw(st.sampled_from(["", "", "1", "3"]))
            ident = draw(st.sampled_from(["", "", "", "", "A2", "A3"]))  # one source id twice
            rows.append([day.isoformat(), drug, dose, unit, bsa, names[p], cycle, "", "", ident])
    for row in draw(st.lists(st.sampled_from(rows), max_size=3)):  # the same day's dose again
        again = list(row)
        again[8] = draw(st.sampled_from(["", "", "08:00"]))  # a time can tell them apart
        again[9] = draw(st.sampled_from(["", "", "A1"]))
        again[2] = draw(st.sampled_from([again[2], "1", other]))  # or not the same dose
        rows.append(again)
    return draw(st.permutations(rows))


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _policy(options: dict[str, str]) -> policy.Policy:
    return policy.load(None, {"cumulative.options": (options, "test")} if options else None)


def _read(rules, loaded) -> list[str]:
    """The notices of the abbreviations the drug names were read through (ABBREVIATION_READ,
    each at its first file:line), as JSON lines."""
    from dosecalc.clinical.plan import name_alerts

    return [to_json_line(a.as_dict()) for a in name_alerts(rules, loaded.names_read())]


def reference(paths, bsa, factors, table, rules, again=False) -> tuple[list[str], list[str]]:
    """(the JSON line of each patient, then of each abbreviation notice, then the CSV of
    totals and whether any check is critical; the problems refused) by the per-patient engine."""
    from dosecalc.outputs import summary

    person = Patient(None, None, bsa, "given")
    try:
        loaded = hist.load(paths, (), TODAY)
        check.preflight(loaded, person, None, rules, again)
        results = list(check.check_history(loaded, person, factors, table, None, None, rules))
        totals = summary.csv_text([row for r in results for row in summary.csv_rows(r)])
        lines = [to_json_line(r.as_dict()) for r in results] + _read(rules, loaded)
        return [*lines, totals, str(any(r.critical for r in results))], []
    except DosecalcError as e:
        return [], [str(p) for p in e.problems]


def engine(paths, bsa, factors, table, rules, again=False) -> tuple[list[str], list[str]]:
    """:func:`reference`'s by the engine (the CSV of totals as the engine writes it)."""
    from dosecalc.outputs import summary

    person = Patient(None, None, bsa, "given")
    try:
        with batch.load(paths, TODAY, jobs=2) as loaded:
            checked = batch.check(loaded, batch.settings(person, factors, table, rules), again)
            lines = [to_json_line(r.as_dict()) for r in checked.checks()] + _read(rules, loaded)
            totals = "".join(text for text, _ in summary.numbers_csv(checked))
            return [*lines, totals, str(checked.any_critical)], []
    except DosecalcError as e:
        return [], [str(p) for p in e.problems]


@settings(
    max_examples=int(os.environ.get("DOSECALC_ENGINE_EXAMPLES", "200")),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=histories(),
    bsa=st.sampled_from([None, None, 1.8, 1.73]),
    factors=st.sampled_from(
        [
            RiskFactors(),
            RiskFactors(cardiac_radiation_gy=20.0),
            RiskFactors(age_years=70.0),
            RiskFactors(age_years=10.0),
            # the first anthracycline of some patients before 40, of others after (IGHG 2025)
            RiskFactors(age_years=40.5),
        ]
    ),
    table=st.sampled_from([None, "feijen-2019", "ighg-2025"]),
    options=st.sampled_from([{}, {"idarubicin": "uk-smpc", "mitomycin": "ntukidem-2010-cap"}]),
    again=st.booleans(),
)
def test_the_engine_checks_every_patient_as_the_reference_does(
    tmp_path: Path, rows, bsa, factors, table, options, again
) -> None:
    path = _write(tmp_path / "h.csv", rows)
    rules = _policy(options)
    want_lines, want_problems = reference([path], bsa, factors, table, rules, again)
    got_lines, got_problems = engine([path], bsa, factors, table, rules, again)
    event("refused" if want_problems else "checked")
    event("a limit exceeded" if "LIMIT_EXCEEDED" in "".join(want_lines) else "no limit exceeded")
    event("repeats counted" if "REPEAT_COUNTED" in "".join(want_lines) else "no repeat counted")
    assert got_lines == want_lines
    if want_problems:
        # the reference names the first row it cannot convert; the engine lists each of them,
        # in the same order (patients as they first appear, then their rows): the first is the
        # reference's
        assert got_problems[: len(want_problems)] == want_problems
    else:
        assert got_problems == []


# ---------------------------------------------------------------- rows refused


FIELDS = {
    "date": ["2024-02-03", "2024-02-30", "03/02/2024", "", " 2024-02-03", "2030-01-01", "2024-2-3"],
    "drug": ["epirubicin", "EPI", "aspirin", "", "epirubicine", " doxorubicin "]
    + ["MTX", "Myocet", "doxorubicin HCl", "PLD", "liposomal doxorubicine", "epi"],
    "dose": [
        "40",
        "40.5",
        ".5",
        "5.",
        "4e1",
        "0",
        "0.0",
        "-4",
        "4,0",
        "nan",
        "inf",
        "1e400",
        "abc",
        "",
        "1e7",
        "2000000",
        "1" * 45,
    ],
    "unit": ["mg/m2", "mg", "g/m2", "mg/kg", "units", "", "mL"],
    "bsa_m2": ["", "1.8", "9", "0", "x", "1,8"],
    "patient": ["P1", "P2", "", "  ", "'=P1", "''+P2", "'@ P3"],  # as the CSV writer escapes
    "cycle": ["", "1", "0", "x", "2.5"],
    "day": ["", "1", "-3", "-400", "x"],
    "time": ["", "08:30", "8:30", "25:00", "x"],
    "id": ["", "A1", "x" * 101],
}


# texts the one strict number reader refuses and Python's float() reads (dosecalc/base/strict.py):
# the property holds the engine to the reader's messages for them as well
STRICT = ["1_0", "+5", "070", "١٢", "１２", "0x1F", "1:30", "00.5", "5e+400"]
FIELDS["dose"] += STRICT
FIELDS["dose"] += ["'+5", "''+5", "'-5"]  # a dose as dosecalc's CSV writer guards it
FIELDS["bsa_m2"] += ["1_8", "+1.8", "01.8"]
FIELDS["cycle"] += ["1_0", "+2", "02"]


def test_the_engine_reads_a_dose_by_the_strict_number_rule(tmp_path: Path) -> None:
    """The engine reads each dose text by the reader's own function: what it refuses, with
    the reader's words, and what it takes ('+5' is 5, as the reader reads it)."""
    rows = [["2024-01-02", "epirubicin", dose, "mg/m2", "", "P1"] for dose in STRICT]
    rows += [["2024-01-03", "epirubicin", dose, "mg/m2", "", "P2"] for dose in (" 5 ", "5.", ".5")]
    path = _write(tmp_path / "h.csv", rows, HEADER[:6])
    _, problems = engine([path], None, RiskFactors(), None, _policy({}))
    refused = [n for n in range(2, 11) if n != 3]  # every one but '+5'
    assert [p.split(": ")[0] for p in problems] == [f"{path}:{n}" for n in refused]
    assert "070" in problems[1] and "leading zero" in problems[1]
    taken = _write(tmp_path / "plus.csv", [rows[1], rows[-1]], HEADER[:6])
    got = engine([taken], None, RiskFactors(), None, _policy({}))
    assert got == reference([taken], None, RiskFactors(), None, _policy({})) and got[1] == []


def test_the_engine_strips_what_python_strips() -> None:
    """The written-out list of white space is every character str.strip() removes, no more."""
    assert set(batch._SPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_the_engine_writes_a_number_as_python_does(tmp_path: Path) -> None:
    """The CSV of totals the engine writes (summary.numbers_csv): its text of a double is
    Python's repr, and its tenths (printf %.1f below 1e15, Python's own above) Python's
    round(x, 1), for doubles of every size, exact halves and the binade edges."""
    import random
    import struct

    rnd = random.Random(31)
    values = [rnd.random() * 10 ** rnd.uniform(-9, 20) for _ in range(100_000)]
    values += [struct.unpack("d", struct.pack("Q", rnd.getrandbits(63)))[0] for _ in range(50_000)]
    values += [i / 1000 for i in range(0, 200_000, 7)] + [i / 20 for i in range(4000)]  # halves
    values += [
        0.0,
        5e-324,
        1e-4,
        9.999999999999999e-05,
        1e15,
        1e16,
        2.0**53,
        1.7976931348623157e308,
    ]
    values = [v for v in values if math.isfinite(v)]
    con = batch.engine(1, str(tmp_path))
    con.create_function("tenths_py", lambda x: repr(round(x, 1)), ["DOUBLE"], "VARCHAR")
    con.execute(batch.TENTHS)
    got = con.execute(
        "SELECT CAST(v AS VARCHAR), tenths(v) FROM (SELECT unnest($1) AS v)", [values]
    ).fetchall()
    con.close()
    assert got == [(repr(v), repr(round(v, 1))) for v in values]


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS.items()}),
        min_size=1,
        max_size=12,
    )
)
def test_a_row_is_refused_by_the_engine_as_by_the_reference(tmp_path: Path, rows) -> None:
    """Whether a history is taken, and every row refused, in the reader's words."""
    path = _write(tmp_path / "h.csv", [[r[c] for c in HEADER] for r in rows])
    rules = _policy({})
    want = reference([path], 1.8, RiskFactors(), None, rules, again=True)
    got = engine([path], 1.8, RiskFactors(), None, rules, again=True)
    event("refused" if want[1] else "taken")
    assert got == want


def test_every_bad_row_is_named_up_to_a_cap_then_how_many_more(tmp_path: Path) -> None:
    rows = [["2024-01-02", "epirubicin", "40", "mg/m2", "", "P1"] for _ in range(30)]
    for i in range(3, 28):
        rows[i][2] = "forty"
    path = _write(tmp_path / "h.csv", rows, HEADER[:6])
    _, problems = engine([path], None, RiskFactors(), None, _policy({}))
    assert len(problems) == batch.MAX_PROBLEMS + 1
    assert problems[0] == f"{path}:5: dose 'forty' is not a number"
    assert problems[-1] == f"{path}: and 5 more bad rows (the last on line 29)"
    assert reference([path], None, RiskFactors(), None, _policy({}))[1] == problems


def test_abbreviations_are_noted_once_at_their_first_place_and_ambiguous_ones_refused(
    tmp_path: Path, run
) -> None:
    """As the reader notes them: each abbreviation once, in any case, at the first file:line it
    is written (over several files, one read by Python's csv module); MTX refused in its words."""
    a = _write(
        tmp_path / "a.csv",
        [BASE[0], ["2024-01-05", "Epi", "90", "mg/m2", "", "P2"], BASE[2]]
        + [["2024-02-01", "doxorubicin HCl", "50", "mg/m2", "", "P3"]],
        HEADER[:6],
    )
    b = tmp_path / "b.csv"
    b.write_text(
        "date,drug,dose,unit,bsa_m2,patient,note\n2024-03-01,EPI,90,mg/m2,,P3,\n"
        '2024-03-02,PLD,30,mg/m2,,P4,"given\nlate"\n2024-03-03,epi,90,mg/m2,,P4,\n'
        "2024-03-04,DDP,75,mg/m2,,P1,\n",
        encoding="utf-8",
    )
    lines = _same_as_reference([a, b])
    notices = [json.loads(x)["message"] for x in lines if '"ABBREVIATION_READ"' in x]
    assert notices == [
        f"'Epi' ({a}:3) was read as epirubicin: an abbreviation; ISMP recommends the full "
        "generic name",
        f"'PLD' ({b}:4) was read as liposomal doxorubicin: an abbreviation; ISMP recommends "
        "the full generic name",
        f"'DDP' ({b}:6) was read as cisplatin: an abbreviation; ISMP recommends the full "
        "generic name",
    ]
    p = run("check", "--history", str(a), "--history", str(b))
    assert [x for x in p.stderr.splitlines() if x.startswith("notice:")] == [
        f"notice: {n}" for n in notices
    ]
    p = run(
        "check", "--history", str(a), "--history", str(b), "--set", "names.abbreviations=refuse"
    )
    assert p.returncode == 2 and p.stdout == ""
    assert f"{a}:3: 'Epi' is an abbreviation of epirubicin" in p.stderr
    mtx = _write(
        tmp_path / "mtx.csv", BASE + [["2024-01-04", "MTX", "12", "mg", "", "P2"]], HEADER[:6]
    )
    _, problems = _same_refusal([mtx])
    assert problems == [
        f"{mtx}:15: 'MTX' is ambiguous: real orders use it for methotrexate and mitoxantrone; "
        "write the generic name"
    ]


def _same_refusal(paths: list[Path]) -> tuple[list[str], list[str]]:
    rules = _policy({})
    want = reference(paths, None, RiskFactors(), None, rules)
    assert engine(paths, None, RiskFactors(), None, rules) == want
    return want


# ---------------------------------------------------------------- files as people have them


def _same_as_reference(paths: list[Path], bsa: float | None = None) -> list[str]:
    rules = _policy({})
    want = reference(paths, bsa, RiskFactors(), None, rules)
    got = engine(paths, bsa, RiskFactors(), None, rules)
    assert got == want
    return got[0][:-2]  # the JSON lines (then come the CSV of totals and whether critical)


BASE = [
    ["2024-01-02", "epirubicin", "100", "mg/m2", "", "P1"],
    ["2024-01-23", "EPI", "180", "mg", "1.8", "P1"],
    ["2024-01-03", "doxorubicin", "75", "mg/m2", "", "P2"],
] + [[f"2024-{m:02d}-02", "epirubicin", "100", "mg/m2", "", "P1"] for m in range(2, 12)]


def test_quoted_line_breaks_blank_lines_crlf_and_a_bom_keep_every_line_number(
    tmp_path: Path,
) -> None:
    """The engine reads a file one row a line; any other file goes to Python's csv module,
    whose line numbers the messages carry."""
    lines = ["date,drug,dose,unit,bsa_m2,patient,note"]
    for i, row in enumerate(BASE):
        lines.append(",".join(row) + (',"given,\nlate"' if i % 4 == 1 else ","))
        if i == 5:
            lines.append("")
    text = "\n".join(lines) + "\n\n"
    for name, data in {
        "quotes.csv": text.encode(),
        "crlf.csv": ("\ufeff" + text.replace("\n", "\r\n")).encode(),
        "mixed.csv": text.replace("\n", "\r\n", 3).encode(),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        got = _same_as_reference([path])
        assert f"{path}:" in "".join(got)


def test_a_history_of_no_rows_and_of_one_patient(tmp_path: Path, run) -> None:
    """No rows: refused by both, in the same words (a header alone would count as no prior
    exposure). One patient named in a column: the reference's output for one patient (the
    engine hands it over)."""
    empty = _write(tmp_path / "empty.csv", [], HEADER[:6])
    rules = _policy({})
    got = engine([empty], None, RiskFactors(), None, rules)
    assert got == reference([empty], None, RiskFactors(), None, rules)
    assert "holds no administrations, only its header" in str(got[1])
    p = run("check", "--history", str(empty), "--format", "json")
    assert p.returncode == 2 and p.stdout == "" and "holds no administrations" in p.stderr
    one = _write(tmp_path / "one.csv", BASE[:2], HEADER[:6])
    p = run("check", "--history", str(one), "--format", "json")
    assert p.returncode == 0 and p.stdout.startswith('{\n  "patients": [\n    {\n')


def test_a_file_with_one_row_a_line_is_read_by_the_engine(tmp_path: Path) -> None:
    path = _write(tmp_path / "plain.csv", BASE, HEADER[:6])
    with batch.load([path], TODAY) as loaded:
        assert [s.slow for s in loaded.sources] == [False]
    with batch.load([_write(tmp_path / "blank.csv", BASE + [[]], HEADER[:6])], TODAY) as loaded:
        assert [s.slow for s in loaded.sources] == [False]  # a blank line at the end only


def test_rows_of_the_wrong_width_and_bad_quotes_are_named_as_python_names_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,drug,dose,unit,bsa_m2,patient\n2024-01-02,epirubicin,40,mg/m2,,P1\n"
        "2024-01-03,epirubicin,40,mg/m2,P1\n2024-01-04,epirubicin,40,mg/m2,,P1,x\n",
        encoding="utf-8",
    )
    _, problems = engine([path], None, RiskFactors(), None, _policy({}))
    assert problems == [
        f"{path}:3: this row has 5 fields, the header has 6",
        f"{path}:4: this row has 7 fields, the header has 6",
    ]
    path.write_text(
        'date,drug,dose,unit,bsa_m2,patient\n2024-01-02,epirubicin,"40"x,mg/m2,,P1\n',
        encoding="utf-8",
    )
    _, problems = engine([path], None, RiskFactors(), None, _policy({}))
    assert problems == [f"{path}:2: not valid CSV: ',' expected after '\"'"]
    path.write_bytes(b"date,drug,dose,unit,bsa_m2,patient\n2024-01-02,epirubicin,4\xff,mg,,P1\n")
    _, problems = engine([path], None, RiskFactors(), None, _policy({}))
    assert problems == [f"{path}:2: byte 0xff is not UTF-8; save the file as UTF-8"]


def test_a_line_of_megabytes_is_refused_with_its_line(tmp_path: Path, run) -> None:
    """The engine's reader takes lines of up to 2 MB (its buffer stays within its memory,
    whatever the size of the file); a longer one is read by Python's csv module, which refuses
    it at its line: never an out-of-memory error, never a skipped row."""
    path = tmp_path / "long.csv"
    path.write_text(
        "date,drug,dose,unit,bsa_m2,patient\n2024-01-02,epirubicin,40,mg/m2,,P1\n"
        f"2024-01-03,epirubicin,40,mg/m2,,P{'9' * 3_000_000}\n2024-01-04,epirubicin,40,mg/m2,,P2\n",
        encoding="utf-8",
    )
    p = run("check", "--history", str(path), "--format", "json")
    assert p.returncode == 2 and p.stdout == "", p.stderr
    assert f"{path}:3: not valid CSV" in p.stderr and "Traceback" not in p.stderr


def test_several_files_and_the_same_file_twice(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.csv", BASE[:2], HEADER[:6])
    b = _write(tmp_path / "b.csv", BASE[2:], HEADER[:6])
    _same_as_reference([a, b])
    _, problems = engine([a, Path(str(a))], None, RiskFactors(), None, _policy({}))
    assert problems == [
        f"--history: {a} is given twice: every dose in it would count twice; give each history once"
    ]


def test_a_parquet_history_is_read_natively(tmp_path: Path, run) -> None:
    import duckdb

    csv_path = _write(tmp_path / "h.csv", BASE, HEADER[:6])
    parquet = tmp_path / "h.parquet"
    with duckdb.connect() as con:  # as a warehouse exports it: a date column, a number column
        con.execute(
            f"COPY (SELECT CAST(date AS DATE) AS date, drug, CAST(dose AS DOUBLE) AS dose, unit, "
            f"bsa_m2, patient FROM read_csv('{csv_path}', all_varchar = true)) "
            f"TO '{parquet}' (FORMAT parquet)"
        )
    from_csv = json.loads(run("check", "--history", str(csv_path), "--format", "json").stdout)
    p = run("check", "--history", str(parquet), "--format", "json")
    assert p.returncode == 1, p.stderr  # P1 is over the epirubicin limit
    # the same check; a Parquet file has no lines: a row is named by its number (the CSV
    # file's line less its header)
    import re

    shifted = re.sub(
        re.escape(str(csv_path)) + r":(\d+)",
        lambda m: f"{parquet}:{int(m.group(1)) - 1}",
        json.dumps(from_csv),
    )
    assert json.loads(p.stdout) == json.loads(shifted)
    assert f"({parquet}:12)" in p.stdout  # the row over the limit


def test_a_parquet_file_of_one_patient_prints_that_patient_in_full(tmp_path: Path, run) -> None:
    """A Parquet export of one patient printed only '1 patient checked: 0 over a threshold, 0
    over a limit' (the many-patient summary, no total at all) where the same rows in CSV print the
    patient's totals: one patient is printed in full, as the CSV is (without its chart)."""
    import duckdb

    csv_path = tmp_path / "one.csv"
    csv_path.write_text(
        "patient,date,drug,dose,unit\nP7,2024-01-02,epirubicin,90,mg/m2\n"
        "P7,2024-01-23,epirubicin,90,mg/m2\n"
    )
    parquet = tmp_path / "one.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (FROM read_csv('{csv_path}', all_varchar = true)) TO '{parquet}'")
    shown = {}
    for path in (csv_path, parquet):
        p = run("check", "--history", str(path))
        assert p.returncode == 0, p.stderr
        shown[path.suffix] = p.stdout
    for out in shown.values():
        assert out.startswith("Patient P7\nCumulative exposure\n")
        assert re.search(r"epiRUBicin +mg/m² +180 +900 +1,000 ", out)
        assert "patient checked" not in out


@pytest.mark.parametrize(
    "row",
    [
        ' "P2",2024-01-02,epirubicin,100,mg/m2',  # the engine read P2 (over its limit), the
        'P2,2024-01-02,epirubicin, "100",mg/m2',  # reference a patient '"P2"' (under it)
        '"P2" ,2024-01-02,epirubicin,100,mg/m2',
        'P2,2024-01-02,epirubicin,100,"mg/m2"\t',
    ],
)
def test_a_quote_beside_a_space_is_read_by_both_paths_alike(tmp_path: Path, row: str) -> None:
    """A space before an opening quote makes the quotes text to Python's csv module, while
    the engine's reader dropped them: the same file was over a limit on one path only."""
    path = tmp_path / "h.csv"
    rows = [f"P2,2023-{m:02d}-01,epirubicin,100,mg/m2" for m in range(1, 11)]
    path.write_text("patient,date,drug,dose,unit\n" + "\n".join([*rows, row]) + "\n")
    want = reference([path], None, RiskFactors(), None, _policy({}))
    assert want[1], "refused"
    assert engine([path], None, RiskFactors(), None, _policy({})) == want


@pytest.mark.parametrize("patients", [True, False], ids=["engine", "reference"])
def test_the_bad_rows_of_every_file_are_named_at_once(tmp_path: Path, patients: bool) -> None:
    """Two files with bad rows: both named (only the first file's were)."""
    head = "patient,date,drug,dose,unit\n" if patients else "date,drug,dose,unit\n"
    who = "P1," if patients else ""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(f"{head}{who}2024-01-01,epirubicin,abc,mg/m2\n")
    b.write_text(f"{head}{who}2024-13-01,epirubicin,40,mg/m2\n")
    want = [f"{a}:2: dose 'abc' is not a number", f"{b}:2: date '2024-13-01' is not a date"]
    for run_ in (reference, engine) if patients else (reference,):
        problems = run_([a, b], None, RiskFactors(), None, _policy({}))[1]
        assert [p[: len(w)] for p, w in zip(problems, want, strict=True)] == want


def test_a_parquet_column_named_with_spaces_is_read(tmp_path: Path, run) -> None:
    import duckdb

    parquet = tmp_path / "h.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 'P1' AS \" patient\", '2024-01-02' AS date, 'epirubicin' AS drug, "
            f"40.0 AS \"dose \", 'mg/m2' AS unit) TO '{parquet}' (FORMAT parquet)"
        )
    p = run("check", "--history", str(parquet), "--format", "csv")
    assert p.returncode == 0, p.stderr
    assert "P1,epirubicin,mg/m2,40.0," in p.stdout


@pytest.mark.parametrize("over", [None, "threshold", "limit"])
def test_the_summary_csv_and_json_of_many_patients_are_the_references(
    tmp_path: Path, run, over: str | None
) -> None:
    """What the engine prints for a history of many patients is what the reference prints
    (check_history, summary): the summary lines and counts, CSV rows, JSON; --only-over and
    --patients-over keep the same patients."""
    from dosecalc.outputs import summary

    rows = BASE + [["2024-02-03", "doxorubicin", "600", "mg/m2", "", "P3"]]
    path = _write(tmp_path / "h.csv", rows, HEADER[:6])
    rules = _policy({})
    person = Patient(None, None, None, "given")
    loaded = hist.load([path], (), RUN_DAY)
    check.preflight(loaded, person, None, rules)  # repeats and doses above the usual maximum
    checks = list(check.check_history(loaded, person, RiskFactors(), None, None, None, rules))
    shown = [r for r in checks if check.passes(check.worst(r), over)]
    flag = ["--patients-over", over] if over else []
    p = run("check", "--history", str(path), *flag)
    assert p.returncode == 1, p.stderr
    lines = [summary.status_line(r) for r in shown if summary.status_line(r)]
    counts = [check.worst(r) for r in checks]
    lines.append(
        f"3 patients checked: {sum(c is not None for c in counts)} over a threshold, "
        f"{counts.count('limit')} over a limit"
    )
    assert p.stdout.splitlines() == lines
    p = run("check", "--history", str(path), "--format", "csv", *flag)
    want = summary.csv_text([row for r in checks for row in summary.csv_rows(r, over)], True)
    assert p.stdout == want
    p = run("check", "--history", str(path), "--format", "json", *flag)
    from dosecalc.clinical.plan import name_alerts

    read = name_alerts(rules, loaded.names_read())  # the abbreviations read (EPI)
    patients = ",\n".join(to_json_line(r.as_dict()) for r in shown)
    notices = ",\n".join(to_json_line(w.as_dict()) for w in read)
    assert read and p.stdout == f'{{"patients": [\n{patients}\n], "warnings": [\n{notices}\n]}}\n'

    p = run("check", "--history", str(path), "--details", *flag)
    assert [x for x in p.stdout.splitlines() if x.startswith("Patient ")] == [
        f"Patient {r.patient}" for r in shown
    ]


def test_patients_over_says_what_only_over_says(tmp_path: Path, run) -> None:
    path = _write(tmp_path / "h.csv", BASE, HEADER[:6])
    a = run("check", "--history", str(path), "--patients-over", "limit", "--format", "json")
    b = run("check", "--history", str(path), "--only-over", "limit", "--format", "json")
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout) == (1, b.stdout)
    p = run("check", "--history", str(path), "--patients-over", "sometimes")
    assert p.returncode == 2 and "'sometimes' is not a level" in p.stderr
    p = run("check", "--history", str(path), "--patients-over", "limit", "--only-over", "threshold")
    assert p.returncode == 2 and "says the same as --only-over" in p.stderr
    p = run("check", "--all-patients", "--next", "ec", "--db", str(tmp_path / "l.db"))
    assert p.returncode == 2 and "leave out --next" in p.stderr


def test_a_plan_and_one_patients_check_never_load_the_engine(tmp_path: Path) -> None:
    """Start-up: the engine (duckdb, numpy) is imported by the commands that read many
    patients only."""
    import subprocess
    import sys

    from tests.test_cli import _MODULES_AT_EXIT

    one = _write(tmp_path / "one.csv", [r[:5] for r in BASE[:2]], HEADER[:5])
    many = _write(tmp_path / "many.csv", BASE, HEADER[:6])
    runs = {}
    for name, args in {
        "plan": ["plan", "dia", "--height", "175cm", "--weight", "70kg", "--format", "json"],
        "one": ["check", "--history", str(one), "--format", "json"],
        "many": ["check", "--history", str(many), "--format", "json"],
    }.items():
        p = subprocess.run(
            [sys.executable, "-c", _MODULES_AT_EXIT, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode in (0, 1), p.stderr
        runs[name] = {m.split(".")[0] for m in json.loads(p.stderr.splitlines()[-1])}
    assert not {"duckdb", "numpy"} & (runs["plan"] | runs["one"])
    assert {"duckdb", "numpy"} <= runs["many"]


# ---------------------------------------------------------------- the ledger audit


def test_the_ledger_audit_is_the_reference_check_of_every_patient(
    tmp_path: Path, run, ledger_url: str
) -> None:
    """SQLite: the records are streamed into the engine; PostgreSQL: stage 1 runs in the
    database. Either way the output is the reference's, byte for byte."""
    from dosecalc.ledger import Ledger

    rows = [r + [""] * 4 for r in BASE]
    rows += [
        ["2024-03-01", "CTX", "1000", "mg", "", "P3", "", "", "", ""],
        ["2024-03-02", "doxorubicin", "50", "mg/m2", "2.01", "P3", "", "", "", ""],
        ["2024-04-02", "doxorubicin", "60", "mg/m2", "2.01", "P3", "", "", "", ""],
        ["2024-01-24", "doxorubicin", "50", "mg/m2", "", "P2", "", "", "", ""],
    ]
    path = _write(tmp_path / "h.csv", rows)
    env = {"DOSECALC_DB": ledger_url}
    assert run("ledger", "import", str(path), env=env).returncode == 0
    loaded = records.History()
    Ledger(ledger_url).add_to(loaded, None)
    person = Patient(None, None, None, "given")
    rules = _policy({})
    check.preflight(loaded, person, None, rules, False)
    want = [
        to_json_line(r.as_dict())
        for r in check.check_history(loaded, person, RiskFactors(), None, None, None, rules)
    ]
    p = run("check", "--all-patients", "--format", "json", env=env)
    assert p.returncode == 1, p.stderr
    assert p.stdout == '{"patients": [\n' + ",\n".join(want) + "\n]}\n"
    # the CSV of totals, made from the engine's numbers alone, is the reference's
    from dosecalc.outputs import summary

    checks = list(check.check_history(loaded, person, RiskFactors(), None, None, None, rules))
    for over in (None, "threshold", "limit"):
        flag = ["--patients-over", over] if over else []
        p = run("check", "--all-patients", "--format", "csv", *flag, env=env)
        shown = [r for r in checks if check.passes(check.worst(r), over)]
        rows = [row for r in shown for row in summary.csv_rows(r, over)]
        assert (p.returncode, p.stdout) == (1, summary.csv_text(rows, True)), p.stderr
    # an age: P1 and P2 began anthracyclines before 40 (IGHG surveillance), P3 after
    age = round(40 + (RUN_DAY - date(2024, 2, 1)).days / 365.25, 2)
    factors = RiskFactors(age_years=age)
    want = [
        to_json_line(r.as_dict())
        for r in check.check_history(loaded, person, factors, None, None, None, rules)
    ]
    assert ["begun before age 40" in x for x in want] == [True, True, False]
    p = run("check", "--all-patients", "--format", "json", "--age", str(age), env=env)
    assert p.stdout == '{"patients": [\n' + ",\n".join(want) + "\n]}\n", p.stderr
    p = run("check", "--all-patients", "--patients-over", "limit", env=env)
    assert p.stdout.splitlines()[-1] == "3 patients checked: 1 over a threshold, 1 over a limit"
    assert "ledger record #" in p.stdout or "P1: LIMIT EXCEEDED" in p.stdout


def test_a_ledger_whose_chain_does_not_verify_is_not_used_for_a_total(
    tmp_path: Path, run, ledger_url: str
) -> None:
    from tests.conftest import sql

    path = _write(tmp_path / "h.csv", [r + [""] * 4 for r in BASE])
    env = {"DOSECALC_DB": ledger_url}
    assert run("ledger", "import", str(path), env=env).returncode == 0
    sql(ledger_url, "UPDATE dosecalc_records SET dose = '10' WHERE seq = 2")
    p = run("check", "--all-patients", "--format", "json", env=env)
    assert p.returncode == 2 and p.stdout == ""
    assert "failed its integrity check" in p.stderr and "ledger verify" in p.stderr


def test_checked_orders_in_the_ledger_are_walked_but_never_doses(
    tmp_path: Path, run, ledger_url: str
) -> None:
    """``verify --record`` writes records of kind check: the audit counts doses only (as the
    reference's reading of the ledger does), and the chain walk still covers the checks."""
    from dosecalc.ledger import Ledger
    from tests.conftest import sql
    from tests.test_verify import PATIENT, ec_order, save

    path = _write(tmp_path / "h.csv", [r + [""] * 4 for r in BASE])
    env = {"DOSECALC_DB": ledger_url}
    assert run("ledger", "import", str(path), env=env).returncode == 0
    for who in ("P2", "P9"):  # P9: a checked order and no dose at all
        order = save(tmp_path, ec_order(), f"{who}.yaml")
        p = run("verify", str(order), *PATIENT, "--patient", who, "--record", env=env)
        assert "recorded as #" in p.stdout, p.stderr
    report = json.loads(run("ledger", "verify", "--format", "json", env=env).stdout)
    assert (report["checks"], report["doses"]) == (2, len(BASE))
    loaded = records.History()
    Ledger(ledger_url).add_to(loaded, None)
    person = Patient(None, None, None, "given")
    rules = _policy({})
    want = [
        to_json_line(r.as_dict())
        for r in check.check_history(loaded, person, RiskFactors(), None, None, None, rules)
    ]
    assert len(want) == 2  # P1 and P2: a check is not a dose
    p = run("check", "--all-patients", "--format", "json", env=env)
    assert p.returncode == 1, p.stderr
    assert p.stdout == '{"patients": [\n' + ",\n".join(want) + "\n]}\n"
    seq = len(BASE) + 1  # the first check: an edited note breaks the chain
    sql(ledger_url, f"UPDATE dosecalc_records SET note = note || ' ' WHERE seq = {seq}")
    p = run("check", "--all-patients", "--format", "json", env=env)
    assert p.returncode == 2 and p.stdout == ""
    assert f"record #{seq} was changed after it was recorded" in p.stderr


def _refused(url: str, entries: list, sha: str, path: Path, high: str | None = None) -> list:
    """The problems for which the ledger refuses to record ``entries`` (none: recorded)."""
    from dosecalc import ledger as lg

    try:
        lg.Ledger(url, create=True).record(
            entries, again=True, source_sha256=sha, source_file=str(path), high_dose=high
        )
    except DosecalcError as e:
        return e.problems
    return []


@pytest.fixture
def one_database(postgres_server: str):
    """One PostgreSQL database for all the examples of a property (each empties it first)."""
    from tests import pg

    with pg.database(postgres_server) as url:
        yield url


@settings(
    max_examples=int(os.environ.get("DOSECALC_AUDIT_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    rows=histories(USUAL, "90"),
    bsa=st.sampled_from([None, 1.8]),
    table=st.sampled_from([None, "ighg-2025"]),
    name=st.sampled_from(["P", 'O"Brien, J. ', "Ünï 病人 ", "=1+", "'quoted'\\"]),
)
def test_the_postgresql_audit_is_the_reference_for_random_ledgers(
    tmp_path: Path, one_database: str, rows, bsa, table, name
) -> None:
    """The audit's stage 1 in PostgreSQL (running sums, first crossings found where a total
    reaches a level the row before did not, thresholds hit exactly, patients named with quotes,
    commas and letters of any script, sent back as CSV) against the reference's reading of the
    same ledger, byte for byte."""
    from dosecalc import ledger as lg
    from dosecalc.pharmacy import audit
    from tests import pg

    rows = [[*r[:5], name + r[5][1:], *r[6:]] for r in rows]
    path = _write(tmp_path / "h.csv", rows)
    person = Patient(None, None, bsa, "given")
    rules = _policy({})
    url = pg.emptied(one_database)  # each example on an empty database
    data, sha = lg.read_source(path)
    entries = lg.entries_from_rows(lg.history_rows(path, data), str(path), None)
    refused = _refused(url, entries, sha, path)
    if refused and all("--allow-high-dose" in str(p) for p in refused):
        refused = _refused(url, entries, sha, path, "as given")  # above the usual maximum
    if refused:
        event("refused by the ledger (a unit slip)")
        return
    loaded = records.History()
    lg.Ledger(url).add_to(loaded, None)
    want, want_problems, got, got_problems = [], [], [], []
    try:
        check.preflight(loaded, person, None, rules, True)
        results = check.check_history(loaded, person, RiskFactors(), table, None, None, rules)
        want = [to_json_line(r.as_dict()) for r in results]
    except DosecalcError as e:
        want_problems = [str(p) for p in e.problems]
    try:
        with audit.load(url, jobs=2) as ledger:
            checked = batch.check(ledger, batch.settings(person, RiskFactors(), table, rules))
            got = [to_json_line(r.as_dict()) for r in checked.checks()]
    except DosecalcError as e:
        got_problems = [str(p) for p in e.problems]
    event("refused" if want_problems else "checked")
    event("a limit exceeded" if "LIMIT_EXCEEDED" in "".join(want) else "no limit exceeded")
    assert got == want
    assert bool(got_problems) == bool(want_problems)
    if want_problems:  # the reference names the first record it cannot convert; the audit each
        assert got_problems[: len(want_problems)] == want_problems


# ---------------------------------------------------------------- the engine reads as the reader does


DOX = "doxorubicin,75,mg/m2"


@pytest.mark.parametrize("column", ["id", "regimen"])
def test_a_space_before_a_quote_is_refused_by_the_engine_as_by_the_reader(
    run, tmp_path: Path, column: str
) -> None:
    """An id ' "X1"' beside X1 was another id to the engine: one dose counted twice (180 mg/m²,
    exit 0) where the reader refuses the file; a regimen cell the same."""
    text = f"patient,date,drug,dose,unit,{column}\nA,2025-01-06,{DOX},X1\n"
    text += f'A,2025-01-06,{DOX}, "X1"\nB,2025-01-06,{DOX},\n'
    f = tmp_path / "pharmacy.csv"
    f.write_text(text, encoding="utf-8")
    p = run("check", "--history", str(f), "--format", "csv")
    assert p.returncode == 2, p.stdout
    assert f"{f}:3: '\"X1\"' has a space before its opening quote" in p.stderr


def test_a_path_the_engine_would_read_as_a_pattern_is_the_file_named(run, tmp_path: Path) -> None:
    """ward[12].csv was read as the pattern it looks like: ward1.csv beside it was checked."""
    rows = "".join(f"A,2025-{m:02d}-06,{DOX}\n" for m in range(1, 9))
    (tmp_path / "ward[12].csv").write_text(f"patient,date,drug,dose,unit\n{rows}", "utf-8")
    other = rows.replace(",75,", ",7.5,")  # the same lines: the engine's line count agreed
    (tmp_path / "ward1.csv").write_text(f"patient,date,drug,dose,unit\n{other}", "utf-8")
    p = run("check", "--history", str(tmp_path / "ward[12].csv"), "--format", "csv")
    assert p.returncode == 1 and "A,doxorubicin,mg/m2,600.0," in p.stdout, p.stdout
    import duckdb

    for name, n in (("exp[12].parquet", 8), ("exp1.parquet", 1)):
        duckdb.connect().execute(
            f"COPY (SELECT 'A' AS patient, DATE '2025-01-06' + CAST(21 * i AS INTEGER) AS date, "
            f"'doxorubicin' AS drug, '75' AS dose, 'mg/m2' AS unit FROM range({n}) t(i)) "
            f"TO '{tmp_path / name}' (FORMAT parquet)"
        )
    p = run("check", "--history", str(tmp_path / "exp[12].parquet"), "--format", "csv")
    assert p.returncode == 1 and "A,doxorubicin,mg/m2,600.0," in p.stdout, (p.stdout, p.stderr)


@pytest.mark.parametrize("kind", ["DOUBLE", "BOOLEAN"])
def test_a_parquet_patient_column_of_fractions_is_refused(run, tmp_path: Path, kind: str) -> None:
    """A patient column stored as DOUBLE (pandas with a missing MRN) was read as '7.0', not the
    CSV's 7: one patient's 600 mg/m² became two of 300, exit 0."""
    import duckdb

    value = "7.0::DOUBLE" if kind == "DOUBLE" else "true"
    f = tmp_path / "warehouse.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT {value} AS patient, DATE '2024-01-08' AS date, 'doxorubicin' AS drug, "
        f"'75' AS dose, 'mg/m2' AS unit) TO '{f}' (FORMAT parquet)"
    )
    p = run("check", "--history", str(f), "--format", "csv")
    assert p.returncode == 2, p.stdout
    assert f"{f}: its patient column is stored as {kind}" in p.stderr


def test_ids_alike_by_pythons_lower_on_the_engine_too(run, tmp_path: Path) -> None:
    """The engine grouped ids with its own lower(), which has no final sigma: ΠΑΠΑΔΟΠΟΥΛΟΣ and
    Παπαδοπουλος were not said alike, where the reference says so."""
    f = tmp_path / "greek.csv"
    f.write_text(
        f"patient,date,drug,dose,unit\nΠΑΠΑΔΟΠΟΥΛΟΣ,2025-01-06,{DOX}\n"
        f"Παπαδοπουλος,2025-01-27,{DOX}\nB,2025-01-06,{DOX}\n",
        encoding="utf-8",
    )
    p = run("check", "--history", str(f), "--format", "json")
    data = json.loads(p.stdout)
    assert any(w["code"] == "PATIENT_IDS_ALIKE" for w in data["warnings"]), data["warnings"]
