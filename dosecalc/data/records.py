"""Prior administrations as the layers pass them around: a :class:`Row` (one administration as
recorded) and a :class:`History` (any number of files, ledger records and ``--prior`` amounts,
per patient, kept compactly in :class:`Columns`). Reading them from files is the inputs layer's
(inputs/history.py); totalling them is the clinical layer's (clinical/cumulative.py)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dosecalc.base.errors import fail
from dosecalc.data import drugs

LEDGER_SOURCE = "\0ledger"  # History.sources entry of rows read from the patient ledger


def ledger_id(seq: int) -> str:
    """The id `ledger export` gives a record without an id in the source system: its number."""
    return f"ledger #{seq}"


@dataclass(frozen=True, slots=True)
class Row:
    """One administration as recorded: ``amount`` in ``unit`` (mg or units), per m² or not."""

    date: date | None  # None for --prior amounts
    drug: str
    amount: float
    unit: str  # "mg" | "units"
    per_m2: bool
    bsa_m2: float | None
    patient: str | None = None
    regimen: str | None = None
    cycle: int | None = None
    day: int | None = None
    where: str = ""  # "file:line" or "--prior"
    time: str | None = None  # "HH:MM": tells two administrations of one day apart
    id: str | None = None  # the administration's id in the source system


class Columns:
    """One patient's rows, kept compactly: a million-row history fits in tens of MB."""

    __slots__ = (
        "date",
        "drug",
        "amount",
        "per_m2",
        "bsa",
        "file",
        "line",
        "cycle",
        "day",
        "regimen",
        "time",
        "ident",
    )

    def __init__(self) -> None:
        self.date = array("l")  # proleptic ordinal; 0 for a dateless --prior amount
        self.drug = array("H")  # index into History.names
        self.amount = array("d")  # mg or units
        self.per_m2 = bytearray()
        self.bsa = array("d")  # 0.0: none on the row
        self.file = array("H")  # index into History.sources
        self.line = array("l")
        self.cycle = array("l")  # 0: none
        self.day = array("l")  # 0: none
        self.regimen = array("H")  # index into History.regimens (0: none)
        self.time = array("h")  # minutes after midnight + 1 (0: none)
        self.ident = array("L")  # index into History.ids (0: none)

    def __len__(self) -> int:
        return len(self.amount)


@dataclass
class History:
    """Prior administrations from any number of files and --prior amounts, per patient."""

    patients: dict[str | None, Columns] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    regimens: list[str] = field(default_factory=lambda: [""])
    ids: list[str] = field(default_factory=lambda: [""])
    # each drug name as written → where it was first read ((file, line), or ("--prior", 0))
    written: dict[str, tuple[str, int]] = field(default_factory=dict)
    _codes: dict[str, int] = field(default_factory=dict)
    _regimen_codes: dict[str, int] = field(default_factory=lambda: {"": 0})
    _id_codes: dict[str, int] = field(default_factory=lambda: {"": 0})
    notes: dict[str | None, list[Any]] = field(default_factory=dict)  # patient → Alerts

    def code(self, drug: str) -> int:
        code = self._codes.get(drug)
        if code is None:
            code = self._codes[drug] = len(self.names)
            self.names.append(drug)
        return code

    def regimen_code(self, regimen: str) -> int:
        code = self._regimen_codes.get(regimen)
        if code is None:
            code = self._regimen_codes[regimen] = len(self.regimens)
            self.regimens.append(regimen)
        return code

    def id_code(self, ident: str) -> int:
        code = self._id_codes.get(ident)
        if code is None:
            code = self._id_codes[ident] = len(self.ids)
            self.ids.append(ident)
        return code

    def known_id(self, ident: str) -> int:
        """The code of ``ident`` if a row carries it, else 0."""
        return self._id_codes.get(ident, 0)

    def add(self, row: Row, patient: str | None, file: int, line: int) -> None:
        cols = self.patients.get(patient)
        if cols is None:
            cols = self.patients[patient] = Columns()
        cols.date.append(row.date.toordinal() if row.date else 0)
        cols.drug.append(self.code(row.drug))
        cols.amount.append(row.amount)
        cols.per_m2.append(row.per_m2)
        cols.bsa.append(row.bsa_m2 or 0.0)
        cols.file.append(file)
        cols.line.append(line)
        cols.cycle.append(row.cycle or 0)
        cols.day.append(row.day or 0)
        cols.regimen.append(self.regimen_code(row.regimen or ""))
        cols.time.append(minutes(row.time))
        cols.ident.append(self.id_code(row.id or ""))

    def where(self, cols: Columns, i: int) -> str:
        source = self.sources[cols.file[i]]
        if source == "--prior":
            return source
        if source == LEDGER_SOURCE:  # the line is the ledger record's number
            return f"ledger record #{cols.line[i]}"
        return f"{source}:{cols.line[i]}"

    def rows(self, patient: str | None = None) -> list[Row]:
        """One patient's rows as Row values (for plans and small histories)."""
        cols = self.patients.get(patient)
        if cols is None:
            return []
        units = {name: drugs.book().drugs[name].dose_unit for name in self.names}
        return [
            Row(
                date.fromordinal(cols.date[i]) if cols.date[i] else None,
                self.names[cols.drug[i]],
                cols.amount[i],
                units[self.names[cols.drug[i]]],
                bool(cols.per_m2[i]),
                cols.bsa[i] or None,
                patient,
                self.regimens[cols.regimen[i]] or None,
                cols.cycle[i] or None,
                cols.day[i] or None,
                self.where(cols, i),
                clock(cols.time[i]),
                self.ids[cols.ident[i]] or None,
            )
            for i in range(len(cols))
        ]

    def all_rows(self) -> list[Row]:
        return [r for p in self.patients for r in self.rows(p)]

    def note_name(self, text: Any, source: str, line: int | None) -> None:
        """Remember where a drug name as written was first read (for :meth:`names_read`)."""
        if isinstance(text, str) and text.strip():
            self.written.setdefault(text.strip(), (source, line or 0))

    def names_read(self) -> list[drugs.NameRead]:
        """The abbreviations the drug names of these rows were read through, once each."""
        return drugs.names_read(
            (text, None, None, "--prior")
            if source == "--prior"
            else (text, source, line or None, None)
            for text, (source, line) in self.written.items()
        )

    def add_prior(self, row: Row) -> None:
        if "--prior" not in self.sources:
            self.sources.append("--prior")
        self.add(row, None, self.sources.index("--prior"), 0)

    def check_patients(self) -> None:
        """A history names a patient on every row or on none (else the rows are ambiguous)."""
        if None in self.patients and len(self.patients) > 1:
            cols = self.patients[None]
            where = self.where(cols, 0)
            if where == "--prior":
                raise fail(
                    "--prior",
                    "--prior cannot be combined with a history that names "
                    "several patients; put the prior amounts in the history with their "
                    "patient",
                )
            raise fail(
                "--history",
                f"{where}: this row has no patient, but other rows name one;"
                " give every row a patient (or none)",
            )


def minutes(time: str | None) -> int:
    """``"08:30"`` → 511 (minutes after midnight + 1); None → 0."""
    return 0 if time is None else int(time[:2]) * 60 + int(time[3:]) + 1


def clock(minutes: int) -> str | None:
    return f"{(minutes - 1) // 60:02d}:{(minutes - 1) % 60:02d}" if minutes else None


def patient_id(text: str) -> str:
    """A patient's id as every reader takes it (history files, the engine, the ledger, orders,
    ``--patient``): stripped of surrounding spaces, and refused (ValueError) when it holds an
    invisible or control character (``P1`` and ``P1`` + a zero-width space would be two
    patients) or characters that Unicode reads as others (full-width ``Ｐ１`` is ``P1``)."""
    import unicodedata

    from dosecalc.data.drugs import invisible

    shown = text.strip()
    hidden = invisible(shown)
    if hidden:
        raise ValueError(f"the patient id {shown[:60]!r} holds {hidden}: type it again without it")
    plain = unicodedata.normalize("NFKC", shown)
    if plain != shown:
        raise ValueError(
            f"the patient id {shown[:60]!r} is written with characters that read as "
            f"{plain[:60]!r} (full-width or compatibility forms): write it as {plain[:60]!r}"
        )
    return shown
