"""The needs list and the resource pledges (四张清单 · 三征一提 · 三筹): the front of the cycle.

Modules, one idea each
    lists     reading and checking needs.csv, resources.csv and the needs a proposal names
    coverage  after the award: needs covered and unmet, the resource ledger, the leverage by street
    writers   the needs outputs (needs/coverage.csv, unmet.csv, resources.csv, leverage.csv)
    report    the leadership report's section on needs and resources

The allocation's rule "urgent needs coverage" (`[needs] cover_urgent`) lives with the other
rules in `fund.tasks.allocation`; its sentences are in `fund.tasks.needs_messages`.
"""

from fund.tasks.needs.coverage import (
    count_coverage,
    leverage_by_street,
    leverage_total,
    need_coverage,
    resource_ledger,
    unmet_needs,
)
from fund.tasks.needs.lists import (
    NEEDS,
    RESOURCES,
    URGENT,
    NeedsList,
    proposal_needs,
    read_needs_lists,
    resource_flags,
    split_ids,
    urgent_needs_of,
    validate_needs,
    validate_resources,
)

__all__ = [
    "NEEDS",
    "RESOURCES",
    "URGENT",
    "NeedsList",
    "count_coverage",
    "leverage_by_street",
    "leverage_total",
    "need_coverage",
    "proposal_needs",
    "read_needs_lists",
    "resource_flags",
    "resource_ledger",
    "split_ids",
    "unmet_needs",
    "urgent_needs_of",
    "validate_needs",
    "validate_resources",
]
