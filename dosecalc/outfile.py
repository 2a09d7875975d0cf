"""Writing an output file: never over an existing file without --force, never half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dosecalc.errors import fail


def write_atomic(path: Path, text: str | bytes, force: bool = False) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    if path.exists() and not force:
        raise fail("--output", f"{path} already exists; give --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise fail("--output", f"the folder {folder} does not exist")
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
