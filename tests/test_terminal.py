"""What a person meets at a terminal (issue 34): widths without COLUMNS, options typed with a
space, bare numbers, the BSA cap said, help that fits 80 columns, and messages that say why."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import DIA, dosecalc_exe


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
    # another extra argument is still said as click says it
    p = run("ledger", "list", "--patient", "P1", "P2")
    assert p.returncode == 2 and "unexpected extra argument" in p.stderr
