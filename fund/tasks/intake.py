"""Intake (征集/申报) and eligibility review (资格审查): organizations, proposals, budget lines.

`validate_intake` is a pure function of the three read files and the config. Every
input row ends either accepted or with at least one Problem; a proposal with any
problem is ineligible (it stays on record, so its applicant gets an explanation).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from fund.schemas.cells import hundredths
from fund.schemas.config import CycleConfig
from fund.schemas.tables import BudgetLine, Organization, PriorIncentive, Proposal, csv_columns
from fund.tasks.messages import money_cell, percent, yuan
from fund.tasks.needs.lists import NEEDS, RESOURCES, proposal_needs, validate_needs, validate_resources
from fund.tasks.reading import CsvTable, Problem, present, read_csv

ORGANIZATIONS, PROPOSALS, BUDGET_LINES = "organizations.csv", "proposals.csv", "budget_lines.csv"
PRIOR_INCENTIVES = "previous_incentives.csv"  # optional: the previous cycle's reports/incentives.csv
MAX_BONUS_CENTI = 2000  # 20 points, as [incentives] allows


@dataclass
class IntakeResult:
    organizations: list[dict]
    proposals: list[dict]  # one per distinct proposal id, with `eligible`
    budget_lines: list[dict]
    problems: list[Problem]
    rows_in: dict[str, int]
    prior_incentives: list[dict] = field(default_factory=list)  # previous cycle's bonuses and bars
    needs: list[dict] = field(default_factory=list)  # the needs list (needs.csv), when given
    resources: list[dict] = field(default_factory=list)  # the resources pledged (resources.csv), when given


def read_intake(cycle_dir: Path) -> tuple[CsvTable, CsvTable, CsvTable]:
    cycle_dir = Path(cycle_dir)
    return (
        read_csv(cycle_dir / ORGANIZATIONS, ORGANIZATIONS, csv_columns(Organization), ("credit_code",)),
        read_csv(cycle_dir / PROPOSALS, PROPOSALS, csv_columns(Proposal), ("proposal_id",)),
        read_csv(cycle_dir / BUDGET_LINES, BUDGET_LINES, csv_columns(BudgetLine), ("proposal_id",)),
    )


def read_prior_incentives(cycle_dir: Path) -> CsvTable | None:
    path = Path(cycle_dir) / PRIOR_INCENTIVES
    if not present(path, PRIOR_INCENTIVES):
        return None
    return read_csv(path, PRIOR_INCENTIVES, csv_columns(PriorIncentive), ("proposal_id",))


def validate_prior_incentives(table: CsvTable | None) -> tuple[list[dict], list[Problem]]:
    """The previous cycle's incentives, one per project: bonus points (0–20, two decimals) and bars."""
    if table is None:
        return [], []
    problems = list(table.problems)
    by_id: dict[str, list[dict]] = defaultdict(list)
    for row in table.rows:
        if row.get("proposal_id"):
            by_id[row["proposal_id"]].append(row)
    records = []
    for pid in sorted(by_id):
        rows = by_id[pid]
        if len(rows) > 1:
            problems += [
                Problem(
                    PRIOR_INCENTIVES, r["_line"], pid, "proposal_id", pid, "duplicate_prior_incentive", {"lines": _lines(rows)}
                )
                for r in rows
            ]
            continue
        row = rows[0]
        if not row["_ok"]:
            continue
        bonus = hundredths(row["bonus_centi"] or Decimal(0))
        if bonus is None or not 0 <= bonus <= MAX_BONUS_CENTI:
            problems.append(
                Problem(
                    PRIOR_INCENTIVES,
                    row["_line"],
                    pid,
                    "next_cycle_bonus",
                    str(row["bonus_centi"]),
                    "bonus_invalid",
                    {"max": MAX_BONUS_CENTI // 100},
                )
            )
            continue
        records.append(
            {
                "proposal_id": pid,
                "credit_code": row["credit_code"],
                "bonus_centi": bonus,
                "barred": bool(row["barred"]),
                "source_row": row["_line"],
            }
        )
    return records, problems


def bonus_by_organization(prior: list[dict]) -> dict[str, int]:
    """Bonus points (hundredths) per credit code: the largest of its previous projects'."""
    bonus: dict[str, int] = {}
    for record in prior:
        if record["bonus_centi"] and not record["barred"]:
            bonus[record["credit_code"]] = max(bonus.get(record["credit_code"], 0), record["bonus_centi"])
    return bonus


def _lines(rows: list[dict]) -> str:
    return ", ".join(str(r["_line"]) for r in rows)


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def validate_organizations(table: CsvTable) -> tuple[dict[str, dict], dict[str, int], list[Problem]]:
    """Accepted organizations by credit code; codes whose record is invalid → its line."""
    problems: list[Problem] = []
    invalid: dict[str, int] = {}
    by_code: dict[str, list[dict]] = defaultdict(list)
    for row in table.rows:
        if row["_ok"]:
            by_code[row["credit_code"]].append(row)
        elif row.get("credit_code"):
            invalid.setdefault(row["credit_code"], row["_line"])
    accepted: dict[str, dict] = {}
    for code, rows in by_code.items():
        if code in invalid:
            for row in rows:
                problems.append(
                    Problem(
                        ORGANIZATIONS,
                        row["_line"],
                        code,
                        "credit_code",
                        code,
                        "duplicate_organization",
                        {"lines": f"{invalid[code]}, {_lines(rows)}"},
                    )
                )
            continue
        first = rows[0]
        if all(_public(r) == _public(first) for r in rows[1:]):
            accepted[code] = first
            for row in rows[1:]:
                problems.append(
                    Problem(
                        ORGANIZATIONS, row["_line"], code, "credit_code", code, "duplicate_identical", {"first": first["_line"]}
                    )
                )
        else:
            invalid[code] = first["_line"]
            for row in rows:
                problems.append(
                    Problem(
                        ORGANIZATIONS, row["_line"], code, "credit_code", code, "duplicate_organization", {"lines": _lines(rows)}
                    )
                )
    return accepted, invalid, problems


def validate_intake(
    cfg: CycleConfig,
    orgs: CsvTable,
    proposals: CsvTable,
    lines: CsvTable,
    prior_table: CsvTable | None = None,
    needs_table: CsvTable | None = None,
    resources_table: CsvTable | None = None,
) -> IntakeResult:
    rules, cycle = cfg.rules, cfg.cycle
    problems: list[Problem] = list(orgs.problems) + list(proposals.problems) + list(lines.problems)
    needs, need_problems = validate_needs(needs_table)
    problems += need_problems
    organizations, invalid_orgs, org_problems = validate_organizations(orgs)
    problems += org_problems
    prior, prior_problems = validate_prior_incentives(prior_table)
    problems += prior_problems
    barred_by = {}
    for record in prior:
        if record["barred"]:
            barred_by.setdefault(record["credit_code"], record["proposal_id"])

    by_id: dict[str, list[dict]] = defaultdict(list)
    for row in proposals.rows:
        if row.get("proposal_id"):
            by_id[row["proposal_id"]].append(row)

    # per-organization limit counts distinct submitted ids, whatever else is wrong with them
    ids_per_org: dict[str, set[str]] = defaultdict(set)
    for pid, rows in by_id.items():
        for row in rows:
            if row.get("credit_code"):
                ids_per_org[row["credit_code"]].add(pid)

    line_rows: dict[str, list[dict]] = defaultdict(list)
    bad_lines: dict[str, int] = defaultdict(int)
    for row in lines.rows:
        if row["_ok"]:
            line_rows[row["proposal_id"]].append(row)
        elif row.get("proposal_id"):
            bad_lines[row["proposal_id"]] += 1
    for pid, rows in line_rows.items():
        if pid not in by_id:
            for row in rows:
                problems.append(Problem(BUDGET_LINES, row["_line"], pid, "proposal_id", pid, "budget_line_unknown_proposal"))
    latest_registration = cycle.opens - dt.timedelta(days=rules.min_org_age_days)
    min_fen, max_fen = int(rules.min_request * 100), int(rules.max_request * 100)

    records: list[dict] = []
    proposal_columns = csv_columns(Proposal)
    for pid in sorted(by_id):
        rows = by_id[pid]
        row = rows[0]
        found: list[Problem] = []
        need_ids = row.get("need_ids")

        def fail(field: str, value, rule: str, **params) -> None:
            found.append(Problem(PROPOSALS, row["_line"], pid, field, "" if value is None else str(value), rule, params))

        if len(rows) > 1:
            for copy in rows:
                problems.append(
                    Problem(PROPOSALS, copy["_line"], pid, "proposal_id", pid, "duplicate_proposal_id", {"lines": _lines(rows)})
                )
        elif row["_ok"]:
            code = row["credit_code"]
            org = organizations.get(code)
            if org is None:
                if code in invalid_orgs:
                    fail("credit_code", code, "org_invalid", line=invalid_orgs[code])
                else:
                    fail("credit_code", code, "org_unknown")
            else:
                if org["inspection"] == "failed":
                    fail("credit_code", code, "org_inspection_failed")
                if org["registered_on"] > latest_registration:
                    fail(
                        "credit_code",
                        code,
                        "org_too_young",
                        registered=org["registered_on"].isoformat(),
                        latest=latest_registration.isoformat(),
                        days=rules.min_org_age_days,
                    )
            if code in barred_by:
                fail("credit_code", code, "org_barred", project=barred_by[code])
            if len(ids_per_org[code]) > rules.max_proposals_per_org:
                fail("credit_code", code, "org_proposal_limit", count=len(ids_per_org[code]), limit=rules.max_proposals_per_org)
            requested = row["requested_fen"]
            if requested < min_fen:
                fail("requested", money_cell(requested), "request_below_min", amount=yuan(requested), limit=yuan(min_fen))
            if requested > max_fen:
                fail("requested", money_cell(requested), "request_above_max", amount=yuan(requested), limit=yuan(max_fen))
            budget = line_rows.get(pid, [])
            if not budget and not bad_lines.get(pid):
                fail("requested", money_cell(requested), "budget_lines_missing")
            else:
                total = sum(b["amount_fen"] for b in budget)
                if bad_lines.get(pid):
                    fail("requested", money_cell(requested), "budget_lines_invalid", count=bad_lines[pid])
                if total != requested:
                    fail("requested", money_cell(requested), "budget_sum_mismatch", total=yuan(total), amount=yuan(requested))
                admin = sum(b["amount_fen"] for b in budget if b["kind"] == "admin")
                if requested and Decimal(admin) > rules.max_admin_share * requested:
                    fail(
                        "requested",
                        money_cell(requested),
                        "admin_share",
                        admin=yuan(admin),
                        share=percent(Decimal(admin) / requested),
                        limit=percent(rules.max_admin_share),
                    )
            if row["start_on"] > row["end_on"]:
                fail("start_on", row["start_on"], "dates_order", start=row["start_on"], end=row["end_on"])
            if row["start_on"] < cycle.opens:
                fail("start_on", row["start_on"], "start_before_open", start=row["start_on"], opens=cycle.opens)
            if row["end_on"] > cycle.closes:
                fail("end_on", row["end_on"], "end_after_close", end=row["end_on"], closes=cycle.closes)
            if cycle.submission_deadline and row.get("submitted_on") and row["submitted_on"] > cycle.submission_deadline:
                fail(
                    "submitted_on",
                    row["submitted_on"],
                    "submitted_late",
                    submitted=row["submitted_on"],
                    deadline=cycle.submission_deadline,
                )
            need_ids, named = proposal_needs(row.get("need_ids"), row["street"], needs, cfg.needs.require_need)
            for field_name, value, rule, params in named:
                fail(field_name, value, rule, **params)
        problems += found
        eligible = len(rows) == 1 and row["_ok"] and not found
        record = {c.attr: row.get(c.attr) for c in proposal_columns}
        record.update(source_row=row["_line"], eligible=eligible, need_ids=need_ids)
        records.append(record)

    accepted_orgs = [{**_public(r), "source_row": r["_line"]} for r in organizations.values()]
    budget_lines = [{**_public(r), "source_row": r["_line"]} for pid in sorted(line_rows) if pid in by_id for r in line_rows[pid]]
    for line_id, record in enumerate(budget_lines, start=1):
        record["line_id"] = line_id
    rows_in = {ORGANIZATIONS: orgs.rows_in, PROPOSALS: proposals.rows_in, BUDGET_LINES: lines.rows_in}
    if prior_table is not None:
        rows_in[PRIOR_INCENTIVES] = prior_table.rows_in
    resources, resource_problems = validate_resources(resources_table, needs, set(by_id))
    problems += resource_problems
    for name, table in ((NEEDS, needs_table), (RESOURCES, resources_table)):
        if table is not None:
            rows_in[name] = table.rows_in
    return IntakeResult(accepted_orgs, records, budget_lines, problems, rows_in, prior, needs.records(), resources)
