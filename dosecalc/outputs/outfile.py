"""Writing an output file: never over an existing file without --force, never half a file.

Every target of a command (``--output``, ``--chart``) is checked with :func:`check_target`
before anything is computed or written, so a refused target never leaves another one written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dosecalc.base.errors import fail


def check_target(
    path: Path, force: bool, option: str = "--output", suffixes: tuple[str, ...] = ()
) -> None:
    """Refuse now what :func:`write_atomic` would refuse later, naming ``option``."""
    if suffixes and path.suffix.lower() not in suffixes:
        names = " or ".join(suffixes)
        raise fail(option, f"'{path.name}' is not an {names} file name")
    if path.is_dir():
        raise fail(option, f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise fail(option, f"{path} already exists; give --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise fail(option, f"the folder {folder} does not exist")


def write_atomic(
    path: Path, text: str | bytes, force: bool = False, option: str = "--output"
) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    check_target(path, force, option)
    folder = path.parent if str(path.parent) else Path(".")
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
