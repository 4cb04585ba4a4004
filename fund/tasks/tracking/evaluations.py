"""Mid-term and final evaluation (中期/结项评估), double again: the third-party score sheet
combined with the beneficiaries' satisfaction from the accepted progress reports."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from fund.schemas.codes import AgreementStatus
from fund.schemas.config import CycleConfig
from fund.tasks.reading import CsvTable, Problem, problem_recorder, readable_rows
from fund.tasks.scoring import round_centi
from fund.tasks.tracking.rows import dedupe
from fund.tasks.tracking.rectification import PHASE_ORDER


def validate_evaluations(
    tables: list[CsvTable], projects: dict[str, dict], agreements: dict[str, dict], known: set[str], as_of: dt.date
) -> tuple[list[dict], set[tuple[str, str]], list[Problem], int]:
    """Returned evaluation sheets: (scored rows, rows left blank, problems, rows read)."""
    problems: list[Problem] = []
    candidates: list[dict] = []
    pending: set[tuple[str, str]] = set()
    rows_in = sum(table.rows_in for table in tables)
    for table, row in readable_rows(tables, problems):
        pid, phase, line = row["proposal_id"], row["phase"], row["_line"]
        score: Decimal | None = row.get("expert_centi")
        date: dt.date | None = row.get("evaluated_on")
        fail = problem_recorder(problems, table.source_file, line, f"{pid}/{phase}")
        project, agreement = projects.get(pid), agreements.get(pid)
        if pid not in known or project is None or agreement is None or agreement["status"] != AgreementStatus.SIGNED:
            fail("proposal_id", pid, "evaluation_not_funded")
        elif score is None and date is None:
            pending.add((pid, phase))
        elif score is None:
            fail("score", "", "required")
        elif date is None:
            fail("evaluated_on", "", "required")
        elif not 0 <= score <= 100:
            fail("score", score, "evaluation_score_out_of_range")
        elif score * 100 != (score * 100).to_integral_value():
            fail("score", score, "evaluation_score_precision")
        elif date > as_of:
            fail("evaluated_on", date, "evaluation_date_future", date=date.isoformat(), as_of=as_of.isoformat())
        elif date < project["start_on"]:
            fail("evaluated_on", date, "evaluation_before_start", date=date.isoformat(), start=project["start_on"].isoformat())
        elif phase == "final" and date < project["end_on"]:
            fail("evaluated_on", date, "final_before_end", date=date.isoformat(), end=project["end_on"].isoformat())
        else:
            candidates.append({**row, "_file": table.source_file, "expert_centi": int(score * 100)})
    kept, dup = dedupe(
        candidates,
        lambda r: (r["proposal_id"], r["phase"]),
        "duplicate_evaluation",
        "phase",
        lambda r: f"{r['proposal_id']}/{r['phase']}",
    )
    scored = {(r["proposal_id"], r["phase"]) for r in kept}
    return kept, pending - scored, problems + dup, rows_in


def satisfaction_until(reports: list[dict], day: dt.date) -> Fraction | None:
    """Mean satisfaction (0–100) of the reports up to `day`, weighted by beneficiaries."""
    rated = [r for r in reports if r["period_end"] <= day and r.get("satisfaction_centi") is not None]
    if not rated:
        return None
    weight = sum(r["beneficiaries"] for r in rated)
    if weight == 0:
        return Fraction(sum(r["satisfaction_centi"] for r in rated), 100 * len(rated))
    return Fraction(sum(r["satisfaction_centi"] * r["beneficiaries"] for r in rated), 100 * weight)


def combine_evaluations(cfg: CycleConfig, sheet_rows: list[dict], progress: list[dict]) -> list[dict]:
    """Expert/third-party score × expert_weight + satisfaction × satisfaction_weight, rounded once."""
    w_expert, w_satisfaction = Fraction(cfg.tracking.expert_weight), Fraction(cfg.tracking.satisfaction_weight)
    mark = int(cfg.tracking.pass_mark * 100)
    reports: dict[str, list[dict]] = defaultdict(list)
    for r in progress:
        reports[r["proposal_id"]].append(r)
    rows = []
    for s in sorted(sheet_rows, key=lambda r: (r["proposal_id"], PHASE_ORDER.index(r["phase"]))):
        satisfaction = satisfaction_until(reports.get(s["proposal_id"], []), s["evaluated_on"])
        if satisfaction is None and w_satisfaction:
            combined, status = None, "waiting_satisfaction"
        else:
            combined = round_centi(Fraction(s["expert_centi"], 100) * w_expert + (satisfaction or 0) * w_satisfaction)
            status = "passed" if combined >= mark else "failed"
        rows.append(
            {
                "proposal_id": s["proposal_id"],
                "phase": s["phase"],
                "evaluator": s.get("evaluator"),
                "expert_centi": s["expert_centi"],
                "evaluated_on": s["evaluated_on"],
                "comment": s.get("comment"),
                "satisfaction_centi": round_centi(satisfaction) if satisfaction is not None else None,
                "combined_centi": combined,
                "status": status,
                "source_file": s["_file"],
                "source_row": s["_line"],
            }
        )
    return rows
