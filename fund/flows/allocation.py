"""Stage 4, allocation (立项): the award list with a reason for every applicant and the
merit/optimal comparison; stage 5, publication of the public notice (公示), after the
administrator's approval when the cycle requires it."""

from __future__ import annotations

import json
from collections import defaultdict

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from fund.schemas.codes import Outcome
from fund.flows.letters import email_letters
from fund.flows.needs import lists_given, needs_step, stored_needs
from fund.flows.plans import allocation_hash, plan_allocation, plan_publication
from fund.flows.stage import Stage, StageOutcome, StageStop, guarded, outcome
from fund.runtime import progress
from fund.schemas.tables import Approval, Award, Evaluation, Organization, Proposal, Rejection, utc_now
from fund.tasks.audit import audit, fingerprint, head
from fund.tasks.letters import Letter, build_letters, write_letters
from fund.tasks.messages import centi_text, sentence, yuan
from fund.tasks.needs import split_ids
from fund.tasks.publicity import missing_contacts, write_publicity
from fund.tasks.store import load_rows, replace_rows, transaction
from fund.tasks.writers import write_allocation, write_comparison


@task(name="allocate", cache_policy=NO_CACHE)
def decide_task(cfg, proposals, evaluations, ineligible_rules, lang, needs=None):
    from fund.tasks.decision import decide  # the solver stack loads only when an allocation runs

    def solving(gap: float | None, seconds: float) -> None:
        progress.step("allocation", "gap", gap="—" if gap is None else f"{gap:.2%}", seconds=f"{seconds:.0f}")

    return decide(cfg, proposals, evaluations, ineligible_rules, lang, on_progress=solving, needs=needs)


def award_flags(awards: list[dict], requested: dict[str, int], budget_fen: int) -> dict[str, list[bool]]:
    """The business expectations on an award list (all or nothing, within budget)."""
    total = sum(a["awarded_fen"] for a in awards)
    return {
        "award_is_all_or_nothing": [a["awarded_fen"] in (0, requested[a["proposal_id"]]) for a in awards],
        "awards_within_budget": [total <= budget_fen] * len(awards),
        "funded_iff_awarded": [(a["status"] == "funded") == (a["awarded_fen"] > 0) for a in awards],
    }


@flow(name="allocation")
def allocation_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("allocation", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_allocation(stage))


def run_allocation(stage: Stage) -> StageOutcome:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    plan = plan_allocation(stage)
    if not plan.runs:
        return plan.result
    input_hash = plan.input_hash
    proposals = load_rows(stage.db_url, Proposal, cid, ("proposal_id",))
    evaluations = {e["proposal_id"]: e for e in load_rows(stage.db_url, Evaluation, cid)}
    ineligible_rules: dict[str, list[dict]] = defaultdict(list)
    for r in load_rows(stage.db_url, Rejection, cid, ("stage", "id")):
        if r["stage"] == "intake" and r["source_file"] == "proposals.csv":
            ineligible_rules[r["record_id"]].append({"rule": r["rule"], "params": json.loads(r["params"])})
    from fund.tasks.decision import AllocationStopped, explain

    needs = stored_needs(stage)
    stage.step("solving", proposals=len(proposals), policy=cfg.allocation.policy)
    try:
        decision = decide_task(cfg, quote(proposals), quote(evaluations), quote(dict(ineligible_rules)), lang, quote(needs))
    except AllocationStopped as exc:
        raise StageStop(str(exc)) from exc
    awards = decision.awards
    requested = {p["proposal_id"]: p["requested_fen"] for p in proposals}
    total = sum(a["awarded_fen"] for a in awards)
    stage.gate("awards", awards, Award, award_flags(awards, requested, cfg.budget_fen))
    funded = [a for a in awards if a["status"] == "funded"]
    selection = decision.selection
    summary = {
        **stage.account(len(proposals), []),
        "policy": selection.policy,
        "funded": len(funded),
        "awarded_fen": total,
        "budget_fen": cfg.budget_fen,
        "solver_status": selection.solver_status,
        "gap": selection.gap,
        "seconds": round(selection.seconds, 3),
        "allocation_hash": allocation_hash(awards),
        **stage.gate_summary(),
    }
    with transaction(stage.db_url) as session:
        replace_rows(session, Award, cid, awards)
        stage.record(session, input_hash, "done", summary, tables=(Award,))
    stage.crash_point("stored")
    by_id = {p["proposal_id"]: p for p in proposals}
    write_allocation(stage.out_dir, awards, by_id, evaluations, {a["proposal_id"]: explain(a, lang) for a in awards})
    write_comparison(stage.out_dir, decision.comparison, cfg.needs.cover_urgent)
    needs_lines = needs_step(stage, needs, proposals, awards)
    return outcome(
        stage,
        Outcome.DONE,
        "\n- ".join(
            [
                sentence(
                    "allocation_done_funded_unused",
                    lang,
                    policy=selection.policy,
                    n=len(funded),
                    amount=yuan(total),
                    budget=yuan(cfg.budget_fen),
                    left=yuan(cfg.budget_fen - total),
                    status=selection.solver_status,
                    gap=f"{selection.gap:g}",
                ),
                *needs_lines,
            ]
        ),
        summary,
    )


@flow(name="publication")
def publication_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh"):
    stage = Stage.open("publication", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_publication(stage))


def record_approval(db_url: str, cycle_id: str, by: str, reject: str | None, comment: str | None = None) -> list[dict]:
    """An administrator's decision on the current allocation (approved, with an optional
    comment, or rejected with a reason), stored and audited: the one recorder of decisions,
    for `fund approve` and the Prefect form alike. Returns the awards decided on (empty:
    nothing to decide)."""
    awards = load_rows(db_url, Award, cycle_id, ("proposal_id",))
    if not awards:
        return []
    decision = "rejected" if reject else "approved"
    current = allocation_hash(awards)
    with transaction(db_url) as session:
        number = len(load_rows(db_url, Approval, cycle_id)) + 1
        session.add(
            Approval(
                cycle_id=cycle_id,
                id=number,
                allocation_hash=current,
                decision=decision,
                by=by,
                reason=reject or comment,
                at=utc_now(),
            )
        )
        audit(
            session,
            cycle_id,
            by,
            f"allocation_{decision}",
            cycle_id,
            {"allocation_hash": current, "reason": reject or comment},
            tables=(Approval,),
        )
    return awards


def verify_stored_awards(stage: Stage, awards: list[dict], proposals: dict[str, dict], evaluations: dict[str, dict]):
    """Before anything is published, the stored award list is checked again from the stored
    proposals and scores, independently of the solver: a hand-edited award stops here."""
    from fund.tasks.allocation import check_allocation
    from fund.tasks.decision import candidates_frame, rules_for

    cfg = stage.cfg
    requested = {pid: p["requested_fen"] for pid, p in proposals.items()}
    stage.gate("published_awards", awards, Award, award_flags(awards, requested, cfg.budget_fen))
    candidates = candidates_frame(
        list(proposals.values()), evaluations, int(cfg.rules.score_threshold * 100), stored_needs(stage)
    )
    funded = [a["proposal_id"] for a in awards if a["status"] == "funded"]
    violations = check_allocation(candidates, funded, rules_for(cfg), awards[0]["policy"])
    if violations:
        raise StageStop(sentence("stored_allocation_breaks_rules", stage.lang, v="; ".join(violations)))


def run_publication(stage: Stage) -> StageOutcome:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    plan = plan_publication(stage)
    if not plan.runs:
        return plan.result
    input_hash, awards, period, first = (
        plan.input_hash,
        plan.context["awards"],
        plan.context["period"],
        plan.context["first_published"],
    )
    proposals = {p["proposal_id"]: p for p in load_rows(stage.db_url, Proposal, cid)}
    organizations = {o["credit_code"]: o for o in load_rows(stage.db_url, Organization, cid)}
    evaluations = {e["proposal_id"]: e for e in load_rows(stage.db_url, Evaluation, cid)}

    def letters() -> list[Letter]:
        return build_letters(
            stage.out_dir,
            cfg,
            period,
            awards,
            proposals,
            organizations,
            evaluations,
            {a["proposal_id"]: explain_award(a, lang) for a in awards},
            lang,
        )

    written = None
    if plan.context.get("letters_only"):  # the notice is unchanged; letters are waiting to be e-mailed
        result = outcome(stage, Outcome.SKIPPED, sentence("public_notice_unchanged", lang))
    else:
        verify_stored_awards(stage, awards, proposals, evaluations)
        titles = {n["need_id"]: n["title"] for n in stored_needs(stage)}
        funded = [
            {
                **proposals[a["proposal_id"]],
                "awarded_fen": a["awarded_fen"],
                "organization": organizations.get(proposals[a["proposal_id"]]["credit_code"], {}).get("name", ""),
                "score": centi_text(evaluations[a["proposal_id"]]["final_centi"]),
                "needs": [(nid, titles.get(nid, "")) for nid in split_ids(proposals[a["proposal_id"]].get("need_ids"))],
            }
            for a in awards
            if a["status"] == "funded"
        ]
        funded.sort(key=lambda p: (-evaluations[p["proposal_id"]]["final_centi"], p["proposal_id"]))
        write_publicity(
            stage.out_dir, cfg, period, funded, lang, fingerprint(head(stage.db_url, cid)), with_needs=lists_given(stage)[0]
        )
        written = letters()
        write_letters(stage.out_dir, written)
        summary = {
            "funded": len(funded),
            "letters": len(written),
            "publicity_from": period.starts.isoformat(),
            "publicity_to": period.ends.isoformat(),
            "first_published": first.isoformat(),
            **stage.account(len(awards), []),
            **stage.gate_summary(),
        }
        with transaction(stage.db_url) as session:
            stage.record(session, input_hash, "done", summary)
        stage.crash_point("stored")
        message = sentence(
            "public_notice_written_allocation",
            lang,
            n=len(funded),
            a=period.starts.isoformat(),
            b=period.ends.isoformat(),
            d=period.days,
            k=len(written),
        )
        missing = missing_contacts(cfg)
        if missing:
            message += "\n" + sentence("note_publicity_cycle_toml", lang, k=", ".join(missing))
        result = outcome(stage, Outcome.DONE, message, summary)
    mailing = email_letters(stage, lambda: written if written is not None else letters())
    if mailing:
        result.message += "\n" + mailing
    return result


def explain_award(award: dict, lang: str) -> str:
    from fund.tasks.decision import explain

    return explain(award, lang)
