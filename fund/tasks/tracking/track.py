"""The whole tracking state as of one date: one pure function of the read files, the stored
ledger and the config (the stage flow stores and writes what it returns)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fund.schemas.codes import AgreementStatus
from fund.schemas.config import CycleConfig
from fund.tasks.reading import Problem
from fund.tasks.tracking.evaluations import combine_evaluations, validate_evaluations
from fund.tasks.tracking.files import TrackingFiles
from fund.tasks.tracking.incentives import incentives_for
from fund.tasks.tracking.objections import make_agreements, validate_objections
from fund.tasks.tracking.ledger import import_payments
from fund.tasks.tracking.progress import check_spending, validate_progress
from fund.tasks.tracking.rectification import apply_rectification, rectify, settle_agreements
from fund.tasks.tracking.tranches import apply_ledger, schedule_tranches


@dataclass
class TrackResult:
    objections: list[dict]  # accepted objections.csv rows (Objection rows, source objections.csv)
    agreements: list[dict]
    tranches: list[dict]
    new_payments: list[dict]  # ledger entries to add (without recorded_at)
    ledger: list[dict]  # the whole ledger after this run, in entry order
    progress: list[dict]  # accepted progress rows
    evaluations: list[dict]
    incentives: list[dict]
    problems: list[Problem]
    rows_in: dict[str, int]
    pending_evaluations: set[tuple[str, str]] = field(default_factory=set)


def track(
    cfg: CycleConfig,
    as_of: dt.date,
    window: tuple[dt.date, dt.date, dt.date],
    projects: list[dict],
    known: set[str],
    files: TrackingFiles,
    ledger: list[dict],
    cli_objections: list[dict],
) -> TrackResult:
    """The whole tracking state as of `as_of`. `projects` are the funded proposals (proposal
    fields plus awarded_fen); `ledger` the entries already recorded (never changed: new ones
    are added after them)."""
    by_id = {p["proposal_id"]: p for p in projects}
    objections, problems = validate_objections(files.objections, set(by_id), window, {o["objection_id"] for o in cli_objections})
    signing = make_agreements(projects, cli_objections + objections, window[2], as_of)
    agreement_of = {a["proposal_id"]: a for a in signing}
    signed = {a["proposal_id"] for a in signing if a["status"] == AgreementStatus.SIGNED}
    candidates, progress_problems, progress_in = validate_progress(files.progress, by_id, agreement_of, known, as_of)
    sheets, pending, evaluation_problems, evaluations_in = validate_evaluations(
        files.evaluations, by_id, agreement_of, known, as_of
    )
    excluded: set = set()
    # Spending checks need the ledger, payments need passed evaluations, evaluations need the
    # accepted reports' satisfaction: iterate to the fixed point (dates make it settle fast).
    for _ in range(len(candidates) + 2):
        accepted = [r for r in candidates if (r["proposal_id"], r["period_end"]) not in excluded]
        rectifications, evaluations, rectification_problems = rectify(cfg, combine_evaluations(cfg, sheets, accepted), as_of)
        agreements = apply_rectification(signing, rectifications)
        conditions = schedule_tranches(cfg, agreements, evaluations, rectifications, as_of)
        new_payments, payment_problems, payments_in = import_payments(files.payments, conditions, ledger, as_of, signed)
        spending = check_spending(candidates, ledger + new_payments)
        now = {key for key, _ in spending}
        if now == excluded:
            break
        excluded = now
    entries = sorted(ledger + new_payments, key=lambda e: e["entry"])
    tranches = apply_ledger(conditions, entries)
    progress = [
        {k: v for k, v in r.items() if not k.startswith("_")} | {"source_file": r["_file"], "source_row": r["_line"]}
        for r in accepted
    ]
    problems += progress_problems + evaluation_problems + rectification_problems + payment_problems + [p for _, p in spending]
    rows_in = {
        "objections": files.objections.rows_in if files.objections else 0,
        "payments": payments_in,
        "progress": progress_in,
        "evaluations": evaluations_in,
    }
    return TrackResult(
        objections,
        settle_agreements(agreements, entries),
        tranches,
        new_payments,
        entries,
        progress,
        evaluations,
        incentives_for(cfg, evaluations, by_id),
        problems,
        rows_in,
        pending,
    )
