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
