"""The cycle flow: runs every stage whose inputs are present, in order, and stops cleanly at
the first one that waits for people or cannot go on."""

from __future__ import annotations

import traceback
from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.states import Completed

from fund.flows.allocation import allocation_flow, publication_flow
from fund.flows.approval import REJECTED_STATE, decide_in_prefect, settle_stale_requests
from fund.flows.artifacts import publish as publish_artifacts
from fund.flows.assignment import assignment_flow
from fund.flows.intake import intake_flow
from fund.flows.plans import check_outputs, plan_cycle
from fund.flows.report import report_flow
from fund.flows.scoring import scoring_flow
from fund.flows.stage import DEPLOYED_DATABASE, StageOutcome, artifact_key, record_statuses, stage_results, stopped_state
from fund.flows.tracking import tracking_flow
from fund.runtime import progress, quiet_stops
from fund.runtime.database import deployed_database
from fund.runtime.errors import write_error_log
from fund.runtime.messages import text
from fund.schemas.codes import Outcome
from fund.schemas.config import ConfigError, load_config
from fund.schemas.tables import StageRun
from fund.tasks.audit import write_head
from fund.tasks.messages import sentence
from fund.tasks.outputs import remove_stale_temp_files
from fund.tasks.quality import build_quality_docs
from fund.tasks.store import CycleBusy, cycle_lock, default_db_url, load_rows, schema_url
from fund.tasks.writers import write_quality_summary

quiet_stops.install()  # ordinary stops without a traceback in worker and flow-run logs

STAGES = (intake_flow, assignment_flow, scoring_flow, allocation_flow, publication_flow, tracking_flow, report_flow)


def stopped(message: str, stage: str):
    return stopped_state([StageOutcome(stage, Outcome.STOPPED, message)])


@flow(name="fund-cycle")
def cycle_flow(
    cycle_dir: str,
    out_dir: str,
    db_url: str | None = None,
    lang: str = "zh",
    pause_for_approval: bool = False,
    approval_timeout_s: int = 604_800,
    db_schema: str | None = None,
):
    """Run every stage whose inputs are present. With `pause_for_approval` (deployments),
    a cycle whose allocation needs approval suspends for the decision in the Prefect UI
    (`fund.flows.approval`) instead of ending; `fund approve` is the command-line way to give it.
    Without `db_url`, the worker's FUND_DATABASE_URL (on PostgreSQL in the schema `db_schema`
    when given: a city's district kept apart), else OUT_DIR/fund.db."""
    try:
        cycle_id = load_config(Path(cycle_dir)).cycle.id
    except ConfigError as exc:
        return stopped(sentence("cannot_use_cycle_toml", lang, d=cycle_dir, k=exc.key, p=exc.problem), "config")
    deployed = None if db_url else deployed_database()
    if deployed and db_schema:
        deployed = schema_url(deployed, db_schema)
    url = db_url or deployed or default_db_url(Path(out_dir))
    token = DEPLOYED_DATABASE.set(deployed)  # the stage flows find it here, not among their parameters
    try:
        state, results = run_locked(cycle_dir, out_dir, db_url, lang, cycle_id, url, repair=True)
        if pause_for_approval:
            settle_stale_requests(url, cycle_id, lang)
        if not (pause_for_approval and awaits_approval(results)):
            return final_state(state, results, pause_for_approval)
        waiting = decide_in_prefect(cycle_dir, out_dir, url, lang, cycle_id, approval_timeout_s)  # outside the lock
        if waiting is not None:
            return waiting
        state, results = run_locked(cycle_dir, out_dir, db_url, lang, cycle_id, url, repair=False)
        return final_state(state, results, pause_for_approval)
    except CycleBusy as exc:
        return stopped(text("cycle_busy", lang, cycle=cycle_id, where=str(exc)), "lock")
    finally:
        DEPLOYED_DATABASE.reset(token)


def run_locked(cycle_dir: str, out_dir: str, db_url: str | None, lang: str, cycle_id: str, url: str, repair: bool):
    """The stages under the cycle lock: (the state to end with, the stage outcomes)."""
    with cycle_lock(url, cycle_id, Path(out_dir)):
        remove_stale_temp_files(Path(out_dir))  # left by a run that was killed while writing
        restored = check_outputs(cycle_dir, out_dir, url, lang, repair=True) if repair else []
        for result in restored:
            progress.stage_finished(result)
        plans = plan_cycle(cycle_dir, out_dir, url, lang)
        if not any(plan.runs for plan in plans):  # nothing to do: no stage flow, no new artifact
            for plan in plans:
                progress.stage_finished(plan.result)
            write_head(url, cycle_id, Path(out_dir))
            results = restored + [plan.result for plan in plans]
            return finish_cycle(results), results
        state = run_stages(cycle_dir, out_dir, db_url, lang, cycle_id, url, restored)
        write_head(url, cycle_id, Path(out_dir))
        return state, stage_results(state)


def awaits_approval(results: list[StageOutcome]) -> bool:
    return bool(results) and results[-1].stage == "publication" and results[-1].summary.get("awaiting") == "approval"


def final_state(state, results: list[StageOutcome], deployed: bool):
    """On a server (deployed), a rejected allocation ends in a state of its own, named
    "Rejected" (a failed type, so the run is not a green success, but not "Failed": the
    failure alerts do not fire for a decision)."""
    last = results[-1] if results else None
    if deployed and last is not None and last.stage == "publication" and "rejected" in last.waiting_for:
        return stopped_state(results, name=REJECTED_STATE)
    return state


def run_stages(
    cycle_dir: str, out_dir: str, db_url: str | None, lang: str, cycle_id: str, url: str, restored: list[StageOutcome]
):
    results = list(restored)
    for stage_flow in STAGES:
        state = stage_flow(cycle_dir, out_dir, db_url, lang, return_state=True)
        try:
            result = stage_results(state)[-1]
        except Exception as error:  # a defect inside the stage: keep the details, say it plainly
            log = write_error_log(Path(out_dir), "".join(traceback.format_exception(error)))
            result = StageOutcome(stage_flow.name, Outcome.ERROR, f"{type(error).__name__}: {error}", {"log": str(log)})
        results.append(result)
        progress.stage_finished(result)
        if result.ends_run:
            break
    record_statuses(url, cycle_id, results)
    write_quality_summary(Path(out_dir), load_rows(url, StageRun, cycle_id))
    build_quality_docs(str(Path(out_dir) / "quality"))
    publish_artifacts(cycle_id, out_dir, url, results, lang)
    lines = ["| stage | outcome | message |", "|---|---|---|"]
    lines += [f"| {r.stage} | {r.outcome} | {r.message.splitlines()[0] if r.message else ''} |" for r in results]
    create_markdown_artifact(
        markdown="\n".join(lines), key=f"cycle-{artifact_key(cycle_id)}", description="outcome of each stage of the cycle"
    )
    return finish_cycle(results)


def finish_cycle(results: list[StageOutcome]):
    logger = get_run_logger()
    for r in results:
        (logger.warning if r.failed else logger.info)("%s %s: %s", r.stage, r.outcome, r.message)
    if results[-1].failed:
        return stopped_state(results)
    return Completed(message=results[-1].message, data=results)
