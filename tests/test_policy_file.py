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
