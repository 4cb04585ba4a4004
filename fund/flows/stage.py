"""The stage protocol that every stage flow follows: open the stage, plan (wait, skip or
run: `fund.flows.plans`), read, validate, gate, store, write, seal, report.

This module does not import Prefect at load time (the planning of a run with nothing to
do, and `fund status`, use it without Prefect); the quality gate task, the artifacts and
the flow states are loaded when a stage actually runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select, update

from fund.runtime import progress
from fund.schemas.codes import Outcome
from fund.schemas.config import CycleConfig, load_config
from fund.schemas.tables import Cycle, Rejection, StageRun, StageStatus, utc_now
from fund.tasks.messages import render
from fund.tasks.outputs import recording_outputs
from fund.tasks.reading import FileProblem, Problem
from fund.tasks.seals import store_outputs
from fund.tasks.audit import audit
from fund.tasks.store import default_db_url, engine_for, insert_rows, transaction

UNSEALED = "unsealed"
# The product database a deployment run took from the worker's environment or a Secret block
# (`fund.runtime.database.deployed_database`): the stage flows it calls get db_url=None as their
# parameter and find the URL here, so the password never shows among a subflow's parameters.
DEPLOYED_DATABASE: ContextVar[str | None] = ContextVar("fund_deployed_database", default=None)
STAGE_NAMES = ("intake", "assignment", "scoring", "allocation", "publication", "tracking", "report")


class Stopped(Exception):
    """The data of a Failed flow state: what stopped, with the stage outcomes so far. An
    ordinary stop: its message is logged without a traceback (`fund.runtime.quiet_stops`)."""

    ordinary_stop = True

    def __init__(self, message: str, results: list[StageOutcome]):
        super().__init__(message)
        self.results = results


@dataclass
class StageOutcome:
    """How one stage ended: the outcome, the sentence the administrator reads, the stage's
    figures and, when it waits, what for."""

    stage: str
    outcome: Outcome
    message: str
    summary: dict = field(default_factory=dict)
    waiting_for: dict = field(default_factory=dict)

    @property
    def ends_run(self) -> bool:
        """The later stages do not run: this one waits, stopped or met an internal error."""
        return self.outcome in (Outcome.WAITING, Outcome.STOPPED, Outcome.ERROR)

    @property
    def failed(self) -> bool:
        """A stop or an internal error: the run ends with exit code 1."""
        return self.outcome in (Outcome.STOPPED, Outcome.ERROR)


def stopped_state(results: list[StageOutcome], message: str | None = None, **state):
    """The Failed flow state of a run that stopped: its message (by default the last outcome's)
    and the outcomes so far as its data."""
    from prefect.states import Failed

    message = results[-1].message if message is None else message
    return Failed(message=message, data=Stopped(message, results), **state)


def stage_results(state) -> list[StageOutcome]:
    """The outcomes of a finished stage or cycle flow run (Completed or Failed)."""
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
    gates: list = field(default_factory=list)
    pending_hash: str | None = None

    @classmethod
    def open(cls, name: str, cycle_dir: str, out_dir: str, db_url: str | None, lang: str) -> "Stage":
        url = db_url or DEPLOYED_DATABASE.get() or default_db_url(Path(out_dir))
        stage = cls(name, Path(cycle_dir), Path(out_dir), url, lang)
        stage.cfg = load_config(stage.cycle_dir)
        return stage

    @property
    def cycle_id(self) -> str:
        return self.cfg.cycle.id

    def stored_run(self, stage: str) -> tuple[str, str] | None:
        """(input hash, outcome) of the stage's last sealed run."""
        with engine_for(self.db_url).connect() as connection:
            row = connection.execute(
                select(StageRun.input_hash, StageRun.outcome).where(StageRun.cycle_id == self.cycle_id, StageRun.stage == stage)
            ).first()
        return (row[0], row[1]) if row and row[0] != UNSEALED else None

    def done_hash(self, stage: str) -> str | None:
        run = self.stored_run(stage)
        return run[0] if run and run[1] == "done" else None

    def unchanged(self, input_hash: str, outputs: list[Path], outcome: str = "done") -> bool:
        return self.stored_run(self.name) == (input_hash, outcome) and all(p.exists() for p in outputs)

    def step(self, step: str, **params) -> None:
        """Say where the stage is (the live display of `fund run`)."""
        progress.step(self.name, step, **params)

    def save_cycle(self, session) -> None:
        cycle = self.cfg.cycle
        session.merge(
            Cycle(
                id=cycle.id,
                name=cycle.name,
                budget_fen=cycle.budget_fen,
                opens=cycle.opens,
                closes=cycle.closes,
                config_toml=(self.cycle_dir / "cycle.toml").read_text(encoding="utf-8-sig"),
            )
        )

    def gate(
        self, name: str, rows: list[dict], table, flags: dict[str, list[bool]] | None = None, id_column: str | None = None
    ) -> None:
        """The stage's data-quality gate on rows it is about to store or publish."""
        from prefect.utilities.annotations import quote

        from fund.tasks.quality import gate_message

        self.step("gate", table=name, rows=len(rows))
        # quote(): Prefect is not to walk big row lists looking for futures (it costs more than the check)
        result = quality_gate()(name, quote(rows), table, quote(flags), id_column, str(self.out_dir / "quality"))
        self.gates.append(result)
        if result.failures:
            raise StageStop(gate_message(result, self.lang))

    def gate_summary(self) -> dict:
        return {"expectations": sum(g.evaluated for g in self.gates), "passed": sum(g.passed for g in self.gates)}

    def account(self, rows_in: int, problems: list[Problem]) -> dict:
        """Rows read and rows rejected (distinct input lines with at least one problem)."""
        rejected = len({(p.source_file, p.source_row) for p in problems if p.source_row})
        return {"rows_in": rows_in, "rows_rejected": rejected, "rows_accepted": rows_in - rejected}

    def record(self, session, input_hash: str, outcome: str, summary: dict, tables: tuple = ()) -> None:
        """Store the stage's outcome in its transaction, unsealed: the stage only counts as
        finished once its files are written too (`seal`), so a crash in between redoes it.
        `tables`: what the stage stored, whose digests the audit trail keeps."""
        self.step("storing")
        self.pending_hash = input_hash
        session.execute(delete(StageRun).where(StageRun.cycle_id == self.cycle_id, StageRun.stage == self.name))
        session.add(
            StageRun(
                cycle_id=self.cycle_id,
                stage=self.name,
                input_hash=UNSEALED,
                outcome=outcome,
                finished_at=utc_now(),
                summary=json.dumps(summary, sort_keys=True, ensure_ascii=False, default=str),
            )
        )
        audit(
            session,
            self.cycle_id,
            "fund",
            f"stage:{self.name}",
            self.cycle_id,
            {"outcome": outcome, "input_hash": input_hash, **summary},
            tables=tables,
        )

    def seal(self, written: dict[Path, bytes | None]) -> None:
        """The files are written: keep them under seal and mark the stage finished."""
        if self.pending_hash is None and not written:
            return
        self.crash_point("written")
        with engine_for(self.db_url).begin() as connection:
            from sqlmodel import Session

            with Session(bind=connection) as session:
                hashes = store_outputs(session, self.cycle_id, self.name, self.out_dir, written)
                if hashes:
                    audit(session, self.cycle_id, "fund", f"sealed:{self.name}", self.cycle_id, {"outputs": hashes})
                if self.pending_hash is not None:
                    session.execute(
                        update(StageRun)
                        .where(StageRun.cycle_id == self.cycle_id, StageRun.stage == self.name)
                        .values(input_hash=self.pending_hash)
                    )
                session.flush()
        self.pending_hash = None

    def crash_point(self, point: str) -> None:
        """Test hook: FUND_CRASH_AT=<stage>:<point> kills the process here, like a power cut."""
        if os.environ.get("FUND_CRASH_AT") == f"{self.name}:{point}":
            os._exit(137)

    def replace_rejections(self, session, problems: list[Problem]) -> None:
        session.execute(delete(Rejection).where(Rejection.cycle_id == self.cycle_id, Rejection.stage == self.name))
        rows = [
            {
                "id": i,
                "stage": self.name,
                "source_file": p.source_file,
                "source_row": p.source_row,
                "record_id": p.record_id,
                "field": p.field,
                "value": p.value,
                "rule": p.rule,
                "params": json.dumps(p.params, sort_keys=True, ensure_ascii=False, default=str),
            }
            for i, p in enumerate(sorted(problems, key=problem_order))
        ]
        insert_rows(session, Rejection, self.cycle_id, rows)


_QUALITY_GATE = []


def quality_gate():
    """The quality gate as a Prefect task (made once, when the first stage runs a gate)."""
    if not _QUALITY_GATE:
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        from fund.tasks.quality import check_table

        _QUALITY_GATE.append(task(check_table, name="quality gate", cache_policy=NO_CACHE))
    return _QUALITY_GATE[0]


def problem_order(p: Problem):
    return (p.source_file, p.source_row or 0, p.record_id, p.field, p.rule)


def hash_inputs(*parts) -> str:
    """sha256 over strings and files (a missing file hashes as absent)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            digest.update(str(part.name).encode())
            try:
                digest.update(part.read_bytes() if part.is_file() else b"<absent>")
            except OSError:  # the stage runs and its reader says what is wrong with the file
                digest.update(b"<unreadable>")
        else:
            digest.update(str(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def outcome(
    stage: Stage, kind: Outcome, message: str, summary: dict | None = None, waiting_for: dict | None = None
) -> StageOutcome:
    return StageOutcome(stage.name, Outcome(kind), message, summary or {}, waiting_for or {})


def finish(stage: Stage, result: StageOutcome, artifact_lines: list[str] | None = None):
    """End a stage flow: a markdown artifact and a log line for the Prefect UI, and a Failed
    state (no traceback) when it stopped."""
    from prefect.artifacts import create_markdown_artifact
    from prefect.logging import get_run_logger
    from prefect.states import Completed

    lines = [f"### {stage.name}: {result.outcome}", "", result.message, ""]
    lines += artifact_lines or []
    if result.outcome != Outcome.SKIPPED:  # unchanged: the latest version keeps the last real figures
        create_markdown_artifact(
            markdown="\n".join(lines),
            key=f"{stage.name}-{artifact_key(stage.cycle_id)}",
            description=f"{stage.name} of {stage.cycle_id}",
        )
    logger = get_run_logger()
    (logger.warning if result.outcome == Outcome.STOPPED else logger.info)("%s: %s", result.outcome, result.message)
    if result.outcome == Outcome.STOPPED:
        return stopped_state([result])
    return Completed(message=result.message, data=result)


def artifact_key(text: str) -> str:
    """A Prefect artifact key part (lowercase letters, digits and dashes only) from a cycle id.
    An id that had to be changed to fit (capitals, dots, underscores, more than 40 characters)
    gets 8 characters of its hash, so two cycle ids never share a key."""
    import re

    key = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")
    if key == text and len(key) <= 40:
        return key
    return f"{key[:40].rstrip('-')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}".lstrip("-")


def guarded(stage: Stage, body):
    """Run a stage body; a file or gate problem stops the stage with its message, never a
    traceback. Every file the body writes is sealed with the stage."""
    progress.stage_started(stage.name)
    try:
        with recording_outputs() as written:
            result = body()
        stage.seal(written)
    except FileProblem as exc:
        result = outcome(stage, Outcome.STOPPED, file_problem_text(exc, stage.lang))
    except StageStop as exc:
        result = outcome(stage, Outcome.STOPPED, str(exc))
    except OSError as exc:
        from fund.runtime.messages import text

        if exc.filename is None or exc.errno is None:
            raise
        result = outcome(stage, Outcome.STOPPED, text("file_io", stage.lang, path=exc.filename, reason=exc.strerror or exc))
    return finish(stage, result)


def file_problem_text(exc: FileProblem, lang: str) -> str:
    where = exc.source_file + (f" line {exc.params['line']}" if "line" in exc.params else "")
    return f"{where}: {render(exc.rule, exc.params, lang)}"


def record_statuses(url: str, cycle_id: str, results: list[StageOutcome], whole_cycle: bool = True) -> None:
    """What this run said about each stage it reached (`fund status` reads it); after a run of
    the whole cycle, stages it did not reach have no status."""
    now = utc_now()
    rows = [
        {
            "stage": r.stage,
            "outcome": str(r.outcome),
            "message": r.message,
            "waiting_for": json.dumps(r.waiting_for, sort_keys=True, ensure_ascii=False, default=str),
            "at": now,
        }
        for r in results
        if r.stage in STAGE_NAMES
    ]
    with transaction(url) as session:
        reached = delete(StageStatus).where(StageStatus.cycle_id == cycle_id)
        session.execute(reached if whole_cycle else reached.where(StageStatus.stage.in_([r["stage"] for r in rows])))
        insert_rows(session, StageStatus, cycle_id, rows)
