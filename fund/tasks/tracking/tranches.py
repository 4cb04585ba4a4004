"""Tranches (拨付批次): an award split to the fen, each tranche's condition, and its state
once the ledger is applied."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction

from fund.schemas.config import CycleConfig
from fund.schemas.codes import AgreementStatus, TrancheStatus
from fund.schemas.tables import TRANCHE_KINDS
from fund.tasks.messages import centi_text
from fund.tasks.tracking.dates import TrackingConfigError

KIND_ORDER = tuple(TRANCHE_KINDS)          # payment order: signing, midterm, final


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


def schedule_tranches(cfg: CycleConfig, agreements: list[dict], evaluations: list[dict], as_of: dt.date) -> list[dict]:
    """Each agreement's tranches with the state of their condition (ledger not applied yet)."""
    shares = tranche_shares(cfg)
    mark = centi_text(int(cfg.tracking.pass_mark * 100))
    by_phase = {(e["proposal_id"], e["phase"]): e for e in evaluations}
    rows = []
    for a in agreements:
        pid = a["proposal_id"]
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
                if e is None:
                    reason = f"awaiting_{kind}"
                elif e["status"] == "waiting_satisfaction":
                    reason, detail = "awaiting_satisfaction", {"phase": kind}
                elif e["status"] == "passed":
                    status, due_on, reason = TrancheStatus.DUE, max(e["evaluated_on"], a["signed_on"]), f"{kind}_passed"
                    detail = {"score": centi_text(e["combined_centi"])}
                else:
                    status, reason = TrancheStatus.WITHHELD, f"{kind}_failed"
                    detail = {"score": centi_text(e["combined_centi"]), "mark": mark}
            rows.append({"proposal_id": pid, "kind": kind, "seq": seq, "amount_fen": amount, "status": status,
                         "due_on": due_on, "reason": reason, "detail": detail})
    return rows


def apply_ledger(tranches: list[dict], ledger: list[dict]) -> list[dict]:
    paid = {(p["proposal_id"], p["kind"]): p for p in ledger}
    out = []
    for t in tranches:
        p = paid.get((t["proposal_id"], t["kind"]))
        if p is not None:
            t = {**t, "status": TrancheStatus.PAID, "reason": "paid", "detail": {"paid_on": p["paid_on"].isoformat(), "by": p["paid_by"]}}
        out.append({**t, "detail": json.dumps(t["detail"], sort_keys=True, ensure_ascii=False)})
    return out
