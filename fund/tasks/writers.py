"""The contract's output files, rendered from stored rows (CONTRACT.md, OUT_DIR)."""

from __future__ import annotations

import json
from fractions import Fraction
import re
from collections import defaultdict
from pathlib import Path

from fund.schemas.codes import CRITERION_LABELS
from fund.schemas.config import CycleConfig
from fund.tasks.messages import centi_text, money_cell, render
from fund.tasks.outputs import csv_bytes, remove_output, write_csv, write_files, write_text
from fund.tasks.workbooks import sheet_header, sheet_rows, workbook_bytes

REJECTED_HEADER = ["source_file", "source_row", "record_id", "field", "value", "rule", "message"]
ALLOCATION_HEADER = [
    "proposal_id",
    "credit_code",
    "category",
    "street",
    "community",
    "final_score",
    "requested",
    "awarded",
    "status",
    "reason",
    "explanation",
]
SCORES_HEADER = ["proposal_id", "n_reviews", "expert_score", "community_score", "final_score", "status", "bonus"]


def write_rejected(out_dir: Path, rejections: list[dict], lang: str) -> None:
    rows = sorted(rejections, key=lambda r: (r["source_file"], r["source_row"] or 0, r["record_id"], r["field"], r["rule"]))
    write_csv(
        Path(out_dir) / "validation" / "rejected.csv",
        REJECTED_HEADER,
        [
            [
                r["source_file"],
                r["source_row"] or "",
                r["record_id"],
                r["field"],
                r["value"],
                r["rule"],
                render(r["rule"], json.loads(r["params"]), lang),
            ]
            for r in rows
        ],
    )


def sheet_name(reviewer_id: str) -> str:
    """A file name from a reviewer id (ids are validated, but never trust a path from data)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", reviewer_id).lstrip(".") or "reviewer"


def write_review_files(
    out_dir: Path,
    assignments: list[dict],
    proposals: dict[str, dict],
    cfg: CycleConfig,
    reviewers: dict[str, dict] | None = None,
    only: set[str] | None = None,
) -> None:
    """assignments.csv and, per reviewer, a blank sheet with only that reviewer's proposals, as
    CSV and as an Excel workbook: every reviewer's sheet, and sheets of reviewers without
    assignments removed; or, with `only`, just the sheets of those reviewers (the others are
    known to be unchanged)."""
    review_dir = Path(out_dir) / "review"
    rubric = cfg.rubric
    ordered = sorted(assignments, key=lambda a: (a["proposal_id"], a["round"], a["reviewer_id"]))
    write_csv(
        review_dir / "assignments.csv",
        ["proposal_id", "reviewer_id", "round"],
        [[a["proposal_id"], a["reviewer_id"], a["round"]] for a in ordered],
    )
    per_reviewer: dict[str, list[dict]] = defaultdict(list)
    for a in ordered:
        if only is None or a["reviewer_id"] in only:
            per_reviewer[a["reviewer_id"]].append(a)
    sheets = review_dir / "sheets"
    header = sheet_header(rubric)
    files = {}
    for rid, items in sorted(per_reviewer.items()):
        rows = sheet_rows(rid, items, proposals, rubric)
        files[sheets / f"{sheet_name(rid)}.csv"] = csv_bytes(header, rows)
        files[sheets / f"{sheet_name(rid)}.xlsx"] = workbook_bytes(cfg, rid, (reviewers or {}).get(rid), header, rows)
    write_files(files)
    for stale in [*sheets.glob("*.csv"), *sheets.glob("*.xlsx")] if only is None else ():
        if stale not in files:
            remove_output(stale)
    deadline = cfg.review.deadline.isoformat() if cfg.review.deadline else None
    guide = [
        "评分说明 / How to fill in a score sheet",
        "",
        "每位评审专家只收到自己的评分表：review/sheets/<评审编号>.xlsx（Excel/WPS 工作簿，含填写说明）或同名 .csv。",
        "Each reviewer gets only their own sheet: review/sheets/<reviewer_id>.xlsx (an Excel/WPS workbook with "
        "instructions) or the .csv of the same name.",
        "",
    ]
    if deadline or cfg.review.contact:
        guide += [f"交回截止日期 / return by: {deadline or '—'}", f"联系人 / contact: {cfg.review.contact or '—'}", ""]
    guide += ["评分项及满分 / criteria and maximum points:"]
    guide += [f"  {name}（{CRITERION_LABELS.get(name, name)}）: 0–{points}" for name, points in rubric.items()]
    guide += [
        "",
        "分值可为整数或 .5；合计满分 100。Scores are whole or half points; the total is out of 100.",
        "如与申报机构存在利益关系，请在 conflict（利益冲突）列填写“是”（yes），评分列留空；系统将另派专家。",
        "If you have a conflict of interest with the organization, put 是 (yes) under conflict and leave the scores empty.",
        "项目编号至评审编号为参考列，请勿修改；也不要修改表头。",
        "The reference columns (proposal_id to reviewer_id) and the header are not to be changed.",
        "填好后保存为 .xlsx 或 CSV（UTF-8 或 GBK 均可），交回管理员放入 scores/ 文件夹。",
        "Save it as .xlsx or CSV (UTF-8 or GBK) and return it to the administrator, who puts it in the cycle's scores/ folder.",
    ]
    write_text(review_dir / "README.txt", "\n".join(guide) + "\n")


def write_scores(out_dir: Path, evaluations: list[dict]) -> None:
    write_csv(
        Path(out_dir) / "evaluation" / "scores.csv",
        SCORES_HEADER,
        [
            [
                e["proposal_id"],
                e["n_reviews"],
                centi_text(e["expert_centi"]),
                centi_text(e["community_centi"]),
                centi_text(e["final_centi"]),
                e["status"],
                centi_text(e.get("bonus_centi", 0)),
            ]
            for e in sorted(evaluations, key=lambda e: e["proposal_id"])
        ],
    )


def write_allocation(
    out_dir: Path, awards: list[dict], proposals: dict[str, dict], evaluations: dict[str, dict], explanations: dict[str, str]
) -> None:
    rows = []
    for a in sorted(awards, key=lambda a: a["proposal_id"]):
        p = proposals[a["proposal_id"]]
        final = evaluations.get(a["proposal_id"], {}).get("final_centi")
        rows.append(
            [
                a["proposal_id"],
                p.get("credit_code") or "",
                p.get("category") or "",
                p.get("street") or "",
                p.get("community") or "",
                centi_text(final),
                money_cell(p.get("requested_fen")),
                money_cell(a["awarded_fen"]),
                a["status"],
                a["reason"],
                explanations[a["proposal_id"]],
            ]
        )
    write_csv(Path(out_dir) / "allocation" / "allocation.csv", ALLOCATION_HEADER, rows)


def write_comparison(out_dir: Path, comparison: list[dict], cover_urgent: bool = False) -> None:
    """With a needs list (the rows count urgent needs), two more columns: `urgent_needs_covered`
    (covered / answered by a fundable proposal) and `cover_urgent`, whether the policy applies that
    rule: `applied` (optimal), `ignored` (merit never applies it), `off` (the cycle does not ask)."""
    header = [
        "policy",
        "status",
        "optimality_gap",
        "funded_count",
        "amount",
        "unused_budget",
        "score_weighted_spend",
        "floors_met",
        "streets_covered",
    ]
    rows = [
        [
            c.get("policy"),
            c.get("status", "ok"),
            "" if c.get("gap") is None else f"{c['gap']:.2g}",
            c.get("funded_count", ""),
            money_cell(c.get("amount_fen")),
            money_cell(c.get("unused_fen")),
            score_weighted(c.get("objective")),
            c.get("floors_met", ""),
            c.get("streets_covered", ""),
        ]
        for c in comparison
    ]
    if any(c.get("urgent_needs_covered") is not None for c in comparison):
        header += ["urgent_needs_covered", "cover_urgent"]
        for row, c in zip(rows, comparison):
            rule = "off" if not cover_urgent else "applied" if c.get("policy") == "optimal" else "ignored"
            row += [c.get("urgent_needs_covered") or "", rule]
    write_csv(Path(out_dir) / "allocation" / "comparison.csv", header, rows)


def score_weighted(objective: int | None) -> str:
    """Σ requested × final score, in yuan·points with two decimals (objective is fen × centi-points)."""
    if objective is None:
        return ""
    return money_cell((objective + 50) // 100)  # rounded half up to two decimals


QUALITY_HEADER = ["stage", "outcome", "rows_in", "rows_accepted", "rows_rejected", "expectations", "passed", "failed"]
STAGE_ORDER = ["intake", "assignment", "scoring", "allocation", "publication", "tracking", "report"]


def write_quality_summary(out_dir: Path, stage_runs: list[dict]) -> None:
    """quality/summary.csv: per stage, rows in/accepted/rejected and expectations evaluated/passed/failed."""
    rows = []
    for run in sorted(stage_runs, key=lambda r: STAGE_ORDER.index(r["stage"]) if r["stage"] in STAGE_ORDER else 99):
        s = json.loads(run["summary"])
        evaluated, passed = s.get("expectations", 0), s.get("passed", 0)
        rows.append(
            [
                run["stage"],
                run["outcome"],
                s.get("rows_in", ""),
                s.get("rows_accepted", ""),
                s.get("rows_rejected", ""),
                evaluated,
                passed,
                evaluated - passed,
            ]
        )
    write_csv(Path(out_dir) / "quality" / "summary.csv", QUALITY_HEADER, rows)


def write_reviewer_statistics(out_dir: Path, rows: list[dict]) -> None:
    """evaluation/reviewers.csv: severity in points (negative = stricter than co-reviewers)."""

    def points(value: Fraction | None) -> str:
        if value is None:
            return ""
        centi = int((abs(value) * 100 + Fraction(1, 2)) // 1)  # half away from zero
        return centi_text(centi if value >= 0 else -centi)

    write_csv(
        Path(out_dir) / "evaluation" / "reviewers.csv",
        ["reviewer_id", "reviews", "conflicts", "mean_total", "severity", "panel_icc"],
        [
            [
                r["reviewer_id"],
                r["reviews"],
                r["conflicts"],
                centi_text(r["mean_total"]),
                points(r["severity"]),
                "" if r["panel_icc"] is None else f"{r['panel_icc']:.3f}",
            ]
            for r in rows
        ],
    )
