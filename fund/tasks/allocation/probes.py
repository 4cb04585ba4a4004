"""Diagnostic solves over subsets of the rule groups: can a subset hold, what is the best value
of some cost under it, how many streets (or urgent needs) can it cover.

Every answer is either proven or says what is proven:
    OPTIMAL     the exact best value and a point reaching it
    LIMITED     the search stopped (DIAGNOSTIC_MAX_NODES nodes, or the time limit) before a
                proof: ``value`` is the best point found (it meets every rule, checked in
                exact integers), ``bound`` a proven bound on the best value -- an upper
                bound when maximizing, a lower one when minimizing -- taken from HiGHS's
                dual bound widened by a millionth (its tolerances) and then rounded outward
    INFEASIBLE  no point meets the rules
    UNKNOWN     nothing proven
Whole-proposal sums near a target (a floor reached to the fen, a budget filled to the fen)
are subset-sum problems: HiGHS finds sets within a few yuan quickly but may not prove the last
fen on thousands of proposals, hence LIMITED.  A node limit rather than a time limit stops
these searches, so the answer is the same on every machine; the time limit (the cycle's
time_limit_s, else DIAGNOSTIC_TIME_LIMIT_S) only guards against a pathological model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from fund.tasks.allocation.candidates import Table, indices, needs_index
from fund.tasks.allocation.mip import Mip
from fund.tasks.allocation.model import AllocationRules
from fund.tasks.allocation.rules import COVERAGE, URGENT, rule_model

DIAGNOSTIC_TIME_LIMIT_S = 30.0
DIAGNOSTIC_MAX_NODES = 500
BOUND_SLACK = 1e-6  # relative widening of HiGHS's dual bound before it is claimed
OPTIMAL, LIMITED, INFEASIBLE, UNKNOWN = "optimal", "limited", "infeasible", "unknown"


@dataclass(frozen=True)
class Probe:
    status: str  # OPTIMAL | LIMITED | INFEASIBLE | UNKNOWN
    value: int | None = None  # value of ``x`` (OPTIMAL: the best value)
    x: np.ndarray | None = None  # a point meeting every rule
    bound: int | None = None  # proven bound on the best value (OPTIMAL: the value itself)

    @property
    def claim(self) -> int | None:
        """The number that can be stated as a limit: the best value, else the proven bound."""
        return self.value if self.status == OPTIMAL else self.bound


def time_limit(rules: AllocationRules) -> float:
    return rules.time_limit_s or DIAGNOSTIC_TIME_LIMIT_S


def solve(rules: AllocationRules, mip: Mip, cost: Sequence[int], maximize: bool) -> Probe:
    """The best value of cost.x over ``mip``: proven, or what is proven (module docstring)."""
    outcome = mip.solve(cost, maximize=maximize, time_limit=time_limit(rules), max_nodes=DIAGNOSTIC_MAX_NODES)
    if outcome.status == "infeasible":
        return Probe(INFEASIBLE)
    x = outcome.x if outcome.x is not None and mip.holds(outcome.x) else None
    value = None if x is None else int(np.asarray(cost, dtype=object) @ x[: len(cost)].astype(object))
    if outcome.status == "optimal" and x is not None:
        return Probe(OPTIMAL, value, x, value)
    bound = None
    if outcome.bound is not None and math.isfinite(outcome.bound):
        slack = BOUND_SLACK * max(1.0, abs(outcome.bound))
        bound = math.floor(outcome.bound + slack) if maximize else math.ceil(outcome.bound - slack)
        if value is not None:  # the best value lies between the point found and the bound
            bound = max(bound, value) if maximize else min(bound, value)
    if x is None and bound is None:
        return Probe(UNKNOWN)
    return Probe(LIMITED, value, x, bound)


def best(
    table: Table, rules: AllocationRules, floors: dict[str, int], groups: Iterable[str], cost: Sequence[int], maximize: bool
) -> Probe:
    """The best value of cost.x (one coefficient per candidate) under the rules ``groups``."""
    return solve(rules, rule_model(table, rules, floors, list(groups)), cost, maximize)


class Feasibility:
    """Whether subsets of the rule groups can all hold: True, False, or None (not decided).
    Answers are cached by subset, so the search over subsets solves each once."""

    def __init__(self, table: Table, rules: AllocationRules, floors: dict[str, int]):
        self.table, self.rules, self.floors = table, rules, floors
        self.known: dict[frozenset[str], bool | None] = {}

    def __call__(self, groups: Iterable[str]) -> bool | None:
        key = frozenset(groups)
        if key not in self.known:
            mip = rule_model(self.table, self.rules, self.floors, list(key))
            outcome = mip.solve([0] * self.table.n, maximize=True, time_limit=time_limit(self.rules))
            if outcome.x is not None:
                self.known[key] = True if mip.holds(outcome.x) else None
            else:
                self.known[key] = False if outcome.status == "infeasible" else None
        return self.known[key]


def group_cost(table: Table, group: str) -> list[int]:
    """requested_fen for the candidates of ``group``, 0 for the others."""
    return [r if c == group else 0 for r, c in zip(table.req, table.cats)]


def cheapest_cover(table: Table) -> int:
    """Least spend covering every street: the sum of each street's smallest request."""
    return sum(min(table.req[i] for i in members) for members in indices(table.streets).values())


def targets_of(table: Table, rule: str) -> dict[str, list[int]]:
    """What a coverage rule covers, each with the candidates covering it: the streets
    (cover_every_street) or the urgent needs (cover_urgent)."""
    return indices(table.streets) if rule == COVERAGE else needs_index(table)


def best_coverage(
    table: Table, rules: AllocationRules, floors: dict[str, int], groups: Iterable[str], rule: str = COVERAGE
) -> tuple[Probe, tuple[str, ...] | None]:
    """A set covering as many streets (``rule`` cover_every_street) or urgent needs (cover_urgent)
    as the rules ``groups`` (that rule aside) allow: the probe (its value = how many are
    covered) and the ones that set leaves uncovered."""
    mip = rule_model(table, rules, floors, [g for g in groups if g != rule])
    targets = targets_of(table, rule)
    cost = [0] * table.n
    for members in targets.values():
        covered = mip.add_column(0, 1)
        mip.add_row([*members, covered], [1] * len(members) + [-1], lower=0)
        cost.append(1)
    probe = solve(rules, mip, cost, maximize=True)
    if probe.x is None:
        return probe, None
    return probe, tuple(s for s, members in targets.items() if not any(probe.x[i] for i in members))


def cheapest_urgent_cover(table: Table, rules: AllocationRules, floors: dict[str, int]) -> Probe:
    """Least spend with a funded candidate answering every urgent need (a set cover: one proposal
    may answer several needs), proven or with its proven lower bound."""
    return best(table, rules, floors, [URGENT], table.req, maximize=False)


def largest_cheapest_answer(table: Table) -> int:
    """A lower bound of that spend: the most any one urgent need costs on its own."""
    return max((min(table.req[i] for i in members) for members in needs_index(table).values()), default=0)
