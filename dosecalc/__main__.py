"""The program: ``dosecalc`` (pyproject.toml points here) and ``python -m dosecalc``.

Start-up runs without the cyclic garbage collector. Importing typer, pydantic and pint, building
the models and reading the data files allocate hundreds of thousands of objects and free almost
none, so every collection pass during start-up is pure cost (about 50 ms of a plan, bench/).
Commands whose input has no fixed size (a history, a ledger) turn it back on (cli._run).
"""

import gc


def main() -> None:
    gc.disable()
    from dosecalc import cli

    cli.main()


if __name__ == "__main__":
    main()
