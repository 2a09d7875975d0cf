"""Shared fixtures: the installed console script, the CLI runner, the output schemas (the
package's own, the only copy)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from dosecalc.cli import app

# Properties check what is computed, not how fast: speed is measured in bench/, and a deadline
# only makes a test fail on a busy machine.
settings.register_profile("dosecalc", deadline=None)
settings.load_profile("dosecalc")

ROOT = Path(__file__).resolve().parent.parent
# The day the tests take as today (dosecalc/base/clock.py), for dosecalc in this process and in
# every subprocess: a test's fixed dates (a plan from 2026-12-01, a lab "a week ago") keep their
# meaning whatever day the suite runs. Set DOSECALC_TODAY to run it as of another day.
os.environ.setdefault("DOSECALC_TODAY", "2026-12-07")
TODAY = date.fromisoformat(os.environ["DOSECALC_TODAY"])
SCHEMAS = Path(__file__).resolve().parents[1] / "dosecalc" / "outputs" / "schemas"  # the only copy
DIA = ["plan", "dia", "--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"]


def dosecalc_exe() -> list[str]:
    """The installed console script (falls back to ``python -m dosecalc``)."""
    exe = shutil.which("dosecalc", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "dosecalc"]


@pytest.fixture
def process(tmp_path: Path):
    """Run the installed ``dosecalc`` in a subprocess, from a folder outside the repository:
    for what only a real process shows (start-up, signals, the garbage collector, imports)."""

    def _run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*dosecalc_exe(), *args],
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "120", **(env or {})},
            input=input,
            timeout=60,
        )

    return _run


@pytest.fixture
def run(tmp_path: Path):
    """Run ``dosecalc`` in this process (errors turned into exit codes as the program does),
    from a folder outside the repository; returns what a subprocess would (returncode, stdout,
    stderr). The output is a pipe's, 120 columns wide. That the program builds its commands
    on demand and shows the same is tested apart (test_cli.py)."""

    def _run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        runner = CliRunner(env={"COLUMNS": "120", **(env or {})})
        here = os.getcwd()
        os.chdir(cwd or tmp_path)
        try:
            result = runner.invoke(app, list(args), input=input, prog_name="dosecalc")
        finally:
            os.chdir(here)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(
            ["dosecalc", *args], result.exit_code, result.stdout, result.stderr
        )

    return _run


@pytest.fixture
def cli():
    """Invoke the typer app in-process; returns (exit_code, stdout, stderr). The output is a
    pipe's, 120 columns as for ``run`` (whatever COLUMNS the test process has: pytest-xdist's
    workers have 80)."""
    runner = CliRunner(env={"COLUMNS": "120"})

    def _cli(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return _cli


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1 for the session (see tests/pg.py)."""
    from tests import pg

    with pg.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path: Path):
    """A fresh, empty ledger: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    from tests import pg

    with pg.database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite ledger, for what does not depend on the database."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def sql(url: str, statement: str, **params: object) -> list[tuple]:
    """Run SQL on a ledger's database directly, behind dosecalc's back (for tampering tests)."""
    import sqlalchemy

    engine_url = sqlalchemy.engine.make_url(url)
    if engine_url.get_backend_name() == "postgresql":
        engine_url = engine_url.set(drivername="postgresql+psycopg")
    engine = sqlalchemy.create_engine(engine_url, poolclass=sqlalchemy.pool.NullPool)
    with engine.begin() as conn:
        result = conn.execute(sqlalchemy.text(statement), params)
        rows = [tuple(r) for r in result] if result.returns_rows else []
    engine.dispose()
    return rows


# The witness of each ledger's head (dosecalc/ledger/witness.py) goes to a folder of the test
# session, never into the user's own state folder; subprocesses inherit it.
os.environ.setdefault(
    "DOSECALC_STATE_DIR", os.path.join(__import__("tempfile").mkdtemp(prefix="dosecalc-state-"))
)
