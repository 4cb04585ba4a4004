"""Rectification (整改) after a failed mid-term evaluation.

A failed mid-term withholds the mid-term tranche and gives the project until
`[tracking] rectification_days` after that evaluation to rectify. A re-evaluation sheet
(phase `rectification` 整改复评; the same double evaluation) dated within the deadline decides:
passed, the withheld tranche is released from that day; failed, the agreement is suspended
that day. A final evaluation within the deadline decides the same way (a project that passes
its final evaluation has rectified). When the deadline passes without either, the agreement is
suspended the day after it. A suspended agreement pays nothing more: what was not paid goes
back to the fund (`tranches`, `agreements`).

A re-evaluation without a failed mid-term, dated before it or after the deadline, and any
evaluation dated after the agreement was suspended, is a rejected row with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum

from fund.schemas.codes import PHASES, AgreementStatus
from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text, yuan
from fund.tasks.reading import Problem

PHASE_ORDER = tuple(PHASES)


class RectificationOutcome(StrEnum):
    RECTIFYING = "rectifying"  # the deadline has not passed and nothing decided yet
    PASSED = "passed"  # a passed re-evaluation (or final evaluation) within the deadline
    SUSPENDED = "suspended"  # a failed one, or the deadline passed


@dataclass(frozen=True)
class Rectification:
    proposal_id: str
    deadline: dt.date
    outcome: RectificationOutcome
    on: dt.date | None  # the day it passed or the agreement was suspended
    reason: str  # the reason code of the tranche / agreement it leaves
    params: dict = field(default_factory=dict)

    @property
    def released(self) -> bool:
        return self.outcome == RectificationOutcome.PASSED


def rectify(
    cfg: CycleConfig, evaluations: list[dict], as_of: dt.date
) -> tuple[dict[str, Rectification], list[dict], list[Problem]]:
    """(each rectification by project, the evaluations that stand, the rows rejected)."""
    days = dt.timedelta(days=cfg.tracking.rectification_days)
    mark = centi_text(int(cfg.tracking.pass_mark * 100))
    by_phase = {(e["proposal_id"], e["phase"]): e for e in evaluations}
    dropped: set[tuple[str, str]] = set()
    problems: list[Problem] = []

    def reject(e: dict, rule: str, **params) -> None:
        dropped.add((e["proposal_id"], e["phase"]))
        problems.append(
            Problem(
                e["source_file"],
                e["source_row"],
                f"{e['proposal_id']}/{e['phase']}",
                "evaluated_on",
                e["evaluated_on"].isoformat(),
                rule,
                params,
            )
        )

    found: dict[str, Rectification] = {}
    for (pid, phase), e in sorted(by_phase.items()):
        if phase != "midterm" or e["status"] != "failed":
            if phase == "rectification" and by_phase.get((pid, "midterm"), {}).get("status") != "failed":
                reject(e, "rectification_not_needed")
            continue
        failed_on, deadline = e["evaluated_on"], e["evaluated_on"] + days
        recheck, final = by_phase.get((pid, "rectification")), by_phase.get((pid, "final"))
        if recheck is not None and recheck["evaluated_on"] <= failed_on:
            reject(
                recheck, "rectification_before_midterm", date=recheck["evaluated_on"].isoformat(), midterm=failed_on.isoformat()
            )
            recheck = None
        elif recheck is not None and recheck["evaluated_on"] > deadline:
            reject(recheck, "rectification_too_late", date=recheck["evaluated_on"].isoformat(), deadline=deadline.isoformat())
            recheck = None
        decided = sorted(
            (
                x
                for x in (recheck, final)
                if x is not None and x["status"] in ("passed", "failed") and failed_on < x["evaluated_on"] <= deadline
            ),
            key=lambda x: (x["evaluated_on"], PHASE_ORDER.index(x["phase"])),
        )
        score = {"score": centi_text(e["combined_centi"]), "mark": mark, "deadline": deadline.isoformat()}
        if decided:
            first = decided[0]
            params = {"date": first["evaluated_on"].isoformat(), "score": centi_text(first["combined_centi"]), "mark": mark}
            if first["status"] == "passed":
                reason = "rectification_passed" if first["phase"] == "rectification" else "released_by_final"
                found[pid] = Rectification(pid, deadline, RectificationOutcome.PASSED, first["evaluated_on"], reason, params)
            else:
                reason = "rectification_failed" if first["phase"] == "rectification" else "rectification_final_failed"
                found[pid] = Rectification(pid, deadline, RectificationOutcome.SUSPENDED, first["evaluated_on"], reason, params)
        elif as_of > deadline and not (recheck is not None and recheck["status"] == "waiting_satisfaction"):
            found[pid] = Rectification(
                pid,
                deadline,
                RectificationOutcome.SUSPENDED,
                deadline + dt.timedelta(days=1),
                "rectification_missed",
                {"deadline": deadline.isoformat()},
            )
        else:
            found[pid] = Rectification(pid, deadline, RectificationOutcome.RECTIFYING, None, "rectifying", score)
    for (pid, phase), e in sorted(by_phase.items()):
        r = found.get(pid)
        if (
            r is not None
            and r.outcome == RectificationOutcome.SUSPENDED
            and e["evaluated_on"] > r.on
            and (pid, phase) not in dropped
        ):
            reject(e, "evaluation_after_suspension", date=r.on.isoformat())
    kept = [e for e in evaluations if (e["proposal_id"], e["phase"]) not in dropped]
    return found, kept, problems


def apply_rectification(agreements: list[dict], rectifications: dict[str, Rectification]) -> list[dict]:
    """Agreements as rectification leaves them: suspended (with why), rectifying, or as they were."""
    out = []
    for a in agreements:
        r = rectifications.get(a["proposal_id"])
        a = {**a, "ended_on": None, "returned_fen": 0, "reason": "", "detail": "{}"}
        if r is not None and a["status"] == AgreementStatus.SIGNED:
            if r.outcome == RectificationOutcome.SUSPENDED:
                a |= {
                    "status": AgreementStatus.SUSPENDED,
                    "ended_on": r.on,
                    "reason": "suspended",
                    "detail": json.dumps(
                        {"date": r.on.isoformat(), "why_rule": r.reason, "why_params": r.params},
                        sort_keys=True,
                        ensure_ascii=False,
                    ),
                }
            else:
                a |= {"reason": r.reason, "detail": json.dumps(r.params, sort_keys=True, ensure_ascii=False)}
        out.append(a)
    return out


def settle_agreements(agreements: list[dict], entries: list[dict]) -> list[dict]:
    """What goes back to the fund: the part of a cancelled or suspended award not paid out."""
    paid: dict[str, int] = {}
    for e in entries:
        paid[e["proposal_id"]] = paid.get(e["proposal_id"], 0) + e["amount_fen"]
    out = []
    for a in agreements:
        if a["status"] in (AgreementStatus.CANCELLED, AgreementStatus.SUSPENDED):
            returned = a["amount_fen"] - paid.get(a["proposal_id"], 0)
            a = {**a, "returned_fen": returned}
            if a["status"] == AgreementStatus.SUSPENDED:
                a["detail"] = json.dumps(
                    {**json.loads(a["detail"]), "returned": yuan(returned)}, sort_keys=True, ensure_ascii=False
                )
        out.append(a)
    return out
