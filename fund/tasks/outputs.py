"""Writing output files: UTF-8 with BOM CSVs that open cleanly in Excel/WPS, written
atomically (temp file + rename), with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# what the running stage wrote (path → bytes) or removed (path → None), for its seal
_WRITTEN: ContextVar[dict[Path, bytes | None] | None] = ContextVar("fund_written_outputs", default=None)


@contextmanager
def recording_outputs() -> Iterator[dict[Path, bytes | None]]:
    """Collect every file written (and removed) through this module inside the block."""
    written: dict[Path, bytes | None] = {}
    token = _WRITTEN.set(written)
    try:
        yield written
    finally:
        _WRITTEN.reset(token)


def remove_output(path: Path) -> None:
    Path(path).unlink(missing_ok=True)
    written = _WRITTEN.get()
    if written is not None:
        written[Path(path)] = None


SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RESERVED_STEMS = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_stem(identifier: str, fallback: str) -> str:
    """A file name (without extension) from an id in the data: the id itself when it is plainly
    safe on every system, else its safe characters plus a short hash of the id, so two ids
    never share a file and no id reaches outside its folder."""
    if SAFE_STEM.fullmatch(identifier) and identifier.upper() not in RESERVED_STEMS:
        return identifier
    kept = re.sub(r"[^A-Za-z0-9_-]+", "_", identifier).strip("_")[:40] or fallback
    return f"{kept}-{hashlib.sha256(identifier.encode('utf-8')).hexdigest()[:8]}"


def safe_cell(value) -> str:
    """A cell as text; a text cell that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_atomic(path: Path, content: bytes) -> None:
    write_files({Path(path): content})


_UMASK: list[int] = []


def process_umask() -> int:
    """The process's umask (read once: reading it means setting it)."""
    if not _UMASK:
        mask = os.umask(0o022)
        os.umask(mask)
        _UMASK.append(mask)
    return _UMASK[0]


def write_files(contents: dict[Path, bytes]) -> None:
    """Write files atomically: each goes to a temp file beside it, all are flushed to disk,
    then each is renamed into place, so neither a reader nor a crash ever sees half a
    file. Files whose bytes are already there are left alone (e.g. thousands of
    unchanged reviewer sheets on a rerun)."""
    # one system-wide flush for a batch: an fsync per file costs seconds for 20,000 sheets
    batch = len(contents) > 1 and hasattr(os, "sync")
    written = _WRITTEN.get()
    if written is not None:
        written.update((Path(path), content) for path, content in contents.items())
    pending: list[tuple[str, Path]] = []
    for folder in {Path(path).parent for path in contents}:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        for path, content in contents.items():
            path = Path(path)
            if path.is_file() and path.stat().st_size == len(content) and path.read_bytes() == content:
                continue
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            pending.append((temp, path))
            if hasattr(os, "fchmod"):  # mkstemp makes 0600; an output is as readable as any file the user makes
                os.fchmod(fd, 0o666 & ~process_umask())
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                if not batch:
                    handle.flush()
                    os.fsync(handle.fileno())
        if batch and pending:
            os.sync()
        for temp, path in pending:
            os.replace(temp, path)
    except BaseException:
        for temp, _ in pending:
            Path(temp).unlink(missing_ok=True)
        raise


# what write_files leaves beside an output when the process is killed between writing and renaming:
# "." + the output's name + "." + tempfile's 8 random characters + ".tmp"
STALE_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def remove_stale_temp_files(out_dir: Path) -> list[Path]:
    """Remove the temp files a killed run left under OUT_DIR (only names of exactly that form,
    only regular files; folders and links are not followed). Returns what it removed. Call it
    while holding the cycle's run lock, so that no other run is writing there."""
    removed = []
    for folder, _, names in os.walk(out_dir):
        for name in names:
            path = Path(folder) / name
            if STALE_TEMP.fullmatch(name) and path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
    return sorted(removed)


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    write_atomic(path, csv_bytes(header, rows))


def write_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))
