"""The one strict number reader (dosecalc.strict) and the CSV writer (dosecalc.csvout), as
units; what a user sees of them is in test_input_paths.py."""

from __future__ import annotations

import csv
import io
import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosecalc.base import csvout, strict
from dosecalc.base.errors import FileError
from dosecalc.data import yamlfile


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("70", 70.0),
        ("1.75", 1.75),
        ("0.5", 0.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("0", 0.0),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        ("1e05", 100000.0),
        (" 40\t", 40.0),
    ],
)
def test_numbers_written_the_one_way_are_read(text: str, value: float) -> None:
    assert strict.decimal(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1_75", "'1_75' has an underscore"),
        ("1_0", "'1_0' has an underscore"),
        ("070", "'070' has a leading zero (octal to some readers); write 70 without it"),
        ("0175", "write 175 without it"),
        ("021", "write 21 without it"),
        ("010", "write 10 without it"),
        ("00.5", "write 0.5 without it"),
        ("1:30", "'1:30' is a base-60 (hours:minutes) form"),
        ("0x1F", "'0x1F' is a hexadecimal number; write it in decimal digits (31)"),
        ("0o17", "is an octal number"),
        ("0b101", "is a binary number"),
        ("nan", "'nan' is not a finite number"),
        ("NaN", "is not a finite number"),
        ("inf", "is not a finite number"),
        ("-Infinity", "is not a finite number"),
        (".inf", "is not a finite number"),
        ("1e999", "'1e999' is too large a number"),
        ("١٧٥", "'١٧٥' has the digit '١', which is not an ASCII digit"),
        ("１７５", "has the digit '１', which is not an ASCII digit"),
        ("1٧5", "has the digit '٧'"),
        ("−3", "has the character '−' (U+2212)"),
        ("1,5", "has a comma"),
        ("1.2.3", "'1.2.3' is not a number"),
        ("1e", "is not a number"),
        (".", "is not a number"),
        ("", "the number is missing"),
        ("  ", "the number is missing"),
        ("-3", "'-3' is negative"),
        ("+3", "'+3' has a plus sign"),
        ("5" * 5000, "(5,000 characters) is longer than any number dosecalc reads"),
    ],
)
def test_every_other_form_is_refused_with_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(strict.NumberError) as e:
        strict.decimal(text)
    assert message in str(e.value)
    assert len(str(e.value)) < 250  # one sentence, never the 5,000 digits back


def test_a_sign_where_the_caller_allows_one() -> None:
    assert strict.decimal("-3", signed=True) == -3.0
    assert strict.integer("-366", signed=True) == -366
    assert strict.integer("+2", signed=True) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.0", "'1.0' is not a whole number"),
        ("1e3", "is not a whole number"),
        ("9223372036854775808", "is too large a number"),
        ("99999999999999999999999", "is too large a number"),
        ("4_2", "has an underscore"),
    ],
)
def test_integers_are_digits_within_64_bits(text: str, message: str) -> None:
    with pytest.raises(strict.NumberError, match=message):
        strict.integer(text)


def test_the_largest_integer_is_read() -> None:
    assert strict.integer(str(2**63 - 1)) == 2**63 - 1
    assert strict.integer(str(-(2**63 - 1)), signed=True) == -(2**63 - 1)


@pytest.mark.parametrize("value", [True, False, None, [1], math.nan, math.inf, -1.5])
def test_typed_values_follow_the_same_rule(value: object) -> None:
    with pytest.raises(strict.NumberError):
        strict.number(value)


def test_typed_values_that_are_numbers() -> None:
    assert strict.number(70) == 70.0 and strict.number(1.5) == 1.5
    assert strict.whole(12) == 12 and strict.whole("12") == 12
    with pytest.raises(strict.NumberError):
        strict.whole(12.0)  # a float is not a whole number, even 12.0
    with pytest.raises(strict.NumberError):
        strict.whole(10**30)


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_every_finite_float_as_python_prints_it_reads_back_exactly(x: float) -> None:
    assert strict.decimal(repr(x)) == x


@given(st.text(max_size=12))
def test_what_is_read_is_ascii_and_what_float_reads(text: str) -> None:
    try:
        value = strict.decimal(text, signed=True)
    except strict.NumberError:
        return
    assert text.strip(" \t").isascii() and "_" not in text
    assert value == float(text) and math.isfinite(value)


@given(st.text(alphabet="0123456789_", min_size=3).filter(lambda t: "_" in t.strip("_")))
def test_no_digit_group_underscore_is_ever_read(text: str) -> None:
    with pytest.raises(strict.NumberError):
        strict.decimal(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-12-01", None),
        ("1900-01-01", None),
        ("2199-12-31", None),
        ("9999-12-31", "9999-12-31 is outside the dates dosecalc plans (1900-01-01 to 2199-12-31)"),
        ("1899-12-31", "outside the dates dosecalc plans"),
        (
            "2026-02-30",
            "'2026-02-30' is not a date: there is no 30 February (February 2026 has 28 days)",
        ),
        ("2026-1-5", "'2026-1-5' is not a date; write it as YYYY-MM-DD"),
        ("２０２６-01-01", "is not a date"),
        ("20261201", "is not a date"),
    ],
)
def test_plan_dates(text: str, message: str | None) -> None:
    if message is None:
        assert strict.plan_date(text) == date.fromisoformat(text)
    else:
        with pytest.raises(strict.NumberError) as e:
            strict.plan_date(text)
        assert message in str(e.value)


# ---------------------------------------------------------------- YAML numbers


@pytest.mark.parametrize(
    ("scalar", "message"),
    [
        (
            "070",
            "'070' has a leading zero (octal to some readers); write 70 without it (YAML 1.1 "
            "reads it as 56, YAML 1.2 as 70); or put it in quotes if it is text",
        ),
        ("0175", "(YAML 1.1 reads it as 125, YAML 1.2 as 175)"),
        ("021", "(YAML 1.1 reads it as 17, YAML 1.2 as 21)"),
        ("010", "(YAML 1.1 reads it as 8, YAML 1.2 as 10)"),
        ("08", "(YAML 1.1 reads it as text, YAML 1.2 as 8)"),
        ("0x1F", "is a hexadecimal number; write it in decimal digits (31)"),
        ("0o17", "(YAML 1.1 reads it as text, YAML 1.2 as 15)"),
        (".inf", "is not a finite number"),
        (".nan", "is not a finite number"),
        ("-.inf", "is not a finite number"),
        ("1" * 5000, "is longer than any number dosecalc reads"),
        ("99999999999999999999", "is too large a number"),
    ],
)
def test_yaml_numbers_that_read_differently_or_badly_are_refused(scalar: str, message: str) -> None:
    with pytest.raises(FileError) as e:
        yamlfile.parse(f"a:\n  b: [1, 2]\n  c: {scalar}\n", "f.yaml")
    [problem] = e.value.problems
    assert (problem.file, problem.line, problem.field) == ("f.yaml", 3, "a.c")
    assert message in problem.message


def test_yaml_numbers_as_yaml_1_2_reads_them() -> None:
    data, _ = yamlfile.parse(
        'a: 70\nb: 1.75\nc: .5\nd: 1e3\ne: -3\nf: +5\ng: "070"\nh: 0\ni: 2018-09-19\n'
        "j: 1-3\nk: 5ft9in\nl: 1.2.3\nm: 14:30\nn: 08:30\no: 1_0\np: 0b101\n",
        "f.yaml",
    )
    assert data == {
        "a": 70,
        "b": 1.75,
        "c": 0.5,
        "d": 1000.0,
        "e": -3,
        "f": 5,
        "g": "070",
        "h": 0,
        "i": "2018-09-19",
        "j": "1-3",
        "k": "5ft9in",
        "l": "1.2.3",
        "m": "14:30",  # a time (870 to YAML 1.1, text to YAML 1.2, as here)
        "n": "08:30",
        "o": "1_0",  # text: a number field reads it strictly and refuses it
        "p": "0b101",
    }
    assert isinstance(data["a"], int) and isinstance(data["d"], float)


def test_every_bad_number_of_a_yaml_file_is_reported_at_once() -> None:
    with pytest.raises(FileError) as e:
        yamlfile.parse("weight: 070\nheight: 0175\ndays: [1, 010]\n", "c.yaml")
    assert [(p.line, p.field) for p in e.value.problems] == [
        (1, "weight"),
        (2, "height"),
        (3, "days[1]"),
    ]


# ---------------------------------------------------------------- CSV cells


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("IV", "IV"),
        ("it's", "it's"),
        ("", ""),
        (-3, -3),  # a number is a number: a spreadsheet reads -3 as minus three
        (40.5, 40.5),
        (True, "true"),  # as JSON writes it, not Python's True
    ],
)
def test_csv_cells_a_spreadsheet_would_run_become_text(value: object, written: object) -> None:
    assert csvout.cell(value) == written


@given(st.text())
def test_the_csv_escape_reads_back_exactly(text: str) -> None:
    written = csvout.cell(text)
    assert written[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert csvout.unescape(written) == text


def test_the_writer_escapes_every_text_cell_and_keeps_numbers() -> None:
    out = io.StringIO()
    writer = csvout.DictWriter(out, ["a", "b", "c"])
    writer.writeheader()
    writer.writerow({"a": "=1+1", "b": -3, "c": "@x"})
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["a", "b", "c"], ["'=1+1", "-3", "'@x"]]


def test_the_packaged_data_kept_parsed_is_never_stale(tmp_path, monkeypatch) -> None:
    """read_trusted keeps what it parsed in the cache folder under the file's digest: the
    second read is the first's, an edited file is read anew, and a damaged or unwritable cache
    is passed by."""
    import marshal

    import yaml

    from dosecalc.data.ceilings import DATA

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "ceilings.yaml"
    path.write_bytes(DATA.read_bytes())
    want = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert yamlfile.read_trusted(path, "data") == want
    [kept] = (tmp_path / "cache").rglob("*.marshal")
    assert yamlfile.read_trusted(path, "data") == want  # from the cache
    path.write_text(path.read_text(encoding="utf-8") + "\nadded: 1\n", encoding="utf-8")
    assert yamlfile.read_trusted(path, "data") == {**want, "added": 1}  # not the stale one
    path.write_bytes(DATA.read_bytes())
    for damaged in (kept.read_bytes()[:-9], kept.read_bytes()[:32] + marshal.dumps({"a": 1})):
        kept.write_bytes(damaged)  # cut short, or other data behind the digest
        assert yamlfile.read_trusted(path, "data") == want  # parsed again
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))  # a file where the folder should be
    assert yamlfile.read_trusted(path, "data") == want
