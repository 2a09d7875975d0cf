"""Pharmacogenomic dosing (issue 33): DPYD before fluorouracil and capecitabine, UGT1A1 before
irinotecan. The genotype read strictly, the activity score and phenotype, the guideline's
action applied to the dose in plan and expected by verify, and PGX_NOT_TESTED by policy."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml

from dosecalc.base.errors import DosecalcError, FileError
from dosecalc.clinical import pgx
from dosecalc.data import pgx as pgx_data
from tests.conftest import TODAY, schema, write

MFOLFOX6 = ["plan", "mfolfox6", "--bsa", "1.8", "--start", "2026-12-01", "--cycles", "1"]
# A FOLFIRI-type regimen: irinotecan 180 mg/m2 with a fluorouracil bolus and infusion.
FOLFIRI = """id: folfiri-test
name: FOLFIRI (test)
cycle_length_days: 14
cycles: 12
sources: ["test"]
drugs:
  - {drug: irinotecan, dose: 180 mg/m2, days: 1, route: IV}
  - {drug: leucovorin, dose: 400 mg/m2, days: 1, route: IV}
  - {drug: fluorouracil, dose: 400 mg/m2, days: 1, route: IV}
  - {drug: fluorouracil, dose: 2400 mg/m2, days: 1, route: IV, infusion: {type: continuous, duration: 46 h}}
"""


def plan_json(run, *args: str) -> tuple[int, dict]:
    p = run(*args, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def by_code(data: dict, code: str) -> list[dict]:
    return [w for w in data["warnings"] if w["code"] == code]


def doses(data: dict, drug: str) -> list[float]:
    return [a["dose"] for a in data["administrations"] if a["drug"] == drug]


# ---------------------------------------------------------------- the data file


def test_the_packaged_file_loads_strictly_and_every_source_resolves() -> None:
    book = pgx_data.load()  # the file:line loader, not the fast path
    assert set(book.entries) == {
        "fluorouracil",
        "capecitabine",
        "irinotecan",
        "liposomal irinotecan",
    }
    data = yaml.safe_load(pgx_data.DATA.read_text(encoding="utf-8"))
    keys = pgx_data.cited(data)
    assert len(keys) > 100 and set(keys) <= set(data["sources"])
    # every number and action carries its source and whether it was read there
    bands = [b for d in data["drugs"] for o in d["options"].values() for b in o["bands"]]
    alleles = [a for g in data["genes"].values() for a in g["alleles"]]
    for item in bands + alleles:
        assert item["source"] in data["sources"] and isinstance(item["verified"], bool), item
        assert item["verified"] or item.get("note"), item
    assert len([a for a in data["genes"]["DPYD"]["alleles"]]) == 84  # the CPIC allele table


@pytest.mark.parametrize(
    "change, words",
    [
        (("percent: 50, strength", "percent: 50, avoid: true, alternative: x, strength"), "exactly one action"),
        (("source: cpic-2017, verified: true,\n             text: \"Activity score 0:", "source: nowhere, verified: true,\n             text: \"Activity score 0:"), "not defined"),
        (('- {name: "c.46C>G", aliases: ["rs150036960"]', '- {name: "c.46C>G", aliases: ["rs150036960", "*2A"]'), "reads as an allele of both"),
        (("- {activity_score: 0.5, avoid: true,", "- {activity_score: 0.25, avoid: true,"), "every activity score"),
    ],
)  # fmt: skip
def test_a_damaged_data_file_is_refused_with_its_line(tmp_path: Path, change, words) -> None:
    text = pgx_data.DATA.read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(FileError) as e:
        pgx_data.load(write(tmp_path, "pgx.yaml", text.replace(change[0], change[1], 1)))
    assert words in str(e.value)
    assert all(p.line for p in e.value.problems)


# ---------------------------------------------------------------- reading a genotype


@pytest.mark.parametrize(
    "gene, value, score, phenotype",
    [
        ("DPYD", "*1/*1", 2, "normal"),
        ("DPYD", "*1/*2A", 1, "intermediate"),
        ("dpyd", " *2a / *1 ", 1, "intermediate"),  # case and spaces
        ("DPYD", "c.1905+1G>A/c.1236G>A", 0.5, "poor"),  # no function + HapB3
        ("DPYD", "rs3918290/rs67376798", 0.5, "poor"),  # *2A + c.2846A>T by rsID
        ("DPYD", "Reference/c.2846A>T", 1.5, "intermediate"),
        ("DPYD", "*2A/*13", 0, "poor"),
        ("DPYD", "AS:1.0", 1, "intermediate"),
        ("DPYD", "as: 1.5", 1.5, "intermediate"),
        ("UGT1A1", "*1/*1", None, "normal"),
        ("UGT1A1", "*1/*28", None, "intermediate"),
        ("UGT1A1", "*28/*28", None, "poor"),
        ("UGT1A1", "*6/*28", None, "poor"),
        ("UGT1A1", "*28/*36", None, "intermediate"),
        ("UGT1A1", "*1/*80", None, "indeterminate"),
    ],
)
def test_a_genotype_reads_as_cpic_scores_it(gene, value, score, phenotype) -> None:
    g = pgx.parse(gene, value, "--genotype")
    assert g.activity_score == score and g.phenotype == phenotype


def test_the_two_snps_of_hapb3_written_as_two_alleles_are_scored_and_said() -> None:
    g = pgx.parse("DPYD", "c.1129-5923C>G/c.1236G>A", "--genotype")
    assert g.activity_score == 1 and "usually one HapB3 allele" in (g.note or "")


@pytest.mark.parametrize(
    "text, words",
    [
        ("DPYD=*1/*2B", ["'*2B' is not a DPYD allele", "c.1905+1G>A (*2A)", "Reference (*1)"]),
        ("UGT1A1=*1/*29", ["'*29' is not a UGT1A1 allele", "*1, *6, *27, *28"]),
        ("CYP2D6=*1/*1", ["not a gene dosecalc has dosing rules for", "DPYD or UGT1A1"]),
        ("DPYD=*2A", ["not a genotype", "two DPYD alleles A/B"]),
        ("DPYD=*1/*2A/*13", ["not a genotype"]),
        ("DPYD=AS:0.7", ["one of 0, 0.5, 1, 1.5, 2"]),
        ("UGT1A1=AS:1", ["UGT1A1 has no activity score"]),
        ("DPYD", ["not GENE=VALUE"]),
    ],
)
def test_an_unknown_allele_is_refused_naming_the_known_ones(run, text, words) -> None:
    p = run(*MFOLFOX6, "--genotype", text)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "--genotype" in p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)


def test_two_different_results_for_one_gene_are_refused(run) -> None:
    p = run(*MFOLFOX6, "--genotype", "DPYD=*1/*2A", "--genotype", "DPYD=*1/*1")
    assert p.returncode == 2 and "two different DPYD results" in p.stderr
    same = run(*MFOLFOX6, "--genotype", "DPYD=*1/*2A", "--genotype", "DPYD=*2A/*1")
    assert same.returncode == 0, same.stderr


# ---------------------------------------------------------------- plan


def test_dpyd_intermediate_gets_half_the_fluorouracil_with_the_reason(run) -> None:
    _, standard = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*1/*1")
    code, data = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*1/*2A")
    assert code == 0
    assert doses(standard, "fluorouracil") == [720, 4320]  # 400 and 2,400 mg/m² × 1.8 m²
    assert doses(data, "fluorouracil") == pytest.approx([360, 2160])  # 50 % (CPIC, AS 1)
    assert doses(data, "oxaliplatin") == doses(standard, "oxaliplatin")
    bolus = next(a for a in data["administrations"] if a["drug"] == "fluorouracil")
    assert bolus["pgx"]["percent"] == 50 and bolus["pgx"]["activity_score"] == 1
    line = next(t for t in bolus["trace"] if t.startswith("pharmacogenomics"))
    for words in ("50 %", "DPYD *1/*2A", "activity score 1", "intermediate metabolizer",
                  "CPIC Guideline for Fluoropyrimidines and DPYD", "2017 update",
                  "November 2018", "Amstutz", "720 → 360 mg"):  # fmt: skip
        assert words in line, (words, line)
    [first, second] = by_code(data, "PGX_DOSE_ADJUSTMENT")
    assert first["severity"] == "warning" and "720 → 360 mg" in first["message"]
    assert "4,320 → 2,160 mg" in second["message"]
    assert not by_code(data, "PGX_NOT_TESTED")
    assert data["patient"]["genotype"]["DPYD"]["phenotype"] == "intermediate"
    [entry] = data["pharmacogenomics"]
    assert (entry["drug"], entry["option"], entry["action"]) == ("fluorouracil", "cpic", "percent")
    table = " ".join(run(*MFOLFOX6, "--genotype", "DPYD=*1/*2A").stdout.split())
    assert "× 50 % (DPYD)" in table and "Standard" in table


def test_dpyd_normal_changes_nothing(run) -> None:
    _, data = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*1/*1")
    assert doses(data, "fluorouracil") == [720, 4320]
    assert not [w for w in data["warnings"] if w["code"].startswith("PGX_")]
    assert all(a["pgx"] is None for a in data["administrations"])
    bolus = next(a for a in data["administrations"] if a["drug"] == "fluorouracil")
    assert any("pharmacogenomics: no change" in t for t in bolus["trace"])


def test_dpyd_poor_is_a_contraindication_naming_the_alternative(run) -> None:
    code, data = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*2A/*2A")
    assert code == 1
    [w] = by_code(data, "PGX_CONTRAINDICATION")  # once for both fluorouracil orders
    assert w["severity"] == "critical" and w["drug"] == "fluorouracil"
    assert "avoid fluorouracil" in w["message"]
    assert "Alternative: Use a regimen without 5-fluorouracil" in w["message"]
    assert "activity score 0" in w["message"]
    # the line is still shown, at the standard dose, so that the pharmacist sees it
    assert doses(data, "fluorouracil") == [720, 4320]
    table = run(*MFOLFOX6, "--genotype", "DPYD=*2A/*2A")
    assert table.returncode == 1 and "DPYD: AVOID" in table.stdout


def options(tmp_path: Path, **chosen: str) -> list[str]:
    """--policy FILE choosing the drugs' pharmacogenomic options."""
    lines = "".join(f'"{drug}" = "{name}"\n' for drug, name in chosen.items())
    return ["--policy", str(write(tmp_path, "policy.toml", f"[pgx.options]\n{lines}"))]


def test_as_half_names_cpics_fallback_and_dpwg_gives_no_recommendation(run, tmp_path) -> None:
    _, cpic = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=AS:0.5")
    [w] = by_code(cpic, "PGX_CONTRAINDICATION")
    assert "strongly reduced" in w["message"] and "calculator gives no number" in w["message"]
    dpwg_policy = options(tmp_path, fluorouracil="dpwg")
    _, dpwg = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*2A/c.2846A>T", *dpwg_policy)
    [w] = by_code(dpwg, "PGX_NO_RECOMMENDATION")
    assert w["severity"] == "critical" and "two different variants" in w["message"]
    assert "DPWG" in w["message"]
    # DPWG covers four variants: c.1024G>A (no function for CPIC) is not one of them
    _, outside = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*1/c.1024G>A", *dpwg_policy)
    [w] = by_code(outside, "PGX_NO_RECOMMENDATION")
    assert "outside the guideline's variants" in w["message"]
    _, cpic = plan_json(run, *MFOLFOX6, "--genotype", "DPYD=*1/c.1024G>A")
    assert doses(cpic, "fluorouracil") == pytest.approx([360, 2160])


def folfiri(tmp_path: Path) -> list[str]:
    path = write(tmp_path, "folfiri.yaml", FOLFIRI)
    return ["plan", str(path), "--bsa", "1.8", "--start", "2026-12-01", "--cycles", "1"]


def test_ugt1a1_poor_gets_the_dpwg_70_percent_of_irinotecan(run, tmp_path: Path) -> None:
    args = [*folfiri(tmp_path), "--genotype", "DPYD=*1/*1"]
    _, poor = plan_json(run, *args, "--genotype", "UGT1A1=*28/*28")
    assert doses(poor, "irinotecan") == pytest.approx([180 * 1.8 * 0.7])  # 226.8 mg
    assert doses(poor, "fluorouracil") == [720, 4320]
    [w] = by_code(poor, "PGX_DOSE_ADJUSTMENT")
    assert w["drug"] == "irinotecan" and "70 %" in w["message"] and "DPWG" in w["message"]
    assert "poor metabolizer" in w["message"] and "324 → 226.8 mg" in w["message"]
    _, normal = plan_json(run, *args, "--genotype", "UGT1A1=*1/*1")
    assert doses(normal, "irinotecan") == pytest.approx([324])
    assert not [w for w in normal["warnings"] if w["code"].startswith("PGX_")]
    _, im = plan_json(run, *args, "--genotype", "UGT1A1=*1/*28")
    assert doses(im, "irinotecan") == pytest.approx([324])  # DPWG: IM, no action


def test_the_us_label_option_gives_no_number_for_irinotecan(run, tmp_path: Path) -> None:
    code, data = plan_json(
        run, *folfiri(tmp_path), "--genotype", "UGT1A1=*28/*28", "--genotype", "DPYD=*1/*1",
        *options(tmp_path, irinotecan="us-label"),
    )  # fmt: skip
    assert code == 1 and doses(data, "irinotecan") == pytest.approx([324])
    [w] = by_code(data, "PGX_NO_RECOMMENDATION")
    assert "at least one level" in w["message"] and "[unverified:" in w["message"]
    bad = run(*folfiri(tmp_path), "--genotype", "UGT1A1=*28/*28",
              *options(tmp_path, irinotecan="cpic"))  # fmt: skip
    assert bad.returncode == 2 and "CPIC has published no UGT1A1-irinotecan" in bad.stderr


def test_both_genes_adjust_their_own_drugs(run, tmp_path: Path) -> None:
    _, data = plan_json(
        run, *folfiri(tmp_path), "--genotype", "DPYD=*1/*2A", "--genotype", "UGT1A1=*28/*28"
    )
    assert doses(data, "irinotecan") == pytest.approx([226.8])
    assert doses(data, "fluorouracil") == pytest.approx([360, 2160])
    assert set(data["patient"]["genotype"]) == {"DPYD", "UGT1A1"}


# ---------------------------------------------------------------- not tested, by policy


def test_not_tested_is_a_warning_by_default_and_the_policy_sets_its_severity(
    run, tmp_path: Path
) -> None:
    code, data = plan_json(run, *folfiri(tmp_path))
    found = {w["drug"]: w for w in by_code(data, "PGX_NOT_TESTED")}
    assert set(found) == {"fluorouracil", "irinotecan"}  # once per drug, not per order
    assert found["fluorouracil"]["severity"] == "warning" and code == 0
    assert "FDA" in found["fluorouracil"]["message"] and "EMA" in found["fluorouracil"]["message"]
    assert "--genotype DPYD" in found["fluorouracil"]["message"]
    code, strict = plan_json(run, *folfiri(tmp_path), "--set", "pgx.not_tested_severity=critical")
    assert code == 1
    assert {w["severity"] for w in by_code(strict, "PGX_NOT_TESTED")} == {"critical"}
    bad = run(*folfiri(tmp_path), "--set", "pgx.not_tested_severity=loud")
    assert bad.returncode == 2 and "info, warning, critical" in bad.stderr
    [entry] = [e for e in data["pharmacogenomics"] if e["drug"] == "irinotecan"]
    assert entry["tested"] is False and entry["action"] is None


def test_a_drug_without_a_guideline_is_not_flagged(run) -> None:
    _, data = plan_json(run, "plan", "ec", "--bsa", "1.8", "--start", "2026-12-01")
    assert not [w for w in data["warnings"] if w["code"].startswith("PGX_")]
    assert data["pharmacogenomics"] == [] and data["patient"]["genotype"] == {}


# ---------------------------------------------------------------- lab files, check


def test_a_lab_file_row_gives_a_genotype(run, tmp_path: Path) -> None:
    labs = write(tmp_path, "labs.csv", "date,name,value,unit\n2026-10-02,DPYD,*1/*2A,genotype\n")
    _, data = plan_json(run, *MFOLFOX6, "--labs", str(labs))
    assert doses(data, "fluorouracil") == pytest.approx([360, 2160])
    assert data["patient"]["genotype"]["DPYD"]["from"] == "labs.csv:2"
    bad = write(tmp_path, "bad.csv", "date,name,value,unit\n2026-10-02,DPYD,*1/*9Z,\n")
    p = run(*MFOLFOX6, "--labs", str(bad))
    assert (
        p.returncode == 2 and "bad.csv:2" in p.stderr and "'*9Z' is not a DPYD allele" in p.stderr
    )
    clash = run(*MFOLFOX6, "--labs", str(labs), "--genotype", "DPYD=*1/*1")
    assert clash.returncode == 2 and "two different DPYD results" in clash.stderr
    lab = run(*MFOLFOX6, "--lab", "DPYD=*1/*2A")
    assert lab.returncode == 2 and "--genotype DPYD=A/B" in lab.stderr


def test_check_takes_a_genotype_with_next(run) -> None:
    args = ["check", "--prior", "oxaliplatin=300mg/m2", "--bsa", "1.8"]
    p = run(*args, "--next", "mfolfox6", "--genotype", "DPYD=*2A/*2A", "--format", "json")
    assert p.returncode == 1
    data = json.loads(p.stdout)
    jsonschema.validate(data, schema("check-output"))
    assert data["genotype"]["DPYD"]["activity_score"] == 0
    assert [w["severity"] for w in by_code(data, "PGX_CONTRAINDICATION")] == ["critical"]
    alone = run(*args, "--genotype", "DPYD=*1/*2A")
    assert alone.returncode == 2 and "give --next REGIMEN" in alone.stderr
    plain = json.loads(run(*args, "--next", "mfolfox6", "--format", "json").stdout)
    assert "genotype" not in plain and not by_code(plain, "PGX_NOT_TESTED")


# ---------------------------------------------------------------- verify

START = TODAY + timedelta(days=7)


def mfolfox6_order(tmp_path: Path, fluorouracil: tuple[str, str], genotype=None) -> Path:
    patient: dict = {"bsa": "1.8 m2", "measured": TODAY.isoformat()}
    if genotype is not None:
        patient["genotype"] = genotype
    order = {
        "regimen": "mfolfox6",
        "cycle": 1,
        "start": START.isoformat(),
        "patient": patient,
        "lines": [
            {"drug": "oxaliplatin", "dose": "153 mg", "day": 1, "route": "IV"},
            {"drug": "leucovorin", "dose": "720 mg", "day": 1, "route": "IV"},
            {
                "drug": "fluorouracil",
                "dose": fluorouracil[0],
                "day": 1,
                "route": "IV",
                "infusion": {"type": "bolus"},
            },
            {
                "drug": "fluorouracil",
                "dose": fluorouracil[1],
                "day": 1,
                "route": "IV",
                "infusion": {"type": "continuous", "duration": "46 h"},
            },
        ],
    }
    return write(tmp_path, "order.yaml", yaml.safe_dump(order, sort_keys=False))


def verify_json(run, path: Path, *args: str) -> tuple[int, dict]:
    p = run("verify", str(path), "--bsa", "1.8", *args, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    data = json.loads(p.stdout)
    jsonschema.validate(data, schema("verify-output"))
    return p.returncode, data


def test_verify_holds_a_full_fluorouracil_dose_for_a_dpyd_intermediate(run, tmp_path) -> None:
    order = mfolfox6_order(tmp_path, ("720 mg", "4320 mg"))
    code, data = verify_json(run, order, "--genotype", "DPYD=*1/*2A")
    assert code == 1 and data["verdict"] == "hold"
    deviations = by_code(data, "ORDER_DOSE_DEVIATION")
    assert len(deviations) == 2 and {w["severity"] for w in deviations} == {"critical"}
    assert "× 50 % for DPYD *1/*2A" in deviations[0]["message"]
    assert by_code(data, "PGX_DOSE_ADJUSTMENT")
    expected = sorted(ln["expected"] for ln in data["lines"] if ln["drug"] == "fluorouracil")
    assert expected == pytest.approx([360, 2160])
    assert data["patient"]["genotype"]["DPYD"]["activity_score"] == 1
    # the adjusted doses, ordered, are released (with notes: the adjustment is a warning)
    halved = mfolfox6_order(tmp_path, ("360 mg", "2160 mg"))
    code, data = verify_json(run, halved, "--genotype", "DPYD=*1/*2A")
    assert code == 0 and data["verdict"] == "release-with-notes"


def test_verify_reads_the_orders_genotype_and_the_command_line_wins(run, tmp_path) -> None:
    order = mfolfox6_order(tmp_path, ("720 mg", "4320 mg"), {"DPYD": "*1/*2A"})
    code, data = verify_json(run, order)
    assert code == 1 and "order.yaml:" in data["patient"]["genotype"]["DPYD"]["from"]
    code, data = verify_json(run, order, "--genotype", "DPYD=*1/*1")
    assert code == 0  # tested normal on the command line: the full dose is right
    [said] = by_code(data, "PATIENT_OPTION_OVERRIDES_FILE")
    assert "DPYD *1/*1 (--genotype) is used instead of DPYD *1/*2A" in said["message"]
    # the prescriber dosed for *1/*2A: a warning, never a plain release (it was a notice)
    assert said["severity"] == "warning" and data["verdict"] == "release-with-notes"
    as_list = mfolfox6_order(tmp_path, ("360 mg", "2160 mg"), ["DPYD=c.1905+1G>A/*1"])
    assert verify_json(run, as_list)[1]["verdict"] == "release-with-notes"


def test_an_orders_unknown_allele_is_refused_with_its_line(run, tmp_path) -> None:
    order = mfolfox6_order(tmp_path, ("720 mg", "4320 mg"), {"DPYD": "*1/*2Z"})
    p = run("verify", str(order), "--bsa", "1.8")
    assert (
        p.returncode == 2 and "order.yaml:" in p.stderr and "'*2Z' is not a DPYD allele" in p.stderr
    )
    bare = write(tmp_path, "bare.yaml", order.read_text().replace("'*1/*2Z'", "*1/*2A"))
    p = run("verify", str(bare), "--bsa", "1.8")
    assert p.returncode == 2 and 'in quotes, e.g. "*1/*2A"' in p.stderr


def test_verify_without_a_genotype_notes_it_and_releases(run, tmp_path) -> None:
    code, data = verify_json(run, mfolfox6_order(tmp_path, ("720 mg", "4320 mg")))
    assert code == 0 and data["verdict"] == "release-with-notes"
    [w] = by_code(data, "PGX_NOT_TESTED")
    assert w["severity"] == "warning"


# ---------------------------------------------------------------- JSON


def test_plan_json_with_genotypes_validates_against_the_schema(run, tmp_path) -> None:
    for args in (
        [*MFOLFOX6, "--genotype", "DPYD=*1/*2A"],
        [*MFOLFOX6, "--genotype", "DPYD=*2A/*2A"],
        [*MFOLFOX6, "--genotype", "DPYD=AS:1.5"],
        [*folfiri(tmp_path), "--genotype", "UGT1A1=*6/*28"],
        [*folfiri(tmp_path)],
    ):
        _, data = plan_json(run, *args)
        jsonschema.validate(data, schema("plan-output"))


def test_a_dose_at_most_band_lowers_liposomal_irinotecan_only_above_it() -> None:
    from dosecalc.data.regimen import parse_dose

    g = {"UGT1A1": pgx.parse("UGT1A1", "*28/*28", "--genotype")}
    a = pgx.assess("liposomal irinotecan", g, {}, parse_dose("70 mg/m2"))
    assert a is not None and a.action == "dose_at_most"
    assert a.percent == pytest.approx(100 * 50 / 70)
    nalirifox = pgx.assess("liposomal irinotecan", g, {}, parse_dose("50 mg/m2"))
    assert nalirifox is not None and nalirifox.percent is None  # already at 50 mg/m²


def test_parsing_errors_are_dosecalc_errors_never_tracebacks() -> None:
    for value in ("", "/", "*1/", "AS:", "AS:2.5", "*1/*1/*1", "rs3064744/*1"):
        with pytest.raises(DosecalcError):
            pgx.parse("DPYD" if not value.startswith("rs30") else "UGT1A1", value, "--genotype")
