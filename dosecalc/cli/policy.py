"""``dosecalc policy show``: every policy value in force and where it came from."""

import sys

from dosecalc.base.errors import ExitCode
from dosecalc.cli.options import Fmt, PolicyFile, Sets
from dosecalc.cli.program import Command, policy_app
from dosecalc.cli.run import check_format, run


@policy_app.command("show", cls=Command)
def policy_show(policy: PolicyFile = None, set_: Sets = None, format: Fmt = "table") -> None:
    """Print every policy value in force and where it came from.

    Example: dosecalc policy show --policy hospital.toml
    """

    def work() -> int:
        from dosecalc.outputs import render
        from dosecalc.workflows import gather

        fmt = check_format(format, ("table", "json"))
        rules = gather.policy(policy, set_)
        if fmt == "json":
            sys.stdout.write(render.to_json({"file": rules.file, "settings": rules.as_dict()}))
        else:
            render.console().print(render.policy_table(rules))
        return ExitCode.OK

    run(work, bounded=True)
