"""Progress reports (进度报告): the periods a project reports on, the rows accepted, and
spending checked against what was disbursed by each period's end."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from fund.schemas.codes import AgreementStatus
from fund.schemas.config import CycleConfig
from fund.tasks.messages import money_cell, yuan
from fund.tasks.reading import CsvTable, Problem, problem_recorder, readable_rows
from fund.tasks.tracking.rows import dedupe


def expected_periods(start: dt.date, end: dt.date, every_days: int) -> list[dt.date]:
    """Period ends of a project: every N days from its start, the last one on its end date."""
    ends, k = [], 1
    while True:
        period_end = start + dt.timedelta(days=every_days * k - 1)
        if period_end >= end:
            ends.append(end)
            return ends
        ends.append(period_end)
        k += 1


def period_checks(
    start: dt.date, end: dt.date, cfg: CycleConfig, as_of: dt.date, reports: list[dict]
) -> tuple[list[tuple], list[tuple], dt.date | None]:
    """(missing, late, next due) for one project: each expected period is covered by a report
    whose period end falls in it; missing when its due date has passed without one; late
    when the covering report was submitted after the due date."""
    grace = dt.timedelta(days=cfg.tracking.report_grace_days)
    ends = expected_periods(start, end, cfg.tracking.report_period_days)
    missing, late, next_due = [], [], None
    previous = start - dt.timedelta(days=1)
    for period_end in ends:
        due = period_end + grace
        covering = [r for r in reports if previous < r["period_end"] <= period_end]
        previous = period_end
        if not covering:
            if due < as_of:
                missing.append((period_end, due))
            elif next_due is None:
                next_due = due
            continue
        submitted = [r["submitted_on"] for r in covering if r.get("submitted_on")]
        if submitted and min(submitted) > due:
            late.append((period_end, due, min(submitted)))
    return missing, late, next_due


def validate_progress(
    tables: list[CsvTable], projects: dict[str, dict], agreements: dict[str, dict], known: set[str], as_of: dt.date
) -> tuple[list[dict], list[Problem], int]:
    """Rows about a signed project, inside its dates, one per (project, period end)."""
    problems: list[Problem] = []
    candidates: list[dict] = []
    rows_in = sum(table.rows_in for table in tables)
    for table, row in readable_rows(tables, problems):
        pid, line, end = row["proposal_id"], row["_line"], row["period_end"]
        fail = problem_recorder(problems, table.source_file, line, f"{pid}/{end.isoformat()}")
        project, agreement = projects.get(pid), agreements.get(pid)
        satisfaction: Decimal | None = row.get("satisfaction_centi")
        if pid not in known:
            fail("proposal_id", pid, "progress_proposal_unknown")
        elif project is None or agreement is None or agreement["status"] == AgreementStatus.CANCELLED:
            fail("proposal_id", pid, "progress_not_funded")
        elif end < project["start_on"]:
            fail("period_end", end, "period_before_start", period_end=end.isoformat(), start=project["start_on"].isoformat())
        elif end > project["end_on"]:
            fail("period_end", end, "period_after_end", period_end=end.isoformat(), end=project["end_on"].isoformat())
        elif end > as_of:
            fail("period_end", end, "period_end_future", period_end=end.isoformat(), as_of=as_of.isoformat())
        elif row.get("submitted_on") and row["submitted_on"] < end:
            fail(
                "submitted_on",
                row["submitted_on"],
                "submitted_before_period_end",
                submitted=row["submitted_on"].isoformat(),
                period_end=end.isoformat(),
            )
        elif satisfaction is not None and not 0 <= satisfaction <= 100:
            fail("satisfaction", satisfaction, "satisfaction_out_of_range")
        elif satisfaction is not None and satisfaction * 100 != (satisfaction * 100).to_integral_value():
            fail("satisfaction", satisfaction, "satisfaction_precision")
        else:
            candidates.append(
                {
                    **row,
                    "_file": table.source_file,
                    "satisfaction_centi": None if satisfaction is None else int(satisfaction * 100),
                }
            )
    kept, dup = dedupe(
        candidates,
        lambda r: (r["proposal_id"], r["period_end"]),
        "duplicate_period",
        "period_end",
        lambda r: f"{r['proposal_id']}/{r['period_end'].isoformat()}",
    )
    return kept, problems + dup, rows_in


def check_spending(progress: list[dict], ledger: list[dict]) -> list[tuple[tuple[str, dt.date], Problem]]:
    """Cumulative spending by each period end may not exceed what was disbursed by then."""
    payments: dict[str, list[dict]] = defaultdict(list)
    for p in ledger:
        payments[p["proposal_id"]].append(p)
    problems = []
    per_project: dict[str, list[dict]] = defaultdict(list)
    for r in progress:
        per_project[r["proposal_id"]].append(r)
    for pid, rows in sorted(per_project.items()):
        spent = 0
        for r in sorted(rows, key=lambda r: r["period_end"]):
            spent += r["spent_fen"]
            disbursed = sum(p["amount_fen"] for p in payments.get(pid, []) if p["paid_on"] <= r["period_end"])
            if spent > disbursed:
                problems.append(
                    (
                        (pid, r["period_end"]),
                        Problem(
                            r["_file"],
                            r["_line"],
                            f"{pid}/{r['period_end'].isoformat()}",
                            "spent",
                            money_cell(r["spent_fen"]),
                            "spent_above_disbursed",
                            {"period_end": r["period_end"].isoformat(), "spent": yuan(spent), "disbursed": yuan(disbursed)},
                        ),
                    )
                )
    return problems
