"""dosecalc benchmarks: whole processes, medians of several rounds after a warm-up (a figure and
its baseline take turns within each round), ratios to the
baseline each target is stated against, printed next to the target.

    python bench/bench.py            # all four figures (generates a 1M-row history once)
    python bench/bench.py --quick    # fewer runs, 100k/1M-row history only for figure 4

Targets (issue 7):
  1. dosecalc --help / --version / completion  <= 1.3 x  python -c "import typer"
  2. dosecalc plan dia ... --format json        <= 1.25 x python -c "import typer, pint, yaml,
                                                            rich.console, pydantic"
  3. a 100-cycle, 10-drug course                <= 1.3 x  a one-cycle plan
  4. dosecalc check on 1,000,000 rows / 20,000 patients <= 3 x a csv.DictReader pass over the
     same file; peak memory < 300 MB; 10 x the rows costs <= 11 x the time
Exit status 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
DOSECALC = shutil.which("dosecalc", path=str(Path(PY).parent)) or "dosecalc"
# any value of PYTHONDONTWRITEBYTECODE (even "0") stops Python caching our compiled modules,
# which would time the compiler instead of dosecalc: run without it, as users do
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


Cmd = tuple[list[str], "dict[str, str] | None"]


def timed(cmds: dict[str, Cmd], runs: int) -> dict[str, float]:
    """Median wall time (seconds) of each command over ``runs`` rounds after one warm-up round.

    The commands take turns within each round, so a burst of load from the rest of a shared
    machine lands on a figure and its baseline alike instead of skewing their ratio.
    """
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for round_ in range(runs + 1):
        for name, (cmd, env) in cmds.items():
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, env=env or ENV, check=False)
            if round_:
                times[name].append(time.perf_counter() - t)
            if p.returncode not in (0, 1):
                raise SystemExit(
                    f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[:500]}"
                )
    return {name: statistics.median(ts) for name, ts in times.items()}


def peak_mb(cmd: list[str]) -> float:
    """Peak resident memory of ``cmd`` (MB), from a wrapper process whose only child it is."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
        "stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([PY, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


EPOCH = date(1970, 1, 1)


def generate_history(path: Path, rows: int, patients: int, seed: int = 7) -> None:
    """A pharmacy-wide history: mixed units (mg/m², g/m², absolute mg with bsa_m2)."""
    rnd = random.Random(seed)
    drugs = [
        ("epirubicin", 40, "mg/m2"),
        ("doxorubicin", 25, "mg/m2"),
        ("cisplatin", 60, "mg/m2"),
        ("ifosfamide", 2, "g/m2"),
        ("EPI", 70, "mg"),
        ("DDP", 120, "mg"),
        ("cyclophosphamide", 0.6, "g/m2"),
        ("fluorouracil", 400, "mg/m2"),
        ("oxaliplatin", 85, "mg/m2"),
        ("carboplatin", 500, "mg"),
    ]
    with path.open("w", encoding="utf-8") as f:
        f.write("date,drug,dose,unit,bsa_m2,patient\n")
        per = rows // patients
        for p in range(patients):
            bsa = round(rnd.uniform(1.4, 2.2), 2)
            start = 18_000 + rnd.randrange(1500)
            for i in range(per):
                drug, dose, unit = drugs[rnd.randrange(len(drugs))]
                day = start + i * 7  # days after 1970-01-01: one row a patient a day
                date = EPOCH.fromordinal(EPOCH.toordinal() + day).isoformat()
                bsa_cell = f"{bsa}" if unit == "mg" else ""
                f.write(f"{date},{drug},{dose},{unit},{bsa_cell},P{p:05d}\n")


def csv_pass_cmd(path: Path) -> list[str]:
    return [
        PY,
        "-c",
        "import csv, sys\nfor row in csv.DictReader(open(sys.argv[1], newline='')): pass",
        str(path),
    ]


COURSE = """\
course: bench
patient: {height: 175cm, weight: 70kg}
phases:
  - regimen: ten.yaml
    cycles: CYCLES
    start: 2026-01-05
"""
TEN = """\
id: ten
name: ten drugs
cycle_length_days: 21
sources: ["benchmark fixture"]
drugs:
""" + "".join(
    f"  - {{drug: {d}, dose: 10 mg/m2, days: 1}}\n"
    for d in (
        "cisplatin",
        "doxorubicin",
        "epirubicin",
        "ifosfamide",
        "cyclophosphamide",
        "fluorouracil",
        "oxaliplatin",
        "paclitaxel",
        "docetaxel",
        "gemcitabine",
    )
)


OPTIONS = 30  # about as many as `dosecalc plan` has
TYPER_FLOOR = (
    "import typer, pint, yaml, rich.console, pydantic\n"
    "from typing import Optional\n"
    "params = ', '.join(f'o{i}: Optional[str] = typer.Option(None)' for i in range(N))\n"
    "ns = {'typer': typer, 'Optional': Optional}\n"
    "exec(f'def cmd({params}):\\n    pass', ns)\n"
    "typer.run(ns['cmd'])\n"
).replace("range(N)", f"range({OPTIONS})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--data", type=Path, default=HERE / ".data", help="history cache folder")
    args = parser.parse_args()
    runs = 5 if args.quick else 11
    rows: list[tuple[str, float, float, float, str]] = []  # name, value, baseline, target, unit
    info: list[tuple[str, float, float, str]] = []  # name, value, baseline, what (no target)

    # 1. start-up of --help, --version and completion against import typer
    complete = {
        **ENV,
        "_DOSECALC_COMPLETE": "complete_bash",
        "COMP_WORDS": "dosecalc pl",
        "COMP_CWORD": "1",
    }
    t = timed(
        {
            "typer": ([PY, "-c", "import typer"], None),
            "--help": ([DOSECALC, "--help"], None),
            "--version": ([DOSECALC, "--version"], None),
            "completion": ([DOSECALC], complete),
        },
        runs,
    )
    for name in ("--help", "--version", "completion"):
        rows.append((f"1. dosecalc {name}", t[name], t["typer"], 1.3, "import typer"))

    # 2. a plan against importing what we depend on; the floor under it: an empty typer command
    # with as many options as `plan`, parsed with values (typer coerces each through pydantic),
    # shown for information, no target
    plan = [
        DOSECALC,
        "plan",
        "dia",
        "--height",
        "175cm",
        "--weight",
        "70kg",
        "--start",
        "2026-12-01",
        "--format",
        "json",
    ]
    # dosecalc imports pint without numpy (dosecalc/units.py), which the baseline's pint
    # imports: the same imports with numpy hidden show what our own work costs on top
    no_numpy = (
        "import sys; sys.modules['numpy'] = None\nimport typer, pint, yaml, rich.console, pydantic"
    )
    t = timed(
        {
            "deps": ([PY, "-c", "import typer, pint, yaml, rich.console, pydantic"], None),
            "deps-numpy": ([PY, "-c", no_numpy], None),
            "plan": (plan, None),
            "floor": ([PY, "-c", TYPER_FLOOR, *[f"--o{i}=1" for i in range(OPTIONS)]], None),
        },
        runs,
    )
    rows.append(
        (
            "2. dosecalc plan dia --format json",
            t["plan"],
            t["deps"],
            1.25,
            "import typer, pint, yaml, rich.console, pydantic",
        )
    )
    info.append(
        (
            "   plan against those imports without numpy",
            t["plan"],
            t["deps-numpy"],
            "the same, pint without numpy",
        )
    )
    info.append(
        (
            "   floor: empty typer command, same options",
            t["floor"],
            t["deps"],
            "import typer, pint, yaml, rich.console, pydantic",
        )
    )

    # 3. a 100-cycle, 10-drug course against a one-cycle plan
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "ten.yaml").write_text(TEN)
        for n in (1, 100):
            (folder / f"c{n}.yaml").write_text(COURSE.replace("CYCLES", str(n)))
        t = timed(
            {
                n: ([DOSECALC, "plan", str(folder / f"c{n}.yaml"), "--format", "json"], None)
                for n in ("1", "100")
            },
            runs,
        )
    rows.append(("3. 100-cycle 10-drug course", t["100"], t["1"], 1.3, "one-cycle plan"))

    # 4. check over a million rows
    args.data.mkdir(exist_ok=True)
    big = args.data / "history-1m.csv"
    small = args.data / "history-100k.csv"
    if not big.exists():
        print("generating the 1,000,000-row history (once) ...", file=sys.stderr)
        generate_history(big, 1_000_000, 20_000)
    if not small.exists():
        generate_history(small, 100_000, 2_000)
    check_runs = 3 if args.quick else 5
    check = [DOSECALC, "check", "--history", str(big), "--format", "json"]
    check_small = [DOSECALC, "check", "--history", str(small), "--format", "json"]
    t = timed(
        {"big": (check, None), "csv": (csv_pass_cmd(big), None), "small": (check_small, None)},
        check_runs,
    )
    t_big, t_csv, t_small = t["big"], t["csv"], t["small"]
    rows.append(("4. check 1M rows / 20k patients", t_big, t_csv, 3.0, "csv.DictReader pass"))
    rows.append(("4. check: 10x the rows", t_big, t_small, 11.0, "check on 100k rows"))
    mb = peak_mb(check)

    print(
        f"\n{'figure':<40} {'median':>9} {'baseline':>9} {'ratio':>7} {'target':>7}  ok  baseline"
    )
    ok = True
    for name, value, base, target, what in rows:
        ratio = value / base
        good = ratio <= target
        ok &= good
        print(
            f"{name:<40} {value * 1000:>7.0f}ms {base * 1000:>7.0f}ms {ratio:>7.2f} "
            f"{target:>7.2f}  {'yes' if good else 'NO ':<3} {what}"
        )
    for name, value, base, what in info:
        print(
            f"{name:<40} {value * 1000:>7.0f}ms {base * 1000:>7.0f}ms {value / base:>7.2f} "
            f"{'-':>7}  -   {what}"
        )
    good = mb < 300
    ok &= good
    print(
        f"{'4. check peak memory':<40} {mb:>7.0f}MB {'':>9} {'':>7} {'300MB':>7}  "
        f"{'yes' if good else 'NO '}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
