"""Pharmacogenomic dose adjustments: a genotype as a patient's report gives it, what it means
(activity score, phenotype), and what the guideline in force says for one drug (data/pgx.yaml).

The API plan, check and verify share (pure functions of plain values)::

    g = pgx.parse("DPYD", "*1/*2A", "--genotype")   # refused with one sentence: exit 2
    a = pgx.assess("fluorouracil", {"DPYD": g}, policy["pgx.options"], protocol=spec)
    a.percent       # the dose to give, in % of the standard dose (None: unchanged)
    pgx.alerts(a, policy, standard=2880, adjusted=1440, unit="mg")

A genotype is two alleles ``A/B`` (any spelling the data lists: star name, cDNA name, rsID),
or for DPYD an activity score ``AS:1``. DPYD's score is the sum of the two alleles' activity
values (CPIC: two different variants are taken to be on different gene copies); UGT1A1's
phenotype is read from CPIC's diplotype table. The option in force (policy ``pgx.options``,
else the data's default) gives the action: no change, a percent of the standard starting dose,
a dose per m² at most, avoid, or no recommendation. A drug the data covers, ordered without a
genotype for its gene, is flagged (PGX_NOT_TESTED, severity by policy).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from dosecalc.base.errors import fail
from dosecalc.base.numbers import fmt
from dosecalc.data.pgx import PgxBook, book, fold

PHENOTYPE_WORDS = {
    "normal": "normal metabolizer",
    "intermediate": "intermediate metabolizer",
    "poor": "poor metabolizer",
    "indeterminate": "phenotype indeterminate",
}
FUNCTION_WORDS = {"no_function": "no function"}


class Genotype(NamedTuple):
    """One gene's result for the patient, as given and as read."""

    gene: str
    given: str  # as written, e.g. '*1/*2A' or 'AS:1'
    where: str  # '--genotype', 'order.yaml:9', 'labs.csv:4'
    alleles: tuple[str, str] | None  # the data's names; None when an activity score was given
    labels: tuple[str, str] | None  # the names with their star names: 'c.1905+1G>A (*2A)'
    functions: tuple[str, str] | None
    activity_score: float | None  # DPYD
    phenotype: str  # normal | intermediate | poor | indeterminate
    note: str | None = None  # what the reading needs said (two SNPs of one haplotype)

    def describe(self) -> str:
        """'DPYD *1/*2A (Reference (*1)/c.1905+1G>A (*2A): normal/no function; activity score
        1, intermediate metabolizer)'."""
        parts = []
        if self.labels is not None and self.functions is not None:
            funcs = "/".join(FUNCTION_WORDS.get(f, f) for f in self.functions)
            parts.append(f"{'/'.join(self.labels)}: {funcs}")
        read = [PHENOTYPE_WORDS[self.phenotype]]
        if self.activity_score is not None:
            read.insert(0, f"activity score {fmt(self.activity_score)}")
        parts.append(", ".join(read))
        return f"{self.gene} {self.given} ({'; '.join(parts)})"

    def as_dict(self) -> dict[str, object]:
        return {
            "given": self.given,
            "from": self.where,
            "alleles": list(self.alleles) if self.alleles else None,
            "functions": list(self.functions) if self.functions else None,
            "activity_score": self.activity_score,
            "phenotype": self.phenotype,
            "note": self.note,
        }


# ---------------------------------------------------------------- reading a genotype


def parse(gene_text: str, value: Any, where: str, data: PgxBook | None = None) -> Genotype:
    """``('DPYD', '*1/*2A')`` → a :class:`Genotype`; anything not in the data is refused with one
    sentence naming ``where`` (an option or file:line) and what is valid (exit 2)."""
    data = data or book()
    gene = data.gene(str(gene_text))
    if gene is None:
        raise fail(
            where,
            f"'{str(gene_text).strip()}' is not a gene dosecalc has dosing rules for; give "
            f"{' or '.join(data.genes)}, e.g. DPYD=*1/*2A",
        )
    g = data.genes[gene]
    scored = g.get("activity_score") is not None
    example = "*1/*2A, c.1905+1G>A/c.1236G>A or rs3918290/rs67376798" if scored else "*1/*28"
    valid = f"two {gene} alleles A/B, e.g. {example}" + (
        ", or an activity score, e.g. AS:1" if scored else ""
    )
    text = value.strip() if isinstance(value, str) else None
    if not text:
        raise fail(where, f"{gene}: {value!r} is not a genotype; write {valid}")
    score = re.fullmatch(r"as\s*:\s*(.*)", text, re.IGNORECASE)
    if score is not None:
        if not scored:
            raise fail(where, f"{gene}={text}: {gene} has no activity score; write {valid}")
        return _from_score(gene, g, text, score.group(1), where, valid)
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise fail(where, f"{gene}={text} is not a genotype; write {valid}")
    found = []
    for part in parts:
        allele = data.allele(gene, part)
        if allele is None:
            raise fail(
                where,
                f"'{part.strip()}' is not a {gene} allele dosecalc knows"
                f"{_near(data, gene, part)}; write {valid}. The known {gene} alleles (also "
                f"read by the other names the data lists, e.g. rsIDs): "
                f"{', '.join(label(a) for a in g['alleles'])}",
            )
        found.append(allele)
    a, b = found
    names = (a["name"], b["name"])
    labels = (label(a), label(b))
    functions = (a["function"], b["function"])
    if not scored:
        table = g["diplotype_phenotype"]
        phenotype = table.get(f"{names[0]}/{names[1]}") or table[f"{names[1]}/{names[0]}"]
        return Genotype(gene, text, where, names, labels, functions, None, phenotype)
    total = float(a["activity_value"]) + float(b["activity_value"])
    note = _same_haplotype(data, gene, names, total)
    return Genotype(gene, text, where, names, labels, functions, total, _phenotype(g, total), note)


def _from_score(
    gene: str, g: dict[str, Any], text: str, number: str, where: str, valid: str
) -> Genotype:
    from dosecalc.base import strict

    allowed = [float(x) for x in g["activity_score"]["allowed_values"]]
    shown = ", ".join(fmt(x) for x in allowed)
    try:
        total = strict.decimal(number.strip())
    except ValueError as e:
        raise fail(where, f"{gene}={text}: {e}; give AS: and one of {shown}") from None
    if not any(math.isclose(total, x) for x in allowed):
        raise fail(where, f"{gene}={text}: an activity score is one of {shown}")
    total = next(x for x in allowed if math.isclose(total, x))
    return Genotype(gene, text, where, None, None, None, total, _phenotype(g, total))


def _phenotype(g: dict[str, Any], score: float) -> str:
    return next(
        str(row["phenotype"])
        for row in g["phenotypes"]
        if any(math.isclose(score, float(x)) for x in row["activity_scores"])
    )


def _same_haplotype(data: PgxBook, gene: str, names: tuple[str, str], total: float) -> str | None:
    """The words for two variants written as two alleles that usually sit on one haplotype
    (c.1129-5923C>G and c.1236G>A: HapB3), with the score of each reading."""
    g = data.genes[gene]
    normal = next(
        float(v["activity_value"]) for v in g["allele_values"] if v["function"] == "normal"
    )
    for pair in g.get("same_haplotype") or []:
        variants = {data.allele(gene, v)["name"] for v in pair["variants"]}  # type: ignore[index]
        if set(names) == variants and names[0] != names[1]:
            one = data.allele(gene, pair["counts_as"])
            together = normal + float(one["activity_value"])  # type: ignore[index]
            return (
                f"{' and '.join(pair['variants'])} are the two variants of {pair['counts_as']}: "
                f"reported together they are usually one {pair['counts_as']} allele beside a "
                f"normal one (activity score {fmt(together)}); written as two alleles they are "
                f"scored as one on each gene copy (activity score {fmt(total)}, the lower): "
                f"check the laboratory report (source: {data.cite(pair['source'])})"
            )
    return None


def label(allele: Mapping[str, Any]) -> str:
    """An allele's name with its star name when it has one: 'c.1905+1G>A (*2A)'."""
    name = str(allele["name"])
    star = next((s for s in allele.get("aliases") or [] if re.fullmatch(r"\*\w+", s)), None)
    return f"{name} ({star})" if star and not name.startswith("*") else name


def _near(data: PgxBook, gene: str, text: str) -> str:
    import difflib

    spellings = data.spellings[gene]
    close = difflib.get_close_matches(fold(text), list(spellings), n=3, cutoff=0.75)
    shown = list(dict.fromkeys(label(spellings[c]) for c in close))
    return f" (did you mean {' or '.join(shown)}?)" if shown else ""


def collect(texts: Iterable[str], where: str = "--genotype") -> dict[str, Genotype]:
    """``--genotype GENE=VALUE`` options (repeatable): one result per gene; the same gene given
    twice with two different results is refused."""
    out: dict[str, Genotype] = {}
    for text in texts:
        gene, sep, value = text.partition("=")
        if not sep or not gene.strip():
            raise fail(
                where,
                f"'{text[:60]}' is not GENE=VALUE; e.g. DPYD=*1/*2A, DPYD=AS:1 or UGT1A1=*28/*28",
            )
        add(out, parse(gene, value, where))
    return out


def add(found: dict[str, Genotype], g: Genotype) -> None:
    """Add ``g`` to ``found``, refusing a second, different result for the same gene."""
    other = found.get(g.gene)
    if other is not None and not same(other, g):
        raise fail(
            g.where if g.where.startswith("--") else other.where,
            f"two different {g.gene} results: {other.given} ({other.where}) and {g.given} "
            f"({g.where}); give the one that is right",
        )
    found.setdefault(g.gene, g)


def same(x: Genotype, y: Genotype) -> bool:
    """Whether two results of one gene say the same (the alleles in either order)."""
    if x.alleles is None or y.alleles is None:
        return x.alleles == y.alleles and x.activity_score == y.activity_score
    return sorted(x.alleles) == sorted(y.alleles)


def as_dict(genotypes: Mapping[str, Genotype]) -> dict[str, object]:
    """The patient's genotypes for JSON: gene → as given, where from, alleles, score, phenotype."""
    return {gene: g.as_dict() for gene, g in sorted(genotypes.items())}


# ---------------------------------------------------------------- one drug


class Assessment(NamedTuple):
    """What the pharmacogenomic data says for one drug order and the patient's genotype."""

    drug: str
    gene: str
    option: str
    guideline: str
    version: str
    genotype: Genotype | None  # None: no genotype given for the gene (PGX_NOT_TESTED)
    action: str | None  # no_change | percent | dose_at_most | avoid | no_recommendation
    percent: float | None  # the dose to give in % of the standard dose; None: unchanged
    decided_by: str  # 'activity score 1', 'phenotype poor (*28/*28)', 'two different variants'
    text: str | None  # the guideline's words
    strength: str | None
    alternative: str | None
    fallback: str | None
    dose_at_most: str | None
    caveats: tuple[str, ...]
    titration: str | None
    source: str  # citation
    source_key: str
    verified: bool
    note: str | None

    @property
    def tested(self) -> bool:
        return self.genotype is not None

    @property
    def short_version(self) -> str:
        """The version's first sentence without its parentheses: '2017 update with the November
        2018 web revision; allele functionality as of ...' (the data's full text is in JSON)."""
        text = self.version
        while re.search(r"\([^()]*\)", text):
            text = re.sub(r"\s*\([^()]*\)", "", text)
        return re.split(r"\.(?:\s+(?=[A-Z])|$)", text, maxsplit=1)[0].strip()

    def trace(self) -> str:
        """The dose trace's line: what was read and what it does to the dose."""
        g = self.genotype
        if g is None:
            return f"pharmacogenomics: no {self.gene} genotype given, not checked"
        why = f"{g.describe()}; {self.guideline}, {self.short_version}; source: {self.source}"
        if self.percent is not None:
            return f"pharmacogenomics: {fmt(self.percent)} % of the standard dose ({why})"
        what = {
            "avoid": "AVOID: the dose shown is the standard dose, not to be given as planned",
            "no_recommendation": "no dose from the genotype alone: the dose shown is the "
            "standard dose, to be decided with the prescriber",
            "dose_at_most": f"at most {self.dose_at_most}: not lowered (the protocol dose is at "
            "or under it, or not per m²)",
        }.get(self.action or "", "no change")
        return f"pharmacogenomics: {what} ({why})"

    def as_dict(self) -> dict[str, object]:
        g = self.genotype
        return {
            "drug": self.drug,
            "gene": self.gene,
            "option": self.option,
            "guideline": self.guideline,
            "version": self.version,
            "tested": self.tested,
            "genotype": g.given if g else None,
            "activity_score": g.activity_score if g else None,
            "phenotype": g.phenotype if g else None,
            "decided_by": self.decided_by,
            "action": self.action,
            "percent": self.percent,
            "dose_at_most": self.dose_at_most,
            "text": self.text,
            "strength": self.strength,
            "alternative": self.alternative,
            "fallback": self.fallback,
            "caveats": list(self.caveats),
            "source": self.source,
            "verified": self.verified,
            "note": self.note,
        }

    def adjustment(self) -> dict[str, object] | None:
        """What the genotype did to one administration (JSON), None when it did nothing."""
        if self.action in (None, "no_change") or (
            self.action == "dose_at_most" and self.percent is None
        ):
            return None
        g = self.genotype
        assert g is not None
        return {
            "gene": self.gene,
            "genotype": g.given,
            "activity_score": g.activity_score,
            "phenotype": g.phenotype,
            "option": self.option,
            "guideline": self.guideline,
            "version": self.version,
            "action": self.action,
            "percent": self.percent,
            "applied": self.percent is not None,
            "source": self.source,
            "verified": self.verified,
        }


def assess(
    drug: str,
    genotypes: Mapping[str, Genotype],
    options: Mapping[str, str] | None = None,
    protocol: Any = None,
    data: PgxBook | None = None,
) -> Assessment | None:
    """The pharmacogenomic assessment of ``drug`` (None: the data has no rule for it).

    ``protocol`` is the order's per-day DoseSpec: it turns a ``dose_at_most`` band into a
    percentage (only for doses per m²)."""
    data = data or book()
    chosen = data.option(drug, dict(options or {}))
    if chosen is None:
        return None
    name, option = chosen
    gene = data.entries[drug]["gene"]
    g = genotypes.get(gene)
    head = (drug, gene, name, option["guideline"], option["version"], g)
    if g is None:
        return Assessment(*head, None, None, "no genotype given", None, None, None, None, None,
                          (), None, "", "", True, None)  # fmt: skip
    decided_by, band = _decide(data, gene, option, g)
    action = next(a for a in ("no_change", "percent", "dose_at_most", "avoid",
                              "no_recommendation") if band.get(a) is not None)  # fmt: skip
    percent = band.get("percent")
    if action == "dose_at_most":
        from dosecalc.clinical.organ import percent_of

        percent = percent_of(band["dose_at_most"], protocol)
    caveats = tuple(
        f"{c['text']} (source: {data.cite(c['source'])})"
        for c in option.get("genotype_caveats") or []
        if g.alleles is not None and sorted(c["diplotype"].split("/")) == sorted(g.alleles)
    )
    titration = option.get("titration")
    return Assessment(
        *head,
        action,
        None if percent is None else float(percent),
        decided_by,
        band.get("text"),
        band.get("strength"),
        band.get("alternative"),
        band.get("fallback"),
        band.get("dose_at_most"),
        caveats,
        titration["text"] if titration else None,
        data.cite(band["source"]),
        band["source"],
        bool(band["verified"]),
        band.get("note"),
    )


def _decide(
    data: PgxBook, gene: str, option: dict[str, Any], g: Genotype
) -> tuple[str, dict[str, Any]]:
    """(what decided, the band or rule that applies) for one genotype under one option."""
    scope = option.get("scope")
    if scope is not None and g.alleles is not None and g.functions is not None:
        # DPWG: its variants only, and two different variants call for a DPD phenotype test
        same = {
            data.allele(gene, v)["name"]: data.allele(gene, p["counts_as"])["name"]  # type: ignore[index]
            for p in data.genes[gene].get("same_haplotype") or []
            for v in p["variants"]
        }
        inside = {same.get(v, v) for v in scope["variants"]}
        variants = [a for a, f in zip(g.alleles, g.functions, strict=True) if f != "normal"]
        outside = [v for v in variants if same.get(v, v) not in inside]
        if outside:
            return f"{outside[0]} is outside the guideline's variants", option["outside_scope"]
        if len({same.get(v, v) for v in variants}) == 2:
            return (
                f"two different variants ({' and '.join(variants)})",
                option["two_different_variants"],
            )
    if option["key"] == "activity_score":
        score = g.activity_score
        assert score is not None
        band = next(b for b in option["bands"] if math.isclose(float(b["activity_score"]), score))
        return f"activity score {fmt(score)}", band
    bands = [b for b in option["bands"] if b["phenotype"] == g.phenotype]
    if g.alleles is not None:
        mine = sorted(g.alleles)
        for b in bands:
            if any(sorted(d.split("/")) == mine for d in b.get("diplotypes") or []):
                return f"phenotype {g.phenotype} ({'/'.join(g.alleles)})", b
    plain = next(b for b in bands if not b.get("diplotypes"))
    return f"phenotype {g.phenotype}", plain


# ---------------------------------------------------------------- warnings


def alerts(
    a: Assessment,
    policy: Any,
    standard: float | None = None,
    adjusted: float | None = None,
    unit: str = "mg",
    where: dict[str, Any] | None = None,
    data: PgxBook | None = None,
) -> list[Any]:
    """The warnings of one assessment: PGX_DOSE_ADJUSTMENT (warning), PGX_CONTRAINDICATION and
    PGX_NO_RECOMMENDATION (critical), PGX_NOT_TESTED (severity by policy)."""
    from dosecalc.base.alerts import CRITICAL, WARNING, Alert

    where = {"drug": a.drug, **(where or {})}
    g = a.genotype
    if g is None:
        return [_not_tested(a, policy, where, data or book())]
    said = f' ("{a.text}")' if a.text else ""
    strength = f", strength {a.strength}" if a.strength else ""
    doubt = "" if a.verified else f" [unverified: {a.note}]"
    tail = f"; source: {a.source}, option {a.option} (policy pgx.options){doubt}"
    cited = f"{a.guideline}, {a.short_version}{strength}{said}"
    more = "".join(f"; {x}" for x in (*a.caveats, g.note) if x)
    if a.action == "avoid":
        fallback = (
            f" Only if the prescriber decides the alternatives are not suitable: {a.fallback}"
            if a.fallback
            else ""
        )
        message = (
            f"{a.drug}: {g.describe()}: avoid {a.drug} ({cited}). Alternative: "
            f"{a.alternative}{fallback} The dose shown is the standard dose: do not give it "
            f"as planned{more}{tail}"
        )
        return [Alert(CRITICAL, "PGX_CONTRAINDICATION", message, **where)]
    if a.action == "no_recommendation":
        message = (
            f"{a.drug}: {g.describe()}, {a.decided_by}: {a.guideline} gives no dose from the "
            f"genotype alone{said}; decide with the prescriber before giving {a.drug} (the dose "
            f"shown is the standard dose){more}{tail}"
        )
        return [Alert(CRITICAL, "PGX_NO_RECOMMENDATION", message, **where)]
    if a.percent is None:
        return []  # no change: the trace and the JSON say what was read
    what = f"{fmt(a.percent)} % of the standard starting dose"
    if a.dose_at_most:
        what = f"at most {a.dose_at_most} = {what}"
    if standard is not None and adjusted is not None:
        what += f": {fmt(standard)} → {fmt(adjusted)} {unit}"
    titrate = f". Then: {a.titration.rstrip('.')}" if a.titration else ""
    message = f"{a.drug}: {g.describe()} → {what}, applied ({cited}){titrate}{more}{tail}"
    return [Alert(WARNING, "PGX_DOSE_ADJUSTMENT", message, **where)]


def _not_tested(a: Assessment, policy: Any, where: dict[str, Any], data: PgxBook) -> Any:
    from dosecalc.base.alerts import INFO, Alert

    found = data.not_tested(a.drug)
    assert found is not None  # the loader checks that every drug has one
    entry, info_only = found
    ask = f"give --genotype {a.gene}=A/B, or genotype: in an order's patient block"
    if info_only:
        message = (
            f"{a.drug}: no {a.gene} genotype given; {a.guideline} sets the starting dose by "
            f"{a.gene} genotype where it is known ({ask}); no source read requires a test "
            f"before {a.drug}"
        )
        return Alert(INFO, "PGX_NOT_TESTED", message, **where)
    key = "pgx.not_tested_severity"
    message = (
        f"{a.drug}: {entry['message'].format(drug=a.drug)} Without it the dose is the "
        f"standard dose ({ask}; {policy.short(key)})"
    )
    return Alert(policy[key], "PGX_NOT_TESTED", message, **where)


def as_list(assessments: Iterable[Assessment]) -> list[dict[str, object]]:
    """Per drug with pharmacogenomic data: the option, the genotype read and the action."""
    out: list[dict[str, object]] = []
    seen: set[tuple[str, str | None, float | None]] = set()
    for a in assessments:
        key = (a.drug, a.action, a.percent)
        if key not in seen:
            seen.add(key)
            out.append(a.as_dict())
    return out
