"""Drug monographs: canonical names, synonyms, class, default route, dose unit, single-dose guard.

The data lives in ``data/drugs.yaml`` (reviewed like code, a source on every number). Names are
matched exactly after folding case and dropping spaces, hyphens, dots and underscores
(``5-FU`` = ``5fu`` = ``5 FU``); fuzzy matching is used only to suggest names in an error, never
to pick a drug. An abbreviation that real orders use for two drugs (``TAX``) is refused with
both names.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DATA = Path(__file__).with_name("data") / "drugs.yaml"

_FOLD = re.compile(r"[\s\-._]+")


def fold(text: str) -> str:
    """The matching key of a drug name: ``'5-FU'`` → ``'5fu'``."""
    return _FOLD.sub("", text.strip().lower())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class SingleDoseGuard(_Strict):
    """The highest single-administration dose used in established protocols (ten-fold guard)."""

    dose: str
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None


class Drug(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9 -]*$")
    drug_class: str = Field(alias="class", min_length=1)
    route: str = Field(min_length=1)
    dose_unit: Literal["mg", "units"]
    synonyms: tuple[str, ...] = ()
    tall_man: str | None = None
    max_single_dose: SingleDoseGuard | None = None
    note: str | None = None

    @property
    def display(self) -> str:
        """Name for printed orders: tall-man lettering where the FDA/ISMP list has it."""
        return self.tall_man or self.name


class DrugFile(_Strict):
    version: int
    sources: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    drugs: list[Drug] = Field(min_length=1)


class DrugBook:
    """All monographs, indexed by folded name and synonym."""

    def __init__(
        self, drugs: list[Drug], ambiguous: dict[str, list[str]], sources: dict[str, str]
    ) -> None:
        self.drugs = {d.name: d for d in drugs}
        self.sources = sources
        self._index: dict[str, str] = {}
        self._ambiguous = {fold(k): (k, v) for k, v in ambiguous.items()}
        for d in drugs:
            for text in (d.name, *d.synonyms):
                key = fold(text)
                other = self._index.get(key)
                if other is not None and other != d.name:
                    raise ValueError(f"drug data: '{text}' names both {other} and {d.name}")
                if key in self._ambiguous:
                    raise ValueError(f"drug data: '{text}' of {d.name} is also listed as ambiguous")
                self._index[key] = d.name
        for text, names in self._ambiguous.values():
            unknown = [n for n in names if n not in self.drugs]
            if unknown:
                raise ValueError(f"drug data: ambiguous '{text}' names unknown {unknown}")

    def lookup(self, text: str) -> Drug:
        """The drug a name or synonym means; ValueError naming the closest known names."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a drug name is required")
        key = fold(text)
        if key in self._index:
            return self.drugs[self._index[key]]
        if key in self._ambiguous:
            shown, names = self._ambiguous[key]
            raise ValueError(
                f"'{text}' is ambiguous: real orders use it for {' and '.join(names)}; "
                "write the generic name"
            )
        names = self.closest(key)
        hint = f"; did you mean {' or '.join(names)}?" if names else ""
        raise ValueError(f"'{text}' is not a drug dosecalc knows{hint}")

    def closest(self, key: str, n: int = 3) -> list[str]:
        """Drug names whose names or synonyms are nearly ``key`` (the best and its close rivals)."""
        scored = sorted(
            (
                (difflib.SequenceMatcher(None, key, k).ratio(), name)
                for k, name in self._index.items()
            ),
            reverse=True,
        )
        if len(key) < 5 or not scored or scored[0][0] < 0.6:  # short codes: no guessing
            return []
        best = scored[0][0]
        return list(dict.fromkeys(name for r, name in scored if r >= best - 0.1))[:n]

    def __contains__(self, text: str) -> bool:
        return fold(text) in self._index


def load(path: Path | None = None, trusted: bool = False) -> DrugBook:
    """Load and check a drug data file (the packaged one by default)."""
    from dosecalc.datafile import load_model

    data = load_model(path or DATA, DrugFile, "drug data", trusted=trusted)
    return DrugBook(data.drugs, data.ambiguous, data.sources)


class DataError(RuntimeError):
    """The packaged data is damaged: a bug or a broken installation (exit 3), not user input."""


@lru_cache(maxsize=1)
def book() -> DrugBook:
    from dosecalc.errors import DosecalcError

    try:
        return load(trusted=True)
    except (DosecalcError, ValueError) as e:
        raise DataError(f"the packaged drug data is damaged: {e}") from e


def lookup(text: str) -> Drug:
    return book().lookup(text)
