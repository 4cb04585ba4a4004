"""Tranches (拨付批次): an award split to the fen, each tranche's condition, and its state
once the ledger is applied.

A tranche's *condition* is what makes it payable: signing — the agreement; mid-term — a
passed mid-term evaluation, or after a failed one a passed re-evaluation (or final
evaluation) within the rectification deadline; final — a passed final evaluation. It is
`due_on` the day the condition came to hold; a suspended agreement closes it (`closed_on`):
nothing is payable from that day. The ledger then says how much of it was paid: a tranche is
paid when its entries add up to its amount, to the fen.

The stored row keeps its condition beside its state (`detail["condition"]`), so a command
that adds one entry (`fund pay`) recomputes the tranche with the same function as the stage.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction

from fund.schemas.codes import AgreementStatus, TrancheStatus
from fund.schemas.config import CycleConfig
from fund.schemas.tables import TRANCHE_KINDS
from fund.tasks.messages import centi_text, yuan
from fund.tasks.tracking.dates import TrackingConfigError
from fund.tasks.tracking.rectification import Rectification, RectificationOutcome

KIND_ORDER = tuple(TRANCHE_KINDS)  # payment order: signing, midterm, final
WAITING = (TrancheStatus.PLANNED, TrancheStatus.WITHHELD, TrancheStatus.CANCELLED)  # conditions that do not hold


def tranche_shares(cfg: CycleConfig) -> dict[str, Fraction]:
    unknown = [k for k in cfg.tranches if k not in TRANCHE_KINDS]
    if unknown:
        raise TrackingConfigError(f"tranches.{unknown[0]}", f"unknown tranche; use {', '.join(KIND_ORDER)}")
    return {k: Fraction(cfg.tranches[k]) for k in KIND_ORDER if cfg.tranches.get(k, 0) > 0}


def split_amount(amount_fen: int, shares: dict[str, Fraction | Decimal]) -> dict[str, int]:
    """Tranche amounts in fen: each share rounded down, the remainder on the last tranche."""
    kinds = [k for k in KIND_ORDER if k in shares and shares[k] > 0] or [k for k in shares if shares[k] > 0]
    if not kinds:
        return {}
    parts = {k: int(amount_fen * Fraction(shares[k])) for k in kinds[:-1]}  # int() floors non-negative fractions
    parts[kinds[-1]] = amount_fen - sum(parts.values())
    return parts


def schedule_tranches(
    cfg: CycleConfig, agreements: list[dict], evaluations: list[dict], rectifications: dict[str, Rectification], as_of: dt.date
) -> list[dict]:
    """Each agreement's tranches with their condition (ledger not applied yet)."""
    shares = tranche_shares(cfg)
    mark = centi_text(int(cfg.tracking.pass_mark * 100))
    by_phase = {(e["proposal_id"], e["phase"]): e for e in evaluations}
    rows = []
    for a in agreements:
        pid = a["proposal_id"]
        closing = json.loads(a["detail"]) if a["status"] == AgreementStatus.SUSPENDED else None
        for seq, (kind, amount) in enumerate(split_amount(a["amount_fen"], shares).items(), start=1):
            status, due_on, reason, detail = TrancheStatus.PLANNED, None, "", {}
            if a["status"] == AgreementStatus.CANCELLED:
                status, reason = TrancheStatus.CANCELLED, "objection_upheld"
            elif a["status"] == AgreementStatus.ON_HOLD:
                reason = "objection_pending"
            elif kind == "signing":
                status, due_on, reason, detail = TrancheStatus.DUE, a["signed_on"], "signed", {"date": a["signed_on"].isoformat()}
            else:
                e = by_phase.get((pid, kind))
                rectification = rectifications.get(pid) if kind == "midterm" else None
                if e is None:
                    reason = f"awaiting_{kind}"
                elif e["status"] == "waiting_satisfaction":
                    reason, detail = "awaiting_satisfaction", {"phase": kind}
                elif e["status"] == "passed":
                    status, due_on, reason = TrancheStatus.DUE, max(e["evaluated_on"], a["signed_on"]), f"{kind}_passed"
                    detail = {"score": centi_text(e["combined_centi"])}
                elif rectification is not None and rectification.released:
                    status, due_on = TrancheStatus.DUE, max(rectification.on, a["signed_on"])
                    reason, detail = rectification.reason, rectification.params
                elif rectification is not None and rectification.outcome == RectificationOutcome.RECTIFYING:
                    status, reason, detail = TrancheStatus.WITHHELD, rectification.reason, rectification.params
                else:
                    status, reason = TrancheStatus.WITHHELD, f"{kind}_failed"
                    detail = {"score": centi_text(e["combined_centi"]), "mark": mark}
            rows.append(
                {
                    "proposal_id": pid,
                    "kind": kind,
                    "seq": seq,
                    "amount_fen": amount,
                    "status": status,
                    "due_on": due_on,
                    "closed_on": a.get("ended_on") if closing else None,
                    "reason": reason,
                    "detail": detail,
                    "closing": closing,
                }
            )
    return rows


def conditions_of(stored: list[dict]) -> list[dict]:
    """The conditions stored tranche rows stand on, as `schedule_tranches` made them."""
    rows = []
    for t in stored:
        detail = json.loads(t["detail"]) if isinstance(t["detail"], str) else t["detail"]
        condition = detail.get("condition") or {"status": t["status"], "reason": t["reason"], "detail": detail}
        rows.append(
            {
                "proposal_id": t["proposal_id"],
                "kind": t["kind"],
                "seq": t["seq"],
                "amount_fen": t["amount_fen"],
                "status": TrancheStatus(condition["status"]),
                "due_on": t["due_on"],
                "closed_on": t.get("closed_on"),
                "reason": condition["reason"],
                "detail": condition["detail"],
                "closing": condition.get("closing"),
            }
        )
    return rows


def apply_ledger(conditions: list[dict], entries: list[dict]) -> list[dict]:
    """Each tranche as its condition and its ledger entries leave it (rows to store)."""
    of: dict[tuple[str, str], list[dict]] = {}
    for e in sorted(entries, key=lambda e: e["entry"]):
        of.setdefault((e["proposal_id"], e["kind"]), []).append(e)
    return [tranche_state(t, of.get((t["proposal_id"], t["kind"]), [])) for t in conditions]


def tranche_state(t: dict, entries: list[dict]) -> dict:
    """One tranche: its status, what was paid and why, from its condition and its entries."""
    paid = sum(e["amount_fen"] for e in entries)
    amount = t["amount_fen"]
    status, reason, detail = t["status"], t["reason"], dict(t["detail"])
    latest = entries[-1] if entries else None
    if paid == amount and t["due_on"] is not None:
        status = TrancheStatus.PAID
        if not entries:
            reason, detail = "nothing_to_pay", {}
        else:
            reversed_ = [e["reverses"] for e in entries if e.get("reverses")]
            reason = "paid" if len(entries) == 1 else "paid_after_reversal" if reversed_ else "paid_in_parts"
            detail = {
                "paid_on": latest["paid_on"].isoformat(),
                "by": latest["paid_by"],
                "count": len(entries),
                "reversed": "、".join(reversed_),
            }
    elif t["closed_on"] is not None:
        closing = t["closing"] or {}
        status, reason = TrancheStatus.RETURNED, "returned"
        detail = {
            "date": t["closed_on"].isoformat(),
            "returned": yuan(amount - paid),
            "why_rule": closing.get("why_rule", ""),
            "why_params": closing.get("why_params", {}),
        }
    elif status in WAITING:
        pass
    elif paid > 0:
        status, reason = TrancheStatus.PARTLY_PAID, "partly_paid"
        detail = {
            "paid": yuan(paid),
            "remaining": yuan(amount - paid),
            "amount": yuan(amount),
            "count": len(entries),
            "paid_on": latest["paid_on"].isoformat(),
        }
    elif entries:
        undone = next(e for e in reversed(entries) if e.get("reverses"))
        reason, detail = (
            "due_after_reversal",
            {
                "reference": undone["reverses"],
                "on": undone["paid_on"].isoformat(),
                "why_rule": t["reason"],
                "why_params": t["detail"],
            },
        )
    condition = {"status": str(t["status"]), "reason": t["reason"], "detail": t["detail"], "closing": t["closing"]}
    return {
        "proposal_id": t["proposal_id"],
        "kind": t["kind"],
        "seq": t["seq"],
        "amount_fen": amount,
        "status": status,
        "due_on": t["due_on"],
        "closed_on": t["closed_on"],
        "paid_fen": paid,
        "reason": reason,
        "detail": json.dumps({**detail, "condition": condition}, sort_keys=True, ensure_ascii=False),
    }
