"""A witness of the ledger's head, kept outside the database: in the user's state folder.

The hash chain shows an edit or a deletion in the middle, but not the newest records removed
with the stored head set back to an earlier record: what is left is a perfect shorter chain.
So each time this user, on this machine, appends to a ledger (or verifies it whole), dosecalc
notes the head it saw: its number and hash. Every later use checks that the ledger still holds
that record, with that hash, and has not shrunk below it. Someone with write access to the
database but not to this folder cannot take those records back unseen.

One file per ledger, named after the ledger's location (its file, or its PostgreSQL server
and database; never the user name or password), holding the ledger's id and the head. Notes
only move forward; concurrent dosecalc processes take a lock on the folder to update them.
``DOSECALC_STATE_DIR`` names another folder (tests, or a folder the pharmacy keeps elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENV = "DOSECALC_STATE_DIR"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Witness:
    ledger_id: str
    seq: int
    hash: str
    seen_at: str
    path: Path


def folder() -> Path:
    """The folder the witnesses are kept in: ``$DOSECALC_STATE_DIR``, else the user's state
    folder (``~/.local/state/dosecalc/ledgers`` on Linux)."""
    given = os.environ.get(ENV)
    if given:
        return Path(given).expanduser() / "ledgers"
    import platformdirs

    return Path(platformdirs.user_state_dir("dosecalc", appauthor=False)) / "ledgers"


def identity(url: Any) -> str:
    """Where a ledger is, independent of who connects: the real path of a SQLite file; the
    server, port and database of a PostgreSQL ledger."""
    if url.get_backend_name() == "sqlite":
        return "sqlite:" + os.path.realpath(url.database)
    host = url.host or str(url.query.get("host") or "")
    return f"postgresql://{host.lower()}:{url.port or 5432}/{url.database or ''}"


def path_for(url: Any) -> Path:
    name = hashlib.sha256(identity(url).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return folder() / f"{name}.json"


class Unreadable(Exception):
    """The witness file exists but cannot be read as one."""


def load(url: Any) -> Witness | None:
    """The head this user last saw of the ledger at ``url`` (None: none noted yet)."""
    path = path_for(url)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # none kept (there) yet
        return None
    except (OSError, ValueError) as e:
        raise Unreadable(f"{path}: {e}") from None
    try:
        seq, hash_, ledger_id = data["seq"], data["hash"], data["ledger_id"]
        if not (isinstance(seq, int) and seq >= 0 and isinstance(hash_, str)):
            raise ValueError
        if not (_HEX64.fullmatch(hash_) and isinstance(ledger_id, str)):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise Unreadable(f"{path}: not a dosecalc witness") from None
    return Witness(ledger_id, seq, hash_, str(data.get("seen_at", "?")), path)


def save(url: Any, shown: str, ledger_id: str, seq: int, hash_: str, force: bool = False) -> str:
    """Note the head ``seq``/``hash_`` of the ledger (only forward, unless ``force``). Returns
    '' when noted or already further on, else why it could not be noted (a warning: the record
    itself is committed)."""
    path = path_for(url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(path.parent):
            try:
                current = load(url)
            except Unreadable:
                current = None
            if (
                not force
                and current is not None
                and current.ledger_id == ledger_id
                and current.seq >= seq
            ):
                return ""
            record = {
                "ledger": shown,
                "ledger_id": ledger_id,
                "seq": seq,
                "hash": hash_,
                "seen_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except OSError as e:
        return f"could not note the ledger's head #{seq} in {path}: {e.strerror or e}"
    return ""


class _locked:
    """An exclusive lock on ``folder`` (a lock file in it) while witnesses are updated."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / ".lock"
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock; notes still only move forward
            return
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


ACCEPT = "(after a deliberate restore, `dosecalc ledger verify --accept-head` accepts it)"


def problems(w: Witness, ledger_id: str, head_seq: int, hash_at_seq: str | None) -> list[str]:
    """What the ledger as it is now contradicts in the witness ``w``."""
    seen = f"this machine saw record #{w.seq} as the ledger's newest on {w.seen_at[:10]}"
    if w.ledger_id != ledger_id:
        return [
            f"this is not the ledger this machine last saw at this place (ledger id {w.ledger_id}, "
            f"now {ledger_id}): it was replaced by another ledger {ACCEPT}"
        ]
    if w.seq > head_seq:
        return [
            f"{seen}, but the ledger now ends at #{head_seq}: records #{head_seq + 1}–#{w.seq} "
            f"were removed, or an older copy was restored {ACCEPT}"
        ]
    if w.seq and hash_at_seq != w.hash:
        return [
            f"{seen}, but record #{w.seq} is no longer that record: the chain was rewritten "
            f"{ACCEPT}"
        ]
    return []
