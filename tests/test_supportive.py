"""Supportive care (issue 32): supportive lines dosed against the line they serve, the care that
is not dosed, each day's emetogenic risk, and what verify holds an order for."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
import yaml

from dosecalc.data import emetogenic, labs, supportive
from tests.conftest import ROOT, TODAY, schema, write

PATIENT = ["--height", "175cm", "--weight", "70kg"]
START = "2026-12-01"
PLAN_SCHEMA = schema("plan-output")
VERIFY_SCHEMA = schema("verify-output")


def plan_json(run, regimen: str, *args: str) -> dict:
    p = run("plan", regimen, *PATIENT, "--start", START, "--format", "json", *args)
    assert p.returncode in (0, 1), p.stderr
    data = json.loads(p.stdout)
    jsonschema.validate(data, PLAN_SCHEMA)
    return data


def plan_table(run, regimen: str, *args: str) -> str:
    p = run("plan", regimen, *PATIENT, "--start", START, *args, env={"COLUMNS": "80"})
    assert p.returncode in (0, 1), p.stderr
    return p.stdout


# ---------------------------------------------------------------- plan: the "done when"


def test_plan_dia_doses_mesna_against_ifosfamide_on_each_day(run) -> None:
    data = plan_json(run, "dia", "--cycles", "1")
    ifo = {a["day"]: a for a in data["administrations"] if a["drug"] == "ifosfamide"}
    mesna = [a for a in data["administrations"] if a["drug"] == "mesna"]
    assert sorted({a["day"] for a in mesna}) == sorted(ifo) == [1, 2, 3, 4, 5]
    for day, served in ifo.items():
        mine = [a for a in mesna if a["day"] == day]
        assert [a["at_hours"] for a in mine] == [0, 4, 8]
        for a in mine:
            assert a["supportive"] is True and a["for"] == "ifosfamide"
            assert a["basis"] == "percent" and a["protocol_dose"] == 20
            assert a["dose"] == pytest.approx(0.2 * served["dose"])  # Mesnex label 2.1
            assert "20 % of ifosfamide 3,689.3 mg = 737.9 mg" in a["trace"]
    table = plan_table(run, "dia", "--cycles", "1")
    assert table.count("3 × 737.9 mg") == 5
    assert "20 % of ifosfamide" in table and "0, 4 and 8 h from the start of ifosfamide" in table
    # mesna has no lifetime total
    assert "mesna" not in {t["drug"] for t in data["cumulative"]}


def test_mesna_keeps_the_ratio_when_ifosfamide_is_reduced(run) -> None:
    data = plan_json(
        run, "dia", "--cycles", "1", "--reduce", "ifosfamide=25%", "--reason", "haematuria"
    )
    ifo = next(a for a in data["administrations"] if a["drug"] == "ifosfamide")
    mesna = next(a for a in data["administrations"] if a["drug"] == "mesna")
    assert (
        mesna["dose"]
        == pytest.approx(0.2 * ifo["dose"])
        == pytest.approx(0.2 * 0.75 * 3689.3, rel=1e-4)
    )


def test_a_reduction_of_all_drugs_reduces_mesna_once(run) -> None:
    data = plan_json(run, "dia", "--cycles", "1", "--reduce", "all=25%", "--reason", "neutropenia")
    ifo = next(a for a in data["administrations"] if a["drug"] == "ifosfamide")
    mesna = next(a for a in data["administrations"] if a["drug"] == "mesna")
    assert mesna["dose"] == pytest.approx(0.2 * ifo["dose"])  # not reduced a second time
    assert mesna["modification"] is None


def test_plan_map_shows_the_leucovorin_rescue_schedule_and_the_level_draws(run) -> None:
    data = plan_json(run, "map", "--cycles", "1")
    rescue = [a for a in data["administrations"] if a["drug"] == "leucovorin"]
    assert [(a["day"], a["at_hours"]) for a in rescue] == [
        (day, h) for day in (23, 30) for h in (24, 30, 36, 42)
    ]  # eviQ 1901: 15 mg/m² every 6 h (4 doses) on days 23 and 30, from 24 h after the start
    assert {a["for"] for a in rescue} == {"methotrexate"}
    assert all(a["protocol_dose"] == 15 and a["protocol_unit"] == "mg/m2" for a in rescue)
    care = {(c["kind"], c["for"]) for c in data["supportive_care"]}
    assert care == {
        ("monitoring", "methotrexate"),
        ("hydration", "methotrexate"),
        ("alkalinisation", "methotrexate"),
        ("hydration", "cisplatin"),
    }
    table = plan_table(run, "map", "--cycles", "1")
    assert "4 × 27.7 mg" in table and "24, 30, 36 and 42 h from the start of" in table
    assert "monitoring with methotrexate" in table and "methotrexate level and serum" in table
    assert "urine pH above 7.0" in " ".join(table.split())


def test_plan_ddp_epi_shows_the_cisplatin_hydration_and_highly_emetogenic(run) -> None:
    table = plan_table(run, "ddp-epi", "--cycles", "1")
    flat = " ".join(table.split())
    assert "hydration with cisplatin, day 1 (required on the order)" in flat
    assert "day 1 highly emetogenic (cisplatin)" in flat
    assert "NK1 receptor antagonist + 5-HT3 receptor antagonist + dexamethasone" in flat
    data = plan_json(run, "ddp-epi", "--cycles", "1")
    [day] = data["emetogenic_risk"]
    assert day["level"] == "high" and day["because"] == "cisplatin"
    assert "Hesketh" in day["source"] and day["verified"] is True
    assert "olanzapine" in day["prophylaxis"]


def test_every_plan_line_fits_80_columns(run) -> None:
    for regimen in ("dia", "map", "ddp-epi", "ddp-ifo", "ap", "ac"):
        for line in plan_table(run, regimen, "--cycles", "1").splitlines():
            assert len(line) <= 80, (regimen, line)


# ---------------------------------------------------------------- emetogenic risk


def test_dia_day_1_high_days_2_to_5_moderate_and_the_nccn_chart_differs(run) -> None:
    data = plan_json(run, "dia", "--cycles", "1")
    levels = {d["day"]: d["level"] for d in data["emetogenic_risk"]}
    assert levels == {1: "high", 2: "moderate", 3: "moderate", 4: "moderate", 5: "moderate"}
    day2 = data["emetogenic_risk"][1]
    assert any("NCCN chart gives high (ifosfamide ≥ 2,000 mg/m²)" in n for n in day2["notes"])
    assert data["emetogenic"]["cover"] == [{"phase": 1, "cycle": 1, "to_days": [7]}]
    chart = plan_json(run, "dia", "--cycles", "1", "--set", "emetogenic.option=nccn-chart")
    assert {d["level"] for d in chart["emetogenic_risk"]} == {"high"}


def test_the_ac_combination_is_high_and_mascc_says_its_restriction(run) -> None:
    [day] = plan_json(run, "ac", "--cycles", "1")["emetogenic_risk"]
    assert day["level"] == "high" and day["prophylaxis_key"] == "high-ac"
    assert day["because"] == "anthracycline + cyclophosphamide"
    [mascc] = plan_json(run, "ac", "--cycles", "1", "--set", "emetogenic.option=mascc-esmo-2023")[
        "emetogenic_risk"
    ]
    assert mascc["level"] == "high"
    assert any("women with breast cancer" in n for n in mascc["notes"])
    assert "no dexamethasone beyond day 1" in mascc["prophylaxis"]


def test_the_institution_names_its_own_agents(run, tmp_path: Path) -> None:
    policy = write(
        tmp_path,
        "policy.toml",
        '[emetogenic.agents]\nhigh = "aprepitant 125 mg PO, ondansetron 8 mg IV, '
        'dexamethasone 12 mg, olanzapine 5 mg"\n',
    )
    data = plan_json(run, "ddp-epi", "--cycles", "1", "--policy", str(policy))
    assert data["emetogenic_risk"][0]["institution_agents"].startswith("aprepitant 125 mg")
    assert "high, this institution: aprepitant 125 mg" in plan_table(
        run, "ddp-epi", "--cycles", "1", "--policy", str(policy)
    )
    bad = write(tmp_path, "bad.toml", '[emetogenic.agents]\nextreme = "x"\n')
    p = run("plan", "ddp-epi", *PATIENT, "--policy", str(bad))
    assert p.returncode == 2 and "bad.toml:2" in p.stderr and "extreme" in p.stderr


@pytest.mark.parametrize(
    ("per_m2", "level", "verified"),
    [(1600.0, "high", True), (1500.0, "moderate", False), (1499.0, "moderate", True)],
)
def test_cyclophosphamide_bands_at_1500_mg_m2(per_m2: float, level: str, verified: bool) -> None:
    """ASCO 2020 Table 1: '>1,500 mg/m2' High, '<1,500' Moderate; exactly 1,500 is unassigned
    there and placed in moderate as an unverified choice."""
    from dosecalc.clinical.emetogenic import drug_class

    c, _, notes = drug_class(emetogenic.book(), "cyclophosphamide", "asco-2020", per_m2, None)
    assert c is not None and c.level == level and c.verified is verified
    assert bool(notes) is (not verified)


def test_anlotinib_is_unclassified_not_given_a_borrowed_class(run) -> None:
    data = plan_json(run, "anlotinib", "--cycles", "1")
    assert data["emetogenic_risk"] == []
    assert any(w["code"] == "EMETOGENIC_RISK_UNCLASSIFIED" for w in data["warnings"])


def test_every_class_and_prophylaxis_cites_a_source_with_its_verified_flag() -> None:
    book = emetogenic.book()
    for drug, options in book.drugs.items():
        for option, classes in options.items():
            for c in classes:
                assert c.source and isinstance(c.verified, bool), (drug, option)
                assert c.level is not None or c.fallback or not c.verified, (drug, option)
    for option, table in book.prophylaxis.items():
        for key, entry in table.items():
            assert entry["source"] and isinstance(entry["verified"], bool), (option, key)


def test_the_methotrexate_molar_mass_is_the_one_the_data_cites() -> None:
    assert labs.METHOTREXATE_G_PER_MOL == supportive.hdmtx().molar_mass == 454.44


# ---------------------------------------------------------------- regimen files


SUPPORTIVE = """\
id: s
name: S
cycle_length_days: 14
sources: [x]
drugs:
  - {drug: ifosfamide, dose: 2 g/m2, days: 1-3}
  - drug: mesna
    supportive: true
    for: ifosfamide
    percent_of: ifosfamide
    percent: 20
    at_hours: [0, 4, 8]
    days: 1-3
"""


CASES = [
    (
        "    for: ifosfamide\n    percent_of: ifosfamide\n",
        "    for: cisplatin\n    percent_of: cisplatin\n",
        "s.yaml:9: drugs[1].for",
        "s has no line of cisplatin",
    ),
    ("    percent: 20\n", "", "s.yaml:7: drugs[1]", "'percent_of' and 'percent' go together"),
    ("    supportive: true\n", "", "s.yaml:7: drugs[1]", "belong to a supportive line"),
    (
        "    days: 1-3\n",
        "    days: 1-4\n",
        "s.yaml:13: drugs[1].days",
        "day 4: ifosfamide is given on days 1, 2, 3",
    ),
    ("[0, 4, 8]", "[0, 4, 300]", "s.yaml:12: drugs[1].at_hours[2]", "less than or equal to 168"),
    ("[0, 4, 8]", "[0, 8, 4]", "s.yaml:12: drugs[1].at_hours", "in order"),
    ("percent: 20", "percent: 0", "s.yaml:11: drugs[1].percent", "above 0 and at most 1,000"),
]


@pytest.mark.parametrize(("old", "new", "where", "says"), CASES)
def test_supportive_lines_are_validated_with_file_line(
    run, tmp_path: Path, old: str, new: str, where: str, says: str
) -> None:
    assert old in SUPPORTIVE
    path = write(tmp_path, "s.yaml", SUPPORTIVE.replace(old, new))
    p = run("regimens", "validate", str(path), cwd=tmp_path)
    assert p.returncode == 2
    assert where in p.stderr and says in p.stderr, p.stderr


def test_a_timed_dose_past_the_cycle_end_is_refused(run, tmp_path: Path) -> None:
    text = SUPPORTIVE.replace("cycle_length_days: 14", "cycle_length_days: 3")
    path = write(tmp_path, "s.yaml", text.replace("[0, 4, 8]", "[0, 4, 24]"))
    p = run("regimens", "validate", str(path), cwd=tmp_path)
    assert p.returncode == 2 and "24 h after day 3 is after the end of the 3-day cycle" in p.stderr


IFOSFAMIDE_ALONE = """\
id: ifo-alone
name: ifosfamide with cisplatin, nothing around them
cycle_length_days: 21
sources: ["a user's file"]
gates: []
drugs:
  - {drug: cisplatin, dose: 100 mg/m2, days: 1, route: IV}
  - {drug: ifosfamide, dose: 2 g/m2, days: 1-3, route: IV}
"""


def test_a_regimen_giving_ifosfamide_without_mesna_is_critical_everywhere(
    run, tmp_path: Path
) -> None:
    """Unknown is never zero: a user's regimen with ifosfamide and no mesna line, or cisplatin
    with no hydration, is said in plan (exit 1 for the mesna) and by regimens validate."""
    path = write(tmp_path, "ifo.yaml", IFOSFAMIDE_ALONE)
    p = run("plan", str(path), *PATIENT, "--start", START, "--format", "json",
            "--prior", "epirubicin=0mg/m2")  # fmt: skip
    assert p.returncode == 1, p.stderr
    found = [
        w for w in json.loads(p.stdout)["warnings"] if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"
    ]
    assert sorted((w["drug"], w["severity"]) for w in found) == [
        ("cisplatin", "warning"),
        ("ifosfamide", "critical"),
    ]
    assert "MESNEX" in next(w["message"] for w in found if w["drug"] == "ifosfamide")
    checked = run("regimens", "validate", str(path))
    assert checked.returncode == 1  # as plan: valid, with a critical finding; never "ok"
    assert checked.stdout.startswith(f"critical: {path} (valid, with a critical finding)\n")
    assert "ok:" not in checked.stdout
    assert "critical REGIMEN_SUPPORTIVE_MISSING: ifo-alone gives ifosfamide" in checked.stdout
    # with the mesna line and the hydration, nothing is said
    dia = (ROOT / "regimens" / "dia.yaml").read_text(encoding="utf-8")
    around = dia[dia.index("  - drug: mesna\n") :]
    whole = write(
        tmp_path, "ifo-mesna.yaml", IFOSFAMIDE_ALONE + around.replace("days: 1-5", "days: 1-3")
    )
    p = run("plan", str(whole), *PATIENT, "--start", START, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    assert not [
        w for w in json.loads(p.stdout)["warnings"] if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"
    ]


@pytest.mark.parametrize(("dose", "held"), [("12 g/m2", True), ("600 mg/m2", True),
                                            ("500 mg/m2", True), ("499 mg/m2", False),
                                            ("40 mg/m2", False)])  # fmt: skip
def test_high_dose_methotrexate_without_leucovorin_is_critical(
    run, tmp_path: Path, dose: str, held: bool
) -> None:
    """Methotrexate 12 g/m² with no leucovorin line planned with exit 0 and nothing said; high
    dose is 500 mg/m² or more (UpToDate; the one definition, which the organ-function data's
    high-dose kidney rule reads too: exactly 500 was high there and not here), and a low dose
    needs no rescue."""
    text = (
        f"id: hdmtx\nname: hdmtx\ncycle_length_days: 21\nsources: [test]\ngates: []\ndrugs:\n"
        f"  - {{drug: methotrexate, dose: {dose}, max_dose: 20 g, days: 1, route: IV}}\n"
    )
    p = run("plan", str(write(tmp_path, "m.yaml", text)), *PATIENT, "--start", START,
            "--format", "json")  # fmt: skip
    found = [
        w for w in json.loads(p.stdout)["warnings"] if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"
    ]
    assert bool(found) is held
    if held:
        assert p.returncode == 1 and found[0]["severity"] == "critical"
        assert "leucovorin" in found[0]["message"] and "500 mg/m2 or more" in found[0]["message"]


def test_supportive_care_must_cover_every_day_of_the_drug_it_serves(run, tmp_path: Path) -> None:
    """Mesna on days 1-3 of an ifosfamide given on days 1-5, and hydration on day 15 of a
    cisplatin given on day 1, passed as present."""
    dia = (ROOT / "regimens" / "dia.yaml").read_text(encoding="utf-8")
    around = dia[dia.index("  - drug: mesna\n") :]
    short = write(
        tmp_path, "short.yaml", IFOSFAMIDE_ALONE.replace("days: 1-3", "days: 1-5")
        + around.replace("days: 1-5", "days: 1-3")
    )  # fmt: skip
    p = run("plan", str(short), *PATIENT, "--start", START, "--format", "json")
    found = {
        w["drug"]: w for w in json.loads(p.stdout)["warnings"]
        if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"
    }  # fmt: skip
    assert found["ifosfamide"]["severity"] == "critical" and p.returncode == 1
    assert "no mesna on days 4, 5 of it" in found["ifosfamide"]["message"]
    assert "cisplatin" not in found  # dia's hydration: day 1, cisplatin's day
    late = write(tmp_path, "late.yaml", short.read_text().replace(
        "    for: cisplatin\n    days: 1\n", "    for: cisplatin\n    days: 15\n", 1))  # fmt: skip
    p = run("plan", str(late), *PATIENT, "--start", START, "--format", "json")
    found = {w["drug"]: w for w in json.loads(p.stdout)["warnings"]
             if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"}  # fmt: skip
    assert "no hydration on day 1 of it" in found["cisplatin"]["message"], found


def test_low_dose_methotrexate_and_a_multi_day_mesna_infusion_are_no_gap(tmp_path: Path) -> None:
    """12 mg intrathecal and 2.5 mg/kg oral methotrexate got the high-dose leucovorin critical;
    mesna as one 72-h infusion from day 1 was 'missing on days 2, 3' of ifosfamide."""
    from dosecalc.clinical.supportive import regimen_gaps
    from dosecalc.data import regimen as rg

    head = "id: t\nname: t\ncycle_length_days: 21\nsources: [x]\ngates: []\ndrugs:\n"
    low = write(tmp_path, "low.yaml", head
                + "  - {drug: methotrexate, dose: 12 mg, days: 1, route: intrathecal}\n"
                "  - {drug: methotrexate, dose: 2.5 mg/kg, days: 8, route: PO}\n")  # fmt: skip
    assert regimen_gaps(rg.load(str(low))) == []
    flat = write(tmp_path, "flat.yaml", head
                 + "  - {drug: methotrexate, dose: 5 g, days: 1, max_dose: 20 g}\n")  # fmt: skip
    assert [a.drug for a in regimen_gaps(rg.load(str(flat)))] == ["methotrexate"]
    cont = write(tmp_path, "cont.yaml", head
                 + "  - {drug: ifosfamide, dose: 3 g/m2, days: 1-3,"
                 " infusion: {type: intermittent, duration: 3 h}}\n"
                 "  - {drug: mesna, supportive: true, for: ifosfamide, dose: 9000 mg/m2, days: 1,"
                 " infusion: {type: continuous, duration: 72 h}}\n")  # fmt: skip
    assert regimen_gaps(rg.load(str(cont))) == []


def test_every_library_and_example_regimen_carries_what_its_drugs_require(run) -> None:
    from dosecalc.clinical.supportive import regimen_gaps
    from dosecalc.data import regimen as rg

    files = [*(ROOT / "regimens").glob("*.yaml"), ROOT / "examples" / "dia-divided-epirubicin.yaml"]
    assert len(files) > 10
    for path in files:
        assert regimen_gaps(rg.load(str(path))) == [], path


def test_the_library_files_validate_and_their_schema_accepts_them(run) -> None:
    from jsonschema import Draft202012Validator

    from dosecalc.data.regimen import library_dir

    regimen_schema = json.loads(run("schema", "regimen").stdout)
    for name in ("dia", "ddp-ifo", "ddp-epi", "ap", "map"):
        path = library_dir() / f"{name}.yaml"
        p = run("regimens", "validate", str(path))
        # valid, with no supportive gap; the reference case's cisplatin 140 mg/m² is above its
        # usual maximum single dose (120 mg/m²), critical in validate as in plan
        cisplatin_140 = name in ("ddp-ifo", "ddp-epi")
        assert p.returncode == (1 if cisplatin_140 else 0), p.stdout
        assert "REGIMEN_SUPPORTIVE_MISSING" not in p.stdout
        assert ("DOSE_ABOVE_USUAL_MAXIMUM: cisplatin 140 mg/m2" in p.stdout) == cisplatin_140
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        assert not list(Draft202012Validator(regimen_schema).iter_errors(data)), name


# ---------------------------------------------------------------- verify


def order_from_plan(run, regimen: str, **extra: object) -> dict:
    """Cycle 1 of ``regimen`` as planned for 175 cm / 70 kg: every line, the supportive care
    the regimen requires, and an antiemetic line on each treatment day."""
    start = (TODAY + timedelta(days=7)).isoformat()
    p = run("plan", regimen, *PATIENT, "--start", start, "--cycles", "1", "--format", "json")
    plan = json.loads(p.stdout)
    lines = [
        {"drug": a["drug"], "dose": f"{a['dose']!r} {a['unit']}", "day": a["day"], "route": "IV"}
        for a in plan["administrations"]
    ]
    days = sorted({a["day"] for a in plan["administrations"] if not a["supportive"]})
    lines += [{"drug": "ondansetron", "dose": "8 mg", "day": d, "route": "IV"} for d in days]
    order = {
        "regimen": regimen,
        "cycle": 1,
        "start": start,
        "patient": {"height": "175 cm", "weight": "70 kg"},
        "lines": lines,
        "supportive_care": [{"kind": c["kind"], "for": c["for"]} for c in plan["supportive_care"]],
    }
    order.update(extra)
    return order


def verify(run, tmp_path: Path, order: dict) -> tuple[int, dict]:
    path = write(tmp_path, "order.yaml", yaml.safe_dump(order, sort_keys=False))
    p = run("verify", str(path), *PATIENT, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    data = json.loads(p.stdout)
    jsonschema.validate(data, VERIFY_SCHEMA)
    return p.returncode, data


def found(data: dict, code: str) -> list[dict]:
    return [w for w in data["warnings"] if w["code"] == code]


def test_a_complete_dia_order_has_no_supportive_finding(run, tmp_path: Path) -> None:
    code, data = verify(run, tmp_path, order_from_plan(run, "dia"))
    assert not found(data, "ORDER_SUPPORTIVE_MISSING") and not found(data, "ORDER_DOSE_DEVIATION")
    assert not found(data, "ORDER_ANTIEMETIC_MISSING") and data["missing"] == []
    statuses = {(ln["drug"], ln["status"]) for ln in data["lines"]}
    assert ("ondansetron", "antiemetic") in statuses and ("mesna", "ok") in statuses
    assert {ln["for"] for ln in data["lines"] if ln["drug"] == "mesna"} == {"ifosfamide"}


def test_a_dia_order_without_mesna_is_held(run, tmp_path: Path) -> None:
    order = order_from_plan(run, "dia")
    order["lines"] = [ln for ln in order["lines"] if ln["drug"] != "mesna"]
    code, data = verify(run, tmp_path, order)
    assert code == 1 and data["verdict"] == "hold"
    [w] = found(data, "ORDER_SUPPORTIVE_MISSING")
    assert w["severity"] == "critical" and w["drug"] == "mesna"
    assert "mesna on days 1-5" in w["message"] and "gives ifosfamide on days 1-5" in w["message"]
    assert "MESNEX" in w["message"]
    assert not found(data, "ORDER_LINE_MISSING")


def test_mesna_at_40_percent_where_the_protocol_says_60_is_held_naming_the_deviation(
    run, tmp_path: Path
) -> None:
    order = order_from_plan(run, "dia")
    ifo = {
        ln["day"]: float(ln["dose"].split()[0])
        for ln in order["lines"]
        if ln["drug"] == "ifosfamide"
    }
    order["lines"] = [ln for ln in order["lines"] if ln["drug"] != "mesna"] + [
        {"drug": "mesna", "dose": f"{0.4 * dose:.1f} mg", "day": day, "route": "IV"}
        for day, dose in ifo.items()
    ]
    code, data = verify(run, tmp_path, order)
    assert code == 1 and data["verdict"] == "hold"
    deviations = [w for w in found(data, "ORDER_DOSE_DEVIATION") if w["drug"] == "mesna"]
    assert len(deviations) == 5
    assert "-33.3 % from the 2,213.6 mg recomputed (60 % of ifosfamide)" in deviations[0]["message"]
    # the same day written at 60 % in one line is the day's total: ok
    order["lines"] = [ln for ln in order["lines"] if ln["drug"] != "mesna"] + [
        {"drug": "mesna", "dose": f"{0.6 * dose:.1f} mg", "day": day, "route": "IV"}
        for day, dose in ifo.items()
    ]
    code, data = verify(run, tmp_path, order)
    assert not found(data, "ORDER_DOSE_DEVIATION") and not found(data, "ORDER_SUPPORTIVE_MISSING")


def test_mesna_follows_an_ifosfamide_ordered_outside_its_tolerance(run, tmp_path: Path) -> None:
    """Ifosfamide raised by half with the prescriber's acknowledgement, mesna left at 20 % of
    the regimen's dose (40 % of what is given) was released: mesna was held to the regimen's
    ifosfamide, not the ordered one. The label keeps the ratio when the dose changes."""
    order = order_from_plan(run, "dia")
    for ln in order["lines"]:
        if ln["drug"] == "ifosfamide":
            ln["dose"] = f"{1.5 * float(ln['dose'].split()[0]):.1f} mg"
    order["acknowledged"] = [
        {"code": "ORDER_DOSE_DEVIATION", "drug": "ifosfamide", "reason": "board", "by": "Dr X"}
    ]
    code, data = verify(run, tmp_path, order)
    mesna = [w for w in found(data, "ORDER_DOSE_DEVIATION") if w["drug"] == "mesna"]
    assert code == 1 and data["verdict"] == "hold" and {w["day"] for w in mesna} == set(range(1, 6))
    assert all(w["severity"] == "critical" for w in mesna)
    assert (
        "-33.3 % from the 1,106.8 mg recomputed (20 % of ifosfamide; ifosfamide as ordered: "
        in (mesna[0]["message"])
    )
    # mesna at 20 % of the ifosfamide as ordered: the ifosfamide's acknowledgement is all it needs
    for ln in order["lines"]:
        if ln["drug"] == "mesna":
            ln["dose"] = f"{1.5 * float(ln['dose'].split()[0]):.1f} mg"
    code, data = verify(run, tmp_path, order)
    assert (code, data["verdict"]) == (0, "release-with-notes"), data["warnings"]
    assert not [w for w in found(data, "ORDER_DOSE_DEVIATION") if w["drug"] == "mesna"]


def test_one_of_the_three_mesna_doses_left_out_is_held(run, tmp_path: Path) -> None:
    order = order_from_plan(run, "dia")
    last = max(i for i, ln in enumerate(order["lines"]) if ln["drug"] == "mesna")
    del order["lines"][last]
    code, data = verify(run, tmp_path, order)
    [w] = found(data, "ORDER_SUPPORTIVE_MISSING")
    # it said "mesna on day 5 (737.9 mg a day ...) is not on the order" of a day with two doses
    assert code == 1 and "1 of the 3 mesna doses a day on day 5 (737.9 mg each" in w["message"]
    # a fourth mesna line on a day: the regimen gives it three times that day, not once
    order = order_from_plan(run, "dia")
    extra = next(ln for ln in order["lines"] if ln["drug"] == "mesna" and ln["day"] == 2)
    order["lines"].append(dict(extra))
    code, data = verify(run, tmp_path, order)
    [w] = [w for w in found(data, "ORDER_LINE_UNEXPECTED") if w["drug"] == "mesna"]
    assert "dia gives it 3 times that day" in w["message"]


def test_a_mesna_day_left_out_is_the_pharmacists_to_release_as_a_missing_line(
    run, tmp_path: Path
) -> None:
    """A whole day of mesna left out, acknowledged in the order itself, was released with notes,
    while a dose left out (ORDER_LINE_MISSING) is the verifying pharmacist's: a dosed supportive
    line left out takes the same tier. Non-dosed care left out stays the order's."""
    order = order_from_plan(run, "dia")
    order["lines"] = [ln for ln in order["lines"] if not (ln["drug"] == "mesna" and ln["day"] == 3)]
    order["acknowledged"] = [
        {"code": "ORDER_SUPPORTIVE_MISSING", "drug": "mesna", "reason": "x", "by": "Dr X"}
    ]
    path = write(tmp_path, "order.yaml", yaml.safe_dump(order, sort_keys=False))
    p = run("verify", str(path), *PATIENT, "--format", "json")
    data = json.loads(p.stdout)
    [w] = found(data, "ORDER_SUPPORTIVE_MISSING")
    assert (p.returncode, w["severity"], w["day"]) == (1, "critical", 3)
    assert "only the verifying pharmacist can release it" in w["message"]
    [refused] = found(data, "ORDER_ACKNOWLEDGEMENT_NOT_ALLOWED")
    assert "a dose of mesna left out, as ORDER_LINE_MISSING" in refused["message"]
    ack = ["--acknowledge", "ORDER_SUPPORTIVE_MISSING:mesna=given on the ward", "--by", "Ph Y"]
    p = run("verify", str(path), *PATIENT, "--format", "json", *ack)
    [w] = found(json.loads(p.stdout), "ORDER_SUPPORTIVE_MISSING")
    assert w["severity"] == "warning" and "Ph Y" in w["message"]
    # cisplatin's hydration left out, acknowledged in the order: the order's to acknowledge
    order = order_from_plan(run, "ddp-epi", supportive_care=[])
    order["acknowledged"] = [
        {"code": "ORDER_SUPPORTIVE_MISSING", "drug": "cisplatin", "reason": "x", "by": "Dr X"}
    ]
    code, data = verify(run, tmp_path, order)
    [w] = found(data, "ORDER_SUPPORTIVE_MISSING")
    assert w["severity"] == "warning" and not found(data, "ORDER_ACKNOWLEDGEMENT_NOT_ALLOWED")


def test_cisplatin_without_hydration_is_held(run, tmp_path: Path) -> None:
    order = order_from_plan(run, "ddp-epi", supportive_care=[])
    code, data = verify(run, tmp_path, order)
    [w] = found(data, "ORDER_SUPPORTIVE_MISSING")
    assert code == 1 and w["drug"] == "cisplatin"
    assert "cisplatin on day 1 without hydration" in w["message"]
    assert "appropriate pre-treatment hydration" in w["message"]


def test_high_dose_methotrexate_without_leucovorin_is_held(run, tmp_path: Path) -> None:
    order = order_from_plan(run, "map")
    order["lines"] = [ln for ln in order["lines"] if ln["drug"] != "leucovorin"]
    code, data = verify(run, tmp_path, order)
    [w] = found(data, "ORDER_SUPPORTIVE_MISSING")
    assert code == 1 and w["drug"] == "leucovorin"
    assert "leucovorin on days 23, 30" in w["message"]
    assert "gives methotrexate on days 22, 29" in w["message"]


def test_leucovorin_ordered_on_the_methotrexate_day_is_told_the_rescue_days(
    run, tmp_path: Path
) -> None:
    """Leucovorin moved to the methotrexate days (22, 29: during the infusion, not rescue) was
    held as 'a further line of leucovorin on day 22: map gives it 4 times that day, and the order
    already has those', and moved to day 25 as 'map gives leucovorin on days 22, 29': the
    regimen's days, not the days its doses at 24-42 h after the start fall on (23, 30)."""
    for shift in (-1, 2):
        order = order_from_plan(run, "map")
        for ln in order["lines"]:
            if ln["drug"] == "leucovorin":
                ln["day"] += shift
        code, data = verify(run, tmp_path, order)
        said = [w["message"] for w in found(data, "ORDER_LINE_UNEXPECTED")]
        assert code == 1 and len(said) == 8, said
        day = 23 + shift
        assert f"map gives leucovorin on days 23, 30 of the cycle, not on day {day}" in said[0]
        assert not any("a further line" in s for s in said)


def test_leucovorin_is_not_required_when_methotrexate_is_not_ordered(run, tmp_path: Path) -> None:
    order = order_from_plan(run, "map")
    order["lines"] = [
        ln for ln in order["lines"] if ln["drug"] not in ("leucovorin", "methotrexate")
    ]
    code, data = verify(run, tmp_path, order)
    assert not found(data, "ORDER_SUPPORTIVE_MISSING")
    assert {w["drug"] for w in found(data, "ORDER_LINE_MISSING")} == {"leucovorin", "methotrexate"}


def test_a_highly_emetogenic_order_with_no_antiemetic_line_gets_a_warning(
    run, tmp_path: Path
) -> None:
    order = order_from_plan(run, "ddp-epi")
    order["lines"] = [ln for ln in order["lines"] if ln["drug"] != "ondansetron"]
    code, data = verify(run, tmp_path, order)
    [w] = found(data, "ORDER_ANTIEMETIC_MISSING")
    assert w["severity"] == "warning" and w["day"] == 1
    assert "day 1 is highly emetogenic (cisplatin; ASCO 2020)" in w["message"]
    assert "NK1 receptor antagonist" in w["message"]


def test_a_mesna_line_written_as_an_ordinary_line_is_held_to_what_a_linked_one_is(
    run, tmp_path: Path
) -> None:
    """An ordinary mesna line beside the one ifosfamide line counts as mesna (commit b461d0b:
    no false critical), its days and amount checked as a linked line's: 400 mg/m² once a day is
    20 % of 2 g/m² (the label gives 60 % a day); 1,200 mg/m² covers it. An ordinary leucovorin
    line is not rescue (nothing says when it starts)."""
    for dose, short in (("400 mg/m2", True), ("1200 mg/m2", False)):
        text = IFOSFAMIDE_ALONE + f"  - {{drug: mesna, dose: {dose}, days: 1-3, route: IV}}\n"
        p = run("plan", str(write(tmp_path, "m.yaml", text)), *PATIENT, "--start", START,
                "--format", "json", "--prior", "epirubicin=0mg/m2")  # fmt: skip
        gaps = {
            w["drug"]: w["message"]
            for w in json.loads(p.stdout)["warnings"]
            if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"
        }
        assert sorted(gaps) == (["cisplatin", "ifosfamide"] if short else ["cisplatin"]), dose
        if short:
            assert "at 20 % of that day's ifosfamide dose" in gaps["ifosfamide"]
            assert "below the 60 %" in gaps["ifosfamide"]


# ---------------------------------------------------------------- a supportive line must cover

HEAD = "id: t\nname: t\ncycle_length_days: 21\nsources: [x]\ngates: []\n"
IFO = HEAD + "drugs:\n  - {drug: ifosfamide, dose: 2 g/m2, days: 1-5, route: IV}\n"
MESNA = "  - {drug: mesna, supportive: true, for: ifosfamide, route: IV, "
MTX = HEAD + "drugs:\n  - {drug: methotrexate, dose: 12 g/m2, max_dose: 20 g, days: 1, route: IV}\n"
LV = "  - {drug: leucovorin, supportive: true, for: methotrexate, route: IV, "
CIS = HEAD + "drugs:\n  - {drug: cisplatin, dose: 75 mg/m2, days: 1, route: IV}\n"


def gap(run, tmp_path: Path, text: str) -> tuple[str, str] | None:
    """The REGIMEN_SUPPORTIVE_MISSING of a regimen file (severity, message), as `regimens
    validate` says it and `plan` warns it (the same one)."""
    path = write(tmp_path, "t.yaml", text)
    checked = run("regimens", "validate", str(path))
    assert checked.returncode in (0, 1), checked.stderr
    p = run("plan", str(path), "--bsa", "1.8", "--start", START, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    found = [
        (w["severity"], w["message"])
        for w in json.loads(p.stdout)["warnings"]
        if w["code"] == "REGIMEN_SUPPORTIVE_MISSING"
    ]
    assert len(found) <= 1, found
    if found:
        assert f"{found[0][0]} REGIMEN_SUPPORTIVE_MISSING: {found[0][1]}" in checked.stdout
        found = [(found[0][0], found[0][1].replace(f"{tmp_path}/", ""))]
        assert p.returncode == (1 if found[0][0] == "critical" else p.returncode)
    # a critical finding: validate exits 1 as plan does, and does not say ok
    critical = bool(found) and found[0][0] == "critical"
    assert checked.returncode == (1 if critical else 0) and critical != ("ok:" in checked.stdout)
    return found[0] if found else None


HELD = [
    # the tester's files: amount, a flat dose against a dose per m², timing, the drug served
    (IFO + MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [0], days: 1-5}\n",
     "critical", "mesna on days 1-5 at 20 % of that day's ifosfamide dose (its mesna line: "
     "t.yaml:8, drugs[1]), below the 60 % (MESNEX US label 2.1) a day"),
    (IFO + MESNA + "dose: 1 mg, days: 1-5}\n",
     "critical", "its mesna line (t.yaml:8, drugs[1]) at 1 mg a dose, which cannot be compared "
     "with ifosfamide at 2,000 mg/m² (mg with mg/m²)"),
    (IFO + MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [24, 28, 32], days: 1-5}\n",
     "critical", "no mesna on day 1 of it (its mesna line: t.yaml:8, drugs[1]; 24, 28, 32 h from "
     "the start of ifosfamide fall on a later day)"),
    (MTX + "  - {drug: cisplatin, dose: 60 mg/m2, days: 1, route: IV}\n"
     + LV.replace("for: methotrexate", "for: cisplatin")
     + "dose: 15 mg/m2, at_hours: [24, 30, 36, 42], days: 1}\n"
     "supportive_care:\n  - {kind: hydration, for: cisplatin, text: h, source: s}\n",
     "critical", "its leucovorin line (t.yaml:9, drugs[2]) serving cisplatin, not methotrexate"),
    (MTX + LV + "dose: 15 mg/m2, at_hours: [0], days: 1}\n",
     "critical", "its leucovorin line (t.yaml:8, drugs[1]) timed from 0 h, before rescue starts "
     "24 h (US methotrexate label, leucovorin rescue table) after the start of methotrexate"),
    # rescue that starts late: only 'not before 24 h' was checked, so a first dose at 48 h passed
    (MTX + LV + "dose: 15 mg/m2, at_hours: [48, 54, 60, 66], days: 1}\n",
     "critical", "its leucovorin line (t.yaml:8, drugs[1]) timed from 48 h, later than rescue "
     "may start, at most 36 h (Cohen and Wolff, Pediatr Blood Cancer 2014) after the start of "
     "methotrexate"),
    (MTX + LV + "dose: 15 mg, at_hours: [72, 78], days: 1}\n",
     "critical", "timed from 72 h, later than rescue may start, at most 36 h"),
    (MTX + "  - {drug: leucovorin, dose: 15 mg/m2, days: 2, route: IV}\n",
     "critical", "its leucovorin line (t.yaml:8, drugs[1]) not a supportive line for it"),
    (CIS + "supportive_care:\n  - {kind: hydration, for: cisplatin, required: false, text: h, "
     "source: s}\n",
     "warning", "its hydration (t.yaml:9, supportive_care[0]) marked required: false, so an "
     "order of cisplatin may leave it out"),
    # the same cause, other ways
    (IFO + MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [0, 4, 8], days: 1-5, "
     "required: false}\n",
     "critical", "its mesna line (t.yaml:8, drugs[1]) marked required: false"),
    (IFO + MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [0, 4, 8], days: 1-5, "
     "cycles: '1'}\n",
     "critical", "its mesna line (t.yaml:8, drugs[1]) given in cycle 1 only, ifosfamide in every "
     "cycle"),
    (IFO.replace("2 g/m2", "3000 mg") + MESNA + "dose: 1000 mg, at_hours: [0], days: 1-5}\n",
     "critical", "mesna on days 1-5 at 33.3 % of that day's ifosfamide dose"),
    (IFO + MESNA.replace("route: IV", "route: PO")
     + "percent_of: ifosfamide, percent: 20, at_hours: [0, 4, 8], days: 1-5}\n",
     "critical", "at 60 % of that day's ifosfamide dose (its mesna line: t.yaml:8, drugs[1]), "
     "below the 100 % (Skyscape mesna monograph, IV-oral schedule) a day"),
    (MTX + LV + "dose: 15 mg/m2, days: 1}\n",
     "critical", "not timed from the start of methotrexate (no at_hours)"),
    (MTX + LV + "dose: 5 mg, at_hours: [24, 30], days: 1}\n",
     "critical", "at 5 mg a dose, below the 15 mg (US methotrexate label, leucovorin rescue "
     "table) a dose"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "severity", "says"), HELD)
def test_a_supportive_line_that_does_not_cover_its_drug_is_reported_naming_it(
    run, tmp_path: Path, text: str, severity: str, says: str
) -> None:
    """The regimen checks looked only at which days a supportive drug was on: mesna at 20 % once
    a day, 1 mg flat, or 24 h late, leucovorin for cisplatin, at 0 h or not supportive, and
    hydration marked required: false all validated and planned with nothing said."""
    found = gap(run, tmp_path, text)
    assert found is not None, text
    assert found[0] == severity and says in found[1], found[1]
    assert "citing the protocol" in found[1]  # what would be valid


COVERED = [
    IFO + MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [0, 4, 8], days: 1-5}\n",
    IFO + MESNA + "ratio_to: ifosfamide, ratio: 0.6, days: 1-5}\n",
    IFO + MESNA + "dose: 1200 mg/m2, days: 1-5}\n",
    IFO.replace("2 g/m2", "3000 mg") + MESNA + "dose: 600 mg, at_hours: [0, 4, 8], days: 1-5}\n",
    IFO  # the label's IV-oral schedule: 20 % IV at 0 h, 40 % PO at 2 and 6 h
    + (MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [0], days: 1-5}\n")
    + MESNA.replace("route: IV", "route: PO")
    + "percent_of: ifosfamide, percent: 40, at_hours: [2, 6], days: 1-5, note: oral}\n",
    IFO  # a line that covers, and an optional one beside it: the optional one is not named
    + (MESNA + "percent_of: ifosfamide, percent: 20, at_hours: [0, 4, 8], days: 1-5}\n")
    + MESNA.replace("route: IV", "route: PO")
    + "dose: 1 mg, days: 1-5, required: false}\n",
    MTX + LV + "dose: 15 mg/m2, at_hours: [24, 30, 36, 42], days: 1}\n",
    MTX + LV + "dose: 15 mg/m2, at_hours: [36, 42, 48], days: 1}\n",  # the latest first dose
    MTX + LV + "dose: 15 mg, at_hours: [24, 30, 36, 42, 48, 54, 60, 66, 72, 78], days: 1}\n",
    CIS + "supportive_care:\n  - {kind: hydration, for: cisplatin, text: h, source: s}\n",
]


@pytest.mark.parametrize("text", COVERED)
def test_a_supportive_line_that_covers_its_drug_is_not_reported(
    run, tmp_path: Path, text: str
) -> None:
    """The label's schedules as written (mesna 20 % at 0, 4 and 8 h; 60 % in one dose; in its
    own mg/m² or mg against the same; the IV-oral schedule's 100 %), leucovorin 15 mg/m² or
    15 mg from 24 h, hydration for cisplatin: nothing said."""
    assert gap(run, tmp_path, text) is None


@pytest.mark.parametrize(("dose", "high"), [("500 mg/m2", True), ("499 mg/m2", False)])
def test_one_definition_of_high_dose_methotrexate_for_rescue_and_kidney(
    run, tmp_path: Path, dose: str, high: bool
) -> None:
    """The supportive data held leucovorin to 'above 500 mg/m2' while the organ data's
    high-dose kidney rule began at 500: exactly 500 mg/m² was high for one and not the other.
    One definition (>= 500 mg/m², supportive.yaml hdmtx.definition.high_dose) now serves both."""
    text = HEAD + f"drugs:\n  - {{drug: methotrexate, dose: {dose}, days: 1, route: IV}}\n"
    p = run("plan", str(write(tmp_path, "m.yaml", text)), *PATIENT, "--age", "60", "--sex",
            "male", "--scr", "1.6mg/dL", "--start", START, "--format", "json")  # fmt: skip
    codes = {w["code"] for w in json.loads(p.stdout)["warnings"]}
    assert ("REGIMEN_SUPPORTIVE_MISSING" in codes) is high  # leucovorin rescue required
    assert ("ORGAN_FUNCTION_CONTRAINDICATION" in codes) is high  # CrCl < 60: the high-dose rule
    assert ("ORGAN_FUNCTION_ADJUSTMENT" in codes) is not high  # the low-dose rule's 50 %


@pytest.mark.parametrize(
    "text",
    [
        # 25 mg of methotrexate by mouth is 500 mg/m² only at the 0.05 m² bound of what
        # dosecalc takes: not high-dose (it became a critical with the >= 500 definition)
        MTX.replace(
            "dose: 12 g/m2, max_dose: 20 g, days: 1, route: IV", "dose: 25 mg, days: 1, route: PO"
        ),
        # a patient rule on both lines (an infant's 50 %): each line's own dose is compared
        MTX.replace(
            "route: IV}", "route: IV, rules: [{when: {bsa_below: 0.6 m2}, percent: 50, source: x}]}"
        )
        + LV
        + "dose: 15 mg/m2, at_hours: [24, 30, 36], days: 1, rules: [{when: {bsa_below: "
        "0.6 m2}, percent: 50, source: x}]}\n",
        # an infant's per-kg ifosfamide rule does not make an adult's mesna line incomparable
        IFO.replace(
            "route: IV}",
            "route: IV, rules: [{when: {bsa_below: 0.6 m2}, dose: 100 mg/kg, source: x}]}",
        )
        + MESNA
        + "dose: 1.2 g/m2, days: 1-5, infusion: with ifosfamide}\n",
    ],
    ids=["25 mg flat", "rules on both", "infant rule on the drug"],
)
def test_patient_rules_and_bounds_raise_no_false_critical(run, tmp_path: Path, text: str) -> None:
    assert gap(run, tmp_path, text) is None
