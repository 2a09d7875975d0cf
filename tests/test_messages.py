"""Messages that say what the user most likely did (issue 34): a lab file given as a history and
the reverse, a web page saved as CSV."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, write

PERSON = ["--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"]


def test_a_lab_file_given_as_a_history_is_named(run) -> None:
    p = run("check", "--history", str(ROOT / "examples" / "labs.csv"))
    assert p.returncode == 2
    assert "it looks like a lab file (date,name,value,unit): give it with --labs" in p.stderr


def test_a_history_given_as_a_lab_file_is_named(run) -> None:
    p = run("plan", "dia", *PERSON, "--labs", str(ROOT / "examples" / "history.csv"))
    assert p.returncode == 2
    assert "it looks like a history of doses (date,drug,dose,unit): give it with --history" in (
        p.stderr
    )


def test_a_web_page_saved_as_csv_is_named(run, tmp_path: Path) -> None:
    page = write(tmp_path, "export.csv", "<!DOCTYPE html>\n<html><body>login</body></html>\n")
    for args in (["check", "--history", str(page)], ["plan", "dia", *PERSON, "--labs", str(page)]):
        p = run(*args)
        assert p.returncode == 2 and "looks like an HTML or XML page" in p.stderr, p.stderr
