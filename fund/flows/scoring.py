"""Stage 3, expert scoring and double evaluation: score sheets and community ratings
in, third reviews and conflict replacements assigned, evaluation/scores.csv out."""
from __future__ import annotations

import json
from collections import defaultdict

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.flows.assignment import assignment_hash
from fund.flows.stage import Stage, StageStop, guarded, hash_inputs, outcome
from fund.schemas.tables import Assignment, CommunityRating, Evaluation, PriorIncentive, Proposal, Rejection, Review, Reviewer
from fund.tasks.assignment import assign_more
from fund.tasks.intake import bonus_by_organization
from fund.tasks.messages import say
from fund.tasks.reading import present
from fund.tasks.scoring import (
    RATINGS, check_sheets, evaluate, import_reviews, read_ratings, read_score_sheets, reviewer_statistics, score_files,
    validate_ratings,
)
from fund.tasks.store import audit, insert_rows, load_rows, replace_rows, transaction
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


def scoring_hash(stage: Stage) -> str:
    present(stage.cycle_dir / RATINGS, RATINGS)   # a folder or a broken link there stops the stage
    return hash_inputs(assignment_hash(stage), *score_files(stage.cycle_dir), stage.cycle_dir / RATINGS)


@flow(name="scoring")
def scoring_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("scoring", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_scoring(stage))


def run_scoring(stage: Stage) -> dict:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    input_hash = scoring_hash(stage)
    if stage.unchanged(input_hash, [stage.out_dir / "evaluation" / "scores.csv"]):
        return outcome(stage, "skipped", say(lang, "评分与社区评议未变化", "scores and ratings unchanged"))
    proposals = [p for p in load_rows(stage.db_url, Proposal, cid, ("proposal_id",)) if p["eligible"]]
    reviewers = load_rows(stage.db_url, Reviewer, cid)
    known = {r["reviewer_id"] for r in reviewers}
    accepted = {p["proposal_id"] for p in proposals}
    assignments = [a for a in load_rows(stage.db_url, Assignment, cid) if a["proposal_id"] in accepted and a["reviewer_id"] in known]
    rating_table = read_community(stage.cycle_dir)
    ratings, rating_problems = validate_ratings(rating_table, accepted)
    bonus = bonus_by_organization(load_rows(stage.db_url, PriorIncentive, cid))
    imported, result, new, unfilled = score_cycle(cfg, quote(proposals), quote(assignments), quote(reviewers),
                                                  quote(read_sheets(stage.cycle_dir, cfg.rubric)), quote(ratings),
                                                  quote(bonus))
    assignments += new
    stage.gate("reviews", imported.reviews, Review)
    stage.gate("community_ratings", ratings, CommunityRating)
    stage.gate("evaluations", result.rows, Evaluation,
               {"final_iff_scored": [(e["status"] == "scored") == (e["final_centi"] is not None) for e in result.rows]})
    waiting = result.waiting
    summary = {**stage.account(imported.rows_in + (rating_table.rows_in if rating_table else 0),
                               imported.problems + rating_problems), "score_rows": imported.rows_in, "reviews": len(imported.reviews), "new_assignments": len(new),
               "scored": sum(1 for e in result.rows if e["status"] == "scored"), "waiting": len(waiting),
               "problems": len(imported.problems) + len(rating_problems), **stage.gate_summary()}
    previous = {(r["proposal_id"], r["reviewer_id"]): r for r in load_rows(stage.db_url, Review, cid)}
    with transaction(stage.db_url) as session:
        for review in imported.reviews:
            before = previous.get((review["proposal_id"], review["reviewer_id"]))
            if before and (before["scores_half"], before["conflict"]) != (review["scores_half"], review["conflict"]):
                audit(session, cid, review["reviewer_id"], "review_changed", review["proposal_id"],
                      {"before": json.loads(before["scores_half"]), "after": json.loads(review["scores_half"]),
                       "source": f"{review['source_file']}:{review['source_row']}"})
        replace_rows(session, Review, cid, imported.reviews)
        replace_rows(session, CommunityRating, cid, ratings)
        replace_rows(session, Evaluation, cid, result.rows)
        insert_rows(session, Assignment, cid, new)
        stage.replace_rejections(session, imported.problems + rating_problems)
        stage.record(session, input_hash, "waiting" if waiting or unfilled else "done", summary)
    stage.crash_point("stored")
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, cid), lang)
    # round-1 sheets were written by the assignment stage; later rounds change only their reviewers' sheets
    write_review_files(stage.out_dir, assignments, {p["proposal_id"]: p for p in proposals}, cfg.rubric,
                       only={a["reviewer_id"] for a in assignments if a["round"] > 1})
    write_scores(stage.out_dir, result.rows)
    write_reviewer_statistics(stage.out_dir, reviewer_statistics(imported.reviews))
    if unfilled:
        raise StageStop(say(lang, "没有可用的评审专家承担第三轮评审或回避后的替补（项目：{ids}）：所有未关联的专家都已评审过该项目或已满负荷。"
                                  "请在 reviewers.csv 中增加专家或提高 max_load 后重新运行。",
                            "no reviewer is left for a third review or a conflict replacement (proposals: {ids}): every "
                            "unaffiliated reviewer has already reviewed it or is at max_load. Add reviewers or raise max_load "
                            "in reviewers.csv and run again.", ids=", ".join(sorted(set(unfilled)))))
    if waiting:
        return outcome(stage, "waiting", waiting_message(waiting, len(proposals), new, lang), summary)
    message = say(lang, "{n} 个受理项目全部完成双评（专家 {w1} + 社区 {w2}）",
                  "all {n} accepted proposals have their double evaluation (expert {w1} + community {w2})",
                  n=len(proposals), w1=cfg.weights["expert"], w2=cfg.weights["community"])
    if cfg.scoring.calibrate:
        message += "\n" + calibration_effect(cfg, proposals, assignments, imported, ratings, bonus, result.rows, lang)
    return outcome(stage, "done", message, summary)


def calibration_effect(cfg, proposals, assignments, imported, ratings, bonus, calibrated: list[dict], lang: str) -> str:
    """How reviewer-severity calibration moved the ranking (compared with plain means)."""
    plain = evaluate(cfg, proposals, assignments, imported.reviews, ratings, imported.pending, calibrate=False,
                     bonus=bonus).rows

    def ranks(rows):
        ordered = sorted(rows, key=lambda e: (-(e["final_centi"] or 0), e["proposal_id"]))
        return {e["proposal_id"]: i for i, e in enumerate(ordered, start=1)}

    before, after = ranks(plain), ranks(calibrated)
    moved = sorted(pid for pid in after if after[pid] != before[pid])
    shown = ", ".join(f"{pid} {before[pid]}→{after[pid]}" for pid in moved[:10]) + (" …" if len(moved) > 10 else "")
    return say(lang, "- 已按评审尺度校准：{k} 个项目排名变化（{s}）；各专家尺度见 evaluation/reviewers.csv",
               "- calibrated for reviewer severity: {k} proposals changed rank ({s}); see evaluation/reviewers.csv",
               k=len(moved), s=shown or "—")


def waiting_message(waiting: dict[str, dict], total: int, new: list[dict], lang: str) -> str:
    sheets: dict[str, list[str]] = defaultdict(list)
    no_rating = []
    for pid, need in sorted(waiting.items()):
        for rid in need.get("reviewers", []):
            sheets[rid].append(pid)
        if need.get("community"):
            no_rating.append(pid)
    lines = [say(lang, "{w}/{n} 个受理项目尚未完成双评，暂停在评分阶段，分配尚未进行：", "{w} of {n} accepted proposals are "
                 "not fully evaluated yet; the run stops after scoring and the allocation has not run:", w=len(waiting), n=total)]
    third = sorted({a["reviewer_id"] for a in new})
    if new:
        lines.append(say(lang, "- 本次新派第三轮评审或回避替补 {k} 项，新评分表已写入 review/sheets/（{r}）",
                         "- {k} third reviews or conflict replacements were assigned now; new sheets are in review/sheets/ ({r})",
                         k=len(new), r=", ".join(third)))
    for rid, pids in sorted(sheets.items()):
        shown = ", ".join(pids[:8]) + (" …" if len(pids) > 8 else "")
        lines.append(say(lang, "- 等待专家 {r} 交回 {k} 项评分：{p}", "- waiting for reviewer {r} to score {k} proposals: {p}",
                         r=rid, k=len(pids), p=shown))
    if no_rating:
        shown = ", ".join(no_rating[:12]) + (" …" if len(no_rating) > 12 else "")
        lines.append(say(lang, "- {k} 个项目缺少社区评议（community_ratings.csv）：{p}",
                         "- {k} proposals have no community rating (community_ratings.csv): {p}", k=len(no_rating), p=shown))
    return "\n".join(lines)
