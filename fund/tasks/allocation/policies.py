"""The optimal policy's entry point, the floors it enforces, and both policies side by side."""

from __future__ import annotations

import time

import pandas as pd

from fund.tasks.allocation.candidates import Table, amounts_by_group, floors, prepare, selection_of
from fund.tasks.allocation.check import check_allocation
from fund.tasks.allocation.merit import merit_select
from fund.tasks.allocation.model import NEEDS, AllocationInfeasible, AllocationRules, AllocationSolverError, Selection
from fund.tasks.allocation.optimal import ProgressHook, optimize
from fund.tasks.allocation.reasons import optimal_reasons


def optimal_select(candidates: pd.DataFrame, rules: AllocationRules, *, on_progress: ProgressHook | None = None) -> Selection:
    """The optimal policy's funded set with a reason for every candidate.

    ``on_progress(gap, seconds)``, if given, is called during the solve at most twice a
    second (see "Progress" in the ``optimal`` module); it never changes the result.
    """
    started = time.perf_counter()
    table = prepare(candidates)
    group_floors = floors(table, rules)
    result = optimize(table, rules, group_floors, started, on_progress)
    funded = result.funded
    problems = check_allocation(candidates, [table.ids[i] for i in range(table.n) if funded[i]], rules, "optimal")
    if problems:
        raise AllocationSolverError("numerical_violation")
    reasons = optimal_reasons(table, rules, group_floors, result)
    return selection_of("optimal", table, funded, result.status, result.gap, started, reasons)


def priority_floors(candidates: pd.DataFrame, rules: AllocationRules) -> dict[str, int]:
    """floor_g in fen for every group of ``rules.priority_shares``."""
    return floors(prepare(candidates), rules)


def compare(
    candidates: pd.DataFrame, rules: AllocationRules, *, merit: Selection | None = None, optimal: Selection | None = None
) -> list[dict]:
    """Rows of a side-by-side table of both policies (pass selections already computed).

    An infeasible optimal policy gives a row with status "infeasible", the conflicting rules
    and None in the numeric columns instead of raising. ``urgent_needs_covered`` ("covered/all")
    is given when the candidates carry their urgent needs (a ``needs`` column), else None; the
    merit policy never applies the urgent-needs rule, so its count only says what merit left.
    """
    table = prepare(candidates)
    group_floors = floors(table, rules)
    with_needs = NEEDS in candidates.columns
    rows = [_summary(table, rules, group_floors, merit or merit_select(candidates, rules), with_needs)]
    if optimal is None:
        try:
            optimal = optimal_select(candidates, rules)
        except AllocationInfeasible as exc:
            rows.append(
                {
                    "policy": "optimal",
                    "status": "infeasible",
                    "funded_count": None,
                    "amount_fen": None,
                    "unused_fen": None,
                    "objective": None,
                    "gap": None,
                    "floors_met": None,
                    "streets_covered": None,
                    "urgent_needs_covered": None,
                    "conflicts": exc.rules,
                }
            )
            return rows
    rows.append(_summary(table, rules, group_floors, optimal, with_needs))
    return rows


def _summary(
    table: Table, rules: AllocationRules, group_floors: dict[str, int], selection: Selection, with_needs: bool = False
) -> dict:
    index = {pid: i for i, pid in enumerate(table.ids)}
    chosen = [index[pid] for pid in selection.funded]
    funded = [0] * table.n
    for i in chosen:
        funded[i] = 1
    amounts = amounts_by_group(table, funded)
    met = sum(1 for group, need in group_floors.items() if amounts[group] >= need)
    covered = {table.streets[i] for i in chosen}
    urgent = {need for answered in table.needs for need in answered}
    answered = {need for i in chosen for need in table.needs[i]}
    return {
        "policy": selection.policy,
        "status": selection.solver_status,
        "funded_count": len(chosen),
        "amount_fen": selection.total_fen,
        "unused_fen": rules.budget_fen - selection.total_fen,
        "objective": selection.objective,
        "gap": selection.gap,
        "floors_met": f"{met}/{len(group_floors)}",
        "streets_covered": f"{len(covered)}/{len(set(table.streets))}",
        "urgent_needs_covered": f"{len(answered)}/{len(urgent)}" if with_needs else None,
        "conflicts": (),
    }
