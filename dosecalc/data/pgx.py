"""The pharmacogenomics data file (``data/pgx.yaml``): its loader, the plain data plans read,
and the pydantic models that validate it with file:line errors.

The file holds, per gene, every allele dosecalc reads (each spelling, its function and, for
DPYD, its activity value: the CPIC allele table) and how a genotype becomes a phenotype; per
drug, the guidelines' dose bands as named options with a cited default; and why a drug ordered
without a genotype is flagged. What the bands say for one patient is the clinical layer's
(dosecalc/clinical/pgx.py). As for organ.yaml, only loading a file strictly (a user's file, and
the tests on the packaged one) needs the models; plans read the packaged file's plain data.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Function = Literal["normal", "decreased", "no_function", "increased", "unknown"]
Phenotype = Literal["normal", "intermediate", "poor", "indeterminate"]
PHENOTYPES: tuple[str, ...] = ("normal", "intermediate", "poor", "indeterminate")
ACTIONS = ("no_change", "percent", "dose_at_most", "avoid", "no_recommendation")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class _Cited(_Strict):
    """Anything with a number or an action: its source and whether it was read there."""

    source: str
    verified: bool
    note: str | None = None

    @model_validator(mode="after")
    def _noted(self) -> _Cited:
        if not self.verified and not self.note:
            raise ValueError("an unverified entry needs a note saying what could not be checked")
        return self


class Source(_Strict):
    cite: str
    text: str


# ---------------------------------------------------------------- genes


class AlleleValue(_Cited):
    function: Function
    activity_value: float = Field(ge=0, le=1)


class ActivityScore(_Cited):
    rule: Literal["sum_of_two_lowest"]
    text: str
    allowed_values: list[float] = Field(min_length=1)


class PhenotypeRow(_Cited):
    phenotype: Phenotype
    activity_scores: list[float] = Field(min_length=1)


class SameHaplotype(_Cited):
    variants: list[str] = Field(min_length=2, max_length=2)
    counts_as: str


class Allele(_Cited):
    name: str = Field(min_length=1)
    aliases: list[str] = []
    function: Function
    activity_value: float | None = Field(None, ge=0, le=1)
    rsid: str | None = None
    grch38: str | None = None
    locus: str | None = None
    in_dpwg_scope: bool = False
    alias_source: str | None = None  # words, not a source key: where the spellings were read
    also_source: str | None = None


class PhenotypeRule(_Cited):
    text: str
    also_source: str | None = None


class Gene(_Strict):
    alleles: list[Allele] = Field(min_length=1)
    hgvs_reference: str | None = None
    hgvs_reference_source: str | None = None
    definition_source: str | None = None
    # a gene scored by activity (DPYD) ...
    allele_values: list[AlleleValue] | None = None
    activity_score: ActivityScore | None = None
    phenotypes: list[PhenotypeRow] | None = None
    same_haplotype: list[SameHaplotype] = []
    # ... or read from a diplotype table (UGT1A1)
    phenotype_rule: PhenotypeRule | None = None
    diplotype_phenotype: dict[str, Phenotype] | None = None
    diplotype_phenotype_source: str | None = None
    diplotype_phenotype_verified: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Gene:
        scored = (self.allele_values, self.activity_score, self.phenotypes)
        table = (self.diplotype_phenotype, self.diplotype_phenotype_source)
        if all(x is not None for x in scored) == all(x is not None for x in table):
            raise ValueError(
                "a gene is scored by activity (allele_values, activity_score, phenotypes) or "
                "read from a diplotype table (diplotype_phenotype and its source), not both"
            )
        seen: dict[str, str] = {}
        for a in self.alleles:
            for spelling in (a.name, *a.aliases):
                if "/" in spelling:
                    raise ValueError(f"'{spelling}': an allele's spelling cannot contain '/'")
                other = seen.setdefault(fold(spelling), a.name)
                if other != a.name:
                    raise ValueError(
                        f"'{spelling}' reads as an allele of both {other} and {a.name} "
                        "(spellings are matched ignoring case and spaces)"
                    )
        names = [a.name for a in self.alleles]
        if self.activity_score is not None:
            self._check_scores(names)
        else:
            self._check_table(names)
        return self

    def _check_scores(self, names: list[str]) -> None:
        value = {v.function: v.activity_value for v in self.allele_values or []}
        for a in self.alleles:
            if a.function not in value:
                raise ValueError(f"{a.name}: allele_values gives no activity for '{a.function}'")
            if a.activity_value != value[a.function]:
                raise ValueError(
                    f"{a.name}: activity_value {a.activity_value} is not the {a.function} "
                    f"value {value[a.function]}"
                )
        allowed = sorted(self.activity_score.allowed_values)  # type: ignore[union-attr]
        listed = sorted(s for row in self.phenotypes or [] for s in row.activity_scores)
        if listed != allowed:
            raise ValueError(
                "phenotypes must give every allowed activity score exactly once "
                f"({', '.join(f'{x:g}' for x in allowed)})"
            )
        spellings = {fold(s) for a in self.alleles for s in (a.name, *a.aliases)}
        for pair in self.same_haplotype:
            for v in (*pair.variants, pair.counts_as):
                if fold(v) not in spellings:
                    raise ValueError(f"same_haplotype names '{v}', which is not an allele")

    def _check_table(self, names: list[str]) -> None:
        table = self.diplotype_phenotype or {}
        for key in table:
            parts = key.split("/")
            if len(parts) != 2 or any(p not in names for p in parts):
                raise ValueError(f"diplotype '{key}' is not two alleles of this gene A/B")
        for a, b in combinations_with_replacement(names, 2):
            if f"{a}/{b}" not in table and f"{b}/{a}" not in table:
                raise ValueError(f"diplotype_phenotype has no row for {a}/{b}")
        if self.diplotype_phenotype_verified is None:
            raise ValueError("diplotype_phenotype_verified is needed with a diplotype table")


# ---------------------------------------------------------------- drugs


class Band(_Cited):
    activity_score: float | None = None
    phenotype: Phenotype | None = None
    diplotypes: list[str] = []
    no_change: Literal[True] | None = None
    percent: float | None = Field(None, gt=0, lt=100)
    dose_at_most: str | None = None
    avoid: Literal[True] | None = None
    no_recommendation: Literal[True] | None = None
    strength: str | None = None
    text: str | None = None
    text_source: str | None = None
    alternative: str | None = None
    fallback: str | None = None
    fallback_source: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Band:
        found = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(found) != 1:
            raise ValueError(
                f"a band needs exactly one action: {', '.join(ACTIONS)} "
                f"(found: {', '.join(found) or 'none'})"
            )
        if (self.activity_score is None) == (self.phenotype is None):
            raise ValueError("a band is keyed on activity_score or on phenotype (one of them)")
        if self.diplotypes and self.phenotype is None:
            raise ValueError("diplotypes narrow a phenotype band")
        if self.avoid and not self.alternative:
            raise ValueError("an avoid band says what the guideline gives instead (alternative)")
        if self.dose_at_most is not None:
            from dosecalc.data.organ import per_m2

            if per_m2(self.dose_at_most) is None:
                raise ValueError(f"dose_at_most '{self.dose_at_most}' must be a dose per m²")
        return self

    @property
    def action(self) -> str:
        return next(a for a in ACTIONS if getattr(self, a) is not None)


class Caveat(_Cited):
    diplotype: str
    activity_score: float
    text: str
    text_source: str | None = None


class Titration(_Cited):
    text: str


class Scope(_Cited):
    variants: list[str] = Field(min_length=1)


class OptionRule(_Cited):
    """A rule of an option checked before its bands (DPWG: outside its four variants, or two
    different variants): the guideline gives no dose from the genotype alone."""

    no_recommendation: Literal[True]
    text: str


class Supersedes(_Strict):
    source: str
    note: str


class Option(_Strict):
    guideline: str
    version: str
    key: Literal["activity_score", "phenotype"]
    bands: list[Band] = Field(min_length=1)
    genotype_caveats: list[Caveat] = []
    titration: Titration | None = None
    scope: Scope | None = None
    outside_scope: OptionRule | None = None
    two_different_variants: OptionRule | None = None
    supersedes: Supersedes | None = None

    @model_validator(mode="after")
    def _bands(self) -> Option:
        scoped = (self.scope, self.outside_scope, self.two_different_variants)
        if any(x is not None for x in scoped) and not all(x is not None for x in scoped):
            raise ValueError("scope, outside_scope and two_different_variants go together")
        keys = []
        for b in self.bands:
            if (b.activity_score is not None) != (self.key == "activity_score"):
                raise ValueError(f"the option is keyed on {self.key}; every band must be too")
            keys.append((b.activity_score, b.phenotype, tuple(sorted(b.diplotypes))))
        twice = {k for k in keys if keys.count(k) > 1}
        if twice:
            raise ValueError(f"two bands for the same {self.key}: {sorted(twice, key=str)[0]}")
        return self


class NotAvailable(_Cited):
    option: str


class DrugEntry(_Strict):
    drug: str
    gene: str
    default: str
    why_default: str
    options: dict[str, Option] = Field(min_length=1)
    not_available: list[NotAvailable] = []

    @model_validator(mode="after")
    def _default_exists(self) -> DrugEntry:
        if self.default not in self.options:
            raise ValueError(f"default '{self.default}' is not one of the options")
        clash = [n.option for n in self.not_available if n.option in self.options]
        if clash:
            raise ValueError(f"'{clash[0]}' is both an option and not available")
        return self


class Statement(_Cited):
    text: str


class Exception_(_Cited):
    text: str


class InfoOnly(_Cited):
    drug: str


class NotTested(_Strict):
    gene: str
    drugs: list[str] = Field(min_length=1)
    suggested_severity: Literal["info", "warning", "critical"]
    message: str
    statements: list[Statement] = Field(min_length=1)
    exceptions: list[Exception_] = []
    info_only_drugs: list[InfoOnly] = []


class PgxFile(_Strict):
    version: int
    sources: dict[str, Source]
    genes: dict[str, Gene]
    drugs: list[DrugEntry]
    not_tested: list[NotTested]

    @model_validator(mode="after")
    def _references(self) -> PgxFile:
        missing = sorted(set(cited(self.model_dump())) - set(self.sources))
        if missing:
            raise ValueError(f"sources cited but not defined: {', '.join(missing)}")
        names = [d.drug for d in self.drugs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"drugs listed twice: {', '.join(twice)}")
        for d in self.drugs:
            gene = self.genes.get(d.gene)
            if gene is None:
                raise ValueError(f"{d.drug}: gene {d.gene} is not under genes")
            _check_options(d, gene)
        flagged: dict[str, str] = {}
        for n in self.not_tested:
            for drug in [*n.drugs, *(i.drug for i in n.info_only_drugs)]:
                entry = next((d for d in self.drugs if d.drug == drug), None)
                if entry is None or entry.gene != n.gene:
                    raise ValueError(f"not_tested: {drug} has no {n.gene} entry under drugs")
                flagged[drug] = n.gene
        unflagged = [d.drug for d in self.drugs if d.drug not in flagged]
        if unflagged:
            raise ValueError(f"not_tested says nothing of {', '.join(unflagged)}")
        return self


def _check_options(d: DrugEntry, gene: Gene) -> None:
    """Every option of a drug covers every score (or phenotype) of its gene, once, and names
    only alleles and diplotypes the gene has."""
    names = {a.name for a in gene.alleles}
    for name, o in d.options.items():
        where = f"{d.drug}, option {name}"
        if o.key == "activity_score":
            if gene.activity_score is None:
                raise ValueError(f"{where}: {d.gene} has no activity score")
            have = sorted(b.activity_score for b in o.bands if b.activity_score is not None)
            if have != sorted(gene.activity_score.allowed_values):
                raise ValueError(f"{where}: the bands must cover every activity score once")
        else:
            plain = {b.phenotype for b in o.bands if not b.diplotypes}
            if plain != set(PHENOTYPES):
                raise ValueError(f"{where}: needs a band for each phenotype {PHENOTYPES}")
        for b in o.bands:
            for dip in b.diplotypes:
                parts = dip.split("/")
                if len(parts) != 2 or any(p not in names for p in parts):
                    raise ValueError(f"{where}: '{dip}' is not a {d.gene} diplotype A/B")
        for c in o.genotype_caveats:
            if any(p not in names for p in c.diplotype.split("/")):
                raise ValueError(f"{where}: caveat '{c.diplotype}' names an unknown allele")
        for v in o.scope.variants if o.scope else []:
            if v not in names:
                raise ValueError(f"{where}: scope names '{v}', which is not a {d.gene} allele")


SOURCE_KEYS = (
    "source",
    "text_source",
    "fallback_source",
    "hgvs_reference_source",
    "definition_source",
    "diplotype_phenotype_source",
    "also_source",
)


def cited(node: Any) -> list[str]:
    """Every source key the data cites (``alias_source`` is words, not a key)."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SOURCE_KEYS and isinstance(value, str):
                out.append(value)
            elif key != "sources":
                out += cited(value)
    elif isinstance(node, list):
        for item in node:
            out += cited(item)
    return out


DATA = Path(__file__).parents[1] / "data" / "pgx.yaml"


def fold(text: str) -> str:
    """How a spelling is matched: without case and spaces ('*1 / *2a' reads as '*1/*2A')."""
    return "".join(text.split()).lower()


class PgxBook:
    """The pharmacogenomics data as plain values (the file's mappings)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.entries: dict[str, dict[str, Any]] = {d["drug"]: d for d in data["drugs"]}
        self.genes: dict[str, dict[str, Any]] = data["genes"]
        self.spellings: dict[str, dict[str, dict[str, Any]]] = {
            gene: {fold(s): a for a in g["alleles"] for s in (a["name"], *(a.get("aliases") or []))}
            for gene, g in self.genes.items()
        }

    def gene(self, text: str) -> str | None:
        """The gene's name as the file writes it ('dpyd' → 'DPYD'), or None."""
        return next((g for g in self.genes if fold(g) == fold(text)), None)

    def allele(self, gene: str, text: str) -> dict[str, Any] | None:
        return self.spellings[gene].get(fold(text))

    def option(
        self, drug: str, options: dict[str, str] | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        """The option in force for ``drug`` (policy ``pgx.options``, else the file's default);
        None when the data has no rule for the drug."""
        entry = self.entries.get(drug)
        if entry is None:
            return None
        name = (options or {}).get(drug, entry["default"])
        if name not in entry["options"]:
            from dosecalc.base.errors import fail

            absent = next(
                (n for n in entry.get("not_available") or [] if n["option"] == name), None
            )
            why = f" ({absent['note']})" if absent else ""
            raise fail(
                "pgx.options",
                f"'{name}' is not a pharmacogenomic option for {drug}{why}; give one of "
                f"{', '.join(entry['options'])}",
            )
        return name, entry["options"][name]

    def not_tested(self, drug: str) -> tuple[dict[str, Any], bool] | None:
        """The not_tested entry naming ``drug`` and whether it is there for information only."""
        for n in self.data["not_tested"]:
            if drug in n["drugs"]:
                return n, False
            if any(i["drug"] == drug for i in n.get("info_only_drugs") or []):
                return n, True
        return None

    def cite(self, key: str) -> str:
        return str(self.data["sources"][key]["cite"])


def load(path: Path | None = None, trusted: bool = False) -> PgxBook:
    """The data file, validated with file:line errors (PgxFile); ``trusted`` (the packaged
    file, which the tests validate strictly) is read as plain YAML, without the models."""
    from dosecalc.data import drugs
    from dosecalc.data.yamlfile import read_trusted

    if trusted:  # pydantic is imported only to validate another file
        data = read_trusted(path or DATA, "pharmacogenomics data")
    else:
        from dosecalc.data.datafile import load_validated

        data = load_validated(path or DATA, "pharmacogenomics data", PgxFile)
    book = drugs.book()
    for entry in data["drugs"]:
        if entry["drug"] not in book.drugs:
            raise ValueError(
                f"pharmacogenomics data: '{entry['drug']}' is not a canonical drug name"
            )
    return PgxBook(data)


@lru_cache(maxsize=1)
def book() -> PgxBook:
    from dosecalc.base.errors import DosecalcError
    from dosecalc.data.drugs import DataError

    try:
        return load(trusted=True)
    except (DosecalcError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"the packaged pharmacogenomics data is damaged: {e}") from e
