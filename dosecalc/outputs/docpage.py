"""A documentation page for a terminal: its Markdown rendered at the terminal's width (paragraphs
and tables reflowed, no word of a table cut; code blocks as written, never wrapped), shown
through a pager (``dosecalc docs TOPIC``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions
from rich.markdown import CodeBlock, Markdown, TableElement
from rich.padding import Padding
from rich.pager import Pager
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text


class _Table(TableElement):
    """A Markdown table that reflows to the width: each column at least as wide as its longest
    word (a warning code, an option), so that words are never cut, only the lines between them;
    where the longest words of all columns are wider than the page, some fold (_narrowed), or,
    with more than three columns, each row is a block of its own (_records)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        head = [c.content for c in self.header.row.cells] if self.header and self.header.row else []
        rows = [[c.content for c in row.cells] for row in (self.body.rows if self.body else [])]
        cells = [[r[n].plain for r in [head, *rows] if n < len(r)] for n in range(len(head))]
        widths = [max((len(w) for c in column for w in c.split()), default=1) for column in cells]
        room = options.max_width - 2 * len(head)  # less the edges and the gaps between columns
        if sum(widths) > room and len(head) > 3:  # too many columns: one block per row
            yield from _records(head, rows)
            return
        while sum(widths) > room and max(widths) > 8:
            widths[_narrowed(widths)] -= 1
        natural = [max((len(c) for c in column), default=1) for column in cells]
        while sum(widths) < room and any(w < n for w, n in zip(widths, natural, strict=True)):
            want = [n - w for w, n in zip(widths, natural, strict=True)]  # the room left goes
            widths[want.index(max(want))] += 1  # to the columns with the most text to wrap
        # fixed widths: rich's own sharing would widen a column back to its longest word
        table = Table(box=box.SIMPLE, pad_edge=False, show_edge=True, collapse_padding=True)
        for heading, width in zip(head, widths, strict=True):
            heading = heading.copy()
            heading.stylize("markdown.table.header")
            table.add_column(heading, width=width, overflow="fold")
        for row in rows:
            table.add_row(*row)
        yield table


def _records(head: list[Text], rows: list[list[Text]]) -> Iterator[Any]:
    """A table too wide for the page, one block per row: its first cell, then each other cell
    under it as ``header: value``, wrapped between words."""
    for row in rows:
        yield Text.assemble(" ", (row[0].copy() if row else Text("")), style="bold")
        for heading, cell in zip(head[1:], row[1:], strict=False):
            if cell.plain.strip():
                yield Padding(Text.assemble((f"{heading.plain}: ", "italic"), cell), (0, 0, 0, 3))
    yield Text("")


def _narrowed(widths: list[int]) -> int:
    """The column whose longest word folds next: the widest of the middle columns (a default,
    a severity: mostly short), then the last (the description), the first (the name) last."""
    n = len(widths)
    for group in (range(1, n - 1), range(n - 1, n), range(n)):
        wide = [i for i in group if widths[i] > 8]
        if wide:
            return max(wide, key=lambda i: widths[i])
    return 0


class _Code(CodeBlock):
    """A code block as written: each line whole, never wrapped nor padded (a command or a file
    to copy); a line wider than the page runs past its edge (``show`` does not crop)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        code = str(self.text).rstrip()
        shown = Syntax(code, self.lexer_name, theme=self.theme).highlight(code)
        yield Text("")
        for line in shown.split("\n"):
            yield Text.assemble(" ", line, no_wrap=True, overflow="ignore")
        yield Text("")


class _Markdown(Markdown):
    elements = {**Markdown.elements, "table_open": _Table, "fence": _Code, "code_block": _Code}


class _Less(Pager):
    """The user's ``PAGER`` (or ``MANPAGER``), else ``less`` told to keep colours, to quit at once
    when the page fits the screen and to leave the page on it (``LESS=FRX``, as git does)."""

    def show(self, content: str) -> None:
        import pydoc

        if not (os.environ.get("PAGER") or os.environ.get("MANPAGER")):
            os.environ.setdefault("LESS", "FRX")
        pydoc.pager(content)


def show(text: str, console: Console) -> None:
    """``text`` (Markdown) rendered at ``console``'s width, through the pager."""
    with console.pager(pager=_Less(), styles=True):
        console.print(_Markdown(text), crop=False)  # links: their text (the pager drops the link)
