"""The disbursement ledger (拨付台账): entries, not flags.

A payment is an entry of a positive amount against one tranche, at most what remains of it
(partial payments add up); a reversal (冲正) is an entry of the opposite amount that names the
entry it reverses by its reference. Entries are never changed or removed: a correction is a
new entry. A tranche is paid when its entries add up to its amount, to the fen.

One rule set for every way an entry arrives: a payments.csv row (`import_payments`) and a
command (`fund pay`, `fund pay --reverse`, through `services.record_entry`) both ask
`check_entry`, whose verdict names the rule an entry breaks, with the message of that rule.
A row read again (payments.csv on every run) is recognised as the entry it already is; a
command repeated after it was recorded changes nothing either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fund.schemas.cells import fold
from fund.tasks.messages import money_cell, yuan
from fund.tasks.reading import CsvTable, Problem
from fund.tasks.tracking.files import PAYMENTS
from fund.tasks.tracking.rows import Verdict, dedupe
from fund.tasks.tracking.texts import reason_text
from fund.tasks.tracking_messages import KIND_LABELS, label


@dataclass(frozen=True)
class EntryRequest:
    """An entry someone asks the ledger to take: a payment, or with `reverses` a reversal."""

    proposal_id: str | None
    kind: str | None
    amount_fen: int | None  # None: what remains of the tranche (a payment), the whole original (a reversal)
    paid_on: dt.date
    paid_by: str
    reference: str | None = None
    reverses: str | None = None
    source: str = PAYMENTS


def reference_key(reference: str | None) -> str | None:
    """References are told apart as the finance office writes them, whatever the width or case."""
    text = fold(reference or "").upper()
    return text or None


class Ledger:
    """The entries so far, with what the rules ask of them."""

    def __init__(self, entries: list[dict]):
        self.entries: list[dict] = []
        self.by_reference: dict[str, dict] = {}
        self.reversal_of: dict[str, dict] = {}
        self.by_tranche: dict[tuple[str, str], list[dict]] = {}
        self.by_key: dict[tuple, dict] = {}
        for e in sorted(entries, key=lambda e: e["entry"]):
            self.add(e)

    def add(self, entry: dict) -> None:
        self.entries.append(entry)
        if reference_key(entry.get("reference")):
            self.by_reference[reference_key(entry["reference"])] = entry
        if reference_key(entry.get("reverses")):
            self.reversal_of[reference_key(entry["reverses"])] = entry
        self.by_tranche.setdefault((entry["proposal_id"], entry["kind"]), []).append(entry)
        self.by_key.setdefault(entry_key(entry), entry)

    def next_entry(self) -> int:
        return self.entries[-1]["entry"] + 1 if self.entries else 1

    def of(self, proposal_id: str, kind: str) -> list[dict]:
        return self.by_tranche.get((proposal_id, kind), [])

    def paid(self, proposal_id: str, kind: str) -> int:
        return sum(e["amount_fen"] for e in self.of(proposal_id, kind))

    def same_as(self, entry: dict) -> dict | None:
        """An entry already recorded with the same money, day and references."""
        return self.by_key.get(entry_key(entry))


def entry_key(e: dict) -> tuple:
    return (
        e["proposal_id"],
        e["kind"],
        e["amount_fen"],
        e["paid_on"],
        reference_key(e.get("reference")),
        reference_key(e.get("reverses")),
    )


def not_payable(kind: str, paid_on: dt.date, rule: str, params: dict) -> dict:
    """Parameters of `tranche_not_payable`: the nested reason is rendered in both languages."""
    return {
        "tranche": kind,
        "tranche_zh": label(KIND_LABELS, kind, "zh"),
        "paid_on": paid_on.isoformat(),
        "why_zh": reason_text(rule, params, "zh"),
        "why_en": reason_text(rule, params, "en"),
    }


def described(entry: dict) -> dict:
    """An entry as messages name it."""
    return {
        "proposal": entry["proposal_id"],
        "tranche": entry["kind"],
        "tranche_zh": label(KIND_LABELS, entry["kind"], "zh"),
        "amount": yuan(entry["amount_fen"]),
        "paid_on": entry["paid_on"].isoformat(),
    }


def check_entry(
    request: EntryRequest,
    tranches: dict[tuple[str, str], dict],
    ledger: Ledger,
    as_of: dt.date,
    open_agreements: set[str],
    command: bool = False,
) -> Verdict:
    """The verdict on one entry: the entry to add, the entry it already is, or the rule it breaks.
    `tranches`: each tranche's condition (`schedule_tranches` / `conditions_of`); `open_agreements`:
    projects whose agreement was signed (a suspended one takes what was paid before it closed);
    `command`: asked by a command, whose repetition is recognised only where it could not be new."""
    if request.reverses:
        return _reversal(request, ledger, as_of, command)
    return _payment(request, tranches, ledger, as_of, open_agreements, command)


def _refuse(field_name: str, value, rule: str, **params) -> Verdict:
    return Verdict(field=field_name, value="" if value is None else str(value), rule=rule, params=params)


def _known_reference(request: EntryRequest, ledger: Ledger, entry: dict) -> Verdict | None:
    """The request's own reference is already in the ledger: the same entry, or a clash. (A
    payment asked for "what remains" is the same whatever remains now.)"""
    before = ledger.by_reference.get(reference_key(request.reference) or "")
    if before is None:
        return None
    loose = request.amount_fen is None and not request.reverses
    if entry_key(before) == entry_key(entry | ({"amount_fen": before["amount_fen"]} if loose else {})):
        return Verdict(known=before)
    return _refuse("reference", request.reference, "reference_in_use", reference=request.reference, **described(before))


def _payment(
    request: EntryRequest, tranches: dict, ledger: Ledger, as_of: dt.date, open_agreements: set[str], command: bool
) -> Verdict:
    pid, kind, day = request.proposal_id, request.kind, request.paid_on
    tranche = tranches.get((pid, kind))
    paid = ledger.paid(pid, kind)
    remaining = tranche["amount_fen"] - paid if tranche is not None else 0
    amount = remaining if request.amount_fen is None else request.amount_fen
    entry = {
        "proposal_id": pid,
        "kind": kind,
        "amount_fen": amount,
        "paid_on": day,
        "paid_by": request.paid_by,
        "reference": request.reference,
        "reverses": None,
        "source": request.source,
    }
    known = _known_reference(request, ledger, entry)
    if known is not None:
        return known
    if not command and (same := ledger.same_as(entry)) is not None:
        return Verdict(known=same)
    if pid not in open_agreements:
        return _refuse("proposal_id", pid, "payment_no_agreement")
    if day > as_of:
        return _refuse("paid_on", day, "payment_future", paid_on=day.isoformat(), as_of=as_of.isoformat())
    if tranche is None:
        return _refuse("tranche", kind, "tranche_not_payable", **not_payable(kind, day, "not_planned", {}))
    if tranche["due_on"] is None:
        return _refuse("tranche", kind, "tranche_not_payable", **not_payable(kind, day, tranche["reason"], tranche["detail"]))
    if day < tranche["due_on"]:
        return _refuse(
            "paid_on",
            day,
            "tranche_not_payable",
            **not_payable(kind, day, "condition_later", {"date": tranche["due_on"].isoformat()}),
        )
    if tranche["closed_on"] is not None and day >= tranche["closed_on"]:
        closing = tranche["closing"] or {}
        return _refuse(
            "paid_on",
            day,
            "tranche_not_payable",
            **not_payable(kind, day, closing.get("why_rule", ""), closing.get("why_params", {})),
        )
    last = (ledger.of(pid, kind) or [None])[-1]
    if remaining <= 0 and last is not None:
        if command and (request.amount_fen is None or ledger.same_as(entry) is not None):
            return Verdict(known=last)
        return _refuse(
            "tranche",
            kind,
            "tranche_already_paid",
            amount=yuan(tranche["amount_fen"]),
            paid_on=last["paid_on"].isoformat(),
            by=last["paid_by"],
        )
    if amount == 0:
        return _refuse("amount", money_cell(amount), "payment_zero")
    if amount > remaining:
        return _refuse(
            "amount",
            money_cell(amount),
            "payment_above_remaining",
            amount=yuan(amount),
            remaining=yuan(remaining),
            tranche_amount=yuan(tranche["amount_fen"]),
            paid=yuan(paid),
        )
    return Verdict(record=entry)


def _reversal(request: EntryRequest, ledger: Ledger, as_of: dt.date, command: bool) -> Verdict:
    ref, day = request.reverses, request.paid_on
    original = ledger.by_reference.get(reference_key(ref) or "")
    if original is None:
        return _refuse("reverses", ref, "reversal_unknown_reference", reference=ref)
    entry = {
        "proposal_id": original["proposal_id"],
        "kind": original["kind"],
        "amount_fen": -original["amount_fen"],
        "paid_on": day,
        "paid_by": request.paid_by,
        "reference": request.reference,
        "reverses": original["reference"],
        "source": request.source,
    }
    known = _known_reference(request, ledger, entry)
    if known is not None:
        return known
    if original.get("reverses"):
        return _refuse("reverses", ref, "reversal_of_reversal", reference=ref, original=original["reverses"])
    done = ledger.reversal_of.get(reference_key(original["reference"]))
    if done is not None:
        if entry_key(done) == entry_key(entry) or (command and request.reference is None and done["paid_on"] == day):
            return Verdict(known=done)
        return _refuse(
            "reverses",
            ref,
            "already_reversed",
            reference=ref,
            on=done["paid_on"].isoformat(),
            by_reference=done.get("reference") or done["paid_by"],
        )
    if request.proposal_id is not None and (request.proposal_id, request.kind) != (original["proposal_id"], original["kind"]):
        return _refuse("reverses", ref, "reversal_mismatch", reference=ref, **described(original))
    if request.amount_fen is not None and request.amount_fen != original["amount_fen"]:
        return _refuse(
            "amount",
            money_cell(request.amount_fen),
            "reversal_amount_mismatch",
            reference=ref,
            amount=yuan(request.amount_fen),
            original=yuan(original["amount_fen"]),
        )
    if day < original["paid_on"]:
        return _refuse(
            "paid_on",
            day,
            "reversal_before_original",
            reference=ref,
            paid_on=day.isoformat(),
            original_on=original["paid_on"].isoformat(),
        )
    if day > as_of:
        return _refuse("paid_on", day, "payment_future", paid_on=day.isoformat(), as_of=as_of.isoformat())
    return Verdict(record=entry)


def import_payments(
    table: CsvTable | None, tranches: list[dict], entries: list[dict], as_of: dt.date, open_agreements: set[str]
) -> tuple[list[dict], list[Problem], int]:
    """payments.csv rows, in the order of their dates (then lines), against the tranche conditions
    and the ledger: (new entries, numbered after the ledger's, problems, rows read)."""
    if table is None:
        return [], [], 0
    problems = list(table.problems)
    candidates = [{**row, "_file": table.source_file} for row in table.rows if row["_ok"]]
    kept, conflicts = dedupe(
        candidates,
        lambda r: reference_key(r.get("reference")) or row_content(r),
        "payment_conflict",
        "reference",
        lambda r: f"{r['proposal_id']}/{r['kind']}",
    )
    problems += conflicts
    terms = {(t["proposal_id"], t["kind"]): t for t in tranches}
    ledger = Ledger(entries)
    new, refused = [], []
    # in the order of the dates; a reversal of an entry further down is asked again at the end, so that
    # it is taken, or refused for what is really wrong with it (dated before its original, say)
    rows = sorted(kept, key=lambda r: (r["paid_on"], r["_line"]))
    for again in (False, True):
        for row in refused if again else rows:
            request = EntryRequest(
                row["proposal_id"],
                row["kind"],
                row["amount_fen"],
                row["paid_on"],
                row["paid_by"],
                row.get("reference"),
                row.get("reverses"),
                PAYMENTS,
            )
            verdict = check_entry(request, terms, ledger, as_of, open_agreements)
            if verdict.record is not None:
                entry = verdict.record | {"entry": ledger.next_entry()}
                ledger.add(entry)
                new.append(entry)
            elif verdict.rule == "reversal_unknown_reference" and not again:
                refused.append(row)
            elif verdict.rule:
                problems.append(
                    Problem(
                        table.source_file,
                        row["_line"],
                        f"{row['proposal_id']}/{row['kind']}",
                        verdict.field,
                        verdict.value,
                        verdict.rule,
                        verdict.params,
                    )
                )
    return new, problems, table.rows_in


def row_content(row: dict) -> tuple:
    return tuple(str(v) for k, v in sorted(row.items()) if not k.startswith("_"))
