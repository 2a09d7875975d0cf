"""Tables that fit the terminal: what must be read whole is never cut, what does not fit moves.

A :class:`Grid` is a rich renderable laid out at the width it is printed at. Its columns are of
three kinds:

- whole (the default): a drug name, a dose with its unit, a date. Never wrapped, never cut.
- prose (``wrap=N``): a message or a calculation; wraps between words, but not narrower than N
  characters nor than its longest word.
- movable (``under=K``): when the row does not fit, the column leaves the row and its value is
  printed on a line under it (the column with the lowest K first), labelled where a bare value
  would be unclear. A moved column's value is never dropped.

The gap between columns is three spaces, two where that saves moving a column. Lines carry no
trailing spaces, so what a terminal shows, a pipe and a golden screen hold the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.text import Text

from dosecalc.base.numbers import glue

SUB_SEPARATOR = " · "
_GLUE = "\ue000"  # stands for a space that must not break while a text is wrapped


def wrap(text: Text, console: Console, width: int) -> list[Text]:
    """``text`` wrapped at ``width``, never between a number and its unit nor inside a date;
    a URL wider than ``width`` is never broken: it stands whole on a line of its own, wider
    than the others (:func:`unbroken` prints it so)."""
    import re

    plain = glue(text.plain, _GLUE)
    # a URL too wide for a line stands in as a word exactly one line wide, put back once wrapped
    urls = {
        chr(0xE100 + k) * width: url
        for k, url in enumerate(u for u in re.findall(r"\S*://\S+", plain) if len(u) > width)
    }
    for marker, url in urls.items():
        plain = plain.replace(url, marker, 1)
    glued = text.copy()
    glued.plain = plain
    glued.spans[:] = text.spans
    out = []
    for line in glued.wrap(console, width):
        fixed = Text(line.plain.replace(_GLUE, " "), style=line.style, end="")
        fixed.spans[:] = line.spans
        for marker, url in urls.items():
            if marker in fixed.plain:
                fixed = Text(fixed.plain.replace(marker, url), style=line.style, end="")
        out.append(fixed)
    return out


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "left"  # "left" | "right"
    wrap: int | None = None  # prose: may wrap down to this width
    under: int | None = None  # movable under the row; lower moves first
    label: str = "{}"  # how a moved value reads under the row, e.g. "{} of threshold"
    style: str | None = None
    quiet: tuple[str, ...] = ()  # values not worth a line when moved under the row (e.g. "0")
    max_lines: int | None = None  # prose that would wrap to more lines moves under the row


@dataclass
class _Row:
    cells: list[Text]
    note: Text | None
    style: str | None
    section: bool = False  # a blank line before this row


def _text(value: Any) -> Text:
    if isinstance(value, Text):
        return value
    return Text("" if value is None else str(value))


class Grid:
    """A table laid out at print time; see the module docstring."""

    def __init__(
        self,
        columns: Sequence[Column],
        title: str | None = None,
        show_header: bool = True,
        indent: int = 0,
        under_at: int | None = None,
        under_indent: int = 0,
    ) -> None:
        self.columns = list(columns)
        self.title = title
        self.show_header = show_header
        self.indent = indent
        self.under_at = under_at  # the column whose left edge sub-lines start at
        self.under_indent = under_indent  # and this many spaces further in
        self.rows: list[_Row] = []
        self._section = False

    def add_row(self, *cells: Any, note: Any = None, style: str | None = None) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(
            _Row(
                [_text(c) for c in cells],
                _text(note) if note else None,
                style,
                self._section and bool(self.rows),
            )
        )
        self._section = False

    def add_section(self) -> None:
        self._section = True

    # ------------------------------------------------------------------ layout

    def _natural(self) -> list[int]:
        widths = []
        for i, col in enumerate(self.columns):
            cells = [r.cells[i].cell_len for r in self.rows]
            head = len(col.header) if self.show_header else 0
            widths.append(max([head, *cells]))
        return widths

    def _longest(self, i: int) -> int:
        return max((r.cells[i].cell_len for r in self.rows), default=0)

    def _narrowest(self, i: int) -> int:
        """The narrowest a prose column wraps to: its ``wrap``, or its longest word (a number
        with its unit, a date, ``release-with-notes``), which is never cut; a URL aside (wrap)."""
        words = (
            len(w)
            for r in self.rows
            for w in glue(r.cells[i].plain, _GLUE).split()
            if "://" not in w
        )
        return max([self.columns[i].wrap or 0, *words])

    def layout(self, width: int) -> tuple[list[int], dict[int, int], int]:
        """(inline column indexes, {column: width}, gap) for ``width`` characters."""
        natural = self._natural()
        shown = [i for i in range(len(self.columns)) if natural[i] > 0 or self.show_header]
        movable = sorted(
            (i for i in shown if self.columns[i].under is not None),
            key=lambda i: (self.columns[i].under, -i),
        )
        room = width - self.indent
        best: tuple[list[int], dict[int, int], int] | None = None
        for k in range(len(movable) + 1):
            inline = [i for i in shown if i not in movable[:k]]
            for gap in (3, 2):
                sizes = self._fit(inline, natural, room, gap)
                if sizes is not None:
                    return inline, sizes, gap
            best = (inline, {i: natural[i] for i in inline}, 2)
        assert best is not None
        inline, sizes, gap = best
        for i in inline:  # nothing fits: prose at its narrowest, the rest folds at the edge
            if self.columns[i].wrap:
                sizes[i] = min(natural[i], self._narrowest(i))
        return inline, sizes, gap

    def _fit(
        self, inline: list[int], natural: list[int], room: int, gap: int
    ) -> dict[int, int] | None:
        prose = [i for i in inline if self.columns[i].wrap]
        fixed = sum(natural[i] for i in inline if i not in prose) + gap * max(len(inline) - 1, 0)
        left = room - fixed
        wanted = sum(natural[i] for i in prose)
        sizes = {i: natural[i] for i in inline}
        if left < 0:
            return None
        if wanted <= left:
            return sizes
        # share what is left among the prose columns: the narrow ones whole, the rest equally
        prose.sort(key=lambda i: natural[i])
        while prose and natural[prose[0]] <= left // len(prose):
            left -= natural[prose.pop(0)]
        for n, i in enumerate(prose):
            share = left // (len(prose) - n)
            col = self.columns[i]
            if share < self._narrowest(i):
                return None
            if col.max_lines and col.under is not None and self._longest(i) > share * col.max_lines:
                return None
            sizes[i] = share
            left -= share
        return sizes

    # ------------------------------------------------------------------ rendering

    def lines(self, width: int, console: Console | None = None) -> list[Text]:
        console = console or Console(width=width, color_system=None)
        inline, sizes, gap = self.layout(width)
        moved = [i for i in range(len(self.columns)) if i not in inline]
        pad = " " * self.indent
        out: list[Text] = []
        if self.title:
            out.append(Text(self.title, style="bold"))
        if self.show_header and self.rows:
            head = Text(pad)
            for n, i in enumerate(inline):
                col = self.columns[i]
                head.append(_justify(col.header, sizes[i], col.justify, n == len(inline) - 1))
                if n < len(inline) - 1:
                    head.append(" " * gap)
            head.stylize("bold")
            out.append(_rstrip(head))
            total = sum(sizes[i] for i in inline) + gap * (len(inline) - 1)
            out.append(Text(pad + "─" * total))
        if self.under_at is not None and self.under_at in inline:
            at = inline.index(self.under_at)
            sub_indent = self.indent + sum(sizes[i] + gap for i in inline[:at])
        else:
            sub_indent = self.indent + 4
        sub_indent += self.under_indent
        sub_width = max(width - sub_indent, 20)
        for row in self.rows:
            if row.section:
                out.append(Text(""))
            out += self._row_lines(row, inline, sizes, gap, console)
            subs: list[Text] = []
            parts = []
            for i in moved:
                cell = row.cells[i]
                if cell.plain and cell.plain not in self.columns[i].quiet:
                    label = self.columns[i].label
                    before, _, after = label.partition("{}")
                    part = Text(before) + cell + Text(after)
                    parts.append(part)
            if parts:
                subs.append(Text(SUB_SEPARATOR).join(parts))
            if row.note is not None:
                subs.append(row.note)
            for sub in subs:
                for line in wrap(sub, console, sub_width):
                    line = Text(" " * sub_indent) + line
                    if row.style:
                        line.stylize(row.style)
                    out.append(_rstrip(line))
        return out

    def _row_lines(
        self, row: _Row, inline: list[int], sizes: dict[int, int], gap: int, console: Console
    ) -> list[Text]:
        columns: list[list[Text]] = []
        for i in inline:
            cell = row.cells[i]
            if self.columns[i].wrap and cell.cell_len > sizes[i]:
                columns.append(wrap(cell, console, sizes[i]))
            else:
                columns.append([cell])
        height = max(len(c) for c in columns)
        out = []
        for k in range(height):
            line = Text(" " * self.indent)
            for n, (i, parts) in enumerate(zip(inline, columns, strict=True)):
                col = self.columns[i]
                cell = parts[k] if k < len(parts) else Text("")
                last = n == len(inline) - 1
                line.append_text(_justify(cell, sizes[i], col.justify, last))
                if col.style:
                    line.stylize(col.style, len(line) - sizes[i], len(line))
                if not last:
                    line.append(" " * gap)
            if row.style:
                line.stylize(row.style)
            out.append(_rstrip(line))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        for line in self.lines(options.max_width, console):
            line.no_wrap = False
            line.overflow = "fold"
            yield unbroken(line, options.max_width)


def _justify(cell: Text | str, width: int, how: str, last: bool) -> Text:
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.rstrip()
    space = width - text.cell_len
    if space <= 0:
        return text
    if how == "right":
        return Text(" " * space) + text
    return text if last else text + Text(" " * space)


def unbroken(line: Text, width: int) -> Text:
    """A line wider than ``width`` because it holds a URL is printed as it is (a terminal shows
    its end on the next row, and the URL stays one to copy or open); any other is folded."""
    if line.cell_len > width and "://" in line.plain:
        line.no_wrap, line.overflow = True, "ignore"
    return line


def _rstrip(line: Text) -> Text:
    line.rstrip()
    return line


class Hanging:
    """A paragraph wrapped at the print width, its continuation lines indented."""

    def __init__(self, text: Text | str, indent: int = 2, first: int = 0) -> None:
        self.text = _text(text)
        self.indent = indent
        self.first = first  # spaces before the first line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = max(options.max_width - self.indent, 20)
        for n, line in enumerate(wrap(self.text, console, width)):
            pad = self.first if n == 0 else self.indent
            out = Text(" " * pad) + line
            out.rstrip()
            yield unbroken(out, options.max_width)


def pipe_width() -> int:
    """The width of output that is not a terminal (a pipe, a file): ``COLUMNS`` when set, else
    the width of the terminal the command was typed in (the controlling terminal, else the one
    standard error is on: ``dosecalc plan … | less`` in 80 columns is 80 wide), else
    PIPE_WIDTH."""
    import os
    import sys

    text = os.environ.get("COLUMNS", "").strip()
    if text.isdigit() and 20 <= int(text) <= 1000:
        return int(text)
    for width in (_tty_width, lambda: os.get_terminal_size(sys.stderr.fileno()).columns):
        try:
            columns = width()
        except (OSError, ValueError, AttributeError):  # no such terminal
            continue
        if 20 <= columns <= 1000:
            return columns
    return PIPE_WIDTH


def _tty_width() -> int:
    import os

    fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    try:
        return os.get_terminal_size(fd).columns
    finally:
        os.close(fd)


PIPE_WIDTH = 80  # columns of output neither COLUMNS nor a terminal gives a width to
