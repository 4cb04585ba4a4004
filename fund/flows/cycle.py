"""The cycle flow: runs every stage whose inputs are present, in order, and stops
cleanly at the first one that waits for people or cannot go on."""
from __future__ import annotations

import traceback
from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed, Failed

from fund.flows.allocation import allocation_flow, publication_flow, record_approval
from fund.flows.assignment import assignment_flow
from fund.flows.intake import intake_flow
from fund.flows.report import report_flow
from fund.flows.scoring import scoring_flow
from fund.flows.tracking import tracking_flow
from fund.flows.stage import Stopped, artifact_key, stage_results
from fund.schemas.config import ConfigError, load_config
from fund.schemas.tables import StageRun
from fund.tasks.messages import say
from fund.tasks.outputs import remove_stale_temp_files
from fund.tasks.store import CycleBusy, cycle_lock, default_db_url, load_rows
from fund.tasks.writers import write_quality_summary

STAGES = (intake_flow, assignment_flow, scoring_flow, allocation_flow, publication_flow, tracking_flow, report_flow)


class ApprovalInput(RunInput):
    """The administrator's decision, as the Prefect UI form asks for it."""
    approve: bool
    by: str
    reason: str | None = None


@flow(name="fund-cycle")
def cycle_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh",
               pause_for_approval: bool = False, approval_timeout_s: int = 86_400):
    """Run every stage whose inputs are present. With `pause_for_approval` (deployments),
    a cycle whose allocation needs approval pauses for the decision in the Prefect UI
    instead of ending; `fund approve` is the command-line way to give it."""
    try:
        cycle_id = load_config(Path(cycle_dir)).cycle.id
    except ConfigError as exc:
        message = say(lang, "无法读取周期配置 {d}/cycle.toml（{k}）：{p}", "cannot use {d}/cycle.toml ({k}): {p}",
                      d=cycle_dir, k=exc.key, p=exc.problem)
        return Failed(message=message, data=Stopped(message, [{"stage": "config", "outcome": "stopped",
                                                                "message": message, "summary": {}}]))
    url = db_url or default_db_url(Path(out_dir))
    try:
        with cycle_lock(url, cycle_id, Path(out_dir)):
            state = run_stages(cycle_dir, out_dir, db_url, lang, cycle_id, url)
            if not (pause_for_approval and awaits_approval(state)):
                return state
            decision = pause_flow_run(wait_for_input=ApprovalInput, timeout=approval_timeout_s)
            record_approval(url, cycle_id, decision.by.strip() or "prefect-ui",
                            None if decision.approve else (decision.reason or "rejected"))
            return run_stages(cycle_dir, out_dir, db_url, lang, cycle_id, url)
    except CycleBusy:
        message = say(lang, "周期 {c} 正在由另一个运行处理（输出目录 {o}），本次未做任何改动；请等它结束后再运行。",
                      "cycle {c} is being run by another process (output folder {o}); nothing was changed. "
                      "Run again when it has finished.", c=cycle_id, o=out_dir)
        return Failed(message=message, data=Stopped(message, [{"stage": "lock", "outcome": "stopped",
                                                                "message": message, "summary": {}}]))


def awaits_approval(state) -> bool:
    results = stage_results(state)
    return results[-1]["stage"] == "publication" and results[-1]["summary"].get("awaiting") == "approval"


def run_stages(cycle_dir: str, out_dir: str, db_url: str | None, lang: str, cycle_id: str, url: str):
    remove_stale_temp_files(Path(out_dir))   # left by a run that was killed while writing
    results = []
    for stage_flow in STAGES:
        state = stage_flow(cycle_dir, out_dir, db_url, lang, return_state=True)
        try:
            result = stage_results(state)[-1]
        except Exception as error:  # a defect inside the stage: keep the details, say it plainly
            log = Path(out_dir) / "fund-error.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
            result = {"stage": stage_flow.name, "outcome": "error", "message": f"{type(error).__name__}: {error}",
                      "summary": {"log": str(log)}}
        results.append(result)
        if result["outcome"] in ("waiting", "stopped", "error"):
            break
    write_quality_summary(Path(out_dir), load_rows(url, StageRun, cycle_id))
    lines = ["| stage | outcome | message |", "|---|---|---|"]
    lines += [f"| {r['stage']} | {r['outcome']} | {r['message'].splitlines()[0] if r['message'] else ''} |" for r in results]
    create_markdown_artifact(markdown="\n".join(lines), key=f"cycle-{artifact_key(Path(cycle_dir).name)}",
                             description="outcome of each stage of the cycle")
    if results[-1]["outcome"] in ("stopped", "error"):
        return Failed(message=results[-1]["message"], data=Stopped(results[-1]["message"], results))
    return Completed(message=results[-1]["message"], data=results)
