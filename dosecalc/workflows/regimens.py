"""``dosecalc regimens …``: the library, and the validation of regimen and course files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def library() -> list[Any]:
    """Every regimen of the packaged library, by id."""
    from dosecalc.data import regimen as rg

    return [rg.load_file(rg.library_dir() / f"{i}.yaml") for i in rg.library_ids()]


@dataclass
class Validated:
    """One file checked: its problems (none: valid), the notices about it, and whether one of
    them is critical (plan of it would exit 1)."""

    path: Path
    problems: list[Any] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    critical: bool = False


def files_of(paths: list[Path]) -> list[Path]:
    """The files named, and the YAML files of the folders named."""
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p])
    return out


def validate(path: Path) -> Validated:
    """A regimen or course file checked as plan would read it (a course with its regimens)."""
    from dosecalc.base.errors import DosecalcError
    from dosecalc.workflows import course as crs

    try:
        opened = crs.open_file(str(path))
        if isinstance(opened, crs.Course):
            crs.check_references(opened)
    except DosecalcError as e:
        return Validated(path, list(e.problems))
    from dosecalc.clinical.dosing import line_alerts, regimen_guard_alerts
    from dosecalc.clinical.policy import defaults
    from dosecalc.clinical.supportive import regimen_gaps

    notices = [read.message for read in getattr(opened, "names_read", ())]
    gaps = [] if isinstance(opened, crs.Course) else regimen_gaps(opened)  # a course's: at plan
    # the single-dose guard on each regimen as written, a course's phases' too (their days
    # together only at plan, with their dates)
    regimens = crs.phase_regimens(opened) if isinstance(opened, crs.Course) else [opened]
    gaps += [a for r in regimens for a in regimen_guard_alerts(r, defaults())]
    gaps += [a for r in regimens for a in line_alerts(r)]
    notices += [f"{a.severity} {a.code}: {a.message}" for a in gaps]
    return Validated(path, [], notices, any(a.severity == "critical" for a in gaps))
