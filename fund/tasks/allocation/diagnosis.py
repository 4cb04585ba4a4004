"""Infeasibility (optimal policy): which rules conflict, and the least change of each.

When the rules cannot all hold, AllocationInfeasible carries structured data only:
``conflicts``: a minimal conflicting subset of the rule groups ("budget", "org_limit",
"floor:<group>", "cover_every_street"), found by a deletion filter, each with numbers
measured against the other members of that subset:
    budget              needed_fen = least spend meeting them, available_fen = budget
    floor:<group>       needed_fen = the floor, available_fen = most they allow in group
    cover_every_street  streets = streets left uncovered by a best-coverage set
    org_limit           (no numbers; see the relaxation)
``relaxations``: for each conflicting rule, the smallest change of that rule alone that
makes ALL rules hold, when one exists: budget -> least budget (floors recomputed at it);
floor -> largest feasible floor in fen, with the share rounded down to 0.0001; coverage ->
most streets coverable and which stay uncovered; org_limit -> least max_funded_per_org.
Each diagnostic solve has time_limit_s (else DIAGNOSTIC_TIME_LIMIT_S); a number not proven
in time is None and such a relaxation is left out.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Sequence

import numpy as np

from fund.tasks.allocation.candidates import Table, counts, floors as floors_of, indices
from fund.tasks.allocation.mip import Mip
from fund.tasks.allocation.model import AllocationInfeasible, AllocationRules, Conflict, Relaxation
from fund.tasks.allocation.rules import rule_groups, rule_model

DIAGNOSTIC_TIME_LIMIT_S = 30.0

def diagnose(table: Table, rules: AllocationRules, floors: dict[str, int]) -> AllocationInfeasible:
    """Explain an infeasible optimal policy (see "Infeasibility" in the module docstring)."""
    groups = rule_groups(table, rules, floors)
    deletion_order = [g for g in groups if g in ("org_limit", "cover_every_street")] + \
        [g for g in groups if g.startswith("floor:")] + ["budget"]
    conflicting = list(groups)
    for rule in deletion_order:
        trial = [g for g in conflicting if g != rule]
        if _feasible(table, rules, floors, trial) is False:
            conflicting = trial
    conflicts = [_conflict(table, rules, floors, rule, [g for g in conflicting if g != rule])
                 for rule in conflicting]
    relaxations = [r for rule in conflicting
                   if (r := _relaxation(table, rules, floors, groups, rule)) is not None]
    return AllocationInfeasible(conflicts, relaxations)


def _diagnostic_limit(rules: AllocationRules) -> float:
    return rules.time_limit_s or DIAGNOSTIC_TIME_LIMIT_S


def _feasible(table: Table, rules: AllocationRules, floors: dict[str, int],
              groups: Sequence[str]) -> bool | None:
    """True / False, or None when the solver could not decide in time."""
    mip = rule_model(table, rules, floors, groups)
    outcome = mip.solve([0] * table.n, maximize=True, time_limit=_diagnostic_limit(rules))
    if outcome.x is not None:
        return True
    return False if outcome.status == "infeasible" else None


def _best(rules: AllocationRules, mip: Mip, cost: Sequence[int],
          maximize: bool) -> np.ndarray | None:
    """A proven optimal point of ``mip`` for ``cost``, or None."""
    outcome = mip.solve(cost, maximize=maximize, time_limit=_diagnostic_limit(rules))
    return outcome.x if outcome.status == "optimal" else None


def _group_cost(table: Table, group: str) -> list[int]:
    return [r if c == group else 0 for r, c in zip(table.req, table.cats)]


def _conflict(table: Table, rules: AllocationRules, floors: dict[str, int], rule: str,
              others: list[str]) -> Conflict:
    mip = rule_model(table, rules, floors, others)
    if rule == "budget":
        x = _best(rules, mip, table.req, maximize=False)
        spend = None if x is None else int(np.asarray(table.req) @ x[:table.n])
        return Conflict(rule, needed_fen=spend, available_fen=rules.budget_fen)
    if rule.startswith("floor:"):
        group = rule.split(":", 1)[1]
        cost = _group_cost(table, group)
        x = _best(rules, mip, cost, maximize=True)
        most = None if x is None else int(np.asarray(cost) @ x[:table.n])
        return Conflict(rule, needed_fen=floors[group], available_fen=most)
    if rule == "cover_every_street":
        uncovered = _best_coverage(table, rules, floors, others)
        return Conflict(rule, streets=() if uncovered is None else uncovered)
    return Conflict(rule)


def _best_coverage(table: Table, rules: AllocationRules, floors: dict[str, int],
                   groups: Sequence[str]) -> tuple[str, ...] | None:
    """Streets left uncovered by a set covering as many streets as ``groups`` allow."""
    mip = rule_model(table, rules, floors, [g for g in groups if g != "cover_every_street"])
    streets = indices(table.streets)
    cost = [0] * table.n
    for members in streets.values():
        covered = mip.add_column(0, 1)
        mip.add_row([*members, covered], [1] * len(members) + [-1], lower=0)
        cost.append(1)
    x = _best(rules, mip, cost, maximize=True)
    if x is None:
        return None
    return tuple(s for s, members in streets.items() if not any(x[i] for i in members))


def _relaxation(table: Table, rules: AllocationRules, floors: dict[str, int],
                groups: list[str], rule: str) -> Relaxation | None:
    """The least change of ``rule`` alone under which every rule holds, if any."""
    others = [g for g in groups if g != rule]
    if rule == "budget":
        return _least_budget(table, rules, groups)
    if rule.startswith("floor:"):
        group = rule.split(":", 1)[1]
        cost = _group_cost(table, group)
        x = _best(rules, rule_model(table, rules, floors, others), cost, maximize=True)
        if x is None:
            return None
        most = int(np.asarray(cost) @ x[:table.n])
        share = None
        if rules.budget_fen:
            share = Decimal(most * 10_000 // rules.budget_fen) / 10_000
        return Relaxation(rule, floors[group], most, share=share)
    if rule == "cover_every_street":
        uncovered = _best_coverage(table, rules, floors, groups)
        if uncovered is None:
            return None
        streets = len(set(table.streets))
        return Relaxation(rule, streets, streets - len(uncovered), streets=uncovered)
    # org_limit: the least larger limit
    most_per_org = max(counts(table.orgs).values())
    for limit in range(rules.max_funded_per_org + 1, most_per_org + 1):
        wider = replace(rules, max_funded_per_org=limit)
        if _feasible(table, wider, floors, rule_groups(table, wider, floors)):
            return Relaxation(rule, rules.max_funded_per_org, limit)
    return None


def _least_budget(table: Table, rules: AllocationRules, groups: list[str]) -> Relaxation | None:
    """Least budget under which every rule holds, floors recomputed from the shares.

    floor_g(B) = min(ceil(share_g B), total_g) is met iff q amount_g >= p B (share = p/q) or
    every candidate of g is funded; a 0-1 column z_g chooses the second branch.  Beyond the
    total requested a larger budget only raises the floors, so the search stops there.
    """
    total = sum(table.req)
    if total <= rules.budget_fen:
        return None
    mip = rule_model(table, rules, {}, [g for g in groups if g != "budget"])
    budget = mip.add_column(rules.budget_fen, total)
    mip.add_row([*range(table.n), budget], [*table.req, -1], upper=0)
    by_cat = indices(table.cats)
    for group, share in rules.priority_shares.items():
        members = by_cat.get(group, [])
        if share == 0 or not members:
            continue
        p, q = share.as_integer_ratio()
        all_funded = mip.add_column(0, 1)
        mip.add_row([*members, budget, all_funded],
                    [q * table.req[i] for i in members] + [-p, p * total], lower=0)
        mip.add_row([*members, all_funded], [1] * len(members) + [-len(members)], lower=0)
    cost = [0] * len(mip.lower)
    cost[budget] = 1
    x = _best(rules, mip, cost, maximize=False)
    if x is None:
        return None
    wider = replace(rules, budget_fen=int(x[budget]))
    wider_floors = floors_of(table, wider)
    if not _feasible(table, wider, wider_floors, rule_groups(table, wider, wider_floors)):
        return None
    return Relaxation("budget", rules.budget_fen, wider.budget_fen)
