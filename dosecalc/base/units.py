"""The one pint registry, and parsing of quantities typed by people.

Clinical notations are normalised before pint sees them (``mg/m2``, ``mg/m²`` and ``g/m^2``
become ``m**2``; ``5ft9in`` becomes feet plus inches). pint resolves each distinct unit text
once (cached); the number is read by :mod:`dosecalc.strict` (ASCII digits, one decimal point,
an optional exponent such as ``1e3 mg``), so that a unit without a number, a comma, an
underscore, a Unicode digit, ``nan`` or ``inf`` can never slip through. The core works in floats of fixed units (cm, kg, m², mg, units),
so pint stays at the boundary.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dosecalc.base.errors import fail

if TYPE_CHECKING:  # pragma: no cover
    import pint

_DEFINITIONS = Path(__file__).with_name("units.txt")

# The text a number could be, for messages that name what is wrong with it (a Unicode digit,
# an underscore, a second decimal point, a sign...): strict.decimal decides what it is.
_NUMBER = r"[+-]?[\d_.,:]*\d[\d_.,:]*(?:[eE][+-]?\d+)?|[+-]?\.?(?:nan|inf(?:inity)?)(?![A-Za-z])"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>.*?)\s*$", re.IGNORECASE | re.DOTALL)
# 0x1F, 0o17, 0b101: refused; but 0x10^9/L is a count of zero in the lab's own notation
_PREFIXED = re.compile(r"\s*([+-]?0[xXoObB](?![xX]?10\^)[0-9A-Fa-f_]+)")
_FEET_INCHES = re.compile(
    rf"^\s*(?P<ft>{_NUMBER})\s*(?:ft|feet|foot|')\s*(?P<inch>{_NUMBER})\s*(?:in|inch|inches|\")?\s*$",
    re.IGNORECASE,
)
_U_OR_IU = re.compile(r"(?<![A-Za-z])(?:I?U|iu|mU|MU)(?![A-Za-z])")
_UNIT_CHARS = re.compile(r"^[A-Za-zµμ0-9/ *^²³.()]*$")

# What each target unit measures, in words, for messages.
_KIND = {
    "cm": "a length",
    "kg": "a mass",
    "mg": "a mass",
    "m**2": "an area",
    "units": "a number of units",
    "mg/m**2": "a mass per m²",
    "units/m**2": "units per m²",
    "mg/kg": "a mass per kg",
    "mL/min": "a flow (volume per time)",
    "mg/dL": "a mass concentration",
    "umol/L": "a molar concentration",
    "year": "a time",
    "Gy": "a radiation dose",
}


def _pint() -> Any:
    """pint, imported without numpy. pint imports numpy whenever it is installed (matplotlib,
    for the charts, installs it): about 140 ms of every start-up, for arrays dosecalc never
    gives pint (it converts plain floats). numpy stays importable for the charts."""
    if "pint" in sys.modules or "numpy" in sys.modules:
        import pint
    else:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # pint's `import numpy` fails
        try:
            import pint
        finally:
            del sys.modules["numpy"]
    return pint


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    pint = _pint()
    return pint.UnitRegistry(str(_DEFINITIONS), cache_folder=None, on_redefinition="raise")


def normalise_unit_text(text: str) -> str:
    """``mg/m2`` / ``mg/m²`` / ``mg/m^2`` → ``mg/m**2``; ``μ`` (Greek mu) → ``µ`` (micro)."""
    t = text.strip().replace("²", "**2").replace("³", "**3").replace("^", "**")
    t = t.replace("μ", "µ")
    # a digit 2 or 3 right after a letter is an exponent: m2, cm3 (never a coefficient)
    return re.sub(r"(?<=[A-Za-z])([23])(?![0-9.])", r"**\1", t)


@lru_cache(maxsize=512)
def unit(text: str) -> pint.Unit:
    """The pint unit of a unit text such as ``mg/m2``; ValueError if it is not one we know."""

    normalised = normalise_unit_text(text)
    if _U_OR_IU.search(normalised):
        raise ValueError(
            f"'{text}' uses U or IU, which orders must not (ISMP: write 'units'); bleomycin "
            "labelled in IU (Ph. Eur.) has 1,000 IU per USP unit, so convert before writing units"
        )
    if not normalised or not _UNIT_CHARS.match(normalised):
        raise ValueError(f"'{text}' is not a unit")
    try:
        parsed = registry().parse_units(normalised)
    except Exception as e:  # pint's parser raises many kinds; any of them means "not a unit"
        # Written in capitals (MG, MG/M2, ML/MIN: an export or caps lock) there is one reading:
        # the lower-case unit. Mixed case (Mg, mG) stays refused; U and IU were refused above.
        lower = None
        try:
            lower = registry().parse_units(normalised.lower())
        except Exception:
            pass
        if lower is not None and normalised.isupper():
            return lower
        if lower is not None:  # mixed case: Mg is a megagram's symbol, not mg; say it
            raise ValueError(
                f"'{text}' is not a unit dosecalc knows: a unit is read in the case written, "
                f"or in capitals (Mg is not mg); write '{text.strip().lower()}'"
            ) from e
        raise ValueError(f"'{text}' is not a unit dosecalc knows") from e
    return parsed


@lru_cache(maxsize=1024)
def factor(unit_text: str, target: str) -> float:
    """Multiplier from ``unit_text`` to ``target`` (both multiplicative units).

    Raises ValueError with a sentence naming both kinds of quantity when they do not match.
    """
    pint = _pint()
    source = unit(unit_text)
    reg = registry()
    try:
        return float(reg.Quantity(1.0, source).to(target).magnitude)
    except pint.errors.DimensionalityError as e:
        raise DimensionError(kind_of(unit_text), _KIND.get(target, target)) from e


class DimensionError(ValueError):
    """A quantity of the wrong kind: a length where a mass was wanted."""

    def __init__(self, found: str | None, wanted: str) -> None:
        self.found, self.wanted = found, wanted
        super().__init__(f"is {found}, not {wanted}" if found else f"is not {wanted}")


@lru_cache(maxsize=256)
def kind_of(unit_text: str) -> str | None:
    """'a length' for 'cm', 'a mass per m²' for 'mg/m2', None when it has no name here."""
    source = unit(unit_text)
    for target, words in _KIND.items():
        if source.dimensionality == registry().parse_units(target).dimensionality:
            return words
    return None


# '1.000', '2.500', '12.250': a thousands separator where a point is one (1.000 mg/m² for
# 1,000), or a decimal with a trailing zero (which nobody writes: 1.5, not 1.500). A comma is
# refused for the same reason; '0.250' and '1.825' read one way only.
_POINT_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}\.[0-9]{2}0")


def exported(number: str) -> str:
    """A number as a machine wrote it (a JSON number, a lab file's number column), for
    :func:`split`: its trailing decimal zeros dropped, as no point in it separates thousands
    ('1.500' is 1.5; a typed '1.500mg' is refused as ambiguous)."""
    if "." in number and not re.search("[eE]", number):
        return number.rstrip("0").rstrip(".") or "0"
    return number


def split(text: str) -> tuple[float, str]:
    """``'120 mg/m2'`` → ``(120.0, 'mg/m2')``. ValueError for anything else (the number is read
    by :func:`dosecalc.strict.decimal`: ASCII digits, one decimal point, an optional exponent).
    A sign is read, so that a negative weight or dose is refused by its own range with the
    range in the message; feet and inches (:func:`feet_inches`) take no sign."""
    from dosecalc.base import strict

    number, unit_text = split_text(text)
    return strict.decimal(number, signed=True), unit_text


def split_text(text: str) -> tuple[str, str]:
    """``'120 mg/m2'`` → ``('120', 'mg/m2')``: the number as typed, and the unit text.
    The number is checked as :func:`split` reads it (ValueError saying what is wrong)."""
    from dosecalc.base import strict

    if "," in text:
        raise ValueError(
            f"'{text}' has a comma, which could be a decimal or a thousands separator; "
            "write the number without it (1000, 1.5)"
        )
    prefixed = _PREFIXED.match(text)
    if prefixed:  # 0x1F, 0o17, 0b101: say so rather than "'x1F' is not a unit"
        strict.decimal(prefixed.group(1))
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(f"'{text}' does not start with a number")
    number = m.group("num")
    value = strict.decimal(number, signed=True)  # a minus sign: each quantity's range says why
    if _POINT_THOUSANDS.fullmatch(number.lstrip("+-")):
        thousands = number.lstrip("+-").replace(".", "")
        raise ValueError(
            f"'{text.strip()}' could be {value:g} or {int(thousands):,}: a point separates "
            "thousands in half the world, and a decimal is not written to three places ending "
            f"in 0; write {value:g} or {thousands}"
        )
    return number, m.group("unit")


def feet_inches(text: str) -> float | None:
    """``'5ft9in'`` / ``5'9"`` → cm; None if ``text`` is not feet followed by inches.
    Feet are a whole number and the inches after them below 12 (``5ft 13in`` is refused)."""
    from dosecalc.base import strict

    fi = _FEET_INCHES.match(text)
    if not fi:
        return None
    try:
        feet = strict.integer(fi.group("ft"))
        inches = strict.decimal(fi.group("inch"))
    except ValueError as e:
        raise ValueError(f"'{text.strip()}' is not a height in feet and inches: {e}") from None
    if inches >= 12:
        raise ValueError(
            f"'{text.strip()}' has {inches:g} inches after the feet; inches after feet are 0 to "
            "under 12 (write 6ft1in, or 73in)"
        )
    return feet * 30.48 + inches * 2.54


def is_bare(text: str | float | int) -> bool:
    """Whether a measurement was typed as a bare number (``154``, no unit): what :func:`measure`
    reads in its ``bare`` unit. False for anything :func:`measure` would refuse."""
    if isinstance(text, bool):
        return False
    if isinstance(text, int | float):
        return True
    try:
        return feet_inches(text) is None and not split(text)[1]
    except ValueError:
        return False


def measure(
    text: str | float | int,
    field: str,
    target: str,
    *,
    bare: str | None,
    examples: str,
) -> float:
    """Parse a measurement typed by a user into a float in ``target`` units.

    ``bare`` is the unit a bare number means (``None``: a unit is required).
    Errors name the ``field`` and show ``examples`` of valid input.
    """
    from dosecalc.base import strict

    if isinstance(text, bool):
        raise fail(field, f"{text!r} is not a quantity; give e.g. {examples}")
    try:
        if isinstance(text, int | float):  # from a YAML file
            value, unit_text = strict.number(text, signed=True), ""
        else:
            cm = feet_inches(text)
            if cm is not None:
                if target != "cm":
                    raise ValueError(f"'{text}' is a height in feet and inches")
                return cm
            value, unit_text = split(text)
        if not unit_text:
            if bare is None:
                raise ValueError(f"'{text}' has no unit")
            unit_text = bare
        try:
            return value * factor(unit_text, target)
        except DimensionError as e:
            raise ValueError(f"'{text}' {e}") from None
    except ValueError as e:
        raise fail(field, f"{e}; give e.g. {examples}") from None
