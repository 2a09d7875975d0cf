"""dosecalc: chemotherapy dosing and lifetime cumulative-toxicity calculator.

The engine is importable without the CLI::

    from dosecalc import api
    plan = api.plan("dia", height="175cm", weight="70kg", start="2026-12-01")
"""

__version__ = "0.1.0"
