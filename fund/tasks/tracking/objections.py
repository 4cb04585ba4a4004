"""Objections to the public notice (公示异议) and the agreements they hold, cancel or delay."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from fund.schemas.codes import AgreementStatus
from fund.tasks.reading import CsvTable, Problem
from fund.tasks.tracking.files import OBJECTIONS
from fund.tasks.tracking.rows import Verdict, dedupe


def check_objection(
    proposal_id: str, received_on: dt.date, funded: set[str], window: tuple[dt.date, dt.date, dt.date]
) -> Verdict | None:
    """The rules an objection meets, in objections.csv or through `fund objection`: it names a
    project on the notice and was received within the notice period. None: it does."""
    start, end, _ = window
    if proposal_id not in funded:
        return Verdict(field="proposal_id", value=proposal_id, rule="objection_not_funded")
    if not start <= received_on <= end:
        return Verdict(
            field="received_on",
            value=received_on.isoformat(),
            rule="objection_outside_period",
            params={"received": received_on.isoformat(), "start": start.isoformat(), "end": end.isoformat()},
        )
    return None


def validate_objections(
    table: CsvTable | None, funded: set[str], window: tuple[dt.date, dt.date, dt.date], cli_ids: set[str]
) -> tuple[list[dict], list[Problem]]:
    if table is None:
        return [], []
    problems = list(table.problems)
    candidates = []
    for row in table.rows:
        if not row["_ok"]:
            continue
        row = {**row, "_file": table.source_file}
        oid = row["objection_id"]
        broken = check_objection(row["proposal_id"], row["received_on"], funded, window)
        if broken is not None:
            problems.append(Problem(table.source_file, row["_line"], oid, broken.field, broken.value, broken.rule, broken.params))
        elif oid in cli_ids:
            problems.append(
                Problem(
                    table.source_file,
                    row["_line"],
                    oid,
                    "objection_id",
                    oid,
                    "duplicate_objection",
                    {"lines": f"{table.source_file}:{row['_line']}, fund objection"},
                )
            )
        else:
            candidates.append(row)
    kept, dup = dedupe(
        candidates, lambda r: r["objection_id"], "duplicate_objection", "objection_id", lambda r: r["objection_id"]
    )
    rows = [
        {
            "objection_id": r["objection_id"],
            "proposal_id": r["proposal_id"],
            "received_on": r["received_on"],
            "objector": r.get("objector"),
            "content": r["content"],
            "resolution": r.get("resolution") or "pending",
            "resolved_on": r.get("resolved_on"),
            "note": r.get("note"),
            "source": OBJECTIONS,
            "source_row": r["_line"],
        }
        for r in kept
    ]
    return rows, problems + dup


def make_agreements(projects: list[dict], objections: list[dict], signing_day: dt.date, as_of: dt.date) -> list[dict]:
    per_project: dict[str, list[dict]] = defaultdict(list)
    for o in objections:
        per_project[o["proposal_id"]].append(o)
    agreements = []
    for p in sorted(projects, key=lambda p: p["proposal_id"]):
        raised = per_project.get(p["proposal_id"], [])
        resolutions = {o["resolution"] for o in raised}
        signed_on = max([signing_day] + [o["resolved_on"] for o in raised if o.get("resolved_on")])
        if "upheld" in resolutions:
            status, signed_on = AgreementStatus.CANCELLED, None
        elif "pending" in resolutions or signed_on > as_of:
            status, signed_on = AgreementStatus.ON_HOLD, None
        else:
            status = AgreementStatus.SIGNED
        agreements.append(
            {"proposal_id": p["proposal_id"], "amount_fen": p["awarded_fen"], "signed_on": signed_on, "status": status}
        )
    return agreements
