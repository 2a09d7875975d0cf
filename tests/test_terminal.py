"""What a person meets at a terminal (issue 34): widths without COLUMNS, options typed with a
space, bare numbers, the BSA cap said, help that fits 80 columns, and messages that say why."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import DIA, TODAY, dosecalc_exe


def test_output_with_no_terminal_and_no_columns_is_80_wide(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    p = subprocess.run(
        [*dosecalc_exe(), *DIA],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal, standard error a pipe
    )
    assert p.returncode == 0, p.stderr
    widest = max(len(line) for line in p.stdout.splitlines())
    assert 70 < widest <= 80, widest
    wide = subprocess.run(
        [*dosecalc_exe(), *DIA],
        cwd=tmp_path,
        env=env | {"COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert max(len(line) for line in wide.stdout.splitlines()) > 80  # COLUMNS still decides


def test_a_value_typed_apart_from_its_unit_is_explained_for_every_command(run) -> None:
    p = run("plan", "dia", "--height", "175", "cm", "--weight", "70", "kg")
    assert p.returncode == 2
    assert "unexpected extra" not in p.stderr
    assert "--height 175 cm: the unit is a word apart; write 175cm without a space" in p.stderr
    assert '(quote it ("70 kg")' in p.stderr.replace("or quote", "(quote")
    p = run("bsa", "--height=175", "cm", "--weight", "70kg")
    assert p.returncode == 2 and "--height 175 cm:" in p.stderr and "write 175cm" in p.stderr
    p = run("check", "--prior", "epirubicin=90", "mg/m2", "--bsa", "1.8")
    assert p.returncode == 2 and "write epirubicin=90mg/m2 without a space" in p.stderr
    # the regimen last: REGIMEN took "cm", and both are still explained
    p = run("plan", "--height", "175", "cm", "--weight", "70", "kg", "dia")
    assert p.returncode == 2 and "write 175cm" in p.stderr and "write 70kg" in p.stderr
    p = run("plan", "dia", "--cycles", "2", "foo")  # not a unit: as click says it
    assert p.returncode == 2 and "unexpected extra argument" in p.stderr
    # another extra argument is still said as click says it
    p = run("ledger", "list", "--patient", "P1", "P2")
    assert p.returncode == 2 and "unexpected extra argument" in p.stderr


def test_an_option_given_twice_with_two_values_is_refused_for_every_command(run) -> None:
    """click kept the last one: verify --weight 80kg --weight 70kg released what --weight 70kg
    --weight 80kg held, the other weight dropped without a word."""
    for args in (
        ("verify", "order.yaml", "--height", "175cm", "--weight", "80kg", "--weight", "70kg"),
        ("plan", "dia", "--height=175cm", "--height", "180cm"),
        ("check", "--history", "h.csv", "-o", "a.csv", "--output", "b.csv"),
        ("verify", "order.yaml", "--scr", "0.9mg/dL", "--scr", "3.0mg/dL"),
    ):
        p = run(*args)
        assert p.returncode == 2, args
        assert "is given twice" in p.stderr and "give it once" in p.stderr, p.stderr
    p = run("plan", "dia", "--height", "175cm", "--weight", "80kg", "--weight", "70kg")
    assert "--weight is given twice (80kg, then 70kg)" in p.stderr
    p = run("check", "--history", "h.csv", "-o", "a.csv", "--output", "b.csv")
    assert "-o/--output is given twice (a.csv, then b.csv)" in p.stderr
    # the same value twice drops nothing; options that repeat still add up
    p = run("bsa", "--height", "175cm", "--weight", "70kg", "--weight", "70kg", "--format", "json")
    assert p.returncode == 0, p.stderr
    p = run("plan", "dia", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01",
            "--lab", "anc=2x10^9/L", "--lab", "platelets=200x10^9/L", "--format", "json")  # fmt: skip
    assert p.returncode in (0, 1) and "is given twice" not in p.stderr, p.stderr
    assert '"platelets"' in p.stdout and '"anc"' in p.stdout


def test_a_bare_weight_is_said_read_as_kg_and_an_implausible_bmi_warned(run) -> None:
    import json

    p = run("plan", "dia", "--height", "175", "--weight", "154", "--start", "2026-12-01")
    assert p.returncode == 0, p.stderr
    assert "height 175 (read as cm), weight 154 (read as kg), BSA" in " ".join(p.stdout.split())
    assert "BMI_IMPLAUSIBLE" not in p.stdout  # BMI 50: heavy, not implausible
    p = run(*DIA)
    assert "Patient: height 175 cm, weight 70 kg, BSA" in p.stdout
    # 154 (lb meant) at 150 cm: BMI 68
    p = run("plan", "dia", "--height", "150cm", "--weight", "154", "--start", "2026-12-01",
            "--format", "json")  # fmt: skip
    [bmi] = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "BMI_IMPLAUSIBLE"]
    assert bmi["severity"] == "warning"
    assert "BMI of 68 kg/m², above weight.bmi_warn_above = 60" in bmi["message"]
    assert "(a bare number: 154 read as kg)" in bmi["message"] and "154lb" in bmi["message"]
    # low, with units given, and the policy's bound moved
    p = run("plan", "dia", "--height", "175cm", "--weight", "30kg", "--format", "json")
    [bmi] = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "BMI_IMPLAUSIBLE"]
    assert "below weight.bmi_warn_below = 12" in bmi["message"] and "bare" not in bmi["message"]
    p = run("plan", "dia", "--height", "175cm", "--weight", "30kg", "--format", "json",
            "--set", "weight.bmi_warn_below=9")  # fmt: skip
    assert "BMI_IMPLAUSIBLE" not in p.stdout


def test_a_capped_bsa_says_the_formula_s_bsa_and_the_cap_with_its_policy_key(run) -> None:
    args = ["plan", "dia", "--height", "190cm", "--weight", "125kg", "--start", "2026-12-01"]
    p = run(*args, "--set", "bsa.cap_m2=2")
    line = " ".join(p.stdout.split())
    assert "BSA 2.57 m² (Mosteller), capped at 2.00 m² (policy bsa.cap_m2)" in line
    assert "BSA 2.00 m² (Mosteller formula)" not in line
    sheet = run(*args, "--set", "bsa.cap_m2=2", "--format", "html").stdout
    assert "2.57 m² (mosteller formula), capped at 2.00 m² (policy bsa.cap_m2)" in sheet
    p = run(*args)  # no cap: as before
    assert "BSA 2.57 m² (Mosteller formula)" in " ".join(p.stdout.split())


COMMANDS = [
    *("plan", "check", "verify", "mtx", "bsa", "docs", "schema"),
    *("regimens list", "regimens show", "regimens validate", "regimens diff", "regimens schema"),
    *("policy show", "ledger record", "ledger import", "ledger list", "ledger void"),
    *("ledger export", "ledger verify"),
]


def test_help_fits_80_columns_and_never_cuts_a_summary_or_a_name(process, run) -> None:
    import re

    for group in ([], ["regimens"], ["ledger"], ["policy"]):  # the program's own lazy lists
        p = process(*group, "--help", env={"COLUMNS": "80"})
        assert p.returncode == 0, p.stderr
        listed = p.stdout.split("Commands:")[1].splitlines()[1:]
        assert listed and all(len(line) <= 80 for line in listed), p.stdout
        assert not any(line.rstrip().endswith("...") for line in listed), p.stdout
    for command in COMMANDS:
        p = run(*command.split(), "--help", env={"COLUMNS": "80"})
        assert p.returncode == 0, (command, p.stderr)
        lines = p.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines), command
        # a line never ends inside a hyphenated name (cog-|ltfu-v5, --previous-|weight)
        assert not [line for line in lines if re.search(r"\w-$", line)], (command, p.stdout)
        for name, metavar in re.findall(r"--([a-z]+(?:-[a-z]+)+) ([A-Z][A-Z-]*)\b", p.stdout):
            assert metavar != name.upper(), (command, name)  # --patients-over PATIENTS-OVER
    p = run("check", "--help", env={"COLUMNS": "80"})
    assert "cog-ltfu-v5" in " ".join(p.stdout.split()).replace("or cog", "")
    assert "--patients-over threshold|limit" in p.stdout


HISTORY = "date,drug,dose,unit,bsa_m2\n2019-01-05,epirubicin,500,mg/m2,\n"
PHARMACY = (
    "patient,date,drug,dose,unit,bsa_m2\n"
    "P1,2019-01-05,epirubicin,950,mg/m2,\nP2,2019-01-05,doxorubicin,100,mg/m2,\n"
)


def test_check_and_verify_write_output_as_plan_does(run, tmp_path: Path) -> None:
    import json

    from tests.conftest import ROOT, write

    history = write(tmp_path, "h.csv", HISTORY)
    p = run("check", "--history", str(history), "--format", "json", "-o", "c.json")
    assert p.returncode == 0 and p.stdout == "" and "wrote c.json" in p.stderr
    assert json.loads((tmp_path / "c.json").read_text())["cumulative"][0]["total"] == 500
    p = run("check", "--history", str(history), "--output", "c.txt")
    assert p.returncode == 0 and "Cumulative exposure" in (tmp_path / "c.txt").read_text()
    again = run("check", "--history", str(history), "--output", "c.txt")
    assert again.returncode == 2 and "--output: " in again.stderr and "--force" in again.stderr
    assert run("check", "--history", str(history), "-o", "c.txt", "--force").returncode == 0
    many = write(tmp_path, "many.csv", PHARMACY)  # many patients, written as they come
    p = run("check", "--history", str(many), "--format", "json", "-o", "m.json")
    patients = json.loads((tmp_path / "m.json").read_text())["patients"]
    assert p.returncode == 0 and [x["patient"] for x in patients] == ["P1", "P2"]
    p = run("check", "--history", str(many), "--format", "csv", "-o", "m.csv")
    assert (tmp_path / "m.csv").read_text().startswith("patient,")
    order = ROOT / "examples" / "order-ec-cycle2.yaml"
    args = ["verify", str(order), "--height", "175cm", "--weight", "70kg"]
    p = run(*args, "--prior", "epirubicin=0mg/m2", "-o", "v.json", "--format", "json")
    assert p.returncode in (0, 1) and p.stdout == "", p.stderr
    assert "verdict" in json.loads((tmp_path / "v.json").read_text())
    p = run(*args, "--prior", "epirubicin=0mg/m2", "-o", "v.txt")
    assert (
        "RELEASE" in (tmp_path / "v.txt").read_text() or "HOLD" in (tmp_path / "v.txt").read_text()
    )
    # refused input: no file at all
    p = run(*args, "--weight", "-3kg", "-o", "bad.txt")
    assert p.returncode == 2 and not (tmp_path / "bad.txt").exists()


def test_plan_csv_writes_true_false_and_the_dose_as_shown(run) -> None:
    import csv
    import io

    p = run("plan", "r-chop-21", "--height", "180cm", "--weight", "95kg", "--cycles", "1",
            "--start", "2026-12-10", "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    header = next(csv.reader(io.StringIO(p.stdout)))
    assert header[header.index("dose") + 1] == "dose_shown"
    assert {r["capped"] for r in rows} == {"true", "false"}
    [vcr] = [r for r in rows if r["drug"] == "vincristine"]
    assert vcr["capped"] == "true" and vcr["dose_shown"] == "2" and float(vcr["dose"]) == 2
    [cyclo] = [r for r in rows if r["drug"] == "cyclophosphamide"]
    assert "," not in cyclo["dose_shown"] and float(cyclo["dose_shown"]) == round(
        float(cyclo["dose"]), 1
    )
    table = run("plan", "r-chop-21", "--height", "180cm", "--weight", "95kg", "--cycles", "1",
                "--start", "2026-12-10").stdout  # fmt: skip
    assert f"{float(cyclo['dose_shown']):,.1f} mg" in table


def test_a_date_that_is_no_day_says_so_on_every_path(run, tmp_path: Path) -> None:
    from tests.conftest import ROOT, write

    why = "'2025-02-30' is not a date: there is no 30 February (February 2025 has 28 days)"
    history = write(tmp_path, "misc.csv", "date,drug,dose,unit,bsa_m2\n2025-02-30,EPI,5,mg/m2,\n")
    p = run("check", "--history", str(history))
    assert p.returncode == 2 and f"misc.csv:2: date {why}" in p.stderr
    p = run("plan", "dia", "--height", "175cm", "--weight", "70kg", "--start", "2025-02-30")
    assert p.returncode == 2 and f"--start: {why}" in p.stderr
    labs = write(tmp_path, "labs.csv", "date,name,value,unit\n2025-02-30,anc,2,x10^9/L\n")
    p = run("plan", "dia", "--height", "175cm", "--weight", "70kg", "--labs", str(labs))
    assert p.returncode == 2 and why in p.stderr
    p = run("plan", "dia", "--height", "175cm", "--weight", "70kg", "--format", "html",
            "--birth-date", "2025-02-30")  # fmt: skip
    assert p.returncode == 2 and f"--birth-date: {why}" in p.stderr
    order = (ROOT / "examples" / "order-ec-cycle2.yaml").read_text(encoding="utf-8")
    bad = write(tmp_path, "o.yaml", "\n".join(
        "start: 2025-02-30" if line.startswith("start:") else line for line in order.splitlines()
    ))  # fmt: skip
    p = run("verify", str(bad), "--height", "175cm", "--weight", "70kg")
    assert p.returncode == 2 and f"start: {why}" in p.stderr
    p = run("mtx", "--infusion-start", "2025-02-30T10:00", "--infusion-duration", "4h",
            "--lab", "methotrexate=10umol/L@2025-03-01T10:00")  # fmt: skip
    assert p.returncode == 2 and f"--infusion-start: {why}" in p.stderr
    p = run("plan", "dia", "--height", "175cm", "--weight", "70kg", "--start", "2025-13-01")
    assert "there is no month 13" in p.stderr


def test_a_plan_wholly_in_the_past_is_warned(run) -> None:
    import json
    from datetime import date, timedelta

    def warnings(start: date) -> list[dict]:
        p = run("plan", "ec", "--height", "175cm", "--weight", "70kg", "--start",
                start.isoformat(), "--prior", "epirubicin=0mg/m2", "--format", "json")  # fmt: skip
        return [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "PLAN_IN_THE_PAST"]

    year_ago = TODAY - timedelta(days=365)
    [w] = warnings(year_ago)
    assert w["severity"] == "warning"
    assert f"cycle 1 day 1 is {year_ago.isoformat()}" in w["message"]
    assert "check the year of the start date" in w["message"]
    assert warnings(TODAY) == []
    assert warnings(TODAY - timedelta(days=30)) == []  # its last cycles are still ahead


def test_lab_names_of_real_exports_are_read_as_documented(run, tmp_path: Path) -> None:
    import json
    import re

    from dosecalc.data.labs import SYNONYMS
    from tests.conftest import ROOT, write

    documented = (ROOT / "docs" / "labs.md").read_text(encoding="utf-8")
    for name, aliases in SYNONYMS.items():
        row = next(line for line in documented.splitlines() if f"| `{name}`" in line
                   or f"`, `{name}` |" in line)  # fmt: skip
        assert all(f"`{a}`" in row for a in aliases), (name, row)
    labs = write(tmp_path, "export.csv", "date,name,value,unit\n"
                 "2026-12-01,Neutrophils,2.1,x10^9/L\n2026-12-01,PLT,180,x10^9/L\n"
                 "2026-12-01,creatinine,80,umol/L\n2026-12-01,Total Bilirubin,10,umol/L\n")  # fmt: skip
    p = run("plan", "ec", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-02",
            "--labs", str(labs), "--prior", "epirubicin=0mg/m2", "--format", "json")  # fmt: skip
    assert p.returncode in (0, 1), p.stderr
    given = {v["name"] for v in json.loads(p.stdout)["labs"]}
    assert given == {"anc", "platelets", "scr", "bilirubin"}
    p = run("plan", "ec", "--height", "175cm", "--weight", "70kg", "--lab", "wbc=3x10^9/L")
    assert p.returncode == 2 and re.search(r"'wbc' is not a laboratory test.*synonym", p.stderr)
    p = run("plan", "ec", "--height", "175cm", "--weight", "70kg", "--lab", "neutrophils=60%")
    assert p.returncode == 2 and "--lab: anc: '60%' is not a count" in p.stderr


def test_a_url_is_never_broken_across_lines(run) -> None:
    p = run("regimens", "show", "ec", env={"COLUMNS": "80"})
    url = "https://scribd.com/document/657245282/EC-Epirubicin-Cyclophosphamide-Adjuvant-Neo-Adjuvant-Regimen-Protocol-V1-0"  # noqa: E501
    lines = p.stdout.splitlines()
    assert any(line.strip() == url for line in lines), p.stdout  # whole, on a line of its own
    assert all(len(line) <= 80 for line in lines if "://" not in line)


def test_every_docs_page_renders_within_the_width_with_its_names_whole() -> None:
    """Text and tables reflow to the width; a code block's lines are whole, as written (a YAML
    file or a command to copy), running past the edge when wider: never wrapped mid-line."""
    import io
    import re

    from rich.console import Console

    from dosecalc.outputs.docpage import _Markdown
    from tests.conftest import ROOT

    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
        code = {line.strip() for block in blocks for line in block.splitlines() if line.strip()}
        for width in (60, 80, 120):
            out = io.StringIO()
            Console(file=out, width=width, color_system=None).print(_Markdown(text), crop=False)
            lines = [line.rstrip() for line in out.getvalue().splitlines()]
            wide = [line for line in lines if len(line) > width]
            assert all(line.strip() in code for line in wide), (page.name, width, wide)
            shown = {line.strip() for line in lines}
            assert code <= shown, (page.name, width, sorted(code - shown)[:3])
            if width == 80 and page.name in ("warnings.md", "policy.md"):
                names = re.findall(r"^\| `([^`]+)`", text, re.MULTILINE)  # first column
                assert names and all(any(n in line for line in lines) for n in names), page.name


def test_a_plan_on_a_narrow_terminal_keeps_every_dose_whole(tmp_path: Path) -> None:
    """Below 59 columns the table folded at the edge: '221.4' on one line and 'mg  IV' on the
    next. The date and the route now move under the row, as the basis does."""
    env = {**os.environ, "COLUMNS": "40"}
    p = subprocess.run([*dosecalc_exe(), *DIA, "--cycles", "1"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    table = lines[next(i for i, ln in enumerate(lines) if ln.startswith("Cycle")) :]
    assert max(len(ln) for ln in table[:40]) <= 40
    assert any(ln.rstrip().endswith("CISplatin        221.4 mg") for ln in table)
    assert any("Tue 2026-12-01 · route IV" in ln for ln in table)
