"""Regimen files: the format of CONTRACT §3, refused with file:line and key path when wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dosecalc.base.errors import FileError
from dosecalc.data import regimen as rg
from tests.conftest import ROOT, write

GOOD = """\
id: test-regimen
name: "Test"
cycle_length_days: 21
cycles: 2
sources:
  - "A citation"
drugs:
  - drug: DDP
    dose: 100 mg/m2
    days: 1
    route: IV
  - drug: EPI
    total_dose: 120 mg/m2
    days: 1-3
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, "r.yaml", text)
    with pytest.raises(FileError) as e:
        rg.load_file(path)
    return [str(p).replace(str(path), "r.yaml") for p in e.value.problems]


def test_a_good_file_with_synonyms_and_a_divided_total(tmp_path: Path) -> None:
    r = rg.load_file(write(tmp_path, "r.yaml", GOOD))
    assert [o.drug for o in r.drugs] == ["cisplatin", "epirubicin"]
    epi = r.drugs[1]
    assert epi.days == (1, 2, 3)
    assert epi.per_day.amount == pytest.approx(40.0)  # 120 mg/m² divided over 3 days
    assert epi.default_route == "IV"  # from the drug data


def test_unknown_key_names_line_and_path_and_valid_keys(tmp_path: Path) -> None:
    text = GOOD.replace("    route: IV\n", "    route: IV\n    dose_per_day: 3 mg\n", 1)
    [p] = problems(tmp_path, text)
    assert p.startswith(
        "r.yaml:12: drugs[0].dose_per_day: unknown key 'dose_per_day'; "
        "valid keys here: drug, dose, total_dose, days, route, max_dose"
    )


def test_all_errors_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    text = (
        GOOD.replace("cycle_length_days: 21", "cycle_length_days: 21\ncolour: red")
        .replace("dose: 100 mg/m2", "dose: 100")
        .replace("days: 1-3", "days: 1-30")
    )
    ps = problems(tmp_path, text)
    assert ps == [
        "r.yaml:4: colour: unknown key 'colour'; valid keys here: id, name, indication, "
        "version, cycle_length_days, cycles, sources, assumptions, unverified, notes, status, "
        "approved_by, approved_on, review_due, drugs, gates, not_gated, children, supportive_care",
        "r.yaml:10: drugs[0].dose: 100 has no unit; write e.g. '120 mg/m2', '2 g/m2', "
        "'10 units/m2', '5 mg/kg', '12 mg' or 'AUC 5'",
        "r.yaml:15: drugs[1].days: day 30 is after the end of the 21-day cycle; days must lie "
        "within 1-21",
    ]


def test_missing_required_key(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD.replace("cycle_length_days: 21\n", "")) == [
        "r.yaml:1: cycle_length_days: this required key is missing"
    ]


def test_no_sources_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('sources:\n  - "A citation"\n', "sources: []\n")
    [p] = problems(tmp_path, text)
    assert p == "r.yaml:5: sources: needs at least 1 item; the file gives 0"


def test_dose_and_total_dose_together_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    total_dose: 120 mg/m2\n", "    total_dose: 120 mg/m2\n    dose: 40 mg/m2\n"
    )
    [p] = problems(tmp_path, text)
    assert p == (
        "r.yaml:12: drugs[1]: give either 'dose' (the dose on each listed day) or "
        "'total_dose' (a total divided over the days), exactly one of them"
    )


def test_unknown_drug_suggests_close_names(tmp_path: Path) -> None:
    [p] = problems(tmp_path, GOOD.replace("drug: DDP", "drug: cisplatine"))
    assert p == (
        "r.yaml:8: drugs[0].drug: 'cisplatine' is not a drug dosecalc knows; "
        "did you mean cisplatin?"
    )


def test_auc_only_for_carboplatin(tmp_path: Path) -> None:
    [p] = problems(tmp_path, GOOD.replace("dose: 100 mg/m2", "dose: AUC 5"))
    assert p.endswith("drugs[0]: an AUC dose is only valid for carboplatin, not cisplatin")


def test_mg_for_a_units_drug_is_refused(tmp_path: Path) -> None:
    [p] = problems(tmp_path, GOOD.replace("drug: DDP", "drug: bleomycin"))
    assert p.endswith("drugs[0]: bleomycin is dosed in units, but the dose '100 mg/m2' is in mg")


def test_max_dose_must_be_absolute(tmp_path: Path) -> None:
    [p] = problems(
        tmp_path, GOOD.replace("    route: IV\n", "    route: IV\n    max_dose: 2 mg/m2\n")
    )
    assert "max_dose '2 mg/m2' must be an absolute amount in mg" in p


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "day 0 is before day 1"),
        ("3-1", "runs backwards"),
        ("1,1", "day 1 is listed twice"),
        ("d1", "'d1' is not a number; write days as"),
        ("[1, 2.5]", "2.5 is not a day number"),
        ("true", "True is not a day"),
        ("[]", "[] is not a list of days"),
    ],
)
def test_bad_days(tmp_path: Path, days: str, message: str) -> None:
    [p] = problems(tmp_path, GOOD.replace("days: 1\n", f"days: {days}\n"))
    assert p.startswith("r.yaml:10: drugs[0].days: ") and message in p, p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: a\nid: b\n", "r.yaml:2: not valid YAML: duplicate key 'id' (first given on line 1)"),
        (
            "x: !!python/object/apply:os.system ['true']\n",
            "r.yaml:1: not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
        (
            "a: &x 1\nb: *x\n",
            "r.yaml:1: not valid YAML: YAML anchors and aliases (& and *) are "
            "not allowed; write the values out",
        ),
        ("- 1\n- 2\n", "r.yaml:1: the file is a list, not a mapping of keys"),
        ("", "r.yaml: the file is empty"),
        (
            "a: [1, 2\n",
            "r.yaml:2: not valid YAML: while parsing a flow sequence expected ',' or "
            "']', but got '<stream end>'",
        ),
        (
            "x: " + "[" * 100 + "]" * 100 + "\n",
            "r.yaml:1: not valid YAML: the document is nested more than 32 levels deep",
        ),
    ],
)
def test_hostile_or_broken_yaml(tmp_path: Path, text: str, message: str) -> None:
    assert problems(tmp_path, text) == [message]


def test_non_utf8_bytes_are_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"id: x\nname: \xff\n")
    with pytest.raises(FileError) as e:
        rg.load_file(path)
    assert str(e.value).endswith("r.yaml:2: byte 0xff is not UTF-8; save the file as UTF-8")


def test_yaml_booleans_and_dates_do_not_sneak_in(tmp_path: Path) -> None:
    # 'route: no' stays the text "no" (YAML 1.1 would make it False), and is then no route;
    # dates stay text
    with pytest.raises(FileError) as e:
        rg.load_file(write(tmp_path, "r.yaml", GOOD.replace("route: IV", "route: no")))
    assert "route 'no' is not a route dosecalc knows" in str(e.value)


# ---------------------------------------------------------------- the library

LIBRARY = sorted((ROOT / "regimens").glob("*.yaml"))
REQUIRED = {
    "dia",
    "ddp-epi",
    "ddp-ifo",
    "anlotinib",
    "map",
    "ap",
    "ac",
    "ec",
    "fec-100",
    "abvd",
    "r-chop-21",
    "mfolfox6",
    "carboplatin-paclitaxel",
}


def test_the_library_has_every_id_of_the_contract() -> None:
    assert REQUIRED <= {p.stem for p in LIBRARY}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_library_regimen_validates_and_cites_a_source(path: Path) -> None:
    r = rg.load_file(path)
    assert r.id == path.stem
    assert r.sources and all(len(s) > 20 for s in r.sources), "each source is a real citation"


def test_library_ids_are_case_insensitive() -> None:
    assert rg.load("DIA").id == "dia"


def test_unknown_library_id_suggests() -> None:
    with pytest.raises(FileError) as e:
        rg.resolve("dai")
    assert "'dai' is neither a library regimen nor a file; did you mean dia?" in str(e.value)


@pytest.mark.parametrize(
    ("regimen", "drug", "per_cycle"),
    [
        ("dia", "epirubicin", 120),
        ("dia", "ifosfamide", 10_000),
        ("dia", "cisplatin", 120),
        ("ddp-epi", "epirubicin", 50),
        ("ddp-epi", "cisplatin", 140),
        ("ddp-ifo", "cisplatin", 140),
        ("ddp-ifo", "ifosfamide", 10_000),
    ],
)
def test_reference_case_regimens_match_the_report(
    regimen: str, drug: str, per_cycle: float
) -> None:
    """seed-case.md: DIA cisplatin 120 d1, epirubicin 40 d1-3, ifosfamide 2 g/m² d1-5; DDP+EPI
    cisplatin 140 d1 + epirubicin 50 d1; DDP+IFO cisplatin 140 d1 + ifosfamide 2 g/m² d1-5."""
    r = rg.load(regimen)
    total = sum(o.per_day.amount * len(o.days) for o in r.drugs if o.drug == drug)
    assert total == pytest.approx(per_cycle)


def small_regimen(tmp_path: Path, name: str, lines: str, sources: str = "[x]") -> Path:
    """A regimen file ``name`` of the drug orders ``lines`` (YAML, from line 6) under the least
    header a regimen needs."""
    path = tmp_path / name
    path.write_text(f"id: t\nname: t\ncycle_length_days: 21\nsources: {sources}\ndrugs:\n" + lines)
    return path


def refusal(path: Path) -> str:
    """What loading the regimen file ``path`` refuses, as one text."""
    with pytest.raises(FileError) as e:
        rg.load(str(path))
    return str(e.value)


def test_a_vinca_by_any_route_but_iv_is_refused_at_its_line(tmp_path: Path) -> None:
    """Vincristine, vinblastine and vinorelbine are fatal by any route but IV (their labels):
    intrathecal vincristine planned normally, its only warning about the dose's size."""
    text = refusal(
        small_regimen(
            tmp_path,
            "it.yaml",
            "  - {drug: vincristine, dose: 1.4 mg/m2, days: 1, max_dose: 2 mg, route: intrathecal}\n"
            "  - {drug: vinorelbine, dose: 25 mg/m2, days: 1, route: i.v.}\n"
            "  - {drug: vinblastine, dose: 6 mg/m2, days: 1, route: IT}\n",
        )
    )
    assert "it.yaml:6: drugs[0].route: vincristine is given IV only, fatal" in text
    assert "it.yaml:8: drugs[2].route: vinblastine is given IV only" in text
    assert "vinorelbine" not in text  # i.v. is IV
    # every wording of IV is IV (the minibag ISMP recommends among them), and vinorelbine has
    # oral capsules too
    for route in ("IV minibag", "IV drip", "slow IV push", "IV-push", "intravenous bolus",
                  "IV piggyback"):  # fmt: skip
        path = small_regimen(tmp_path, "iv.yaml",
                             f"  - {{drug: vincristine, dose: 1.4 mg/m2, days: 1, route: {route}}}\n"
                             "  - {drug: vinorelbine, dose: 60 mg/m2, days: 8, route: PO}\n")  # fmt: skip
        assert len(rg.load(str(path)).drugs) == 2, route


def test_a_drug_by_a_route_its_label_does_not_give_is_named(run, tmp_path: Path) -> None:
    """Epirubicin, cisplatin and bortezomib intrathecally validated and planned without a word
    (only the vinca alkaloids' routes were checked): a drug made for IV given into the spinal
    fluid can kill. Intrathecally, where the drug data's list of the label's routes is verified
    (thiotepa's, topotecan's, pemetrexed's, dactinomycin's, idarubicin's, Vyxeos', carmustine's and dacarbazine's since their labels were read), it is
    critical (exit 1); any other route the label does not give (epirubicin PO), or IT by a list
    still unverified (mitomycin), a warning. Methotrexate and cytarabine IT are labelled."""
    lines = (
        "  - {drug: epirubicin, dose: 10 mg, days: 1, route: IT}\n"
        "  - {drug: cisplatin, dose: 10 mg, days: 1, route: intrathecal}\n"
        "  - {drug: bortezomib, dose: 1.3 mg/m2, days: 1, route: IT}\n"
        "  - {drug: thiotepa, dose: 10 mg, days: 2, route: IT}\n"
        "  - {drug: gemcitabine, dose: 10 mg, days: 3, route: IT}\n"
        "  - {drug: epirubicin, dose: 20 mg/m2, days: 8, route: PO}\n"
        "  - {drug: methotrexate, dose: 12 mg, days: 2, route: IT}\n"
        "  - {drug: cytarabine, dose: 30 mg, days: 2, route: intrathecal}\n"
        "  - {drug: mitomycin, dose: 1 mg, days: 3, route: IT}\n"
        "  - {drug: topotecan, dose: 0.4 mg, days: 3, route: IT}\n"
        "  - {drug: pemetrexed, dose: 10 mg, days: 3, route: IT}\n"
        "  - {drug: dactinomycin, dose: 0.1 mg, days: 3, route: IT}\n"
        "  - {drug: idarubicin, dose: 1 mg, days: 3, route: IT}\n"
        "  - {drug: Vyxeos, dose: 1 mg, days: 3, route: IT}\n"
        "  - {drug: carmustine, dose: 5 mg, days: 3, route: IT}\n"
        "  - {drug: dacarbazine, dose: 10 mg, days: 3, route: IT}\n"
    )
    path = small_regimen(tmp_path, "it.yaml", lines)
    p = run("regimens", "validate", str(path))
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    said = " ".join((p.stdout + p.stderr).split())
    for where, drug in (("t line 1", "epirubicin IT"), ("t line 2", "cisplatin intrathecal"),
                        ("t line 3", "bortezomib IT"), ("t line 4", "thiotepa IT"),
                        ("t line 5", "gemcitabine IT"), ("t line 10", "topotecan IT"),
                        ("t line 11", "pemetrexed IT"), ("t line 12", "dactinomycin IT"),
                        ("t line 13", "idarubicin IT"), ("t line 15", "carmustine IT"),
                        ("t line 16", "dacarbazine IT")):  # fmt: skip
        assert (
            f"critical ROUTE_INTRATHECAL_NOT_LABELLED: {drug} ({where}): IT is not a route" in said
        )
    assert "warning ROUTE_NOT_LABELLED: mitomycin IT (t line 9)" in said
    assert "a list the drug data marks unverified" in said
    assert "warning ROUTE_NOT_LABELLED: epirubicin PO (t line 6): PO is not a route" in said
    assert "methotrexate IT" not in said and "cytarabine intrathecal" not in said
    p = run("plan", str(path), "--bsa", "1.8", "--start", "2027-01-04", "--format", "json")
    assert p.returncode == 1, p.stderr
    found = {(w["code"], w["severity"], w["drug"]) for w in json.loads(p.stdout)["warnings"]
             if w["code"].startswith("ROUTE_")}  # fmt: skip
    assert found == {
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "epirubicin"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "cisplatin"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "bortezomib"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "gemcitabine"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "thiotepa"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "topotecan"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "pemetrexed"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "dactinomycin"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "idarubicin"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "liposomal daunorubicin-cytarabine"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "carmustine"),
        ("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "dacarbazine"),
        ("ROUTE_NOT_LABELLED", "warning", "mitomycin"),
        ("ROUTE_NOT_LABELLED", "warning", "epirubicin"),
    }


def test_every_library_regimen_is_given_by_its_labels_routes(run) -> None:
    """Each regimen of the library validates and plans for a typical adult without a route
    warning: every line's route is one its drug's labels give."""
    p = run("regimens", "validate", str(ROOT / "regimens"))
    assert "ROUTE_" not in p.stdout + p.stderr
    for regimen in rg.library_ids():
        p = run("plan", regimen, "--height", "175cm", "--weight", "70kg", "--age", "50",
                "--sex", "female", "--scr", "0.9mg/dL", "--start", "2027-01-04", "--format", "json")  # fmt: skip
        assert p.returncode in (0, 1), p.stderr
        codes = {w["code"] for w in json.loads(p.stdout)["warnings"]}
        assert not {c for c in codes if c.startswith("ROUTE_")}, (regimen, codes)


def test_a_route_is_one_known_route_exactly_never_a_text_holding_iv(run, tmp_path: Path) -> None:
    """'IV/IT', 'IT (not IV)' and 'intrathecal, flush IV line' were read as IV (any text holding
    the word iv): intrathecal vincristine passed the IV-only guard, planned and released. A
    route is one wording of IV, PO, SC, IM or IT exactly; several routes are ambiguous, and
    anything else ('no', a typo) is no route."""
    lines = (
        "  - {drug: vincristine, dose: 1.4 mg/m2, days: 1, max_dose: 2 mg, route: IV/IT}\n"
        "  - {drug: vinblastine, dose: 6 mg/m2, days: 8, route: 'IT (not IV)'}\n"
        "  - {drug: cytarabine, dose: 100 mg/m2, days: 2, route: 'intrathecal, flush IV line'}\n"
        "  - {drug: epirubicin, dose: 90 mg/m2, days: 1, route: no}\n"
        "  - {drug: cyclophosphamide, dose: 600 mg/m2, days: 1, route: IVV}\n"
    )
    path = small_regimen(tmp_path, "routes.yaml", lines)
    for args in (("regimens", "validate", str(path)),
                 ("plan", str(path), "--bsa", "1.8", "--start", "2027-01-04")):  # fmt: skip
        p = run(*args)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
        err = " ".join(p.stderr.split())
        valid = "write one of IV, PO, SC, IM, IT"
        assert (
            "routes.yaml:6: drugs[0].route: route 'IV/IT' names more than one route (IV, IT)" in err
        )
        assert "routes.yaml:7: drugs[1].route: route 'IT (not IV)' names more than one route" in err
        assert "routes.yaml:8: drugs[2].route: route 'intrathecal, flush IV line' names more" in err
        assert (
            f"routes.yaml:9: drugs[3].route: route 'no' is not a route dosecalc knows: {valid}"
            in err
        )
        assert "routes.yaml:10: drugs[4].route: route 'IVV' is not a route dosecalc knows" in err
    # every wording dosecalc reads is kept, each exactly one route
    ok = small_regimen(
        tmp_path,
        "ok.yaml",
        "".join(
            f"  - {{drug: cisplatin, dose: 10 mg/m2, days: {day}, route: '{r}'}}\n"
            for day, r in enumerate(
                ("IV", "i.v.", "intravenous", "IV push", "IV bolus", "IV minibag", "IVPB"), 1
            )
        )
        + "  - {drug: capecitabine, dose: 1000 mg/m2, days: 8-14, route: p.o.}\n"
        + "  - {drug: methotrexate, dose: 12 mg, days: 2, route: intrathecal}\n",
    )
    p = run("regimens", "validate", str(ok))
    assert p.returncode == 0, p.stderr


def test_a_dose_or_cap_in_a_smaller_unit_than_the_drugs_is_warned(run, tmp_path: Path) -> None:
    """Epirubicin '90 mcg/m2' (0.09 mg/m², a thousandth) and vincristine 'max_dose: 2 mcg' (a cap
    a thousandth of the one meant) passed validate and plan without a word: the usual maximum
    guards only a dose too high. The unit as written is compared with the drug data's."""
    lines = (
        "  - {drug: epirubicin, dose: 90 mcg/m2, days: 1}\n"
        "  - {drug: vincristine, dose: 1.4 mg/m2, days: 1, max_dose: 2 mcg}\n"
        "  - {drug: cyclophosphamide, dose: 0.6 g/m2, days: 1}\n"
    )
    path = small_regimen(tmp_path, "mcg.yaml", lines)
    p = run("regimens", "validate", str(path))
    assert p.returncode == 0, p.stderr
    out = " ".join(p.stdout.split())
    assert (
        "warning DOSE_UNIT_UNUSUAL: epirubicin (t line 1): dose '90 mcg/m2' is written in mcg, a "
        "smaller unit than the mg the drug data doses epirubicin in: it is 0.09 mg/m², 1,000 "
        "times less than 90 mg/m²" in out
    )
    assert "vincristine (t line 2): max_dose '2 mcg' is written in mcg" in out
    assert out.count("DOSE_UNIT_UNUSUAL") == 2  # a gram is a larger unit: the usual maximum's
    p = run("plan", str(path), "--bsa", "1.8", "--start", "2027-01-04", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    found = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "DOSE_UNIT_UNUSUAL"]
    assert [(w["drug"], w["severity"]) for w in found] == [
        ("epirubicin", "warning"),
        ("vincristine", "warning"),
    ]


def test_a_source_of_spaces_is_no_citation(tmp_path: Path) -> None:
    lines = "  - {drug: cisplatin, dose: 75 mg/m2, days: 1, source: ' '}\n"
    text = refusal(small_regimen(tmp_path, "blank.yaml", lines, sources="['   ']"))
    assert "blank.yaml:4: sources[0]: '   ' is not valid here: write some text" in text
    assert "blank.yaml:6: drugs[0].source" in text  # every problem of the file at once


def test_a_file_here_named_like_a_library_id_is_refused_as_unclear(
    tmp_path: Path, monkeypatch
) -> None:
    """A file 'dia' in the current folder (cisplatin 1,489 mg) replaced the library's dia
    without a word: its header said [dia]."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dia").write_text((ROOT / "regimens" / "dia.yaml").read_text())
    with pytest.raises(FileError) as e:
        rg.resolve("dia")
    assert "both a library regimen and a file in this folder" in str(e.value)
    assert rg.resolve("./dia") == Path("./dia")
    (tmp_path / "map").mkdir()  # a folder of that name is no file: the library's
    assert rg.resolve("map").name == "map.yaml"


def test_a_tab_for_indentation_is_said_so(tmp_path: Path) -> None:
    text = refusal(
        small_regimen(tmp_path, "tab.yaml", "\t- {drug: cisplatin, dose: 75 mg/m2, days: 1}\n")
    )
    assert "tab.yaml:6:" in text and "indent with spaces, not tabs" in text


def test_an_order_file_given_as_a_regimen_is_said_in_one_sentence() -> None:
    """Thirteen 'required key is missing' and 'unknown key' errors, each listing nineteen keys."""
    with pytest.raises(FileError) as e:
        rg.load(str(ROOT / "examples" / "order-ec-cycle2.yaml"))
    assert len(e.value.problems) == 1
    assert "this is an order file, not a regimen; `dosecalc verify` reads it" in str(e.value)


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        # an exact copy: the day's cisplatin doubled without a word
        ("  - {drug: cisplatin, dose: 75 mg/m2, days: 1}\n" * 2, "on day 1 of every cycle"),
        # a split dose: each line under vincristine's 2 mg cap, the day's 3.7 mg above it
        ("  - {drug: vincristine, dose: 1 mg/m2, days: 1}\n"
         "  - {drug: vincristine, dose: 1 mg/m2, days: 1, max_dose: 2 mg}\n", "every cycle"),
        # a loading dose's cycles overlapping the maintenance's
        ("  - {drug: trastuzumab, dose: 8 mg/kg, days: 1, cycles: 1-2}\n"
         "  - {drug: trastuzumab, dose: 6 mg/kg, days: 1, cycles: 2-}\n", "on day 1 of cycle 2"),
    ],
)  # fmt: skip
def test_one_drug_on_one_day_by_two_lines_is_refused(tmp_path: Path, lines: str, said: str) -> None:
    text = refusal(small_regimen(tmp_path, "two.yaml", lines))
    assert "two.yaml:7: drugs[1].drug:" in text and said in text
    assert "and line 1 (drugs[0])" in text


def test_a_bolus_and_an_infusion_of_one_drug_on_one_day_are_two_doses(tmp_path: Path) -> None:
    reg = rg.load("mfolfox6")  # fluorouracil 400 mg/m2 bolus and 2,400 mg/m2 over 46 h, day 1
    assert [o.drug for o in reg.drugs].count("fluorouracil") == 2
    for lines in (
        # capecitabine twice a day, told apart by their notes
        "  - {drug: capecitabine, dose: 1000 mg/m2, days: 1-14, route: PO, note: morning}\n"
        "  - {drug: capecitabine, dose: 1000 mg/m2, days: 1-14, route: PO, note: evening}\n",
        # the short form of infusion: words
        "  - {drug: fluorouracil, dose: 400 mg/m2, days: 1, infusion: 'bolus, 15 min'}\n"
        "  - {drug: fluorouracil, dose: 2400 mg/m2, days: 1, infusion: '46 h continuous'}\n",
    ):
        assert len(rg.load(str(small_regimen(tmp_path, "two.yaml", lines))).drugs) == 2


@pytest.mark.parametrize(
    ("auc", "side"),
    [("0.5", "below the lowest"), ("1.5", "below the lowest"), ("9", "above the highest")],
)
def test_a_target_auc_outside_the_usual_targets_is_warned(run, tmp_path, auc, side) -> None:
    """AUC 0.5 (a decimal slip for 5: a tenth of the dose) was planned without a word; no source
    gives a hard range, so it is a warning in plan and regimens validate, naming the range."""
    text = (ROOT / "regimens" / "carboplatin-paclitaxel.yaml").read_text(encoding="utf-8")
    assert "dose: AUC 5\n" in text
    write(tmp_path, "r.yaml", text.replace("dose: AUC 5\n", f"dose: AUC {auc}\n"))
    patient = ["--height", "170", "--weight", "70", "--age", "60", "--sex", "female"]
    p = run("plan", "r.yaml", *patient, "--scr", "0.9mg/dL", "--start", "2026-12-01",
            "--format", "json")  # fmt: skip
    found = [w for w in json.loads(p.stdout)["warnings"] if w["code"] == "AUC_OUTSIDE_USUAL_RANGE"]
    assert [w["severity"] for w in found] == ["warning"], p.stdout[-2000:]
    assert f"dose 'AUC {auc}' is {side} target" in found[0]["message"]
    assert "AUC 2 to 7.5 mg/mL·min" in found[0]["message"]
    v = run("regimens", "validate", "r.yaml")
    assert "warning AUC_OUTSIDE_USUAL_RANGE" in v.stdout, v.stdout


def test_the_usual_targets_are_not_warned(run) -> None:
    p = run("regimens", "validate", "carboplatin-paclitaxel")
    assert p.returncode == 0 and "AUC_OUTSIDE" not in p.stdout, p.stdout


def test_a_triple_intrathecal_line_plans_with_hydrocortisone_named_off_label(
    run, tmp_path: Path
) -> None:
    """Triple intrathecal therapy (methotrexate, cytarabine, hydrocortisone), the CNS prophylaxis
    of childhood ALL, was refused as an unknown drug: hydrocortisone was not in the drug data. It
    now validates and plans; hydrocortisone intrathecally is off-label (its US label: IV or IM),
    so it is ROUTE_INTRATHECAL_NOT_LABELLED for the pharmacist to release, while methotrexate and
    cytarabine intrathecally are labelled and say nothing."""
    lines = (
        "  - {drug: methotrexate, dose: 12 mg, days: 1, route: IT}\n"
        "  - {drug: cytarabine, dose: 30 mg, days: 1, route: IT}\n"
        "  - {drug: hydrocortisone sodium succinate, dose: 15 mg, days: 1, route: IT}\n"
    )
    path = small_regimen(tmp_path, "triple-it.yaml", lines)
    p = run("regimens", "validate", str(path))
    said = " ".join((p.stdout + p.stderr).split())
    assert p.returncode == 1 and "Traceback" not in p.stderr, said
    assert "unknown" not in said.lower(), said
    assert "critical ROUTE_INTRATHECAL_NOT_LABELLED: hydrocortisone" in said, said
    assert "methotrexate" not in said and "cytarabine" not in said, said
    p = run("plan", str(path), "--bsa", "0.8", "--start", "2027-01-04", "--format", "json")
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    found = {(w["code"], w["severity"], w["drug"]) for w in out["warnings"]
             if w["code"].startswith("ROUTE_")}  # fmt: skip
    assert found == {("ROUTE_INTRATHECAL_NOT_LABELLED", "critical", "hydrocortisone")}
    doses = json.dumps(out)
    for drug in ("methotrexate", "cytarabine", "hydrocortisone"):
        assert drug in doses
