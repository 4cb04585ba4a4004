"""The merit policy: walk the merit order; fund a candidate when it still fits the remaining
budget and its organization has fewer than max_funded_per_org funded, otherwise skip it and
go on.  Priority floors and street coverage do not apply to merit.

score_needed_centi (unfunded only) is exact, from the greedy's own states: the candidate is
funded iff it comes before the last position at which the budget left and its organization's
count still admit it, so it must outrank the candidate standing there.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from fund.tasks.allocation.candidates import Table, funded_by_org, prepare, selection_of
from fund.tasks.allocation.model import MAX_SCORE_CENTI, AllocationRules, Reason, Selection


def merit_select(candidates: pd.DataFrame, rules: AllocationRules) -> Selection:
    started = time.perf_counter()
    table = prepare(candidates)
    run = merit_run(table, rules)
    remaining = rules.budget_fen - run.total
    org_funded = funded_by_org(table, run.funded)
    reasons = {}
    for i, pid in enumerate(table.ids):
        if run.funded[i]:
            reasons[pid] = Reason("funded", i + 1)
            continue
        needed = merit_score_needed(table, rules, run, org_funded[table.orgs[i]], i)
        if run.blocked_by_org[i]:
            earlier = tuple(sorted(table.ids[k] for k in org_funded[table.orgs[i]] if k < i))
            reasons[pid] = Reason("org_limit", i + 1, score_needed_centi=needed, blocking=earlier)
        else:
            reasons[pid] = Reason(
                "budget",
                i + 1,
                remaining_fen=remaining,
                short_fen=table.req[i] - remaining,
                score_needed_centi=needed,
            )
    return selection_of("merit", table, run.funded, "greedy", 0.0, started, reasons)


@dataclass(frozen=True)
class MeritRun:
    funded: list[int]
    blocked_by_org: list[bool]
    remaining_before: list[int]  # budget left before each position (non-increasing)
    total: int


def merit_run(table: Table, rules: AllocationRules) -> MeritRun:
    remaining = rules.budget_fen
    count = defaultdict(int)
    funded = [0] * table.n
    blocked_by_org = [False] * table.n
    remaining_before = []
    for i in range(table.n):
        remaining_before.append(remaining)
        org = table.orgs[i]
        if count[org] >= rules.max_funded_per_org:
            blocked_by_org[i] = True
        elif table.req[i] <= remaining:
            funded[i] = 1
            remaining -= table.req[i]
            count[org] += 1
    return MeritRun(funded, blocked_by_org, remaining_before, rules.budget_fen - remaining)


def merit_score_needed(table: Table, rules: AllocationRules, run: MeritRun, org_positions: list[int], i: int) -> int | None:
    """Smallest score at which merit funds unfunded candidate i (others unchanged).

    i does not change the greedy's state, so placed just before position q it meets the
    state the actual run had there: it is funded iff the budget left then covers it and its
    organization has fewer than the limit funded then.  Both hold on a prefix of positions
    0..Q (budget left only falls, counts only rise), so i must rank before candidate Q.
    """
    req = table.req[i]
    if req > rules.budget_fen or rules.max_funded_per_org == 0:
        return None
    # last position whose remaining budget still covers req (remaining_before is sorted desc)
    lo, hi = 0, i
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if run.remaining_before[mid] >= req:
            lo = mid
        else:
            hi = mid - 1
    last = lo
    if len(org_positions) >= rules.max_funded_per_org:
        last = min(last, org_positions[rules.max_funded_per_org - 1])
    # i must precede candidate `last` in merit order: higher score, or equal score and an
    # earlier (requested_fen, proposal_id).
    score = table.score[last]
    if (table.req[i], table.ids[i]) > (table.req[last], table.ids[last]):
        score += 1
    return score if score <= MAX_SCORE_CENTI else None
