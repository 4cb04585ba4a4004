"""The headline numbers of the report and what changed since the last one."""

from __future__ import annotations


from fund.schemas.codes import AgreementStatus
from fund.schemas.config import CycleConfig
from fund.tasks.report.status import GROUP_OF, GROUPS


# ---------------------------------------------------------------- headline numbers and changes


def headline(
    cfg: CycleConfig, rows: list[dict], quality: list[dict], reconciliation: dict | None = None, entries: int = 0
) -> dict:
    """The headline numbers; `reconciliation`: the summary of the latest `fund reconcile`, and
    `entries` the ledger's entries now (those recorded since call for another reconciliation)."""
    counts = {g: 0 for g in GROUPS}
    for r in rows:
        counts[GROUP_OF[r["status"]]] += 1

    def phase(name: str, status: str) -> int:
        return sum(1 for r in rows if r[name] is not None and r[name]["status"] == status)

    live = [r for r in rows if r["agreement"] != AgreementStatus.CANCELLED]
    return {
        "projects": len(live),
        "budget_fen": cfg.budget_fen,
        "committed_fen": sum(r["committed_fen"] for r in rows),
        "disbursed_fen": sum(r["disbursed_fen"] for r in rows),
        "spent_fen": sum(r["spent_fen"] for r in rows),
        **counts,
        "beneficiaries": sum(r["beneficiaries"] for r in live),
        "beneficiaries_plan": sum(r["beneficiaries_plan"] for r in live),
        "services": sum(r["services"] for r in live),
        "activities": sum(r["activities"] for r in live),
        "reports_received": sum(r["reports_received"] for r in live),
        "reports_missing": sum(len(r["reports_missing"]) for r in live),
        "midterm_passed": phase("midterm", "passed"),
        "midterm_failed": phase("midterm", "failed"),
        "final_passed": phase("final", "passed"),
        "final_failed": phase("final", "failed"),
        "excellent": sum(1 for r in rows if r["incentive"] and r["incentive"]["band"] == "excellent"),
        "rejected_rows": sum(q["rows_rejected"] or 0 for q in quality),
        "gates_failed": sum(q["failed"] or 0 for q in quality),
        "statuses": {r["proposal_id"]: r["status"] for r in rows},
        "returned_fen": sum(r["returned_fen"] for r in rows),
        "suspended": sum(1 for r in rows if r["agreement"] == AgreementStatus.SUSPENDED),
        "cancelled": sum(1 for r in rows if r["agreement"] == AgreementStatus.CANCELLED),
        "rectifying": sum(1 for r in rows if any(code == "rectifying" for code, _ in r["reasons"])),
        "unreconciled_fen": reconciliation["unreconciled_fen"] if reconciliation else None,
        "reconciled": {
            "statement": reconciliation["statement"],
            "discrepancies": reconciliation["discrepancies"],
            "entries_since": entries - reconciliation["ledger_entries"],
        }
        if reconciliation
        else None,
    }


NUMBERS = (
    "projects",
    "committed_fen",
    "disbursed_fen",
    "spent_fen",
    "returned_fen",
    "on_track",
    "late",
    "at_risk",
    "on_hold",
    "beneficiaries",
    "services",
    "activities",
    "reports_received",
    "midterm_passed",
    "midterm_failed",
    "final_passed",
    "final_failed",
    "rejected_rows",
)


def changes(current: dict, previous: dict | None) -> dict:
    """Deltas of the headline numbers and the projects whose status changed."""
    if previous is None:
        return {"first": True, "deltas": {}, "moved": []}
    deltas = {k: current[k] - previous.get(k, 0) for k in NUMBERS if current.get(k, 0) != previous.get(k, 0)}
    before = previous.get("statuses", {})
    moved = [(pid, before.get(pid), status) for pid, status in sorted(current["statuses"].items()) if before.get(pid) != status]
    return {"first": False, "deltas": deltas, "moved": moved}
