"""Drug monographs: canonical names, synonyms, class, default route, dose unit, single-dose guard.

The data lives in ``data/drugs.yaml`` (reviewed like code, a source on every number). A name or
synonym is matched exactly after Unicode NFKC normalisation (a no-break space is a space,
full-width letters are letters), case folding and whitespace folding (runs of spaces are one);
nothing else is forgiven: ``epi-rubicin`` is not epirubicin, and a name holding an invisible
character (a zero-width space) is refused saying so. Abbreviations, being codes, are matched
without their spaces, hyphens and dots (``5-FU`` = ``5FU`` = ``5 FU``). A name that does not
match as written is tried once more without its salt and dosage-form words (``doxorubicin HCl``,
``cisplatin injection``), never without a word that names another formulation (``liposomal``).
Fuzzy matching only suggests names in an error, never picks a drug. An abbreviation that real
orders use for two drugs (``TAX``, ``MTX``) is refused with both names; the other abbreviations
are accepted, and :meth:`DrugBook.resolve` says when a name was read through one, so that every
reader can report it (:class:`NameRead`, :func:`names_read`) and an institution can refuse them
(policy ``names.abbreviations``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dosecalc.base.alerts import CRITICAL, WARNING, Alert

DATA = Path(__file__).with_name("drugs.yaml")

_SEPARATORS = re.compile(r"[\s\-._]+")
_WORDS = re.compile(r"[\s\-._,/()]+")

# Salt and dosage-form words a name may carry without naming another product: dropped when a
# name does not match as written ("doxorubicin hydrochloride", "cisplatin injection").
SALT_WORDS = frozenset(
    """hcl hydrochloride dihydrochloride sulfate sulphate sodium disodium phosphate mesylate
    mesilate citrate tartrate bitartrate acetate maleate dimaleate trihydrate monohydrate
    injection inj for infusion solution concentrate powder lyophilised lyophilized usp bp""".split()
)
# Words that name a different formulation: never dropped, and a name holding one is never
# matched to (or suggested as) a conventional drug, nor the other way round.
_SPECIAL = re.compile(
    r"liposom|pegylat|^peg$|^nab$|albumin|protein|lipid|implant|wafer|topical|hyaluronidase"
    r"|subcutaneous|depot"
)


def fold(text: str) -> str:
    """The matching key of a drug name: NFKC, case and whitespace folded
    (``'Doxorubicin\u00a0HCl'`` → ``'doxorubicin hcl'``)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def code(text: str) -> str:
    """The matching key of an abbreviation (a code): folded without spaces, hyphens and dots
    (``'5-FU'``, ``'5 fu'`` → ``'5fu'``)."""
    return _SEPARATORS.sub("", fold(text))


def invisible(text: str) -> str | None:
    """The first invisible or control character of ``text`` (a zero-width space, a soft
    hyphen, a direction mark), named, or None."""
    for i, c in enumerate(text):
        if unicodedata.category(c) in ("Cf", "Cc", "Co", "Cn") and c not in "\t\n\r":
            name = unicodedata.name(c, f"U+{ord(c):04X}")
            return f"an invisible character ({name}, U+{ord(c):04X}) at position {i + 1}"
    return None


def _words(text: str) -> list[str]:
    return [w for w in _WORDS.split(text.strip().lower()) if w]


def strip_salt(text: str) -> str:
    """The matching key without salt and dosage-form words: ``'doxorubicin HCl'`` →
    ``'doxorubicin'`` (``''`` if nothing else is left). Only whole words go: the rest of the
    name stays as written."""
    return " ".join(w for w in fold(text).split() if w.strip(",()") not in SALT_WORDS)


def special_form(text: str) -> bool:
    """Whether a name names a special formulation (liposomal, pegylated, nab-, implant, ...)."""
    return any(_SPECIAL.search(w) for w in _words(text))


class UnknownDrug(ValueError):
    """A name that is no drug dosecalc knows, nor a special formulation, nor one it refuses as
    ambiguous or not dosed (a product name, perhaps)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class BolusGuard(_Strict):
    """The highest dose given as one bolus in established protocols, for a drug whose infusions
    are far larger (fluorouracil: a bolus of the 46-h infusion's dose is a fatal error)."""

    dose: str
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None


class PerM2Guard(_Strict):
    """The highest dose per m² a label gives for a drug whose usual maximum single dose is
    absolute (vincristine: 2 mg): a ten-fold slip in the dose per m² that the absolute cap of a
    regimen line would hide (14 mg/m² for 1.4, capped to 2 mg) is judged against it."""

    dose: str = Field(pattern=r"/m2$")
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None


class RouteGuard(_Strict):
    """The highest single dose by one route, where a drug's labels differ by route and that
    route's is lower than the drug's guard (ondansetron IV: 16 mg, 24 mg PO)."""

    dose: str
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None


class SingleDoseGuard(_Strict):
    """The highest single-administration dose used in established protocols (ten-fold guard)."""

    dose: str
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None
    bolus: BolusGuard | None = None  # the guard for a regimen line given as a bolus
    # a second usual maximum per m², for a drug whose guard is absolute (vincristine: 2 mg, and
    # 2 mg/m² in children): the dose per m² is held to it before a regimen's max_dose caps it
    per_m2: PerM2Guard | None = None
    # a lower usual maximum by one route (IV, PO, SC, IM, IT): a dose given by that route is held
    # to it, every other dose to ``dose`` (dosing.held_to)
    by_route: dict[str, RouteGuard] = {}

    @field_validator("by_route")
    @classmethod
    def _known_routes(cls, by_route: dict[str, RouteGuard]) -> dict[str, RouteGuard]:
        """Each key one route exactly as route_key names it (IV, PO, SC, IM, IT)."""
        for key in by_route:
            if key not in ROUTES:
                raise ValueError(f"by_route: '{key}' is not one of {', '.join(ROUTES)}")
        return by_route


class AucRange(_Strict):
    """The target AUCs (mg/mL·min) established protocols give a drug dosed by Calvert
    (carboplatin): a target outside is a warning, not a refusal, where no source gives a hard
    range (AUC_OUTSIDE_USUAL_RANGE)."""

    low: float = Field(gt=0)
    high: float = Field(gt=0)
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None


class RouteOnly(_Strict):
    """The one route a drug may be given by: any other is fatal (the vinca alkaloids' labels)."""

    routes: tuple[str, ...] = Field(min_length=1)  # IV; vinorelbine also PO (its capsules)
    source: str = Field(min_length=1)


class LabelledRoutes(_Strict):
    """The routes (of IV, PO, SC, IM, IT) the drug's labels give, with their source: a line by
    another route is named (route_alert), intrathecally a critical where the list is verified."""

    routes: tuple[str, ...] = Field(min_length=1)
    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None

    @field_validator("routes")
    @classmethod
    def _known(cls, routes: tuple[str, ...]) -> tuple[str, ...]:
        """Each one route exactly as route_key names it (IV, PO, SC, IM, IT), once."""
        for key in routes:
            if key not in ROUTES:
                raise ValueError(f"labelled_routes: '{key}' is not one of {', '.join(ROUTES)}")
        if len(set(routes)) != len(routes):
            raise ValueError("labelled_routes: name each route once")
        return routes


class Drug(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9 -]*$")
    drug_class: str = Field(alias="class", min_length=1)
    route: str = Field(min_length=1)
    dose_unit: Literal["mg", "units"]
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()  # accepted, always reported (ISMP: write the full name)
    tall_man: str | None = None
    max_single_dose: SingleDoseGuard | None = None
    route_only: RouteOnly | None = None
    labelled_routes: LabelledRoutes
    usual_auc: AucRange | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _routes_labelled(self) -> Drug:
        """The default route, and a route_only's, are among the routes the labels give."""
        given = set(self.labelled_routes.routes)
        for route in (self.route, *(self.route_only.routes if self.route_only else ())):
            if route not in given:
                raise ValueError(
                    f"{self.name}: route {route} is not among its labelled_routes "
                    f"({', '.join(self.labelled_routes.routes)})"
                )
        return self

    @property
    def display(self) -> str:
        """Name for printed orders: tall-man lettering where the FDA/ISMP list has it."""
        return self.tall_man or self.name


class DrugFile(_Strict):
    version: int
    sources: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    not_supported: dict[str, str] = {}
    drugs: list[Drug] = Field(min_length=1)


# A suggestion must be this close (difflib ratio of the folded names) to be offered at all, and a
# rival this close to the best; rivals must share the best one's class.
SUGGEST_CUTOFF = 0.8
SUGGEST_RIVALS = 0.05


class DrugBook:
    """All monographs, indexed by folded name, synonym and abbreviation."""

    def __init__(
        self,
        drugs: list[Drug],
        ambiguous: dict[str, list[str]],
        sources: dict[str, str],
        not_supported: dict[str, str] | None = None,
    ) -> None:
        self.drugs = {d.name: d for d in drugs}
        self.sources = sources
        self._index: dict[str, str] = {}
        self._abbreviations: set[str] = set()  # folded keys that are abbreviations
        self._ambiguous = {code(k): (k, v) for k, v in ambiguous.items()}
        self._unsupported = {code(k): (k, v) for k, v in (not_supported or {}).items()}
        self._codes: dict[str, str] = {}  # abbreviations, by code()
        for d in drugs:
            spellings = [(fold(t), t, self._index) for t in (d.name, *d.synonyms)]
            spellings += [(code(a), a, self._codes) for a in d.abbreviations]
            for key, text, index in spellings:
                other = index.get(key)
                if other is not None and other != d.name:
                    raise ValueError(f"drug data: '{text}' names both {other} and {d.name}")
                if code(text) in self._ambiguous or code(text) in self._unsupported:
                    raise ValueError(
                        f"drug data: '{text}' of {d.name} is also listed as ambiguous or "
                        "not supported"
                    )
                index[key] = d.name
        for text, names in self._ambiguous.values():
            unknown = [n for n in names if n not in self.drugs]
            if unknown:
                raise ValueError(f"drug data: ambiguous '{text}' names unknown {unknown}")
        # the names and synonyms without salt words ("doxorubicin hydrochloride liposome" →
        # "doxorubicin liposome"): a second chance for a name that does not match as written
        self._stripped: dict[str, str] = dict(self._index)
        for d in drugs:
            for text in (d.name, *d.synonyms):
                key = strip_salt(text)
                other = self._stripped.get(key)
                if other is not None and other != d.name:
                    raise ValueError(
                        f"drug data: '{text}' without its salt words names both {other} and "
                        f"{d.name}"
                    )
                if key:
                    self._stripped[key] = d.name

    def resolve(self, text: str) -> tuple[Drug, bool]:
        """The drug a name, synonym or abbreviation means, and whether it was read through an
        abbreviation; ValueError saying why not (an invisible character, ambiguous, not
        supported, unknown: with the closest names)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a drug name is required")
        shown = text.strip() if len(text) <= 80 else f"{text.strip()[:77]}..."  # as shown
        hidden = invisible(text)
        if hidden:
            raise ValueError(f"'{shown}' holds {hidden}: type the name again without it")
        name, abbreviation = self._find(text)
        if name is not None:
            return self.drugs[name], abbreviation
        for key in dict.fromkeys((code(text), code(strip_salt(text)))):  # "Marqibo injection"
            if key in self._ambiguous:
                _, names = self._ambiguous[key]
                raise ValueError(
                    f"'{shown}' is ambiguous: real orders use it for {' and '.join(names)}; "
                    "write the generic name"
                )
            if key in self._unsupported:
                _, what = self._unsupported[key]
                raise ValueError(f"'{shown}' is {what}; dosecalc does not dose it")
        special = special_form(text)
        names = self.closest(fold(text), special=special)
        hint = f"; did you mean {' or '.join(names)}?" if names else ""
        if special:
            raise ValueError(
                f"'{shown}' names a special formulation (liposomal, pegylated, protein-bound, "
                "implant, subcutaneous, ...) that dosecalc does not know; it is not "
                f"interchangeable with the conventional drug{hint}"
            )
        raise UnknownDrug(f"'{shown}' is not a drug dosecalc knows{hint}")

    def _find(self, text: str) -> tuple[str | None, bool]:
        """(the drug's name or None, whether it was read through an abbreviation): the name or
        a synonym as written, an abbreviation, then the name without its salt words."""
        key = fold(text)
        if key in self._index:
            return self._index[key], False
        if code(text) in self._codes and code(text) not in self._ambiguous:
            return self._codes[code(text)], True
        stripped = strip_salt(text)
        if stripped and stripped in self._stripped:
            return self._stripped[stripped], False
        if stripped and code(stripped) in self._codes:  # "EPI injection"
            return self._codes[code(stripped)], True
        return None, False

    def lookup(self, text: str) -> Drug:
        """The drug a name, synonym or abbreviation means (see :meth:`resolve`)."""
        return self.resolve(text)[0]

    def closest(self, key: str, n: int = 3, special: bool = False) -> list[str]:
        """Drug names nearly spelled ``key`` (folded; difflib), best first; rivals of the best
        only from its class, and only of the same kind of formulation (special or
        conventional)."""
        if len(key) < 5:  # short codes: no guessing
            return []
        by_code = self._candidates(special)
        probe = code(key)
        close = difflib.get_close_matches(probe, list(by_code), n=20, cutoff=SUGGEST_CUTOFF)
        if not close:
            return []
        ratio = {k: difflib.SequenceMatcher(None, probe, k).ratio() for k in close}
        best = self.drugs[self._index[by_code[close[0]]]]
        rivals = [
            self._index[by_code[k]]
            for k in close
            if ratio[k] >= ratio[close[0]] - SUGGEST_RIVALS
            and self.drugs[self._index[by_code[k]]].drug_class == best.drug_class
        ]
        return list(dict.fromkeys([best.name, *rivals]))[:n]

    def _candidates(self, special: bool) -> dict[str, str]:
        """code → name key of the names of one kind of formulation, worked out once: a bundle of
        50,000 administrations named by a product display asks for suggestions each time."""
        cache: dict[bool, dict[str, str]] = self.__dict__.setdefault("_candidate_keys", {})
        if special not in cache:
            keys = [k for k, name in self._index.items() if self._special(name) == special]
            cache[special] = {code(k): k for k in keys}
        return cache[special]

    def _special(self, name: str) -> bool:
        return special_form(name) or name in ("calaspargase pegol", "pegaspargase")

    def __contains__(self, text: str) -> bool:
        return isinstance(text, str) and bool(text.strip()) and self._find(text)[0] is not None


@dataclass(frozen=True)
class NameRead:
    """A drug name read through an abbreviation: what was written, where, and the drug."""

    text: str
    drug: str
    file: str | None = None  # the file, with ``line``; or None with ``option``
    line: int | None = None
    option: str | None = None  # "--prior", "--reduce", "--drug", "ledger record #12", ...

    @property
    def where(self) -> str:
        if self.file is not None:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.option or "input"

    @property
    def message(self) -> str:
        return (
            f"'{self.text}' ({self.where}) was read as {self.drug}: an abbreviation; ISMP "
            "recommends the full generic name"
        )


def names_read(texts: Iterable[tuple[str, str | None, int | None, str | None]]) -> list[NameRead]:
    """The abbreviations among names as written, once per abbreviation (its first place).

    Each item is ``(text as written, file, line, option)``; names that are not abbreviations,
    or do not resolve (their reader reports that), are left out.
    """
    out: dict[str, NameRead] = {}
    drug_book = book()
    for text, file, line, option in texts:
        if not isinstance(text, str) or not text.strip():
            continue
        key = code(text)
        if key in out:
            continue
        try:
            drug, abbreviation = drug_book.resolve(text)
        except ValueError:
            continue
        if abbreviation:
            out[key] = NameRead(text.strip(), drug.name, file, line, option)
    return list(out.values())


def merge_reads(*groups: Iterable[NameRead]) -> list[NameRead]:
    """Several readers' abbreviations as one list, once per abbreviation (the first place)."""
    out: dict[str, NameRead] = {}
    for group in groups:
        for r in group:
            out.setdefault(code(r.text), r)
    return list(out.values())


ACCEPT, REFUSE = "accept", "refuse"


def abbreviation_alerts(reads: Iterable[NameRead], mode: str = ACCEPT) -> list[object]:
    """ABBREVIATION_READ notices (severity info) for the abbreviations read; with the policy
    ``names.abbreviations = refuse``, a refusal naming every one of them (exit 2)."""
    from dosecalc.base.alerts import INFO, Alert
    from dosecalc.base.errors import DosecalcError, Problem

    reads = merge_reads(reads)
    if mode == REFUSE and reads:
        raise DosecalcError(
            *(
                Problem(
                    f"'{r.text}' is an abbreviation of {r.drug}; the policy "
                    "names.abbreviations = refuse requires the full generic name",
                    field=r.option if r.file is None else None,
                    file=r.file,
                    line=r.line,
                )
                for r in reads
            )
        )
    return [Alert(INFO, "ABBREVIATION_READ", r.message, drug=r.drug) for r in reads]


def load(path: Path | None = None, trusted: bool = False) -> DrugBook:
    """Load and check a drug data file (the packaged one by default)."""
    from dosecalc.data.datafile import load_model

    data = load_model(path or DATA, DrugFile, "drug data", trusted=trusted)
    return DrugBook(data.drugs, data.ambiguous, data.sources, data.not_supported)


class DataError(RuntimeError):
    """The packaged data is damaged: a bug or a broken installation (exit 3), not user input."""


@lru_cache(maxsize=1)
def book() -> DrugBook:
    from dosecalc.base.errors import DosecalcError

    try:
        return load(trusted=True)
    except (DosecalcError, ValueError) as e:
        raise DataError(f"the packaged drug data is damaged: {e}") from e


def lookup(text: str) -> Drug:
    return book().lookup(text)


def resolve(text: str) -> tuple[Drug, bool]:
    """The drug ``text`` names and whether it was an abbreviation (see DrugBook.resolve)."""
    return book().resolve(text)


def special(name: str) -> bool:
    """Whether the drug named ``name`` (a canonical name) is a special formulation."""
    return book()._special(name)


# Route words regimens and orders use → the route they mean. A regimen line's route is one of
# these wordings exactly (read_route); anything else is refused, never guessed at.
_ROUTES = {
    "IV": (
        "iv",
        "intravenous",
        "intravenously",
        "ivpb",
        "iv infusion",
        "iv push",
        "ivp",
        "iv bolus",
        "civ",
        "continuous iv",
        "intravenous infusion",
        "intravenous bolus",
        "iv minibag",
        "iv drip",
        "slow iv push",
        "iv-push",
        "iv piggyback",
    ),
    "PO": ("po", "oral", "orally", "by mouth", "per os", "p.o."),
    "SC": ("sc", "subcut", "subcutaneous", "subcutaneously", "sq", "s.c.", "s/c"),
    "IM": ("im", "intramuscular", "intramuscularly", "i.m."),
    "IT": ("it", "intrathecal", "intrathecally", "i.t."),
}
ROUTES = tuple(_ROUTES)  # the routes dosecalc knows, in the order they are named to a user
_ROUTE_OF = {w.replace(".", ""): k for k, words in _ROUTES.items() for w in words}


def _fold(text: str) -> str:
    return " ".join(text.strip().lower().replace(".", "").split())


def route_key(text: str) -> str:
    """'i.v.' / 'Intravenous' / 'IV push' → 'IV'; an unknown route is folded as written."""
    folded = _fold(text)
    return _ROUTE_OF.get(folded, folded.upper())


def read_route(text: str) -> str:
    """The route (IV, PO, SC, IM, IT) a regimen's route wording names, one of the known wordings
    exactly ('IV', 'i.v.', 'intravenous', 'IV push', 'oral', 'intrathecal', ...); else ValueError
    naming the valid routes. A wording of several routes ('IV/IT', 'IT (not IV)') is ambiguous:
    a line is given by one route, and reading one of them would hide the other."""
    key = _ROUTE_OF.get(_fold(text))
    if key is not None:
        return key
    words = re.split(r"[\s\-()/,;:+&]+", _fold(text))
    named = sorted({_ROUTE_OF[w] for w in words if w in _ROUTE_OF}, key=ROUTES.index)
    valid = ", ".join(ROUTES)
    if len(named) > 1:
        raise ValueError(
            f"route '{text}' names more than one route ({', '.join(named)}): a line is given by "
            f"one route; write one of {valid}, one line per route"
        )
    raise ValueError(
        f"route '{text}' is not a route dosecalc knows: write one of {valid} (or a wording of "
        "one, e.g. 'i.v.', 'intravenous', 'oral', 'intrathecal')"
    )


def routes_named(text: str) -> set[str]:
    """Every route (IV, PO, SC, IM, IT) a wording names: route_key's, or each route word it
    holds (SNOMED's 'Intrathecal route', 'oral tablet'; 'IV/IT' names two). 'it' in lower case
    is the English word ('give it IV'), no route; 'IT' or 'I.T.' is intrathecal."""
    key = route_key(text)
    if key in _ROUTES:
        return {key}
    written = re.split(r"[\s\-()/,;:]+", text.strip().replace(".", ""))
    words = [w.lower() for w in written]
    found = {
        _ROUTE_OF[w]
        for w, as_written in zip(words, written, strict=True)
        if w in _ROUTE_OF and (w != "it" or as_written == "IT")
    }
    if any(w.startswith("intraven") for w in words):
        found.add("IV")
    return found


def wrong_route(drug: str, route: str) -> str | None:
    """Why ``route`` is never to be used for ``drug`` (its label: fatal by any other), or None."""
    only = lookup(drug).route_only
    if only is None or route_key(route) in {route_key(r) for r in only.routes}:
        return None
    allowed = " or ".join(only.routes)
    return (
        f"{drug} is given {allowed} only, fatal by any other route ({only.source}); route "
        f"'{route}' is never used for it"
    )


INTRATHECAL = "IT"
ROUTE_IT_CODE, ROUTE_CODE = "ROUTE_INTRATHECAL_NOT_LABELLED", "ROUTE_NOT_LABELLED"


def route_alert(drug: str, route: str, where: str, **at: Any) -> Alert | None:
    """The one judgement of a line's route against the routes ``drug``'s labels give
    (``labelled_routes``), for a regimen's line and an order's alike: None where the label gives
    it (or where :func:`wrong_route` already refuses it as fatal); intrathecally, where the drug
    data's list is verified, ROUTE_INTRATHECAL_NOT_LABELLED (critical: a drug made for another
    route given into the spinal fluid can kill); any other route, or intrathecally by a list
    still unverified, ROUTE_NOT_LABELLED (warning: the prescriber's decision, to acknowledge).
    ``where`` names the line ('ec line 1', 'order.yaml:12'); ``at``: the Alert's day, cycle."""
    d = lookup(drug)
    key = route_key(route)
    labelled = d.labelled_routes
    if key in labelled.routes or wrong_route(drug, route) is not None:
        return None
    gives = " and ".join(labelled.routes)
    unverified = "" if labelled.verified else ", a list the drug data marks unverified"
    said = f"{d.name} {route} ({where}): {key} is not a route its label gives ({gives} only"
    said += f"{unverified}: {labelled.source})"
    if key == INTRATHECAL and labelled.verified:
        return Alert(
            CRITICAL,
            ROUTE_IT_CODE,
            f"{said}. A drug made for another route given intrathecally can be fatal: confirm with "
            "the prescriber that intrathecal is meant and which protocol gives it; only the "
            "verifying pharmacist may release it",
            drug=d.name,
            **at,
        )
    return Alert(
        WARNING,
        ROUTE_CODE,
        f"{said}: the prescriber must confirm that {key} is meant (acknowledge {ROUTE_CODE})",
        drug=d.name,
        **at,
    )
