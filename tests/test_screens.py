"""What a person sees: the real program in a real terminal (tmux), at 80 and 120 columns.

Each screen is compared with a golden copy in tests/screens/. After a deliberate change to a
layout, look at the new screens and regenerate them:

    DOSECALC_UPDATE_SCREENS=1 python -m pytest tests/test_screens.py

Besides the goldens, each screen is checked for what must never happen at any width: a drug
name, a dose with its unit or a date cut or split, or a line wider than the terminal.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import dosecalc_exe

TMUX = shutil.which("tmux")
GOLDEN = Path(__file__).with_name("screens")
UPDATE = bool(os.environ.get("DOSECALC_UPDATE_SCREENS"))
needs_tmux = pytest.mark.skipif(
    not TMUX and not os.environ.get("DOSECALC_REQUIRE_TMUX"),
    reason="no tmux here (CI installs it and sets DOSECALC_REQUIRE_TMUX)",
)
END = "__screen_done__"

HISTORY = """date,drug,dose,unit,bsa_m2
2019-01-05,epirubicin,500,mg/m2,
2019-06-05,EPI,450,mg/m2,
2019-07-05,bleomycin,30,units,
"""
PHARMACY = """patient,date,drug,dose,unit,bsa_m2
P001,2019-01-05,epirubicin,400,mg/m2,
P001,2019-02-05,epirubicin,280,mg/m2,
P002,2019-01-05,doxorubicin,240,mg/m2,1.8
P002,2019-03-05,EPI,100,mg/m2,
P003,2019-01-05,epirubicin,950,mg/m2,
P004,2019-01-05,doxorubicin,600,mg/m2,1.7
"""


def screen(
    args: list[str],
    width: int,
    cwd: Path,
    height: int = 50,
    env: dict[str, str] | None = None,
    pipe: str = "",
) -> str:
    """Run dosecalc ``args`` in a tmux pane ``width`` columns wide (its output piped into the
    shell command ``pipe`` when given); what the pane shows."""
    assert TMUX, "tmux is required (DOSECALC_REQUIRE_TMUX)"
    # a server of its own for each screen: a socket reused at once after kill-server can meet
    # the old server still exiting ("server exited unexpectedly"), on a loaded machine
    socket = Path(tempfile.mkdtemp(prefix="dc-tmux-")) / "s"
    command = " ".join(shlex.quote(a) for a in [*dosecalc_exe(), *args])
    command += f" | {pipe}" if pipe else ""
    drop = ("COLUMNS", "LINES", "NO_COLOR", "PAGER", "MANPAGER", "LESS")
    env = {k: v for k, v in os.environ.items() if k not in drop} | (env or {})
    env["TERM"] = "xterm-256color"
    tmux = [TMUX, "-S", str(socket), "-f", "/dev/null"]
    subprocess.run(
        [
            *tmux,
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            f"cd {shlex.quote(str(cwd))} && {command}; echo {END}; sleep 600",
        ],
        env=env,
        check=True,
    )
    try:
        subprocess.run([*tmux, "set-option", "-g", "history-limit", "20000"], check=True)
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            text = subprocess.run(
                [*tmux, "capture-pane", "-p", "-S", "-", "-E", "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if END in text:
                break
            time.sleep(0.1)
        assert END in text, f"dosecalc did not finish in the terminal:\n{text}"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        shutil.rmtree(socket.parent, ignore_errors=True)
    lines = [line.rstrip() for line in text.split(END)[0].splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def compare(name: str, shown: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(shown, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist: written; look at it and commit it")
    assert shown == path.read_text(encoding="utf-8"), (
        f"the screen differs from {path}; if the change is deliberate, regenerate with "
        "DOSECALC_UPDATE_SCREENS=1"
    )


def whole(shown: str, width: int, expected: list[str]) -> None:
    """No line wider than the terminal, and each expected text whole on one line."""
    for line in shown.splitlines():
        assert len(line) <= width, line
    lines = shown.splitlines()
    for text in expected:
        assert any(text in line for line in lines), f"{text!r} is not whole on any line"


DIA = ["plan", "dia", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"]
MFOLFOX6 = [*DIA[:1], "mfolfox6", *DIA[2:], "--cycles", "2"]


@needs_tmux
@pytest.mark.parametrize("width", [80, 120])
def test_plan_dia_in_a_terminal(tmp_path: Path, width: int) -> None:
    shown = screen(DIA, width, tmp_path)
    whole(
        shown,
        width,
        [
            "CISplatin",
            "221.4 mg",
            "epiRUBicin",
            "73.8 mg",
            "ifosfamide",
            "3,689.3 mg",
            "3 × 737.9 mg",  # mesna, 20 % of ifosfamide at 0, 4 and 8 h
            "20 % of ifosfamide",
            "Tue 2026-12-01",
            "Sat 2026-12-19",
            "120 mg/m² × 1.8447 m²",
            "doxorubicin equivalent",
        ],
    )
    assert "…" not in shown
    compare(f"plan-dia-{width}", shown)


@needs_tmux
@pytest.mark.parametrize("width", [80, 120])
def test_plan_mfolfox6_says_bolus_and_46_h_in_a_terminal(tmp_path: Path, width: int) -> None:
    shown = screen(MFOLFOX6, width, tmp_path)
    whole(
        shown,
        width,
        ["fluorouracil     737.9 mg", "fluorouracil   4,427.2 mg", "bolus", "over 46 h"],
    )
    rows = shown.splitlines()
    bolus = next(i for i, line in enumerate(rows) if "fluorouracil     737.9 mg" in line)
    infusion = next(i for i, line in enumerate(rows) if "fluorouracil   4,427.2 mg" in line)
    assert "bolus" in " ".join(rows[bolus : bolus + 2])
    assert "continuous infusion over 46 h" in " ".join(rows[infusion : infusion + 3])
    compare(f"plan-mfolfox6-{width}", shown)


@needs_tmux
@pytest.mark.parametrize("width", [80, 120])
def test_check_in_a_terminal(tmp_path: Path, width: int) -> None:
    (tmp_path / "history.csv").write_text(HISTORY)
    shown = screen(
        ["check", "--history", "history.csv", "--next", "ddp-epi", "--bsa", "1.8"],
        width,
        tmp_path,
    )
    whole(
        shown,
        width,
        ["epiRUBicin", "bleomycin", "mg/m²", "units", "doxorubicin equivalent", "2019-06-05"],
    )
    table = shown.split("Cumulative exposure")[1].split("\n\n")[0]
    assert re.search(r"epiRUBicin\s+mg/m²\s+950\s+900\s+1,000", table), table
    compare(f"check-{width}", shown)


@needs_tmux
@pytest.mark.parametrize("width", [80, 120])
def test_check_of_a_pharmacy_is_a_summary_in_a_terminal(tmp_path: Path, width: int) -> None:
    (tmp_path / "pharmacy.csv").write_text(PHARMACY)
    shown = screen(["check", "--history", "pharmacy.csv"], width, tmp_path)
    whole(shown, width, ["P003", "P004", "4 patients checked"])
    assert "P001" not in shown  # 680 mg/m² epirubicin: under its threshold, not listed
    compare(f"check-pharmacy-{width}", shown)


@needs_tmux
def test_bsa_and_regimen_views_fit_80_columns(tmp_path: Path) -> None:
    shown = screen(
        ["bsa", "--height", "175cm", "--weight", "70kg", "--formula", "all", "--sex", "male"],
        80,
        tmp_path,
    )
    whole(shown, 80, ["mosteller", "1.8447 m²", "shuter-aslani", "-4.6 %"])
    compare("bsa-all-80", shown)
    shown = screen(["regimens", "show", "mfolfox6"], 80, tmp_path)
    whole(shown, 80, ["fluorouracil", "2,400 mg/m²", "continuous infusion over 46 h"])
    # the 46-h infusion's 2,400 mg/m² is its total: it stood under "Dose per day", beside its
    # note "NOT 2,400 mg/m2 per day"
    header = next(line for line in shown.splitlines() if line.startswith("Drug"))
    assert "per day" not in header, header
    assert re.search(r"fluorouracil\s+2,400 mg/m² over 46 h\s+1\s+2,400 mg/m²", shown), shown
    compare("regimens-show-mfolfox6-80", shown)


@needs_tmux
def test_regimens_diff_is_wrapped_for_the_terminal(tmp_path: Path) -> None:
    """The diff was written as plain lines that the terminal folded at column 80, inside a
    checksum, a dose and its unit ('sha256 3c33769' / '8ff1f', '2 g' / '/m2')."""
    root = Path(__file__).resolve().parents[1]
    divided = root / "examples" / "dia-divided-epirubicin.yaml"
    # both files by their paths in the repository, so the screen is the same in any checkout
    dia = str(Path("regimens", "dia.yaml"))
    shown = screen(["regimens", "diff", dia, str(divided.relative_to(root))], 80, root)
    whole(shown, 80, ["3c337698ff1f", "2 g/m2 on EACH of days 1-5", "-66.7 %"])
    assert "\n  2 g/m2 on EACH" in shown  # a continuation is indented under its line
    compare("regimens-diff-80", shown)


ORDER_189 = """order: MRN123-EC-C2-b
regimen: ec
regimen_version: "1"
cycle: 2
start: 2026-12-22
prescriber: Dr A. Example
patient: {height: 175 cm, weight: 70 kg, bsa: 1.84 m2, measured: 2026-11-28}
lines:
  - {drug: epirubicin, dose: 189 mg, day: 1, route: IV}
  - {drug: fluorouracil, dose: 500 mg, day: 1, route: IV}
"""


@needs_tmux
@pytest.mark.parametrize("width", [80, 120])
def test_verify_holds_in_a_terminal(tmp_path: Path, width: int) -> None:
    (tmp_path / "order.yaml").write_text(ORDER_189)
    shown = screen(
        ["verify", "order.yaml", "--height", "175cm", "--weight", "70kg", "--prior",
         "epirubicin=90mg/m2"],
        width,
        tmp_path,
        height=80,
    )  # fmt: skip
    whole(shown, width, ["HOLD", "epiRUBicin", "189 mg", "166 mg", "+13.8%", "OUTSIDE ±5%",
                         "NOT IN REGIMEN", "MISSING", "1,106.8 mg", "Tue 2026-12-22"])  # fmt: skip
    assert shown.lstrip().startswith("HOLD")
    # and again last: in a 50-line terminal the first line has scrolled away, and the last
    # lines were notes (INFO) that read as if nothing held the order
    assert shown.splitlines()[-1].startswith(" HOLD   3 critical"), shown.splitlines()[-1]
    assert shown.index("CRITICAL") < shown.index("WARNING") < shown.index("INFO")
    compare(f"verify-hold-{width}", shown)


@needs_tmux
def test_docs_are_rendered_for_the_terminal_through_a_pager(tmp_path: Path) -> None:
    # a page that fits the screen: less (LESS=FRX) shows it and quits, leaving it on the screen
    shown = screen(["docs", "readme"], 80, tmp_path)
    whole(shown, 80, ["dosecalc documentation", "pharmacogenomics.md", "warnings.md"])
    assert "|---|" not in shown and "`" not in shown and "[commands.md]" not in shown
    row = next(line for line in shown.splitlines() if "pharmacogenomics.md" in line)
    assert "DPYD and UGT1A1" in row  # the table reflowed into 80 columns, not a pipe row
    compare("docs-readme-80", shown)
    # a long page with its wide table, through the PAGER given
    shown = screen(["docs", "warnings"], 80, tmp_path, env={"PAGER": "cat"})
    codes = re.findall(r"`([A-Z][A-Z0-9_]+)`", (GOLDEN.parent.parent / "docs" / "warnings.md")
                       .read_text(encoding="utf-8"))  # fmt: skip
    whole(shown, 80, codes)  # no code cut or folded
    compare("docs-warnings-80", shown)


@needs_tmux
def test_piped_output_takes_the_width_of_the_terminal_it_was_typed_in(tmp_path: Path) -> None:
    # COLUMNS is not exported (screen() drops it): the pipe is laid out at the terminal's 80
    shown = screen(DIA, 80, tmp_path, pipe="cat")
    whole(shown, 80, ["CISplatin", "221.4 mg", "Tue 2026-12-01", "120 mg/m² × 1.8447 m²"])
    assert "   Calculation" not in shown  # at 80 the calculation moves under its row
    assert shown == screen(DIA, 80, tmp_path)  # as the terminal itself shows it


# the plan, a year later: a plan wholly in the past would add PLAN_IN_THE_PAST one day
RCHOP = ["plan", "r-chop-21", "--height", "180cm", "--weight", "95kg", "--age", "78", "--sex",
         "male", "--formula", "dubois", "--start", "2027-12-09", "--cycles", "1"]  # fmt: skip


@needs_tmux
def test_a_row_with_a_date_range_and_a_ledger_s_checks_fit_80_columns(tmp_path: Path) -> None:
    shown = screen(RCHOP, 80, tmp_path)
    whole(shown, 80, ["Thu 2027-12-09 →", "Mon 2027-12-13", "predniSONE", "100 mg daily"])
    header = next(line for line in shown.splitlines() if line.startswith("Cycle"))
    assert header.rstrip().endswith(("Route", "Basis")), header  # one line, not wrapped
    compare("plan-r-chop-21-range-80", shown)
    db = tmp_path / "ledger.db"
    order = Path(__file__).resolve().parents[1] / "examples" / "order-ec-cycle2.yaml"
    for args in (
        ["ledger", "record", "--patient", "MRN123", "--date", "2026-12-01", "--drug",
         "epirubicin", "--dose", "90mg/m2", "--by", "Dr A", "--db", str(db)],
        ["verify", str(order), "--height", "175cm", "--weight", "70kg", "--patient", "MRN123",
         "--db", str(db), "--record", "--by", "Dr B"],
    ):  # fmt: skip
        subprocess.run([*dosecalc_exe(), *args], cwd=tmp_path, capture_output=True, check=False)
    shown = screen(["ledger", "list", "--patient", "MRN123", "--db", str(db)], 80, tmp_path)
    whole(shown, 80, ["release-with-notes", "epiRUBicin", "90 mg/m²", "2026-12-22"])
