"""Where the packaged regimen library is (no parsing here: shell completion reads it too)."""

from __future__ import annotations

from pathlib import Path


def library_dir() -> Path:
    """The packaged regimen library (``dosecalc/regimens`` in a wheel, ``regimens/`` in a clone)."""
    here = Path(__file__).resolve().parents[1]  # the package
    installed = here / "regimens"
    return installed if installed.is_dir() else here.parent / "regimens"


def library_ids() -> list[str]:
    return sorted(p.stem for p in library_dir().glob("*.yaml"))
