"""Every command the README and docs show (`$ dosecalc ...`) is run as shown, in order, by the
installed console script in a fresh folder holding a copy of examples/ and an empty ledger; what
the page prints of its output must be in the real output, and an `echo $?` after it must give the
exit status shown. A page that drifts from the program fails here, not in a reader's terminal.

What a page abridges is written with `…`: the text on each side of it is compared, the elided
part is not. Output of `--format json` is compared by its quoted strings (keys, traces), each of
which must occur in the real JSON."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import ROOT, dosecalc_exe

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```[a-z]*\n(.*?)^```", re.S | re.M)


class Shown(NamedTuple):
    page: str
    command: str
    output: list[str]  # the lines the page prints after it
    status: int | None  # from a following `$ echo $?`


def shown(page: Path) -> list[Shown]:
    """The `$ dosecalc` commands of a page's code blocks, with what the page shows of each."""
    out: list[Shown] = []
    for block in BLOCK.findall(page.read_text(encoding="utf-8")):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if line.startswith("$ echo $?") and out and i < len(lines):
                out[-1] = out[-1]._replace(status=int(lines[i].strip()))
                i += 1
                continue
            if not line.startswith("$ dosecalc"):
                continue
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + lines[i].strip()
                i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            out.append(Shown(page.name, command, output, None))
    return out


def squeeze(text: str) -> str:
    return " ".join(text.split())


def missing(shown_lines: list[str], real: str, command: str) -> list[str]:
    """The pieces of what the page shows that the real output does not hold."""
    if "--format json" in command:
        quoted = re.findall(r'"((?:[^"\\]|\\.)*)"', "\n".join(shown_lines))
        pieces = [piece for q in quoted for piece in q.split("…") if piece.strip()]
        return [p for p in pieces if p not in real]
    lines = [squeeze(ln) for ln in real.splitlines()]
    gone = []
    for line in shown_lines:
        for piece in (squeeze(p) for p in line.split("…")):
            if piece and not any(piece in real_line for real_line in lines):
                gone.append(piece)
    return gone


ALL = [s for page in PAGES for s in shown(page)]


def test_the_pages_show_commands_at_all() -> None:
    readme = [s for s in ALL if s.page == "README.md"]
    assert len(readme) >= 25
    assert sum(bool(s.output) for s in readme) >= 12  # most show what they print
    assert any(s.status == 2 for s in readme) and any(s.status == 1 for s in readme)


@pytest.mark.parametrize("page", [p.name for p in PAGES if shown(p)])
def test_every_command_of_the_page_runs_as_shown(page: str, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOSECALC_")},
        "DOSECALC_TODAY": os.environ["DOSECALC_TODAY"],  # the tests' today (conftest.py)
        "COLUMNS": "120",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "DOSECALC_STATE_DIR": str(tmp_path / "state"),
        "DOSECALC_DB": f"sqlite:///{tmp_path / 'ledger.db'}",
        "PATH": f"{Path(dosecalc_exe()[0]).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    problems = []
    for s in (s for s in ALL if s.page == page):
        p = subprocess.run(
            ["bash", "-c", s.command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        real = p.stdout + p.stderr
        if "Traceback" in real:
            problems.append(f"{s.command}: a traceback")
            continue
        if "--format json" in s.command and p.returncode in (0, 1):
            json.loads(p.stdout)  # valid JSON, whatever the page shows of it
        expected = s.status
        if expected is None:
            errors = bool(s.output) and s.output[0].startswith("Error:")
            ok = p.returncode == 2 if errors else p.returncode in (0, 1)
            if not ok:
                problems.append(f"{s.command}: exit {p.returncode}: {real[-300:]}")
        elif p.returncode != expected:
            problems.append(f"{s.command}: exit {p.returncode}, the page says {expected}")
        gone = missing(s.output, real, s.command)
        if gone:
            problems.append(f"{s.command}: not in the output: {gone[:3]}")
    assert not problems, "\n".join(problems)
