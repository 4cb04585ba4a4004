"""The optimal policy's solve: from the candidate table to one funded set.

The policy
    Maximize the score-weighted spend sum(requested_fen * score_centi) subject to the
    budget, at most max_funded_per_org funded per credit_code, every priority floor, if
    cover_every_street at least one funded proposal in every street that has a candidate and,
    if cover_urgent, at least one funded proposal answering each urgent need a candidate answers.
    Solved with HiGHS (highspy) to proven optimality unless ``mip_gap`` > 0 or
    ``time_limit_s`` stops it first; the gap reached is reported.  A solver failure, or a
    time limit without a feasible set, raises AllocationSolverError; there is never a silent
    fallback to merit.

How the model is solved
    1. Candidates enter the model in merit order and rows in sorted key order, so the model,
       and therefore HiGHS's deterministic answer, does not depend on the input row order.
    2. The LP relaxation yields Lagrange multipliers, rounded to integers (any non-negative
       multipliers give a valid bound).  In exact integer arithmetic they give an upper bound
       U and reduced costs d_i such that every feasible set x satisfies
           objective(x) <= U - sum(|d_i| for the i where x_i != [d_i > 0]).
    3. A kernel of the KERNEL_SIZE candidates with the smallest |d_i| is solved (to the
       requested gap, at most KERNEL_MAX_NODES nodes) with every other candidate fixed at
       [d_i > 0]; its solution (value z0) is feasible for the whole problem.  If it has none
       the kernel grows x4, up to the whole problem.
    4. Every candidate with |d_i| > U - z0 is fixed at [d_i > 0]: a set that differs there is
       worth strictly less than z0, so no optimal or tied-optimal set is lost.  HiGHS solves
       the remaining core warm-started from the kernel solution; the core's dual bound is a
       bound for the whole problem, so its gap is the true gap.
    Measured (benchmarks/allocation_bench.py): on the full model HiGHS spends its time in
    root heuristics whose cost grows with the number of columns -- some 10,000-candidate
    instances need 25-45 s to reach a 1e-6 gap, the core takes 0.5-3 s -- and proofs at
    2,000 candidates take about a third less time.  Warm starts from merit or greedy sets,
    cardinality columns, penalty-form objectives and option changes on large models gave
    nothing; on models of at most SMALL_MODEL_COLUMNS columns (the score_needed solves)
    switching off feasibility jump and restarts roughly halves the time.

Progress
    ``on_progress(gap, seconds)`` is called from HiGHS's MIP callbacks at most every
    PROGRESS_INTERVAL_S: the relative gap of the best set found so far against the best
    bound known for the whole problem (U during the kernel, the core's bound after it; None
    before a first set), and the seconds since the solve started.  It only reads.

Ties
    1. Determinism: the same candidates in any row order give the same model (see above), and
       HiGHS is deterministic for a given model and options, so they give the same set.
    2. Equal-value exchanges: while a funded candidate i can be exchanged for an unfunded j
       with exactly the same requested_fen * score_centi that ranks higher in merit order,
       keeping every rule, the exchange is made (j scanned in merit order, i from the lowest
       rank up).  The objective is unchanged (integer equality), so a proven optimum stays
       optimal; each exchange lowers the sum of funded ranks, so the pass ends.  Hence of two
       proposals with the same amount and score the higher-ranked one (smaller proposal_id)
       is funded unless a rule (organization, floor, street, urgent need) tells them apart.
    3. Then every unfunded candidate that still fits the remaining budget and its
       organization's limit is added in merit order.  At a proven optimum this can only add
       zero-score candidates (anything else would contradict optimality); after a gap- or
       time-limited solve it can only improve the objective.  So every unfunded candidate is
       blocked by its organization's limit or by the budget.
    A tie that is neither a single exchange nor (3) is settled by (1): a fixed, documented
    procedure rather than a preference.  With time_limit_s the stopping point depends on the
    machine's speed, so only runs that end by their gap are reproducible.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from fund.tasks.allocation.candidates import Table, amounts_by_group, counts
from fund.tasks.allocation.diagnosis import diagnose
from fund.tasks.allocation.mip import Mip, Outcome
from fund.tasks.allocation.model import AllocationRules, AllocationSolverError
from fund.tasks.allocation.rules import rule_groups, rule_model

KERNEL_SIZE = 150
KERNEL_MAX_NODES = 5_000
PROGRESS_INTERVAL_S = 0.5

ProgressHook = Callable[[float | None, float], None]


@dataclass(frozen=True)
class Optimum:
    funded: list[int]
    status: str  # "optimal" | "gap_limit" | "time_limit"
    gap: float
    objective: int


class _Progress:
    """Throttled progress reports of one solve (see "Progress")."""

    def __init__(self, hook: ProgressHook, started: float):
        self.hook, self.started = hook, started
        self.last = float("-inf")

    def watcher(self, global_bound: int | None):
        """A MipWatcher for one HiGHS solve; ``global_bound`` caps the solve's own bound."""

        def watch(best: float | None, bound: float | None) -> None:
            now = time.perf_counter()
            if now - self.last < PROGRESS_INTERVAL_S:
                return
            self.last = now
            if bound is None or (global_bound is not None and global_bound < bound):
                bound = global_bound
            gap = None if best is None or bound is None else max(0.0, bound - best) / max(1.0, abs(best))
            self.hook(gap, now - self.started)

        return watch


def optimize(
    table: Table, rules: AllocationRules, floors: dict[str, int], started: float, on_progress: ProgressHook | None = None
) -> Optimum:
    """Solve the optimal policy; raises AllocationInfeasible / AllocationSolverError."""
    if table.n == 0:
        return Optimum([], "optimal", 0.0, 0)
    mip = rule_model(table, rules, floors, rule_groups(table, rules, floors))
    values = table.values()
    deadline = None if rules.time_limit_s is None else started + rules.time_limit_s
    progress = None if on_progress is None else _Progress(on_progress, started)
    final = _maximize(mip, values, rules.mip_gap, deadline, progress)
    if final.status == "infeasible":
        raise diagnose(table, rules, floors)
    if final.x is None or final.status not in ("optimal", "time_limit"):
        raise AllocationSolverError(final.status)

    funded = _exchange_ties(table, rules, floors, final.x.tolist())
    funded = _fill(table, rules, funded)
    objective = int(values @ np.asarray(funded, dtype=np.int64))
    if final.status == "optimal" and rules.mip_gap == 0:
        gap = 0.0
    else:
        # the objective is integral, so a bound less than one unit above it proves optimality
        absolute = final.bound - objective
        gap = 0.0 if absolute < 1 else absolute / max(1, objective)
    status = "optimal" if gap == 0 else ("gap_limit" if final.status == "optimal" else "time_limit")
    return Optimum(funded, status, gap, objective)


def _time_left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.perf_counter()


def _lagrangian(mip: Mip, values: np.ndarray) -> tuple[int, np.ndarray] | None:
    """Exact bound U and reduced costs d of max values.x over ``mip``.

    For multipliers m (m >= 0 on <= rows, m <= 0 on >= rows) and any feasible 0-1 x:
        values.x = sum_k m_k a_k.x + d.x <= sum_k m_k rhs_k + sum_i max(d_i, 0) = U
    and each i with x_i != [d_i > 0] costs |d_i| of that bound.  Integers only.
    None when the LP relaxation is infeasible.
    """
    multipliers = mip.lp_multipliers(values)
    if multipliers is None:
        return None
    reduced = values.copy()
    bound = 0
    for m, row in zip(multipliers, mip.rows):
        if m:
            reduced[row.cols] -= m * row.coefs
            bound += m * (row.upper if m > 0 else row.lower)
    return bound + int(np.maximum(reduced, 0).sum()), reduced


def _maximize(mip: Mip, values: np.ndarray, gap: float, deadline: float | None, progress: _Progress | None = None) -> Outcome:
    """Maximize values.x over ``mip``; see "How the model is solved"."""
    lagrangian = _lagrangian(mip, values)
    if lagrangian is None:
        return Outcome("infeasible")
    bound, reduced = lagrangian
    rounded = (reduced > 0).astype(np.int64)
    by_cost = np.lexsort((np.arange(reduced.size), np.abs(reduced)))
    fix, start = None, None
    size = KERNEL_SIZE
    while size < reduced.size:
        kernel_fix = rounded.copy()
        kernel_fix[by_cost[:size]] = -1
        kernel = mip.solve(
            values,
            maximize=True,
            fix=kernel_fix,
            gap=gap,
            max_nodes=KERNEL_MAX_NODES,
            time_limit=_time_left(deadline),
            watch=progress and progress.watcher(bound),
        )
        if kernel.x is not None:
            start = kernel.x
            fix = np.where(np.abs(reduced) <= bound - int(values @ kernel.x), -1, rounded)
            break
        if kernel.status == "time_limit":
            return kernel
        size *= 4
    return mip.solve(
        values,
        maximize=True,
        fix=fix,
        gap=gap,
        time_limit=_time_left(deadline),
        start=start,
        watch=progress and progress.watcher(bound),
    )


def _exchange_ties(table: Table, rules: AllocationRules, floors: dict[str, int], funded: list[int]) -> list[int]:
    """Exchange funded candidates for higher-ranked ones of exactly equal value (tie rule 2)."""
    funded = list(funded)
    state = _FundedState(table, funded)
    same_value = defaultdict(list)
    for i in range(table.n):
        same_value[table.req[i] * table.score[i]].append(i)
    changed = True
    while changed:
        changed = False
        for j in range(table.n):
            if funded[j]:
                continue
            for i in reversed(same_value[table.req[j] * table.score[j]]):
                if i <= j:
                    break
                if funded[i] and state.exchangeable(rules, floors, i, j):
                    funded[i], funded[j] = 0, 1
                    state.exchange(i, j)
                    changed = True
                    break
    return funded


class _FundedState:
    """Running totals of a funded set, for the exchanges of tie rule 2."""

    def __init__(self, table: Table, funded: list[int]):
        self.table = table
        self.total = sum(table.req[i] for i in range(table.n) if funded[i])
        self.org_count = counts(table.orgs[i] for i in range(table.n) if funded[i])
        self.street_count = counts(table.streets[i] for i in range(table.n) if funded[i])
        self.need_count = counts(need for i in range(table.n) if funded[i] for need in table.needs[i])
        self.amount = amounts_by_group(table, funded)

    def exchangeable(self, rules: AllocationRules, floors: dict[str, int], i: int, j: int) -> bool:
        """Funding j instead of i keeps every rule."""
        t = self.table
        if self.total - t.req[i] + t.req[j] > rules.budget_fen:
            return False
        if t.orgs[j] != t.orgs[i] and self.org_count.get(t.orgs[j], 0) >= rules.max_funded_per_org:
            return False
        cat = t.cats[i]
        if floors.get(cat, 0) > 0:
            kept = self.amount[cat] - t.req[i] + (t.req[j] if t.cats[j] == cat else 0)
            if kept < floors[cat]:
                return False
        if rules.cover_urgent and any(self.need_count[need] == 1 for need in set(t.needs[i]) - set(t.needs[j])):
            return False
        return not (rules.cover_every_street and t.streets[j] != t.streets[i] and self.street_count[t.streets[i]] == 1)

    def exchange(self, i: int, j: int) -> None:
        t = self.table
        self.total += t.req[j] - t.req[i]
        for counter, key_i, key_j in ((self.org_count, t.orgs[i], t.orgs[j]), (self.street_count, t.streets[i], t.streets[j])):
            counter[key_i] -= 1
            counter[key_j] = counter.get(key_j, 0) + 1
        self.amount[t.cats[i]] -= t.req[i]
        self.amount[t.cats[j]] += t.req[j]
        for need in t.needs[i]:
            self.need_count[need] -= 1
        for need in t.needs[j]:
            self.need_count[need] = self.need_count.get(need, 0) + 1


def _fill(table: Table, rules: AllocationRules, funded: list[int]) -> list[int]:
    """Add, in merit order, every unfunded candidate that still fits (tie rule 3)."""
    funded = list(funded)
    remaining = rules.budget_fen - sum(table.req[i] for i in range(table.n) if funded[i])
    org_count = counts(table.orgs[i] for i in range(table.n) if funded[i])
    for i in range(table.n):
        if not funded[i] and table.req[i] <= remaining and org_count.get(table.orgs[i], 0) < rules.max_funded_per_org:
            funded[i] = 1
            remaining -= table.req[i]
            org_count[table.orgs[i]] = org_count.get(table.orgs[i], 0) + 1
    return funded
