"""The MIP layer: integer programs over 0-1 candidate columns, solved with HiGHS.

This is the only module that imports highspy.

Numerics
    Each row is divided by the gcd of its integer coefficients with its bound rounded inward
    (exact for 0-1 variables) and the objective by the gcd of its coefficients, so HiGHS sees
    an integral objective: proving optimality means closing the gap below one unit.  Every
    number handed to HiGHS is an integer below 2**53 (exact in a float64), else the solve
    answers "numeric_range".  Columns fixed by the caller are substituted out before HiGHS
    sees the model; a row they decide is dropped or answers "infeasible" at once.

HiGHS runs on one thread, so its answer does not depend on the core count (one thread was
also as fast or faster here, the machine being shared), and without output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import highspy
import numpy as np

# The public ``highspy.Highs`` installs its Python callback dispatcher in its constructor,
# before any option can be set, and with output on that prints HiGHS's banner to stdout
# (checked with highspy 1.16: once per process, in the middle of `fund run`'s own output).
# The bare pybind class lets output be switched off first; the progress hook below installs
# its callback on it only after that.  Construction costs the same (about 0.05 ms).
from highspy._core import _Highs

from fund.tasks.allocation.model import AllocationSolverError

SMALL_MODEL_COLUMNS = 500
EXACT_LIMIT = 2**53  # integers up to this are exact in a float64

# Called during a solve with (best value found so far, solver's bound), both in the units of
# the objective handed to ``Mip.solve``; None while there is none.
MipWatcher = Callable[[float | None, float | None], None]


@dataclass(frozen=True)
class Row:
    cols: np.ndarray  # int64 column indices
    coefs: np.ndarray  # int64 coefficients
    lower: int | None
    upper: int | None


@dataclass(frozen=True)
class Outcome:
    status: str  # "optimal", "infeasible", "time_limit", "node_limit", or a HiGHS status
    x: np.ndarray | None = None  # all column values, fixed ones included
    bound: float | None = None  # solver's dual bound on the unscaled objective


@dataclass
class _Rows:
    """The rows HiGHS sees: over the free columns, divided by their gcd, in triplet form."""

    row_index: list[np.ndarray]
    col_index: list[np.ndarray]
    values: list[np.ndarray]
    lower: list[float]
    upper: list[float]
    ids: list[int]  # original row of each kept row
    scales: list[int]  # divisor of each kept row
    largest: int  # largest magnitude among coefficients and bounds


@dataclass(frozen=True)
class _Compiled:
    lp: highspy.HighsLp
    free: np.ndarray
    fixed: np.ndarray  # column values with free columns at 0
    scale: int  # objective divisor
    row_ids: list[int]  # original row of each compiled row
    row_scales: list[int]  # divisor of each compiled row


class Mip:
    """A pure-integer program: 0-1 columns for the candidates plus optional integer columns."""

    def __init__(self, n_binary: int):
        self.lower = [0] * n_binary
        self.upper = [1] * n_binary
        self.rows: list[Row] = []

    def add_column(self, lower: int, upper: int) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def add_row(self, cols: Sequence[int], coefs: Sequence[int], lower: int | None = None, upper: int | None = None) -> None:
        self.rows.append(Row(np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=np.int64), lower, upper))

    def holds(self, x: np.ndarray) -> bool:
        """Every column bound and row holds at the integer point x, in exact integers (HiGHS
        accepts points within its tolerances, which on rows of large amounts can be fen off)."""
        if any(not lo <= int(v) <= up for lo, up, v in zip(self.lower, self.upper, x)):
            return False
        for row in self.rows:
            activity = sum(int(c) * int(v) for c, v in zip(row.coefs, x[row.cols]))
            if (row.lower is not None and activity < row.lower) or (row.upper is not None and activity > row.upper):
                return False
        return True

    def _compile(self, cost: np.ndarray, maximize: bool, fix: np.ndarray | None) -> _Compiled | Outcome:
        """HiGHS model over the free columns, or an Outcome decided without a solver."""
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
        rows = self._free_rows(position, fixed, col_lo, col_up)
        if rows is None:
            return Outcome("infeasible")
        if free.size == 0:
            return Outcome("optimal", fixed, float(cost @ fixed))
        largest = max(
            rows.largest, abs(offset), *np.abs(scaled_cost[free]).tolist(), *np.abs(col_lo).tolist(), *np.abs(col_up).tolist()
        )
        if largest >= EXACT_LIMIT:
            return Outcome("numeric_range")
        lp = _highs_lp(scaled_cost[free], col_lo, col_up, rows, offset, maximize)
        return _Compiled(lp, free, fixed, scale, rows.ids, rows.scales)

    def _free_rows(self, position: np.ndarray, fixed: np.ndarray, col_lo: np.ndarray, col_up: np.ndarray) -> _Rows | None:
        """The rows over the free columns; None when a row cannot hold whatever they are."""
        rows = _Rows([], [], [], [], [], [], [], 0)
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
                return None
            if (lower is None or act_min >= lower) and (upper is None or act_max <= upper):
                continue  # always satisfied
            g = int(np.gcd.reduce(coefs))
            lower = None if lower is None else -(-lower // g)
            upper = None if upper is None else upper // g
            rows.row_index.append(np.full(cols.size, len(rows.ids), dtype=np.int64))
            rows.col_index.append(cols)
            rows.values.append(coefs // g)
            rows.lower.append(-highspy.kHighsInf if lower is None else float(lower))
            rows.upper.append(highspy.kHighsInf if upper is None else float(upper))
            rows.ids.append(k)
            rows.scales.append(g)
            rows.largest = max(rows.largest, int(np.abs(coefs).max()) // g, *(abs(v) for v in (lower, upper) if v is not None))
        return rows

    def solve(
        self,
        cost: Sequence[int],
        *,
        maximize: bool,
        fix: np.ndarray | None = None,
        gap: float = 0.0,
        time_limit: float | None = None,
        max_nodes: int | None = None,
        start: np.ndarray | None = None,
        watch: MipWatcher | None = None,
    ) -> Outcome:
        compiled = self._compile(np.asarray(cost, dtype=np.int64), maximize, fix)
        if isinstance(compiled, Outcome):
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
        if watch is None:
            _run(highs)
        else:
            _run_watched(highs, watch, compiled.scale)
        return _outcome(highs, compiled)

    def lp_multipliers(self, cost: np.ndarray) -> list[int] | None:
        """Integer Lagrange multipliers of the rows from the LP relaxation (maximization).

        ``<=`` rows get m >= 0 and ``>=`` rows m <= 0, so that for every 0-1 point x
        cost.x = sum_k m_k * a_k.x + d.x with d = cost - sum_k m_k * a_k.
        None when the LP relaxation is infeasible.
        """
        compiled = self._compile(cost, True, None)
        if isinstance(compiled, Outcome):
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


_STATUSES = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    # every column is bounded, so "unbounded or infeasible" means infeasible
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kSolutionLimit: "node_limit",
}


def _outcome(highs: _Highs, compiled: _Compiled) -> Outcome:
    model_status = highs.getModelStatus()
    status = _STATUSES.get(model_status) or highs.modelStatusToString(model_status).lower().replace(" ", "_")
    info = highs.getInfo()
    bound = info.mip_dual_bound * compiled.scale if abs(info.mip_dual_bound) < highspy.kHighsInf else None
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return Outcome(status, None, bound)
    x = compiled.fixed.copy()
    x[compiled.free] = np.rint(highs.getSolution().col_value).astype(np.int64)
    return Outcome(status, x, bound)


def _highs_lp(
    cost: np.ndarray, col_lo: np.ndarray, col_up: np.ndarray, rows: _Rows, offset: int, maximize: bool
) -> highspy.HighsLp:
    n_free, n_rows = int(cost.size), len(rows.ids)
    lp = highspy.HighsLp()
    lp.num_col_ = n_free
    lp.num_row_ = n_rows
    lp.col_cost_ = cost.astype(np.float64)
    lp.col_lower_ = col_lo.astype(np.float64)
    lp.col_upper_ = col_up.astype(np.float64)
    lp.row_lower_ = np.array(rows.lower, dtype=np.float64)
    lp.row_upper_ = np.array(rows.upper, dtype=np.float64)
    lp.offset_ = float(offset)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.num_col_ = n_free
    matrix.num_row_ = n_rows
    if n_rows:
        r = np.concatenate(rows.row_index)
        c = np.concatenate(rows.col_index)
        v = np.concatenate(rows.values)
        order = np.lexsort((r, c))
        matrix.start_ = np.searchsorted(c[order], np.arange(n_free + 1)).astype(np.int32)
        matrix.index_ = r[order].astype(np.int32)
        matrix.value_ = v[order].astype(np.float64)
    else:
        matrix.start_ = np.zeros(n_free + 1, dtype=np.int32)
    lp.a_matrix_ = matrix
    return lp


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
    if highs.run() == highspy.HighsStatus.kError and highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        _Highs.resetGlobalScheduler(True)
        highs.run()


_WATCHED = (highspy.cb.HighsCallbackType.kCallbackMipInterrupt, highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution)


def _run_watched(highs: _Highs, watch: MipWatcher, scale: int) -> None:
    """Run HiGHS with ``watch`` called from its MIP callbacks.  The callbacks only read the
    solver's state (they never interrupt it), so the search and its answer are unchanged.
    An exception raised by ``watch`` stops further calls and is raised after the solve."""
    failure: list[BaseException] = []

    def callback(callback_type, message, data_out, data_in, user_data) -> None:
        if failure:
            return
        primal, dual = data_out.mip_primal_bound, data_out.mip_dual_bound
        try:
            watch(
                primal * scale if abs(primal) < highspy.kHighsInf else None,
                dual * scale if abs(dual) < highspy.kHighsInf else None,
            )
        except BaseException as error:  # noqa: BLE001 -- re-raised below, outside HiGHS
            failure.append(error)

    highs.setCallback(callback, None)
    for kind in _WATCHED:
        highs.startCallback(kind)
    try:
        _run(highs)
    finally:
        for kind in _WATCHED:
            highs.stopCallback(kind)
    if failure:
        raise failure[0]
