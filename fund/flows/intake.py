"""Stage 1, intake and eligibility review: organizations, proposals and budget lines in,
accepted proposals stored, every problem in validation/rejected.csv."""
from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.flows.stage import Stage, guarded, hash_inputs, outcome
from fund.schemas.tables import BudgetLine, Organization, PriorIncentive, Proposal, Rejection
from fund.tasks.intake import BUDGET_LINES, ORGANIZATIONS, PRIOR_INCENTIVES, PROPOSALS, read_intake, read_prior_incentives, validate_intake
from fund.tasks.messages import say
from fund.tasks.reading import present
from fund.tasks.store import load_rows, replace_rows, transaction
from fund.tasks.writers import write_rejected

INPUTS = (ORGANIZATIONS, PROPOSALS, BUDGET_LINES)


@task(name="read intake files", cache_policy=NO_CACHE)
def read_files(cycle_dir):
    """The three intake files and, when present, the previous cycle's incentives."""
    return (*read_intake(cycle_dir), read_prior_incentives(cycle_dir))


validate = task(validate_intake, name="validate proposals", cache_policy=NO_CACHE)


def intake_hash(stage: Stage) -> str:
    return hash_inputs(stage.lang, stage.cycle_dir / "cycle.toml", *(stage.cycle_dir / n for n in (*INPUTS, PRIOR_INCENTIVES)))


@flow(name="intake")
def intake_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("intake", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_intake(stage))


def run_intake(stage: Stage) -> dict:
    lang, folder = stage.lang, stage.cycle_dir
    present(folder / PRIOR_INCENTIVES, PRIOR_INCENTIVES)   # optional, but never a folder or a broken link
    missing = [name for name in INPUTS if not present(folder / name, name)]
    if missing:
        return outcome(stage, "waiting", say(lang, "申报材料未齐：缺少 {f}", "intake files missing: {f}", f=", ".join(missing)))
    input_hash = intake_hash(stage)
    if stage.unchanged(input_hash, [stage.out_dir / "validation" / "rejected.csv"]):
        return outcome(stage, "skipped", say(lang, "申报材料未变化，沿用上次结果", "intake files unchanged"))
    orgs, proposals, lines, prior = read_files(folder)
    result = validate(stage.cfg, quote(orgs), quote(proposals), quote(lines), quote(prior))
    accepted = [p for p in result.proposals if p["eligible"]]
    stage.gate("organizations", result.organizations, Organization)
    stage.gate("proposals", accepted, Proposal)
    stage.gate("budget_lines", result.budget_lines, BudgetLine)
    if result.prior_incentives:
        stage.gate("prior_incentives", result.prior_incentives, PriorIncentive)
    summary = {**stage.account(sum(result.rows_in.values()), result.problems), "files": result.rows_in,
               "proposals": len(result.proposals), "accepted": len(accepted),
               "ineligible": len(result.proposals) - len(accepted), "problems": len(result.problems),
               **stage.gate_summary()}
    with transaction(stage.db_url) as session:
        stage.save_cycle(session)
        replace_rows(session, Organization, stage.cycle_id, result.organizations)
        replace_rows(session, Proposal, stage.cycle_id, result.proposals)
        replace_rows(session, BudgetLine, stage.cycle_id, result.budget_lines)
        replace_rows(session, PriorIncentive, stage.cycle_id, result.prior_incentives)
        stage.replace_rejections(session, result.problems)
        stage.record(session, input_hash, "done", summary)
    stage.crash_point("stored")
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, stage.cycle_id), lang)
    message = say(lang, "申报 {n} 项：受理 {a} 项，不予受理 {r} 项；读入 {rows} 行，{p} 条问题记录见 validation/rejected.csv",
                  "{n} proposals: {a} accepted, {r} not eligible; {rows} rows read, {p} problems in validation/rejected.csv",
                  n=len(result.proposals), a=len(accepted), r=len(result.proposals) - len(accepted),
                  rows=sum(result.rows_in.values()), p=len(result.problems))
    return outcome(stage, "done", message, summary)
