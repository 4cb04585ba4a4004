"""Stage 3, expert scoring and double evaluation: score sheets and community ratings
in, third reviews and conflict replacements assigned, evaluation/scores.csv out."""

from __future__ import annotations

import json

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.schemas.codes import Outcome
from fund.flows.plans import plan_scoring, waiting_message
from fund.flows.stage import Stage, StageOutcome, StageStop, guarded, outcome
from fund.schemas.tables import Assignment, CommunityRating, Evaluation, PriorIncentive, Proposal, Rejection, Review, Reviewer
from fund.tasks.assignment import assign_more
from fund.tasks.intake import bonus_by_organization
from fund.tasks.messages import render, sentence
from fund.tasks.scoring import (
    check_sheets,
    evaluate,
    import_reviews,
    read_ratings,
    read_score_sheets,
    reviewer_statistics,
    validate_ratings,
)
from fund.tasks.audit import audit
from fund.tasks.store import insert_rows, load_rows, replace_rows, transaction
from fund.tasks.writers import write_rejected, write_review_files, write_reviewer_statistics, write_scores

read_sheets = task(read_score_sheets, name="read score sheets", cache_policy=NO_CACHE)
read_community = task(read_ratings, name="read community ratings", cache_policy=NO_CACHE)
MAX_ROUNDS = 10


@task(name="double evaluation", cache_policy=NO_CACHE)
def score_cycle(cfg, proposals, assignments, reviewers, tables, ratings, bonus):
    """Import reviews and evaluate; assign more reviewers where needed and import again
    (a returned sheet may already hold the new reviewer's row)."""
    accepted = {p["proposal_id"] for p in proposals}
    sheets = check_sheets(tables, cfg.rubric)
    new: list[dict] = []
    for _ in range(MAX_ROUNDS):
        imported = import_reviews(sheets, accepted, {(a["proposal_id"], a["reviewer_id"]) for a in assignments})
        result = evaluate(cfg, proposals, assignments, imported.reviews, ratings, imported.pending, bonus=bonus)
        more, unfilled = assign_more(result.requests, reviewers, assignments)
        if not more:
            return imported, result, new, unfilled
        assignments = assignments + more
        new += more
    return imported, result, new, unfilled


@flow(name="scoring")
def scoring_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("scoring", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_scoring(stage))


def run_scoring(stage: Stage) -> StageOutcome:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    plan = plan_scoring(stage)
    if not plan.runs:
        return plan.result
    input_hash = plan.input_hash
    stage.step("reading", files="scores/, community_ratings.csv")
    proposals = [p for p in load_rows(stage.db_url, Proposal, cid, ("proposal_id",)) if p["eligible"]]
    reviewers = load_rows(stage.db_url, Reviewer, cid)
    known = {r["reviewer_id"] for r in reviewers}
    accepted = {p["proposal_id"] for p in proposals}
    assignments = [
        a for a in load_rows(stage.db_url, Assignment, cid) if a["proposal_id"] in accepted and a["reviewer_id"] in known
    ]
    rating_table = read_community(stage.cycle_dir)
    ratings, rating_problems = validate_ratings(rating_table, accepted)
    bonus = bonus_by_organization(load_rows(stage.db_url, PriorIncentive, cid))
    stage.step("scoring", proposals=len(proposals))
    imported, result, new, unfilled = score_cycle(
        cfg,
        quote(proposals),
        quote(assignments),
        quote(reviewers),
        quote(read_sheets(stage.cycle_dir, cfg.rubric)),
        quote(ratings),
        quote(bonus),
    )
    assignments += new
    stage.gate("reviews", imported.reviews, Review)
    stage.gate("community_ratings", ratings, CommunityRating)
    stage.gate(
        "evaluations",
        result.rows,
        Evaluation,
        {"final_iff_scored": [(e["status"] == "scored") == (e["final_centi"] is not None) for e in result.rows]},
    )
    waiting = result.waiting
    summary = {
        **stage.account(imported.rows_in + (rating_table.rows_in if rating_table else 0), imported.problems + rating_problems),
        "score_rows": imported.rows_in,
        "reviews": len(imported.reviews),
        "new_assignments": len(new),
        "scored": sum(1 for e in result.rows if e["status"] == "scored"),
        "waiting": len(waiting),
        "problems": len(imported.problems) + len(rating_problems),
        **stage.gate_summary(),
    }
    previous = {(r["proposal_id"], r["reviewer_id"]): r for r in load_rows(stage.db_url, Review, cid)}
    with transaction(stage.db_url) as session:
        for review in imported.reviews:
            before = previous.get((review["proposal_id"], review["reviewer_id"]))
            if before and (before["scores_half"], before["conflict"]) != (review["scores_half"], review["conflict"]):
                audit(
                    session,
                    cid,
                    review["reviewer_id"],
                    "review_changed",
                    review["proposal_id"],
                    {
                        "before": json.loads(before["scores_half"]),
                        "after": json.loads(review["scores_half"]),
                        "source": f"{review['source_file']}:{review['source_row']}",
                    },
                )
        replace_rows(session, Review, cid, imported.reviews)
        replace_rows(session, CommunityRating, cid, ratings)
        replace_rows(session, Evaluation, cid, result.rows)
        insert_rows(session, Assignment, cid, new)
        stage.replace_rejections(session, imported.problems + rating_problems)
        stage.record(
            session,
            input_hash,
            "waiting" if waiting or unfilled else "done",
            summary,
            tables=(Review, CommunityRating, Evaluation, Assignment, Rejection),
        )
    stage.crash_point("stored")
    stage.step("writing")
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, cid), lang)
    # round-1 sheets were written by the assignment stage; later rounds change only their reviewers' sheets
    write_review_files(
        stage.out_dir,
        assignments,
        {p["proposal_id"]: p for p in proposals},
        cfg,
        {r["reviewer_id"]: r for r in reviewers},
        only={a["reviewer_id"] for a in assignments if a["round"] > 1},
    )
    write_scores(stage.out_dir, result.rows)
    write_reviewer_statistics(stage.out_dir, reviewer_statistics(imported.reviews))
    if unfilled:
        raise StageStop(sentence("no_reviewer_left_third", lang, ids=", ".join(sorted(set(unfilled)))))
    unread = unread_files(imported.problems, lang)
    if waiting:
        return outcome(
            stage,
            Outcome.WAITING,
            "\n".join([waiting_message(waiting, len(proposals), new, lang), *unread]),
            summary,
            waiting_for={"proposals": waiting, "total": len(proposals), "unread": unread},
        )
    message = sentence(
        "all_accepted_proposals_have", lang, n=len(proposals), w1=cfg.weights["expert"], w2=cfg.weights["community"]
    )
    message = "\n".join([message, *unread])
    if cfg.scoring.calibrate:
        message += "\n" + calibration_effect(cfg, proposals, assignments, imported, ratings, bonus, result.rows, lang)
    return outcome(stage, Outcome.DONE, message, summary)


def calibration_effect(cfg, proposals, assignments, imported, ratings, bonus, calibrated: list[dict], lang: str) -> str:
    """How reviewer-severity calibration moved the ranking (compared with plain means)."""
    plain = evaluate(cfg, proposals, assignments, imported.reviews, ratings, imported.pending, calibrate=False, bonus=bonus).rows

    def ranks(rows):
        ordered = sorted(rows, key=lambda e: (-(e["final_centi"] or 0), e["proposal_id"]))
        return {e["proposal_id"]: i for i, e in enumerate(ordered, start=1)}

    before, after = ranks(plain), ranks(calibrated)
    moved = sorted(pid for pid in after if after[pid] != before[pid])
    shown = ", ".join(f"{pid} {before[pid]}→{after[pid]}" for pid in moved[:10]) + (" …" if len(moved) > 10 else "")
    return sentence("calibrated_reviewer_severity_proposals", lang, k=len(moved), s=shown or "—")


def unread_files(problems: list, lang: str) -> list[str]:
    """A line per file in scores/ that was not read for its format (also in validation/rejected.csv)."""
    return [
        f"- {p.source_file}：{render(p.rule, p.params, lang)}"
        if lang != "en"
        else f"- {p.source_file}: {render(p.rule, p.params, lang)}"
        for p in problems
        if p.rule == "file_format"
    ]
