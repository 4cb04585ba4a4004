"""The cycle's table artifacts in the Prefect UI (Artifacts tab, and each run's page).

After a run of the cycle, for what that run actually did:
- `allocation-summary-<cycle>`: the allocation's figures (policy, funded, total, budget, unused);
- `rejected-<stage>-<cycle>`: a stage's rejected rows (the first 200; the description gives the count);
- `quality-<cycle>`: quality/summary.csv (per stage: rows in, accepted, rejected, expectations);
- `reviewers-<cycle>`: evaluation/reviewers.csv (reviews, conflicts, mean total, severity).

Keys come from the cycle id (`cycle_key`), never from a folder name. A stage that was skipped
as unchanged publishes nothing, so the latest version of each key keeps the last real figures.
Amounts are text in yuan from integer fen, never floats.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fund.flows.stage import StageOutcome, artifact_key
from fund.schemas.codes import Outcome
from fund.schemas.tables import Award, Rejection, StageRun
from fund.tasks.messages import money_cell, render, sentence
from fund.tasks.store import load_rows

REJECTED_SHOWN = 200


def cycle_key(kind: str, cycle_id: str) -> str:
    return f"{kind}-{artifact_key(cycle_id)}"


def read_csv(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError:
        return []


def allocation_summary(db_url: str, cycle_id: str, lang: str) -> list[dict]:
    summary = next((json.loads(r["summary"]) for r in load_rows(db_url, StageRun, cycle_id) if r["stage"] == "allocation"), {})
    awards = load_rows(db_url, Award, cycle_id, ("proposal_id",))
    funded = [a for a in awards if a["status"] == "funded"]
    total = sum(a["awarded_fen"] for a in funded)
    budget = summary.get("budget_fen", 0)
    rows = [
        ("policy", "分配方式", summary.get("policy", "")),
        ("applicants", "申报项目", len(awards)),
        ("funded", "资助项目", len(funded)),
        ("awarded", "资助总额（元）", money_cell(total)),
        ("budget", "预算（元）", money_cell(budget)),
        ("unused", "结余（元）", money_cell(budget - total)),
        ("solver", "求解状态", summary.get("solver_status", "")),
    ]
    return [
        {("item" if lang == "en" else "项目"): en if lang == "en" else zh, ("value" if lang == "en" else "数值"): str(v)}
        for en, zh, v in rows
    ]


def rejected_rows(db_url: str, cycle_id: str, stage: str, lang: str) -> tuple[list[dict], int]:
    rows = load_rows(db_url, Rejection, cycle_id, ("stage", "id"))
    rows = [r for r in rows if r["stage"] == stage]
    shown = [
        {
            "file": r["source_file"],
            "line": r["source_row"] or "",
            "record": r["record_id"],
            "field": r["field"],
            "rule": r["rule"],
            "message": render(r["rule"], json.loads(r["params"] or "{}"), lang),
        }
        for r in rows[:REJECTED_SHOWN]
    ]
    return shown, len(rows)


def publish(cycle_id: str, out_dir: str, db_url: str, results: list[StageOutcome], lang: str) -> list[str]:
    """Create this run's table artifacts; returns their keys."""
    from prefect.artifacts import create_table_artifact

    ran = {r.stage for r in results if r.outcome == Outcome.DONE}
    keys = []

    def table(kind: str, rows: list[dict], description: str) -> None:
        key = cycle_key(kind, cycle_id)
        create_table_artifact(table=rows, key=key, description=description)
        keys.append(key)

    if "allocation" in ran:
        table("allocation-summary", allocation_summary(db_url, cycle_id, lang), sentence("allocation_cycle", lang, c=cycle_id))
    for stage in ("intake", "scoring"):
        if stage in ran:
            rows, count = rejected_rows(db_url, cycle_id, stage, lang)
            table(
                f"rejected-{stage}",
                rows,
                sentence("rejected_rows_cycle_all", lang, c=cycle_id, s=stage, n=count, k=min(count, REJECTED_SHOWN)),
            )
    if ran:
        table(
            "quality", read_csv(Path(out_dir) / "quality" / "summary.csv"), sentence("data_quality_checks_each", lang, c=cycle_id)
        )
    if "scoring" in ran:
        table(
            "reviewers",
            read_csv(Path(out_dir) / "evaluation" / "reviewers.csv"),
            sentence("reviewer_statistics_cycle_negative", lang, c=cycle_id),
        )
    return keys
