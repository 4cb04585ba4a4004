"""Why each candidate is or is not funded by the optimal policy.

Reasons (one per candidate, keyed by proposal_id, in merit order)
    funded     ``serves``: "floor:<group>" when removing it would break that floor,
               "street:<street>" when it is the only funded proposal of its street,
               "need:<need id>" when it is the only funded proposal answering that urgent
               need (with cover_urgent).
    org_limit  its organization already has max_funded_per_org funded; ``blocking`` names them.
    budget     ``remaining_fen`` = budget left unused by the final selection and
               ``short_fen`` = requested_fen - remaining_fen (> 0).
    score_needed_centi (unfunded only): the smallest score (<= 10000) at which the policy would
    fund the candidate, every other candidate unchanged; None when no score suffices.
    Computed only when there are at most SCORE_NEEDED_MAX_CANDIDATES candidates and the
    optimum is proven (else None).  With V the optimum (which excludes j) and W the best
    value of the other candidates in a feasible set that includes j (one MIP), j is funded at
    score s when W + requested_j * s > V; at equality the tie rule decides, checked by
    re-solving.  The selection is monotone in j's own score, so this threshold is exact; it
    replaces a binary search by one solve per candidate (these run in parallel threads).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fund.tasks.allocation.candidates import Table, amounts_by_group, counts, funded_by_org, merit_key, row_of, table_of
from fund.tasks.allocation.model import MAX_SCORE_CENTI, AllocationRules, AllocationSolverError, Reason
from fund.tasks.allocation.optimal import Optimum, optimize
from fund.tasks.allocation.rules import rule_groups, rule_model

SCORE_NEEDED_MAX_CANDIDATES = 150
SCORE_NEEDED_WORKERS = min(8, os.cpu_count() or 1)


def optimal_reasons(table: Table, rules: AllocationRules, floors: dict[str, int], result: Optimum) -> dict[str, Reason]:
    funded = result.funded
    remaining = rules.budget_fen - sum(table.req[i] for i in range(table.n) if funded[i])
    org_funded = funded_by_org(table, funded)
    street_count = counts(table.streets[i] for i in range(table.n) if funded[i])
    need_count = counts(need for i in range(table.n) if funded[i] for need in table.needs[i])
    amount = amounts_by_group(table, funded)
    needed = {}
    if result.status == "optimal" and table.n <= SCORE_NEEDED_MAX_CANDIDATES:
        needed = _score_needed(table, rules, floors, result)

    reasons = {}
    for i, pid in enumerate(table.ids):
        org, cat, street = table.orgs[i], table.cats[i], table.streets[i]
        if funded[i]:
            serves = []
            if floors.get(cat, 0) > 0 and amount[cat] - table.req[i] < floors[cat]:
                serves.append(f"floor:{cat}")
            if rules.cover_every_street and street_count[street] == 1:
                serves.append(f"street:{street}")
            if rules.cover_urgent:
                serves += [f"need:{need}" for need in table.needs[i] if need_count[need] == 1]
            reasons[pid] = Reason("funded", i + 1, serves=tuple(serves))
        elif len(org_funded[org]) >= rules.max_funded_per_org:
            reasons[pid] = Reason(
                "org_limit",
                i + 1,
                score_needed_centi=needed.get(i),
                blocking=tuple(sorted(table.ids[k] for k in org_funded[org])),
            )
        else:
            reasons[pid] = Reason(
                "budget",
                i + 1,
                remaining_fen=remaining,
                short_fen=table.req[i] - remaining,
                score_needed_centi=needed.get(i),
            )
    return reasons


def _score_needed(table: Table, rules: AllocationRules, floors: dict[str, int], result: Optimum) -> dict[int, int | None]:
    """Exact threshold scores of the unfunded candidates (see the module docstring).

    One independent MIP per candidate, spread over SCORE_NEEDED_WORKERS threads (HiGHS
    releases the GIL); each result is an exact number, so the order does not matter.
    """
    mip = rule_model(table, rules, floors, rule_groups(table, rules, floors))
    values = table.values()

    def needed(j: int) -> int | None:
        fix = np.full(table.n, -1, dtype=np.int64)
        fix[j] = 1
        others = values.copy()
        others[j] = 0
        with_j = mip.solve(others, maximize=True, fix=fix)
        if with_j.status == "infeasible":  # no set with j meets the rules: no score helps
            return None
        if with_j.status != "optimal":
            raise AllocationSolverError(with_j.status)
        threshold, rest = divmod(result.objective - int(others @ with_j.x), table.req[j])
        score = threshold + 1
        if rest == 0 and table.score[j] < threshold <= MAX_SCORE_CENTI and _funded_at_score(table, rules, floors, j, threshold):
            score = threshold
        return score if score <= MAX_SCORE_CENTI else None

    unfunded = [j for j in range(table.n) if not result.funded[j]]
    with ThreadPoolExecutor(SCORE_NEEDED_WORKERS) as pool:
        return dict(zip(unfunded, pool.map(needed, unfunded)))


def _funded_at_score(table: Table, rules: AllocationRules, floors: dict[str, int], j: int, score: int) -> bool:
    rows = [row_of(table, i, score_centi=score) if i == j else row_of(table, i) for i in range(table.n)]
    rows.sort(key=merit_key)
    changed = table_of(rows)
    result = optimize(changed, rules, floors, time.perf_counter())
    return bool(result.funded[changed.ids.index(table.ids[j])])
