"""A policy file and --set as a careless or hostile institution would write them: each read one
way, each refusal one sentence naming the input (the installed program, real TOML files)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write


def test_a_setting_given_twice_with_set_is_refused_not_the_last_one_silently(process) -> None:
    result = process(
        "policy",
        "show",
        "--set",
        "carboplatin.gfr_cap_ml_min=110",
        "--set",
        "carboplatin.gfr_cap_ml_min=120",
    )
    assert result.returncode == 2, result.stdout
    assert "carboplatin.gfr_cap_ml_min is given twice ('110' and '120')" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_dosecalc_policy_variable_is_refused_not_the_defaults(
    process, tmp_path: Path
) -> None:
    result = process("policy", "show", env={"DOSECALC_POLICY": ""})
    assert result.returncode == 2, result.stdout
    assert "$DOSECALC_POLICY" in result.stderr and "empty" in result.stderr
    policy = write(tmp_path, "p.toml", "[carboplatin]\ngfr_cap_ml_min = 100\n")
    given = process("policy", "show", "--policy", str(policy), env={"DOSECALC_POLICY": ""})
    assert given.returncode == 0, given.stderr  # --policy comes first: the variable is not read


def test_labs_uln_written_as_a_toml_subtable_or_dotted_key_is_read(process, tmp_path: Path) -> None:
    import json

    for n, text in enumerate(
        (
            "[labs.uln]\nbilirubin_mg_dl = 1.2\n",
            "[labs]\nuln.bilirubin_mg_dl = 1.2\n",
            '[labs]\n"uln.bilirubin_mg_dl" = 1.2\n',
        )
    ):
        policy = write(tmp_path, f"p{n}.toml", text)
        result = process("policy", "show", "--policy", str(policy), "--format", "json")
        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout)
        shown = shown.get("settings", shown)
        assert shown["labs.uln.bilirubin_mg_dl"]["value"] == 1.2
        assert shown["labs.uln.bilirubin_mg_dl"]["from"] == f"{policy}:2"
    typo = write(tmp_path, "typo.toml", "[labs.uln]\nbilirubn_mg_dl = 1.2\n")
    refused = process("policy", "show", "--policy", str(typo))
    assert refused.returncode == 2
    assert f"{typo}:2: labs.uln.bilirubn_mg_dl: unknown setting" in refused.stderr


ORDER = Path(__file__).resolve().parents[1] / "examples" / "order-ec-cycle2.yaml"
PATIENT = ["--height", "175cm", "--weight", "70kg", "--age", "52", "--sex", "female"]
PATIENT += ["--scr", "0.8mg/dL", "--prior", "epirubicin=90mg/m2"]


def test_verify_names_the_policy_file_in_force_and_its_checksum(process, tmp_path: Path) -> None:
    import hashlib
    import json

    text = "[verify]\ntolerance_percent = 10\n"
    policy = write(tmp_path, "loose.toml", text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    table = process("verify", str(ORDER), *PATIENT, "--policy", str(policy))
    assert table.returncode == 0, table.stderr  # release with notes: the order is right
    said = " ".join(table.stdout.split())
    assert f"Policy file {policy} (SHA-256 {sha[:12]}); verify.tolerance_percent = 10" in said
    out = json.loads(
        process("verify", str(ORDER), *PATIENT, "--policy", str(policy), "--format", "json").stdout
    )
    assert out["policy_file"] == {"path": str(policy), "sha256": sha}
    assert out["policy"]["verify.tolerance_percent"]["value"] == 10
    assert out["policy"]["verify.tolerance_percent"]["from"] == f"{policy}:2"
    plan = json.loads(
        process("plan", "ec", *PATIENT[:4], "--policy", str(policy), "--format", "json").stdout
    )
    assert plan["policy_file"] == {"path": str(policy), "sha256": sha}
    defaults = process(
        "verify", str(ORDER), *PATIENT, env={"DOSECALC_POLICY": str(tmp_path / "none")}
    )
    assert defaults.returncode == 2  # the variable names no file: refused, not the defaults
    bare = process("verify", str(ORDER), *PATIENT, "--format", "json")
    assert json.loads(bare.stdout)["policy_file"] is None
    assert "Policy defaults (no policy file)" in " ".join(
        process("verify", str(ORDER), *PATIENT).stdout.split()
    )


def test_a_given_bsa_tolerance_past_a_dose_tolerance_is_refused(process, tmp_path: Path) -> None:
    # a BSA 36 % off the height and weight moves every dose 36 %: a policy of 40 % released it
    policy = write(tmp_path, "bsa.toml", "[bsa]\ngiven_tolerance_percent = 40\n")
    args = ["plan", "ec", "--height", "175cm", "--weight", "70kg", "--bsa", "2.5"]
    result = process(*args, "--policy", str(policy))
    assert result.returncode == 2, result.stdout
    assert f"{policy}:2: bsa.given_tolerance_percent: 40 is outside 0-10" in result.stderr
    by_set = process(*args, "--set", "bsa.given_tolerance_percent=40")
    assert by_set.returncode == 2 and "40 is outside 0-10" in by_set.stderr
    held = process(*args)  # the default 5 %: critical, exit 1
    assert held.returncode == 1 and "BSA_MISMATCH" in held.stdout


def test_a_plan_says_which_value_set_overrides_in_its_policy_file(process, tmp_path: Path) -> None:
    policy = write(tmp_path, "cap.toml", "[carboplatin]\ngfr_cap_ml_min = 100\n")
    args = ["plan", "carboplatin-paclitaxel", "--height", "165cm", "--weight", "60kg"]
    args += ["--age", "45", "--sex", "female", "--scr", "0.6mg/dL", "--policy", str(policy)]
    by_file = " ".join(process(*args).stdout.split())
    assert "carboplatin.gfr_cap_ml_min = 100;" in by_file  # the file's own value
    result = process(*args, "--set", "carboplatin.gfr_cap_ml_min=110")
    said = " ".join(result.stdout.split())
    # the file is named first: its 100 is not what capped the GFR, and the line says so
    assert "carboplatin.gfr_cap_ml_min = 110 (--set);" in said, said[:600]


def test_check_names_the_policy_that_chose_its_equivalence_table(process, tmp_path: Path) -> None:
    """check under a policy file choosing the Feijen 2019 equivalence table printed its
    doxorubicin equivalent with no word of the file or its values, in any format, for one
    patient or a pharmacy file (the table, ceiling options and unverified data follow it)."""
    import json

    policy = write(tmp_path, "eq.toml", '[cumulative]\nequivalence = "feijen-2019"\n')
    one = write(tmp_path, "h.csv", "date,drug,dose,unit\n2024-11-04,epirubicin,120,mg/m2\n")
    many = write(
        tmp_path,
        "p.csv",
        "patient,date,drug,dose,unit\nA,2024-11-04,epirubicin,120,mg/m2\n"
        "B,2024-11-04,doxorubicin,60,mg/m2\n",
    )
    said = f"policy file {policy}"
    for history, fmt, where in (
        (one, "table", "stdout"),
        (one, "json", "stdout"),
        (many, "json", "stdout"),
        (many, "csv", "stderr"),
        (many, "table", "stderr"),
    ):
        result = process("check", "--history", str(history), "--policy", str(policy),
                         "--set", "labs.max_age_days=7", "--format", fmt)  # fmt: skip
        assert result.returncode == 0, result.stderr
        text = " ".join(getattr(result, where).split())
        assert said in text and "cumulative.equivalence = feijen-2019" in text, (fmt, text)
        assert "labs.max_age_days = 7 (--set)" in text, (fmt, text)
        if fmt == "json":
            warnings = json.loads(result.stdout)["warnings"]
            assert "POLICY_IN_FORCE" in [w["code"] for w in warnings]
    plain = process("check", "--history", str(one), "--format", "json")
    assert "POLICY_IN_FORCE" not in plain.stdout  # the defaults, no file: nothing to say
