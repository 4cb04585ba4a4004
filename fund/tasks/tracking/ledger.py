"""The disbursement ledger (拨付台账): payments.csv rows against the tranche conditions and the
ledger so far."""
from __future__ import annotations

import datetime as dt

from fund.schemas.codes import TrancheStatus
from fund.tasks.messages import money_cell, yuan
from fund.tasks.reading import CsvTable, Problem
from fund.tasks.tracking.files import PAYMENTS
from fund.tasks.tracking.rows import dedupe
from fund.tasks.tracking.texts import reason_text
from fund.tasks.tracking_messages import KIND_LABELS, label


def not_payable(kind: str, paid_on: dt.date, rule: str, params: dict) -> dict:
    """Parameters of `tranche_not_payable`: the nested reason is rendered in both languages."""
    return {"tranche": kind, "tranche_zh": label(KIND_LABELS, kind, "zh"), "paid_on": paid_on.isoformat(),
            "why_zh": reason_text(rule, params, "zh"), "why_en": reason_text(rule, params, "en")}


def import_payments(table: CsvTable | None, tranches: list[dict], ledger: list[dict], as_of: dt.date,
                    signed: set[str]) -> tuple[list[dict], list[Problem], int]:
    """payments.csv rows against the tranche conditions and the ledger: (new ledger rows, problems, rows read)."""
    if table is None:
        return [], [], 0
    problems = list(table.problems)
    by_tranche = {(t["proposal_id"], t["kind"]): t for t in tranches}
    paid = {(p["proposal_id"], p["kind"]): p for p in ledger}
    candidates = []
    for row in table.rows:
        if not row["_ok"]:
            continue
        candidates.append({**row, "_file": table.source_file})
    kept, dup = dedupe(candidates, lambda r: (r["proposal_id"], r["kind"]), "payment_conflict", "tranche",
                        lambda r: f"{r['proposal_id']}/{r['kind']}")
    problems += dup
    new = []
    for row in kept:
        pid, kind, line = row["proposal_id"], row["kind"], row["_line"]
        ident = f"{pid}/{kind}"

        def fail(field_name: str, value, rule: str, **params) -> None:
            problems.append(Problem(table.source_file, line, ident, field_name, "" if value is None else str(value), rule, params))

        tranche = by_tranche.get((pid, kind))
        before = paid.get((pid, kind))
        if pid not in signed:
            fail("proposal_id", pid, "payment_no_agreement")
        elif row["paid_on"] > as_of:
            fail("paid_on", row["paid_on"], "payment_future", paid_on=row["paid_on"].isoformat(), as_of=as_of.isoformat())
        elif before is not None:
            if (before["amount_fen"], before["paid_on"]) != (row["amount_fen"], row["paid_on"]):
                fail("tranche", kind, "tranche_already_paid", paid_on=before["paid_on"].isoformat(), by=before["paid_by"],
                     amount=yuan(before["amount_fen"]))
        elif tranche is None:
            fail("tranche", kind, "tranche_not_payable", **not_payable(kind, row["paid_on"], "not_planned", {}))
        elif tranche["status"] != TrancheStatus.DUE:
            fail("tranche", kind, "tranche_not_payable",
                 **not_payable(kind, row["paid_on"], tranche["reason"], tranche["detail"]))
        elif tranche["due_on"] > row["paid_on"]:
            fail("paid_on", row["paid_on"], "tranche_not_payable",
                 **not_payable(kind, row["paid_on"], "condition_later", {"date": tranche["due_on"].isoformat()}))
        elif row["amount_fen"] != tranche["amount_fen"]:
            fail("amount", money_cell(row["amount_fen"]), "payment_amount_mismatch", amount=yuan(row["amount_fen"]),
                 expected=yuan(tranche["amount_fen"]))
        else:
            new.append({"proposal_id": pid, "kind": kind, "amount_fen": row["amount_fen"], "paid_on": row["paid_on"],
                        "paid_by": row["paid_by"], "reference": row.get("reference"), "source": PAYMENTS})
    return new, problems, table.rows_in
