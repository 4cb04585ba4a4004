"""Objections to the public notice (公示异议) and the agreements they hold, cancel or delay."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from fund.schemas.codes import AgreementStatus
from fund.tasks.reading import CsvTable, Problem
from fund.tasks.tracking.files import OBJECTIONS
from fund.tasks.tracking.rows import dedupe


def validate_objections(table: CsvTable | None, funded: set[str], window: tuple[dt.date, dt.date, dt.date],
                        cli_ids: set[str]) -> tuple[list[dict], list[Problem]]:
    if table is None:
        return [], []
    problems = list(table.problems)
    start, end, _ = window
    candidates = []
    for row in table.rows:
        if not row["_ok"]:
            continue
        row = {**row, "_file": table.source_file}
        oid = row["objection_id"]
        if row["proposal_id"] not in funded:
            problems.append(Problem(table.source_file, row["_line"], oid, "proposal_id", row["proposal_id"], "objection_not_funded"))
        elif not start <= row["received_on"] <= end:
            problems.append(Problem(table.source_file, row["_line"], oid, "received_on", row["received_on"].isoformat(),
                                    "objection_outside_period", {"received": row["received_on"].isoformat(),
                                                                 "start": start.isoformat(), "end": end.isoformat()}))
        elif oid in cli_ids:
            problems.append(Problem(table.source_file, row["_line"], oid, "objection_id", oid, "duplicate_objection",
                                    {"lines": f"{table.source_file}:{row['_line']}, fund objection"}))
        else:
            candidates.append(row)
    kept, dup = dedupe(candidates, lambda r: r["objection_id"], "duplicate_objection", "objection_id",
                        lambda r: r["objection_id"])
    rows = [{"objection_id": r["objection_id"], "proposal_id": r["proposal_id"], "received_on": r["received_on"],
             "objector": r.get("objector"), "content": r["content"], "resolution": r.get("resolution") or "pending",
             "resolved_on": r.get("resolved_on"), "note": r.get("note"), "source": OBJECTIONS, "source_row": r["_line"]}
            for r in kept]
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
        agreements.append({"proposal_id": p["proposal_id"], "amount_fen": p["awarded_fen"], "signed_on": signed_on,
                           "status": status})
    return agreements
