"""Body-surface-area formulas: pure functions of height (cm) and weight (kg), result in m².

Each function cites its paper. Coefficients were checked against the sources listed in
``reference/clinical.md`` §1 (globalrph, jackwasey/physiology, pharmaverse/admiral) and the
worked examples there are pinned in ``tests/test_bsa.py``. Known traps avoided here: Boyd takes
weight in **grams** and uses **log10**; DuBois is 0.007184 (not 0.0087184); Schlich has
different coefficients for men and women and needs the sex; height is always cm, never metres.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


def mosteller(height_cm: float, weight_kg: float) -> float:
    """Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098.
    doi:10.1056/NEJM198710223171717. BSA = sqrt(H·W / 3600)."""
    return math.sqrt(height_cm * weight_kg / 3600.0)


def dubois(height_cm: float, weight_kg: float) -> float:
    """Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height and
    weight be known. Arch Intern Med 1916;17:863-71. doi:10.1001/archinte.1916.00080130010002.
    BSA = 0.007184 · W^0.425 · H^0.725."""
    return 0.007184 * weight_kg**0.425 * height_cm**0.725


def haycock(height_cm: float, weight_kg: float) -> float:
    """Haycock GB, Schwartz GJ, Wisotsky DH. Geometric method for measuring body surface area.
    J Pediatr 1978;93:62-66. BSA = 0.024265 · W^0.5378 · H^0.3964."""
    return 0.024265 * weight_kg**0.5378 * height_cm**0.3964


def gehan_george(height_cm: float, weight_kg: float) -> float:
    """Gehan EA, George SL. Estimation of human body surface area from height and weight.
    Cancer Chemother Rep 1970;54:225-35. BSA = 0.0235 · W^0.51456 · H^0.42246."""
    return 0.0235 * weight_kg**0.51456 * height_cm**0.42246


def boyd(height_cm: float, weight_kg: float) -> float:
    """Boyd E. The Growth of the Surface Area of the Human Body. Univ. Minnesota Press, 1935.
    BSA = 0.0003207 · H^0.3 · Wg^(0.7285 − 0.0188 · log10 Wg), with weight Wg in GRAMS."""
    grams = 1000.0 * weight_kg
    return 0.0003207 * height_cm**0.3 * grams ** (0.7285 - 0.0188 * math.log10(grams))


def fujimoto(height_cm: float, weight_kg: float) -> float:
    """Fujimoto S, Watanabe T, Sakamoto A, et al. Studies on the physical surface area of
    Japanese. Nippon Eiseigaku Zasshi 1968;23:443-50 (the volume is given as 5 in some copies;
    unverified). BSA = 0.008883 · W^0.444 · H^0.663."""
    return 0.008883 * weight_kg**0.444 * height_cm**0.663


def takahira(height_cm: float, weight_kg: float) -> float:
    """Takahira H, 1925, as cited by Fujimoto et al. 1968 (primary citation not retrieved).
    BSA = 0.007241 · W^0.425 · H^0.725."""
    return 0.007241 * weight_kg**0.425 * height_cm**0.725


def shuter_aslani(height_cm: float, weight_kg: float) -> float:
    """Shuter B, Aslani A. Body surface area: Du Bois and Du Bois revisited.
    Eur J Appl Physiol 2000;82:250-254. BSA = 0.00949 · W^0.441 · H^0.655."""
    return 0.00949 * weight_kg**0.441 * height_cm**0.655


def schlich(height_cm: float, weight_kg: float, sex: str) -> float:
    """Schlich E, Schumm M, Schlich M. 3-D-Body-Scan als anthropometrisches Verfahren zur
    Bestimmung der spezifischen Körperoberfläche. Ernährungs Umschau 2010;57:178-183.
    Women: 0.000975482 · W^0.46 · H^1.08; men: 0.000579479 · W^0.38 · H^1.24."""
    if sex == "female":
        return 0.000975482 * weight_kg**0.46 * height_cm**1.08
    if sex == "male":
        return 0.000579479 * weight_kg**0.38 * height_cm**1.24
    raise ValueError(f"Schlich needs sex 'male' or 'female', not {sex!r}")


def livingston_lee(height_cm: float, weight_kg: float) -> float:
    """Livingston EH, Lee S. Body surface area prediction in normal-weight and obese patients.
    Am J Physiol Endocrinol Metab 2001;281:E586-E591. Weight only: 0.1173 · W^0.6466
    (0.1037 · W^0.6724 below 10 kg). Height is ignored."""
    if weight_kg < 10.0:
        return 0.1037 * weight_kg**0.6724
    return 0.1173 * weight_kg**0.6466


def yu_2010(height_cm: float, weight_kg: float) -> float:
    """Yu CY, Lin CH, Yang YH. Human body surface area database and estimation formula.
    Burns 2010;36:616-629 (PMID 19900761). 71.3989 · H^0.7437 · W^0.4040 gives cm²; / 10 000."""
    return 71.3989 * height_cm**0.7437 * weight_kg**0.4040 / 10_000.0


@dataclass(frozen=True)
class Formula:
    name: str
    function: Callable[..., float]
    citation: str  # short form; the full reference is in the function's docstring
    needs_sex: bool = False

    def __call__(self, height_cm: float, weight_kg: float, sex: str | None = None) -> float:
        if self.needs_sex:
            if sex is None:
                raise ValueError(f"the {self.name} formula needs --sex male or --sex female")
            return float(self.function(height_cm, weight_kg, sex))
        return float(self.function(height_cm, weight_kg))


FORMULAS: dict[str, Formula] = {
    f.name: f
    for f in (
        Formula("mosteller", mosteller, "Mosteller, N Engl J Med 1987"),
        Formula("dubois", dubois, "Du Bois & Du Bois, Arch Intern Med 1916"),
        Formula("haycock", haycock, "Haycock et al., J Pediatr 1978"),
        Formula("gehan-george", gehan_george, "Gehan & George, Cancer Chemother Rep 1970"),
        Formula("boyd", boyd, "Boyd, Univ. Minnesota Press 1935"),
        Formula("fujimoto", fujimoto, "Fujimoto et al., Nippon Eiseigaku Zasshi 1968"),
        Formula("takahira", takahira, "Takahira 1925 (via Fujimoto 1968)"),
        Formula("shuter-aslani", shuter_aslani, "Shuter & Aslani, Eur J Appl Physiol 2000"),
        Formula("schlich", schlich, "Schlich et al., Ernährungs Umschau 2010", needs_sex=True),
        Formula("livingston-lee", livingston_lee, "Livingston & Lee, Am J Physiol 2001"),
        Formula("yu-2010", yu_2010, "Yu et al., Burns 2010"),
    )
}
DEFAULT_FORMULA = "mosteller"
