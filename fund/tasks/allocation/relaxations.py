"""The smallest change of one rule alone under which every rule holds.

    budget              the least budget, every floor recomputed from its share at that
                        budget (exact: one MIP with the budget as a variable, then checked
                        by solving the whole model at it)
    floor:<group>       the largest floor (fen) the other rules allow in the group, and the
                        largest share of 4 decimals whose floor does not exceed it (when the
                        floor is not proven to the fen, the proven upper bound gives the
                        largest share that could work: often the same share, then exact)
    cover_every_street  coverage switched off: the most streets the other rules let one
                        cover, and which stay uncovered
    cover_urgent        urgent needs coverage switched off: the most urgent needs the other
                        rules let one cover, and which stay uncovered
    org_limit           the least max_funded_per_org (each larger limit tried in turn)

``least_change`` answers a Relaxation (a change found and proven sufficient, ``exact`` when
proven smallest too, else with the proven ``bound`` of the smallest; see the ``probes``
module), NOT_ALONE when it is proven that no change of that rule alone is enough, or None
when nothing could be proven.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from fund.tasks.allocation.candidates import Table, counts, floors as floors_at, indices, needs_index
from fund.tasks.allocation.model import CATEGORIES, AllocationRules, Relaxation
from fund.tasks.allocation.probes import INFEASIBLE, OPTIMAL, Feasibility, Probe, best, best_coverage, group_cost, solve
from fund.tasks.allocation.rules import BUDGET, COVERAGE, ORG_LIMIT, URGENT, floor_group, rule_groups, rule_model

NOT_ALONE = "not_alone"
SHARE_DIGITS = 10_000  # suggested shares have 4 decimals


def least_change(
    table: Table, rules: AllocationRules, floors: dict[str, int], groups: list[str], rule: str
) -> Relaxation | str | None:
    """The smallest change of ``rule`` alone that makes all ``groups`` hold (see above)."""
    others = [g for g in groups if g != rule]
    if rule == BUDGET:
        return _least_budget(table, rules, groups)
    if rule == ORG_LIMIT:
        return _least_org_limit(table, rules, floors)
    if rule == COVERAGE:
        probe, uncovered = best_coverage(table, rules, floors, others)
        if uncovered is None:
            return _not_found(probe)
        streets = len(set(table.streets))
        return Relaxation(
            rule, streets, streets - len(uncovered), streets=uncovered, exact=probe.status == OPTIMAL, bound=probe.claim
        )
    if rule == URGENT:
        probe, uncovered = best_coverage(table, rules, floors, others, URGENT)
        if uncovered is None:
            return _not_found(probe)
        needs = len(needs_index(table))
        return Relaxation(rule, needs, needs - len(uncovered), needs=uncovered, exact=probe.status == OPTIMAL, bound=probe.claim)
    group = floor_group(rule)
    probe = best(table, rules, floors, others, group_cost(table, group), maximize=True)
    if probe.x is None:
        return _not_found(probe)
    exact = probe.status == OPTIMAL
    return Relaxation(
        rule,
        floors[group],
        probe.value,
        share=_largest_share(probe.value, rules.budget_fen),
        exact=exact,
        bound=probe.claim,
        share_bound=None if exact else _largest_share(probe.claim, rules.budget_fen),
    )


def _largest_share(floor_fen: int | None, budget_fen: int) -> Decimal | None:
    """The largest share of 4 decimals whose floor, ceil(share * budget), is at most floor_fen."""
    if floor_fen is None or not budget_fen:
        return None
    return Decimal(floor_fen * SHARE_DIGITS // budget_fen) / SHARE_DIGITS


def _not_found(probe: Probe) -> str | None:
    return NOT_ALONE if probe.status == INFEASIBLE else None


def _least_org_limit(table: Table, rules: AllocationRules, floors: dict[str, int]) -> Relaxation | str | None:
    """The least larger max_funded_per_org under which every rule holds."""
    for limit in range(rules.max_funded_per_org + 1, max(counts(table.orgs).values()) + 1):
        wider = replace(rules, max_funded_per_org=limit)
        answer = Feasibility(table, wider, floors)(rule_groups(table, wider, floors))
        if answer is None:
            return None
        if answer:
            return Relaxation(ORG_LIMIT, rules.max_funded_per_org, limit)
    return NOT_ALONE


def _least_budget(table: Table, rules: AllocationRules, groups: list[str]) -> Relaxation | str | None:
    """Least budget under which every rule holds, floors recomputed from the shares.

    floor_g(B) = min(ceil(share_g B), total_g) is met iff q amount_g >= p B (share = p/q) or
    every candidate of g is funded; a 0-1 column z_g chooses the second branch.  Beyond the
    total requested a larger budget only raises the floors, so the search stops there.  The
    set found is checked against the rules at its budget, floors recomputed, in integers.
    """
    total = sum(table.req)
    if total <= rules.budget_fen:
        return NOT_ALONE  # the budget does not bind: more of it changes nothing but the floors
    mip = rule_model(table, rules, {}, [g for g in groups if g != BUDGET])
    budget = mip.add_column(rules.budget_fen, total)
    mip.add_row([*range(table.n), budget], [*table.req, -1], upper=0)
    by_cat = indices(table.cats)
    for group, share in rules.priority_shares.items():
        members = by_cat.get(group, [])
        if share == 0 or not members:
            continue
        p, q = share.as_integer_ratio()
        all_funded = mip.add_column(0, 1)
        mip.add_row([*members, budget, all_funded], [q * table.req[i] for i in members] + [-p, p * total], lower=0)
        mip.add_row([*members, all_funded], [1] * len(members) + [-len(members)], lower=0)
    cost = [0] * len(mip.lower)
    cost[budget] = 1
    probe = solve(rules, mip, cost, maximize=False)
    if probe.x is None:
        return _not_found(probe)
    wider = replace(rules, budget_fen=probe.value)
    wider_floors = floors_at(table, wider)
    if not rule_model(table, wider, wider_floors, rule_groups(table, wider, wider_floors)).holds(probe.x[: table.n]):
        return None
    return Relaxation(
        BUDGET,
        rules.budget_fen,
        wider.budget_fen,
        floors_fen=tuple((g, wider_floors[g]) for g in CATEGORIES if wider_floors.get(g, 0) > 0),
        exact=probe.status == OPTIMAL,
        bound=probe.claim,
    )
