"""The tracking stage's input files in the cycle folder (all optional): objections.csv,
payments.csv, progress/*.csv, evaluations/*.csv."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fund.schemas.tables import Objection, Payment, Progress, ProjectEvaluation, csv_columns
from fund.tasks.reading import CsvTable, listed, present, read_csv

OBJECTIONS, PAYMENTS, PROGRESS_DIR, EVALUATIONS_DIR = "objections.csv", "payments.csv", "progress", "evaluations"


def progress_files(cycle_dir: Path) -> list[Path]:
    return _csv_files(Path(cycle_dir) / PROGRESS_DIR)


def evaluation_files(cycle_dir: Path) -> list[Path]:
    return _csv_files(Path(cycle_dir) / EVALUATIONS_DIR)


def _csv_files(folder: Path) -> list[Path]:
    return (
        sorted(p for p in folder.glob("*") if p.suffix.lower() in {".csv", ".txt"} and listed(p, folder.name))
        if folder.is_dir()
        else []
    )


def tracking_inputs(cycle_dir: Path) -> list[Path]:
    """Every input file of the tracking stage (for the input hash)."""
    cycle_dir = Path(cycle_dir)
    for name in (OBJECTIONS, PAYMENTS):
        present(cycle_dir / name, name)  # optional, but never a folder or a broken link
    return [cycle_dir / OBJECTIONS, cycle_dir / PAYMENTS, *progress_files(cycle_dir), *evaluation_files(cycle_dir)]


@dataclass
class TrackingFiles:
    objections: CsvTable | None
    payments: CsvTable | None
    progress: list[CsvTable]
    evaluations: list[CsvTable]


def read_tracking(cycle_dir: Path) -> TrackingFiles:
    cycle_dir = Path(cycle_dir)

    def optional(name: str, table, ident) -> CsvTable | None:
        path = cycle_dir / name
        return read_csv(path, name, csv_columns(table), ident) if present(path, name) else None

    return TrackingFiles(
        optional(OBJECTIONS, Objection, ("objection_id",)),
        optional(PAYMENTS, Payment, ("proposal_id", "kind")),
        [
            read_csv(p, f"{PROGRESS_DIR}/{p.name}", csv_columns(Progress), ("proposal_id", "period_end"))
            for p in progress_files(cycle_dir)
        ],
        [
            read_csv(p, f"{EVALUATIONS_DIR}/{p.name}", csv_columns(ProjectEvaluation), ("proposal_id", "phase"))
            for p in evaluation_files(cycle_dir)
        ],
    )
