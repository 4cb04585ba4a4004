"""The independent checker: every rule recomputed from the candidate table and the funded ids
alone, sharing no code with the selection (the optimal result is re-checked with it before it
is returned, and again before publication)."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_CEILING, localcontext
from typing import Iterable

import pandas as pd

from fund.tasks.allocation.candidates import plain_rows
from fund.tasks.allocation.model import AllocationRules


def objective_of(candidates: pd.DataFrame, funded_ids: Iterable[str]) -> int:
    """Exact score-weighted spend sum(requested_fen * score_centi) of ``funded_ids``."""
    rows = plain_rows(candidates)
    total = 0
    for pid in set(funded_ids):
        if pid not in rows:
            raise KeyError(f"unknown proposal id: {pid}")
        total += rows[pid]["requested_fen"] * rows[pid]["score_centi"]
    return total


def check_allocation(candidates: pd.DataFrame, funded_ids: Iterable[str], rules: AllocationRules, policy: str) -> list[str]:
    """Recompute every rule from the candidate table and the funded ids alone.

    Returns human-readable violation descriptions; an empty list means the allocation is
    valid for ``policy``.
    """
    if policy not in ("merit", "optimal"):
        raise ValueError(f"unknown policy {policy!r}")
    rows = plain_rows(candidates)
    funded_list = list(funded_ids)
    problems = []
    seen = set()
    for pid in funded_list:
        if pid in seen:
            problems.append(f"duplicate: {pid} is funded twice")
        seen.add(pid)
        if pid not in rows:
            problems.append(f"unknown: {pid} is not a fundable candidate")
    funded = [rows[pid] for pid in sorted(seen) if pid in rows]

    awarded = sum(row["requested_fen"] for row in funded)
    if awarded > rules.budget_fen:
        problems.append(f"budget: awarded {awarded} fen exceeds the budget of {rules.budget_fen} fen")

    per_org = defaultdict(list)
    for row in funded:
        per_org[row["credit_code"]].append(row["proposal_id"])
    for org, pids in sorted(per_org.items()):
        if len(pids) > rules.max_funded_per_org:
            problems.append(f"org_limit: {org} has {len(pids)} funded ({', '.join(pids)}), limit {rules.max_funded_per_org}")
    if policy == "optimal":
        problems += _optimal_rule_problems(rows, funded, rules)
    else:
        problems += _merit_order_problems(rows, seen, rules)
    return problems


def _optimal_rule_problems(rows: dict[str, dict], funded: list[dict], rules: AllocationRules) -> list[str]:
    problems = []
    totals = defaultdict(int)
    amounts = defaultdict(int)
    for row in rows.values():
        totals[row["category"]] += row["requested_fen"]
    for row in funded:
        amounts[row["category"]] += row["requested_fen"]
    with localcontext() as ctx:
        ctx.prec = 80
        for group, share in rules.priority_shares.items():
            need = min(int((share * rules.budget_fen).to_integral_value(ROUND_CEILING)), totals[group])
            if amounts[group] < need:
                problems.append(f"floor:{group}: funded {amounts[group]} fen, needs {need} fen")
    if rules.cover_every_street:
        covered = {row["street"] for row in funded}
        for street in sorted({row["street"] for row in rows.values()} - covered):
            problems.append(f"street:{street}: no funded proposal")
    if rules.cover_urgent:
        answered = {need for row in funded for need in row["needs"]}
        for need in sorted({need for row in rows.values() for need in row["needs"]} - answered):
            problems.append(f"need:{need}: no funded proposal answers this urgent need")
    return problems


def _merit_order_problems(rows: dict[str, dict], seen: set[str], rules: AllocationRules) -> list[str]:
    problems = []
    expected = set()
    remaining = rules.budget_fen
    count = defaultdict(int)
    order = sorted(rows.values(), key=lambda r: (-r["score_centi"], r["requested_fen"], r["proposal_id"]))
    for row in order:
        if count[row["credit_code"]] < rules.max_funded_per_org and row["requested_fen"] <= remaining:
            expected.add(row["proposal_id"])
            remaining -= row["requested_fen"]
            count[row["credit_code"]] += 1
    for pid in sorted(expected - seen):
        problems.append(f"merit: {pid} is next in merit order and fits, but is not funded")
    for pid in sorted((seen & rows.keys()) - expected):
        problems.append(f"merit: {pid} is funded out of merit order")
    return problems
