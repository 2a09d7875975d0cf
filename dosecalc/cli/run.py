"""Running a command: the one place where errors become exit codes (docs/commands.md), and the
small things every command shares (its output written whole, the format it was asked for,
notices and progress on standard error)."""

import gc
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from dosecalc import __version__
from dosecalc.base.errors import ExitCode
from dosecalc.cli.program import state


def run(work: Callable[[], int], bounded: bool = False) -> None:
    """Run a command body; turn errors into one clear message and an exit code.

    The program starts without the cyclic garbage collector (__main__.py). A command whose input
    is ``bounded`` (a regimen, a patient) ends long before garbage could matter; any other turns
    the collector back on first, leaving out what start-up built (frozen: never scanned again).
    """
    from dosecalc.base.errors import DosecalcError

    if not bounded and not gc.isenabled():  # started by __main__ (not, say, in a test)
        gc.freeze()
        gc.enable()
    try:
        code = work()
    except DosecalcError as e:
        lines = [str(p) for p in e.problems]
        if len(lines) == 1:
            print(f"Error: {lines[0]}", file=sys.stderr)
        else:
            print(f"Error: {getattr(e, 'total', len(lines))} problems:", file=sys.stderr)
            for line in lines:
                print(f"  {line}", file=sys.stderr)
        raise typer.Exit(ExitCode.INVALID) from None
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except BrokenPipeError:
        raise typer.Exit(0) from None
    except Exception as e:
        if state["debug"]:
            traceback.print_exc()
        print(
            f"dosecalc: internal error ({type(e).__name__}). This is a bug in dosecalc "
            f"{__version__}; please report it with the command you ran (leave out patient "
            "data) and the output of the same command run as dosecalc --debug COMMAND ...",
            file=sys.stderr,
        )
        raise typer.Exit(ExitCode.INTERNAL) from None
    raise typer.Exit(code)


def emit(text: str | bytes, output: Path | None, force: bool) -> None:
    """Print ``text``, or write it to ``output`` atomically (never a partial file)."""
    with output_to(output, force):
        put(text)


def put(text: str | bytes) -> None:
    """``text`` on standard output (bytes as they are: an iCalendar's CRLF)."""
    if isinstance(text, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)


@contextmanager
def output_to(output: Path | None, force: bool) -> Iterator[None]:
    """What the command prints to standard output inside, written to ``output`` instead when it
    is given: whole and atomically (never a partial file; nothing when the command fails), laid
    out as for a pipe, then ``wrote FILE`` on standard error. The one path of every --output
    (plan, check, verify, ledger export)."""
    if output is None:
        yield
        return
    import io
    from contextlib import redirect_stdout

    from dosecalc.outputs.outfile import write_atomic

    data = io.BytesIO()
    text = io.TextIOWrapper(data, encoding="utf-8", newline="\n", write_through=True)
    with redirect_stdout(text):
        yield
    text.flush()
    write_atomic(output, data.getvalue(), force=force)
    print(f"wrote {output}", file=sys.stderr)


def check_targets(output: Path | None, chart: Path | None, force: bool) -> None:
    """Every file a command will write, checked before anything is computed or written."""
    from dosecalc.base.errors import fail
    from dosecalc.outputs.outfile import check_target

    if output is not None:
        check_target(output, force, "--output")
    if chart is not None:
        check_target(chart, force, "--chart", (".svg", ".png"))
        if output is not None and output.resolve() == chart.resolve():
            raise fail("--chart", f"--chart and --output both name {chart}; give two files")


def check_format(value: str, allowed: tuple[str, ...]) -> str:
    """``--format``: one of ``allowed`` (case and spaces ignored)."""
    from dosecalc.base.errors import did_you_mean, fail

    v = value.strip().lower()
    if v not in allowed:
        raise fail(
            "--format",
            f"'{value}' is not an output format here{did_you_mean(v, allowed)}; give one of "
            f"{', '.join(allowed)}",
        )
    return v


def notices_to_stderr(alerts: Sequence[Any]) -> None:
    """``notice: …`` lines on standard error, wrapped between words on a terminal."""
    for alert in alerts:
        notice(alert.message)


def notice(message: str) -> None:
    """``notice: message`` on standard error, wrapped between words on a terminal."""
    import shutil
    import textwrap

    width = shutil.get_terminal_size().columns if sys.stderr.isatty() else 0
    line = f"notice: {message}"
    if width > 20:
        line = textwrap.fill(line, width - 1, subsequent_indent="  ", break_long_words=False)
    print(line, file=sys.stderr)


def _same_terminal() -> bool:
    """Whether standard output and standard error are the same terminal."""
    try:
        return sys.stdout.isatty() and os.ttyname(sys.stdout.fileno()) == os.ttyname(
            sys.stderr.fileno()
        )
    except (OSError, ValueError, AttributeError):  # no file descriptor behind one of them
        return False


def _delay() -> float:
    """Seconds of work before a progress indicator appears: DOSECALC_PROGRESS_AFTER, else 1."""
    try:
        return float(os.environ.get("DOSECALC_PROGRESS_AFTER", "1"))
    except ValueError:
        return 1.0


class Working:
    """``what`` beside a spinner on standard error while work that writes nothing yet goes on
    (reading and checking a pharmacy's histories: minutes for a hundred million rows), once it
    has taken more than a second, only when standard error is a terminal; erased before
    anything is written, or an error said."""

    def __init__(self, what: str) -> None:
        import threading

        self.what, self.live, self.done = what, None, False
        self.lock = threading.Lock()
        self.timer = threading.Timer(_delay(), self._show)
        self.timer.daemon = True

    def __enter__(self) -> "Working":
        if sys.stderr.isatty():
            self.timer.start()
        return self

    def _show(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        with self.lock:
            if not self.done:
                self.live = Live(
                    Spinner("dots", self.what),
                    console=Console(file=sys.stderr),
                    transient=True,
                    redirect_stdout=False,
                    redirect_stderr=False,
                )
                self.live.start()

    def __exit__(self, *exc: Any) -> None:
        with self.lock:
            self.done = True
            self.timer.cancel()
            if self.live is not None:
                self.live.stop()


class Progress:
    """A progress bar of patients checked, on standard error, once the work has taken more than
    a second, and only when standard error is a terminal. ``advance(n)`` as patients are done.
    With a ``console`` on the same terminal, its lines print above the bar."""

    def __init__(self, total: int, console: Any = None) -> None:
        import time

        self.total, self.console, self.started = total, console, time.monotonic()
        self.delay = _delay()
        self.bar: Any = None
        self.done = 0

    def __enter__(self) -> Callable[[int], None]:
        return self.advance

    def advance(self, n: int) -> None:
        import time

        self.done += n
        if self.bar is None and sys.stderr.isatty() and self.done < self.total:
            if time.monotonic() - self.started < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            screen = Console(file=sys.stderr)
            if self.console is not None and self.console.is_terminal:
                self.console.file = sys.stderr  # the same terminal: lines print above the bar
            self.bar = Progress(
                TextColumn("checking patients"),
                BarColumn(),
                MofNCompleteColumn(),
                console=screen
                if self.console is None or not self.console.is_terminal
                else self.console,
                transient=True,
                # what is written to standard output prints above the bar only when it goes to
                # the same terminal: output sent to a file or a pipe stays there
                redirect_stdout=_same_terminal(),
            )
            self.bar.start()
            self.task = self.bar.add_task("check", total=self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()
