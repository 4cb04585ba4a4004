"""Stage 1, intake and eligibility review: organizations, proposals and budget lines in,
accepted proposals stored, every problem in validation/rejected.csv."""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.schemas.codes import Outcome
from fund.flows.plans import plan_intake
from fund.flows.stage import Stage, StageOutcome, guarded, outcome
from fund.schemas.tables import BudgetLine, Need, Organization, PriorIncentive, Proposal, Rejection, Resource
from fund.tasks.intake import read_intake, read_prior_incentives, validate_intake
from fund.tasks.messages import render, sentence
from fund.tasks.needs import NEEDS, RESOURCES, URGENT, read_needs_lists, resource_flags
from fund.tasks.store import load_rows, replace_rows, transaction
from fund.tasks.writers import write_rejected


@task(name="read intake files", cache_policy=NO_CACHE)
def read_files(cycle_dir):
    """The three intake files and, when present, the previous cycle's incentives, the needs list
    and the resources pledged."""
    return (*read_intake(cycle_dir), read_prior_incentives(cycle_dir), *read_needs_lists(cycle_dir))


validate = task(validate_intake, name="validate proposals", cache_policy=NO_CACHE)


@flow(name="intake")
def intake_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("intake", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_intake(stage))


def run_intake(stage: Stage) -> StageOutcome:
    lang, folder = stage.lang, stage.cycle_dir
    plan = plan_intake(stage)
    if not plan.runs:
        return plan.result
    input_hash = plan.input_hash
    stage.step("reading", files="organizations.csv, proposals.csv, budget_lines.csv")
    orgs, proposals, lines, prior, needs, resources = read_files(folder)
    stage.step("validating", rows=sum(t.rows_in for t in (orgs, proposals, lines) if t is not None))
    result = validate(stage.cfg, quote(orgs), quote(proposals), quote(lines), quote(prior), quote(needs), quote(resources))
    accepted = [p for p in result.proposals if p["eligible"]]
    stage.gate("organizations", result.organizations, Organization)
    stage.gate("proposals", accepted, Proposal)
    stage.gate("budget_lines", result.budget_lines, BudgetLine)
    if result.prior_incentives:
        stage.gate("prior_incentives", result.prior_incentives, PriorIncentive)
    if result.needs:
        stage.gate("needs", result.needs, Need)
    if result.resources:
        stage.gate("resources", result.resources, Resource, resource_flags(result.resources))
    summary = {
        **stage.account(sum(result.rows_in.values()), result.problems),
        "files": result.rows_in,
        "proposals": len(result.proposals),
        "accepted": len(accepted),
        "ineligible": len(result.proposals) - len(accepted),
        "problems": len(result.problems),
        **stage.gate_summary(),
    }
    lists = {"needs_list": NEEDS in result.rows_in, "resources_list": RESOURCES in result.rows_in}
    summary.update({key: True for key, given in lists.items() if given})
    with transaction(stage.db_url) as session:
        stage.save_cycle(session)
        replace_rows(session, Organization, stage.cycle_id, result.organizations)
        replace_rows(session, Proposal, stage.cycle_id, result.proposals)
        replace_rows(session, BudgetLine, stage.cycle_id, result.budget_lines)
        replace_rows(session, PriorIncentive, stage.cycle_id, result.prior_incentives)
        replace_rows(session, Need, stage.cycle_id, result.needs)
        replace_rows(session, Resource, stage.cycle_id, result.resources)
        stage.replace_rejections(session, result.problems)
        stage.record(
            session,
            input_hash,
            "done",
            summary,
            tables=(Organization, Proposal, BudgetLine, PriorIncentive, Need, Resource, Rejection),
        )
    stage.crash_point("stored")
    stage.step("writing")
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, stage.cycle_id), lang)
    message = sentence(
        "proposals_accepted_not_eligible",
        lang,
        n=len(result.proposals),
        a=len(accepted),
        r=len(result.proposals) - len(accepted),
        rows=sum(result.rows_in.values()),
        p=len(result.problems),
    )
    if any(lists.values()):
        message += "\n- " + render(
            "needs_intake",
            {
                "needs": len(result.needs),
                "resources": len(result.resources),
                "urgent": sum(n["urgency"] == URGENT for n in result.needs),
            },
            lang,
        )
    return outcome(stage, Outcome.DONE, message, summary)
