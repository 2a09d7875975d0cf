"""``dosecalc verify ORDER``: read the order, build the patient, load the prior exposure, compare
(clinical/verify.py decides), and record the check in the ledger when asked. Printing the verdict
is the command line's (cli/verify.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from dosecalc.base.errors import DosecalcError, FileError, Problem, fail


@dataclass(frozen=True)
class VerifyRequest:
    """verify's options, as typed (None: not given)."""

    order: Path
    height: str | None = None
    weight: str | None = None
    bsa: str | None = None
    formula: str | None = None
    sex: str | None = None
    age: str | None = None
    scr: str | None = None
    gfr: str | None = None
    gfr_measured: bool = False
    lab: list[str] | None = None
    labs: list[Path] | None = None
    adjust_organ: bool = False
    genotype: list[str] | None = None
    previous_weight: str | None = None
    regimen: str | None = None
    cycle: str | None = None
    start: str | None = None
    history: list[Path] | None = None
    prior: list[str] | None = None
    again: bool = False
    patient: str | None = None
    db: str | None = None
    chest_rt: str | None = None
    equivalence: str | None = None
    policy: Path | None = None
    sets: list[str] | None = None
    record: bool = False
    by: str | None = None
    acknowledge: list[str] | None = None  # the verifying pharmacist's: CODE[:DRUG[:DAY]]=REASON

    @classmethod
    def of(cls, options: dict[str, Any]) -> VerifyRequest:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})


def run(o: VerifyRequest) -> Any:
    """The order checked (clinical.verify.Verification), recorded in the ledger with --record."""
    from dosecalc.base import strict
    from dosecalc.base.alerts import WARNING
    from dosecalc.clinical.plan import parse_start
    from dosecalc.clinical.verify import verify
    from dosecalc.data.regimen import MAX_CYCLES
    from dosecalc.inputs import order as od
    from dosecalc.workflows import gather, notices
    from dosecalc.workflows.course import Course

    if o.patient is not None:
        o = replace(o, patient=gather.patient_option(o.patient))
    if o.by is not None and not o.record and not o.acknowledge:
        raise fail(
            "--by",
            "--by names who records the check or acknowledges a warning; give --record or "
            "--acknowledge too",
        )
    if o.acknowledge and (o.by is None or not o.by.strip()):
        raise fail(
            "--acknowledge",
            "an acknowledgement names who gives it: give --by NAME (the verifying pharmacist)",
        )
    if o.record and o.patient is None:
        raise fail("--record", "a check is recorded in a patient's ledger: give --patient ID")
    cycle = strict.whole_option(o.cycle, "--cycle", 1, MAX_CYCLES, "a cycle number")
    rules = gather.policy(o.policy, o.sets)
    table = gather.equivalence(o.equivalence, rules)
    start = parse_start(o.start)[0] if o.start is not None else None
    named = _option_file(o.regimen)  # a --regimen FILE, read once
    file_id = None if named is None or isinstance(named, Course) else str(named.id)
    order = od.read(o.order, o.regimen, cycle, start, file_id)
    if order.regimen is None:
        raise fail(
            "--regimen",
            "the bundle does not say which regimen it orders; give --regimen ID or FILE",
        )
    if order.cycle is None:
        raise fail("--cycle", "the bundle does not say which cycle it orders; give --cycle N")
    regimen = _regimen(order, o.regimen is not None, named)
    if o.patient is not None and order.patient.id is not None:
        if o.patient.strip() != order.patient.id:
            raise other_patient(order, f"--patient {o.patient.strip()}", "order")
    labs = gather.labs(o.lab, o.labs)
    genotypes, said = _genotypes(o, order, labs)
    person, source, order_bsa = _patient(o, order, rules)
    from_order = f"the order's patient.scr ({order.source})"
    person = gather.with_labs(person, labs, "--scr" if o.scr is not None else from_order)
    # the order's genotype, age, sex, creatinine or GFR replaced by a different one: said, as
    # a warning (the prescriber dosed with the other value)
    said += notices.overrides(
        order.patient, {k: getattr(o, k) for k in ("sex", "age", "scr", "gfr")}, order.source
    )
    said = [replace(a, severity=WARNING) for a in said]
    prior = _prior(o, person.bsa_m2)
    for row in prior.rows:  # a history file's rows name their patient: the order's, or refused
        if order.patient.id is not None and row.patient and row.patient != order.patient.id:
            raise other_patient(order, f"patient {row.patient} of --history {row.where}", "history")
    result = verify(
        order,
        regimen,
        person,
        rules,
        patient_from=source,
        order_bsa_m2=order_bsa,
        history=prior.rows,
        notices=[*prior.notices, *said],
        names=prior.names,
        consulted=prior.consulted,
        factors=gather.factors(o.chest_rt, person.age_years),
        equivalence=table,
        plan_options={"labs": labs, "adjust_organ": o.adjust_organ, "genotypes": genotypes},
        pharmacist=tuple(
            acknowledgement(text, o.by or "", order.cycle) for text in o.acknowledge or []
        ),
    )
    if o.record:
        from dosecalc.ledger.checks import record

        result = record(result, o.patient.strip(), o.db, o.by)  # type: ignore[union-attr]
    return result


def other_patient(order: Any, other: str, what: str) -> FileError:
    """The refusal of an order checked against another patient's ``what`` (order, history):
    "the order is for patient MRN123, not --patient P001: ...", at the order's patient.id."""
    return FileError(
        Problem(
            f"the order is for patient {order.patient.id}, not {other}: check that this is the "
            f"right patient's {what}",
            field="patient.id",
            file=order.source,
            line=order.line_of("patient.id"),
        )
    )


def _genotypes(o: VerifyRequest, order: Any, labs: Any) -> tuple[dict[str, Any], list[Any]]:
    """The patient's genotypes: those given (--genotype, lab files) over the order's own
    ``genotype:`` (each one replaced is said), and the notices."""
    from dosecalc.clinical import pgx
    from dosecalc.workflows import gather, notices

    written: dict[str, Any] = {}
    for gene, result, where in order.patient.genotype:
        pgx.add(written, pgx.parse(gene, result, where))
    return notices.genotype_overrides(gather.genotypes(o.genotype, labs), written, order.source)


def _looks_like_file(ref: str) -> bool:
    return ref.lower().endswith((".yaml", ".yml")) or "/" in ref


def _option_file(ref: str | None) -> Any:
    """The regimen (or course) file --regimen names, read (a bundle's requests carry its id, not
    its path); None for a library id or no --regimen."""
    from dosecalc.workflows import course as crs

    if ref is None or not _looks_like_file(ref):
        return None
    return crs.open_file(ref)


def _regimen(order: Any, from_option: bool, named: Any = None) -> Any:
    """The order's regimen: a library id, or a file (relative to the order file, or to the
    current folder for --regimen; ``named``: that file, already read)."""
    from dosecalc.workflows import course as crs

    ref = order.regimen
    if (
        _looks_like_file(ref)
        and not from_option
        and order.base is not None
        and not Path(ref).is_absolute()
    ):
        ref = str(order.base / ref)
    try:
        opened = named if named is not None else crs.open_file(ref)
    except FileError as e:
        if from_option:
            raise
        first = e.problems[0]  # a file's problem names the file (and line); an id's, the id
        raise FileError(
            Problem(
                str(first) if first.file else first.message,
                field="regimen",
                file=order.source,
                line=order.line_of("regimen"),
            )
        ) from None
    if isinstance(opened, crs.Course):
        raise FileError(
            Problem(
                f"{ref} is a course; an order is for one cycle of one regimen: name that "
                "phase's regimen",
                field="regimen",
                file=order.source,
                line=order.line_of("regimen"),
            )
        )
    return opened


def _patient(o: VerifyRequest, order: Any, rules: Any) -> tuple[Any, str, float | None]:
    """The patient to recompute with, where the measurements came from, and the order's BSA
    (written, or from its own height and weight) to compare."""
    from dosecalc.clinical import patient as pt

    m = order.patient
    current = any(v is not None for v in (o.height, o.weight, o.bsa))
    common = dict(
        sex=o.sex if o.sex is not None else m.sex,
        age=o.age if o.age is not None else m.age,
        scr=o.scr if o.scr is not None else m.scr,
        gfr=o.gfr if o.gfr is not None else m.gfr,
    )
    if current:
        previous = o.previous_weight
        if previous is None and o.weight is not None and m.weight is not None:
            previous = m.weight  # the weight the prescriber used: warn if it changed since
        person = pt.build_patient(
            o.height,
            o.weight,
            o.bsa,
            o.formula,
            common["sex"],
            common["age"],
            scr=common["scr"],
            gfr=common["gfr"],
            previous_weight=previous,
            policy=rules,
            gfr_measured=o.gfr_measured,
        )
        return person, "command line", _order_bsa(order, o.formula, rules)
    if not m.any_size:
        raise fail(
            "--height/--weight",
            "no measurements to recompute the doses with: give the patient's current --height "
            "and --weight (or --bsa), or write them in the order's patient block",
        )
    measured = m.height is not None and m.weight is not None
    try:
        person = pt.build_patient(
            m.height if measured else None,
            m.weight if measured else None,
            None if measured else m.bsa,
            o.formula,
            common["sex"],
            common["age"],
            scr=common["scr"],
            gfr=common["gfr"],
            previous_weight=o.previous_weight,
            policy=rules,
            gfr_measured=o.gfr_measured and o.gfr is not None,
        )
    except DosecalcError as e:
        if not any(
            p.field in ("--height/--weight", "--height", "--weight", "--bsa") for p in e.problems
        ):
            raise
        raise FileError(
            *(Problem(p.message, field="patient", file=order.source) for p in e.problems)
        ) from None
    order_bsa = pt.parse_bsa(m.bsa) if measured and m.bsa is not None else None
    return person, "order", order_bsa


def _order_bsa(order: Any, formula: str | None, rules: Any) -> float | None:
    """The BSA the order was written with: as written, else from its height and weight."""
    from dosecalc.clinical import patient as pt

    m = order.patient
    if m.bsa is not None:
        return pt.parse_bsa(m.bsa)
    if m.height is None or m.weight is None:
        return None
    try:
        return pt.build_patient(m.height, m.weight, None, formula, m.sex, policy=rules).bsa_m2
    except DosecalcError as e:
        raise FileError(
            *(Problem(p.message, field="patient", file=order.source) for p in e.problems)
        ) from None


def _prior(o: VerifyRequest, bsa_m2: float | None) -> Any:
    """The prior exposure, as for plan (history files, --prior, the patient's ledger doses). A
    patient with no dose in the ledger yet (a first cycle) is said, not refused, so that the
    check can still be recorded."""
    from dosecalc.workflows import gather

    pid = o.patient.strip() if o.patient is not None else None
    if pid:
        from dosecalc.ledger import Ledger

        ledger = Ledger(o.db, create=o.record)
        known = [p["patient"] for p in ledger.patients()]
        if pid not in known:
            import difflib

            from dosecalc.base.alerts import WARNING, Alert

            prior = gather.prior(o.history, o.prior, None, None, bsa_m2, o.again)
            close = difflib.get_close_matches(pid, known, n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            said = Alert(
                WARNING,
                "PATIENT_NOT_IN_LEDGER",
                f"patient {pid} has no dose in the ledger {ledger}{hint}: no prior exposure "
                "was read from it; check the id (a first treatment has none)",
            )
            consulted = replace(prior.consulted, ledger=True)  # looked up: none there yet
            alike = ledger.alike_alerts(pid)  # PATIENT_IDS_ALIKE: the dose may be under that id
            return gather.Prior(prior.rows, [*prior.notices, said, *alike], prior.names, consulted)
    return gather.prior(o.history, o.prior, o.patient, o.db, bsa_m2, o.again)


def acknowledgement(text: str, by: str, cycle: int | None) -> Any:
    """``--acknowledge CODE[:DRUG[:DAY]]=REASON``: the verifying pharmacist's acknowledgement of
    one warning of this order (``by``: who; the order's ``cycle``)."""
    import re

    from dosecalc.base import strict
    from dosecalc.data.order import PHARMACIST, Acknowledgement, canonical_drug
    from dosecalc.data.regimen import MAX_CYCLE_LENGTH_DAYS

    what, sep, reason = text.partition("=")
    parts = [p.strip() for p in what.split(":")]
    valid = (
        "give CODE[:DRUG[:DAY]]=REASON, e.g. ORDER_LINE_MISSING:cyclophosphamide=given yesterday"
    )
    if not sep or not reason.strip() or not 1 <= len(parts) <= 3:
        raise fail("--acknowledge", f"'{text[:80]}' is not CODE[:DRUG[:DAY]]=REASON; {valid}")
    code = parts[0]
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", code):
        raise fail("--acknowledge", f"'{code[:40]}' is not a warning code (upper case); {valid}")
    drug = None
    if len(parts) > 1 and parts[1]:
        try:
            drug = canonical_drug(parts[1])
        except ValueError as e:
            raise fail("--acknowledge", str(e)) from None
    day = None
    if len(parts) > 2:
        day = strict.whole_option(parts[2], "--acknowledge", 1, MAX_CYCLE_LENGTH_DAYS, "a day")
    return Acknowledgement(
        code, drug, reason.strip(), by.strip(), "--acknowledge", day, cycle, PHARMACIST
    )
