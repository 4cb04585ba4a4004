"""Allocation: choose which fundable proposals are funded (CONTRACT.md, "Allocation").

Pure functions: no I/O, no database, no Prefect.  A funded proposal gets exactly its
``requested_fen`` (all-or-nothing).

Units and exactness
    Money is integer fen (1 yuan = 100 fen) and scores are integer centi-points (a final
    score of 85.20 is 8520).  Every amount, floor, objective and reason number is a Python
    int.  The only floats are the solver's input (exact integers below 2**53, checked), the
    reported relative gap and timings.

Modules, one idea each
    model       the rules, results and errors (the types below)
    candidates  the candidate table in merit order, priority floors
    merit       the merit policy and its exact score thresholds
    rules       the optimal policy's rules as named groups of MIP rows
    mip         the integer programs and HiGHS (the only module importing highspy)
    optimal     solving the optimal policy to one funded set: kernel, core, ties, progress
    reasons     why each candidate is or is not funded by the optimal policy
    diagnosis   when the rules conflict: every irreducible conflicting set, with figures
    probes      the diagnostic solves, each answer proven or stated as a proven bound
    relaxations the smallest change of one rule alone that lets every rule hold
    check       the independent checker of a funded set
    policies    the optimal entry point and both policies side by side
"""

from fund.tasks.allocation.candidates import candidate_frame
from fund.tasks.allocation.check import check_allocation, objective_of
from fund.tasks.allocation.merit import merit_select
from fund.tasks.allocation.model import (
    CATEGORIES,
    COLUMNS,
    NEEDS,
    AllocationInfeasible,
    AllocationRules,
    AllocationSolverError,
    Conflict,
    Reason,
    Relaxation,
    Selection,
)
from fund.tasks.allocation.policies import compare, optimal_select, priority_floors

__all__ = [
    "CATEGORIES",
    "COLUMNS",
    "NEEDS",
    "AllocationInfeasible",
    "AllocationRules",
    "AllocationSolverError",
    "Conflict",
    "Reason",
    "Relaxation",
    "Selection",
    "candidate_frame",
    "check_allocation",
    "compare",
    "merit_select",
    "objective_of",
    "optimal_select",
    "priority_floors",
]
