"""What every stage flow shares: its context, input hashing, skip-if-unchanged,
outcomes, and the rejected-row records."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State
from prefect.utilities.annotations import quote
from sqlalchemy import delete, select, update

from fund.schemas.config import CycleConfig, load_config
from fund.schemas.tables import Cycle, Rejection, StageRun, utc_now
from fund.tasks.messages import render
from fund.tasks.quality import GateResult, check_table, gate_message
from fund.tasks.reading import FileProblem, Problem
from fund.tasks.store import audit, default_db_url, engine_for, insert_rows

UNSEALED = "unsealed"
quality_gate = task(check_table, name="quality gate", cache_policy=NO_CACHE)


class Stopped(Exception):
    """The data of a Failed flow state: what stopped, with the stage outcomes so far."""

    def __init__(self, message: str, results: list[dict]):
        super().__init__(message)
        self.results = results


def stage_results(state) -> list[dict]:
    """The outcome dicts of a finished stage or cycle flow run (Completed or Failed)."""
    data = state.result(raise_on_failure=False)
    if isinstance(data, Stopped):
        return data.results
    if isinstance(data, BaseException):
        raise data
    return data if isinstance(data, list) else [data]


class StageStop(Exception):
    """Stops the stage; the message is already in the user's language."""


@dataclass
class Stage:
    """One run of one stage over one cycle folder."""
    name: str
    cycle_dir: Path
    out_dir: Path
    db_url: str
    lang: str
    cfg: CycleConfig = field(init=False)
    gates: list[GateResult] = field(default_factory=list)
    pending_hash: str | None = None

    @classmethod
    def open(cls, name: str, cycle_dir: str, out_dir: str, db_url: str | None, lang: str) -> "Stage":
        stage = cls(name, Path(cycle_dir), Path(out_dir), db_url or default_db_url(Path(out_dir)), lang)
        stage.cfg = load_config(stage.cycle_dir)
        return stage

    @property
    def cycle_id(self) -> str:
        return self.cfg.cycle.id

    def done_hash(self, stage: str) -> str | None:
        with engine_for(self.db_url).connect() as connection:
            row = connection.execute(select(StageRun.input_hash, StageRun.outcome)
                                     .where(StageRun.cycle_id == self.cycle_id, StageRun.stage == stage)).first()
        return row[0] if row and row[1] == "done" else None

    def unchanged(self, input_hash: str, outputs: list[Path]) -> bool:
        return self.done_hash(self.name) == input_hash and all(p.exists() for p in outputs)

    def save_cycle(self, session) -> None:
        cycle = self.cfg.cycle
        session.merge(Cycle(id=cycle.id, name=cycle.name, budget_fen=cycle.budget_fen, opens=cycle.opens,
                            closes=cycle.closes, config_toml=(self.cycle_dir / "cycle.toml").read_text(encoding="utf-8-sig")))

    def gate(self, name: str, rows: list[dict], table, flags: dict[str, list[bool]] | None = None,
             id_column: str | None = None) -> None:
        """The stage's data-quality gate on rows it is about to store or publish."""
        # quote(): Prefect is not to walk big row lists looking for futures (it costs more than the check)
        result = quality_gate(name, quote(rows), table, quote(flags), id_column, str(self.out_dir / "quality"))
        self.gates.append(result)
        if result.failures:
            raise StageStop(gate_message(result, self.lang))

    def gate_summary(self) -> dict:
        return {"expectations": sum(g.evaluated for g in self.gates), "passed": sum(g.passed for g in self.gates)}

    def account(self, rows_in: int, problems: list[Problem]) -> dict:
        """Rows read and rows rejected (distinct input lines with at least one problem)."""
        rejected = len({(p.source_file, p.source_row) for p in problems if p.source_row})
        return {"rows_in": rows_in, "rows_rejected": rejected, "rows_accepted": rows_in - rejected}

    def record(self, session, input_hash: str, outcome: str, summary: dict) -> None:
        """Store the stage's outcome in its transaction, unsealed: the stage only counts as
        finished once its files are written too (`seal`), so a crash in between redoes it."""
        self.pending_hash = input_hash
        session.execute(delete(StageRun).where(StageRun.cycle_id == self.cycle_id, StageRun.stage == self.name))
        session.add(StageRun(cycle_id=self.cycle_id, stage=self.name, input_hash=UNSEALED, outcome=outcome,
                             finished_at=utc_now(),
                             summary=json.dumps(summary, sort_keys=True, ensure_ascii=False, default=str)))
        audit(session, self.cycle_id, "fund", f"stage:{self.name}", self.cycle_id,
              {"outcome": outcome, "input_hash": input_hash, **summary})

    def seal(self) -> None:
        if self.pending_hash is None:
            return
        self.crash_point("written")
        with engine_for(self.db_url).begin() as connection:
            connection.execute(update(StageRun).where(StageRun.cycle_id == self.cycle_id, StageRun.stage == self.name)
                               .values(input_hash=self.pending_hash))
        self.pending_hash = None

    def crash_point(self, point: str) -> None:
        """Test hook: FUND_CRASH_AT=<stage>:<point> kills the process here, like a power cut."""
        if os.environ.get("FUND_CRASH_AT") == f"{self.name}:{point}":
            os._exit(137)

    def replace_rejections(self, session, problems: list[Problem]) -> None:
        session.execute(delete(Rejection).where(Rejection.cycle_id == self.cycle_id, Rejection.stage == self.name))
        rows = [{"id": i, "stage": self.name, "source_file": p.source_file, "source_row": p.source_row,
                 "record_id": p.record_id, "field": p.field, "value": p.value, "rule": p.rule,
                 "params": json.dumps(p.params, sort_keys=True, ensure_ascii=False, default=str)}
                for i, p in enumerate(sorted(problems, key=problem_order))]
        insert_rows(session, Rejection, self.cycle_id, rows)


def problem_order(p: Problem):
    return (p.source_file, p.source_row or 0, p.record_id, p.field, p.rule)


def hash_inputs(*parts) -> str:
    """sha256 over strings and files (a missing file hashes as absent)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            digest.update(str(part.name).encode())
            digest.update(part.read_bytes() if part.is_file() else b"<absent>")
        else:
            digest.update(str(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def outcome(stage: Stage, kind: str, message: str, summary: dict | None = None) -> dict:
    return {"stage": stage.name, "outcome": kind, "message": message, "summary": summary or {}}


def finish(stage: Stage, result: dict, artifact_lines: list[str] | None = None) -> State:
    """End a stage flow: a markdown artifact for the Prefect UI, and a Failed state when it stopped."""
    lines = [f"### {stage.name}: {result['outcome']}", "", result["message"], ""]
    lines += artifact_lines or []
    create_markdown_artifact(markdown="\n".join(lines), key=f"{stage.name}-{artifact_key(stage.cycle_id)}",
                             description=f"{stage.name} of {stage.cycle_id}")
    if result["outcome"] == "stopped":
        return Failed(message=result["message"], data=Stopped(result["message"], [result]))
    return Completed(message=result["message"], data=result)


def artifact_key(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:40] or "cycle"


def guarded(stage: Stage, body) -> State:
    """Run a stage body; a file or gate problem stops the stage with its message, never a traceback."""
    try:
        result = body()
        stage.seal()
    except FileProblem as exc:
        result = outcome(stage, "stopped", file_problem_text(exc, stage.lang))
    except StageStop as exc:
        result = outcome(stage, "stopped", str(exc))
    return finish(stage, result)


def file_problem_text(exc: FileProblem, lang: str) -> str:
    where = exc.source_file + (f" line {exc.params['line']}" if "line" in exc.params else "")
    return f"{where}: {render(exc.rule, exc.params, lang)}"
