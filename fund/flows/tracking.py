"""Stage 6, tracking after the award (拨付与跟踪): once the public notice has ended, funded
projects get their agreement and tranche schedule; payments, progress reports and the
mid-term / final evaluation sheets are imported; the four incentives are recorded.

The stage runs "as of" a date: `as_of` (CLI `--as-of`), else env FUND_AS_OF, else
`[tracking] as_of` in cycle.toml, else today in Asia/Shanghai. Inputs in CYCLE_DIR (all
optional): objections.csv, payments.csv, progress/*.csv, evaluations/*.csv; plus payments
recorded with `fund pay` and objections with `fund objection` (in the database). Outputs:
tracking/tranches.csv, ledger.csv, progress.csv, evaluations.csv, sheets/ (evaluation
sheets and the progress form), README.txt, and reports/incentives.csv.
"""

from __future__ import annotations

import datetime as dt
import json

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from sqlalchemy import delete

from fund.flows.plans import plan_tracking
from fund.flows.stage import Stage, StageOutcome, guarded, outcome
from fund.schemas.codes import AgreementStatus, Outcome, TrancheStatus
from fund.schemas.tables import (
    Agreement,
    Award,
    Incentive,
    Objection,
    Organization,
    Payment,
    Progress,
    ProjectEvaluation,
    Proposal,
    Rejection,
    Tranche,
    utc_now,
)
from fund.tasks.messages import centi_text, render, sentence, yuan
from fund.tasks.tracking_messages import PHASE_LABELS, label
from fund.tasks.audit import audit
from fund.tasks.store import insert_rows, load_rows, replace_rows, transaction
from fund.tasks.tracking import read_tracking, reason_text, reference_key, track, write_tracking_files
from fund.tasks.writers import write_rejected

read_files = task(read_tracking, name="read tracking files", cache_policy=NO_CACHE)
track_projects = task(track, name="track projects", cache_policy=NO_CACHE)


@flow(name="tracking")
def tracking_flow(cycle_dir: str, out_dir: str, db_url: str | None = None, lang: str = "zh", as_of: str | None = None):
    stage = Stage.open("tracking", cycle_dir, out_dir, db_url, lang)
    return guarded(stage, lambda: run_tracking(stage, as_of))


def funded_projects(db_url: str, cycle_id: str) -> tuple[list[dict], set[str]]:
    """Funded proposals (proposal fields, organization name and the award) and every proposal id."""
    proposals = {p["proposal_id"]: p for p in load_rows(db_url, Proposal, cycle_id)}
    orgs = {o["credit_code"]: o["name"] for o in load_rows(db_url, Organization, cycle_id)}
    projects = [
        {
            **proposals[a["proposal_id"]],
            "awarded_fen": a["awarded_fen"],
            "organization": orgs.get(proposals[a["proposal_id"]]["credit_code"], ""),
        }
        for a in load_rows(db_url, Award, cycle_id, ("proposal_id",))
        if a["status"] == "funded" and a["proposal_id"] in proposals
    ]
    return projects, set(proposals)


def run_tracking(stage: Stage, as_of_text: str | dt.date | None) -> StageOutcome:
    lang, cfg, cid = stage.lang, stage.cfg, stage.cycle_id
    plan = plan_tracking(stage, as_of_text)
    if not plan.runs:
        return plan.result
    input_hash, as_of, window = plan.input_hash, plan.context["as_of"], plan.context["window"]
    stage.step("reading", files="objections.csv, payments.csv, progress/, evaluations/")
    projects, known = funded_projects(stage.db_url, cid)
    if not projects:
        return outcome(stage, Outcome.WAITING, sentence("no_funded_project_track", lang))
    ledger = load_rows(stage.db_url, Payment, cid, ("entry",))
    stored_objections = load_rows(stage.db_url, Objection, cid, ("objection_id",))
    cli_objections = [o for o in stored_objections if o["source"] == "cli"]
    result = track_projects(
        cfg, as_of, window, quote(projects), quote(known), quote(read_files(stage.cycle_dir)), quote(ledger), cli_objections
    )
    now = utc_now()
    new_payments = [p | {"recorded_at": now} for p in result.new_payments]
    run_gates(stage, result, ledger + new_payments)
    summary = summarize(stage, result, as_of)
    previous = {(e["proposal_id"], e["phase"]): e for e in load_rows(stage.db_url, ProjectEvaluation, cid)}
    suspended_before = {
        a["proposal_id"] for a in load_rows(stage.db_url, Agreement, cid) if a["status"] == AgreementStatus.SUSPENDED
    }
    with transaction(stage.db_url) as session:
        replace_rows(session, Agreement, cid, result.agreements)
        replace_rows(session, Tranche, cid, result.tranches)
        replace_rows(session, Progress, cid, result.progress)
        replace_rows(session, ProjectEvaluation, cid, result.evaluations)
        replace_rows(session, Incentive, cid, result.incentives)
        session.execute(delete(Objection).where(Objection.cycle_id == cid, Objection.source != "cli"))
        insert_rows(session, Objection, cid, result.objections)
        insert_rows(session, Payment, cid, new_payments)
        for p in new_payments:
            audit(
                session,
                cid,
                p["paid_by"],
                "reversal" if p["reverses"] else "payment",
                f"{p['proposal_id']}/{p['kind']}",
                {
                    "entry": p["entry"],
                    "amount_fen": p["amount_fen"],
                    "paid_on": p["paid_on"],
                    "source": p["source"],
                    "reference": p.get("reference"),
                    "reverses": p["reverses"],
                },
            )
        for e in result.evaluations:
            before = previous.get((e["proposal_id"], e["phase"]))
            if e["status"] == "failed" and (before is None or before["status"] != "failed"):
                audit(
                    session,
                    cid,
                    "fund",
                    "warning",
                    e["proposal_id"],
                    {"phase": e["phase"], "combined_centi": e["combined_centi"], "tranche": TrancheStatus.WITHHELD},
                )
        for a in result.agreements:
            if a["status"] == AgreementStatus.SUSPENDED and a["proposal_id"] not in suspended_before:
                audit(
                    session,
                    cid,
                    "fund",
                    "agreement_suspended",
                    a["proposal_id"],
                    {"on": a["ended_on"], "returned_fen": a["returned_fen"], **json.loads(a["detail"])},
                )
        stage.replace_rejections(session, result.problems)
        stage.record(
            session,
            input_hash,
            "done",
            summary,
            tables=(Agreement, Tranche, Progress, ProjectEvaluation, Incentive, Objection, Payment, Rejection),
        )
    stage.crash_point("stored")
    stage.step("writing")
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, cid), lang)
    write_tracking_files(stage.out_dir, result, {p["proposal_id"]: p for p in projects}, cfg, as_of, lang)
    return outcome(stage, Outcome.DONE, done_message(result, summary, as_of, lang), summary)


def run_gates(stage: Stage, result, ledger: list[dict]) -> None:
    amounts = {a["proposal_id"]: a["amount_fen"] for a in result.agreements}
    tranche_sum: dict[str, int] = {}
    for t in result.tranches:
        tranche_sum[t["proposal_id"]] = tranche_sum.get(t["proposal_id"], 0) + t["amount_fen"]
    entries_sum: dict[tuple[str, str], int] = {}
    disbursed: dict[str, int] = {}
    for p in ledger:
        entries_sum[(p["proposal_id"], p["kind"])] = entries_sum.get((p["proposal_id"], p["kind"]), 0) + p["amount_fen"]
        disbursed[p["proposal_id"]] = disbursed.get(p["proposal_id"], 0) + p["amount_fen"]
    tranches = {(t["proposal_id"], t["kind"]) for t in result.tranches}
    references = [reference_key(p.get("reference")) for p in ledger]
    reversed_once = [reference_key(p["reverses"]) for p in ledger if p.get("reverses")]
    spent: dict[str, int] = {}
    for r in result.progress:
        spent[r["proposal_id"]] = spent.get(r["proposal_id"], 0) + r["spent_fen"]
    ended = (AgreementStatus.CANCELLED, AgreementStatus.SUSPENDED)
    stage.gate(
        "agreements",
        result.agreements,
        Agreement,
        {
            "signed_iff_dated": [
                (a["status"] in (AgreementStatus.SIGNED, AgreementStatus.SUSPENDED)) == (a["signed_on"] is not None)
                for a in result.agreements
            ],
            "suspended_iff_ended": [
                (a["status"] == AgreementStatus.SUSPENDED) == (a["ended_on"] is not None) for a in result.agreements
            ],
            "returned_is_what_was_not_paid": [
                a["returned_fen"] == (a["amount_fen"] - disbursed.get(a["proposal_id"], 0) if a["status"] in ended else 0)
                for a in result.agreements
            ],
        },
    )
    stage.gate(
        "tranches",
        result.tranches,
        Tranche,
        {
            "tranches_add_up_to_award": [tranche_sum[t["proposal_id"]] == amounts[t["proposal_id"]] for t in result.tranches],
            "paid_is_the_ledger": [t["paid_fen"] == entries_sum.get((t["proposal_id"], t["kind"]), 0) for t in result.tranches],
            "never_paid_above_amount": [0 <= t["paid_fen"] <= t["amount_fen"] for t in result.tranches],
            "paid_iff_entries_add_up": [
                (t["status"] == TrancheStatus.PAID) == (t["paid_fen"] == t["amount_fen"] and t["due_on"] is not None)
                for t in result.tranches
            ],
        },
    )
    stage.gate(
        "payments",
        ledger,
        Payment,
        {
            "entry_of_a_tranche": [(p["proposal_id"], p["kind"]) in tranches for p in ledger],
            "reversal_negative_payment_positive": [(p["amount_fen"] < 0) == bool(p.get("reverses")) for p in ledger],
            "reference_names_one_entry": [r is None or references.count(r) == 1 for r in references],
            "reversal_names_an_entry_once": [
                not p.get("reverses")
                or (reference_key(p["reverses"]) in references and reversed_once.count(reference_key(p["reverses"])) == 1)
                for p in ledger
            ],
        },
    )
    stage.gate(
        "progress",
        result.progress,
        Progress,
        {"spent_within_disbursed": [spent[r["proposal_id"]] <= disbursed.get(r["proposal_id"], 0) for r in result.progress]},
    )
    stage.gate(
        "project_evaluations",
        result.evaluations,
        ProjectEvaluation,
        {
            "combined_iff_scored": [
                (e["status"] in ("passed", "failed")) == (e["combined_centi"] is not None) for e in result.evaluations
            ]
        },
    )
    stage.gate("incentives", result.incentives, Incentive)


def summarize(stage: Stage, result, as_of: dt.date) -> dict:
    count = lambda rows, **match: sum(1 for r in rows if all(r[k] == v for k, v in match.items()))  # noqa: E731
    return {
        **stage.account(sum(result.rows_in.values()), result.problems),
        "as_of": as_of.isoformat(),
        "files": result.rows_in,
        "signed": count(result.agreements, status=AgreementStatus.SIGNED),
        "on_hold": count(result.agreements, status=AgreementStatus.ON_HOLD),
        "cancelled": count(result.agreements, status=AgreementStatus.CANCELLED),
        "suspended": count(result.agreements, status=AgreementStatus.SUSPENDED),
        "rectifying": count(result.agreements, reason="rectifying"),
        "committed_fen": sum(a["amount_fen"] - a["returned_fen"] for a in result.agreements),
        "returned_fen": sum(a["returned_fen"] for a in result.agreements),
        "partly_paid": count(result.tranches, status=TrancheStatus.PARTLY_PAID),
        "disbursed_fen": sum(p["amount_fen"] for p in result.ledger),
        "new_payments": len(result.new_payments),
        "progress_reports": len(result.progress),
        "midterm_passed": count(result.evaluations, phase="midterm", status="passed"),
        "midterm_failed": count(result.evaluations, phase="midterm", status="failed"),
        "final_passed": count(result.evaluations, phase="final", status="passed"),
        "final_failed": count(result.evaluations, phase="final", status="failed"),
        "problems": len(result.problems),
        **stage.gate_summary(),
    }


def done_message(result, s: dict, as_of: dt.date, lang: str) -> str:
    hold = render("tracking_done_hold", s, lang) if s["on_hold"] or s["cancelled"] or s["suspended"] else ""
    lines = [
        render(
            "tracking_done",
            {**s, "as_of": as_of.isoformat(), "hold": hold, "paid": yuan(s["disbursed_fen"]), "total": yuan(s["committed_fen"])},
            lang,
        )
    ]
    if s["partly_paid"] or s["rectifying"] or s["returned_fen"]:
        lines[0] += render("tracking_done_money", {**s, "returned": yuan(s["returned_fen"])}, lang)
    rectified = {a["proposal_id"] for a in result.agreements if a["reason"]}
    for e in result.evaluations:
        if e["status"] == "failed" and not (e["phase"] == "midterm" and e["proposal_id"] in rectified):
            lines.append(
                render(
                    "tracking_warning",
                    {
                        "proposal": e["proposal_id"],
                        "phase": label(PHASE_LABELS, e["phase"], lang),
                        "score": centi_text(e["combined_centi"]),
                    },
                    lang,
                )
            )
    for a in result.agreements:  # rectifying, rectified or suspended: why, in the words of the tranches
        if a["reason"]:
            lines.append(
                render(
                    "tracking_project_line",
                    {"proposal": a["proposal_id"], "why": reason_text(a["reason"], a["detail"], lang)},
                    lang,
                )
            )
    return "\n".join(lines)
