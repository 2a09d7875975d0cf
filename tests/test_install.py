"""The installed program: the console script in a subprocess, and the wheel's contents."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DIA, ROOT


def test_installed_console_script_plans_dia_from_another_folder(run) -> None:
    p = run(*DIA, "--format", "json")
    assert p.returncode == 0, p.stderr
    given = json.loads(p.stdout)["administrations"]
    assert len([a for a in given if not a["supportive"]]) == 18  # and 30 doses of mesna


def test_installed_script_refuses_bad_input_without_traceback(run) -> None:
    p = run("plan", "dia", "--height", "175cm", "--weight", "-70kg")
    assert p.returncode == 2
    assert p.stderr.startswith("Error: --weight: -70 kg is not a plausible weight")
    assert "Traceback" not in p.stderr and p.stdout == ""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [whl] = out.glob("dosecalc-*.whl")
    return whl


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed (without dependencies) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return target


def test_the_wheel_ships_the_library_and_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    library = {p.name for p in (ROOT / "regimens").glob("*.yaml")}
    assert {f"dosecalc/regimens/{n}" for n in library} <= names
    assert {
        "dosecalc/data/drugs.yaml",
        "dosecalc/data/ceilings.yaml",
        "dosecalc/base/units.txt",
        "dosecalc/outputs/templates/plan.html.j2",
    } <= names


def _run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from dosecalc.cli import main; sys.argv[0]='dosecalc'; main()",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )


def test_the_installed_wheel_plans_dia_from_any_folder(installed: Path, tmp_path: Path) -> None:
    p = _run_installed(installed, tmp_path, *DIA, "--format", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert len([a for a in data["administrations"] if not a["supportive"]]) == 18
    import dosecalc

    assert Path(dosecalc.__file__).parent != installed / "dosecalc"  # really the other copy


def test_a_damaged_installation_is_an_internal_error_without_traceback(
    installed: Path, tmp_path: Path
) -> None:
    import shutil

    damaged = tmp_path / "site"
    shutil.copytree(installed, damaged)
    data = damaged / "dosecalc" / "data" / "drugs.yaml"
    data.write_text(data.read_text().replace("name: cisplatin", "name: Cisplatin!", 1))
    p = _run_installed(damaged, tmp_path, *DIA)
    assert p.returncode == 3
    assert "internal error" in p.stderr and "Traceback" not in p.stderr
    assert "175" not in p.stderr  # no patient data in the report
    p = _run_installed(damaged, tmp_path, "--debug", *DIA)
    assert p.returncode == 3 and "Traceback" in p.stderr
