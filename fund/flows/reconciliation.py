"""Reconciliation (对账): `fund reconcile CYCLE_DIR --out OUT_DIR --statement FILE`.

The flow brings the ledger up to date first (the tracking stage, skipped when nothing
changed), reconciles it with the finance office's statement (`fund.tasks.reconciliation`),
keeps the lines in the database (`Reconciliation`) with the statement's name and hash, writes
tracking/reconciliation.csv and the rows of the statement that could not be read in
validation/rejected.csv, then brings the leadership report up to date, which shows the
unreconciled total. The statement is an input of this command, not of `fund run`; a
statement without one of its four columns stops it, naming the column (exit 1).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from prefect import flow
from prefect.states import Completed

from fund.flows.report import Busy, cycle_lock_for, report_flow, tracking_result
from fund.flows.stage import Stage, StageOutcome, guarded, hash_inputs, outcome, stage_results, stopped_state
from fund.flows.tracking import funded_projects, tracking_flow
from fund.runtime import progress
from fund.schemas.codes import Outcome, ReconciliationOutcome
from fund.schemas.tables import Payment, Reconciliation, Rejection
from fund.tasks.audit import write_head
from fund.tasks.messages import render, yuan
from fund.tasks.reconciliation import RECONCILIATION, read_statement, reconcile, totals, write_reconciliation
from fund.tasks.store import load_rows, replace_rows, transaction
from fund.tasks.tracking_messages import RECONCILIATION_OUTCOMES, label
from fund.tasks.writers import write_rejected


@flow(name="reconciliation")
def reconciliation_flow(
    cycle_dir: str, out_dir: str, statement: str, db_url: str | None = None, lang: str = "zh", as_of: str | None = None
):
    try:
        with cycle_lock_for(cycle_dir, out_dir, db_url):
            tracked = tracking_result(tracking_flow(cycle_dir, out_dir, db_url, lang, as_of, return_state=True))
            stage = Stage.open("reconciliation", cycle_dir, out_dir, db_url, lang)
            state = guarded(stage, lambda: run_reconciliation(stage, Path(statement), tracked))
            results = stage_results(state)
            progress.stage_finished(results[-1])
            if results[-1].outcome == Outcome.DONE:
                results += stage_results(report_flow(cycle_dir, out_dir, db_url, lang, as_of, return_state=True))
            write_head(stage.db_url, stage.cycle_id, Path(out_dir))
    except Busy as exc:
        message = render("reconciliation_busy", {"where": str(exc)}, lang)
        results = [StageOutcome("reconciliation", Outcome.STOPPED, message)]
    if results[0].failed:
        return stopped_state(results, results[0].message)
    return Completed(message=results[0].message, data=results)


def run_reconciliation(stage: Stage, statement: Path, tracked) -> StageOutcome:
    lang, cid = stage.lang, stage.cycle_id
    if stage.done_hash("tracking") is None:
        why = tracked.message if isinstance(tracked, StageOutcome) else ""
        return outcome(stage, Outcome.STOPPED, render("reconciliation_no_ledger", {"why": why or ""}, lang))
    entries = load_rows(stage.db_url, Payment, cid, ("entry",))
    input_hash = hash_inputs(lang, statement, stage.cycle_dir / "cycle.toml", stage.done_hash("tracking"), len(entries))
    if stage.unchanged(input_hash, [stage.out_dir / RECONCILIATION]):
        return outcome(stage, Outcome.SKIPPED, render("reconciliation_unchanged", {"file": statement.name}, lang))
    stage.step("reading", files=statement.name)
    rows, problems, rows_in = read_statement(statement, stage.cfg)
    projects, _ = funded_projects(stage.db_url, cid)
    lines = reconcile(entries, rows, {p["proposal_id"]: p["organization"] for p in projects})
    summary_of = totals(lines)
    stage.gate(
        "reconciliation",
        lines,
        Reconciliation,
        {
            "outcome_known": [x["outcome"] in set(ReconciliationOutcome) for x in lines],
            "every_entry_once": [sorted(x["entry"] for x in lines if x["entry"]) == [e["entry"] for e in entries]] * len(lines),
            "ledger_side_adds_up": [summary_of["ledger_fen"] == sum(e["amount_fen"] for e in entries)] * len(lines),
            "statement_side_adds_up": [summary_of["statement_fen"] == sum(r["amount_fen"] for r in rows)] * len(lines),
        },
    )
    summary = {
        **stage.account(rows_in, problems),
        **summary_of,
        "statement": statement.name,
        "statement_sha256": hashlib.sha256(statement.read_bytes()).hexdigest(),
        "ledger_entries": len(entries),
        **stage.gate_summary(),
    }
    with transaction(stage.db_url) as session:
        replace_rows(session, Reconciliation, cid, lines)
        stage.replace_rejections(session, problems)
        stage.record(session, input_hash, "done", summary, tables=(Reconciliation, Rejection))
    stage.step("writing")
    write_reconciliation(stage.out_dir, lines, lang)
    write_rejected(stage.out_dir, load_rows(stage.db_url, Rejection, cid), lang)
    return outcome(stage, Outcome.DONE, done_message(summary, lang), summary)


def done_message(s: dict, lang: str) -> str:
    kinds = [
        f"{label(RECONCILIATION_OUTCOMES, o, lang)} {s[o]}"
        for o in ReconciliationOutcome
        if o != ReconciliationOutcome.MATCHED and s[o]
    ]
    text = render(
        "reconciliation_done",
        {
            **s,
            "ledger": yuan(s["ledger_fen"]),
            "total": yuan(s["statement_fen"]),
            "kinds": ("、" if lang != "en" else ", ").join(kinds) or "—",
            "unreconciled": yuan(s["unreconciled_fen"]),
            "path": str(RECONCILIATION),
        },
        lang,
    )
    if s["rows_rejected"]:
        text += render("reconciliation_unreadable", s, lang)
    return text
