"""The per-patient engine's output of a history (the reference every other path is held to):
``python bench/reference.py HISTORY CSV JSON`` writes what ``dosecalc check --history HISTORY``
would print with ``--format csv`` and ``--format json`` if each patient were checked by the
reference (dosecalc/clinical/check.py), for bench.py to compare with the engine's byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dosecalc.base import clock
from dosecalc.base.jsontext import to_json_line
from dosecalc.clinical import check
from dosecalc.clinical.patient import Patient
from dosecalc.clinical.plan import name_alerts
from dosecalc.data.ceilings import RiskFactors
from dosecalc.inputs import history, policy
from dosecalc.outputs import summary


def main(source: Path, csv_out: Path, json_out: Path) -> None:
    loaded = history.load([source], (), clock.today())
    person = Patient(None, None, None, "given")
    rules = policy.load(None, None)
    check.preflight(loaded, person, None, rules, False)
    checks = check.check_history(loaded, person, RiskFactors(), None, None, None, rules)
    patients = []
    with csv_out.open("w", encoding="utf-8", newline="") as f:
        f.write(summary.csv_text([], header=True))
        for r in checks:
            f.write(summary.csv_text(summary.csv_rows(r)))
            patients.append(to_json_line(r.as_dict()))
    notices = [to_json_line(a.as_dict()) for a in name_alerts(rules, loaded.names_read())]
    text = '{"patients": [\n' + ",\n".join(patients) + "\n]"
    text += ', "warnings": [\n' + ",\n".join(notices) + "\n]}\n" if notices else "}\n"
    json_out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:4]))
