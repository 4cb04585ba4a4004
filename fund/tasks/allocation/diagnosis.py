"""Infeasibility (optimal policy): which rules really conflict, and the least change of each.

Irreducible conflicting sets
    The rule groups ("budget", "org_limit", "floor:<group>", "cover_every_street",
    "cover_urgent") are
    tested with the MIP as the oracle (HiGHS's own IIS is for LPs; these conflicts are about
    whole proposals, so only the integer model can decide them).  A set of groups is an
    irreducible conflict when its rules cannot all hold but dropping any one of them lets the
    rest hold.  One is found by a deletion filter; every other one must leave out a member
    of it, so the search continues on the groups without each member in turn (subsets
    already decided are not solved again).  This finds all of them: an administrator who
    fixed only the first would meet the next one on the following run.  A group whose
    answer is not decided in time stays in its set, so every reported set is proven to
    conflict (minimal whenever every solve was decided).

Figures of each rule, measured against the other members of its set
    budget              needed_fen = least spend meeting them, available_fen = the budget
    floor:<group>       needed_fen = the floor; beside the budget own_fen = least spend
                        reaching the floor with whole proposals, else available_fen = most
                        the others allow in the group
    cover_every_street  own_fen = sum of each street's smallest request, street_count; when
                        the budget is not in the set, streets = those left uncovered by a set
                        covering as many streets as the others allow
    cover_urgent        need_count = urgent needs a candidate answers; beside the budget
                        own_fen = least spend answering every one (a set cover: one proposal may
                        answer several); otherwise needs = those left uncovered by a set
                        covering as many as the others allow
    org_limit           limit = max_funded_per_org
    A least spend not proven to the fen is the proven lower bound and a most the proven
    upper bound (see the ``probes`` module), so "at least" and "at most" stay true.

Changes
    A change of one rule can settle the conflict only if that rule belongs to every set (a
    set without it still conflicts); the others are listed in ``not_alone`` without a solve.
    For a rule in every set, ``relaxations.least_change`` computes its smallest change.
"""

from __future__ import annotations

from typing import Callable, Sequence

from fund.tasks.allocation.candidates import Table
from fund.tasks.allocation.model import CATEGORIES, AllocationInfeasible, AllocationRules, Conflict
from fund.tasks.allocation.candidates import needs_index
from fund.tasks.allocation.probes import (
    OPTIMAL,
    Feasibility,
    Probe,
    best,
    best_coverage,
    cheapest_cover,
    cheapest_urgent_cover,
    group_cost,
    largest_cheapest_answer,
)
from fund.tasks.allocation.relaxations import NOT_ALONE, least_change
from fund.tasks.allocation.rules import BUDGET, COVERAGE, ORG_LIMIT, URGENT, floor_group, rule_groups

Oracle = Callable[[Sequence[str]], "bool | None"]


def diagnose(table: Table, rules: AllocationRules, floors: dict[str, int]) -> AllocationInfeasible:
    """Explain why the optimal policy's rules cannot all hold (the full model is infeasible)."""
    groups = sorted(rule_groups(table, rules, floors), key=_reporting_order)
    feasible = Feasibility(table, rules, floors)
    feasible.known[frozenset(groups)] = False  # the caller's solve proved it
    sets = irreducible_sets(groups, feasible)
    conflict_sets = [_set_figures(table, rules, floors, s) for s in sets]
    relaxations, not_alone = [], []
    for rule in [g for g in groups if any(g in s for s in sets)]:
        change = least_change(table, rules, floors, groups, rule) if all(rule in s for s in sets) else NOT_ALONE
        if change == NOT_ALONE:
            not_alone.append(rule)
        elif change is not None:
            relaxations.append(change)
    return AllocationInfeasible(conflict_sets, relaxations, not_alone)


def _reporting_order(rule: str) -> tuple[int, int]:
    """budget, org_limit, the floors in the vocabulary's order (为老, 为小, 为残, 为困), street
    coverage, urgent needs coverage."""
    group = floor_group(rule)
    if group is not None:
        return 2, CATEGORIES.index(group)
    return {BUDGET: 0, ORG_LIMIT: 1, COVERAGE: 3}.get(rule, 4), 0


def irreducible_sets(groups: Sequence[str], feasible: Oracle) -> list[tuple[str, ...]]:
    """Every irreducible conflicting subset of ``groups`` (see the module docstring), the
    smallest first, each in the order of ``groups``."""
    found: list[tuple[str, ...]] = []
    explored: set[frozenset[str]] = set()

    def explore(left_out: frozenset[str]) -> None:
        if left_out in explored:
            return
        explored.add(left_out)
        rest = [g for g in groups if g not in left_out]
        conflict = next((s for s in found if set(s) <= set(rest)), None)
        if conflict is None:
            if feasible(rest) is not False:
                return
            conflict = _deletion_filter(rest, feasible)
            found.append(conflict)
        for rule in conflict:
            explore(left_out | {rule})

    explore(frozenset())
    return sorted(found, key=lambda s: (len(s), [groups.index(g) for g in s]))


def _deletion_filter(groups: list[str], feasible: Oracle) -> tuple[str, ...]:
    """An irreducible conflicting subset of ``groups`` (which conflict): drop each group in
    turn and keep it dropped while the rest still conflicts."""
    order = (
        [g for g in groups if g in (ORG_LIMIT, COVERAGE, URGENT)]
        + [g for g in groups if floor_group(g)]
        + [g for g in groups if g == BUDGET]
    )
    conflicting = list(groups)
    for rule in order:
        trial = [g for g in conflicting if g != rule]
        if feasible(trial) is False:
            conflicting = trial
    return tuple(conflicting)


def _set_figures(table: Table, rules: AllocationRules, floors: dict[str, int], group: tuple[str, ...]) -> tuple[Conflict, ...]:
    """Each rule's figures against the others of its conflicting set, the budget's last: the
    floors' own costs add up to a lower bound of the spend they need together."""
    figures = {rule: _figures(table, rules, floors, rule, [g for g in group if g != rule]) for rule in group if rule != BUDGET}
    if BUDGET in group:
        others = [g for g in group if g != BUDGET]
        spend = best(table, rules, floors, others, table.req, maximize=False)
        counted = sum(figures[g].own_fen or floors[floor_group(g)] for g in others if floor_group(g))
        if COVERAGE in others:
            counted = max(counted, cheapest_cover(table))
        if URGENT in others:
            counted = max(counted, figures[URGENT].own_fen or 0)
        figures[BUDGET] = Conflict(BUDGET, needed_fen=_at_least(spend, counted), available_fen=rules.budget_fen)
    return tuple(figures[rule] for rule in group)


def _figures(table: Table, rules: AllocationRules, floors: dict[str, int], rule: str, others: list[str]) -> Conflict:
    """``rule``'s figures against the ``others`` of its conflicting set (module docstring)."""
    if rule == ORG_LIMIT:
        return Conflict(rule, limit=rules.max_funded_per_org)
    if rule == COVERAGE:
        uncovered = None
        if BUDGET not in others:
            probe, uncovered = best_coverage(table, rules, floors, others)
            uncovered = uncovered if probe.status == OPTIMAL else None
        return Conflict(rule, streets=uncovered or (), own_fen=cheapest_cover(table), street_count=len(set(table.streets)))
    if rule == URGENT:
        count = len(needs_index(table))
        if BUDGET in others:
            own = _at_least(cheapest_urgent_cover(table, rules, floors), largest_cheapest_answer(table))
            return Conflict(rule, own_fen=own, need_count=count)
        probe, uncovered = best_coverage(table, rules, floors, others, URGENT)
        return Conflict(rule, needs=(uncovered or ()) if probe.status == OPTIMAL else (), need_count=count)
    group = floor_group(rule)
    if BUDGET in others:
        own = best(table, rules, floors, [rule], table.req, maximize=False)
        smallest = min(r for r, c in zip(table.req, table.cats) if c == group)
        return Conflict(rule, needed_fen=floors[group], own_fen=_at_least(own, max(floors[group], smallest)))
    most = best(table, rules, floors, others, group_cost(table, group), maximize=True)
    return Conflict(rule, needed_fen=floors[group], available_fen=most.claim)


def _at_least(probe: Probe, counted: int) -> int | None:
    """A least spend to state: the proven optimum, else the better of two proven lower bounds."""
    if probe.status == OPTIMAL:
        return probe.value
    return max(counted, probe.claim) if probe.claim is not None else (counted or None)
