"""Laboratory values, organ-function bands and lab gates (issue 17, CONTRACT §10).

Band boundaries are pinned to the words of their source: the value at each edge and just past
it. Conversions are pinned to the molar masses and definitions named in dosecalc/clinical/labs.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dosecalc.base.errors import DosecalcError, FileError
from dosecalc.clinical import labs as lb
from dosecalc.clinical import organ, renal
from dosecalc.clinical.patient import build_patient
from dosecalc.clinical.plan import make_plan
from dosecalc.data import labs as lab_data
from dosecalc.data import organ as organ_data
from dosecalc.data import regimen as rg
from dosecalc.inputs import labs as lab_input
from dosecalc.inputs.policy import load as load_policy
from tests.conftest import schema, write

TODAY = date(2026, 11, 30)
POLICY = load_policy()


def value(name: str, text: str) -> float:
    return lab_data.parse_value(name, text)[0]


# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.2x10^9/L", 1.2),
        ("1.2 ×10⁹/L", 1.2),
        ("1.2x10**9/L", 1.2),
        ("1200/uL", 1.2),
        ("1200/µL", 1.2),
        ("1200 cells/uL", 1.2),
        ("1200/mm3", 1.2),
        ("1.2/nL", 1.2),
        ("1.2G/L", 1.2),
        ("1.2K/uL", 1.2),
        ("1.2x10^3/uL", 1.2),
    ],
)
def test_counts_are_kept_in_10_9_per_litre(text: str, expected: float) -> None:
    # 1 /uL = 10^6 /L = 0.001 x10^9/L; 1 /nL = 10^9 /L; G/L = giga per litre
    assert value("anc", text) == pytest.approx(expected)


def test_bilirubin_and_creatinine_molar_units() -> None:
    # the factors laboratories print (AMA SI conversion table): bilirubin 17.1 umol/L and
    # creatinine 88.4 umol/L = 1 mg/dL, exactly, so a value on a band's edge stays on it
    assert value("bilirubin", "17.1umol/L") == pytest.approx(1.0, rel=1e-12)
    assert value("bilirubin", "20.52umol/L") == pytest.approx(1.2, rel=1e-12)
    assert value("bilirubin", "36 µmol/L") == pytest.approx(36 / 17.1)
    assert value("bilirubin", "2.0mg/dL") == 2.0
    assert value("bilirubin", "20mg/L") == pytest.approx(2.0)
    assert value("scr", "88.4umol/L") == pytest.approx(1.0, rel=1e-12)
    assert value("scr", "0.106mmol/L") == pytest.approx(106 / 88.4)
    # in capitals (a laboratory export) as any unit is: refused as 'a molar concentration, not
    # a mass concentration' while the lower-case one was read
    assert value("scr", "88.4UMOL/L") == pytest.approx(1.0, rel=1e-12)
    assert value("bilirubin", "17.1 UMOL/L") == pytest.approx(1.0, rel=1e-12)


def test_enzymes_in_u_per_litre_katal_or_times_uln() -> None:
    # U = umol/min and kat = mol/s (SI), so 1 ukat/L = 60 U/L
    assert value("ast", "80U/L") == 80
    assert value("ast", "80 IU/L") == 80
    assert value("alt", "1ukat/L") == pytest.approx(60)
    assert value("alt", "500nkat/L") == pytest.approx(30)
    assert lab_data.parse_value("ast", "2.5xULN") == (2.5, "xULN")
    assert lab_data.parse_value("ast", "2.5 × ULN") == (2.5, "xULN")
    assert lab_data.parse_value("bilirubin", "1.5xULN") == (1.5, "xULN")


def test_u_alone_stays_refused_as_a_dose_unit() -> None:
    from dosecalc.data.regimen import parse_dose

    with pytest.raises(ValueError, match="ISMP"):
        parse_dose("15 U")
    assert value("ast", "80U/L") == 80  # ... while U/L is an enzyme activity


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("anc", "1.2", "has no unit"),
        ("anc", "1.2mg/dL", "is not a count per volume"),
        ("anc", "1200x10^9/L", "between 0 and 100"),
        ("anc", "-1x10^9/L", "between 0 and 100"),
        ("platelets", "4000x10^9/L", "between 0 and 3,000"),
        ("ast", "80U", "is not an enzyme activity"),
        ("ast", "80 U/kg", "is not an enzyme activity"),
        ("scr", "30mg/dL", "between 0.1 and 25"),
        ("crcl", "60mL/min/1.73m2", "normalised to 1.73"),
        ("bilirubin", "2 g/m2", "not a mass concentration"),
        ("hb", "12mmol", "not"),
        ("anc", "1,2x10^9/L", "comma"),
        ("anc", "nanx10^9/L", "does not start with a number"),
    ],
)
def test_implausible_or_malformed_values_are_refused(name: str, text: str, words: str) -> None:
    with pytest.raises(DosecalcError) as e:
        lab_data.parse_value(name, text)
    assert words in str(e.value)


def test_unknown_lab_is_refused_with_the_names_known() -> None:
    with pytest.raises(DosecalcError) as e:
        lab_input.parse_lab("wbc=1.5x10^9/L")
    assert "anc, platelets, hb, bilirubin" in str(e.value)


@pytest.mark.parametrize(
    "text, words",
    [
        ("anc", "NAME=VALUE"),
        ("anc=", "NAME=VALUE"),
        ("anc=1.2x10^9/L@2026-13-01", "not a date"),
        ("anc=1.2x10^9/L@20261128", "not a date"),
        ("anc=1.2x10^9/L@2026-12-01", "in the future"),
    ],
)
def test_lab_option_format(text: str, words: str) -> None:
    with pytest.raises(DosecalcError) as e:
        lab_input.parse_lab(text, TODAY)
    assert words in str(e.value)


def test_conflicting_values_and_mixed_dating_are_refused() -> None:
    with pytest.raises(DosecalcError, match="two different anc values"):
        lab_input.collect(["anc=1.2x10^9/L@2026-11-28", "anc=1.5x10^9/L@2026-11-28"], today=TODAY)
    with pytest.raises(DosecalcError, match="some anc values have a date"):
        lab_input.collect(["anc=1.2x10^9/L@2026-11-28", "anc=1.5x10^9/L"], today=TODAY)
    same = lab_input.collect(["anc=1.2x10^9/L@2026-11-28", "anc=1200/uL@2026-11-28"], today=TODAY)
    assert len(same.values) == 1  # one result, given twice in two notations


def test_scr_given_twice_must_agree() -> None:
    labs = lab_input.collect(["scr=88.4umol/L"])
    assert lb.reconcile_scr(None, labs) == pytest.approx(1.0, rel=1e-3)
    assert lb.reconcile_scr(labs.values[0].value, labs) == labs.values[0].value
    with pytest.raises(DosecalcError, match="give one creatinine"):
        lb.reconcile_scr(1.4, labs)


# ---------------------------------------------------------------- lab files


def test_lab_file_reports_every_bad_row_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "labs.csv",
        "date,name,value,unit\n"
        "2026-11-28,anc,1.2,x10^9/L\n"
        "2026-11-28,xyz,1,mg/dL\n"
        "28/11/2026,anc,1.2,x10^9/L\n"
        "2026-11-28,ast,80,U\n"
        "2026-11-28,platelets,1,2,x10^9/L\n"
        ",bilirubin,2,mg/dL\n",
    )
    with pytest.raises(FileError) as e:
        lab_input.read_file(path, TODAY)
    lines = [(p.line, p.message) for p in e.value.problems]
    assert [n for n, _ in lines] == [3, 4, 5, 6, 7]
    assert all(p.file == str(path) for p in e.value.problems)
    assert "is not a laboratory test" in lines[0][1]
    assert "not a date" in lines[1][1]
    assert "not an enzyme activity" in lines[2][1]
    assert "5 fields" in lines[3][1]
    assert "sample date" in lines[4][1]


def test_lab_file_header_and_values(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="unknown column"):
        lab_input.read_file(write(tmp_path, "a.csv", "date,name,value,unit,patient\n"), TODAY)
    with pytest.raises(FileError, match="empty"):
        lab_input.read_file(write(tmp_path, "b.csv", "\n\n"), TODAY)
    good = write(
        tmp_path,
        "c.csv",
        "\ufeffDate,Name,Value,Unit\r\n2026-11-27,bilirubin,36,umol/L\r\n2026-11-29,anc,1.5,G/L\r\n",
    )
    values = lab_input.collect(files=[good], today=TODAY)
    assert [v.name for v in values.values] == ["bilirubin", "anc"]
    assert values.latest("bilirubin").value == pytest.approx(36 / 17.1)
    assert values.latest("anc").where == "c.csv:3"


# ---------------------------------------------------------------- the data file


def test_packaged_organ_data_loads_with_the_strict_loader() -> None:
    book = organ_data.load()  # the file:line loader, not the fast path
    assert len(book.entries) >= 21


def test_every_band_has_a_source_and_a_verified_mark() -> None:
    data = yaml.safe_load(organ_data.DATA.read_text())
    bands = [
        (d["drug"], name, b)
        for d in data["drugs"]
        for name, o in (d.get("options") or {}).items()
        for r in o["rules"]
        for b in r["bands"]
    ]
    assert len(bands) > 50
    # a drug without bands for an organ says so, with its source (issue 30)
    bands += [
        (d["drug"], "no data", g) for d in data["drugs"] for g in d.get("no_adjustment_data", [])
    ]
    for drug, option, b in bands:
        assert b["source"] in data["sources"], (drug, option, b)
        assert isinstance(b["verified"], bool), (drug, option, b)
        if not b["verified"]:
            assert b.get("note"), (drug, option, "an unverified band says what was not checked")


REQUIRED = {
    # renal
    "capecitabine", "cisplatin", "carboplatin", "ifosfamide", "methotrexate", "etoposide",
    "oxaliplatin", "pemetrexed", "bleomycin", "fludarabine", "topotecan",
    # hepatic
    "doxorubicin", "epirubicin", "daunorubicin", "idarubicin", "docetaxel", "paclitaxel",
    "cabazitaxel", "vincristine", "vinblastine", "irinotecan",
}  # fmt: skip


def test_the_required_drugs_are_covered() -> None:
    assert REQUIRED <= set(organ_data.book().entries)


def _load_text(tmp_path: Path, text: str) -> organ_data.OrganBook:
    return organ_data.load(write(tmp_path, "organ.yaml", text))


BASE = """version: 2
kidney_estimates:
  cockcroft-gault: {unit: mL/min, formula: "CG", source: s}
  schwartz-bedside: {unit: mL/min/1.73m2, formula: "0.413 x h / SCr", source: s}
child_kidney_estimate:
  {estimate: schwartz-bedside, below_age_years: 18, policy: organ.kidney_estimate_child, source: s}
sources:
  s: {cite: "a source", text: "its words"}
drugs:
  - drug: capecitabine
    default: a
    why_default: "x"
    options:
      a:
        rules:
          - lab: kidney
            estimate: cockcroft-gault
            estimate_source: s
            unit: mL/min
            bands:
"""


@pytest.mark.parametrize(
    "bands, words",
    [
        (
            "              - {at_least: 30, at_most: 50, percent: 75, source: s, verified: true}\n"
            "              - {at_most: 30, avoid: true, source: s, verified: true}\n",
            "overlap",
        ),
        (
            "              - {at_least: 30, percent: 75, avoid: true, source: s, verified: true}\n",
            "exactly one action",
        ),
        ("              - {percent: 75, source: s, verified: true}\n", "needs a bound"),
        (
            "              - {at_least: 30, above: 29, percent: 75, source: s, verified: true}\n",
            "not both",
        ),
        (
            "              - {below: 30, percent: 75, source: nowhere, verified: true}\n",
            "not defined",
        ),
        ("              - {below: 30, percent: 75, source: s, verified: false}\n", "needs a note"),
        ("              - {below: 30, percent: 150, source: s, verified: true}\n", "less than 100"),
        (
            "              - {below: 30, dose_at_most: '20 mg', source: s, verified: true}\n",
            "per m²",
        ),
    ],
)
def test_the_data_file_is_validated_on_load(tmp_path: Path, bands: str, words: str) -> None:
    with pytest.raises(FileError) as e:
        _load_text(tmp_path, BASE + bands)
    assert words in str(e.value)
    assert all(p.line for p in e.value.problems)


def test_touching_bands_are_not_an_overlap(tmp_path: Path) -> None:
    """Bands that share an edge load, and the edge belongs to exactly one of them."""
    book = _load_text(
        tmp_path,
        BASE
        + "              - {at_least: 30, at_most: 50, percent: 75, source: s, verified: true}\n"
        "              - {below: 30, avoid: true, source: s, verified: true}\n",
    )
    _, option = book.option("capecitabine")  # type: ignore[misc]
    upper, lower = option["rules"][0]["bands"]
    for value, holds in ((30.0, upper), (29.999, lower), (50.0, upper)):
        assert [organ_data.contains(b, value) for b in (upper, lower)] == [
            holds is upper,
            holds is lower,
        ]
    assert not any(organ_data.contains(b, 50.001) for b in (upper, lower))


# ---------------------------------------------------------------- bands at their edges


def values_with(labs: list[str] = (), crcl: float | None = None) -> organ.Values:
    given = lab_input.collect([*labs, *([f"crcl={crcl!r}mL/min"] if crcl is not None else [])])
    patient = build_patient(bsa="1.8", require_bsa=False)
    return organ.values_for(patient, given, POLICY)


def percent(
    drug: str,
    labs: list[str] = (),
    crcl: float | None = None,
    dose: str = "",
    allow_unverified: bool = True,
) -> Any:
    """The band's percent (unverified bands allowed unless said: the data is what is tested)."""
    spec = rg.parse_dose(dose) if dose else None
    a = organ.assess(
        drug, values_with(labs, crcl), protocol=spec, allow_unverified=allow_unverified
    )
    assert a is not None
    return "avoid" if a.avoid else ("no data" if a.no_recommendation else a.percent)


@pytest.mark.parametrize(
    "bilirubin, expected",
    [
        # Epirubicin US label: 'Bilirubin 1.2 to 3 mg/dL ... 1/2 of recommended starting dose;
        # Bilirubin > 3 mg/dL ... 1/4 of recommended starting dose'
        ("1.19mg/dL", None),
        ("1.2mg/dL", 50),
        ("2.0mg/dL", 50),
        ("3mg/dL", 50),
        ("3.01mg/dL", 25),
        ("51.3umol/L", 50),  # 3.0 mg/dL in SI units
    ],
)
def test_epirubicin_bilirubin_bands(bilirubin: str, expected: float | None) -> None:
    assert percent("epirubicin", [f"bilirubin={bilirubin}"]) == expected


def test_epirubicin_ast_bands_in_times_uln() -> None:
    # same label: 'AST 2 to 4 times upper limit of normal: 1/2'; '> 4 times: 1/4'
    assert percent("epirubicin", ["ast=1.99xULN"]) is None
    assert percent("epirubicin", ["ast=2xULN"]) == 50
    assert percent("epirubicin", ["ast=4xULN"]) == 50
    assert percent("epirubicin", ["ast=4.01xULN"]) == 25
    # in U/L with the policy ULN (labs.uln.ast_u_l = 48, Mayo Clinic): 96 U/L = 2 x ULN
    assert percent("epirubicin", ["ast=96U/L"]) == 50
    assert percent("epirubicin", ["ast=95U/L"]) is None
    # the lowest dose wins when both labs fall in bands
    assert percent("epirubicin", ["bilirubin=2mg/dL", "ast=5xULN"]) == 25


@pytest.mark.parametrize(
    "crcl, expected",
    [
        # Capecitabine US label 2.4 / 4.1: 'creatinine clearance = 30 to 50 mL/min ... 75% of
        # the starting dose'; 'contraindicated ... below 30 mL/min'; mild '51 to 80': none
        (29.99, "avoid"),
        (30.0, 75),
        (50.0, 75),
        (50.5, 75),  # the label's 50-51 gap, closed conservatively
        (51.0, None),
    ],
)
def test_capecitabine_creatinine_clearance_bands(crcl: float, expected: object) -> None:
    assert percent("capecitabine", crcl=crcl) == expected


def test_other_label_edges() -> None:
    # pemetrexed US label: 'Do not administer ... if the creatinine clearance is less than 45'
    assert percent("pemetrexed", crcl=45.0) is None
    assert percent("pemetrexed", crcl=44.99) == "avoid"
    # doxorubicin US label 2.4: 1.2-3 mg/dL 50 % reduction, 3.1-5 mg/dL 75 %, > 5 contraindicated
    assert percent("doxorubicin", ["bilirubin=1.2mg/dL"]) == 50
    assert percent("doxorubicin", ["bilirubin=3.05mg/dL"]) == 25
    assert percent("doxorubicin", ["bilirubin=5mg/dL"]) == 25
    assert percent("doxorubicin", ["bilirubin=5.01mg/dL"]) == "avoid"
    # vincristine US label: '50% reduction ... direct serum bilirubin value above 3 mg/100 mL'
    assert percent("vincristine", ["direct_bilirubin=3mg/dL"]) is None
    assert percent("vincristine", ["direct_bilirubin=3.01mg/dL"]) == 50
    # etoposide EU SmPC: 15-50 mL/min 25 % reduction; German SmPC: contraindicated below 15
    assert percent("etoposide", crcl=50.0) == 75
    assert percent("etoposide", crcl=50.01) is None
    assert percent("etoposide", crcl=14.99) == "avoid"
    # oxaliplatin EU SmPC 4.3: contraindicated below 30 mL/min
    assert percent("oxaliplatin", crcl=30.0) is None
    assert percent("oxaliplatin", crcl=29.9) == "avoid"
    # carboplatin US label: below 15 mL/min no recommendation
    assert percent("carboplatin", crcl=14.9) == "no data"


def test_dose_at_most_bands_depend_on_the_protocol_dose() -> None:
    # cabazitaxel label: bilirubin > 1 to 1.5 x ULN: at most 20 mg/m2; > 3 x ULN contraindicated
    assert percent("cabazitaxel", ["bilirubin=1.5xULN"], dose="25 mg/m2") == pytest.approx(80)
    assert percent("cabazitaxel", ["bilirubin=1.5xULN"], dose="20 mg/m2") is None
    assert percent("cabazitaxel", ["bilirubin=1xULN"], dose="25 mg/m2") is None
    assert percent("cabazitaxel", ["bilirubin=3.01xULN"], dose="25 mg/m2") == "avoid"
    # topotecan US label: Clcr 20 to 39 mL/min, single agent: 0.75 mg/m2
    assert percent("topotecan", crcl=39.0, dose="1.5 mg/m2") == pytest.approx(50)
    assert percent("topotecan", crcl=40.0, dose="1.5 mg/m2") is None


def test_docetaxel_needs_both_transaminase_and_alkaline_phosphatase() -> None:
    # docetaxel US label: 'AST and/or ALT > 1.5 x ULN concomitant with alkaline phosphatase
    # > 2.5 x ULN' -> avoid
    assert percent("docetaxel", ["ast=2xULN", "alp=2.5xULN"]) is None
    assert percent("docetaxel", ["ast=2xULN", "alp=2.6xULN"]) == "avoid"
    a = organ.assess("docetaxel", values_with(["ast=2xULN"]))
    assert any("alp" in m for m in a.missing)


def test_high_dose_methotrexate_rule_only_for_high_doses() -> None:
    assert percent("methotrexate", crcl=50.0, dose="12 g/m2") == "avoid"
    # issue 30: a low dose now has its own rule (50 % at CrCl 20-50, Cancer Manag Res 2017 as
    # the audit cites it, unverified); data version 1 said nothing below 500 mg/m2
    assert percent("methotrexate", crcl=50.0, dose="40 mg/m2") == 50
    assert percent("methotrexate", crcl=50.01, dose="40 mg/m2") is None
    # issue 29: that band is unverified, so it lowers nothing unless data.allow_unverified
    assert percent("methotrexate", crcl=50.0, dose="40 mg/m2", allow_unverified=False) is None


MTX_LOW = """\
id: mtx-low
name: low-dose methotrexate (fixture)
cycle_length_days: 7
sources: ["fixture"]
gates: []
drugs:
  - drug: methotrexate
    dose: 40 mg/m2
    days: 1
    route: IV
"""


def test_an_unverified_band_is_said_but_not_applied_unless_the_institution_allows_it(
    run, tmp_path: Path
) -> None:
    """Low-dose methotrexate at CrCl 40 mL/min falls in an unverified band (50 %): the plan
    reports it, says it is not applied, and keeps the dose; data.allow_unverified applies it."""
    args = ["plan", str(write(tmp_path, "mtx.yaml", MTX_LOW)), "--bsa", "1.8", "--lab", "crcl=40mL/min", "--adjust-organ",
            "--start", "2026-12-01", "--format", "json"]  # fmt: skip
    default = json.loads(run(*args).stdout)
    allowed = json.loads(run(*args, "--set", "data.allow_unverified=true").stdout)
    [kept] = [a["dose"] for a in default["administrations"] if a["drug"] == "methotrexate"]
    [lowered] = [a["dose"] for a in allowed["administrations"] if a["drug"] == "methotrexate"]
    assert lowered == pytest.approx(kept / 2)
    said = next(w for w in default["warnings"] if w["code"] == "ORGAN_FUNCTION_ADJUSTMENT")
    assert "not applied: this band is unverified" in said["message"]
    assert "data.allow_unverified" in said["message"]


def test_a_measured_clearance_wins_over_the_estimate() -> None:
    patient = build_patient("160cm", "60kg", age="70", sex="female", scr="1.2mg/dL")
    k = renal.kidney_function(patient, POLICY, measured=80.0)
    assert k.value("cockcroft-gault")[0] == 80.0
    assert k.cockcroft_gault_ml_min == pytest.approx(41.3, abs=0.05)


def test_ckd_epi_2021_worked_example() -> None:
    # National Kidney Foundation / creatinineclearancecalculator.net worked example: a
    # 55-year-old woman with SCr 0.9 mg/dL has an eGFR of 'about 76 mL/min/1.73m2'
    assert renal.ckd_epi_2021(0.9, 55, "female") == pytest.approx(75.5, abs=0.1)
    patient = build_patient("170cm", "70kg", age="55", sex="female", scr="0.9mg/dL")
    k = renal.kidney_function(patient, POLICY)
    assert k.ckd_epi_ml_min == pytest.approx(k.ckd_epi_ml_min_173 * patient.bsa_m2 / 1.73)


def test_kidney_function_for_a_child_is_not_estimated() -> None:
    child = build_patient("140cm", "35kg", age="12", sex="male", scr="2mg/dL")
    k = renal.kidney_function(child, POLICY)
    assert k.cockcroft_gault_ml_min is None and "adults" in k.cockcroft_gault_trace


# ---------------------------------------------------------------- properties

lab_texts = st.one_of(
    st.builds(lambda x: f"bilirubin={x}mg/dL", st.floats(0, 20)),
    st.builds(lambda x: f"direct_bilirubin={x}mg/dL", st.floats(0, 20)),
    st.builds(lambda x: f"ast={x}xULN", st.floats(0, 30)),
    st.builds(lambda x: f"alt={x}U/L", st.floats(0, 2000)),
    st.builds(lambda x: f"alp={x}xULN", st.floats(0, 30)),
    st.builds(lambda x: f"scr={x}mg/dL", st.floats(0.1, 25)),
    st.builds(lambda x: f"crcl={x}mL/min", st.floats(1, 250)),
)
protocols = st.sampled_from(
    ["ec", "fec-100", "ac", "carboplatin-paclitaxel", "mfolfox6", "abvd", "map", "dia"]
)


@settings(max_examples=60, deadline=None)
@given(protocols, st.lists(lab_texts, max_size=5, unique_by=lambda t: t.split("=")[0]))
def test_an_adjustment_never_raises_a_dose(regimen: str, texts: list[str]) -> None:
    labs = lab_input.collect(texts)
    patient = build_patient("170cm", "70kg", age="60", sex="female", scr="0.9mg/dL")
    if labs.latest("scr"):
        patient = replace(patient, scr_mg_dl=labs.latest("scr").value)
    r = rg.load(regimen)
    plain = make_plan(r, patient, start="2026-12-01", cycles=1, labs=labs)
    adjusted = make_plan(r, patient, start="2026-12-01", cycles=1, labs=labs, adjust_organ=True)
    for a, b in zip(plain.administrations, adjusted.administrations, strict=True):
        assert b.dose.dose <= a.dose.dose * (1 + 1e-12), (a.dose.drug, b.dose.trace)
        if b.dose.organ_percent is None and not b.dose.protocol.relative:
            assert b.dose.dose == a.dose.dose  # (mesna follows the ifosfamide it serves)


@settings(max_examples=30, deadline=None)
@given(protocols)
def test_adjust_organ_changes_nothing_when_no_band_applies(regimen: str) -> None:
    normal = lab_input.collect(
        ["bilirubin=0.5mg/dL", "direct_bilirubin=0.1mg/dL", "ast=20U/L", "alt=20U/L",
         "alp=80U/L", "crcl=100mL/min"]
    )  # fmt: skip
    patient = build_patient("170cm", "70kg", age="50", sex="male", scr="0.9mg/dL")
    r = rg.load(regimen)
    plain = make_plan(r, patient, start="2026-12-01", cycles=2, labs=normal)
    adjusted = make_plan(r, patient, start="2026-12-01", cycles=2, labs=normal, adjust_organ=True)
    assert [a.dose.dose for a in plain.administrations] == [
        a.dose.dose for a in adjusted.administrations
    ]
    assert not any(w.code.startswith("ORGAN_FUNCTION_A") for w in adjusted.warnings)


# ---------------------------------------------------------------- gates


def gate_alerts(texts: list[str], regimen: str = "ec", cycles: int = 4) -> list:
    plan = make_plan(
        rg.load(regimen),
        build_patient(bsa="1.8"),
        start="2026-12-01",
        cycles=cycles,
        labs=lab_input.collect(texts, today=TODAY),
    )
    return [w for w in plan.warnings if w.code.startswith("LAB_")]


def test_anc_below_the_gate_fails_cycle_1() -> None:
    # EC gate from the epirubicin label: ANC >= 1,500/mm3 and platelets >= 100,000/mm3
    found = gate_alerts(["anc=1.0x10^9/L@2026-11-29", "platelets=150x10^9/L@2026-11-29"])
    failed = [w for w in found if w.code == "LAB_GATE_FAILED"]
    assert len(failed) == 1 and failed[0].severity == "critical" and failed[0].cycle == 1
    assert "anc 1 ×10⁹/L (2026-11-29)" in failed[0].message
    assert "anc ≥ 1.5 ×10⁹/L" in failed[0].message and "delay" in failed[0].message
    pending = [w for w in found if w.code == "LAB_GATE_PENDING"]
    assert len(pending) == 1 and "cycles 2-4" in pending[0].message  # said once, not per cycle


def test_gate_edges_and_staleness() -> None:
    passed = gate_alerts(["anc=1.5x10^9/L@2026-11-28", "platelets=100G/L@2026-11-28"])
    assert not [w for w in passed if w.code in ("LAB_GATE_FAILED", "LAB_STALE")]
    old = gate_alerts(["anc=2x10^9/L@2026-11-20", "platelets=200G/L@2026-11-28"])
    stale = [w for w in old if w.code == "LAB_STALE"]
    assert len(stale) == 1 and stale[0].severity == "warning" and "11 days" in stale[0].message


def test_an_undated_count_is_judged_but_its_age_is_said_unknown() -> None:
    found = gate_alerts(["anc=2x10^9/L", "platelets=200G/L@2026-11-28"])
    undated = [w for w in found if w.code == "LAB_UNDATED"]
    assert len(undated) == 1 and undated[0].severity == "warning" and undated[0].cycle == 1
    assert "anc" in undated[0].message and "--lab anc=VALUE@YYYY-MM-DD" in undated[0].message
    assert not [w for w in found if w.code == "LAB_GATE_FAILED"]
    # an undated count that fails the gate still fails it
    found = gate_alerts(["anc=0.5x10^9/L", "platelets=200G/L@2026-11-28"])
    assert {"LAB_GATE_FAILED", "LAB_UNDATED"} <= {w.code for w in found}


def test_values_dated_for_later_cycles_check_those_cycles() -> None:
    found = gate_alerts(
        ["anc=2x10^9/L@2026-11-28", "anc=0.9x10^9/L@2026-11-30",  # noqa: ISC001
         "platelets=200G/L@2026-11-29"],
        cycles=1,
    )  # fmt: skip
    failed = [w for w in found if w.code == "LAB_GATE_FAILED"]
    assert len(failed) == 1 and "0.9" in failed[0].message  # the latest before day 1


def test_a_gate_without_values_says_it_was_not_checked() -> None:
    found = gate_alerts([])
    assert {w.code for w in found} == {"LAB_GATE_NOT_CHECKED"}
    # issue 30: an ANC or platelet count not given before a gated (myelosuppressive) cycle is a
    # warning, no longer a notice
    assert all(w.severity == "warning" for w in found)
    assert all(
        "myelosuppressive cycle is not started without the count" in w.message for w in found
    )


def test_gates_are_validated_in_regimen_files(tmp_path: Path, run) -> None:
    text = (
        (rg.library_dir() / "ec.yaml")
        .read_text()
        .replace("\ndrugs:", "\n  - lab: wbc\n    at_least: 1.5\n    otherwise: wait\ndrugs:")
    )
    path = write(tmp_path, "bad.yaml", text.replace("id: ec", "id: bad"))
    r = run("regimens", "validate", str(path))
    assert r.returncode == 2
    assert "gates[2].lab" in r.stderr and "is not a laboratory test" in r.stderr
    assert "gates[2].otherwise" in r.stderr


# ---------------------------------------------------------------- the command line

EC = ["plan", "ec", "--bsa", "1.8", "--start", "2026-12-01", "--format", "json"]


def test_done_when_epirubicin_bilirubin_band(run) -> None:
    r = run("plan", "ec", "--bsa", "1.8", "--lab", "bilirubin=2.0mg/dL", "--start", "2026-12-01")
    assert r.returncode == 1
    assert "ORGAN_FUNCTION_ADJUSTMENT" in r.stdout and "50 %" in r.stdout
    plain = json.loads(run(*EC, "--lab", "bilirubin=2.0mg/dL").stdout)
    done = json.loads(run(*EC, "--lab", "bilirubin=2.0mg/dL", "--adjust-organ").stdout)
    jsonschema.validate(done, schema("plan-output"))
    for a, b in zip(plain["administrations"], done["administrations"], strict=True):
        if a["drug"] == "epirubicin":
            assert b["dose"] == pytest.approx(a["dose"] / 2)
            assert b["organ_percent"] == 50
            assert any(line.startswith("organ function: 50 %") for line in b["trace"])
        else:
            assert b == a  # nothing else changes
    [finding] = done["organ_function"][0]["findings"]
    assert finding["band"] == "bilirubin ≥ 1.2 and ≤ 3 mg/dL" and finding["verified"]
    assert done["labs"][0]["value"] == 2.0 and done["labs"][0]["unit"] == "mg/dL"


def test_the_trace_keeps_the_order_of_operations(run) -> None:
    r = run(
        "plan", "r-chop-21", "--bsa", "3.5", "--start", "2026-12-01",
        "--lab", "direct_bilirubin=4mg/dL", "--adjust-organ", "--reduce", "vincristine=10%",
        "--reason", "neuropathy", "--cycles", "1", "--format", "json",
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    [vcr] = [a for a in json.loads(r.stdout)["administrations"] if a["drug"] == "vincristine"]
    steps = [line.split(":")[0].split(" ")[0] for line in vcr["trace"]]
    # a reduction is of the dose that would be given: capped first (it was 4.9 mg x 50 % =
    # 2.45, - 10 % = 2.205, capped back to 2 mg: both reductions lost)
    assert steps == ["protocol", "×", "capped", "organ", "reduced", "dose"]
    # 1.4 mg/m2 x 3.5 m2 = 4.9 mg, capped at 2 mg; x 50 % (organ) = 1; - 10 % = 0.9
    assert vcr["calculated_dose"] == pytest.approx(4.9)
    assert vcr["standard_dose"] == 2.0
    assert vcr["modified_dose"] == pytest.approx(0.9)
    assert vcr["dose"] == pytest.approx(0.9)


def test_done_when_capecitabine_moderate_renal_impairment(run, tmp_path: Path) -> None:
    cape = write(
        tmp_path,
        "cape.yaml",
        "id: cape\nname: Capecitabine\ncycle_length_days: 21\ncycles: 1\n"
        "sources: ['capecitabine US label']\n"
        "drugs:\n  - {drug: capecitabine, dose: 1250 mg/m2, days: 1-14, route: PO}\n",
    )
    r = run(
        "plan", str(cape), "--height", "160cm", "--weight", "60kg", "--age", "70", "--sex",
        "female", "--scr", "1.2mg/dL", "--start", "2026-12-01", "--format", "json",
    )  # fmt: skip
    assert r.returncode == 1
    out = json.loads(r.stdout)
    jsonschema.validate(out, schema("plan-output"))
    [w] = [w for w in out["warnings"] if w["code"] == "ORGAN_FUNCTION_ADJUSTMENT"]
    assert "CrCl 41.3 mL/min" in w["message"] and "75 %" in w["message"]
    assert out["renal"]["cockcroft_gault_ml_min"] == pytest.approx(41.3, abs=0.05)
    assert out["renal"]["ckd_epi_2021_ml_min_per_1_73m2"] is not None


def test_carboplatin_gfr_below_the_calvert_range_is_critical(run) -> None:
    r = run(
        "plan", "carboplatin-paclitaxel", "--height", "175cm", "--weight", "70kg", "--age", "60",
        "--sex", "male", "--scr", "9mg/dL", "--start", "2026-12-01", "--cycles", "1",
        "--format", "json",
    )  # fmt: skip
    assert r.returncode == 1
    codes = {w["code"]: w for w in json.loads(r.stdout)["warnings"]}
    assert codes["GFR_BELOW_CALVERT_RANGE"]["severity"] == "critical"
    assert "33-135" in codes["GFR_BELOW_CALVERT_RANGE"]["message"]


@pytest.mark.parametrize(
    ("height", "weight", "age", "scr"), [("120cm", "25kg", "8", "0.5mg/dL"),
                                         ("50cm", "3kg", "0.2", "0.3mg/dL")]
)  # fmt: skip
def test_a_childs_carboplatin_is_never_dosed_by_cockcroft_gault(
    run, height: str, weight: str, age: str, scr: str
) -> None:
    """The adult formula gave an 8-year-old 452 mg and an infant 167 mg (55 mg/kg) with exit 0,
    while the same plan's kidney function said Cockcroft-Gault is not computed under 18."""
    args = ("plan", "carboplatin-paclitaxel", "--height", height, "--weight", weight, "--age",
            age, "--sex", "male", "--start", "2026-12-01", "--cycles", "1", "--format", "json")  # fmt: skip
    r = run(*args, "--scr", scr)
    assert r.returncode == 2 and r.stdout == ""
    assert "Cockcroft-Gault was derived in adults" in r.stderr and "--gfr-measured" in r.stderr
    r = run(*args, "--gfr", "90mL/min", "--gfr-measured")  # a measured GFR: Calvert as given
    assert r.returncode in (0, 1), r.stderr
    [carbo] = [a for a in json.loads(r.stdout)["administrations"] if a["drug"] == "carboplatin"]
    assert carbo["dose"] == pytest.approx(5 * (90 + 25))  # AUC 5 × (GFR 90 + 25)


def test_scr_and_lab_scr_must_agree(run) -> None:
    r = run(*EC, "--scr", "1mg/dL", "--lab", "scr=2mg/dL")
    assert r.returncode == 2 and "give one creatinine" in r.stderr and r.stdout == ""
    ok = run(*EC, "--scr", "1mg/dL", "--lab", "scr=88.42umol/L")
    assert ok.returncode in (0, 1), ok.stderr


def test_lab_file_on_the_command_line(run, tmp_path: Path) -> None:
    good = write(tmp_path, "l.csv", "date,name,value,unit\n2026-11-29,anc,1.0,x10^9/L\n")
    r = run(*EC, "--labs", str(good))
    assert r.returncode == 1
    assert any(w["code"] == "LAB_GATE_FAILED" for w in json.loads(r.stdout)["warnings"])
    bad = write(tmp_path, "b.csv", "date,name,value,unit\n2026-11-29,anc,1.0,x10^9\nx,y,z,w\n")
    r = run(*EC, "--labs", str(bad))
    assert r.returncode == 2 and "2 problems" in r.stderr
    assert f"{bad}:2:" in r.stderr and f"{bad}:3:" in r.stderr


def test_check_reports_labs_and_kidney_function(run, tmp_path: Path) -> None:
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2026-01-05,cisplatin,100,mg/m2\n")
    r = run(
        "check", "--history", str(history), "--next", "dia", "--bsa", "1.8", "--height", "175cm",
        "--weight", "70kg",
        "--age", "60", "--sex", "male", "--scr", "2mg/dL", "--format", "json",
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    jsonschema.validate(out, schema("check-output"))
    # (140 - 60) x 70 / (72 x 2) = 38.9 mL/min: cisplatin's 'GFR below 40: avoid' band
    assert out["renal"]["cockcroft_gault_ml_min"] == pytest.approx(38.9, abs=0.05)
    assert any(
        w["code"] == "ORGAN_FUNCTION_CONTRAINDICATION" and w["drug"] == "cisplatin"
        for w in out["warnings"]
    )


def test_the_table_header_shows_labs_and_kidney_function(run) -> None:
    r = run(
        "plan", "ec", "--height", "170cm", "--weight", "65kg", "--age", "50", "--sex", "female",
        "--scr", "0.8mg/dL", "--lab", "anc=2.1x10^9/L@2026-11-29", "--start", "2026-12-01",
    )  # fmt: skip
    assert "Labs: anc 2.1 ×10⁹/L (2026-11-29)" in r.stdout
    assert "Kidney: CrCl" in r.stdout and "CKD-EPI 2021" in r.stdout


def test_a_count_of_zero_in_the_labs_notation_is_read() -> None:
    """anc=0x10^9/L (a real count of zero) was refused as the hexadecimal number 0x10."""
    found = gate_alerts(["anc=0x10^9/L@2026-11-29", "platelets=150x10^9/L@2026-11-29"])
    [failed] = [w for w in found if w.code == "LAB_GATE_FAILED"]
    assert "anc 0 ×10⁹/L (2026-11-29)" in failed.message
    with pytest.raises(Exception, match="hexadecimal"):
        lab_input.collect(["anc=0x1F"], today=TODAY)


def test_a_value_just_below_a_gate_is_printed_below_it(cli) -> None:
    """1,499/µL and 74.95 ×10⁹/L fail the gates anc ≥ 1.5 and platelets ≥ 75: printed rounded
    ('anc 1.5', 'platelets 75') they read as meeting them, in the Labs line and in the warning."""
    code, out, _ = cli(
        "plan", "mfolfox6", "--bsa", "1.8", "--start", "2026-12-08", "--cycles", "1",
        "--lab", "anc=1499/uL@2026-12-07", "--lab", "platelets=74.95x10^9/L@2026-12-07",
    )  # fmt: skip
    assert code == 1
    said = " ".join(out.split())
    assert "Labs: anc 1.499 ×10⁹/L (2026-12-07), platelets 74.95 ×10⁹/L (2026-12-07)" in said
    assert "anc 1.499 ×10⁹/L (2026-12-07) fails the gate anc ≥ 1.5" in said
    assert "platelets 74.95 ×10⁹/L (2026-12-07) fails the gate platelets ≥ 75" in said


def test_a_childs_carboplatin_refuses_an_estimated_gfr_on_every_path(run, tmp_path: Path) -> None:
    """docs/labs.md: a child's Calvert dose needs a measured GFR; an estimated --gfr 110 (a
    child's eGFR per 1.73 m², typed as mL/min) gave a 6-year-old of 0.80 m² 675 mg, exit 0."""
    args = ("plan", "carboplatin-paclitaxel", "--height", "115cm", "--weight", "20kg", "--age",
            "6", "--sex", "male", "--start", "2027-01-05", "--cycles", "1", "--format", "json")  # fmt: skip
    r = run(*args, "--gfr", "110mL/min")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert "a child's GFR must be measured" in r.stderr and "--gfr-measured" in r.stderr
    for measured in (["--gfr", "90mL/min", "--gfr-measured"], ["--lab", "crcl=90mL/min"],
                     ["--gfr", "90mL/min", "--lab", "crcl=90mL/min"]):  # fmt: skip
        r = run(*args, *measured)
        assert r.returncode in (0, 1), r.stderr
        [carbo] = [a for a in json.loads(r.stdout)["administrations"] if a["drug"] == "carboplatin"]
        assert carbo["dose"] == pytest.approx(5 * (90 + 25))
        # what the value is per 1.73 m² at the child's BSA (0.80 m²) is shown
        assert any("194.8 mL/min/1.73 m²" in t for t in carbo["trace"]), carbo["trace"]
    order = write(
        tmp_path,
        "o.yaml",
        "order: T-1\nregimen: carboplatin-paclitaxel\ncycle: 1\nstart: 2027-01-05\n"
        "prescriber: Dr A\npatient:\n  id: X\n  height: 115 cm\n  weight: 20 kg\n  age: 6\n"
        "  sex: male\n  gfr: 110 mL/min\nlines:\n"
        "  - {drug: carboplatin, dose: AUC 5, day: 1, route: IV}\n"
        "  - {drug: paclitaxel, dose: 140 mg, day: 1, route: IV}\n",
    )
    r = run("verify", str(order))
    assert r.returncode == 2 and "a child's GFR must be measured" in r.stderr, r.stderr


def test_an_age_just_under_18_is_not_printed_as_18_and_a_childs_kidney_hint_is_a_childs(
    run,
) -> None:
    """17.999 years printed as 'age 18 y' beside 'bedside Schwartz, child', and 'the patient is
    18 years old ... not computed under 18'; a 7-year-old's missing kidney function asked for
    Cockcroft-Gault's inputs (--scr with --age, --sex and --weight), never computed under 18."""
    args = ("--height", "170cm", "--weight", "60kg", "--sex", "male", "--scr", "0.8mg/dL",
            "--start", "2026-12-08", "--cycles", "1")  # fmt: skip
    r = run("plan", "map", "--age", "17.999", *args)
    assert r.returncode in (0, 1), r.stderr
    assert "age 17.999 y" in r.stdout and "age 18 y" not in r.stdout
    r = run("plan", "carboplatin-paclitaxel", "--age", "17.99", *args)
    assert r.returncode == 2 and "the patient is 17.99 years old" in r.stderr, r.stderr
    r = run("plan", "map", "--height", "120cm", "--weight", "25kg", "--age", "7",
            "--start", "2026-12-08", "--cycles", "1", "--format", "json")  # fmt: skip
    said = [w["message"] for w in json.loads(r.stdout)["warnings"]
            if w["code"] == "ORGAN_FUNCTION_NOT_CHECKED" and w["drug"] == "cisplatin"]  # fmt: skip
    assert said and "--scr with --height" in said[0] and "--age, --sex" not in said[0]
