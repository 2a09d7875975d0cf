"""``dosecalc check``: lifetime exposure from histories, the ledger and ``--prior``, per patient,
and what of a proposed regimen still fits.

Which engine checks is decided here, once: one patient (a YAML or CSV history without a patient
column, ``--patient``, ``--prior``, ``--next``, ``--chart``, ``--lab``) by the per-patient
reference (clinical/check.py); every patient of CSV histories naming many patients, of a Parquet
history, or of the whole ledger by the analytics engine (pharmacy/), whose numbers are made into
the reference's own checks. Either way the result is :class:`One` or :class:`Many`; writing it
out is the command line's (cli/check.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dosecalc.base.errors import fail
from dosecalc.clinical import policy as policy_mod
from dosecalc.clinical.plan import given_bsa_alerts

LEVELS = ("threshold", "limit")
MAX_JOBS = 256


@dataclass(frozen=True)
class CheckRequest:
    """check's options, as typed (None: not given)."""

    history: list[Path] | None = None
    patient: str | None = None
    all_patients: bool = False
    db: str | None = None
    prior: list[str] | None = None
    again: bool = False
    next: str | None = None
    cycles: str | None = None
    height: str | None = None
    weight: str | None = None
    bsa: str | None = None
    formula: str | None = None
    sex: str | None = None
    age: str | None = None
    scr: str | None = None
    lab: list[str] | None = None
    labs: list[Path] | None = None
    genotype: list[str] | None = None
    chest_rt: str | None = None
    equivalence: str | None = None
    policy: Path | None = None
    set_: list[str] | None = None
    chart: Path | None = None
    only_over: str | None = None
    patients_over: str | None = None
    jobs: str | None = None

    @classmethod
    def of(cls, options: dict[str, Any]) -> CheckRequest:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})


@dataclass
class One:
    """One patient's check (``named``: the history names the patient in a column)."""

    check: Any  # clinical.check.PatientCheck
    named: bool
    read: list[Any]  # notices about the files and options (abbreviations read)
    over: str | None = None  # --patients-over (CSV: only the drugs over it)
    charts: bool = True  # the table may draw small charts (the reference's result is kept)


@dataclass
class Many:
    """Every patient's check, in history order, as they are made.

    ``checks()`` yields (check, critical, patients it accounts for): the check of each patient
    selected by ``over`` (else None), whether it is critical and, from the engine (which checked
    them all first), a last (None, whether any is critical, all of them) for the progress. ``over_a_level()`` yields (patient, critical, patients it accounts for)
    where ``patient`` (its id and totals, or None) is one over a threshold. ``high_doses()`` counts the patients with a history row above its drug's usual
    maximum single dose."""

    total: int
    over: str | None
    read: list[Any]
    checks: Callable[[], Iterator[tuple[Any, bool, int]]]
    over_a_level: Callable[[], Iterator[tuple[Any, bool, int]]]
    high_doses: Callable[[], int]
    close: Callable[[], None] = field(default=lambda: None)
    # from the engine: each selected patient's numbers (pharmacy.batch.Numbers: totals, first
    # crossings, critical), then (None, whether any is critical, all of them), for what prints
    # totals only (CSV); None: make them from checks()
    numbers: Callable[[], Iterator[tuple[Any, bool, int]]] | None = None
    # the engine's check itself (pharmacy.batch.Checked), for a CSV of every patient's totals
    # the engine writes (outputs.summary.numbers_csv); None when there is none
    engine: Any = None


def over_level(req: CheckRequest) -> str | None:
    """``--patients-over`` (or its older name ``--only-over``): threshold, limit or None."""
    from dosecalc.base.errors import did_you_mean

    for name, value in (("--only-over", req.only_over), ("--patients-over", req.patients_over)):
        if value is not None and value.strip().lower() not in LEVELS:
            raise fail(
                name,
                f"'{value}' is not a level{did_you_mean(value, LEVELS)}; give threshold or limit",
            )
    given = {v.strip().lower() for v in (req.only_over, req.patients_over) if v is not None}
    if len(given) > 1:
        raise fail("--patients-over", "says the same as --only-over: give one of them")
    return given.pop() if given else None


def run(req: CheckRequest) -> One | Many:
    from dosecalc.base import strict
    from dosecalc.clinical import patient as pt
    from dosecalc.data.regimen import MAX_CYCLES
    from dosecalc.workflows import gather

    over = over_level(req)
    if req.cycles is not None and req.next is None:
        raise fail("--cycles", "--cycles counts the cycles of --next REGIMEN; give --next")
    n_cycles = strict.whole_option(req.cycles, "--cycles", 1, MAX_CYCLES, "a number of cycles")
    jobs = strict.whole_option(req.jobs, "--jobs", 1, MAX_JOBS, "a number of engine threads")

    if req.all_patients:
        if req.history or req.prior or req.patient is not None or req.chart is not None:
            raise fail(
                "--all-patients",
                "audits the ledger alone; leave out --history, --prior, --patient and --chart",
            )
    elif not req.history and not req.prior and req.patient is None:
        raise fail(
            "--history",
            "nothing to check: give --history FILE, --prior DRUG=AMOUNT, --patient ID "
            "(from the ledger) or --all-patients",
        )
    rules = gather.policy(req.policy, req.set_)
    table = gather.equivalence(req.equivalence, rules)
    person = pt.build_patient(
        req.height, req.weight, req.bsa, req.formula, req.sex, req.age, scr=req.scr,
        policy=rules, require_bsa=False,
    )  # fmt: skip
    values = gather.labs(req.lab, req.labs)
    if req.genotype and req.next is None:
        raise fail(
            "--genotype",
            "a genotype changes the doses of a proposed regimen: give --next REGIMEN (a plan "
            "or a verify takes it too)",
        )
    person = gather.with_labs(person, values)
    given_labs = bool(values) or person.scr_mg_dl is not None
    if given_labs and req.all_patients:
        raise fail("--lab", "lab values are one patient's; --all-patients audits many")
    if req.all_patients:
        _one_body(req, 0)
    factors = gather.factors(req.chest_rt, person.age_years, person)
    settings = (person, factors, table, rules)
    # the policy in force, then a --bsa the height and weight do not support
    said = policy_mod.in_force(rules) + given_bsa_alerts(person, rules)
    if _by_engine(req, given_labs):
        many = _engine(req, settings, over, jobs, said)
        if many is not None:
            return many
    return _reference(req, settings, over, n_cycles, values, given_labs, said)


def _one_body(req: CheckRequest, count: int) -> None:
    """A BSA, height or weight is one patient's: applied to every patient of a pharmacy file it
    converted each one's absolute doses with it, over their own history's BSA, without a
    word. Refused for a check of several patients (``count``; 0: the ledger audit)."""
    given = [n for n, v in (("--bsa", req.bsa), ("--height", req.height), ("--weight", req.weight))
             if v is not None]  # fmt: skip
    if given:
        many = f"the history names {count:,} patients" if count else "--all-patients audits many"
        raise fail(
            given[0],
            f"a BSA, height or weight is one patient's, and {many}: each patient's absolute "
            "doses are converted with the bsa_m2 of their own rows (give it in the history), "
            "or check that patient's rows alone with theirs",
        )


def _by_engine(req: CheckRequest, given_labs: bool) -> bool:
    """Whether the analytics engine checks: the ledger audit, a Parquet history, or CSV
    histories that name patients (and nothing that is one patient's)."""
    from dosecalc.pharmacy import batch

    one = (
        req.next is not None or req.prior or req.patient is not None or req.chart is not None
        or given_labs
    )  # fmt: skip
    parquet = any(p.suffix.lower() == ".parquet" for p in req.history or [])
    if not (req.all_patients or parquet or (not one and batch.wanted(req.history or []))):
        return False
    if one:
        raise fail(
            "--all-patients" if req.all_patients else "--history",
            "the ledger audit and a Parquet history check every patient at once: leave out "
            "--next, --prior, --patient, --chart and --lab (give one patient's rows in a CSV "
            "or YAML file for those)",
        )
    return True


def _engine(
    req: CheckRequest,
    settings: tuple[Any, ...],
    over: str | None,
    jobs: int | None,
    said: list[Any],
) -> Any:
    """Every patient, by the engine (pharmacy/batch.py, pharmacy/audit.py); None when a history
    turns out to name one patient (the reference checks it)."""
    from dosecalc.clinical.plan import name_alerts
    from dosecalc.pharmacy import audit, batch

    person, factors, table, rules = settings
    loaded = (
        audit.load(req.db, jobs) if req.all_patients else batch.load(req.history or [], jobs=jobs)
    )
    try:
        read = said + name_alerts(rules, loaded.names_read())  # the abbreviations read
        checked = batch.check(loaded, batch.settings(person, factors, table, rules), req.again)
        read += checked.ids_alike()
        parquet = any(s.kind == "parquet" for s in loaded.sources)
        if checked.patients == 1 and not req.all_patients and not parquet:
            loaded.close()
            return None  # one patient: the reference's output for one patient
        if checked.patients > 1:
            _one_body(req, checked.patients)
        if not loaded.patient_column or (parquet and checked.patients == 1):
            # a Parquet history of one patient, named in a column or not: that patient's check,
            # as a CSV file of one patient gives it (it printed only '1 patient checked')
            [r] = list(checked.checks())
            r.warnings[:0] = read  # the abbreviations read, before the patient's own warnings
            loaded.close()
            return One(r, bool(loaded.patient_column), read, over, charts=False)
    except BaseException:
        loaded.close()
        raise

    def checks() -> Iterator[tuple[Any, bool, int]]:
        for r in checked.checks(over):
            yield r, r.critical, 0
        # the engine checked every patient before the first: all are done, some critical?
        yield None, checked.critical, checked.patients

    def numbers() -> Iterator[tuple[Any, bool, int]]:
        for n in checked.numbers(over):
            yield n, n.critical, 0
        yield None, checked.critical, checked.patients

    return Many(
        checked.patients,
        over,
        read,
        checks,
        checked.over_a_level,
        lambda: checked.noted("HISTORY_DOSE_HIGH"),
        loaded.close,
        numbers,
        checked,
    )


def _reference(
    req: CheckRequest,
    settings: tuple[Any, ...],
    over: str | None,
    n_cycles: int | None,
    values: Any,
    given_labs: bool,
    said: list[Any],
) -> One | Many:
    """Patient by patient, by the reference (clinical/check.py)."""
    from dosecalc.clinical import check as chk
    from dosecalc.clinical import cumulative
    from dosecalc.clinical.plan import name_alerts
    from dosecalc.data import regimen as rg
    from dosecalc.inputs import history as hist
    from dosecalc.workflows import gather, notices

    person, factors, table, rules = settings
    loaded = hist.load(req.history or [], req.prior or [])
    if req.all_patients:
        from dosecalc.ledger import Ledger

        Ledger(req.db).add_to(loaded, None)
    else:
        gather.from_ledger(loaded, req.patient, req.db)
    proposed = rg.load(req.next) if req.next is not None else None
    read = said + name_alerts(rules, loaded.names_read(), proposed.names_read if proposed else ())
    chk.preflight(loaded, person, proposed, rules, req.again)
    read += cumulative.ids_alike(loaded.patients)
    named = list(loaded.patients) != [None]  # a patient column: per-patient output
    count = len(loaded.patients)
    if given_labs and count > 1:
        raise fail(
            "--lab",
            f"lab values are one patient's, and the history names {count} patients; "
            "give that patient's rows only",
        )
    if count > 1:
        _one_body(req, count)
    if req.chart is not None and count > 1:
        shown = ", ".join(str(p) for p in list(loaded.patients)[:3])
        raise fail(
            "--chart",
            f"a chart shows one patient; the history names {count} patients ({shown}"
            f"{', …' if count > 3 else ''}): give one patient's rows",
        )
    genotypes = gather.genotypes(req.genotype, values) if proposed is not None else {}
    if genotypes and count > 1:
        raise fail(
            "--genotype",
            f"a genotype is one patient's, and the history names {count} patients; give that "
            "patient's rows only",
        )
    args = (person, factors, table, proposed, n_cycles, rules)
    if named and (count != 1 or req.all_patients):
        return _many(loaded, over, args, read)
    [r] = list(chk.check_history(loaded, *args, genotypes=genotypes or None))
    r.warnings[:0] = read  # the abbreviations read, before the patient's own warnings
    if given_labs:
        r = chk.with_labs(r, values, person, proposed, rules)
    if genotypes:
        r = chk.with_genotypes(r, genotypes, proposed, rules)
    r.warnings.extend(notices.untracked_priors(loaded.all_rows(), r.result))
    if r.next is not None and not req.history and req.patient is None:  # --prior alone
        given = frozenset(row.drug for row in loaded.all_rows() if row.where == "--prior")
        r.warnings.extend(chk.unknown_priors(r.next, given, r.result.equivalence.factors))
    return One(r, named, read, over)


def _many(loaded: Any, over: str | None, args: Sequence[Any], read: list[Any]) -> Many:
    from dosecalc.clinical import check as chk

    def checks() -> Iterator[tuple[Any, bool, int]]:
        for r in chk.check_history(loaded, *args):
            yield (r if chk.passes(chk.worst(r), over) else None), r.critical, 1

    def over_a_level() -> Iterator[tuple[Any, bool, int]]:
        for r in chk.check_history(loaded, *args):
            yield (r if chk.worst(r) is not None else None), r.critical, 1

    noted = sum(any(a.code == "HISTORY_DOSE_HIGH" for a in n) for n in loaded.notes.values())
    return Many(len(loaded.patients), over, read, checks, over_a_level, lambda: noted)
