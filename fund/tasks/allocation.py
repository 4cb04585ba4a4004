"""Allocation: choose which fundable proposals are funded (CONTRACT.md, "Allocation").

Pure functions: no I/O, no database, no Prefect.  A funded proposal gets exactly its
``requested_fen`` (all-or-nothing).

Units and exactness
    Money is integer fen (1 yuan = 100 fen) and scores are integer centi-points (a final
    score of 85.20 is 8520).  Every amount, floor, objective and reason number is a Python
    int.  The only floats are the solver's input (exact integers below 2**53, checked), the
    reported relative gap and timings.

Candidates
    A DataFrame of FUNDABLE proposals only, columns ``proposal_id`` (unique str),
    ``credit_code`` (the organization), ``category`` (one of CATEGORIES), ``street``,
    ``requested_fen`` (int > 0) and ``score_centi`` (int, 0..10000).

Merit order
    score_centi descending, then requested_fen ascending, then proposal_id ascending.  A
    candidate's ``rank`` is its 1-based position in this order.

Policies
    merit    Walk the merit order; fund a candidate when it still fits the remaining budget
             and its organization has fewer than max_funded_per_org funded, otherwise skip it
             and go on.  Priority floors and street coverage do not apply to merit.
    optimal  Maximize the score-weighted spend sum(requested_fen * score_centi) subject to the
             budget, at most max_funded_per_org funded per credit_code, every priority floor
             and, if cover_every_street, at least one funded proposal in every street that has
             a candidate.  Solved with HiGHS (highspy) to proven optimality unless
             ``mip_gap`` > 0 or ``time_limit_s`` stops it first; the gap reached is reported.

Priority floors
    floor_g = min(ceil(share_g * budget_fen), total requested by the candidates of g).  The
    product is computed exactly with Decimal (80 significant digits) and rounded UP to a whole
    fen, so a floor is never below its share.  Groups are the keys of priority_shares.

How the optimal model is solved
    1. Candidates enter the model in merit order and rows in sorted key order, so the model,
       and therefore HiGHS's deterministic answer, does not depend on the input row order.
       HiGHS runs on one thread, so the answer does not depend on the core count either
       (one thread was also as fast or faster here, the machine being shared).
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

Numerics
    Each row is divided by the gcd of its integer coefficients with its bound rounded inward
    (exact for 0-1 variables) and the objective by the gcd of its coefficients, so HiGHS sees
    an integral objective: proving optimality means closing the gap below one unit.  The chosen
    set is re-checked from scratch with check_allocation and its objective recomputed in
    Python ints; a violation raises AllocationSolverError("numerical_violation") rather than
    being patched.  A solver failure, or a time limit without a feasible set, raises
    AllocationSolverError; there is never a silent fallback to merit.

Ties (optimal)
    1. Determinism: the same candidates in any row order give the same model (see above), and
       HiGHS is deterministic for a given model and options, so they give the same set.
    2. Equal-value exchanges: while a funded candidate i can be exchanged for an unfunded j
       with exactly the same requested_fen * score_centi that ranks higher in merit order,
       keeping every rule, the exchange is made (j scanned in merit order, i from the lowest
       rank up).  The objective is unchanged (integer equality), so a proven optimum stays
       optimal; each exchange lowers the sum of funded ranks, so the pass ends.  Hence of two
       proposals with the same amount and score the higher-ranked one (smaller proposal_id)
       is funded unless a rule (organization, floor, street) tells them apart.
    3. Then every unfunded candidate that still fits the remaining budget and its
       organization's limit is added in merit order.  At a proven optimum this can only add
       zero-score candidates (anything else would contradict optimality); after a gap- or
       time-limited solve it can only improve the objective.  So every unfunded candidate is
       blocked by its organization's limit or by the budget.
    A tie that is neither a single exchange nor (3) is settled by (1): a fixed, documented
    procedure rather than a preference.  With time_limit_s the stopping point depends on the
    machine's speed, so only runs that end by their gap are reproducible.

Reasons (one per candidate, keyed by proposal_id, in merit order)
    funded     ``serves``: "floor:<group>" when removing it would break that floor,
               "street:<street>" when it is the only funded proposal of its street (optimal
               policy only; merit has no floors or coverage).
    org_limit  its organization already has max_funded_per_org funded; ``blocking`` names them.
    budget     ``remaining_fen`` = budget left unused by the final selection and
               ``short_fen`` = requested_fen - remaining_fen (> 0).
    score_needed_centi (unfunded only): the smallest score (<= 10000) at which the policy would
    fund the candidate, every other candidate unchanged; None when no score suffices.
      merit:   exact, from the greedy's own states: the candidate is funded iff it comes
               before the last position at which the budget left and its organization's count
               still admit it, so it must outrank the candidate standing there.
      optimal: computed only when there are at most SCORE_NEEDED_MAX_CANDIDATES candidates and
               the optimum is proven (else None).  With V the optimum (which excludes j) and
               W the best value of the other candidates in a feasible set that includes j (one
               MIP), j is funded at score s when W + requested_j * s > V; at equality the tie
               rule decides, checked by re-solving.  The selection is monotone in j's own
               score, so this threshold is exact; it replaces a binary search by one solve
               per candidate (these run in parallel threads).

Infeasibility (optimal)
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

import os
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Iterable, Sequence

import highspy
import numpy as np
import pandas as pd

# The public ``highspy.Highs`` wrapper installs Python callbacks in its constructor, which
# prints HiGHS's banner to stdout before any option can silence it.  No callback is used
# here, so the bare pybind class is used instead.
from highspy._core import _Highs

CATEGORIES = ("elderly", "children", "disabled", "hardship", "other")
COLUMNS = ("proposal_id", "credit_code", "category", "street", "requested_fen", "score_centi")
MAX_SCORE_CENTI = 10_000
SCORE_NEEDED_MAX_CANDIDATES = 150
SCORE_NEEDED_WORKERS = min(8, os.cpu_count() or 1)
KERNEL_SIZE = 150
KERNEL_MAX_NODES = 5_000
SMALL_MODEL_COLUMNS = 500
DIAGNOSTIC_TIME_LIMIT_S = 30.0
_EXACT_LIMIT = 2**53  # integers up to this are exact in a float64


# ----------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class AllocationRules:
    """The allocation rules of a cycle.  Shares are Decimal (or int/str), never float."""

    budget_fen: int
    max_funded_per_org: int
    priority_shares: dict[str, Decimal] = field(default_factory=dict)
    cover_every_street: bool = False
    mip_gap: float = 0.0
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        _require_int("budget_fen", self.budget_fen, 0)
        _require_int("max_funded_per_org", self.max_funded_per_org, 0)
        shares = {}
        for group, share in dict(self.priority_shares).items():
            if group not in CATEGORIES:
                raise ValueError(f"priority_shares: unknown group {group!r}")
            if isinstance(share, (float, bool)) or not isinstance(share, (Decimal, int, str)):
                raise TypeError(f"priority_shares[{group!r}] must be a Decimal, got {share!r}")
            share = Decimal(share)
            if not share.is_finite() or not 0 <= share <= 1:
                raise ValueError(f"priority_shares[{group!r}] must lie in [0, 1], got {share}")
            shares[group] = share
        object.__setattr__(self, "priority_shares", dict(sorted(shares.items())))
        if not isinstance(self.cover_every_street, bool):
            raise TypeError("cover_every_street must be a bool")
        if isinstance(self.mip_gap, bool) or not isinstance(self.mip_gap, (int, float)):
            raise TypeError("mip_gap must be a number")
        if not 0 <= self.mip_gap < 1:
            raise ValueError(f"mip_gap must lie in [0, 1), got {self.mip_gap}")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, got {self.time_limit_s}")


@dataclass(frozen=True)
class Reason:
    """Why a candidate is or is not funded (see the module docstring)."""

    code: str  # "funded" | "org_limit" | "budget"
    rank: int  # 1-based position in merit order
    serves: tuple[str, ...] = ()
    remaining_fen: int | None = None
    short_fen: int | None = None
    score_needed_centi: int | None = None
    blocking: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    policy: str  # "merit" | "optimal"
    funded: tuple[str, ...]  # sorted proposal ids
    objective: int  # exact sum(requested_fen * score_centi) over funded
    total_fen: int
    solver_status: str  # "greedy" | "optimal" | "gap_limit" | "time_limit"
    gap: float  # (solver's bound - objective) / objective; 0.0 = proven optimal
    seconds: float  # wall-clock time of the call, reasons included
    reasons: dict[str, Reason]  # every candidate, in merit order


@dataclass(frozen=True)
class Conflict:
    rule: str  # "budget" | "org_limit" | "floor:<group>" | "cover_every_street"
    needed_fen: int | None = None
    available_fen: int | None = None
    streets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relaxation:
    """Change ``rule`` from ``current`` to ``suggested`` (fen, streets or proposals per org)."""

    rule: str
    current: int
    suggested: int
    share: Decimal | None = None  # floors: the share giving the suggested floor
    streets: tuple[str, ...] = ()  # coverage: streets that stay uncovered


class AllocationInfeasible(Exception):
    """The optimal policy's rules cannot all hold; see "Infeasibility" above."""

    def __init__(self, conflicts: Sequence[Conflict], relaxations: Sequence[Relaxation]):
        self.conflicts = tuple(conflicts)
        self.relaxations = tuple(relaxations)
        super().__init__("allocation rules conflict: " + ", ".join(c.rule for c in self.conflicts))

    def __reduce__(self):  # picklable (task runners ship exceptions between processes)
        return type(self), (self.conflicts, self.relaxations)


class AllocationSolverError(Exception):
    """HiGHS failed, or stopped (time limit) without a feasible set; ``status`` says which."""

    def __init__(self, status: str):
        self.status = status
        super().__init__(f"allocation solver failed: {status}")

    def __reduce__(self):
        return type(self), (self.status,)


# ----------------------------------------------------------------------------- public API


def merit_select(candidates: pd.DataFrame, rules: AllocationRules) -> Selection:
    started = time.perf_counter()
    table = _prepare(candidates)
    run = _merit_run(table, rules)
    remaining = rules.budget_fen - run.total
    org_funded = _funded_by_org(table, run.funded)
    reasons = {}
    for i, pid in enumerate(table.ids):
        if run.funded[i]:
            reasons[pid] = Reason("funded", i + 1)
            continue
        needed = _merit_score_needed(table, rules, run, org_funded[table.orgs[i]], i)
        if run.blocked_by_org[i]:
            earlier = tuple(sorted(table.ids[k] for k in org_funded[table.orgs[i]] if k < i))
            reasons[pid] = Reason("org_limit", i + 1, score_needed_centi=needed, blocking=earlier)
        else:
            reasons[pid] = Reason(
                "budget", i + 1, remaining_fen=remaining, short_fen=table.req[i] - remaining,
                score_needed_centi=needed,
            )
    return _selection("merit", table, run.funded, "greedy", 0.0, started, reasons)


def optimal_select(candidates: pd.DataFrame, rules: AllocationRules) -> Selection:
    started = time.perf_counter()
    table = _prepare(candidates)
    floors = _floors(table, rules)
    result = _optimize(table, rules, floors, started)
    funded = result.funded
    problems = check_allocation(candidates, [table.ids[i] for i in range(table.n) if funded[i]],
                                rules, "optimal")
    if problems:
        raise AllocationSolverError("numerical_violation")
    reasons = _optimal_reasons(table, rules, floors, result)
    return _selection("optimal", table, funded, result.status, result.gap, started, reasons)


def priority_floors(candidates: pd.DataFrame, rules: AllocationRules) -> dict[str, int]:
    """floor_g in fen for every group of ``rules.priority_shares``."""
    return _floors(_prepare(candidates), rules)


def objective_of(candidates: pd.DataFrame, funded_ids: Iterable[str]) -> int:
    """Exact score-weighted spend sum(requested_fen * score_centi) of ``funded_ids``."""
    rows = _plain_rows(candidates)
    total = 0
    for pid in set(funded_ids):
        if pid not in rows:
            raise KeyError(f"unknown proposal id: {pid}")
        total += rows[pid]["requested_fen"] * rows[pid]["score_centi"]
    return total


def check_allocation(candidates: pd.DataFrame, funded_ids: Iterable[str],
                     rules: AllocationRules, policy: str) -> list[str]:
    """Recompute every rule from the candidate table and the funded ids alone.

    Independent of the solver and of the selection code above.  Returns human-readable
    violation descriptions; an empty list means the allocation is valid for ``policy``.
    """
    if policy not in ("merit", "optimal"):
        raise ValueError(f"unknown policy {policy!r}")
    rows = _plain_rows(candidates)
    funded_list = list(funded_ids)
    problems = []
    seen = set()
    for pid in funded_list:
        if pid in seen:
            problems.append(f"duplicate: {pid} is funded twice")
        seen.add(pid)
        if pid not in rows:
            problems.append(f"unknown: {pid} is not a fundable candidate")
    funded = [rows[pid] for pid in sorted(seen) if pid in rows]

    awarded = sum(row["requested_fen"] for row in funded)
    if awarded > rules.budget_fen:
        problems.append(f"budget: awarded {awarded} fen exceeds the budget of {rules.budget_fen} fen")

    per_org = defaultdict(list)
    for row in funded:
        per_org[row["credit_code"]].append(row["proposal_id"])
    for org, pids in sorted(per_org.items()):
        if len(pids) > rules.max_funded_per_org:
            problems.append(f"org_limit: {org} has {len(pids)} funded ({', '.join(pids)}), "
                            f"limit {rules.max_funded_per_org}")

    if policy == "optimal":
        totals = defaultdict(int)
        amounts = defaultdict(int)
        for row in rows.values():
            totals[row["category"]] += row["requested_fen"]
        for row in funded:
            amounts[row["category"]] += row["requested_fen"]
        with localcontext() as ctx:
            ctx.prec = 80
            for group, share in rules.priority_shares.items():
                need = min(int((share * rules.budget_fen).to_integral_value(ROUND_CEILING)),
                           totals[group])
                if amounts[group] < need:
                    problems.append(f"floor:{group}: funded {amounts[group]} fen, needs {need} fen")
        if rules.cover_every_street:
            covered = {row["street"] for row in funded}
            for street in sorted({row["street"] for row in rows.values()} - covered):
                problems.append(f"street:{street}: no funded proposal")
    else:
        expected = set()
        remaining = rules.budget_fen
        count = defaultdict(int)
        order = sorted(rows.values(),
                       key=lambda r: (-r["score_centi"], r["requested_fen"], r["proposal_id"]))
        for row in order:
            if count[row["credit_code"]] < rules.max_funded_per_org and \
                    row["requested_fen"] <= remaining:
                expected.add(row["proposal_id"])
                remaining -= row["requested_fen"]
                count[row["credit_code"]] += 1
        for pid in sorted(expected - seen):
            problems.append(f"merit: {pid} is next in merit order and fits, but is not funded")
        for pid in sorted((seen & rows.keys()) - expected):
            problems.append(f"merit: {pid} is funded out of merit order")
    return problems


def compare(candidates: pd.DataFrame, rules: AllocationRules, *,
            merit: Selection | None = None, optimal: Selection | None = None) -> list[dict]:
    """Rows of a side-by-side table of both policies (pass selections already computed).

    An infeasible optimal policy gives a row with status "infeasible", the conflicting rules
    and None in the numeric columns instead of raising.
    """
    table = _prepare(candidates)
    floors = _floors(table, rules)
    rows = [_summary(table, rules, floors, merit or merit_select(candidates, rules))]
    if optimal is None:
        try:
            optimal = optimal_select(candidates, rules)
        except AllocationInfeasible as exc:
            rows.append({
                "policy": "optimal", "status": "infeasible", "funded_count": None,
                "amount_fen": None, "unused_fen": None, "objective": None, "gap": None,
                "floors_met": None, "streets_covered": None,
                "conflicts": tuple(c.rule for c in exc.conflicts),
            })
            return rows
    rows.append(_summary(table, rules, floors, optimal))
    return rows


# ----------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class _Table:
    """Candidates in merit order (index = rank - 1)."""

    ids: tuple[str, ...]
    orgs: tuple[str, ...]
    cats: tuple[str, ...]
    streets: tuple[str, ...]
    req: tuple[int, ...]
    score: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.ids)

    def values(self) -> np.ndarray:
        return np.array(self.req, dtype=np.int64) * np.array(self.score, dtype=np.int64)


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _plain_rows(candidates: pd.DataFrame) -> dict[str, dict]:
    """Validated candidate rows as plain Python values, keyed by proposal_id."""
    missing = [c for c in COLUMNS if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidates lack columns: {', '.join(missing)}")
    columns = {c: candidates[c].tolist() for c in COLUMNS}
    for name in ("proposal_id", "credit_code", "category", "street"):
        for value in columns[name]:
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    for name in ("requested_fen", "score_centi"):
        for value in columns[name]:
            _require_int(name, value, 1 if name == "requested_fen" else 0)
        columns[name] = [int(v) for v in columns[name]]
    for value in columns["score_centi"]:
        if value > MAX_SCORE_CENTI:
            raise ValueError(f"score_centi must be <= {MAX_SCORE_CENTI}, got {value}")
    for value in columns["category"]:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}")
    rows = {}
    for k, pid in enumerate(columns["proposal_id"]):
        if pid in rows:
            raise ValueError(f"duplicate proposal_id {pid!r}")
        rows[pid] = {c: columns[c][k] for c in COLUMNS}
    return rows


def _prepare(candidates: pd.DataFrame) -> _Table:
    rows = sorted(_plain_rows(candidates).values(),
                  key=lambda r: (-r["score_centi"], r["requested_fen"], r["proposal_id"]))
    return _table_of(rows)


def _table_of(rows: Sequence[dict]) -> _Table:
    return _Table(*(tuple(r[c] for r in rows) for c in COLUMNS))


def _floors(table: _Table, rules: AllocationRules) -> dict[str, int]:
    totals = defaultdict(int)
    for cat, req in zip(table.cats, table.req):
        totals[cat] += req
    floors = {}
    with localcontext() as ctx:
        ctx.prec = 80
        for group, share in rules.priority_shares.items():
            need = int((share * rules.budget_fen).to_integral_value(ROUND_CEILING))
            floors[group] = min(need, totals[group])
    return floors


def _funded_by_org(table: _Table, funded: Sequence[int]) -> dict[str, list[int]]:
    by_org = defaultdict(list)
    for i in range(table.n):
        if funded[i]:
            by_org[table.orgs[i]].append(i)
    return by_org


def _selection(policy: str, table: _Table, funded: Sequence[int], status: str, gap: float,
               started: float, reasons: dict[str, Reason]) -> Selection:
    chosen = [i for i in range(table.n) if funded[i]]
    return Selection(
        policy=policy,
        funded=tuple(sorted(table.ids[i] for i in chosen)),
        objective=sum(table.req[i] * table.score[i] for i in chosen),
        total_fen=sum(table.req[i] for i in chosen),
        solver_status=status,
        gap=gap,
        seconds=time.perf_counter() - started,
        reasons=reasons,
    )


def _summary(table: _Table, rules: AllocationRules, floors: dict[str, int],
             selection: Selection) -> dict:
    index = {pid: i for i, pid in enumerate(table.ids)}
    chosen = [index[pid] for pid in selection.funded]
    amounts = defaultdict(int)
    for i in chosen:
        amounts[table.cats[i]] += table.req[i]
    met = sum(1 for group, need in floors.items() if amounts[group] >= need)
    streets = set(table.streets)
    covered = {table.streets[i] for i in chosen}
    return {
        "policy": selection.policy,
        "status": selection.solver_status,
        "funded_count": len(chosen),
        "amount_fen": selection.total_fen,
        "unused_fen": rules.budget_fen - selection.total_fen,
        "objective": selection.objective,
        "gap": selection.gap,
        "floors_met": f"{met}/{len(floors)}",
        "streets_covered": f"{len(covered)}/{len(streets)}",
        "conflicts": (),
    }


# ----------------------------------------------------------------------------- merit


@dataclass(frozen=True)
class _MeritRun:
    funded: list[int]
    blocked_by_org: list[bool]
    remaining_before: list[int]  # budget left before each position (non-increasing)
    total: int


def _merit_run(table: _Table, rules: AllocationRules) -> _MeritRun:
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
    return _MeritRun(funded, blocked_by_org, remaining_before, rules.budget_fen - remaining)


def _merit_score_needed(table: _Table, rules: AllocationRules, run: _MeritRun,
                        org_positions: list[int], i: int) -> int | None:
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


# ----------------------------------------------------------------------------- MIP layer


@dataclass(frozen=True)
class _Row:
    cols: np.ndarray  # int64 column indices
    coefs: np.ndarray  # int64 coefficients
    lower: int | None
    upper: int | None


@dataclass(frozen=True)
class _Outcome:
    status: str  # "optimal", "infeasible", "time_limit", "node_limit", or a HiGHS status
    x: np.ndarray | None = None  # all column values, fixed ones included
    bound: float | None = None  # solver's dual bound on the unscaled objective


@dataclass(frozen=True)
class _Compiled:
    lp: highspy.HighsLp
    free: np.ndarray
    fixed: np.ndarray  # column values with free columns at 0
    scale: int  # objective divisor
    row_ids: list[int]  # original row of each compiled row
    row_scales: list[int]  # divisor of each compiled row


class _Mip:
    """A pure-integer program: 0-1 columns for the candidates plus optional integer columns."""

    def __init__(self, n_binary: int):
        self.lower = [0] * n_binary
        self.upper = [1] * n_binary
        self.rows: list[_Row] = []

    def add_column(self, lower: int, upper: int) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def add_row(self, cols: Sequence[int], coefs: Sequence[int],
                lower: int | None = None, upper: int | None = None) -> None:
        self.rows.append(_Row(np.asarray(cols, dtype=np.int64),
                              np.asarray(coefs, dtype=np.int64), lower, upper))

    def _compile(self, cost: np.ndarray, maximize: bool,
                 fix: np.ndarray | None) -> _Compiled | _Outcome:
        """HiGHS model over the free columns, or an _Outcome decided without a solver."""
        n_cols = len(self.lower)
        fix = np.full(n_cols, -1, dtype=np.int64) if fix is None else fix
        free = np.flatnonzero(fix < 0)
        fixed = np.where(fix < 0, 0, fix)
        position = np.full(n_cols, -1, dtype=np.int64)
        position[free] = np.arange(free.size)
        col_lo = np.asarray(self.lower, dtype=np.int64)[free]
        col_up = np.asarray(self.upper, dtype=np.int64)[free]

        scale = int(np.gcd.reduce(cost)) or 1
        scaled_cost = cost // scale
        offset = int(scaled_cost @ fixed)
        big = [abs(offset), *np.abs(scaled_cost[free]).tolist(), *np.abs(col_lo).tolist(),
               *np.abs(col_up).tolist()]

        row_index, col_index, values = [], [], []
        row_lo, row_up, row_ids, row_scales = [], [], [], []
        for k, row in enumerate(self.rows):
            keep = position[row.cols] >= 0
            shift = int(row.coefs[~keep] @ fixed[row.cols[~keep]])
            cols = position[row.cols[keep]]
            coefs = row.coefs[keep]
            lower = None if row.lower is None else row.lower - shift
            upper = None if row.upper is None else row.upper - shift
            at_lo, at_up = coefs * col_lo[cols], coefs * col_up[cols]
            act_min = int(np.minimum(at_lo, at_up).sum())
            act_max = int(np.maximum(at_lo, at_up).sum())
            if (lower is not None and act_max < lower) or (upper is not None and act_min > upper):
                return _Outcome("infeasible")
            if (lower is None or act_min >= lower) and (upper is None or act_max <= upper):
                continue  # always satisfied
            g = int(np.gcd.reduce(coefs))
            lower = None if lower is None else -(-lower // g)
            upper = None if upper is None else upper // g
            row_index.append(np.full(cols.size, len(row_ids), dtype=np.int64))
            col_index.append(cols)
            values.append(coefs // g)
            row_lo.append(-highspy.kHighsInf if lower is None else float(lower))
            row_up.append(highspy.kHighsInf if upper is None else float(upper))
            row_ids.append(k)
            row_scales.append(g)
            big += [abs(v) for v in (lower, upper) if v is not None]
            big.append(int(np.abs(coefs).max()) // g)
        if free.size == 0:
            return _Outcome("optimal", fixed, float(cost @ fixed))
        if max(big) >= _EXACT_LIMIT:
            return _Outcome("numeric_range")

        lp = highspy.HighsLp()
        lp.num_col_ = int(free.size)
        lp.num_row_ = len(row_ids)
        lp.col_cost_ = scaled_cost[free].astype(np.float64)
        lp.col_lower_ = col_lo.astype(np.float64)
        lp.col_upper_ = col_up.astype(np.float64)
        lp.row_lower_ = np.array(row_lo, dtype=np.float64)
        lp.row_upper_ = np.array(row_up, dtype=np.float64)
        lp.offset_ = float(offset)
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        matrix = lp.a_matrix_
        matrix.format_ = highspy.MatrixFormat.kColwise
        matrix.num_col_ = int(free.size)
        matrix.num_row_ = len(row_ids)
        if row_ids:
            r = np.concatenate(row_index)
            c = np.concatenate(col_index)
            v = np.concatenate(values)
            order = np.lexsort((r, c))
            matrix.start_ = np.searchsorted(c[order], np.arange(free.size + 1)).astype(np.int32)
            matrix.index_ = r[order].astype(np.int32)
            matrix.value_ = v[order].astype(np.float64)
        else:
            matrix.start_ = np.zeros(free.size + 1, dtype=np.int32)
        lp.a_matrix_ = matrix
        return _Compiled(lp, free, fixed, scale, row_ids, row_scales)

    def solve(self, cost: Sequence[int], *, maximize: bool, fix: np.ndarray | None = None,
              gap: float = 0.0, time_limit: float | None = None, max_nodes: int | None = None,
              start: np.ndarray | None = None) -> _Outcome:
        compiled = self._compile(np.asarray(cost, dtype=np.int64), maximize, fix)
        if isinstance(compiled, _Outcome):
            return compiled
        lp = compiled.lp
        lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
        highs = _new_highs(lp)
        if lp.num_col_ <= SMALL_MODEL_COLUMNS:
            # Measured: on small models the feasibility-jump heuristic and presolve restarts
            # cost more than the search (about half the time of a 60-300 column solve); on
            # large ones the restarts are what makes HiGHS fast.
            highs.setOptionValue("mip_heuristic_run_feasibility_jump", False)
            highs.setOptionValue("mip_allow_restart", False)
        highs.setOptionValue("mip_rel_gap", float(gap))
        if time_limit is not None:
            highs.setOptionValue("time_limit", max(float(time_limit), 1e-3))
        if max_nodes is not None:
            highs.setOptionValue("mip_max_nodes", int(max_nodes))
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = np.asarray(start, dtype=np.float64)[compiled.free]
            highs.setSolution(solution)
        _run(highs)
        model_status = highs.getModelStatus()
        info = highs.getInfo()
        statuses = {
            highspy.HighsModelStatus.kOptimal: "optimal",
            highspy.HighsModelStatus.kInfeasible: "infeasible",
            # every column is bounded, so "unbounded or infeasible" means infeasible
            highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
            highspy.HighsModelStatus.kTimeLimit: "time_limit",
            highspy.HighsModelStatus.kSolutionLimit: "node_limit",
        }
        status = statuses.get(model_status) or \
            highs.modelStatusToString(model_status).lower().replace(" ", "_")
        if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
            return _Outcome(status)
        x = compiled.fixed.copy()
        x[compiled.free] = np.rint(highs.getSolution().col_value).astype(np.int64)
        return _Outcome(status, x, info.mip_dual_bound * compiled.scale)

    def lp_multipliers(self, cost: np.ndarray) -> list[int] | None:
        """Integer Lagrange multipliers of the rows from the LP relaxation (maximization).

        ``<=`` rows get m >= 0 and ``>=`` rows m <= 0, so that for every 0-1 point x
        cost.x = sum_k m_k * a_k.x + d.x with d = cost - sum_k m_k * a_k (see _lagrangian).
        None when the LP relaxation is infeasible.
        """
        compiled = self._compile(cost, True, None)
        if isinstance(compiled, _Outcome):
            return None if compiled.status == "infeasible" else [0] * len(self.rows)
        highs = _new_highs(compiled.lp)
        _run(highs)
        if highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            return None
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return [0] * len(self.rows)  # zero multipliers still give a valid (weak) bound
        duals = highs.getSolution().row_dual
        multipliers = [0] * len(self.rows)
        for dual, k, g in zip(duals, compiled.row_ids, compiled.row_scales):
            m = round(dual * compiled.scale / g)  # undo the objective and row scaling
            multipliers[k] = max(m, 0) if self.rows[k].upper is not None else min(m, 0)
        return multipliers


def _new_highs(lp: highspy.HighsLp) -> _Highs:
    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    # One thread: the answer then cannot depend on the machine's core count, and small
    # models are not slowed by an idle worker spinning on a shared machine.
    highs.setOptionValue("threads", 1)
    if highs.passModel(lp) == highspy.HighsStatus.kError:
        raise AllocationSolverError("model_error")
    return highs


def _run(highs: _Highs) -> None:
    """Run HiGHS.  Its scheduler is per OS thread; if other code in this thread started it
    with another thread count, HiGHS refuses to run until the scheduler is reset."""
    if highs.run() == highspy.HighsStatus.kError and \
            highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        _Highs.resetGlobalScheduler(True)
        highs.run()


def _rule_groups(table: _Table, rules: AllocationRules, floors: dict[str, int]) -> list[str]:
    """The rule groups that constrain this instance, in reporting order."""
    groups = ["budget"]
    if max(_counts(table.orgs).values(), default=0) > rules.max_funded_per_org:
        groups.append("org_limit")
    groups += [f"floor:{g}" for g, need in floors.items() if need > 0]
    if rules.cover_every_street and table.n:
        groups.append("cover_every_street")
    return groups


def _counts(keys: Iterable[str]) -> dict[str, int]:
    counts = defaultdict(int)
    for key in keys:
        counts[key] += 1
    return counts


def _indices(keys: Sequence[str]) -> dict[str, list[int]]:
    """Positions of each key, keys in sorted order."""
    positions = defaultdict(list)
    for i, key in enumerate(keys):
        positions[key].append(i)
    return dict(sorted(positions.items()))


def _rule_model(table: _Table, rules: AllocationRules, floors: dict[str, int],
                groups: Sequence[str]) -> _Mip:
    mip = _Mip(table.n)
    if "budget" in groups:
        mip.add_row(range(table.n), table.req, upper=rules.budget_fen)
    if "org_limit" in groups:
        for members in _indices(table.orgs).values():
            if len(members) > rules.max_funded_per_org:
                mip.add_row(members, [1] * len(members),
                            upper=rules.max_funded_per_org)
    by_cat = _indices(table.cats)
    for group, need in floors.items():
        if f"floor:{group}" in groups:
            members = by_cat[group]
            mip.add_row(members, [table.req[i] for i in members], lower=need)
    if "cover_every_street" in groups:
        for members in _indices(table.streets).values():
            mip.add_row(members, [1] * len(members), lower=1)
    return mip


# ----------------------------------------------------------------------------- optimal


@dataclass(frozen=True)
class _Optimum:
    funded: list[int]
    status: str  # "optimal" | "gap_limit" | "time_limit"
    gap: float
    objective: int


def _time_left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.perf_counter()


def _lagrangian(mip: _Mip, values: np.ndarray) -> tuple[int, np.ndarray] | None:
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


def _maximize(mip: _Mip, values: np.ndarray, gap: float, deadline: float | None) -> _Outcome:
    """Maximize values.x over ``mip``; see "How the optimal model is solved"."""
    lagrangian = _lagrangian(mip, values)
    if lagrangian is None:
        return _Outcome("infeasible")
    bound, reduced = lagrangian
    rounded = (reduced > 0).astype(np.int64)
    by_cost = np.lexsort((np.arange(reduced.size), np.abs(reduced)))
    fix, start = None, None
    size = KERNEL_SIZE
    while size < reduced.size:
        kernel_fix = rounded.copy()
        kernel_fix[by_cost[:size]] = -1
        kernel = mip.solve(values, maximize=True, fix=kernel_fix, gap=gap,
                           max_nodes=KERNEL_MAX_NODES, time_limit=_time_left(deadline))
        if kernel.x is not None:
            start = kernel.x
            fix = np.where(np.abs(reduced) <= bound - int(values @ kernel.x), -1, rounded)
            break
        if kernel.status == "time_limit":
            return kernel
        size *= 4
    return mip.solve(values, maximize=True, fix=fix, gap=gap, time_limit=_time_left(deadline),
                     start=start)


def _optimize(table: _Table, rules: AllocationRules, floors: dict[str, int],
              started: float) -> _Optimum:
    """Solve the optimal policy; raises AllocationInfeasible / AllocationSolverError."""
    if table.n == 0:
        return _Optimum([], "optimal", 0.0, 0)
    mip = _rule_model(table, rules, floors, _rule_groups(table, rules, floors))
    values = table.values()
    deadline = None if rules.time_limit_s is None else started + rules.time_limit_s
    final = _maximize(mip, values, rules.mip_gap, deadline)
    if final.status == "infeasible":
        raise _diagnose(table, rules, floors)
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
    return _Optimum(funded, status, gap, objective)


def _exchange_ties(table: _Table, rules: AllocationRules, floors: dict[str, int],
                   funded: list[int]) -> list[int]:
    """Exchange funded candidates for higher-ranked ones of exactly equal value (tie rule 2)."""
    funded = list(funded)
    total = sum(table.req[i] for i in range(table.n) if funded[i])
    org_count = _counts(table.orgs[i] for i in range(table.n) if funded[i])
    street_count = _counts(table.streets[i] for i in range(table.n) if funded[i])
    amount = defaultdict(int)
    for i in range(table.n):
        if funded[i]:
            amount[table.cats[i]] += table.req[i]
    same_value = defaultdict(list)
    for i in range(table.n):
        same_value[table.req[i] * table.score[i]].append(i)

    def exchangeable(i: int, j: int) -> bool:
        if total - table.req[i] + table.req[j] > rules.budget_fen:
            return False
        if table.orgs[j] != table.orgs[i] and \
                org_count.get(table.orgs[j], 0) >= rules.max_funded_per_org:
            return False
        cat = table.cats[i]
        if floors.get(cat, 0) > 0:
            kept = amount[cat] - table.req[i] + (table.req[j] if table.cats[j] == cat else 0)
            if kept < floors[cat]:
                return False
        return not (rules.cover_every_street and table.streets[j] != table.streets[i]
                    and street_count[table.streets[i]] == 1)

    changed = True
    while changed:
        changed = False
        for j in range(table.n):
            if funded[j]:
                continue
            for i in reversed(same_value[table.req[j] * table.score[j]]):
                if i <= j:
                    break
                if funded[i] and exchangeable(i, j):
                    funded[i], funded[j] = 0, 1
                    total += table.req[j] - table.req[i]
                    for counter, key_i, key_j in ((org_count, table.orgs[i], table.orgs[j]),
                                                  (street_count, table.streets[i],
                                                   table.streets[j])):
                        counter[key_i] -= 1
                        counter[key_j] = counter.get(key_j, 0) + 1
                    amount[table.cats[i]] -= table.req[i]
                    amount[table.cats[j]] += table.req[j]
                    changed = True
                    break
    return funded


def _fill(table: _Table, rules: AllocationRules, funded: list[int]) -> list[int]:
    """Add, in merit order, every unfunded candidate that still fits (tie rule 3)."""
    funded = list(funded)
    remaining = rules.budget_fen - sum(table.req[i] for i in range(table.n) if funded[i])
    org_count = _counts(table.orgs[i] for i in range(table.n) if funded[i])
    for i in range(table.n):
        if not funded[i] and table.req[i] <= remaining and \
                org_count.get(table.orgs[i], 0) < rules.max_funded_per_org:
            funded[i] = 1
            remaining -= table.req[i]
            org_count[table.orgs[i]] = org_count.get(table.orgs[i], 0) + 1
    return funded


def _optimal_reasons(table: _Table, rules: AllocationRules, floors: dict[str, int],
                     result: _Optimum) -> dict[str, Reason]:
    funded = result.funded
    remaining = rules.budget_fen - sum(table.req[i] for i in range(table.n) if funded[i])
    org_funded = _funded_by_org(table, funded)
    street_count = _counts(table.streets[i] for i in range(table.n) if funded[i])
    amount = defaultdict(int)
    for i in range(table.n):
        if funded[i]:
            amount[table.cats[i]] += table.req[i]
    needed = {}
    if result.status == "optimal" and table.n <= SCORE_NEEDED_MAX_CANDIDATES:
        needed = _optimal_score_needed(table, rules, floors, result)

    reasons = {}
    for i, pid in enumerate(table.ids):
        org, cat, street = table.orgs[i], table.cats[i], table.streets[i]
        if funded[i]:
            serves = []
            if floors.get(cat, 0) > 0 and amount[cat] - table.req[i] < floors[cat]:
                serves.append(f"floor:{cat}")
            if rules.cover_every_street and street_count[street] == 1:
                serves.append(f"street:{street}")
            reasons[pid] = Reason("funded", i + 1, serves=tuple(serves))
        elif len(org_funded[org]) >= rules.max_funded_per_org:
            reasons[pid] = Reason(
                "org_limit", i + 1, score_needed_centi=needed.get(i),
                blocking=tuple(sorted(table.ids[k] for k in org_funded[org])),
            )
        else:
            reasons[pid] = Reason(
                "budget", i + 1, remaining_fen=remaining, short_fen=table.req[i] - remaining,
                score_needed_centi=needed.get(i),
            )
    return reasons


def _optimal_score_needed(table: _Table, rules: AllocationRules, floors: dict[str, int],
                          result: _Optimum) -> dict[int, int | None]:
    """Exact threshold scores of the unfunded candidates (see the module docstring).

    One independent MIP per candidate, spread over SCORE_NEEDED_WORKERS threads (HiGHS
    releases the GIL); each result is an exact number, so the order does not matter.
    """
    mip = _rule_model(table, rules, floors, _rule_groups(table, rules, floors))
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
        if rest == 0 and table.score[j] < threshold <= MAX_SCORE_CENTI and \
                _funded_at_score(table, rules, floors, j, threshold):
            score = threshold
        return score if score <= MAX_SCORE_CENTI else None

    unfunded = [j for j in range(table.n) if not result.funded[j]]
    with ThreadPoolExecutor(SCORE_NEEDED_WORKERS) as pool:
        return dict(zip(unfunded, pool.map(needed, unfunded)))


def _funded_at_score(table: _Table, rules: AllocationRules, floors: dict[str, int], j: int,
                     score: int) -> bool:
    rows = [dict(zip(COLUMNS, (table.ids[i], table.orgs[i], table.cats[i], table.streets[i],
                                table.req[i], score if i == j else table.score[i])))
            for i in range(table.n)]
    rows.sort(key=lambda r: (-r["score_centi"], r["requested_fen"], r["proposal_id"]))
    changed = _table_of(rows)
    result = _optimize(changed, rules, floors, time.perf_counter())
    return bool(result.funded[changed.ids.index(table.ids[j])])


# ----------------------------------------------------------------------------- diagnosis


def _diagnose(table: _Table, rules: AllocationRules, floors: dict[str, int]) -> AllocationInfeasible:
    """Explain an infeasible optimal policy (see "Infeasibility" in the module docstring)."""
    groups = _rule_groups(table, rules, floors)
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


def _feasible(table: _Table, rules: AllocationRules, floors: dict[str, int],
              groups: Sequence[str]) -> bool | None:
    """True / False, or None when the solver could not decide in time."""
    mip = _rule_model(table, rules, floors, groups)
    outcome = mip.solve([0] * table.n, maximize=True, time_limit=_diagnostic_limit(rules))
    if outcome.x is not None:
        return True
    return False if outcome.status == "infeasible" else None


def _best(rules: AllocationRules, mip: _Mip, cost: Sequence[int],
          maximize: bool) -> np.ndarray | None:
    """A proven optimal point of ``mip`` for ``cost``, or None."""
    outcome = mip.solve(cost, maximize=maximize, time_limit=_diagnostic_limit(rules))
    return outcome.x if outcome.status == "optimal" else None


def _group_cost(table: _Table, group: str) -> list[int]:
    return [r if c == group else 0 for r, c in zip(table.req, table.cats)]


def _conflict(table: _Table, rules: AllocationRules, floors: dict[str, int], rule: str,
              others: list[str]) -> Conflict:
    mip = _rule_model(table, rules, floors, others)
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


def _best_coverage(table: _Table, rules: AllocationRules, floors: dict[str, int],
                   groups: Sequence[str]) -> tuple[str, ...] | None:
    """Streets left uncovered by a set covering as many streets as ``groups`` allow."""
    mip = _rule_model(table, rules, floors, [g for g in groups if g != "cover_every_street"])
    streets = _indices(table.streets)
    cost = [0] * table.n
    for members in streets.values():
        covered = mip.add_column(0, 1)
        mip.add_row([*members, covered], [1] * len(members) + [-1], lower=0)
        cost.append(1)
    x = _best(rules, mip, cost, maximize=True)
    if x is None:
        return None
    return tuple(s for s, members in streets.items() if not any(x[i] for i in members))


def _relaxation(table: _Table, rules: AllocationRules, floors: dict[str, int],
                groups: list[str], rule: str) -> Relaxation | None:
    """The least change of ``rule`` alone under which every rule holds, if any."""
    others = [g for g in groups if g != rule]
    if rule == "budget":
        return _least_budget(table, rules, groups)
    if rule.startswith("floor:"):
        group = rule.split(":", 1)[1]
        cost = _group_cost(table, group)
        x = _best(rules, _rule_model(table, rules, floors, others), cost, maximize=True)
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
    most_per_org = max(_counts(table.orgs).values())
    for limit in range(rules.max_funded_per_org + 1, most_per_org + 1):
        wider = replace(rules, max_funded_per_org=limit)
        if _feasible(table, wider, floors, _rule_groups(table, wider, floors)):
            return Relaxation(rule, rules.max_funded_per_org, limit)
    return None


def _least_budget(table: _Table, rules: AllocationRules, groups: list[str]) -> Relaxation | None:
    """Least budget under which every rule holds, floors recomputed from the shares.

    floor_g(B) = min(ceil(share_g B), total_g) is met iff q amount_g >= p B (share = p/q) or
    every candidate of g is funded; a 0-1 column z_g chooses the second branch.  Beyond the
    total requested a larger budget only raises the floors, so the search stops there.
    """
    total = sum(table.req)
    if total <= rules.budget_fen:
        return None
    mip = _rule_model(table, rules, {}, [g for g in groups if g != "budget"])
    budget = mip.add_column(rules.budget_fen, total)
    mip.add_row([*range(table.n), budget], [*table.req, -1], upper=0)
    by_cat = _indices(table.cats)
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
    wider_floors = _floors(table, wider)
    if not _feasible(table, wider, wider_floors, _rule_groups(table, wider, wider_floors)):
        return None
    return Relaxation("budget", rules.budget_fen, wider.budget_fen)
