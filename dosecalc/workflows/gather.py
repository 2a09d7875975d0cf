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

from dosecalc.base.errors import FileError, fail


@dataclass(frozen=True)
class Prior:
    """The prior exposure of the one patient a plan or an order is for."""

    rows: list[Any]  # records.Row, each administration once
    notices: list[Any]  # what reading them found (Alerts)
    names: list[Any]  # the abbreviations their drug names were read through (drugs.NameRead)
    consulted: Any  # cumulative.Consulted: where it was looked up (what none covers is unknown)


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


def with_labs(person: Any, values: Any, scr_given_as: str = "--scr") -> Any:
    """The patient with the creatinine the labs carry (refused when the labs contradict --scr,
    or an order's creatinine: ``scr_given_as``, or a measured clearance contradicts --gfr)."""
    from dosecalc.clinical import labs as lab_rules

    scr = lab_rules.reconcile_scr(person.scr_mg_dl, values, scr_given_as)
    lab_rules.reconcile_crcl(person.gfr_ml_min, values)
    return replace(person, scr_mg_dl=scr)


def equivalence(value: str | None, rules: Any = None) -> str | None:
    """``--equivalence``: a table name (an empty value is an error, never the default table).
    With the policy in force (``rules``): the table in force (the option's, else the policy's)
    is refused when its factors are unverified, unless the policy allows unverified data."""
    from dosecalc.clinical.policy import SETTINGS

    name = None
    if value is not None:
        try:
            name = SETTINGS["cumulative.equivalence"].check(value)
        except ValueError as e:
            raise fail("--equivalence", str(e)) from None
    if rules is not None and not rules["data.allow_unverified"]:
        from dosecalc.data import ceilings

        chosen = name or rules["cumulative.equivalence"]
        doubtful = ceilings.book().unverified(chosen) if chosen is not None else {}
        if doubtful:
            where = "--equivalence" if name is not None else rules.origins["cumulative.equivalence"]
            listed = ", ".join(f"{d} {f:g}" for d, f in doubtful.items())
            raise fail(
                where,
                f"the {chosen} equivalence table's factors are marked unverified in the data "
                f"({listed}: not read in its source); dosecalc uses no unverified number unless "
                "the institution allows it (--set data.allow_unverified=true, or the policy "
                "file): choose a verified table (dosecalc policy show lists them)",
            )
    return name  # type: ignore[no-any-return]


def factors(chest_rt: str | None, age: float | None, person: Any = None) -> Any:
    """The risk factors the anthracycline ceilings depend on."""
    from dosecalc.clinical.patient import parse_chest_rt
    from dosecalc.data.ceilings import RiskFactors

    gy = parse_chest_rt(chest_rt) if chest_rt is not None else None
    ratio = None  # weight / BSA: turns a per-kg ceiling into mg/m² (daunorubicin under 2 years)
    if person is not None and person.weight_kg is not None and person.bsa_m2:
        ratio = person.weight_kg / person.bsa_m2
    return RiskFactors(cardiac_radiation_gy=gy, age_years=age, kg_per_m2=ratio)


def patient_option(text: str, option: str = "--patient") -> str:
    """A patient id given on the command line, held to the one rule of a patient id (the
    history files', the ledger's and the orders')."""
    from dosecalc.data.records import patient_id

    if not text.strip():
        raise fail(option, "the patient id is empty")
    try:
        return patient_id(text)
    except ValueError as e:
        raise fail(option, str(e)) from None


def from_ledger(loaded: Any, patient: str | None, db: str | None) -> None:
    """Add one patient's recorded doses from the ledger to ``loaded`` (a records.History)."""
    if patient is None:
        if db is not None:
            raise fail("--db", "--db names the ledger of --patient ID; give --patient")
        return
    patient = patient_option(patient)
    if list(loaded.patients) not in ([], [None]):
        raise fail(
            "--patient",
            "the --history file names patients in a column; with --patient give only that "
            "patient's rows, without a patient column",
        )
    from dosecalc.ledger import Ledger

    Ledger(db).add_to(loaded, patient)


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
    from dosecalc.clinical.cumulative import Consulted, screen
    from dosecalc.inputs import history as hist

    loaded = hist.load(history or [], priors or [])
    from_ledger(loaded, patient, db)
    problems = screen(loaded, lambda _: bsa_m2, again)
    if problems:
        raise FileError(*problems)
    if len(loaded.patients) > 1:
        raise fail(
            "--history",
            f"the history names {len(loaded.patients)} patients; a plan is "
            "for one: give that patient's rows only (dosecalc check reads them all)",
        )
    rows = loaded.all_rows()
    consulted = Consulted(
        history=bool(history),
        ledger=patient is not None,
        prior=frozenset(r.drug for r in rows if r.where == "--prior"),
    )
    return Prior(rows, loaded.notes.get(None, []), loaded.names_read(), consulted)
