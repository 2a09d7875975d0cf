"""Issue 16, the second clinical data review: names, single-dose guards, age boundaries,
mitomycin, IGHG surveillance, the reference case, the unverified list. Each test names the source
of the number it pins."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest

from dosecalc.data import drugs
from dosecalc.data import regimen as rg
from tests.conftest import ROOT, schema, write

REFERENCE = str(ROOT / "examples" / "chen-2023-pelvic-osteosarcoma.yaml")
PERSON = ["--height", "175cm", "--weight", "70kg", "--start", "2026-12-01"]

ABBREVIATED = """\
id: abbreviated
name: "DDP+EPI written with abbreviations"
cycle_length_days: 21
cycles: 2
sources: ["Chen et al. Front Oncol 2023 (the reference case writes DDP and EPI)"]
drugs:
  - drug: DDP
    dose: 100 mg/m2
    days: 1
  - drug: EPI
    dose: 50 mg/m2
    days: 1
  - drug: epi
    dose: 25 mg/m2
    days: 2
"""
HISTORY = """\
date,drug,dose,unit,bsa_m2
2024-01-05,EPI,40,mg/m2,
2024-01-06,ADR,50,mg/m2,
2024-01-07,doxorubicin HCl,10,mg/m2,
"""


def _warnings(out: str, code: str) -> list[dict]:
    return [w for w in json.loads(out)["warnings"] if w["code"] == code]


# ---------------------------------------------------------------- names


def test_mtx_is_refused_as_ambiguous_with_both_candidates() -> None:
    """NZ National Medication Safety Programme error-prone abbreviations ('Mistaken MTX as
    methotrexate or mitozantrone'); ISMP error-prone abbreviations list."""
    with pytest.raises(ValueError) as e:
        drugs.lookup("MTX")
    assert str(e.value) == (
        "'MTX' is ambiguous: real orders use it for methotrexate and mitoxantrone; write the "
        "generic name"
    )
    assert "no source read uses MTX" not in (ROOT / "dosecalc/data/drugs.yaml").read_text()


@pytest.mark.parametrize(
    ("text", "name", "abbreviation"),
    [
        ("EPI", "epirubicin", True),  # also epinephrine
        ("DOX", "doxorubicin", True),  # also doxycycline
        ("CTX", "cyclophosphamide", True),  # also cefotaxime, cetuximab
        ("ADR", "doxorubicin", True),  # also adverse drug reaction
        ("DDP", "cisplatin", True),
        ("IFO", "ifosfamide", True),
        ("5-FU", "fluorouracil", True),
        ("epirubicin", "epirubicin", False),
        ("Adriamycin", "doxorubicin", False),  # a brand name, not an abbreviation
        ("MK-3475", "pembrolizumab", False),  # a code name
    ],
)
def test_the_resolver_says_whether_a_name_was_an_abbreviation(text, name, abbreviation) -> None:
    """ISMP: drug names should not be abbreviated; dosecalc accepts these but reports them."""
    drug, was = drugs.resolve(text)
    assert (drug.name, was) == (name, abbreviation)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("doxorubicin HCl", "doxorubicin"),
        ("doxorubicin hydrochloride", "doxorubicin"),
        ("epirubicin hydrochloride", "epirubicin"),
        ("cisplatin injection", "cisplatin"),
        ("Cisplatin Injection, USP", "cisplatin"),
        ("vincristine sulfate injection", "vincristine"),
        ("doxorubicin hydrochloride liposome injection", "liposomal doxorubicin"),
        ("doxorubicin HCl liposome", "liposomal doxorubicin"),
        ("Caelyx injection", "liposomal doxorubicin"),
        ("irinotecan liposome injection", "liposomal irinotecan"),
    ],
)
def test_salt_and_dosage_form_words_resolve_to_the_drug(text: str, name: str) -> None:
    """Label names: 'Doxorubicin Hydrochloride Injection, USP'; 'Cisplatin Injection'."""
    assert drugs.lookup(text).name == name


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Marqibo", "vincristine sulfate liposome"),
        ("Myocet", "non-pegylated liposomal doxorubicin"),
        ("DaunoXome", "liposomal daunorubicin"),
        ("vincristine liposomal", "special formulation"),
        ("liposomal vincristine", "special formulation"),
        ("daunorubicin liposomal", "special formulation"),
        ("Marqibo injection", "vincristine sulfate liposome"),
    ],
)
def test_a_liposomal_form_never_resolves_to_the_conventional_drug(text: str, says: str) -> None:
    """Marqibo (vincristine sulfate liposome, 2.25 mg/m², no cap) and Myocet are not
    interchangeable with vincristine and doxorubicin (labels); refused, never mapped."""
    with pytest.raises(ValueError) as e:
        drugs.lookup(text)
    message = str(e.value)
    assert says in message
    assert "did you mean" not in message or "vincristine?" not in message


def test_no_name_of_a_special_formulation_reaches_a_conventional_entry_or_back() -> None:
    """Every name and synonym of a liposomal/pegylated/nab- entry resolves to that entry, also
    with salt words added; no conventional name reaches it (Doxil/Caelyx vs doxorubicin)."""
    book = drugs.book()
    special = {n for n in book.drugs if book._special(n)}
    assert {"liposomal doxorubicin", "liposomal irinotecan", "nab-paclitaxel"} <= special
    for d in book.drugs.values():
        for text in (d.name, *d.synonyms, *d.abbreviations):
            for written in (text, f"{text} injection", f"{text} hydrochloride"):
                try:
                    found = book.lookup(written).name
                except ValueError:
                    continue
                assert (found in special) == (d.name in special), (written, found)


def test_suggestions_come_from_the_names_never_an_unrelated_cytotoxic() -> None:
    """'Marqibo must not suggest carboplatin' (issue 16): difflib on the names, rivals of the
    best only from its class."""
    for text in ("Marqibo", "Marquibo", "Marqibo 2mg"):
        with pytest.raises(ValueError) as e:
            drugs.lookup(text)
        assert "carboplatin" not in str(e.value)
    with pytest.raises(ValueError) as e:
        drugs.lookup("doxorubicine")
    assert str(e.value).endswith("did you mean doxorubicin?")
    with pytest.raises(ValueError) as e:
        drugs.lookup("vincristine liposomall")
    assert "did you mean" not in str(e.value)  # no conventional drug for a liposomal typo
    book = drugs.book()
    for name, d in book.drugs.items():
        if len(name) < 8:
            continue
        suggested = book.closest(drugs.fold(name[:-1]), special=book._special(name))
        assert suggested and suggested[0] == name, (name, suggested)
        assert all(book.drugs[s].drug_class == d.drug_class for s in suggested), suggested


def test_the_library_writes_full_generic_names() -> None:
    """ISMP recommends full generic names: the library's own regimens read no abbreviation."""
    for path in sorted(rg.library_dir().glob("*.yaml")):
        assert rg.load_file(path).names_read == (), path.name


def test_every_abbreviation_a_plan_reads_is_reported_once_with_where(cli, tmp_path: Path) -> None:
    regimen = write(tmp_path, "abbr.yaml", ABBREVIATED)
    history = write(tmp_path, "h.csv", HISTORY)
    code, out, err = cli(
        "plan",
        str(regimen),
        *PERSON,
        "--history",
        str(history),
        "--prior",
        "CTX=600mg/m2",
        "--reduce",
        "DDP=10%@2",
        "--reason",
        "renal",
        "--format",
        "json",
    )
    assert code == 0, err
    jsonschema.validate(json.loads(out), schema("plan-output"))
    notes = {w["message"].split("'")[1]: w for w in _warnings(out, "ABBREVIATION_READ")}
    assert set(notes) == {"DDP", "EPI", "ADR", "CTX"}  # once each; 'epi' is EPI again
    assert all(w["severity"] == "info" for w in notes.values())
    assert notes["DDP"]["drug"] == "cisplatin"
    assert f"({regimen}:7) was read as cisplatin" in notes["DDP"]["message"]
    assert f"({regimen}:10) was read as epirubicin" in notes["EPI"]["message"]
    assert f"({history}:3) was read as doxorubicin" in notes["ADR"]["message"]
    assert "(--prior) was read as cyclophosphamide" in notes["CTX"]["message"]


def test_a_reduction_written_as_a_fraction_is_refused(cli) -> None:
    """--reduce epirubicin=0.25 (a quarter off) planned a dose reduced by 0.25 %, exit 0."""
    code, out, err = cli(
        "plan", "dia", *PERSON, "--reduce", "epirubicin=0.25", "--reason", "mucositis"
    )
    assert code == 2 and not out
    assert (
        "'epirubicin=0.25' is ambiguous" in err
        and "epirubicin=0.25% or epirubicin=25%" in " ".join(err.split())
    )
    code, out, _ = cli("plan", "dia", *PERSON, "--reduce", "epirubicin=25", "--reason", "mucositis")
    assert code != 2 and "epirubicin reduced 25 % from cycle 1 (mucositis)" in out


def test_reduce_and_table_and_csv_carry_the_notice(cli, tmp_path: Path) -> None:
    code, out, _ = cli("plan", "dia", *PERSON, "--reduce", "IFO=20%", "--reason", "renal")
    assert code == 0
    assert "ABBREVIATION_READ" in out and "'IFO' (--reduce) was read as ifosfamide" in out
    regimen = write(tmp_path, "abbr.yaml", ABBREVIATED)
    code, out, _ = cli("plan", str(regimen), *PERSON, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    notices = [(r["drug"], r["notice"]) for r in rows if "ABBREVIATION_READ" in r["notice"]]
    assert [d for d, _ in notices] == ["cisplatin", "epirubicin"]  # first row of each drug
    assert notices[1][1].startswith("ABBREVIATION_READ: 'EPI' (")


def test_check_reports_abbreviations_of_histories_yaml_and_several_patients(
    run, tmp_path: Path
) -> None:
    yaml_history = write(
        tmp_path, "h.yaml", "- {date: 2024-01-05, drug: IFO, dose: 2, unit: g/m2}\n"
    )
    p = run("check", "--history", str(yaml_history), "--format", "json")
    assert p.returncode == 0, p.stderr
    [note] = _warnings(p.stdout, "ABBREVIATION_READ")
    assert note["drug"] == "ifosfamide" and f"({yaml_history}:1)" in note["message"]
    several = write(
        tmp_path,
        "all.csv",
        "date,drug,dose,unit,patient\n2024-01-05,EPI,40,mg/m2,A\n2024-01-05,epirubicin,40,mg/m2,B\n",
    )
    p = run("check", "--history", str(several), "--format", "json")
    data = json.loads(p.stdout)
    jsonschema.validate(data, schema("check-output"))
    assert [w["drug"] for w in data["warnings"]] == ["epirubicin"]  # beside the patients
    summary = run("check", "--history", str(several))  # status lines on stdout, notices beside
    assert f"notice: 'EPI' ({several}:2) was read as epirubicin" in summary.stderr
    details = run("check", "--history", str(several), "--details")
    assert "'EPI'" in details.stdout and "ABBREVIATION_READ" in details.stdout
    csv_out = run("check", "--history", str(several), "--format", "csv")
    assert csv_out.stdout.startswith("patient,drug") and "notice: 'EPI'" in csv_out.stderr


def test_regimens_validate_shows_the_abbreviations_a_file_uses(run, tmp_path: Path) -> None:
    regimen = write(tmp_path, "abbr.yaml", ABBREVIATED)
    p = run("regimens", "validate", str(regimen))
    assert p.returncode == 0
    assert p.stdout.splitlines()[1:3] == [
        f"  notice: 'DDP' ({regimen}:7) was read as cisplatin: an abbreviation; ISMP recommends "
        "the full generic name",
        f"  notice: 'EPI' ({regimen}:10) was read as epirubicin: an abbreviation; ISMP recommends "
        "the full generic name",
    ]
    # the file gives cisplatin with no hydration in its supportive_care: said too
    [gap] = p.stdout.splitlines()[3:]
    assert gap.startswith(
        "  notice: warning REGIMEN_SUPPORTIVE_MISSING: abbreviated gives cisplatin"
    )


def test_policy_can_refuse_abbreviations_altogether(cli, run, tmp_path: Path) -> None:
    """ISMP recommends full generic names: names.abbreviations = refuse enforces it."""
    regimen = write(tmp_path, "abbr.yaml", ABBREVIATED)
    code, _, err = cli("plan", str(regimen), *PERSON, "--set", "names.abbreviations=refuse")
    assert code == 2
    assert f"{regimen}:7: 'DDP' is an abbreviation of cisplatin" in err
    assert f"{regimen}:10: 'EPI' is an abbreviation of epirubicin" in err
    policy = write(tmp_path, "p.toml", '[names]\nabbreviations = "refuse"\n')
    p = run("check", "--prior", "EPI=100mg/m2", "--policy", str(policy))
    assert p.returncode == 2 and "--prior: 'EPI' is an abbreviation of epirubicin" in p.stderr
    assert run("check", "--prior", "epirubicin=100mg/m2", "--policy", str(policy)).returncode == 0
    bad = write(tmp_path, "q.toml", "[rounding.strengths]\nDDP = [10, 50]\n")
    p = run("check", "--prior", "epirubicin=100mg/m2", "--policy", str(bad))
    assert p.returncode == 2 and "write the full generic name (cisplatin)" in p.stderr


def test_ledger_writes_say_which_abbreviations_they_read(run, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    p = run(
        "ledger", "record", "--db", db, "--patient", "A", "--date", "2024-01-05",
        "--drug", "EPI", "--dose", "40mg/m2",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "notice: 'EPI' (--drug) was read as epirubicin" in p.stderr
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2024-01-06,DDP,100,mg/m2\n")
    p = run("ledger", "import", str(history), "--patient", "A", "--db", db)
    assert p.returncode == 0 and f"'DDP' ({history}:2) was read as cisplatin" in p.stderr
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationAdministration",
                    "status": "completed",
                    "medicationCodeableConcept": {"text": "IFO"},
                    "subject": {"reference": "Patient/A"},
                    "effectiveDateTime": "2024-01-07",
                    "dosage": {"dose": {"value": 2, "unit": "g/m2"}},
                }
            }
        ],
    }
    fhir = write(tmp_path, "mar.json", json.dumps(bundle))
    p = run("ledger", "import", str(fhir), "--db", db)
    assert p.returncode == 0 and f"'IFO' ({fhir} entry 0) was read as ifosfamide" in p.stderr


# ---------------------------------------------------------------- single-dose guards


def test_the_reference_plan_flags_cisplatin_140_above_the_usual_maximum(run) -> None:
    """Cisplatin guard 120 mg/m² (Le Chevalier 1994, J Clin Oncol 12:360: 120 mg/m² on one
    day); the reference case gives 140 mg/m² (Chen 2023), which its report calls dose
    enhancement: flagged, critical."""
    p = run("plan", REFERENCE, "--format", "json")
    assert p.returncode == 1
    above = _warnings(p.stdout, "DOSE_ABOVE_USUAL_MAXIMUM")
    assert {(w["drug"], w["severity"], w["phase"]) for w in above} == {
        ("cisplatin", "critical", 7),
        ("cisplatin", "critical", 8),
    }
    assert all(
        "is 140 mg/m², above the usual maximum single dose of 120 mg/m2" in w["message"]
        for w in above
    )
    # DIA's cisplatin 120 mg/m² (phases 1 and 3) is at the guard, not above it


FOLFOXIRI = """\
id: folfoxiri
name: FOLFOXIRI
cycle_length_days: 14
cycles: 1
sources: ["Falcone 2007 J Clin Oncol; Folprecht: 5-FU 3200 mg/m2 over 46 h"]
drugs:
  - drug: fluorouracil
    dose: {dose}
    days: 1
    infusion: "46 h continuous infusion"
"""


@pytest.mark.parametrize(("dose", "flagged"), [("3200 mg/m2", False), ("3201 mg/m2", True)])
def test_the_folfoxiri_infusion_is_not_flagged(cli, tmp_path: Path, dose, flagged) -> None:
    """Fluorouracil 3,200 mg/m² over 46-48 h is FOLFOXIRI (Falcone 2007; Folprecht: '5-FU
    (3200 mg/m², 46h)'): the guard must not alarm on an established regimen."""
    path = write(tmp_path, "f.yaml", FOLFOXIRI.format(dose=dose))
    code, out, _ = cli("plan", str(path), *PERSON, "--format", "json")
    assert bool(_warnings(out, "DOSE_ABOVE_USUAL_MAXIMUM")) is flagged
    assert code == (1 if flagged else 0)


def test_the_guards_the_audit_could_not_reach_are_verified_or_marked() -> None:
    """E. coli asparaginase 25,000 IU/m² (DFCI 00-01, Vrooman 2013); Erwinia 45,000 IU/m²
    (COALL-07-03, PMC3000881 Table 3); busulfan 5.2 mg/kg/day (Bartelink 2012 nomogram) were
    read; thiotepa 350 mg/m²/day (Tepadina SmPC) and carboplatin 1,125 mg (derived) were not."""
    book = drugs.book().drugs
    expected = {
        "asparaginase e coli": ("25000 units/m2", True, "Vrooman"),
        "asparaginase erwinia chrysanthemi": ("45000 units/m2", True, "COALL-07-03"),
        "busulfan": ("5.2 mg/kg", True, "Bartelink"),
        "thiotepa": ("350 mg/m2", False, "Tepadina"),
        "carboplatin": ("1125 mg", False, "GOG-158"),
        "cisplatin": ("120 mg/m2", True, "Le Chevalier"),
        "fluorouracil": ("3200 mg/m2", True, "Folprecht"),
    }
    for name, (dose, verified, source) in expected.items():
        guard = book[name].max_single_dose
        assert guard is not None
        assert (guard.dose, guard.verified) == (dose, verified), name
        assert source in guard.source, name


# ---------------------------------------------------------------- age boundaries


@pytest.mark.parametrize(
    ("prior", "age", "code", "shown"),
    [
        ("doxorubicin=400mg/m2", "65", "CARDIAC_MONITORING", False),
        ("doxorubicin=400mg/m2", "65.01", "CARDIAC_MONITORING", True),
        ("doxorubicin=400mg/m2", "66", "CARDIAC_MONITORING", True),
        ("bleomycin=30units", "70", "PULMONARY_TOXICITY_RISK", False),
        ("bleomycin=30units", "70.01", "PULMONARY_TOXICITY_RISK", True),
    ],
)
def test_age_boundaries_match_the_source_strictly_greater(cli, prior, age, code, shown) -> None:
    """Swain 2003 (Cancer 97:2869): 'age > 65'; bleomycin US label: 'more common in patients
    over 70 years of age'. The age as given (years, decimals allowed) must be above the number:
    65 is not over 65, 65.01 is."""
    rc, out, err = cli("check", "--prior", prior, "--age", age, "--format", "json")
    assert rc in (0, 1), err
    older = [w for w in _warnings(out, code) if "older than" in w["message"]]
    assert bool(older) is shown
    if shown and code == "CARDIAC_MONITORING":
        assert "'age > 65'" in older[0]["message"] and "(Swain 2003)" in older[0]["message"]
    if shown and code == "PULMONARY_TOXICITY_RISK":
        assert "'more common in patients over 70 years of age'" in older[0]["message"]


# ---------------------------------------------------------------- mitomycin


def test_mitomycin_60_is_read_as_the_label_by_default_and_as_per_m2_by_option(
    cli, tmp_path: Path
) -> None:
    """US boxed warning: HUS 'most cases occur at doses >= 60 mg' (absolute mg; default);
    Ntukidem 2010 abstract: 'cumulative doses higher than 60 mg/m2' (option
    ntukidem-2010-per-m2)."""
    rc, out, _ = cli("check", "--prior", "mitomycin=62mg/m2", "--format", "json")
    hus = _warnings(out, "HUS_RISK")
    assert [w for w in hus if "60 mg/m2" in w["message"]] == []
    [absolute] = _warnings(out, "CUMULATIVE_LIMIT_NOT_CHECKED")
    assert "'most cases occur at doses >= 60 mg'" in absolute["message"]
    policy = write(tmp_path, "p.toml", '[cumulative.options]\nmitomycin = "ntukidem-2010-per-m2"\n')
    rc, out, _ = cli(
        "check", "--prior", "mitomycin=62mg/m2", "--policy", str(policy), "--format", "json"
    )
    assert [w["severity"] for w in _warnings(out, "HUS_RISK") if "60 mg/m2" in w["message"]] == [
        "warning"
    ]
    assert _warnings(out, "CUMULATIVE_LIMIT_NOT_CHECKED") == []


# ---------------------------------------------------------------- IGHG surveillance


def _surveillance(cli, *args: str) -> list[str]:
    rc, out, err = cli("plan", "ec", "--height", "170", "--weight", "70", "--cycles", "6",
                       "--start", "2026-01-05", "--format", "json", *args)  # fmt: skip
    assert rc == 0, err
    return [w["message"] for w in _warnings(out, "CARDIOMYOPATHY_SURVEILLANCE")]


def test_ighg_2023_levels_apply_to_caya_survivors_only(cli) -> None:
    """IGHG 2023 (Ehrhardt, Lancet Oncol 24:e108): echocardiography every 5 years from 100 to
    < 250 mg/m², every 2 years from >= 250; for childhood, adolescent and young-adult cancer
    survivors (AYA: 15-39 years at diagnosis), so not for anthracyclines begun at 40 or later.
    EC x6 = epirubicin 540 mg/m² = doxorubicin-equivalent 432 mg/m² (ESC 2022 factor 0.8)."""
    young = _surveillance(cli, "--age", "39.9")
    assert len(young) == 2
    assert "every 5 years from 100 to < 250 mg/m2" in young[0] and "IGHG 2023" in young[0]
    assert "every 2 years from >= 250 mg/m2" in young[1]
    assert _surveillance(cli, "--age", "40") == []
    assert _surveillance(cli, "--age", "62") == []
    unknown = _surveillance(cli)
    assert len(unknown) == 2 and all(
        "for survivors of childhood, adolescent and young-adult cancer" in m
        and "cannot tell whether they apply (it was given no age)" in m
        for m in unknown
    )


def test_the_surveillance_levels_say_why_the_age_they_need_is_unknown(cli) -> None:
    """An age given with a dateless --prior epirubicin: the levels say the --prior amount has no
    date, not that dosecalc 'was given no age (or a prior anthracycline without a date)'."""
    undated = _surveillance(cli, "--age", "52", "--prior", "epirubicin=90mg/m2")
    assert len(undated) == 2 and all(
        m.count("(a --prior anthracycline amount has no date: the age it was given at is unknown)")
        == 1
        and "no age" not in m
        for m in undated
    )
    assert all(
        "(it was given no age)" in m for m in _surveillance(cli, "--prior", "epirubicin=90mg/m2")
    )


def test_ighg_2015_stays_a_named_option(cli, tmp_path: Path) -> None:
    """Armenian 2015 (Lancet Oncol 16:e123, Table 4): 'reasonable' from 100, 'recommended' from
    250 mg/m²; chosen by the policy's ceiling option for the doxorubicin-equivalent total."""
    policy = write(
        tmp_path, "p.toml", '[cumulative.options]\n"doxorubicin equivalent" = "ighg-2015"\n'
    )
    messages = _surveillance(cli, "--age", "20", "--policy", str(policy))
    assert [("IGHG 2015" in m, "reasonable" in m or "recommended" in m) for m in messages] == [
        (True, True),
        (True, True),
    ]


def test_the_age_at_the_first_anthracycline_decides_not_the_age_today(cli, tmp_path) -> None:
    """A 50-year-old whose epirubicin was given 20 years ago (at 30) is a young-adult-cancer
    survivor: the IGHG levels apply (the age given is moved to the first dose's date)."""
    history = write(tmp_path, "h.csv", "date,drug,dose,unit\n2006-01-05,epirubicin,300,mg/m2\n")
    rc, out, _ = cli("check", "--history", str(history), "--age", "50", "--format", "json")
    assert any("begun before age 40" in w["message"]
               for w in _warnings(out, "CARDIOMYOPATHY_SURVEILLANCE"))  # fmt: skip
    recent = write(tmp_path, "r.csv", "date,drug,dose,unit\n2024-01-05,epirubicin,300,mg/m2\n")
    rc, out, _ = cli("check", "--history", str(recent), "--age", "50", "--format", "json")
    assert _warnings(out, "CARDIOMYOPATHY_SURVEILLANCE") == []


# ---------------------------------------------------------------- regimens and the reference case


def test_r_chop_prednisone_cites_the_source_its_number_came_from() -> None:
    """Prednisone 100 mg flat days 1-5 comes from the Canterbury DHB Redbook (and NZ SACT), not
    from Coiffier 2002 (GELA CHOP: prednisone 40 mg/m²)."""
    [pred] = [o for o in rg.load("r-chop-21").drugs if o.drug == "prednisone"]
    assert pred.source and pred.source.startswith("Canterbury DHB Redbook")
    assert "NOT Coiffier 2002" in pred.source


def test_the_reference_plan_says_the_dia_cycle_length_is_challengeable(cli) -> None:
    """Chen 2023: 9 adjuvant DIA cycles from 2018-12-12 to the relapse on 2021-03-18 (827 days,
    about 27 months) cannot have been 14 days apart; the report's abstract contradicts the case
    description on the order of anlotinib and IMRT."""
    code, out, _ = cli("plan", REFERENCE, "--format", "json")
    unverified = [w["message"] for w in _warnings(out, "REGIMEN_UNVERIFIED")]
    [cycle] = [m for m in unverified if "DIA cycle length 14 days" in m]
    assert "ASSUMPTION A PHARMACIST WOULD CHALLENGE" in cycle and "about 27 months" in cycle
    [order] = [m for m in unverified if "contradicts itself" in m]
    assert "'as a sequential treatment to chemotherapy'" in order
    assert "'during the first course of adjuvant chemotherapy'" in order


# ---------------------------------------------------------------- the unverified list


def test_review_md_lists_every_unverified_number() -> None:
    """dosecalc/data/REVIEW.md is what the data files say is unverified: regenerate it with
    `python -m dosecalc.data.review --write` when this fails."""
    from dosecalc.data import review

    committed = review.REVIEW.read_text(encoding="utf-8")
    assert committed == review.render()
    for path in sorted((review.HERE / "data").glob("*.yaml")):  # drugs, ceilings, organ, ...
        data = review._yaml(path)
        for where, _ in review.unverified(data):
            assert f"`{where}`" in committed, where
    for path in sorted(rg.library_dir().glob("*.yaml")):
        for text in rg.load_file(path).unverified:
            assert " ".join(text.split()) in committed
    count = int(re.search(r"\*\*(\d+) entries\*\*", committed).group(1))  # type: ignore[union-attr]
    assert count == committed.count("\n- `")


def test_the_review_walker_finds_a_nested_unverified_value() -> None:
    from dosecalc.data import review

    data = {"drugs": [{"drug": "x", "options": {"a": {"limit": {"value": 3, "verified": False}}}}]}
    assert [w for w, _ in review.unverified(data)] == ["drugs > x > options > a > limit"]


def test_verify_reports_an_order_line_written_as_an_abbreviation(cli, tmp_path: Path) -> None:
    """A written order is read like a regimen: 'EPI' on an order line is read as epirubicin and
    said so (ISMP: full generic names), or refused under names.abbreviations = refuse."""
    from tests.test_verify import PATIENT, ec_order, save

    code, out, err = cli("verify", str(save(tmp_path, ec_order(), "clean.yaml")), "--format",
                         "json", *PATIENT)  # fmt: skip
    clean = json.loads(out)
    order = ec_order()
    order["lines"][0]["drug"] = "EPI"
    path = save(tmp_path, order)
    code, out, err = cli("verify", str(path), "--format", "json", *PATIENT)
    assert code == 0, err
    data = json.loads(out)
    assert data["verdict"] == clean["verdict"]  # an info notice changes no verdict
    assert {w["code"] for w in data["warnings"]} - {w["code"] for w in clean["warnings"]} == {
        "ABBREVIATION_READ"
    }
    [note] = [w for w in data["warnings"] if w["code"] == "ABBREVIATION_READ"]
    assert note["drug"] == "epirubicin" and f"({path}:" in note["message"]
    code, _, err = cli("verify", str(path), *PATIENT, "--set", "names.abbreviations=refuse")
    assert code == 2 and "'EPI' is an abbreviation of epirubicin" in err
