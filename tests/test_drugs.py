"""Drug names: synonyms from real orders resolve exactly; anything else is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dosecalc.data import drugs
from dosecalc.data.regimen import parse_dose

ABBREVIATIONS = {  # issue 2 and seed-case.md: abbreviations used in real orders and exports
    "DDP": "cisplatin",
    "CDDP": "cisplatin",
    "EPI": "epirubicin",
    "IFO": "ifosfamide",
    "ADM": "doxorubicin",
    "DOX": "doxorubicin",
    "CTX": "cyclophosphamide",
    "VCR": "vincristine",
    "HD-MTX": "methotrexate",
    "5-FU": "fluorouracil",
    "5FU": "fluorouracil",
    "5 fu": "fluorouracil",
    "L-OHP": "oxaliplatin",
    "CBP": "carboplatin",
    "Adriamycin": "doxorubicin",
    "Doxil": "liposomal doxorubicin",
    "calcium folinate": "leucovorin",
    "VP-16": "etoposide",
}


@pytest.mark.parametrize(("text", "name"), ABBREVIATIONS.items())
def test_abbreviations_resolve_to_the_canonical_generic_name(text: str, name: str) -> None:
    assert drugs.lookup(text).name == name


def test_liposomal_doxorubicin_never_shares_a_name_with_doxorubicin() -> None:
    lipo = drugs.lookup("liposomal doxorubicin")
    conventional = drugs.lookup("doxorubicin")
    assert lipo.name != conventional.name
    assert not {drugs.fold(s) for s in lipo.synonyms} & {
        drugs.fold(s) for s in conventional.synonyms
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "TAX",
            "'TAX' is ambiguous: real orders use it for paclitaxel and docetaxel; write the "
            "generic name",
        ),
        ("DEX", "'DEX' is ambiguous: real orders use it for dexamethasone and dexrazoxane"),
        ("doxorubicine", "'doxorubicine' is not a drug dosecalc knows; did you mean doxorubicin?"),
        ("XYZ", "'XYZ' is not a drug dosecalc knows"),
    ],
)
def test_ambiguous_and_unknown_names_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        drugs.lookup(text)
    assert str(e.value).startswith(message)


def test_the_data_file_is_strict_yaml_and_every_name_is_canonical() -> None:
    # loaded through the same strict loader as regimens: no duplicate keys, no aliases
    book = drugs.load(drugs.DATA)
    assert len(book.drugs) >= 80
    for d in book.drugs.values():
        assert re.fullmatch(r"[a-z0-9][a-z0-9 -]*", d.name)
        assert d.dose_unit in ("mg", "units")


def test_every_single_dose_guard_parses_and_cites_a_source() -> None:
    for d in drugs.book().drugs.values():
        guard = d.max_single_dose
        if guard is None:
            continue
        spec = parse_dose(guard.dose)
        assert spec.unit == d.dose_unit, d.name
        assert len(guard.source) > 15, d.name
        if guard.bolus is not None:  # a bolus guard: the same basis and unit, and lower
            bolus = parse_dose(guard.bolus.dose)
            assert (bolus.basis, bolus.unit) == (spec.basis, spec.unit), d.name
            assert bolus.amount < spec.amount, d.name
            assert len(guard.bolus.source) > 15, d.name
        if guard.per_m2 is not None:  # a usual maximum per m² beside an absolute guard
            per_m2 = parse_dose(guard.per_m2.dose)
            assert (spec.basis, per_m2.basis, per_m2.unit) == ("flat", "bsa", spec.unit), d.name
            assert len(guard.per_m2.source) > 15, d.name


def test_the_library_drugs_are_all_known() -> None:
    root = Path(__file__).resolve().parent.parent / "regimens"
    for path in root.glob("*.yaml"):
        for name in re.findall(r"^\s*- drug: (.+)$", path.read_text(), re.M):
            assert name.strip() in drugs.book(), (path.name, name)


def test_the_fast_loader_reads_the_packaged_data_as_the_strict_one_does() -> None:
    from dosecalc.data import ceilings

    assert drugs.load(trusted=True).drugs == drugs.load().drugs
    assert ceilings.load(trusted=True).data == ceilings.load().data
