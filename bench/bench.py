"""dosecalc benchmarks: whole processes, medians of several rounds after a warm-up (a figure and
its baseline take turns within each round), ratios to the
baseline each target is stated against, printed next to the target.

    python bench/bench.py            # every figure (generates its histories once, in .data/)
    python bench/bench.py --quick    # fewer runs
    python bench/bench.py --huge     # also 100,000,000 rows (a 4 GB file, generated once)
    python bench/bench.py --only check ledger   # some sections: startup, check, ledger

Targets (issue 7, start-up):
  1. dosecalc --help / --version / completion  <= 1.3 x  python -c "import typer"
  2. dosecalc plan dia ... --format json        <= 1.25 x python -c "import typer, pint, yaml,
                                                            rich.console, pydantic"
  3. a 100-cycle, 10-drug course                <= 1.3 x  a one-cycle plan
Targets (issue 31, registry scale restated: like for like, medians of the same run, the
machine's core count printed):
  4. check --format csv on 1,000,000 rows / 20,000 patients <= 2 x a DuckDB query of the same
     totals that a pharmacist would write (REFERENCE_QUERY; the CSV is that query's content:
     one row per patient and total, with threshold, limit and the dates they were reached);
     and its CSV and JSON byte for byte those of the per-patient engine (bench/reference.py)
  5. 10,000,000 rows / 200,000 patients: check --format csv <= 1.5 x the reference query;
     check (the summary table) and --format json <= 2.5 x it
  6. 10,000,000 rows: peak memory < 1 GB for every format; (--huge) 100,000,000 rows /
     2,000,000 patients completes, time and memory printed
  7. a PostgreSQL ledger of 1,000,000 records / 20,000 patients: the audit (check
     --all-patients --format json, the chain checked) <= 0.3 x the route a pharmacist would
     otherwise take (ledger export to a file, then check --history of that file); dosecalc's
     own memory < 300 MB. For information: the chain screen's share of the audit, and the
     audit with PostgreSQL's max_parallel_workers_per_gather = 0
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
from typing import Any

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
            p = subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or ENV, check=False
            )
            if round_:
                times[name].append(time.perf_counter() - t)
            if p.returncode not in (0, 1):
                raise SystemExit(
                    f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[:500]}"
                )
    return {name: statistics.median(ts) for name, ts in times.items()}


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one run of ``cmd``, from a wrapper process
    whose only child it is (its output goes nowhere)."""
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
        "t = time.perf_counter() - t; "
        "sys.stderr.write(p.stderr.decode()[-500:] if p.returncode not in (0, 1) else ''); "
        "print(p.returncode, t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [PY, "-c", probe, *cmd], capture_output=True, text=True, check=True, env=env or ENV
    )
    code, seconds, kb = out.stdout.split()
    if code not in ("0", "1"):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {out.stderr}")
    return float(seconds), int(kb) / 1024


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


def scaled(source: Path, path: Path, copies: int) -> None:
    """``copies`` copies of a history, each with patients of their own (P00001 becomes
    A00001, B00001, …): the 100,000,000-row history from the 10,000,000-row one."""
    with path.open("wb") as out:
        for k in range(copies):
            mark = bytes([ord("A") + k])
            with source.open("rb") as f:
                header = f.readline()
                if k == 0:
                    out.write(header)
                while block := f.read(1 << 24):
                    rest = f.readline()  # whole lines
                    out.write((block + rest).replace(b",P", b"," + mark))


# The same totals, the way a pharmacist who knows SQL would get them from DuckDB: names and
# units normalised, absolute doses of per-m² drugs divided by the row's BSA, anthracyclines also
# summed as doxorubicin equivalents (ESC 2022 factors), one row per patient and total.
REFERENCE_QUERY = """
WITH h AS (SELECT * FROM read_csv(?)),
names(given, drug) AS (VALUES ('EPI', 'epirubicin'), ('DDP', 'cisplatin')),
rows AS (
    SELECT patient, coalesce(n.drug, h.drug) AS drug,
           CASE WHEN unit = 'g/m2' THEN dose * 1000
                WHEN unit = 'mg' AND coalesce(n.drug, h.drug) <> 'carboplatin' THEN dose / bsa_m2
                ELSE dose END AS amount
    FROM h LEFT JOIN names n ON n.given = h.drug),
totals AS (
    SELECT patient, drug, sum(amount) AS total FROM rows GROUP BY ALL
    UNION ALL
    SELECT patient, 'doxorubicin equivalent',
           sum(amount * CASE drug WHEN 'epirubicin' THEN 0.8 ELSE 1 END)
    FROM rows WHERE drug IN ('epirubicin', 'doxorubicin') GROUP BY ALL)
SELECT * FROM totals ORDER BY patient, drug
"""


def reference_cmd(path: Path) -> list[str]:
    query = REFERENCE_QUERY.replace("?", "$path")
    script = (
        "import duckdb, sys\n"
        "duckdb.execute('SET enable_progress_bar = false')\n"
        f"rel = duckdb.sql({query!r}, params={{'path': sys.argv[1]}})\n"
        "rel.write_csv('/dev/stdout')\n"
    )
    return [PY, "-c", script, str(path)]


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
    parser.add_argument("--huge", action="store_true", help="also 100,000,000 rows (4 GB)")
    parser.add_argument(
        "--only", nargs="+", choices=("startup", "check", "ledger"), help="some sections only"
    )
    parser.add_argument("--data", type=Path, default=HERE / ".data", help="history cache folder")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at the start",
          file=sys.stderr)  # fmt: skip
    runs = 5 if args.quick else 11
    sections = set(args.only or ("startup", "check", "ledger"))
    rows: list[tuple[str, float, float, float, str]] = []  # name, value, baseline, target, unit
    info: list[tuple[str, float, float, str]] = []  # name, value, baseline, what (no target)
    memory: list[tuple[str, float, float | None]] = []  # name, MB, target MB
    identical: list[tuple[str, bool]] = []  # name, whether the output is the reference's
    if "startup" in sections:
        startup(runs, rows, info)
    args.data.mkdir(exist_ok=True)
    if "check" in sections:
        pharmacy(args, rows, info, memory, identical)
    if "ledger" in sections:
        ledger(args, rows, info, memory)

    load = os.getloadavg()
    print(f"\n{os.cpu_count()} cores; load average (1, 5, 15 min) at the end: "
          f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")  # fmt: skip
    print(f"{'figure':<44} {'median':>9} {'baseline':>9} {'ratio':>7} {'target':>7}  ok  baseline")
    ok = True
    for name, value, base, target, what in rows:
        ratio = value / base
        good = ratio <= target
        ok &= good
        print(
            f"{name:<44} {_t(value):>9} {_t(base):>9} {ratio:>7.2f} "
            f"{target:>7.2f}  {'✓' if good else '✗':<3} {what}"
        )
    for name, value, base, what in info:
        print(f"{name:<44} {_t(value):>9} {_t(base):>9} {value / base:>7.2f} {'-':>7}  -   {what}")
    for name, mb, limit in memory:
        good = limit is None or mb < limit
        ok &= good
        target = f"<{limit:.0f}MB" if limit else "-"
        mark = ("✓" if good else "✗") if limit else "-"
        print(f"{name:<44} {mb:>7.0f}MB {'':>9} {'':>7} {target:>7}  {mark}")
    for name, good in identical:
        ok &= good
        print(f"{name:<80} {'✓' if good else '✗'}")
    return 0 if ok else 1


def _t(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 10 else f"{seconds:.1f}s"


def startup(runs: int, rows: list[Any], info: list[Any]) -> None:
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
    plan = [DOSECALC, "plan", "dia", "--height", "175cm", "--weight", "70kg", "--start",
            "2026-12-01", "--format", "json"]  # fmt: skip
    # dosecalc imports pint without numpy (dosecalc/base/units.py), which the baseline's pint
    # imports: the same imports with numpy hidden show what our own work costs on top
    no_numpy = (
        "import sys; sys.modules['numpy'] = None\nimport typer, pint, yaml, rich.console, pydantic"
    )
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.csv"  # one patient's history: the reference engine, no DuckDB
        one.write_text("date,drug,dose,unit\n2024-01-02,epirubicin,90,mg/m2\n", encoding="utf-8")
        t = timed(
            {
                "deps": ([PY, "-c", "import typer, pint, yaml, rich.console, pydantic"], None),
                "deps-numpy": ([PY, "-c", no_numpy], None),
                "plan": (plan, None),
                "check": ([DOSECALC, "check", "--history", str(one), "--format", "json"], None),
                "floor": ([PY, "-c", TYPER_FLOOR, *[f"--o{i}=1" for i in range(OPTIONS)]], None),
            },
            runs,
        )
    deps = "import typer, pint, yaml, rich.console, pydantic"
    rows.append(("2. dosecalc plan dia --format json", t["plan"], t["deps"], 1.25, deps))
    info.append(("   one patient's check --format json", t["check"], t["deps"], deps))
    info.append(("   plan against those imports without numpy", t["plan"], t["deps-numpy"],
                 "the same, pint without numpy"))  # fmt: skip
    info.append(("   floor: empty typer command, same options", t["floor"], t["deps"], deps))

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


def history(data: Path, rows: int) -> Path:
    """The bench's history of ``rows`` rows (50 a patient), generated once into ``data``."""
    names = {10**6: "1m", 10**7: "10m", 10**8: "100m"}
    path = data / f"history-{names[rows]}.csv"
    if not path.exists():
        print(f"generating the {rows:,}-row history (once) ...", file=sys.stderr)
        if rows == 10**8:
            scaled(history(data, 10**7), path, 10)
        else:
            generate_history(path, rows, rows // 50)
    return path


def pharmacy(
    args: Any, rows: list[Any], info: list[Any], memory: list[Any], identical: list[Any]
) -> None:
    # 4. a check of a million rows against a pharmacist's own DuckDB query of the same totals
    big = history(args.data, 10**6)

    def check(path: Path, fmt: str) -> list[str]:
        return [DOSECALC, "check", "--history", str(path), "--format", fmt]

    formats = ("csv", "table", "json")
    same(big, identical)
    cmds = {"reference": (reference_cmd(big), None)}
    cmds |= {fmt: (check(big, fmt), None) for fmt in formats}
    t = timed(cmds, 3 if args.quick else 5)
    what = "DuckDB query of the same totals"
    rows.append(("4. check 1M rows / 20k patients (CSV)", t["csv"], t["reference"], 2.0, what))
    for fmt in ("table", "json"):
        info.append((f"   check 1M rows ({fmt})", t[fmt], t["reference"], what))
    # 5. and 6. ten times the rows: time (medians, the commands taking turns) and peak memory
    ten = history(args.data, 10**7)
    cmds10 = {"reference": reference_cmd(ten)} | {fmt: check(ten, fmt) for fmt in formats}
    times: dict[str, list[float]] = {name: [] for name in cmds10}
    peaks: dict[str, list[float]] = {name: [] for name in cmds10}
    for _ in range(3 if args.quick else 5):
        for name, cmd in cmds10.items():
            seconds, mb = measured(cmd)
            times[name].append(seconds)
            peaks[name].append(mb)
    ref = statistics.median(times["reference"])
    targets = {"csv": 1.5, "table": 2.5, "json": 2.5}
    for fmt in formats:
        rows.append((f"5. check 10M rows / 200k patients ({fmt})", statistics.median(times[fmt]),
                     ref, targets[fmt], what))  # fmt: skip
    for fmt in formats:
        memory.append((f"6. check 10M rows ({fmt}): peak memory", max(peaks[fmt]), 1024))
    memory.append(("   the reference query of 10M rows: peak memory", max(peaks["reference"]),
                   None))  # fmt: skip
    if args.huge:  # 6. a hundred times the rows, once each
        huge = history(args.data, 10**8)
        seconds, mb = measured(reference_cmd(huge))
        info.append(("6. reference query 100M rows", seconds, 1.0, "seconds"))
        for fmt in formats:
            took, mb = measured(check(huge, fmt))
            info.append((f"6. check 100M rows / 2M patients ({fmt})", took, seconds, what))
            memory.append((f"6. check 100M rows ({fmt}): peak memory", mb, None))


def same(path: Path, checks: list[Any]) -> None:
    """The engine's CSV and JSON of ``path`` against the per-patient engine's (bench/reference.py):
    byte for byte, or the target is missed."""
    with tempfile.TemporaryDirectory() as tmp:
        want = {fmt: Path(tmp) / f"reference.{fmt}" for fmt in ("csv", "json")}
        print(
            f"checking {path.name} by the per-patient engine (the reference) ...", file=sys.stderr
        )
        subprocess.run([PY, str(HERE / "reference.py"), str(path), str(want["csv"]),
                        str(want["json"])], check=True, env=ENV)  # fmt: skip
        for fmt, reference in want.items():
            got = subprocess.run(
                [DOSECALC, "check", "--history", str(path), "--format", fmt],
                capture_output=True, env=ENV, check=False,
            )  # fmt: skip
            checks.append((f"4. {path.name} --format {fmt}: the reference's, byte for byte",
                           got.stdout == reference.read_bytes()))  # fmt: skip


def ledger(args: Any, rows: list[Any], info: list[Any], memory: list[Any]) -> None:
    """7. A pharmacy's PostgreSQL ledger of a million records: the audit computed in the
    database against the same audit of its export (a throw-away server, as the tests start)."""
    sys.path.insert(0, str(HERE.parent))
    from tests import pg

    big = history(args.data, 10**6)
    with pg.server() as server, pg.database(server) as url, tempfile.TemporaryDirectory() as tmp:
        env = {**ENV, "DOSECALC_DB": url}
        print("recording the 1,000,000-row history in a PostgreSQL ledger ...", file=sys.stderr)
        started = time.perf_counter()
        load = subprocess.run([DOSECALC, "ledger", "import", str(big), "--again"], env=env,
                              capture_output=True, text=True)  # fmt: skip
        if load.returncode != 0:
            raise SystemExit(f"ledger import failed: {load.stderr[-500:]}")
        info.append(("   (ledger import of 1M rows, once)", time.perf_counter() - started, 1.0,
                     "seconds"))  # fmt: skip
        export = Path(tmp) / "export.csv"
        audit = [DOSECALC, "check", "--all-patients", "--format", "json"]
        # the route a pharmacist would otherwise take: the ledger exported to a file, then
        # that file checked (the export walks the chain as it reads)
        route = ["sh", "-c", '"$1" ledger export > "$2" && "$1" check --history "$2" '
                 "--format json", "route", DOSECALC, str(export)]  # fmt: skip
        # the chain screen alone (the walk asked of PostgreSQL), which the audit runs
        # beside its totals
        screen = [PY, "-c", "from dosecalc.ledger import Ledger; Ledger(None).verify_whole()"]
        serial = {**env, "PGOPTIONS": "-c max_parallel_workers_per_gather=0"}
        t = timed(
            {"ledger": (audit, env), "route": (route, env), "screen": (screen, env),
             "serial": (audit, serial)},
            3 if args.quick else 5,
        )  # fmt: skip
        rows.append(("7. ledger audit, PostgreSQL, 1M records", t["ledger"], t["route"], 0.3,
                     "ledger export, then check of the file"))  # fmt: skip
        info.append(("   the chain screen alone", t["screen"], t["ledger"], "the ledger audit"))
        info.append(("   audit, max_parallel_workers_per_gather=0", t["serial"], t["ledger"],
                     "the ledger audit (default: 2)"))  # fmt: skip
        seconds, mb = measured(audit, env)
        memory.append(("7. ledger audit: dosecalc's peak memory", mb, 300))


if __name__ == "__main__":
    raise SystemExit(main())
