"""A real PostgreSQL server for the ledger tests, started on 127.0.0.1 for the test session.

Uses ``$DOSECALC_TEST_POSTGRES`` (a server URL) when set; else starts a throw-away cluster with
the machine's initdb/pg_ctl (Debian's postgresql package, which .ci/run installs). Without
PostgreSQL the tests that need it are skipped, unless ``DOSECALC_REQUIRE_POSTGRES=1`` (set by
.ci/run), when they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(why: str) -> None:
    if os.environ.get("DOSECALC_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required here (DOSECALC_REQUIRE_POSTGRES) but {why}")
    pytest.skip(f"no PostgreSQL server: {why}")


@contextmanager
def server() -> Iterator[str]:
    """Yield ``postgresql://user@127.0.0.1:port`` of a running server (no database part)."""
    given = os.environ.get("DOSECALC_TEST_POSTGRES")
    if given:
        yield given.rstrip("/")
        return
    bindir = _bindir()
    if bindir is None:
        _unavailable("initdb/pg_ctl are not installed (Debian: apt-get install postgresql)")
    assert bindir is not None
    folder = Path(tempfile.mkdtemp(prefix="dosecalc-pg-"))
    data, log = folder / "data", folder / "server.log"
    # PostgreSQL refuses to run as root: run it as the postgres user (subprocess switches
    # user itself, so neither runuser nor su, often outside a bare PATH, is needed).
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    port = _free_port()
    try:
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "dosecalc",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **as_user,
        )
        subprocess.run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **as_user,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        detail = getattr(e, "stderr", b"") or b""
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"the test server did not start ({e}; {detail.decode(errors='replace')})")
    try:
        yield f"postgresql://dosecalc@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
            **as_user,
        )
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def database(base: str) -> Iterator[str]:
    """A fresh database on the server for one test; dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def emptied(url: str) -> str:
    """The database of ``url`` with every table gone (a fresh schema): a new, empty database
    for each example of a property, without the cost of creating one."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url
