"""Outputs under seal: every file a stage writes is stored with the stage (its bytes,
compressed, and their SHA-256), so an output edited or deleted by hand is found and
rewritten from the database byte for byte, and the restoration goes into the audit log."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from fund.schemas.codes import AuditAction
from fund.schemas.tables import OutputFile
from fund.tasks.outputs import write_files
from fund.tasks.audit import audit
from fund.tasks.store import engine_for, insert_rows, transaction


@dataclass(frozen=True)
class OutputDifference:
    path: str  # relative to OUT_DIR
    stage: str
    expected: str  # SHA-256 of what the stage wrote
    found: str | None  # SHA-256 of what is there now; None: missing


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def relative(out_dir: Path, path: Path) -> str:
    return Path(path).resolve().relative_to(Path(out_dir).resolve()).as_posix()


def store_outputs(session, cycle_id: str, stage: str, out_dir: Path, written: dict[Path, bytes | None]) -> dict[str, str]:
    """Keep what the stage wrote (in its sealing transaction); returns path → SHA-256."""
    paths = {relative(out_dir, path): content for path, content in written.items()}
    if not paths:
        return {}
    names = sorted(paths)
    for start in range(0, len(names), 500):
        session.execute(
            delete(OutputFile).where(OutputFile.cycle_id == cycle_id, OutputFile.path.in_(names[start : start + 500]))
        )
    rows = [
        {"path": name, "stage": stage, "sha256": digest(content), "size": len(content), "content": zlib.compress(content, 6)}
        for name, content in sorted(paths.items())
        if content is not None
    ]
    insert_rows(session, OutputFile, cycle_id, rows)
    return {row["path"]: row["sha256"] for row in rows}


def sealed_outputs(url: str, cycle_id: str) -> list[dict]:
    columns = (OutputFile.path, OutputFile.stage, OutputFile.sha256, OutputFile.size)
    with engine_for(url).connect() as connection:
        rows = connection.execute(select(*columns).where(OutputFile.cycle_id == cycle_id).order_by(OutputFile.path))
        return [dict(zip(("path", "stage", "sha256", "size"), row)) for row in rows]


def differing_outputs(url: str, cycle_id: str, out_dir: Path) -> list[OutputDifference]:
    """Sealed outputs that are no longer what their stage wrote (changed, or missing)."""
    found = []
    for seal in sealed_outputs(url, cycle_id):
        path = Path(out_dir) / seal["path"]
        try:
            if path.stat().st_size == seal["size"] and digest(path.read_bytes()) == seal["sha256"]:
                continue
            now = digest(path.read_bytes())
        except OSError:
            now = None
        found.append(OutputDifference(seal["path"], seal["stage"], seal["sha256"], now))
    return found


def restore_outputs(url: str, cycle_id: str, out_dir: Path, differences: list[OutputDifference]) -> None:
    """Rewrite the given outputs from the database and record it in the audit log."""
    if not differences:
        return
    names = [d.path for d in differences]
    with engine_for(url).connect() as connection:
        stored = dict(
            connection.execute(
                select(OutputFile.path, OutputFile.content).where(OutputFile.cycle_id == cycle_id, OutputFile.path.in_(names))
            ).all()
        )
    write_files({Path(out_dir) / name: zlib.decompress(stored[name]) for name in names})
    with transaction(url) as session:
        audit(
            session,
            cycle_id,
            "fund",
            AuditAction.OUTPUTS_RESTORED,
            cycle_id,
            {
                "files": [
                    {"path": d.path, "stage": d.stage, "expected": d.expected, "found": d.found or "missing"} for d in differences
                ]
            },
        )
