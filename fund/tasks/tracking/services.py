"""What the tracking commands do to the database (`fund pay`, `fund pay --reverse`, `fund
objection`): the rules are the stage's own (`ledger.check_entry`, `objections.check_objection`),
the change is one transaction with its audit event (naming every table it wrote), under the
cycle's run lock, and the head of the audit chain is written out after it. Each service
returns the rule's `Verdict`; the command only turns it into words and an exit code.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import update

from fund.schemas.codes import AgreementStatus, AuditAction
from fund.schemas.config import CycleConfig
from fund.schemas.tables import Agreement, Award, Objection, Payment, StageRun, Tranche, utc_now
from fund.tasks.audit import audit, write_head
from fund.tasks.store import cycle_lock, insert_rows, load_rows, transaction
from fund.tasks.tracking.dates import publicity_window
from fund.tasks.tracking.ledger import EntryRequest, Ledger, check_entry
from fund.tasks.tracking.objections import check_objection
from fund.tasks.tracking.rectification import settle_agreements
from fund.tasks.tracking.rows import Verdict
from fund.tasks.tracking.tranches import conditions_of, tranche_state

OPEN = (AgreementStatus.SIGNED, AgreementStatus.SUSPENDED)  # agreements that were signed: entries before they closed
RESOLVED = {"upheld": AuditAction.OBJECTION_UPHELD, "dismissed": AuditAction.OBJECTION_DISMISSED}  # by decision


def record_entry(db_url: str, cycle_id: str, out_dir: Path, request: EntryRequest, as_of: dt.date) -> Verdict:
    """A payment or a reversal asked by a command; raises `store.CycleBusy` while a run holds the cycle."""
    with cycle_lock(db_url, cycle_id, Path(out_dir)):
        stored = load_rows(db_url, Tranche, cycle_id)
        if not request.reverses and not any(t["proposal_id"] == request.proposal_id for t in stored):
            return Verdict(
                field="proposal_id",
                value=request.proposal_id or "",
                rule="no_tranches_yet",
                params={"proposal": request.proposal_id},
            )
        conditions = conditions_of(stored)
        agreements = load_rows(db_url, Agreement, cycle_id)
        ledger = Ledger(load_rows(db_url, Payment, cycle_id, ("entry",)))
        verdict = check_entry(
            request,
            {(t["proposal_id"], t["kind"]): t for t in conditions},
            ledger,
            as_of,
            {a["proposal_id"] for a in agreements if a["status"] in OPEN},
            command=True,
        )
        if verdict.record is None:
            return verdict
        entry = verdict.record | {"entry": ledger.next_entry(), "recorded_at": utc_now()}
        ledger.add(entry)
        key = (entry["proposal_id"], entry["kind"])
        tranche = next(tranche_state(t, ledger.of(*key)) for t in conditions if (t["proposal_id"], t["kind"]) == key)
        agreement = next((a for a in agreements if a["proposal_id"] == key[0]), None)
        settled = settle_agreements([agreement], ledger.entries)[0] if agreement is not None else None
        with transaction(db_url) as session:
            insert_rows(session, Payment, cycle_id, [entry])
            session.execute(
                update(Tranche)
                .where(Tranche.cycle_id == cycle_id, Tranche.proposal_id == key[0], Tranche.kind == key[1])
                .values(
                    status=tranche["status"], paid_fen=tranche["paid_fen"], reason=tranche["reason"], detail=tranche["detail"]
                )
            )
            if settled is not None and settled != agreement:
                session.execute(
                    update(Agreement)
                    .where(Agreement.cycle_id == cycle_id, Agreement.proposal_id == key[0])
                    .values(returned_fen=settled["returned_fen"], detail=settled["detail"])
                )
            action = AuditAction.REVERSAL if entry["reverses"] else AuditAction.PAYMENT
            audit(
                session,
                cycle_id,
                entry["paid_by"],
                action,
                f"{key[0]}/{key[1]}",
                {
                    "entry": entry["entry"],
                    "amount_fen": entry["amount_fen"],
                    "paid_on": entry["paid_on"],
                    "source": entry["source"],
                    "reference": entry["reference"],
                    "reverses": entry["reverses"],
                },
                tables=(Payment, Tranche, Agreement),
            )
        write_head(db_url, cycle_id, Path(out_dir))
        return Verdict(record=entry, params={"status": str(tranche["status"])})


def published_from(db_url: str, cycle_id: str) -> dt.date | None:
    """The first day of the public notice, once it is published."""
    for run in load_rows(db_url, StageRun, cycle_id):
        if run["stage"] == "publication":
            day = json.loads(run["summary"]).get("publicity_from")
            return dt.date.fromisoformat(day) if day else None
    return None


def record_objection(
    db_url: str,
    cfg: CycleConfig,
    out_dir: Path,
    proposal_id: str,
    objector: str,
    content: str,
    received_on: dt.date,
    objection_id: str | None = None,
) -> Verdict:
    """An objection to the notice, recorded as pending (the project's signing waits for it)."""
    cycle_id = cfg.cycle.id
    with cycle_lock(db_url, cycle_id, Path(out_dir)):
        published = published_from(db_url, cycle_id)
        if published is None:
            return Verdict(field="proposal_id", value=proposal_id, rule="objection_not_published")
        funded = {a["proposal_id"] for a in load_rows(db_url, Award, cycle_id) if a["status"] == "funded"}
        broken = check_objection(proposal_id, received_on, funded, publicity_window(cfg, published))
        if broken is not None:
            return broken
        taken = {o["objection_id"] for o in load_rows(db_url, Objection, cycle_id)}
        oid = objection_id or next(f"CLI-{n:03d}" for n in range(1, 100_000) if f"CLI-{n:03d}" not in taken)
        if oid in taken:
            return Verdict(field="objection_id", value=oid, rule="objection_id_taken", params={"objection_id": oid})
        row = {
            "objection_id": oid,
            "proposal_id": proposal_id,
            "received_on": received_on,
            "objector": objector,
            "content": content,
            "resolution": "pending",
            "source": "cli",
        }
        with transaction(db_url) as session:
            insert_rows(session, Objection, cycle_id, [row])
            audit(
                session,
                cycle_id,
                objector,
                AuditAction.OBJECTION,
                oid,
                {"proposal_id": proposal_id, "content": content},
                tables=(Objection,),
            )
        write_head(db_url, cycle_id, Path(out_dir))
        return Verdict(record=row)


def resolve_objection(
    db_url: str, cycle_id: str, out_dir: Path, objection_id: str, decision: str, by: str, resolved_on: dt.date, note: str | None
) -> Verdict:
    """An objection recorded with `fund objection`, upheld or dismissed."""
    with cycle_lock(db_url, cycle_id, Path(out_dir)):
        found = next((o for o in load_rows(db_url, Objection, cycle_id) if o["objection_id"] == objection_id), None)
        if found is None or found["source"] != "cli":
            return Verdict(
                field="objection_id", value=objection_id, rule="objection_not_recorded", params={"objection_id": objection_id}
            )
        with transaction(db_url) as session:
            session.execute(
                update(Objection)
                .where(Objection.cycle_id == cycle_id, Objection.objection_id == objection_id)
                .values(resolution=decision, resolved_on=resolved_on, note=note)
            )
            audit(
                session,
                cycle_id,
                by,
                RESOLVED[decision],
                objection_id,
                {"proposal_id": found["proposal_id"], "note": note},
                tables=(Objection,),
            )
        write_head(db_url, cycle_id, Path(out_dir))
        return Verdict(record=found | {"resolution": decision, "resolved_on": resolved_on, "note": note})
