"""Stage 2, reviewer assignment: ≥ N independent reviewers per accepted proposal, no
conflicts of interest, balanced loads; writes assignments.csv and the blank sheets."""

from __future__ import annotations

from collections import Counter

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.schemas.codes import Outcome
from fund.flows.plans import plan_assignment
from fund.flows.stage import Stage, StageOutcome, StageStop, guarded, outcome
from fund.schemas.tables import Assignment, Proposal, Rejection, Reviewer
from fund.tasks.assignment import REVIEWERS, PoolShortage, assign_initial, read_reviewers, validate_reviewers
from fund.tasks.messages import sentence
from fund.tasks.store import insert_rows, load_rows, replace_rows, transaction
from fund.tasks.writers import write_rejected, write_review_files

read_pool = task(read_reviewers, name="read reviewers", cache_policy=NO_CACHE)
assign = task(assign_initial, name="assign reviewers", cache_policy=NO_CACHE)


def coi_flags(assignments: list[dict], proposals: dict[str, dict], reviewers: dict[str, dict]) -> list[bool]:
    """Business expectation: no reviewer is affiliated with the organization they review."""
    return [
        proposals[a["proposal_id"]]["credit_code"] not in (reviewers[a["reviewer_id"]].get("affiliations") or "").split(";")
        for a in assignments
    ]


@flow(name="assignment")
def assignment_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("assignment", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_assignment(stage))


def run_assignment(stage: Stage) -> StageOutcome:
    lang = stage.lang
    plan = plan_assignment(stage)
    if not plan.runs:
        return plan.result
    input_hash = plan.input_hash
    stage.step("reading", files=REVIEWERS)
    pool = read_pool(stage.cycle_dir)
    reviewers, problems = validate_reviewers(pool)
    proposals = [p for p in load_rows(stage.db_url, Proposal, stage.cycle_id, ("proposal_id",)) if p["eligible"]]
    existing = load_rows(stage.db_url, Assignment, stage.cycle_id)
    per_proposal = stage.cfg.rules.reviewers_per_proposal
    stage.step("assigning", proposals=len(proposals), reviewers=len(reviewers))
    try:
        new = assign(quote(proposals), quote(reviewers), quote(existing), per_proposal)
    except PoolShortage as exc:
        raise StageStop(
            sentence(
                "not_enough_reviewers_accepted",
                lang,
                n=len(proposals),
                k=per_proposal,
                slots=exc.slots,
                cap=exc.capacity,
                missing=exc.missing_slots,
                ids=", ".join(exc.proposals[:10]) + (" …" if len(exc.proposals) > 10 else ""),
            )
        ) from exc
    by_id = {p["proposal_id"]: p for p in proposals}
    by_reviewer = {r["reviewer_id"]: r for r in reviewers}
    everything = [a for a in existing + new if a["proposal_id"] in by_id and a["reviewer_id"] in by_reviewer]
    stage.gate("reviewers", reviewers, Reviewer)
    stage.gate("assignments", everything, Assignment, {"no_conflict_of_interest": coi_flags(everything, by_id, by_reviewer)})
    per_reviewer = Counter(a["reviewer_id"] for a in everything)
    loads = [per_reviewer[r] for r in by_reviewer]
    summary = {
        **stage.account(pool.rows_in, problems),
        "reviewers": len(reviewers),
        "new_assignments": len(new),
        "assignments": len(everything),
        "max_load": max(loads, default=0),
        "min_load": min(loads, default=0),
        "problems": len(problems),
        **stage.gate_summary(),
    }
    with transaction(stage.db_url) as session:
        replace_rows(session, Reviewer, stage.cycle_id, reviewers)
        insert_rows(session, Assignment, stage.cycle_id, new)
        stage.replace_rejections(session, problems)
        stage.record(session, input_hash, "done", summary, tables=(Reviewer, Assignment, Rejection))
    stage.crash_point("stored")
    stage.step("writing_sheets", reviewers=len(reviewers))
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, stage.cycle_id), lang)
    write_review_files(stage.out_dir, everything, by_id, stage.cfg, by_reviewer)
    return outcome(
        stage,
        Outcome.DONE,
        sentence(
            "reviewers_proposals_assignments_each",
            lang,
            r=len(reviewers),
            p=len(proposals),
            a=len(everything),
            lo=summary["min_load"],
            hi=summary["max_load"],
        ),
        summary,
    )
