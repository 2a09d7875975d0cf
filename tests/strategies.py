"""hypothesis strategies with explicit physiological bounds, shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from dosecalc.clinical.patient import HEIGHT_CM, WEIGHT_KG

# Adults: 140-210 cm, 35-200 kg, with BMI kept between 13 and 70 by the filter below.
adult_heights = st.floats(140, 210, allow_nan=False)
adult_weights = st.floats(35, 200, allow_nan=False)
heights = st.floats(*HEIGHT_CM, allow_nan=False)
weights = st.floats(*WEIGHT_KG, allow_nan=False)


@st.composite
def adults(draw: st.DrawFn) -> tuple[float, float]:
    h = draw(adult_heights)
    w = draw(adult_weights.filter(lambda w: 13 <= w / (h / 100) ** 2 <= 70))
    return h, w


bsas = st.floats(0.3, 3.0, allow_nan=False)
cycles = st.integers(1, 12)


# Children (issue 19): 45-160 cm, 2-60 kg, BMI 10-30 (the filter), ages 0-17 years.
child_heights = st.floats(45, 160, allow_nan=False)
child_weights = st.floats(2, 60, allow_nan=False)
child_ages = st.floats(0, 17.9, allow_nan=False)
percents = st.floats(0.5, 100, allow_nan=False)


@st.composite
def children(draw: st.DrawFn) -> tuple[float, float]:
    h = draw(child_heights)
    w = draw(child_weights.filter(lambda w: 10 <= w / (h / 100) ** 2 <= 30))
    return h, w
