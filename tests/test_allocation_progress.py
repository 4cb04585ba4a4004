"""The optimal solve's progress hook: called while HiGHS works, at most twice a second, and
the result is the same with it as without it."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from fund.tasks.allocation import COLUMNS, AllocationRules, optimal_select
from fund.tasks.allocation.optimal import PROGRESS_INTERVAL_S


def cycle(n: int, seed: int) -> tuple[pd.DataFrame, AllocationRules]:
    """Every rule active and binding: floors on groups that score lower, streets of which the
    last few score lower, organizations with two proposals, a budget of 35% of the requests."""
    rng = np.random.default_rng(seed)
    category = rng.choice(["elderly", "children", "disabled", "hardship", "other"], size=n, p=[0.3, 0.25, 0.1, 0.1, 0.25])
    street = rng.choice(30, size=n, p=np.linspace(1.0, 0.1, 30) / np.linspace(1.0, 0.1, 30).sum())
    requested = rng.integers(20_000, 200_001, size=n) * 100
    mean = np.where(np.isin(category, ["disabled", "hardship"]), 7_800, 8_300) - np.where(street >= 25, 800, 0)
    score = np.clip(np.rint(rng.normal(mean, 600)), 7_000, 10_000).astype(np.int64)
    df = pd.DataFrame(
        zip(
            [f"P{k:05d}" for k in range(n)],
            [f"ORG{k // 2:05d}" for k in range(n)],
            category,
            [f"街道{s:02d}" for s in street],
            requested,
            score,
        ),
        columns=list(COLUMNS),
    )
    shares = {"elderly": Decimal("0.2"), "children": Decimal("0.2"), "disabled": Decimal("0.1"), "hardship": Decimal("0.1")}
    return df, AllocationRules(int(requested.sum()) * 35 // 100, 1, shares, True)


def test_progress_is_reported_and_changes_nothing():
    df, rules = cycle(800, 2)  # about a second of HiGHS on this machine
    calls: list[tuple[float | None, float]] = []
    watched = optimal_select(df, rules, on_progress=lambda gap, seconds: calls.append((gap, seconds)))
    plain = optimal_select(df, rules)

    assert (watched.funded, watched.objective, watched.solver_status, watched.gap, watched.reasons) == (
        plain.funded,
        plain.objective,
        plain.solver_status,
        plain.gap,
        plain.reasons,
    )
    assert watched.solver_status == "optimal"
    assert calls, "the hook was never called"
    seconds = [s for _, s in calls]
    assert all(0 <= s <= watched.seconds for s in seconds)
    assert all(later - earlier >= PROGRESS_INTERVAL_S for earlier, later in zip(seconds, seconds[1:]))
    assert all(gap is None or 0 <= gap < 1 for gap, _ in calls)


def test_an_error_in_the_hook_reaches_the_caller():
    df, rules = cycle(300, 3)

    def broken(gap, seconds):
        raise RuntimeError("display gone")

    try:
        optimal_select(df, rules, on_progress=broken)
    except RuntimeError as error:
        assert str(error) == "display gone"
    else:
        raise AssertionError("the hook's error was swallowed")
