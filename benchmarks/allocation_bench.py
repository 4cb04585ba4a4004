"""Benchmark of the optimal allocation policy (fund/tasks/allocation/).

    python benchmarks/allocation_bench.py --sizes 2000 10000 [--seeds 3] [--no-plain] [--urgent-needs 4]

Seeded random instances with every rule active: priority floors on four groups (the
disabled and hardship groups score lower, so their floors bind), about 30 streets of which
the last few score lower (so coverage binds), one funded proposal per organization with 43%
of the organizations submitting two, and a budget of 35% of the amount requested.  Amounts
are mostly round (multiples of 1,000 yuan or whole yuan, some with fen).  With
--urgent-needs K, each street has K urgent needs and the rule "urgent needs coverage" is on:
about half the proposals answer one need of their street and a tenth two (one proposal may
answer several needs, so covering them is a set cover inside the knapsack).

Sizes up to 5,000 are solved to proven optimality (gap 0); larger ones to a relative gap of
1e-6, as in the targets.  "plain" is the textbook HiGHS model of the same problem: one 0-1
column per proposal in input order, no kernel, no fixing, no start, default options (so both
cores).  It gets a time limit (--plain-limit) so one slow instance cannot stall the run.
Timings are wall-clock: on a machine shared with other work they vary by 2-3x.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
from highspy._core import _Highs  # as in fund/tasks/allocation/mip.py: no banner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fund.tasks.allocation import AllocationRules, check_allocation, optimal_select  # noqa: E402

CATEGORY_MIX = {"elderly": 0.30, "children": 0.25, "disabled": 0.10, "hardship": 0.10, "other": 0.25}
CATEGORY_MEAN = {"elderly": 8_300, "children": 8_200, "disabled": 7_800, "hardship": 7_900, "other": 8_300}
SHARES = {"elderly": Decimal("0.20"), "children": Decimal("0.20"), "disabled": Decimal("0.10"), "hardship": Decimal("0.10")}


def instance(n: int, seed: int, streets: int = 30, urgent_needs: int = 0) -> tuple[pd.DataFrame, AllocationRules]:
    rng = np.random.default_rng(seed)
    orgs: list[str] = []
    while len(orgs) < n:
        orgs += [f"91110000ORG{len(orgs):07d}"] * (2 if rng.random() < 0.43 else 1)
    category = rng.choice(list(CATEGORY_MIX), size=n, p=list(CATEGORY_MIX.values()))
    weights = np.linspace(1.0, 0.1, streets)
    street = rng.choice(streets, size=n, p=weights / weights.sum())
    yuan = rng.integers(20_000, 200_001, size=n)
    kind = rng.random(n)
    yuan = np.where(kind < 0.5, yuan // 1_000 * 1_000, yuan)
    fen = yuan * 100 + np.where(kind > 0.9, rng.integers(1, 100, size=n), 0)
    mean = np.array([CATEGORY_MEAN[c] for c in category]) - np.where(street >= streets - 5, 800, 0)
    score = np.clip(np.rint(rng.normal(mean, 600)), 7_000, 10_000).astype(np.int64)
    candidates = pd.DataFrame(
        {
            "proposal_id": [f"P{k:06d}" for k in range(n)],
            "credit_code": orgs[:n],
            "category": category,
            "street": [f"街道{s:02d}" for s in street],
            "requested_fen": fen.astype(np.int64),
            "score_centi": score,
        }
    )
    if urgent_needs:
        draw = rng.random(n)
        picks = rng.integers(0, urgent_needs, size=(n, 2))
        candidates["needs"] = [
            tuple(sorted({f"N{s:02d}-{k}" for k in picks[i, : 1 if d < 0.5 else 2]})) if d < 0.6 else ()
            for i, (s, d) in enumerate(zip(street, draw))
        ]
    budget = int(fen.sum()) * 35 // 100
    return candidates, AllocationRules(
        budget, 1, SHARES, cover_every_street=True, mip_gap=0.0 if n <= 5_000 else 1e-6, cover_urgent=bool(urgent_needs)
    )


def plain_model(candidates: pd.DataFrame, rules: AllocationRules, time_limit: float) -> tuple[str, float, float, int | None]:
    """The textbook model handed straight to HiGHS: status, gap, seconds, objective."""
    n = len(candidates)
    req = candidates.requested_fen.to_numpy(dtype=np.int64)
    value = req * candidates.score_centi.to_numpy(dtype=np.int64)
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = [
        (np.arange(n), req.astype(float), -highspy.kHighsInf, float(rules.budget_fen))
    ]
    for members in candidates.groupby("credit_code").indices.values():
        if len(members) > rules.max_funded_per_org:
            rows.append((members, np.ones(len(members)), -highspy.kHighsInf, float(rules.max_funded_per_org)))
    for group, share in rules.priority_shares.items():
        members = np.flatnonzero(candidates.category.to_numpy() == group)
        floor = min(int((share * rules.budget_fen).to_integral_value(ROUND_CEILING)), int(req[members].sum()))
        rows.append((members, req[members].astype(float), float(floor), highspy.kHighsInf))
    for members in candidates.groupby("street").indices.values():
        rows.append((members, np.ones(len(members)), 1.0, highspy.kHighsInf))
    if rules.cover_urgent:
        answering: dict[str, list[int]] = {}
        for i, needs in enumerate(candidates["needs"]):
            for need in needs:
                answering.setdefault(need, []).append(i)
        for need, members in sorted(answering.items()):
            rows.append((np.array(members), np.ones(len(members)), 1.0, highspy.kHighsInf))

    row_of = np.concatenate([np.full(len(m), k) for k, (m, *_rest) in enumerate(rows)])
    col_of = np.concatenate([m for m, *_rest in rows])
    coef = np.concatenate([c for _m, c, *_rest in rows])
    order = np.lexsort((row_of, col_of))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(rows)
    lp.col_cost_ = value.astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = np.array([lo for *_m, lo, _hi in rows])
    lp.row_upper_ = np.array([hi for *_m, _lo, hi in rows])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.num_col_, matrix.num_row_ = n, len(rows)
    matrix.start_ = np.searchsorted(col_of[order], np.arange(n + 1)).astype(np.int32)
    matrix.index_ = row_of[order].astype(np.int32)
    matrix.value_ = coef[order]
    lp.a_matrix_ = matrix

    _Highs.resetGlobalScheduler(True)  # default thread count (the module runs on one)
    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    highs.setOptionValue("mip_rel_gap", rules.mip_gap)
    highs.setOptionValue("time_limit", time_limit)
    started = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - started
    info = highs.getInfo()
    status = highs.modelStatusToString(highs.getModelStatus())
    if info.primal_solution_status != 2:
        return status, float("inf"), seconds, None
    x = np.rint(highs.getSolution().col_value).astype(np.int64)
    return status, info.mip_gap, seconds, int(value @ x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--seeds", type=int, default=3, help="instances per size")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain HiGHS model")
    parser.add_argument("--plain-limit", type=float, default=120.0, help="time limit of the plain model, seconds")
    parser.add_argument(
        "--urgent-needs", type=int, default=0, help="urgent needs per street, with the rule urgent needs coverage on"
    )
    args = parser.parse_args()

    header = (
        f"{'n':>6} {'seed':>4} {'status':>9} {'gap':>8} {'seconds':>8} "
        f"{'objective':>17} | {'plain s':>8} {'plain gap':>9} {'plain status':>18}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        for seed in range(1, args.seeds + 1):
            candidates, rules = instance(n, seed, urgent_needs=args.urgent_needs)
            selection = optimal_select(candidates, rules)
            problems = check_allocation(candidates, selection.funded, rules, "optimal")
            assert not problems, problems
            line = (
                f"{n:>6} {seed:>4} {selection.solver_status:>9} {selection.gap:>8.2e} "
                f"{selection.seconds:>8.2f} {selection.objective:>17} |"
            )
            if args.no_plain:
                print(line, flush=True)
                continue
            status, gap, seconds, objective = plain_model(candidates, rules, args.plain_limit)
            same = "" if objective is None or rules.mip_gap or objective == selection.objective else "  OBJECTIVE DIFFERS"
            print(f"{line} {seconds:>8.2f} {gap:>9.2e} {status:>18}{same}", flush=True)


if __name__ == "__main__":
    main()
