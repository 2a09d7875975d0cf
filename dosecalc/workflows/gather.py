"""What every workflow gathers from what a person typed, in one place: the policy in force, the
laboratory values, the patient's prior exposure (history files, ``--prior`` amounts, the
patient's ledger records) and the risk factors of the anthracycline ceilings.

Each function takes the options as typed and refuses what is wrong with one sentence naming the
option (exit 2); nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dosecalc.base.errors import fail


@dataclass(frozen=True)
class Prior:
    """The prior exposure of the one patient a plan or an order is for."""

    rows: list[Any]  # records.Row, each administration once
    notices: list[Any]  # what reading them found (Alerts)
    names: list[Any]  # the abbreviations their drug names were read through (drugs.NameRead)


def policy(path: Path | None, sets: list[str] | None) -> Any:
    """The policy in force: ``--policy FILE`` (else the default file, if any) and ``--set``."""
    from dosecalc.inputs import policy as pol

    return pol.load(path or pol.default_path(), pol.parse_sets(sets))


def labs(texts: list[str] | None, files: list[Path] | None) -> Any:
    """The lab values given (``--lab``, ``--labs``), merged and checked."""
    from dosecalc.inputs import labs as lab_input

    return lab_input.collect(texts or [], files or [])


def genotypes(texts: list[str] | None, values: Any = None) -> dict[str, Any]:
    """The genotypes given: ``--genotype GENE=VALUE`` and the lab files' genotype rows (two
    different results for one gene are refused)."""
    from dosecalc.clinical import pgx

    found = pgx.collect(texts or [])
    for g in getattr(values, "genotypes", ()):
        pgx.add(found, g)
    return found


def with_labs(person: Any, values: Any) -> Any:
    """The patient with the creatinine the labs carry (refused when the labs contradict --scr,
    or a measured clearance contradicts --gfr)."""
    from dosecalc.clinical import labs as lab_rules

    scr = lab_rules.reconcile_scr(person.scr_mg_dl, values)
    lab_rules.reconcile_crcl(person.gfr_ml_min, values)
    return replace(person, scr_mg_dl=scr)


def equivalence(value: str | None) -> str | None:
    """``--equivalence``: a table name (an empty value is an error, never the default table)."""
    if value is None:
        return None
    from dosecalc.clinical.policy import SETTINGS

    try:
        return SETTINGS["cumulative.equivalence"].check(value)  # type: ignore[no-any-return]
    except ValueError as e:
        raise fail("--equivalence", str(e)) from None


def factors(chest_rt: str | None, age: float | None, person: Any = None) -> Any:
    """The risk factors the anthracycline ceilings depend on."""
    from dosecalc.clinical.patient import parse_chest_rt
    from dosecalc.data.ceilings import RiskFactors

    gy = parse_chest_rt(chest_rt) if chest_rt is not None else None
    ratio = None  # weight / BSA: turns a per-kg ceiling into mg/m² (daunorubicin under 2 years)
    if person is not None and person.weight_kg is not None and person.bsa_m2:
        ratio = person.weight_kg / person.bsa_m2
    return RiskFactors(cardiac_radiation_gy=gy, age_years=age, kg_per_m2=ratio)


def from_ledger(loaded: Any, patient: str | None, db: str | None) -> None:
    """Add one patient's recorded doses from the ledger to ``loaded`` (a records.History)."""
    if patient is None:
        if db is not None:
            raise fail("--db", "--db names the ledger of --patient ID; give --patient")
        return
    if not patient.strip():
        raise fail("--patient", "the patient id is empty")
    if list(loaded.patients) not in ([], [None]):
        raise fail(
            "--patient",
            "the --history file names patients in a column; with --patient give only that "
            "patient's rows, without a patient column",
        )
    from dosecalc.ledger import Ledger

    Ledger(db).add_to(loaded, patient.strip())


def prior(
    history: list[Path] | None,
    priors: list[str] | None,
    patient: str | None,
    db: str | None,
    bsa_m2: float | None,
    again: bool,
) -> Prior:
    """The prior rows of the one patient a plan or an order is for (files, --prior and the
    ledger), each administration once (or, ``again``, repeats counted and said)."""
    from dosecalc.clinical.cumulative import screen
    from dosecalc.inputs import history as hist

    loaded = hist.load(history or [], priors or [])
    from_ledger(loaded, patient, db)
    screen(loaded, lambda _: bsa_m2, again)
    if len(loaded.patients) > 1:
        raise fail(
            "--history",
            f"the history names {len(loaded.patients)} patients; a plan is "
            "for one: give that patient's rows only (dosecalc check reads them all)",
        )
    return Prior(loaded.all_rows(), loaded.notes.get(None, []), loaded.names_read())
