"""A pharmacy-wide JSON check by worker processes says exactly what the serial check says."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

from dosecalc import check

DRUGS = [
    ("epirubicin", "40", "mg/m2"),
    ("doxorubicin", "25", "mg/m2"),
    ("cisplatin", "60", "mg/m2"),
    ("ifosfamide", "2", "g/m2"),
    ("EPI", "70", "mg"),
    ("carboplatin", "500", "mg"),
]


def _history(path: Path, patients: int, per: int) -> None:
    """Patients interleaved (as in a date-ordered pharmacy export), mixed units."""
    rnd = random.Random(3)
    bsa = {p: round(rnd.uniform(1.4, 2.2), 2) for p in range(patients)}
    lines = ["date,drug,dose,unit,bsa_m2,patient"]
    for i in range(per):
        for p in range(patients):
            drug, dose, unit = DRUGS[rnd.randrange(len(DRUGS))]
            when = date.fromordinal(738_000 + i * 7 + p % 5)  # one row a patient a day
            lines.append(f"{when},{drug},{dose},{unit},{bsa[p] if unit == 'mg' else ''},P{p:04d}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_workers_write_the_same_bytes_and_exit_code_as_one_process(run, tmp_path: Path) -> None:
    patients = 3 * check.CHUNK + 17  # four chunks, the last one short
    per = check.PARALLEL_ROWS // patients + 1
    history = tmp_path / "pharmacy.csv"
    _history(history, patients, per)
    serial = run("check", "--history", str(history), "--format", "json", "--jobs", "1")
    parallel = run("check", "--history", str(history), "--format", "json", "--jobs", "3")
    assert serial.returncode == 1, serial.stderr  # someone is over a limit
    assert (parallel.returncode, parallel.stderr) == (serial.returncode, serial.stderr)
    assert parallel.stdout == serial.stdout
    data = json.loads(parallel.stdout)
    assert [p["patient"] for p in data["patients"]] == [f"P{p:04d}" for p in range(patients)]


def test_workers_only_pay_off_on_large_histories() -> None:
    assert check.workers(4, 10, check.PARALLEL_ROWS - 1) == 1  # starting them costs more
    assert check.workers(4, 10, check.PARALLEL_ROWS) == 4
    assert check.workers(4, 2, 10**6) == 2  # no more workers than chunks of patients
    assert check.workers(1, 80, 10**6) == 1  # --jobs 1


def test_a_pharmacy_checks_as_a_summary_or_csv_the_same_with_workers(run, tmp_path: Path) -> None:
    """The table of many patients is a summary (one line per patient over a threshold, then the
    counts), as fast as JSON because the same workers build it; CSV and --only-over likewise."""
    import csv
    import io
    import time

    patients = 2 * check.CHUNK + 5
    per = check.PARALLEL_ROWS // patients + 1
    history = tmp_path / "pharmacy.csv"
    _history(history, patients, per)
    timed = {}
    for fmt in ("json", "table"):
        start = time.monotonic()
        run("check", "--history", str(history), "--format", fmt, "--jobs", "2")
        timed[fmt] = time.monotonic() - start
    assert timed["table"] < 3 * timed["json"] + 2, timed  # not the per-patient rendering
    outputs = {}
    for jobs in ("1", "2"):
        for extra in (
            [],
            ["--only-over", "limit"],
            ["--format", "csv"],
            ["--format", "json", "--only-over", "limit"],
        ):
            p = run("check", "--history", str(history), "--jobs", jobs, *extra)
            assert p.returncode == 1, p.stderr  # someone is over a limit
            outputs[(jobs, tuple(extra))] = p.stdout
    for key, text in outputs.items():
        assert text == outputs[("1", key[1])], key
    summary = outputs[("1", ())].splitlines()
    assert summary[-1] == f"{patients} patients checked: " + summary[-1].split(": ", 1)[1]
    over = int(summary[-1].split(": ")[1].split()[0])
    exceeded = int(summary[-1].split(", ")[1].split()[0])
    assert len(summary) == over + 1 and exceeded >= 1
    assert all(": LIMIT EXCEEDED: " in x or ": threshold reached: " in x for x in summary[:-1])
    only = outputs[("1", ("--only-over", "limit"))].splitlines()
    assert len(only) == exceeded + 1 and all(": LIMIT EXCEEDED: " in x for x in only[:-1])
    rows = list(csv.DictReader(io.StringIO(outputs[("1", ("--format", "csv"))])))
    assert len({r["patient"] for r in rows}) == patients
    crossed = [r for r in rows if r["limit_exceeded_on"]]
    assert crossed and all(float(r["total"]) > float(r["limit"]) for r in crossed)
    data = json.loads(outputs[("1", ("--format", "json", "--only-over", "limit"))])
    assert len(data["patients"]) == exceeded
    details = run("check", "--history", str(history), "--details", "--only-over", "limit")
    assert details.stdout.count("Cumulative exposure") == exceeded
