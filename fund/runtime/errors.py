"""Where the details of an internal error go: a file of its own in the run's output folder
(never a shared path that a concurrent run would overwrite), or the user's state folder
when the output folder cannot be written."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def state_folder() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() / "fund"


def write_error_log(out_dir: Path | None, details: str) -> Path:
    name = f"fund-error-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in ([Path(out_dir) / "logs"] if out_dir else []) + [state_folder()]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(details, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path(os.devnull)


def check_writable(out_dir: Path) -> str | None:
    """None when files can be written in OUT_DIR (made if needed), else the reason."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".fund-write-check-{os.getpid()}"
        probe.write_bytes(b"0")
        probe.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
