"""The command line as a user meets it: exact messages, exit codes, JSON per the contract."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import DIA, schema, write


def test_plan_table_shows_the_whole_schedule(cli) -> None:
    code, out, err = cli(*DIA)
    assert code == 0, err
    assert "DIA: cisplatin, epirubicin, ifosfamide" in out
    assert "BSA 1.84 m² (Mosteller formula)" in out
    assert "2 cycles of 14 days (start to start) from Tue 2026-12-01" in out
    assert out.count("221.4 mg") == 2  # cisplatin 120 mg/m² × 1.8447 m², ISMP style
    # ifosfamide 2 g/m² → mg, thousands separator: its 10 doses, and the 10 days of mesna
    # dosed from them ("20 % of ifosfamide 3,689.3 mg")
    assert out.count("3,689.3 mg") == 20 and out.count("3 × 737.9 mg") == 10
    assert "Sat 2026-12-19" in out  # cycle 2 day 5


def test_plan_json_matches_the_contract_schema(cli) -> None:
    code, out, _ = cli(*DIA, "--format", "json")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, schema("plan-output"))
    assert len([a for a in data["administrations"] if not a["supportive"]]) == 18
    assert len([a for a in data["administrations"] if a["drug"] == "mesna"]) == 30
    first = data["administrations"][0]
    assert {
        k: first[k] for k in ("phase", "cycle", "day", "date", "drug", "route", "basis", "unit")
    } == {
        "phase": 1,
        "cycle": 1,
        "day": 1,
        "date": "2026-12-01",
        "drug": "cisplatin",
        "route": "IV",
        "basis": "bsa",
        "unit": "mg",
    }
    assert first["dose"] == pytest.approx(221.35943621)  # not pre-rounded
    assert data["patient"]["bsa_formula"] == "mosteller"
    assert data["regimen"]["cycle_length_days"] == 14


def test_plan_csv_one_row_per_administration_with_trace(cli) -> None:
    code, out, _ = cli(*DIA, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len([r for r in rows if not r["for"]]) == 18
    mesna = [r for r in rows if r["drug"] == "mesna"]
    assert len(mesna) == 30 and {(r["for"], r["at_hours"]) for r in mesna} == {
        ("ifosfamide", h) for h in ("0.0", "4.0", "8.0")
    }
    assert rows[0]["drug"] == "cisplatin" and rows[0]["trace"].startswith("protocol: 120 mg/m²")


def test_output_file_is_not_overwritten_without_force(cli, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert cli(*DIA, "--format", "json", "--output", str(out))[0] == 0
    assert json.loads(out.read_text())["regimen"]["id"] == "dia"
    code, _, err = cli(*DIA, "--format", "json", "--output", str(out))
    assert (code, err) == (
        2,
        f"Error: --output: {out} already exists; give --force to overwrite it\n",
    )
    assert cli(*DIA, "--format", "csv", "--output", str(out), "--force")[0] == 0
    assert out.read_text().startswith("phase,cycle,day")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--height", "1.75"],
            "Error: --height: 1.75 cm is not a plausible height; give a height "
            "between 30 and 260 cm (a bare number means cm: write 1.75m for metres, 69in for "
            "inches)\n",
        ),
        (
            ["--weight", "70 stone"],
            "Error: --weight: 'stone' is not a unit dosecalc knows; give e.g. 70kg or 154lb\n",
        ),
        (
            ["--start", "01/12/2026"],
            "Error: --start: '01/12/2026' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01\n",
        ),
        (
            ["--format", "xml"],
            "Error: --format: 'xml' is not an output format here; give one of table, json, csv, "
            "ics, html, fhir\n",
        ),
        (
            ["--format", "html", "--paper", "a3"],
            "Error: --paper: 'a3' is not a paper size here; give a4 or letter\n",
        ),
        (
            ["--formula", "schlich"],
            "Error: --sex: the schlich formula needs --sex male or --sex female\n",
        ),
        (["--cycles", "0"], "Error: --cycles: 0 is not a number of cycles; give 1 to 500\n"),
    ],
)
def test_each_bad_input_gets_one_exact_sentence_and_exit_2(
    cli, args: list[str], message: str
) -> None:
    base = dict(zip(DIA[2::2], DIA[3::2], strict=True))
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["plan", "dia"] + [x for kv in base.items() for x in kv]
    code, out, err = cli(*argv)
    assert (code, out, err) == (2, "", message)


def test_unknown_regimen(cli) -> None:
    code, _, err = cli("plan", "diaa", "--height", "175cm", "--weight", "70kg")
    assert code == 2
    assert err.startswith(
        "Error: REGIMEN: 'diaa' is neither a library regimen nor a file; did you mean dia?"
    )


def test_invalid_regimen_file_reports_every_problem_with_file_and_line(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "id: bad\nname: x\ncycle_length_days: 7\nsources: [s]\n"
        "drugs:\n  - drug: EPI\n    dose: 40 mg/m2/day\n    days: 1-8\n",
    )
    code, _, err = cli("plan", str(path), "--height", "175cm", "--weight", "70kg")
    assert code == 2
    assert err == (
        "Error: 2 problems:\n"
        f"  {path}:7: drugs[0].dose: '40 mg/m2/day' is not a dose per administration day (per "
        "m², per kg or flat); write e.g. '120 mg/m2', '2 g/m2', '10 units/m2', '5 mg/kg', "
        "'12 mg' or 'AUC 5', and list the days it is given on\n"
        f"  {path}:8: drugs[0].days: day 8 is after the end of the 7-day cycle; days must lie "
        "within 1-7\n"
    )


def test_usage_errors_exit_2(cli) -> None:
    code, _, err = cli("plan", "dia", "--heigth", "175cm")
    assert code == 2 and "No such option" in err


def test_bsa_json_single_and_all(cli) -> None:
    code, out, _ = cli("bsa", "--height", "180cm", "--weight", "80kg", "--format", "json")
    data = json.loads(out)
    jsonschema.validate(data, schema("bsa-output"))
    assert (code, data["formula"], data["bsa_m2"]) == (0, "mosteller", 2.0)
    code, out, _ = cli(
        "bsa",
        "--height",
        "180cm",
        "--weight",
        "80kg",
        "--formula",
        "all",
        "--sex",
        "female",
        "--format",
        "json",
    )
    data = json.loads(out)
    jsonschema.validate(data, schema("bsa-output"))
    assert len(data["results"]) == 11
    assert {r["formula"]: round(r["bsa_m2"], 4) for r in data["results"]}["schlich"] == 1.9968


def test_bsa_all_without_sex_leaves_schlich_empty_rather_than_guessing(cli) -> None:
    code, out, _ = cli(
        "bsa", "--height", "170cm", "--weight", "70kg", "--formula", "all", "--format", "json"
    )
    schlich = [r for r in json.loads(out)["results"] if r["formula"] == "schlich"][0]
    assert (code, schlich["bsa_m2"], schlich["note"]) == (
        0,
        None,
        "needs --sex male or --sex female",
    )


def test_bsa_table_lists_all_formulas(cli) -> None:
    code, out, _ = cli("bsa", "--height", "5ft9in", "--weight", "154lb", "--formula", "all")
    assert code == 0
    for name in ("mosteller", "dubois", "boyd", "yu-2010", "livingston-lee"):
        assert name in out


def test_regimens_list_show_validate_schema(cli, tmp_path: Path) -> None:
    code, out, _ = cli("regimens", "list", "--format", "json")
    ids = [r["id"] for r in json.loads(out)]
    assert code == 0 and "dia" in ids and "carboplatin-paclitaxel" in ids
    code, out, _ = cli("regimens", "show", "dia", "--format", "json")
    epi = [d for d in json.loads(out)["drugs"] if d["drug"] == "epirubicin"][0]
    assert (epi["dose"], epi["days"], epi["per_cycle"]) == (40.0, [1, 2, 3], 120.0)
    code, out, _ = cli("regimens", "show", "dia")
    assert code == 0 and "Assumptions:" in out
    bad = write(tmp_path, "bad.yaml", "id: Bad\n")
    code, out, err = cli("regimens", "validate", "regimens/dia.yaml", str(bad))
    assert code == 2 and "ok: regimens/dia.yaml" in out
    assert (
        f"{bad}:1: id: 'Bad' is not valid here: write lowercase letters, digits and hyphens" in err
    )
    code, out, _ = cli("regimens", "schema")
    assert code == 0 and json.loads(out)["properties"]["drugs"]["type"] == "array"


def test_every_command_has_help_with_an_example(cli) -> None:
    for cmd in (
        ["plan"],
        ["verify"],
        ["bsa"],
        ["regimens", "list"],
        ["regimens", "show"],
        ["regimens", "validate"],
        ["regimens", "schema"],
    ):
        code, out, _ = cli(*cmd, "--help")
        assert code == 0 and "Example: dosecalc" in out, cmd


def test_version(cli) -> None:
    from dosecalc import __version__

    assert cli("--version") == (0, f"dosecalc {__version__}\n", "")


_MODULES_AT_EXIT = """\
import atexit, json, sys
atexit.register(lambda: sys.__stderr__.write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "dosecalc"
from dosecalc.__main__ import main
main()
"""


@pytest.mark.parametrize(
    "args, env, expected",
    [
        (["--help"], {}, "Chemotherapy dosing"),
        (["--version"], {}, "dosecalc "),
        (
            [],
            {"_DOSECALC_COMPLETE": "complete_bash", "COMP_WORDS": "dosecalc pl", "COMP_CWORD": "1"},
            "plan",
        ),
    ],
    ids=["help", "version", "completion"],
)
def test_start_up_commands_import_no_engine_and_no_heavy_library(
    args: list[str], env: dict[str, str], expected: str
) -> None:
    """Issue 7: --help, --version and a Tab press cost little more than importing typer, so they
    must not import pint, yaml, pydantic, rich or the engine (the modules left at exit say)."""
    import os
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-c", _MODULES_AT_EXIT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert p.returncode == 0 and expected in p.stdout, p.stderr
    loaded = set(json.loads(p.stderr))
    assert "typer" in loaded  # the check itself works: what did run is listed
    heavy = {m for m in loaded if m.split(".")[0] in {"pint", "yaml", "pydantic", "rich", "numpy"}}
    assert heavy == set()
    ours = {m for m in loaded if m.split(".")[0] == "dosecalc"}
    # the command line's own modules (the app, the options, each command's module) and errors
    assert {m for m in ours if not m.startswith("dosecalc.cli.")} == {
        "dosecalc",
        "dosecalc.__main__",
        "dosecalc.cli",
        "dosecalc.base",
        "dosecalc.base.errors",
    }


def test_a_plan_converts_units_with_pint_but_never_imports_numpy(tmp_path: Path) -> None:
    """pint would import numpy (installed for the charts) on every start-up; units.py imports
    it without. A chart, which needs numpy, still draws afterwards in the same process."""
    import subprocess
    import sys

    chart = tmp_path / "plan.png"
    args = ["plan", "dia", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"]
    runs = {}
    for extra in (["--format", "json"], ["--chart", str(chart)]):
        p = subprocess.run(
            [sys.executable, "-c", _MODULES_AT_EXIT, *args, *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, p.stderr
        runs[extra[0]] = set(json.loads(p.stderr.splitlines()[-1]))
    assert "pint" in runs["--format"] and "numpy" not in runs["--format"]
    assert "numpy" in runs["--chart"] and chart.stat().st_size > 1000


def test_the_program_builds_commands_lazily_with_the_same_help_and_errors(process) -> None:
    """main() builds only the command it runs (cli._Commands); what a user sees is the same as
    when typer builds them all (``app()``, as the in-process tests run it)."""
    import subprocess
    import sys

    eager = "import sys; sys.argv[0] = 'dosecalc'; from dosecalc.cli import app; app()"
    for args in (["--help"], ["regimens", "--help"], ["plan", "--help"], ["pla"], []):
        lazy = process(*args)
        built = subprocess.run(
            [sys.executable, "-c", eager, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "120"},
            timeout=60,
        )
        assert "Usage: dosecalc" in lazy.stdout + lazy.stderr
        assert (lazy.returncode, lazy.stdout, lazy.stderr) == (
            built.returncode,
            built.stdout,
            built.stderr,
        ), args


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("dosecalc plan dd", "2", ["ddp-epi", "ddp-ifo"]),
        ("dosecalc regimens show ma", "3", ["map"]),
        ("dosecalc plan dia --formula du", "4", ["dubois"]),
        ("dosecalc bsa --formula sch", "3", ["schlich"]),
        ("dosecalc docs sup", "2", ["supportive"]),
        ("dosecalc schema re", "2", ["regimen", "regimens-diff-output"]),
        ("dosecalc check --next dd", "3", ["ddp-epi", "ddp-ifo"]),
        # a plan doses with one formula: 'all' (which it refuses) was offered
        ("dosecalc plan dia --formula a", "4", []),
        ("dosecalc bsa --formula a", "3", ["all"]),
        # values, not file names
        ("dosecalc plan dia --format ", "4", ["table", "json", "csv", "ics", "html", "fhir"]),
        ("dosecalc check --format ", "3", ["table", "json", "csv"]),
        ("dosecalc verify o.yaml --format ", "4", ["table", "json"]),
        ("dosecalc plan dia --sex f", "4", ["female"]),
        ("dosecalc plan dia --equivalence fe", "4", ["feijen-2019"]),
    ],
)
def test_tab_offers_regimen_ids_formula_names_and_docs_pages(words, cword, expected) -> None:
    """Issue 34: through typer's completion protocol, as bash asks for it (a path typed is
    still the shell's file completion)."""
    import os
    import subprocess

    from tests.conftest import dosecalc_exe

    env = {**os.environ, "_DOSECALC_COMPLETE": "complete_bash", "COMP_WORDS": words}
    p = subprocess.run(
        dosecalc_exe(), env={**env, "COMP_CWORD": cword}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert p.stdout.split() == expected, p.stderr
