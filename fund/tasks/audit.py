"""The audit trail: an append-only chain of events that also vouches for the data.

- Each event carries the hash of the previous one; with `FUND_AUDIT_KEY` set the hashes are
  HMAC-SHA256 under that key, so the chain cannot be rewritten without it.
- An event that stores data (a stage, a payment, an approval, an objection) carries the
  digest of every table it wrote, and each record's digest is kept (`RecordDigest`), so
  `verify` recomputes them from the database and names the table and the record that
  changed since.
- The head of the chain (number of events, last hash) is also kept outside it, in the
  output folder (`audit/head.json`) and on the public notice as the record's fingerprint,
  so deleting the last events, or all of them, shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel

from fund.schemas.codes import AuditAction
from fund.schemas.tables import AuditEvent, OutputFile, RecordDigest, utc_now
from fund.tasks.outputs import write_text
from fund.tasks.store import engine_for, insert_rows

GENESIS = "0" * 64
HEAD_FILE = Path("audit") / "head.json"


def audit_key() -> bytes | None:
    from fund.settings import load_settings

    key = load_settings().audit_key
    return key.get_secret_value().encode() if key else None


def chain_hash(prev: str, fields: dict, key: bytes | None = None) -> str:
    body = (prev + json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest() if key else hashlib.sha256(body).hexdigest()


def record_key(table: type[SQLModel], row: dict) -> str:
    return "/".join(str(row[c.name]) for c in table.__table__.primary_key.columns if c.name != "cycle_id")


def record_digests(session: Session, cycle_id: str, table: type[SQLModel]) -> dict[str, str]:
    """Each record of the cycle in `table`, as the session sees it now: key → digest."""
    columns = [c.name for c in table.__table__.columns if c.name != "cycle_id"]
    rows = session.execute(select(*(table.__table__.c[c] for c in columns)).where(table.__table__.c.cycle_id == cycle_id))
    found = {}
    for values in rows:
        row = dict(zip(columns, values))
        body = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
        found[record_key(table, row)] = hashlib.sha256(body.encode()).hexdigest()[:32]
    return found


def table_digest(records: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k}\t{v}" for k, v in sorted(records.items())).encode()).hexdigest()


def audit(
    session: Session,
    cycle_id: str,
    actor: str,
    action: AuditAction | str,
    subject: str,
    detail: dict,
    tables: tuple[type[SQLModel], ...] = (),
) -> None:
    """Append one event to the cycle's chain, in the transaction that made the change; with
    `tables`, the digests of those tables as this transaction leaves them go with it. `action`
    is an `AuditAction`, or the stage protocol's `stage:<name>` / `sealed:<name>`."""
    if tables:
        digests = {}
        for table in tables:
            records = record_digests(session, cycle_id, table)
            name = table.__tablename__
            session.execute(delete(RecordDigest).where(RecordDigest.cycle_id == cycle_id, RecordDigest.table_name == name))
            insert_rows(
                session, RecordDigest, cycle_id, [{"table_name": name, "record_key": k, "digest": v} for k, v in records.items()]
            )
            digests[name] = table_digest(records)
        detail = {**detail, "digests": digests}
    last = session.execute(
        select(AuditEvent.hash).where(AuditEvent.cycle_id == cycle_id).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    prev = last or GENESIS
    fields = {
        "cycle_id": cycle_id,
        "at": utc_now(),
        "actor": actor,
        "action": str(action),
        "subject": subject,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str),
    }
    session.add(AuditEvent(**fields, prev_hash=prev, hash=chain_hash(prev, fields, audit_key())))


def load_events(url: str, cycle_id: str) -> list[dict]:
    with Session(engine_for(url)) as session:
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.cycle_id == cycle_id).order_by(AuditEvent.id)).scalars().all()
        )
        return [e.model_dump() for e in events]


def head(url: str, cycle_id: str) -> dict:
    events = load_events(url, cycle_id)
    return {"cycle_id": cycle_id, "events": len(events), "hash": events[-1]["hash"] if events else GENESIS}


def fingerprint(head_: dict) -> str:
    """The head as people can quote it: number of events and the start of the last hash."""
    return f"{head_['events']}-{head_['hash'][:16]}"


def write_head(url: str, cycle_id: str, out_dir: Path) -> dict:
    """Keep the head of the chain outside the database, in the output folder."""
    current = head(url, cycle_id)
    write_text(Path(out_dir) / HEAD_FILE, json.dumps(current, indent=1) + "\n")
    return current


@dataclass(frozen=True)
class Finding:
    kind: str  # chain / truncated / unkeyed / table / record / output
    params: dict


def verify(url: str, cycle_id: str, out_dir: Path | None) -> list[Finding]:
    """Everything that differs from what the chain vouches for (empty: intact)."""
    events = load_events(url, cycle_id)
    findings = verify_chain(events)
    findings += verify_head(events, out_dir)
    with Session(engine_for(url)) as session:
        findings += verify_tables(session, cycle_id, events)
    findings += verify_outputs(url, cycle_id, events)
    return findings


def verify_chain(events: list[dict]) -> list[Finding]:
    key, prev, broken = audit_key(), GENESIS, []
    for e in events:
        fields = {k: e[k] for k in ("cycle_id", "at", "actor", "action", "subject", "detail")}
        if e["prev_hash"] != prev or not hmac.compare_digest(e["hash"], chain_hash(prev, fields, key)):
            broken.append(e["id"])
        prev = e["hash"]
    if not broken:
        return []
    return [Finding("unkeyed" if key and len(broken) == len(events) else "chain", {"ids": broken[:20], "count": len(broken)})]


def verify_head(events: list[dict], out_dir: Path | None) -> list[Finding]:
    if out_dir is None or not (Path(out_dir) / HEAD_FILE).is_file():
        return []
    try:
        kept = json.loads((Path(out_dir) / HEAD_FILE).read_text(encoding="utf-8"))
        count, last = int(kept["events"]), str(kept["hash"])
    except (ValueError, KeyError, TypeError):
        return [Finding("head_unreadable", {"path": str(Path(out_dir) / HEAD_FILE)})]
    if count == 0:
        return []
    if len(events) < count:
        return [Finding("truncated", {"kept": count, "found": len(events)})]
    if events[count - 1]["hash"] != last:
        return [Finding("rewritten", {"kept": count})]
    return []


def verify_tables(session: Session, cycle_id: str, events: list[dict]) -> list[Finding]:
    vouched: dict[str, tuple[str, int]] = {}
    for e in events:
        for name, digest in json.loads(e["detail"]).get("digests", {}).items():
            vouched[name] = (digest, e["id"])
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    findings = []
    for name, (digest, event_id) in sorted(vouched.items()):
        model = next((m for m in SQLModel.__subclasses__() if getattr(m, "__tablename__", None) == name), None)
        if model is None or name not in tables:
            continue
        now = record_digests(session, cycle_id, model)
        if table_digest(now) == digest:
            continue
        kept = dict(
            session.execute(
                select(RecordDigest.record_key, RecordDigest.digest).where(
                    RecordDigest.cycle_id == cycle_id, RecordDigest.table_name == name
                )
            ).all()
        )
        if table_digest(kept) != digest:  # the record digests were rewritten too: only the table can be named
            findings.append(Finding("table", {"table": name, "event": event_id}))
            continue
        changed = sorted(k for k in now.keys() & kept.keys() if now[k] != kept[k])
        added, removed = sorted(now.keys() - kept.keys()), sorted(kept.keys() - now.keys())
        for kind, keys in (("changed", changed), ("added", added), ("removed", removed)):
            if keys:
                findings.append(
                    Finding("record", {"table": name, "event": event_id, "how": kind, "records": keys[:10], "count": len(keys)})
                )
    return findings


def verify_outputs(url: str, cycle_id: str, events: list[dict]) -> list[Finding]:
    """Stored output files whose bytes are not what their stage recorded."""
    vouched: dict[str, str] = {}
    for e in events:
        vouched.update(json.loads(e["detail"]).get("outputs", {}))
    import zlib

    findings = []
    with engine_for(url).connect() as connection:
        for path, content in connection.execute(
            select(OutputFile.path, OutputFile.content).where(OutputFile.cycle_id == cycle_id)
        ):
            expected = vouched.get(path)
            if expected is not None and hashlib.sha256(zlib.decompress(content)).hexdigest() != expected:
                findings.append(Finding("stored_output", {"path": path}))
    return findings


def events_about(events: list[dict], proposal_id: str) -> list[dict]:
    """Every event about one proposal: by subject (`P0001`, `P0001/signing`) or named in its detail."""
    found = []
    for e in events:
        detail = json.loads(e["detail"])
        if e["subject"].split("/")[0] == proposal_id or detail.get("proposal_id") == proposal_id:
            found.append(e)
    return found
