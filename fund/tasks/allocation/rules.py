"""The optimal policy's rules as rows of a MIP, one named group of rows per rule.

Rule groups
    "budget"              sum(requested_fen * x) <= budget_fen
    "org_limit"           at most max_funded_per_org funded per credit_code (only the
                          organizations with more candidates than that get a row)
    "floor:<group>"       sum(requested_fen * x over the group) >= floor_g (floors above 0)
    "cover_every_street"  at least one funded proposal in every street with a candidate
    "cover_urgent"        at least one funded proposal answering each urgent need that a
                          candidate answers ([needs] cover_urgent)

Only groups that constrain the instance are listed, in this reporting order; the infeasibility
diagnosis works on these names.  A new rule enters as one more group here.
"""

from __future__ import annotations

from typing import Sequence

from fund.tasks.allocation.candidates import Table, counts, indices, needs_index
from fund.tasks.allocation.mip import Mip
from fund.tasks.allocation.model import AllocationRules

BUDGET = "budget"
ORG_LIMIT = "org_limit"
COVERAGE = "cover_every_street"
URGENT = "cover_urgent"
FLOOR = "floor:"


def floor_group(rule: str) -> str | None:
    """The category of a "floor:<group>" rule, else None."""
    return rule[len(FLOOR) :] if rule.startswith(FLOOR) else None


def rule_groups(table: Table, rules: AllocationRules, floors: dict[str, int]) -> list[str]:
    """The rule groups that constrain this instance, in reporting order."""
    groups = [BUDGET]
    if max(counts(table.orgs).values(), default=0) > rules.max_funded_per_org:
        groups.append(ORG_LIMIT)
    groups += [f"{FLOOR}{g}" for g, need in floors.items() if need > 0]
    if rules.cover_every_street and table.n:
        groups.append(COVERAGE)
    if rules.cover_urgent and any(table.needs):
        groups.append(URGENT)
    return groups


def rule_model(table: Table, rules: AllocationRules, floors: dict[str, int], groups: Sequence[str]) -> Mip:
    """A MIP with one 0-1 column per candidate (merit order) and the rows of ``groups``."""
    mip = Mip(table.n)
    if BUDGET in groups:
        mip.add_row(range(table.n), table.req, upper=rules.budget_fen)
    if ORG_LIMIT in groups:
        for members in indices(table.orgs).values():
            if len(members) > rules.max_funded_per_org:
                mip.add_row(members, [1] * len(members), upper=rules.max_funded_per_org)
    by_cat = indices(table.cats)
    for group, need in floors.items():
        if f"{FLOOR}{group}" in groups:
            members = by_cat[group]
            mip.add_row(members, [table.req[i] for i in members], lower=need)
    if COVERAGE in groups:
        for members in indices(table.streets).values():
            mip.add_row(members, [1] * len(members), lower=1)
    if URGENT in groups:
        for members in needs_index(table).values():
            mip.add_row(members, [1] * len(members), lower=1)
    return mip
