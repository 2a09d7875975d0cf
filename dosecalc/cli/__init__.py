"""The ``dosecalc`` command line: each command parses its options and calls one workflow
(dosecalc/workflows/), then writes what it returns; errors become exit codes in one place
(run.py). Heavy modules (pint, yaml, pydantic models, rich tables, the engines) are imported
inside the commands, so that ``--help``, ``--version`` and shell completion stay fast.
"""

import os
import sys

from dosecalc.cli.program import VERSION, app, command  # noqa: F401 (app: the typer app itself)

# each module registers its commands on the app, in the order --help lists them
# isort: off
from dosecalc.cli import plan, check, verify, mtx, bsa, regimens, docs, policy, ledger  # noqa: F401
# isort: on


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # the whole answer; no need to build every command first
        print(VERSION)
        return
    if os.environ.get("_DOSECALC_COMPLETE"):  # a Tab press: register typer's completion classes
        from typer._completion_classes import completion_init

        completion_init()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # none used; saves start-up
    command()()
