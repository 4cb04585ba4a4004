"""From final scores to the award list (立项): every applicant gets a status, an
award and a specific, true explanation; plus the merit/optimal comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from fund.schemas.codes import CATEGORIES
from fund.schemas.config import CycleConfig
from fund.tasks.allocation import (
    AllocationInfeasible,
    AllocationRules,
    AllocationSolverError,
    Selection,
    candidate_frame,
    check_allocation,
    compare,
    merit_select,
    optimal_select,
)
from fund.tasks.conflict_message import infeasible_message
from fund.tasks.messages import centi_text, render, sentence, yuan
from fund.tasks.needs import urgent_needs_of


@dataclass
class Decision:
    awards: list[dict]  # Award table rows (reason code + JSON detail)
    selection: Selection
    comparison: list[dict]


class AllocationStopped(Exception):
    """The allocation cannot be published; the message says why (already in the user's language)."""


def rules_for(cfg: CycleConfig) -> AllocationRules:
    return AllocationRules(
        budget_fen=cfg.budget_fen,
        max_funded_per_org=cfg.rules.max_funded_per_org,
        priority_shares=dict(cfg.priorities),
        cover_every_street=cfg.allocation.cover_every_street,
        mip_gap=float(cfg.allocation.mip_gap),
        time_limit_s=float(cfg.allocation.time_limit_s) if cfg.allocation.time_limit_s else None,
        cover_urgent=cfg.needs.cover_urgent,
    )


def candidates_frame(
    proposals: list[dict], evaluations: dict[str, dict], threshold_centi: int, needs: list[dict] | None = None
) -> pd.DataFrame:
    """The fundable proposals (eligible, final score at or above the threshold) as allocation candidates;
    with the cycle's needs list (`needs`), each with the urgent needs it answers."""
    urgent = urgent_needs_of(proposals, needs) if needs else {}
    return candidate_frame(
        (
            {**p, "score_centi": evaluations[p["proposal_id"]]["final_centi"], "needs": urgent.get(p["proposal_id"], ())}
            for p in proposals
            if p["eligible"] and evaluations[p["proposal_id"]]["final_centi"] >= threshold_centi
        ),
        with_needs=bool(needs),
    )


def select(cfg: CycleConfig, candidates: pd.DataFrame, lang: str, on_progress=None) -> Selection:
    """The allocation under the cycle's policy; `on_progress(gap, seconds)` hears from the solver."""
    rules = rules_for(cfg)
    try:
        selection = (
            optimal_select(candidates, rules, on_progress=on_progress)
            if cfg.allocation.policy == "optimal"
            else merit_select(candidates, rules)
        )
    except AllocationInfeasible as exc:
        raise AllocationStopped(infeasible_message(exc, lang)) from exc
    except AllocationSolverError as exc:
        raise AllocationStopped(sentence("solver_gave_no_publishable", lang, s=exc.status)) from exc
    violations = check_allocation(candidates, list(selection.funded), rules, selection.policy)
    if violations:
        raise AllocationStopped(sentence("independent_check_found_allocation", lang, v="; ".join(violations)))
    if selection.policy == "optimal" and selection.gap > float(cfg.allocation.mip_gap) + 1e-12:
        raise AllocationStopped(sentence("solver_did_not_prove", lang, gap=selection.gap, s=selection.solver_status))
    return selection


def build_awards(
    cfg: CycleConfig,
    proposals: list[dict],
    evaluations: dict[str, dict],
    selection: Selection,
    candidates: pd.DataFrame,
    ineligible_rules: dict[str, list[dict]],
    need_titles: dict[str, str] | None = None,
) -> list[dict]:
    threshold = int(cfg.rules.score_threshold * 100)
    requested = dict(zip(candidates["proposal_id"], candidates["requested_fen"]))
    funded = set(selection.funded)
    awards = []
    for p in sorted(proposals, key=lambda p: p["proposal_id"]):
        pid = p["proposal_id"]
        score = evaluations.get(pid, {}).get("final_centi")
        detail: dict = {
            "score": score,
            "threshold": threshold,
            "requested": p.get("requested_fen"),
            "max_per_org": cfg.rules.max_funded_per_org,
        }
        if not p["eligible"]:
            status, reason, amount = "ineligible", "ineligible", 0
            seen, problems = set(), []
            for problem in ineligible_rules.get(pid, []):  # duplicate copies repeat the same problem
                key = (problem["rule"], json.dumps(problem["params"], sort_keys=True))
                if key not in seen:
                    seen.add(key)
                    problems.append(problem)
            detail["problems"] = problems
        elif score < threshold:
            status, reason, amount = "not_funded", "below_threshold", 0
        else:
            why = selection.reasons[pid]
            detail.update(
                rank=why.rank,
                candidates=len(candidates),
                serves=list(why.serves or []),
                remaining=why.remaining_fen,
                short=why.short_fen,
                needed=why.score_needed_centi,
                blocking=list(why.blocking or []),
                policy=selection.policy,
            )
            secured = [s.partition(":")[2] for s in why.serves or [] if s.startswith("need:")]
            if secured:  # the titles of the urgent needs it secures, for its explanation
                detail["need_titles"] = {nid: (need_titles or {}).get(nid, "") for nid in secured}
            if pid in funded:
                status, reason, amount = "funded", "funded", int(requested[pid])
            else:
                status, reason, amount = "not_funded", why.code, 0
        awards.append(
            {
                "proposal_id": pid,
                "policy": selection.policy,
                "status": status,
                "awarded_fen": amount,
                "reason": reason,
                "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
            }
        )
    return awards


def explain(award: dict, lang: str) -> str:
    d = json.loads(award["detail"])
    reason = award["reason"]
    if reason == "ineligible":
        problems = d.get("problems") or []
        text = (
            "；".join(render(x["rule"], x["params"], lang) for x in problems)
            if lang == "zh"
            else "; ".join(render(x["rule"], x["params"], lang) for x in problems)
        )
        return sentence("not_eligible", lang, t=text or reason)
    score, threshold = centi_text(d["score"]), centi_text(d["threshold"])
    if reason == "below_threshold":
        return sentence("final_score_below_threshold", lang, s=score, t=threshold)
    if reason == "funded":
        text = sentence(
            "final_score_ranked_fundable", lang, s=score, n=d["candidates"], r=d["rank"], a=yuan(award["awarded_fen"])
        )
        serves = [serve_text(x, lang, d.get("need_titles")) for x in d.get("serves", [])]
        if serves:
            text += sentence("secures", lang, x="、".join(serves) if lang == "zh" else ", ".join(serves))
        return text
    if reason == "org_limit":
        return sentence(
            "final_score_passes_threshold_org_limit", lang, s=score, b=", ".join(d.get("blocking", [])), m=d["max_per_org"]
        )
    if reason == "budget":
        text = sentence(
            "final_score_passes_threshold_budget_short",
            lang,
            s=score,
            n=d["candidates"],
            r=d["rank"],
            rem=yuan(d["remaining"]),
            req=yuan(d["requested"]),
            short=yuan(d["short"]),
        )
        if d.get("needed") is not None:
            text += sentence("would_have_needed_final", lang, x=centi_text(d["needed"]))
        return text
    return sentence("final_score_value", lang, s=score)


def serve_text(rule: str, lang: str, need_titles: dict[str, str] | None = None) -> str:
    kind, _, value = rule.partition(":")
    if kind == "need":
        return render("need_secured", {"need": value, "title": (need_titles or {}).get(value, "")}, lang)
    if kind == "floor":
        return sentence("minimum_share", lang, g=CATEGORIES.get(value, value) if lang == "zh" else value)
    if kind == "street":
        return sentence("only_funded_project_street", lang, s=value)
    return rule


def decide(
    cfg: CycleConfig,
    proposals: list[dict],
    evaluations: dict[str, dict],
    ineligible_rules: dict[str, list[dict]],
    lang: str,
    on_progress=None,
    needs: list[dict] | None = None,
) -> Decision:
    """`needs`: the cycle's needs list (stored Need rows), when it has one."""
    candidates = candidates_frame(proposals, evaluations, int(cfg.rules.score_threshold * 100), needs)
    selection = select(cfg, candidates, lang, on_progress)
    titles = {n["need_id"]: n["title"] for n in needs or []}
    awards = build_awards(cfg, proposals, evaluations, selection, candidates, ineligible_rules, titles)
    mine = {selection.policy: selection}  # the other policy is solved once, by compare
    return Decision(awards, selection, compare(candidates, rules_for(cfg), **mine))
