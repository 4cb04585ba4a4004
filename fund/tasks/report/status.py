"""Each funded project's status as of the report date, with every reason (the rules are in
`fund.tasks.report`'s docstring)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict


from fund.schemas.codes import AgreementStatus, TrancheStatus
from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text
from fund.tasks.tracking import expected_periods, period_checks, reason_text


GROUPS = ("on_track", "late", "at_risk", "on_hold")  # the headline's four groups
GROUP_OF = {
    "on_track": "on_track",
    "completed": "on_track",
    "not_started": "on_track",
    "late": "late",
    "at_risk": "at_risk",
    "on_hold": "on_hold",
    "cancelled": "on_hold",
    "suspended": "on_hold",
}
STATUS_ORDER = ("at_risk", "late", "on_hold", "suspended", "cancelled", "on_track", "not_started", "completed")
RECTIFIED = ("rectification_passed", "released_by_final")  # a failed mid-term that no longer counts against a project
CATEGORY_EN = {"elderly": "elderly", "children": "children", "disabled": "disabled", "hardship": "hardship", "other": "other"}


# ---------------------------------------------------------------- per-project status


def project_statuses(
    cfg: CycleConfig,
    as_of: dt.date,
    projects: list[dict],
    agreements: list[dict],
    tranches: list[dict],
    ledger: list[dict],
    progress: list[dict],
    evaluations: list[dict],
    incentives: list[dict],
    spending_rejected: dict[str, list[dt.date]],
) -> list[dict]:
    """One row per funded project: money, output, evaluations, status and its reasons."""
    agreement_of = {a["proposal_id"]: a for a in agreements}
    reports: dict[str, list[dict]] = defaultdict(list)
    for r in progress:
        reports[r["proposal_id"]].append(r)
    paid: dict[str, int] = defaultdict(int)
    for p in ledger:
        paid[p["proposal_id"]] += p["amount_fen"]
    evaluation_of = {(e["proposal_id"], e["phase"]): e for e in evaluations}
    incentive_of = {i["proposal_id"]: i for i in incentives}
    tranches_of: dict[str, list[dict]] = defaultdict(list)
    for t in tranches:
        tranches_of[t["proposal_id"]].append(t)
    mark = int(cfg.tracking.pass_mark * 100)
    period = dt.timedelta(days=cfg.tracking.report_period_days)
    rows = []
    for p in sorted(projects, key=lambda p: p["proposal_id"]):
        pid = p["proposal_id"]
        a = agreement_of.get(pid, {"status": AgreementStatus.ON_HOLD, "signed_on": None, "amount_fen": p["awarded_fen"]})
        mine = sorted(reports.get(pid, []), key=lambda r: r["period_end"])
        mid, fin = evaluation_of.get((pid, "midterm")), evaluation_of.get((pid, "final"))
        beneficiaries = sum(r["beneficiaries"] for r in mine)
        rated = [r for r in mine if r.get("satisfaction_centi") is not None]
        weight = sum(r["beneficiaries"] for r in rated)
        satisfaction = None
        if rated:
            satisfaction = (
                (sum(r["satisfaction_centi"] * r["beneficiaries"] for r in rated) + weight // 2) // weight
                if weight
                else sum(r["satisfaction_centi"] for r in rated) // len(rated)
            )
        missing, late_reports, next_due, expected = [], [], None, 0
        if a["status"] == AgreementStatus.SIGNED:
            missing, late_reports, next_due = period_checks(p["start_on"], p["end_on"], cfg, as_of, mine)
            ends = expected_periods(p["start_on"], p["end_on"], cfg.tracking.report_period_days)
            grace = dt.timedelta(days=cfg.tracking.report_grace_days)
            expected = sum(1 for e in ends if e + grace < as_of)
        risk: list[tuple[str, dict]] = []
        slow: list[tuple[str, dict]] = []
        rectification = a.get("reason") or ""
        if a["status"] == AgreementStatus.CANCELLED:
            status, risk = "cancelled", [("objection_upheld", {})]
        elif a["status"] == AgreementStatus.ON_HOLD:
            status, risk = "on_hold", [("objection_pending", {})]
        elif a["status"] == AgreementStatus.SUSPENDED:
            status, risk = "suspended", [("suspended", json.loads(a["detail"]))]
        elif fin is not None and fin["status"] == "passed":
            status, slow = "completed", [("completed", {"score": centi_text(fin["combined_centi"])})]
        else:
            if rectification == "rectifying":
                risk.append(("rectifying", json.loads(a["detail"])))
            for e in (mid, fin):
                if e is not None and e["status"] == "failed" and not (e is mid and rectification in ("rectifying", *RECTIFIED)):
                    risk.append((f"{e['phase']}_failed", {"score": centi_text(e["combined_centi"]), "mark": centi_text(mark)}))
            for day in sorted(spending_rejected.get(pid, []))[-1:]:
                risk.append(("report_rejected_spending", {"period": day.isoformat()}))
            if missing:
                target = risk if len(missing) >= 2 else slow
                target.append(
                    (
                        "report_missing",
                        {"period": "、".join(m[0].isoformat() for m in missing), "due": missing[-1][1].isoformat()},
                    )
                )
            for period_end, due, submitted in late_reports:
                slow.append(
                    (
                        "report_late",
                        {"period": period_end.isoformat(), "due": due.isoformat(), "submitted": submitted.isoformat()},
                    )
                )
            if mine:
                last = mine[-1]["period_end"]
                span = (p["end_on"] - p["start_on"]).days + 1
                planned = (p["beneficiaries"] or 0) * ((last - p["start_on"]).days + 1) // span
                if planned and beneficiaries < cfg.tracking.behind_plan * planned:
                    risk.append(
                        (
                            "behind_plan",
                            {"actual": beneficiaries, "expected": planned, "share": f"{beneficiaries * 100 // planned}%"},
                        )
                    )
            if satisfaction is not None and satisfaction < mark:
                risk.append(("low_satisfaction", {"value": centi_text(satisfaction), "mark": centi_text(mark)}))
            midpoint = p["start_on"] + (p["end_on"] - p["start_on"]) // 2
            if mid is None and fin is None and midpoint + period < as_of:
                slow.append(("midterm_overdue", {"date": (midpoint + period).isoformat()}))
            if fin is None and p["end_on"] + period < as_of:
                slow.append(("final_overdue", {"date": (p["end_on"] + period).isoformat()}))
            if risk:
                status = "at_risk"
            elif slow:
                status = "late"
            elif as_of < p["start_on"]:
                status, slow = "not_started", [("not_started", {"start": p["start_on"].isoformat()})]
            else:
                status = "on_track"
                if not mine and next_due is not None:
                    slow = [("no_reports_yet", {"due": next_due.isoformat()})]
        upcoming = next(
            (t for t in sorted(tranches_of.get(pid, []), key=lambda t: t["seq"]) if t["status"] != TrancheStatus.PAID), None
        )
        rows.append(
            {
                "proposal_id": pid,
                "title": p["title"],
                "organization": p.get("organization") or "",
                "credit_code": p["credit_code"],
                "category": p["category"],
                "street": p["street"],
                "community": p["community"],
                "start_on": p["start_on"],
                "end_on": p["end_on"],
                # a cancelled or suspended agreement keeps committed only what was already paid out; the rest goes back
                "awarded_fen": p["awarded_fen"],
                "committed_fen": p["awarded_fen"] - a.get("returned_fen", 0),
                "returned_fen": a.get("returned_fen", 0),
                "disbursed_fen": paid.get(pid, 0),
                "spent_fen": sum(r["spent_fen"] for r in mine),
                "agreement": a["status"],
                "signed_on": a.get("signed_on"),
                "status": status,
                "reasons": risk + slow,
                "reports_expected": expected,
                "reports_received": len(mine),
                "reports_missing": [m[0] for m in missing],
                "beneficiaries_plan": p["beneficiaries"] or 0,
                "beneficiaries": beneficiaries,
                "services": sum(r["services"] for r in mine),
                "activities": sum(r["activities"] for r in mine),
                "satisfaction_centi": satisfaction,
                "midterm": mid,
                "final": fin,
                "incentive": incentive_of.get(pid),
                "next_tranche": upcoming,
            }
        )
    return rows


def reasons_list(row: dict, lang: str) -> list[str]:
    return [reason_text(code, params, lang) for code, params in row["reasons"]]


def reasons_text(row: dict, lang: str) -> str:
    return ("；" if lang != "en" else "; ").join(reasons_list(row, lang))
