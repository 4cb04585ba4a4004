"""Approval of the allocation when the cycle runs as a Prefect deployment.

The design (README, "Approval on a Prefect server"): a run whose allocation awaits
approval does not wait inside its process. It records that it asked (an `approval` row
with decision `requested`), leaves the cycle lock, and *suspends* itself
(`suspend_flow_run`): the process exits, the run is `Suspended` in the UI, it holds no
worker process, no cycle lock and no deployment concurrency slot or lease, and it can
wait for days and across server restarts. The decision is the run's Resume form (in the
UI, or `resume_flow_run(id, run_input=...)` through the API the UI uses). On Resume
Prefect schedules the run again: the flow starts from the top, every stage is skipped as
unchanged, `suspend_flow_run` with the same key returns the form's answer, the decision is
recorded by the one approval recorder (`record_approval`, as `fund approve` does), and the
stages go on: approved → the notice is published; rejected → the run ends in the state
named "Rejected". While a run waits, other runs of the same cycle say since when and
how to decide, and end Completed (named "AwaitingApproval").
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, create_model

from fund.flows.allocation import record_approval
from fund.flows.plans import allocation_hash, stage_summary_of
from fund.schemas.codes import CATEGORIES, PRIORITY_GROUPS, SHANGHAI, AuditAction
from fund.schemas.config import load_config
from fund.schemas.tables import Approval, Award, Proposal, utc_now
from fund.tasks.audit import audit
from fund.tasks.messages import render, yuan
from fund.tasks.store import load_rows, transaction

REQUESTED = "requested"
AWAITING_STATE = "AwaitingApproval"
REJECTED_STATE = "Rejected"
_FORMS: dict[str, type] = {}


def approval_form(lang: str):
    """The Resume form (a Prefect `RunInput`): the decision as an explicit choice without a
    default, the approver's name (required) and a reason, labelled in the run's language."""
    if lang not in _FORMS:
        from prefect.input import RunInput

        def t(key: str) -> str:
            return render(key, {}, lang)

        choice = Literal[(t("approval_approve"), t("approval_reject"))]  # type: ignore[valid-type]
        _FORMS[lang] = create_model(
            "ApprovalForm",
            __base__=RunInput,
            decision=(choice, Field(title=t("approval_form_decision"), description=t("approval_form_decision_help"))),
            approver=(
                str,
                Field(
                    title=t("approval_form_approver"),
                    description=t("approval_form_approver_help"),
                    min_length=1,
                    max_length=64,
                    pattern=r"\S",
                ),
            ),
            # a plain text field (an optional str would make the UI offer "str | None")
            reason=(str, Field("", title=t("approval_form_reason"), description=t("approval_form_reason_help"), max_length=2000)),
        )
    return _FORMS[lang]


def is_rejection(form, lang: str) -> bool:
    return form.decision == render("approval_reject", {}, lang)


def command(cycle_dir: str, out_dir: str, lang: str) -> str:
    return render("approval_command", {"cycle_dir": cycle_dir, "out_dir": out_dir}, lang)


def floors_text(db_url: str, cycle_id: str, cfg, awards: list[dict], lang: str) -> str:
    """Each priority floor (share × budget, rounded up to the fen) against what is funded in its group."""
    shares = {g: s for g, s in cfg.priorities.items() if s > 0}
    if not shares:
        return render("approval_floors_none", {}, lang)
    category = {p["proposal_id"]: p["category"] for p in load_rows(db_url, Proposal, cycle_id)}
    parts = []
    for group in [g for g in PRIORITY_GROUPS if g in shares]:
        floor = int((Decimal(cfg.budget_fen) * shares[group]).to_integral_value(ROUND_CEILING))
        amount = sum(a["awarded_fen"] for a in awards if a["status"] == "funded" and category.get(a["proposal_id"]) == group)
        key = "approval_floor_met" if amount >= floor else "approval_floor_short"
        name = group if lang == "en" else CATEGORIES.get(group, group)
        parts.append(render(key, {"group": name, "amount": yuan(amount), "floor": yuan(floor)}, lang))
    return "；".join(parts) if lang != "en" else "; ".join(parts)


def context(cycle_dir: str, out_dir: str, db_url: str, lang: str) -> str:
    """The form's description: what is being approved, in figures, and where the lists are."""
    cfg = load_config(Path(cycle_dir))
    cid = cfg.cycle.id
    awards = load_rows(db_url, Award, cid, ("proposal_id",))
    summary = stage_summary_of(db_url, cid, "allocation") or {}
    total = sum(a["awarded_fen"] for a in awards if a["status"] == "funded")
    return render(
        "approval_context",
        {
            "cycle": cid,
            "name": cfg.cycle.name,
            "policy": summary.get("policy", cfg.allocation.policy),
            "funded": sum(a["status"] == "funded" for a in awards),
            "applicants": len(awards),
            "total": yuan(total),
            "budget": yuan(cfg.budget_fen),
            "unused": yuan(cfg.budget_fen - total),
            "floors": floors_text(db_url, cid, cfg, awards, lang),
            "allocation": str(Path(out_dir) / "allocation" / "allocation.csv"),
            "comparison": str(Path(out_dir) / "allocation" / "comparison.csv"),
            "command": command(cycle_dir, out_dir, lang),
        },
        lang,
    )


def current_allocation(db_url: str, cycle_id: str) -> str:
    return allocation_hash(load_rows(db_url, Award, cycle_id, ("proposal_id",)))


def requests(db_url: str, cycle_id: str, allocation: str) -> list[dict]:
    """The runs that asked for a decision on this allocation (by: the run's name, reason: its id)."""
    return [
        a
        for a in load_rows(db_url, Approval, cycle_id, ("id",))
        if a["decision"] == REQUESTED and a["allocation_hash"] == allocation
    ]


def record_request(db_url: str, cycle_id: str, allocation: str, run_id: str, run_name: str) -> dict:
    """Note (once per run and allocation) that this run waits for a decision, and since when."""
    for request in requests(db_url, cycle_id, allocation):
        if request["reason"] == run_id:
            return request
    with transaction(db_url) as session:
        number = len(load_rows(db_url, Approval, cycle_id)) + 1
        row = Approval(
            cycle_id=cycle_id, id=number, allocation_hash=allocation, decision=REQUESTED, by=run_name, reason=run_id, at=utc_now()
        )
        session.add(row)
        audit(
            session,
            cycle_id,
            f"prefect:{run_name}",
            AuditAction.ALLOCATION_APPROVAL_REQUESTED,
            cycle_id,
            {"allocation_hash": allocation, "flow_run_id": run_id},
            tables=(Approval,),
        )
        request = row.model_dump()
    return request


def local_time(iso: str) -> str:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def waiting_elsewhere(db_url: str, cycle_id: str, allocation: str, run_id: str) -> dict | None:
    """The earliest request of another run that is still suspended waiting for this decision."""
    from prefect.client.orchestration import get_client

    others = [r for r in requests(db_url, cycle_id, allocation) if r["reason"] != run_id]
    if not others:
        return None
    with get_client(sync_client=True) as client:
        for request in others:
            try:
                run = client.read_flow_run(request["reason"])
            except Exception:  # deleted, or another server: not waiting any more
                continue
            if run.state is not None and run.state.is_paused():
                return request
    return None


def decide_in_prefect(cycle_dir: str, out_dir: str, db_url: str, lang: str, cycle_id: str, timeout_s: int):
    """Outside the cycle lock: suspend this run for the decision, or, when another run of the
    cycle already waits for it, end this one with a state saying so. Returns None once the
    decision is recorded (the caller runs the stages again), else the state to end with."""
    from prefect.context import FlowRunContext
    from prefect.flow_runs import pause_flow_run, suspend_flow_run
    from prefect.logging import get_run_logger
    from prefect.states import Completed

    run = FlowRunContext.get().flow_run
    allocation = current_allocation(db_url, cycle_id)
    asked = any(r["reason"] == str(run.id) for r in requests(db_url, cycle_id, allocation))  # resumed: the answer is there
    other = None if asked else waiting_elsewhere(db_url, cycle_id, allocation, str(run.id))
    if other is not None:
        message = render(
            "approval_waiting_since",
            {"since": local_time(other["at"]), "run": other["by"], "command": command(cycle_dir, out_dir, lang)},
            lang,
        )
        get_run_logger().info(message)
        return Completed(name=AWAITING_STATE, message=message)
    record_request(db_url, cycle_id, allocation, str(run.id), run.name)
    get_run_logger().info(render("approval_suspended", {"command": command(cycle_dir, out_dir, lang)}, lang))
    form = approval_form(lang).with_initial_data(description=context(cycle_dir, out_dir, db_url, lang))
    key = f"approval-{allocation[:16]}"
    if run.deployment_id is None:
        # a flow called directly (no deployment, so no deployment concurrency lease): Prefect
        # can only pause it in its process; it still holds no cycle lock while it waits
        answer = pause_flow_run(wait_for_input=form, timeout=timeout_s, key=key)
    else:
        # the same key on the rerun after Resume: Prefect then returns the stored answer instead of suspending again
        answer = suspend_flow_run(wait_for_input=form, timeout=timeout_s, key=key)
    rejected = is_rejection(answer, lang)
    reason = (answer.reason or "").strip() or None
    if rejected and reason is None:
        reason = render("approval_no_reason", {}, lang)
    record_approval(db_url, cycle_id, answer.approver.strip(), reason if rejected else None, comment=None if rejected else reason)
    get_run_logger().info(
        render(
            "approval_recorded",
            {
                "by": answer.approver.strip(),
                "decision": answer.decision,
                "reason": (f" ({reason})" if lang == "en" else f"（{reason}）") if reason else "",
            },
            lang,
        )
    )
    return None


def settle_stale_requests(db_url: str, cycle_id: str, lang: str) -> list[str]:
    """Cancel other runs still suspended for a decision that no longer needs them: the
    allocation they asked about changed, or it was decided meanwhile (`fund approve`). So a
    superseded run neither waits for ever nor fails a week later on its timeout. Returns the
    names of the runs cancelled."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.states import Cancelled

    rows = load_rows(db_url, Approval, cycle_id, ("id",))
    pending = [r for r in rows if r["decision"] == REQUESTED]
    if not pending:
        return []
    me = str(FlowRunContext.get().flow_run.id)
    current = current_allocation(db_url, cycle_id)
    decided = {r["allocation_hash"]: r for r in rows if r["decision"] in ("approved", "rejected")}
    cancelled = []
    with get_client(sync_client=True) as client:
        for request in pending:
            decision = decided.get(request["allocation_hash"])
            if request["reason"] == me or (
                request["allocation_hash"] == current and (decision is None or decision["id"] < request["id"])
            ):
                continue
            try:
                run = client.read_flow_run(request["reason"])
            except Exception:
                continue
            if run.state is None or not run.state.is_paused():
                continue
            message = (
                render("approval_superseded", {"by": decision["by"] if decision else ""} if decision else {}, lang)
                if decision and request["allocation_hash"] == current
                else render("approval_allocation_changed", {}, lang)
            )
            client.set_flow_run_state(run.id, Cancelled(message=message), force=True)
            cancelled.append(run.name)
    return cancelled
