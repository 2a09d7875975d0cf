"""Lifetime totals: every exposure in date order, running totals, ceilings, equivalents, projection.

The running total of each drug is checked after every administration: the first
administration at which it becomes ``>= threshold`` gives CUMULATIVE_THRESHOLD_REACHED
(warning), the first at which it becomes ``> limit`` gives CUMULATIVE_LIMIT_EXCEEDED
(critical). Anthracycline-type agents also feed a doxorubicin-equivalent total through a named
factor table; its own ceiling is checked when the exposure holds more than one such agent, or
when a cardiotoxic co-therapy lowers it and the one agent is not doxorubicin.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from dosecalc.base.alerts import CRITICAL, INFO, WARNING, Alert
from dosecalc.base.bounds import BSA_M2
from dosecalc.base.errors import FileError, Problem, fail
from dosecalc.base.numbers import fmt, past
from dosecalc.data import drugs
from dosecalc.data.ceilings import EQUIVALENT, Ceiling, CeilingBook, RiskFactors
from dosecalc.data.ceilings import book as ceilings_book
from dosecalc.data.records import LEDGER_SOURCE, History, Row, ledger_id

MAX_PROJECTED_CYCLES = 500
# Totals are sums of floats (mg converted to mg/m² with a BSA): a relative tolerance far below
# any clinical meaning keeps representation noise (449.99999999999994) from deciding a crossing.
REL_TOL = 1e-11


def reached(total: float, threshold: float) -> bool:
    """A threshold is reached when the total becomes >= it."""
    return total >= threshold * (1 - REL_TOL)


def exceeded(total: float, limit: float) -> bool:
    """A limit is exceeded when the total becomes > it."""
    return total > limit * (1 + REL_TOL)


@dataclass(frozen=True, slots=True)
class Event:
    """One administration's contribution to a lifetime total, in the total's unit."""

    drug: str
    amount: float
    planned: bool  # part of the plan being made (else prior exposure)
    date: date | None = None
    phase: int | None = None
    cycle: int | None = None
    day: int | None = None
    where: str = ""  # "file:line", "--prior", or "" for a plan

    def place(self) -> str:
        if self.planned:
            phase = f"phase {self.phase} " if self.phase and self.phase > 1 else ""
            return f"at {phase}cycle {self.cycle} day {self.day} ({self.date})"
        if self.date is None:
            return f"in the prior exposure given ({self.where})"
        return f"on {self.date} ({self.where})"

    def located(self) -> dict[str, object]:
        return {
            "phase": self.phase if self.planned else None,
            "cycle": self.cycle,
            "day": self.day,
            "date": self.date,
        }


@dataclass(frozen=True)
class Consulted:
    """Where a patient's prior lifetime exposure was looked up for a plan or an order: history
    files, the patient's ledger records, ``--prior`` amounts (per drug). What none of them
    covers is unknown, never zero."""

    history: bool = False
    ledger: bool = False
    prior: frozenset[str] = frozenset()  # the drugs given with --prior

    def sources(self, drug: str, agents: Iterable[str] = ()) -> tuple[str, ...]:
        """Where ``drug``'s prior exposure comes from (empty: nowhere, unknown). The
        doxorubicin-equivalent total is known from --prior only when every agent that adds to
        it was given."""
        out = [
            name for name, looked in (("history", self.history), ("ledger", self.ledger)) if looked
        ]
        wanted = set(agents) if drug == EQUIVALENT else {drug}
        if wanted and wanted <= self.prior:
            out.append("prior")
        return tuple(out)


@dataclass(frozen=True)
class Total:
    """Cumulative exposure to one drug (or the doxorubicin-equivalent total)."""

    drug: str
    unit: str
    prior: float = 0.0
    planned: float = 0.0
    threshold: float | None = None
    limit: float | None = None
    ceiling: Ceiling | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    # where the prior exposure came from (a plan, an order): () when nothing was consulted, so
    # the prior is unknown (not zero) and the total counts the planned doses only; None where
    # the total is of the exposure read (a check)
    prior_source: tuple[str, ...] | None = None

    @property
    def total(self) -> float:
        return self.prior + self.planned

    @property
    def prior_known(self) -> bool:
        return self.prior_source is None or bool(self.prior_source)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "drug": self.drug,
            "unit": self.unit,
            "prior": self.prior if self.prior_known else None,
            "planned": self.planned,
            "total": self.total,
            "threshold": self.threshold,
            "limit": self.limit,
            "percent_of_threshold": 100 * self.total / self.threshold if self.threshold else None,
            "percent_of_limit": 100 * self.total / self.limit if self.limit else None,
            "headroom_to_threshold": self.threshold - self.total if self.threshold else None,
            "headroom_to_limit": self.limit - self.total if self.limit else None,
        }
        c = self.ceiling
        if c is not None:
            out.update(
                toxicity=c.toxicity,
                ceiling_option=c.option,
                adjustments=list(c.adjustments),
                sources=list(c.sources),
            )
        out.update((k, list(v) if isinstance(v, tuple) else v) for k, v in self.extra.items())
        if self.prior_source is not None:
            s = self.prior_source
            out["prior_source"] = "none" if not s else s[0] if len(s) == 1 else list(s)
        return out


@lru_cache(maxsize=1024)
def tracking_unit(drug: str, book: CeilingBook) -> str:
    """The unit a drug's lifetime total is kept in: its ceiling's, else its dosing basis."""
    unit = book.unit(drug)
    if unit is not None:
        return unit
    d = drugs.book().drugs[drug]
    guard = d.max_single_dose
    if guard is not None and guard.dose.replace(" ", "").lower().endswith(("/m2", "/m²", "/m^2")):
        return f"{d.dose_unit}/m2"
    return d.dose_unit


def dose_without_bsa(
    drug: str, unit: str, per_m2: bool, bsa_given: bool, rows: Sequence[str] = ()
) -> Alert | None:
    """DOSE_WITHOUT_BSA when a dose is recorded without the BSA of its day and its drug's
    lifetime total is kept the other way (an absolute dose of a total kept per m², or a dose per
    m² of a total kept absolute, bleomycin's units): every later check must convert it with a
    BSA given then (today's, not that day's), so it is said when it is recorded. ``rows``: the
    rows of an imported file that are such doses (one notice for them all)."""
    if bsa_given:
        return None
    kept = tracking_unit(drug, ceilings_book())
    if per_m2 == kept.endswith("/m2"):
        return None
    one = len(rows) < 2
    return Alert(
        WARNING,
        "DOSE_WITHOUT_BSA",
        f"{drug}: {_doses_recorded(unit.replace('m2', 'm²'), rows)} without the BSA of "
        f"{'that' if one else 'their'} day, and its lifetime total is kept in "
        f"{kept.replace('m2', 'm²')}: every check of this patient will convert "
        f"{'it' if one else 'them'} with a BSA of another day, the one the check is given "
        "(--bsa, or --height and --weight), else the latest bsa_m2 of the patient's records "
        f"(BSA_ASSUMED names it); if the BSA of {'that' if one else 'each'} day is known, void "
        f"the record{'' if one else 's'} and record {'it' if one else 'them'} again with --bsa",
        drug=drug,
    )


def _doses_recorded(unit: str, rows: Sequence[str]) -> str:
    if len(rows) < 2:
        return f"a dose in {unit}{f' ({rows[0]})' if rows else ''} was recorded"
    shown = ", ".join(rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
    return f"{len(rows)} doses in {unit} ({shown}) were recorded"


# ---------------------------------------------------------------- exposures


@dataclass
class BsaUse:
    """The BSA that stands in for rows without one, and who used it (for BSA_ASSUMED)."""

    bsa_m2: float | None
    described: str  # "the current BSA 1.84 m² (mosteller)"
    used: dict[str, list[str]] = field(default_factory=dict)  # drug → rows converted with it


def _convert(row: Row, target: str, bsa: BsaUse) -> float:
    per_m2_target = target.endswith("/m2")
    if row.per_m2 == per_m2_target:
        return row.amount
    row_bsa = row.bsa_m2
    if row_bsa is None:
        if bsa.bsa_m2 is None:
            given = f"{fmt(row.amount)} {row.unit}{'/m²' if row.per_m2 else ''}"
            raise _row_error(
                row,
                f"{given} of {row.drug} cannot be converted to "
                f"{target.replace('m2', 'm²')}, the unit its lifetime total is kept "
                "in: "
                + (
                    f"write it per m² (--prior {row.drug}=AMOUNTmg/m2), or give"
                    if row.where == "--prior"
                    else "give bsa_m2 on the row, or"
                )
                + " the patient's --bsa (or --height and --weight)",
            )
        row_bsa = bsa.bsa_m2
        bsa.used.setdefault(row.drug, []).append(row.where)
    return row.amount / row_bsa if per_m2_target else row.amount * row_bsa


def _row_error(row: Row, message: str) -> Exception:
    if row.where == "--prior":
        return fail("--prior", message)
    return FileError(row_problem(row, message))


def row_problem(row: Row, message: str) -> Problem:
    """A problem with a history row (or a ledger record), named by its file:line."""
    file, _, line = row.where.rpartition(":")
    return Problem(message, file=file or row.where, line=int(line) if line.isdigit() else None)


def from_rows(rows: Iterable[Row], book: CeilingBook, bsa: BsaUse) -> list[Event]:
    out = []
    for row in rows:
        unit = tracking_unit(row.drug, book)
        out.append(
            Event(
                row.drug,
                _convert(row, unit, bsa),
                False,
                row.date,
                None,
                row.cycle,
                row.day,
                row.where,
            )
        )
    return out


@lru_cache(maxsize=100_000)
def _day(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def column_items(
    history: History, patient: str | None, book: CeilingBook, bsa: BsaUse
) -> tuple[list[Item], Callable[[Any], Event]]:
    """One patient's history rows as evaluation items (the fast path for large histories):
    no Event is made unless a row crosses a level (then ``make_event(i)`` makes it)."""
    cols = history.patients[patient]
    names = history.names
    targets = [tracking_unit(n, book).endswith("/m2") for n in names]
    dates, codes, amounts, per_m2, bsas = cols.date, cols.drug, cols.amount, cols.per_m2, cols.bsa
    items: list[Item] = []
    append = items.append
    for i in range(len(cols)):
        code = codes[i]
        amount = amounts[i]
        if per_m2[i] != targets[code]:
            row_bsa = bsas[i] or _fallback_bsa(history, patient, i, bsa)
            amount = amount / row_bsa if targets[code] else amount * row_bsa
        append((dates[i], i, names[code], amount, False, i))
    items_amount = [it[3] for it in items]  # by row, before evaluate_items sorts ``items``

    def make_event(i: Any) -> Event:
        ordinal = cols.date[i]
        return Event(
            names[cols.drug[i]],
            items_amount[i],
            False,
            _day(ordinal) if ordinal else None,
            None,
            cols.cycle[i] or None,
            cols.day[i] or None,
            history.where(cols, i),
        )

    return items, make_event


def _fallback_bsa(history: History, patient: str | None, i: int, bsa: BsaUse) -> float:
    """The BSA that stands in for a row without one (or an error naming the row)."""
    if bsa.bsa_m2 is None:
        row = history.rows(patient)[i]
        _convert(row, tracking_unit(row.drug, ceilings_book()), bsa)  # raises with the row
    cols = history.patients[patient]
    bsa.used.setdefault(history.names[cols.drug[i]], []).append(history.where(cols, i))
    return float(bsa.bsa_m2)  # type: ignore[arg-type]


def bsa_assumed(bsa: BsaUse) -> list[Alert]:
    return [bsa_assumed_alert(d, len(w), w[0], bsa.described) for d, w in bsa.used.items()]


def bsa_assumed_alert(drug: str, n: int, first: str, described: str) -> Alert:
    """``n`` rows of ``drug`` without their own BSA (the first at ``first``) were converted with
    the patient's BSA (``described``)."""
    if n == 1 and first == "--prior":  # an amount typed on the command line has no rows
        unit = tracking_unit(drug, ceilings_book())
        if unit.endswith("/m2"):
            was, write = "an absolute dose", f"per m² (--prior {drug}=AMOUNT{unit})"
        else:  # kept absolute (vincristine in mg): the amount was written per m²
            was, write = "written per m²", f"in {unit} (--prior {drug}=AMOUNT{unit})"
        message = (
            f"{drug}: the --prior amount, {was}, was converted with {described}; write it "
            f"{write} if the BSA it was given at differed"
        )
    else:
        rows = "row" if n == 1 else f"{n} rows"
        message = (
            f"{drug}: {rows} without bsa_m2 (first: {first}) converted with {described}; "
            "give bsa_m2 on each row for the BSA of that day"
        )
    return Alert(WARNING, "BSA_ASSUMED", message, drug=drug)


# ---------------------------------------------------------------- one administration, once

# Two rows of one patient, date and drug are the same administration when their
# amounts, in the unit the drug's lifetime total is kept in, differ by at most this share and no
# time or id tells them apart. A record of the dose as given is often the protocol dose rounded
# (dose-rounding policies round within 10 %: HOPA position statement, Fahrenbruch et al., J Oncol
# Pharm Pract 2018;24(4):310-318), so a rounded record and the per-m² dose are one administration.
REPEAT_TOLERANCE = 0.10
MAX_REPEATS_LISTED = 20


def repeats(history: History, patient: str | None) -> list[Repeat]:
    """Pairs of one patient's rows that are, or may be, the same administration (for each later
    row, the first earlier row that carries its id, else the first earlier row it repeats: an
    earlier row without an id never hides the one that names the same administration, which
    --again does not count). Two rows are one administration when they carry the
    same ``id`` (the administration's id in the source system: whatever their day, time, drug
    or amount, one of them is wrong), or when day and drug agree, their amounts are one dose
    (:func:`same_administration`) and no time or id tells them apart. Rows without a date
    (--prior) are never compared, nor two ledger records (the ledger refuses its own repeats
    unless ``--again``)."""
    cols = history.patients[patient]
    keys = [d << 16 | c for d, c in zip(cols.date, cols.drug, strict=True)]
    named = [c for c in cols.ident if c]
    if len(set(keys)) == len(keys) and len(set(named)) == len(named):
        return []
    seen: dict[int, list[int]] = {}
    by_id: dict[int, list[int]] = {}
    pairs = []
    book = ceilings_book()
    ledger = history.sources.index(LEDGER_SOURCE) if LEDGER_SOURCE in history.sources else -1
    for i, key in enumerate(keys):
        if not cols.date[i]:
            continue
        found: Repeat | None = None
        ident = cols.ident[i]
        if not ident and cols.file[i] == ledger:  # a record's id is the one its export gives
            ident = history.known_id(ledger_id(cols.line[i]))
        if ident:
            same = by_id.setdefault(ident, [])
            j = next((j for j in same if _one_id(cols, ledger, keys, i, j)), None)
            if j is not None:
                found = Repeat(j, i, cols.amount[j], cols.amount[i], None, history.ids[ident])
            same.append(i)
        earlier = seen.setdefault(key, [])
        for j in earlier if found is None else ():  # the same id first: --again never counts it
            if cols.file[i] == cols.file[j] == ledger:
                continue
            if _told_apart(cols.time, i, j) or _told_apart(cols.ident, i, j):
                continue
            unit = tracking_unit(history.names[cols.drug[i]], book)
            pair = same_administration(
                (cols.amount[j], bool(cols.per_m2[j]), cols.bsa[j]),
                (cols.amount[i], bool(cols.per_m2[i]), cols.bsa[i]),
                unit.endswith("/m2"),
            )
            if pair is not None:
                found = Repeat(j, i, *pair)
                break
        if found is not None:
            pairs.append(found)
        earlier.append(i)
    return pairs


class Repeat(NamedTuple):
    """Rows ``first`` and ``later`` of a patient: one administration, their amounts ``a`` and
    ``b`` in the unit of the drug's total; or (``written``: neither row's BSA converts one into
    the other's form) as written, which may be the same administration."""

    first: int
    later: int
    a: float
    b: float
    written: tuple[bool, bool] | None  # each row's per-m² form, when the amounts are as written
    ident: str | None = None  # the id in the source system both rows carry: one administration


def same_administration(
    first: tuple[float, bool, float | None], later: tuple[float, bool, float | None], per_m2: bool
) -> tuple[float, float, tuple[bool, bool] | None] | None:
    """Whether two rows (amount, per-m² form, own BSA) of one patient, day and drug, that nothing
    tells apart, are the same administration: their amounts in the unit of the drug's total
    (``per_m2``), each converted with its own BSA, else the other row's of that day, within
    REPEAT_TOLERANCE. Neither row's BSA: rows of one form compare as written, and a dose per m²
    beside an absolute one may be the same administration at some BSA this patient could have
    had, so it is one unless the BSA that makes them equal is outside BSA_M2. (The patient's
    BSA of today, or the one assumed for the history, is never the BSA of that day.)"""
    (x, x_m2, x_bsa), (y, y_m2, y_bsa) = first, later
    day_bsa = x_bsa or y_bsa
    if day_bsa or (x_m2 == per_m2 and y_m2 == per_m2):
        a = _converted(x, x_m2, per_m2, x_bsa or day_bsa)
        b = _converted(y, y_m2, per_m2, y_bsa or day_bsa)
        return (a, b, None) if abs(a - b) <= REPEAT_TOLERANCE * max(a, b) else None
    if x_m2 == y_m2:
        return (x, y, (x_m2, y_m2)) if abs(x - y) <= REPEAT_TOLERANCE * max(x, y) else None
    bsa = y / x if x_m2 else x / y  # the BSA at which the two would be one dose
    return (x, y, (x_m2, y_m2)) if BSA_M2[0] <= bsa <= BSA_M2[1] else None


def _converted(amount: float, m2: bool, per_m2: bool, bsa: float | None) -> float:
    if m2 == per_m2:
        return amount
    assert bsa  # a row that needs converting has a BSA of its own or of that day here
    return amount / bsa if per_m2 else amount * bsa


def _one_id(cols: Any, ledger: int, keys: list[int], i: int, j: int) -> bool:
    """Whether rows i and j, which carry one id, are one administration: not two ledger records
    (the ledger refuses its own repeats), and, where one is a record without an id of its own,
    named by the other as `ledger export` names it (``ledger #12``: the record exported), of
    one day and drug (a number of another ledger's export is another record)."""
    if cols.file[i] == cols.file[j] == ledger:
        return False
    bare = any(cols.file[k] == ledger and not cols.ident[k] for k in (i, j))
    return not bare or keys[i] == keys[j]


def _told_apart(column: Any, i: int, j: int) -> bool:
    """Whether an optional column (0: not given) holds two different values for rows i, j."""
    return bool(column[i] and column[j] and column[i] != column[j])


def repeat_problems(history: History, again: bool = False) -> list[Problem]:
    """An administration that reaches a lifetime total twice, as the problems that refuse it
    (naming both rows); with ``again`` (they are real second administrations) only those that
    share an id in the source system (one administration, whatever --again says), each
    patient's count of the others said in ``history.notes``."""
    problems: list[Problem] = []
    found = 0
    for patient, cols in history.patients.items():
        pairs = repeats(history, patient)
        counted = [p for p in pairs if again and p.ident is None]
        refused = [p for p in pairs if not (again and p.ident is None)]
        found += len(refused)
        if counted:
            j, i = counted[0][:2]
            history.notes.setdefault(patient, []).append(
                repeat_counted(
                    len(counted),
                    history.where(cols, i),
                    history.where(cols, j),
                    history.names[cols.drug[i]],
                )
            )
        for pair in refused[: MAX_REPEATS_LISTED - len(problems)]:
            problems.append(Problem(_repeat_text(history, patient, cols, pair)))
    if found > len(problems):
        problems.append(Problem(f"and {found - len(problems)} more repeated administrations"))
    return problems


def screen(
    history: History, bsa_of: Callable[[str | None], float | None], again: bool = False
) -> list[Problem]:
    """What every total is built on, checked before it is, as the problems that refuse the
    history (all of them, for one error): each administration once (:func:`repeat_problems`),
    and each row against its drug's usual maximum single dose (:func:`high_doses`)."""
    return repeat_problems(history, again) + high_doses(history, bsa_of)


def alike_key(patient: str) -> str:
    """What two patient ids that differ only in case share, in any script: upper case folded
    ('ΠΑΠΑΔΟΠΟΥΛΟΣ', 'Παπαδοπουλος' and 'παπαδοπουλοσ', its final sigma typed as a plain one;
    Turkish 'KIRIŞ' and 'kırış', 'İZMİR' and 'izmir'). An ASCII id's key is its lower(). The
    engine's candidates and the ledger's are found by it too. An id of digits only is taken
    without its leading zeros ('007' and '7': a spreadsheet drops them from a number)."""
    if patient.isascii() and patient.isdigit():
        return patient.lstrip("0") or "0"
    return patient.upper().casefold().replace("i\u0307", "i")


def ids_alike(patients: Iterable[str | None]) -> list[Alert]:
    """PATIENT_IDS_ALIKE when patient ids differ only in case (P001, p001) or, digits only, in
    leading zeros (007, 7): they are checked as different patients, and one patient under two ids would have each total split between them."""
    groups: dict[str, list[str]] = {}
    for patient in patients:
        if patient is not None:
            groups.setdefault(alike_key(patient), []).append(patient)
    alike = [" and ".join(repr(p) for p in g) for g in groups.values() if len(g) > 1]
    if not alike:
        return []
    more = f" (and {len(alike) - 3} more)" if len(alike) > 3 else ""
    return [
        Alert(
            WARNING,
            "PATIENT_IDS_ALIKE",
            f"patient ids that differ only in case or leading zeros: {'; '.join(alike[:3])}{more}; each is "
            "checked as a patient of its own, with its own totals: if they are one patient, "
            "write one id in every row",
        )
    ]


def high_doses(history: History, bsa_of: Callable[[str | None], float | None]) -> list[Problem]:
    """A history row above its drug's usual maximum single dose is counted as written and
    flagged (HISTORY_DOSE_HIGH in ``history.notes``, per patient and drug, naming the rows); a
    row at ten times that maximum or more is a unit or decimal slip: the problems returned
    refuse it (naming each). Ledger records met the same guard when recorded, and a ``--prior``
    amount is a lifetime total, not one dose."""
    from dosecalc.clinical import single_dose

    guarded = [single_dose.guarded(name) for name in history.names]
    if not any(guarded):
        return []
    ledger = history.sources.index(LEDGER_SOURCE) if LEDGER_SOURCE in history.sources else -1

    def found() -> Iterator[tuple[Any, str, str, Any, date]]:
        for patient, cols in history.patients.items():
            bsa = bsa_of(patient)
            for i in range(len(cols)):
                code = cols.drug[i]
                if not guarded[code] or not cols.date[i] or cols.file[i] == ledger:
                    continue
                drug = history.names[code]
                over = row_excess(drug, cols.amount[i], bool(cols.per_m2[i]), cols.bsa[i] or bsa)
                if over is not None:
                    yield patient, drug, history.where(cols, i), over, _day(cols.date[i])

    problems, alerts = judge_high_doses(found())
    for patient, alert in alerts:
        history.notes.setdefault(patient, []).append(alert)
    return problems


def row_excess(drug: str, amount: float, per_m2: bool, bsa_m2: float | None) -> Any:
    """How far one history row (``amount`` in the drug's dose unit) is above the drug's usual
    maximum single dose (single_dose.Excess), or None."""
    from dosecalc.clinical import single_dose

    unit = drugs.book().drugs[drug].dose_unit
    given = f"{fmt(amount)} {unit}{'/m2' if per_m2 else ''}"
    return single_dose.excess(drug, amount, unit, per_m2, bsa_m2, given)


def judge_high_doses(
    found: Iterable[tuple[Any, str, str, Any, date]],
) -> tuple[list[Problem], list[tuple[Any, Alert]]]:
    """From the rows above their usual maximum (patient, drug, where, Excess, date; in the
    history's order): the problems that refuse the unit slips (naming each, up to
    MAX_REPEATS_LISTED), and each patient's HISTORY_DOSE_HIGH alerts, one per drug in the order
    first found, dated by its first row."""
    problems: list[Problem] = []
    slips = 0
    high: dict[Any, dict[str, list[tuple[str, date]]]] = {}
    for patient, drug, where, over, day in found:
        if over.slip:
            slips += 1
            if len(problems) < MAX_REPEATS_LISTED:
                problems.append(Problem(slip_text(where, over.text)))
        else:
            rows = high.setdefault(patient, {}).setdefault(drug, [])
            rows.append((f"{where}: {over.text}", day))
    if slips > len(problems):
        problems.append(
            Problem(f"and {slips - len(problems)} more rows at ten times the usual maximum")
        )
    return problems, [
        (p, high_dose_alert(d, rows)) for p, drugs_ in high.items() for d, rows in drugs_.items()
    ]


def slip_text(where: str, text: str) -> str:
    return (
        f"{where}: {text}: a unit or decimal slip, not counted; correct the row (a lifetime "
        "total written as one number goes in --prior DRUG=AMOUNT)"
    )


def high_dose_alert(drug: str, found: list[tuple[str, date]]) -> Alert:
    """HISTORY_DOSE_HIGH for one patient's rows of ``drug`` above its usual maximum single dose
    (``found``: "where: what" and the row's date, in the history's order), dated by the first."""
    n = len(found) - 1
    more = f" (and {n} more row{'s' if n > 1 else ''})" if n else ""
    return Alert(
        WARNING,
        "HISTORY_DOSE_HIGH",
        f"{found[0][0]}{more}; counted as written: check the row against the chart (a lifetime "
        "total written as one row belongs in --prior DRUG=AMOUNT)",
        drug=drug,
        date=found[0][1],
    )


def _repeated(n: int) -> str:
    return "1 administration repeats" if n == 1 else f"{n} administrations repeat"


def _repeat_text(history: History, patient: str | None, cols: Any, pair: Repeat) -> str:
    return repeat_text(
        history.where(cols, pair.later),
        history.where(cols, pair.first),
        patient,
        history.names[cols.drug[pair.later]],
        _day(cols.date[pair.later]),
        (pair.a, pair.b, pair.written),
        None
        if pair.ident is None
        else (pair.ident, history.names[cols.drug[pair.first]], _day(cols.date[pair.first])),
    )


def same_id_details(ident: str, first: tuple[str, date], later: tuple[str, date]) -> str:
    """What two rows or records with one source id say (the drug and day of each)."""
    if first == later:
        said = f"{later[0]} on {later[1]}"
    elif first[0] == later[0]:
        said = f"{later[0]} on {first[1]}, then on {later[1]}"
    else:
        said = f"{first[0]} on {first[1]}, then {later[0]} on {later[1]}"
    return f"the same id {ident} in the source system, {said}"


def repeat_text(
    where: str,
    first: str,
    patient: str | None,
    drug: str,
    day: date,
    amounts: tuple[float, float, tuple[bool, bool] | None],
    same_id: tuple[str, str, date] | None = None,
) -> str:
    """The refusal of a row (at ``where``) that repeats another (at ``first``): the amounts of
    the earlier and the later row in the drug's tracking unit, or as written (with each row's
    per-m² form) when no BSA of theirs converts one into the other; or (``same_id``: the id
    both carry, the earlier row's drug and day) the id they share. Also the batch path's."""
    a, b, written = amounts
    tracked = tracking_unit(drug, ceilings_book())
    unit = tracked.removesuffix("/m2")
    who = f"patient {patient}, " if patient is not None else ""
    if same_id is not None:
        ident, first_drug, first_day = same_id
        return (
            f"{where} repeats {first} ({who}"
            f"{same_id_details(ident, (first_drug, first_day), (drug, day))}): one "
            "administration would count twice toward its lifetime total; remove one or correct "
            "its id (a second administration has an id of its own, and --again does not count "
            "one id twice)"
        )
    if written is None or written[0] == written[1]:
        per_m2 = written[0] if written else tracked.endswith("/m2")
        shown = f"{unit}/m²" if per_m2 else unit
        both = f"{fmt(a)} {shown}" if fmt(a) == fmt(b) else f"{fmt(a)} and {fmt(b)} {shown}"
        return (
            f"{where} repeats {first} ({who}{drug} on {day}, {both}): the same administration "
            "would count twice toward its lifetime total; remove one, tell them apart with a "
            "time or id column, or give --again if it really was given twice"
        )
    m2, flat = (a, b) if written[0] else (b, a)
    both = f"{fmt(a)} {unit}{'/m²' * written[0]} and {fmt(b)} {unit}{'/m²' * written[1]}"
    return (
        f"{where} may repeat {first} ({who}{drug} on {day}, {both}): neither row gives the "
        f"bsa_m2 of that day, and at {fmt(flat / m2)} m² they are one dose, which would count "
        "twice toward its lifetime total; give bsa_m2, remove one, tell them apart with a time "
        "or id column, or give --again if both were given"
    )


def repeat_counted(n: int, where: str, first: str, drug: str) -> Alert:
    """The note that ``n`` repeated administrations of a patient were counted (--again)."""
    return Alert(
        INFO,
        "REPEAT_COUNTED",
        f"{_repeated(n)} another of the same day, drug and dose (first: {where} repeats "
        f"{first}): counted again, since --again says it was given again",
        drug=drug,
    )


# ---------------------------------------------------------------- the running totals


@dataclass(frozen=True)
class Equivalence:
    table: str
    title: str
    factors: dict[str, float]  # agent → factor, for agents the table covers
    missing: dict[str, str]  # anthracycline-type agent → why it is left out


@lru_cache(maxsize=16)
def equivalence(book: CeilingBook, name: str | None) -> Equivalence:
    key, table = book.table(name)
    factors = {d: f.factor for d, f in table.factors.items() if f.factor is not None}
    missing = {
        d: (
            table.factors[d].note
            if d in table.factors and table.factors[d].note
            else f"{key} gives no factor for it"
        )
        for d in book.anthracyclines()
        if d not in factors
    }
    return Equivalence(key, table.title, factors, missing)


def with_equivalents(events: Iterable[Event], eq: Equivalence) -> Iterator[Event]:
    """The events, each anthracycline one followed by its doxorubicin-equivalent share."""
    for e in events:
        yield e
        f = eq.factors.get(e.drug)
        if f is not None:
            yield Event(
                EQUIVALENT, e.amount * f, e.planned, e.date, e.phase, e.cycle, e.day, e.where
            )


NO_EXTRA: Mapping[str, object] = MappingProxyType({})

# One contribution to a total in the evaluation loop: (date ordinal, 0 for an undated prior
# amount; sequence; drug; amount in its tracking unit; planned; a reference that
# ``make_event`` turns into the Event an alert names).
Item = tuple[int, int, str, float, bool, Any]


@dataclass(frozen=True)
class Result:
    totals: list[Total]
    alerts: list[Alert]
    ceilings: Mapping[str, Ceiling]  # the ceilings checked (incl. the equivalent when it applies)
    equivalence: Equivalence
    items: list[Item] = field(default_factory=list)  # in date order
    with_equivalent: bool = False  # whether anthracyclines add to the equivalent total

    def series(self, drugs: Iterable[str] | None = None) -> dict[str, list[tuple[date, float]]]:
        """Each drug's running lifetime total after each date (for charts); amounts without a
        date (--prior) start the line on the first date."""
        wanted = set(drugs) if drugs is not None else None
        first = next((it[0] for it in self.items if it[0]), 0)
        factors = self.equivalence.factors if self.with_equivalent else {}
        out: dict[str, list[tuple[date, float]]] = {}
        totals: dict[str, float] = {}
        for ordinal, _, drug, amount, _, _ in self.items:
            when = ordinal or first
            if not when:
                continue
            shares = [(drug, amount)]
            if drug in factors:
                shares.append((EQUIVALENT, amount * factors[drug]))
            for name, value in shares:
                if wanted is not None and name not in wanted:
                    continue
                total = totals[name] = totals.get(name, 0.0) + value
                points = out.setdefault(name, [])
                day = _day(when)
                if points and points[-1][0] == day:
                    points[-1] = (day, total)
                else:
                    points.append((day, total))
        return out


def evaluate(
    events: list[Event],
    book: CeilingBook,
    factors: RiskFactors,
    table: str | None = None,
    options: dict[str, str] | None = None,
    extra_exposed: Iterable[str] = (),
) -> Result:
    """Running totals over ``events`` (in date order, prior amounts first) and their warnings."""
    return evaluate_items(
        event_items(events), lambda e: e, book, factors, table, options, extra_exposed
    )


def event_items(events: Iterable[Event]) -> list[Item]:
    """Events as evaluation items, each item referring to its own event."""
    return [
        (e.date.toordinal() if e.date else 0, i, e.drug, e.amount, e.planned, e)
        for i, e in enumerate(events)
    ]


def evaluate_items(
    items: list[Item],
    make_event: Callable[[Any], Event],
    book: CeilingBook,
    factors: RiskFactors,
    table: str | None = None,
    options: dict[str, str] | None = None,
    extra_exposed: Iterable[str] = (),
) -> Result:
    """The evaluation itself, on compact items (see :data:`Item`)."""
    items.sort()  # by (date, sequence): the sequence is unique, so nothing after it is compared
    exposed = frozenset(map(itemgetter(2), items)) | frozenset(extra_exposed)
    factors = _with_first_exposure(factors, items, book.anthracyclines())
    setup = setup_for(book, factors, table, tuple(sorted((options or {}).items())), exposed)
    eq, ceilings, agents = setup.eq, setup.ceilings, setup.agents
    alerts = list(setup.alerts)
    prior: dict[str, float] = {}
    planned: dict[str, float] = {}
    eq_factors = eq.factors if agents else {}
    alerts += _crossings(items, make_event, ceilings, setup.levels, eq_factors, prior, planned)
    totals = totals_of(setup, prior, planned)
    alerts += age_not_given(setup, totals)
    return Result(totals, alerts, ceilings, eq, items, bool(agents))


def totals_of(s: Setup, prior: Mapping[str, float], planned: Mapping[str, float]) -> list[Total]:
    """Each total of one patient (drugs by name, then the doxorubicin equivalent) with the
    ceiling in force for that patient's exposure; the engines of many patients make theirs here
    too, from the sums they computed."""
    out = []
    for drug in sorted(set(prior) | set(planned), key=lambda d: (d == EQUIVALENT, d)):
        c = s.ceilings.get(drug)
        out.append(
            Total(
                drug,
                s.units[drug],
                prior.get(drug, 0.0),
                planned.get(drug, 0.0),
                c.threshold if c else None,
                c.limit if c else None,
                c,
                s.extras.get(drug, NO_EXTRA),
            )
        )
    return out


def _with_first_exposure(
    factors: RiskFactors, items: list[Item], agents: frozenset[str]
) -> RiskFactors:
    """``factors`` with the age at the first anthracycline-type dose of the (sorted) items: the
    age given, moved to that day. Unknown (None) without an age, or when an anthracycline comes
    as a dateless --prior amount (it was given at some unknown time)."""
    if factors.age_years is None or factors.age_on is None:
        return factors  # no age: unknown, whatever the dates (a pharmacy-wide check, often)
    first = next((it[0] for it in items if it[2] in agents), None)
    age = None
    if first:  # an ordinal; 0 is a dateless --prior amount
        age = factors.age_at(date.fromordinal(first))
    age = None if age is None else round(age, 2)
    if age == factors.first_exposure_age:
        return factors
    return replace(factors, first_exposure_age=age)


@dataclass(frozen=True, eq=False)
class Setup:
    """What an evaluation needs that depends only on the drugs exposed and the policy: the same
    for thousands of patients of a pharmacy-wide check (memoised)."""

    eq: Equivalence
    ceilings: Mapping[str, Ceiling]
    agents: list[str]
    alerts: tuple[Alert, ...]
    levels: Mapping[str, tuple[Level, ...]]
    units: Mapping[str, str]  # the unit of each total
    extras: Mapping[str, Mapping[str, object]]  # the equivalent total's own fields
    # without an age: each drug whose ceiling is lower at some ages (daunorubicin in children)
    age_lowered: Mapping[str, AgeLowered]


class AgeLowered(NamedTuple):
    """The lowest threshold or limit a drug's ceiling has at some age, for a check without one."""

    value: float
    kind: str  # "threshold" | "limit"
    why: str  # the data's message for it


# ages either side of every age condition of the ceiling data (under 2, under 18; over 65, 70)
AGE_PROBES = (1.0, 10.0, 17.0, 66.0, 71.0)


def _age_lowered(
    book: CeilingBook,
    factors: RiskFactors,
    exposed: frozenset[str],
    chosen: dict[str, str],
    ceilings: Mapping[str, Ceiling],
) -> dict[str, AgeLowered]:
    """Without an age, each drug's lowest threshold or limit at some age, where it is below the
    one checked (the adult's): an unknown age is said, never taken as an adult's."""
    if factors.age_years is not None:
        return {}
    out: dict[str, AgeLowered] = {}
    for drug, c in ceilings.items():
        if drug == EQUIVALENT:
            continue
        for age in AGE_PROBES:
            other = book.resolve(drug, replace(factors, age_years=age), exposed, chosen)
            if other is None or not other.adjustments:
                continue
            for kind, now, then in (
                ("limit", c.limit, other.limit),  # a limit, where the two are one value
                ("threshold", c.threshold, other.threshold),
            ):
                low = out.get(drug)
                if then is not None and (now is None or then < now):
                    if low is None or then < low.value:
                        out[drug] = AgeLowered(then, kind, other.adjustments[-1])
    return out


def age_not_given(setup: Setup, totals: Iterable[Total]) -> list[Alert]:
    """CEILING_AGE_NOT_GIVEN for each total past a threshold or limit its drug has at some ages
    (the paediatric 300 mg/m² of daunorubicin) when no age was given: the adult's was checked."""
    out = []
    for t in totals:
        low = setup.age_lowered.get(t.drug)
        if low is None or t.total < low.value * (1 - REL_TOL):
            continue
        unit = t.unit.replace("m2", "m²")
        out.append(
            Alert(
                WARNING,
                "CEILING_AGE_NOT_GIVEN",
                f"{t.drug} {past(t.total, low.value)} {unit} is past the {fmt(low.value)} {unit} "
                f"{low.kind} its ceiling has at some ages ({low.why}); no age was given, so "
                "the adult's ceiling was checked: give --age",
                drug=t.drug,
            )
        )
    return out


@lru_cache(maxsize=4096)
def setup_for(
    book: CeilingBook,
    factors: RiskFactors,
    table: str | None,
    options: tuple[tuple[str, str], ...],
    exposed: frozenset[str],
) -> Setup:
    eq = equivalence(book, table)
    chosen = dict(options)
    ceilings: dict[str, Ceiling] = {}
    for drug in sorted(exposed):
        c = book.resolve(drug, factors, exposed, chosen)
        if c is not None:
            ceilings[drug] = c
    agents = sorted(a for a in exposed if a in eq.factors and a in book.anthracyclines())
    eq_ceiling = book.resolve(EQUIVALENT, factors, exposed, chosen) if agents else None
    # the combined total checks more than one agent; or one agent, not doxorubicin (whose own
    # ceiling then says the same), when a cardiotoxic co-therapy lowers it (data: ceilings.yaml
    # header item 3, docs/ceilings.md)
    lowered = eq_ceiling is not None and bool(eq_ceiling.adjustments) and agents != ["doxorubicin"]
    checked = len(agents) > 1 or lowered
    if eq_ceiling is not None:
        if not checked:
            eq_ceiling = replace(eq_ceiling, threshold=None, limit=None)
        elif len(agents) == 1:
            # one agent: its own label's limit governs; the combined total adds only what the
            # co-therapy lowered (the re-assessment threshold; the limit under strict-both)
            base = book.resolve(EQUIVALENT, RiskFactors(), frozenset(agents), chosen)
            if base is not None and eq_ceiling.limit == base.limit:
                eq_ceiling = replace(eq_ceiling, limit=None)
        ceilings[EQUIVALENT] = eq_ceiling
    unverified = book.unverified(eq.table)
    doubtful = [a for a in agents if a in unverified]
    used = (
        (
            Alert(
                WARNING,
                "UNVERIFIED_DATA_USED",
                f"the {eq.table} equivalence factors for {', '.join(doubtful)} "
                f"({', '.join(f'{unverified[a]:g}' for a in doubtful)}) are marked unverified in the "
                "drug data (not read in their source) and were used because the policy allows "
                "unverified data (data.allow_unverified)",
            ),
        )
        if doubtful
        else ()
    )
    alerts = used + tuple(
        Alert(
            WARNING,
            "EQUIVALENCE_NOT_AVAILABLE",
            f"{agent} is left out of the doxorubicin-equivalent total: {eq.missing[agent]} "
            f"({eq.table}); {_own_ceiling(ceilings.get(agent))}",
            drug=agent,
        )
        for agent in sorted(exposed & set(eq.missing))
    )
    levels = {drug: _levels(c) for drug, c in ceilings.items()}
    units = {d: tracking_unit(d, book) for d in exposed} | {EQUIVALENT: "mg/m2"}
    extras = {}
    if agents:
        if len(agents) > 1:
            note = (
                f"{' and '.join(agents)} combined with {eq.table} factors; its ceiling is "
                "checked because the exposure holds more than one anthracycline-type agent"
            )
        elif checked:
            note = (
                f"only {agents[0]} counts toward it ({eq.table} factor); its ceiling is checked "
                f"as well as {agents[0]}'s own because a cardiotoxic co-therapy lowers it"
            )
        else:
            note = (
                f"only {agents[0]} counts toward it, so {agents[0]}'s own ceiling applies and "
                "this total's is not checked"
            )
        extras[EQUIVALENT] = MappingProxyType(
            {
                "equivalence_table": eq.table,
                "agents": tuple(agents),
                "checked": checked,
                "note": note,
            }
        )
    # shared by every patient with the same exposure: read-only so no caller can alter another's
    return Setup(
        eq,
        MappingProxyType(ceilings),
        agents,
        alerts,
        MappingProxyType(levels),
        MappingProxyType(units),
        MappingProxyType(extras),
        MappingProxyType(_age_lowered(book, factors, exposed, chosen, ceilings)),
    )


class Level(NamedTuple):
    """A level a running total can cross, with what its alert says that does not change."""

    bound: float  # the total that crosses it
    strict: int  # 1: only a total above the bound crosses it (a limit), 0: one at it too
    severity: str
    code: str
    head: str  # "epirubicin reaches its 900 mg/m² threshold (…)", or a monitor's message
    tail: str  # " [the ceiling's adjustments]", after the place and total
    unit: str  # as printed: mg/m²
    monitor: bool
    at: float | None = None  # the threshold's or limit's own value, as its message names it


def _own_ceiling(c: Ceiling | None) -> str:
    """What still watches a drug left out of the equivalent total: its own ceiling, only a
    monitoring level, or nothing in dosecalc's data (never 'its own ceiling' it does not have)."""
    if c is not None and (c.limit is not None or c.threshold is not None):
        return "its own ceiling still applies"
    if c is not None:
        return "it has no lifetime ceiling of its own in dosecalc's data, only monitoring levels"
    return "it has no lifetime ceiling of its own in dosecalc's data: its total is not checked"


def _levels(c: Ceiling) -> tuple[Level, ...]:
    """A ceiling's levels, sorted by the total that crosses them (a limit is crossed *above*
    its value: its bound sits just above it; ``>=`` a threshold, ``>`` a limit)."""
    unit = c.unit.replace("m2", "m²")
    tail = f" [{'; '.join(c.adjustments)}]" if c.adjustments else ""
    levels = []
    if c.threshold is not None:
        head = f"{c.drug} reaches its {fmt(c.threshold)} {unit} threshold ({c.toxicity})"
        levels.append(
            Level(
                c.threshold * (1 - REL_TOL),
                0,
                WARNING,
                "CUMULATIVE_THRESHOLD_REACHED",
                head,
                tail,
                unit,
                False,
                c.threshold,
            )
        )
    if c.limit is not None:
        head = f"{c.drug} exceeds its {fmt(c.limit)} {unit} limit ({c.toxicity})"
        levels.append(
            Level(
                c.limit * (1 + REL_TOL),
                1,
                CRITICAL,
                "CUMULATIVE_LIMIT_EXCEEDED",
                head,
                tail,
                unit,
                False,
                c.limit,
            )
        )
    levels += [
        Level(m.at * (1 - REL_TOL), 0, m.severity, m.code, m.message, "", unit, True)
        for m in c.monitor
    ]
    return tuple(sorted(levels, key=lambda lv: (lv.bound, lv.strict)))


def _crossings(
    items: list[Item],
    make_event: Callable[[Any], Event],
    ceilings: Mapping[str, Ceiling],
    levels: Mapping[str, tuple[Level, ...]],
    eq_factors: dict[str, float],
    prior: dict[str, float],
    planned: dict[str, float],
) -> list[Alert]:
    """Each total's running sums over the items in date order (anthracyclines also add their
    share to the doxorubicin-equivalent total), and an alert at the first item whose running
    total crosses each level. Totals only grow, so the crossing is a binary search."""
    streams: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        streams[it[2]].append(it)
    values = {name: [it[3] for it in stream] for name, stream in streams.items()}
    if eq_factors:
        shares = [it for it in items if it[2] in eq_factors]
        streams[EQUIVALENT] = shares
        values[EQUIVALENT] = [it[3] * eq_factors[it[2]] for it in shares]
    found: list[tuple[tuple[int, int, bool, float], Alert]] = []
    any_planned = any(map(itemgetter(4), items))
    for name, stream in streams.items():
        if not stream:
            continue
        sums = list(accumulate(values[name]))
        if not any_planned:
            prior[name] = sums[-1]
        else:
            for it, value in zip(stream, values[name], strict=True):
                bucket = planned if it[4] else prior
                bucket[name] = bucket.get(name, 0.0) + value
        ceiling = ceilings.get(name)
        if ceiling is None:
            continue
        for level in levels[name]:
            bound = level.bound
            at = bisect_right(sums, bound) if level.strict else bisect_left(sums, bound)
            if at < len(sums):
                it = stream[at]
                alert = crossing_alert(make_event(it[5]), ceiling.drug, level, sums[at])
                found.append(((it[0], it[1], name == EQUIVALENT, bound), alert))
    found.sort(key=lambda pair: pair[0])
    return [alert for _, alert in found]


def crossing_alert(e: Event, drug: str, level: Level, total: float) -> Alert:
    if level.monitor:
        text = f"{level.head} [{drug} {fmt(total)} {level.unit} {e.place()}]"
    else:
        text = f"{level.head} {e.place()}: total {past(total, level.at)} {level.unit}{level.tail}"
    return Alert(level.severity, level.code, text, drug=drug, **e.located())  # type: ignore[arg-type]


# ---------------------------------------------------------------- projection


@dataclass(frozen=True)
class Fit:
    """How many full cycles of a regimen fit under one drug's ceilings."""

    drug: str
    unit: str
    threshold: float | None
    limit: float | None
    within_threshold: int | None  # None: no threshold, or it never binds within the cap
    within_limit: int | None


def cycles_fit(
    start: dict[str, float],
    cycles: Iterator[list[Event]],
    ceilings: Mapping[str, Ceiling],
    eq: Equivalence | None,
    cap: int = MAX_PROJECTED_CYCLES,
) -> dict[str, Fit]:
    """Replay whole cycles on top of ``start`` totals; per drug, the full cycles that keep the
    total below its threshold (``<``) and at or under its limit (``<=``)."""
    totals = dict(start)
    fits: dict[str, list[int | None]] = {}
    touched: set[str] = set()
    for n in range(1, cap + 1):
        try:
            events = next(cycles)
        except StopIteration:
            break
        stream = list(with_equivalents(events, eq)) if eq else events
        for e in stream:
            totals[e.drug] = totals.get(e.drug, 0.0) + e.amount
            touched.add(e.drug)
        for drug in touched:
            c = ceilings.get(drug)
            if c is None or (c.threshold is None and c.limit is None):
                continue
            slot = fits.setdefault(drug, [None, None])
            total = totals[drug]
            if slot[0] is None and c.threshold is not None and reached(total, c.threshold):
                slot[0] = n - 1
            if slot[1] is None and c.limit is not None and exceeded(total, c.limit):
                slot[1] = n - 1
        done = all(
            (c.threshold is None or fits.get(d, [None])[0] is not None)
            and (c.limit is None or fits.get(d, [None, None])[1] is not None)
            for d, c in ceilings.items()
            if d in touched
        )
        if touched and done:
            break
    out = {}
    for drug in touched:
        c = ceilings.get(drug)
        if c is None or (c.threshold is None and c.limit is None):
            continue
        # a total already past a level is past it after the first cycle too: 0 cycles fit
        thr, lim = fits.get(drug, [None, None])
        out[drug] = Fit(drug, c.unit, c.threshold, c.limit, thr, lim)
    return out


def repeat_last(cycles: list[list[Event]]) -> Iterator[list[Event]]:
    """The given cycles, then the last one again and again (the regimen continued)."""
    yield from cycles
    while cycles:
        yield cycles[-1]
