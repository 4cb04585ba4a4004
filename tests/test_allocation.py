"""Tests for the fund.tasks.allocation package: brute force on small instances, merit rules, ties,
determinism, the independent checker, exact money and infeasibility diagnostics."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fund.tasks.allocation import mip as allocation_mip
from fund.tasks.allocation import optimal as allocation_optimal
from fund.tasks.allocation import (
    CATEGORIES,
    COLUMNS,
    NEEDS,
    AllocationInfeasible,
    AllocationRules,
    AllocationSolverError,
    Selection,
    check_allocation,
    compare,
    merit_select,
    objective_of,
    optimal_select,
    priority_floors,
)

STREETS = ("东关街道", "西关街道", "南关街道", "北关街道")
URGENT_NEEDS = ("N1", "N2", "N3")


def table(rows, needs=None) -> pd.DataFrame:
    """Candidates; `needs`: the urgent needs each row answers (then the frame has a needs column)."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if needs is not None:
        frame[NEEDS] = pd.Series([tuple(n) for n in needs], dtype=object)
    return frame


def row(pid, org, requested, score, category="other", street="东关街道"):
    return (pid, org, category, street, requested, score)


# --------------------------------------------------------------------------- brute force


def floors_of(df: pd.DataFrame, rules: AllocationRules) -> dict[str, int]:
    """floor_g recomputed here, independently of the module."""
    out = {}
    for group, share in rules.priority_shares.items():
        total = int(df.loc[df.category == group, "requested_fen"].sum())
        need = int((share * rules.budget_fen).to_integral_value(ROUND_CEILING))
        out[group] = min(need, total)
    return out


def subsets(df: pd.DataFrame) -> np.ndarray:
    n = len(df)
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int64)


def answered_needs(df: pd.DataFrame) -> set[str]:
    return {n for needs in df[NEEDS] for n in needs} if NEEDS in df.columns else set()


def needs_covered(df: pd.DataFrame, masks: np.ndarray) -> dict[str, np.ndarray]:
    """For each urgent need, which subsets fund a candidate answering it."""
    return {
        need: masks[:, np.array([need in needs for needs in df[NEEDS]], dtype=bool)].sum(axis=1) >= 1
        for need in sorted(answered_needs(df))
    }


def feasible_mask(df, rules, masks, *, floors=None, cover_streets=None, limit=None, cover_needs=None):
    req = df.requested_fen.to_numpy(dtype=np.int64)
    ok = masks @ req <= rules.budget_fen
    limit = rules.max_funded_per_org if limit is None else limit
    for org in set(df.credit_code):
        ok &= masks[:, (df.credit_code == org).to_numpy()].sum(axis=1) <= limit
    for group, need in (floors_of(df, rules) if floors is None else floors).items():
        in_group = (df.category == group).to_numpy()
        ok &= masks[:, in_group] @ req[in_group] >= need
    if cover_streets is None:
        cover_streets = set(df.street) if rules.cover_every_street else set()
    for street in cover_streets:
        ok &= masks[:, (df.street == street).to_numpy()].sum(axis=1) >= 1
    if cover_needs is None:
        cover_needs = answered_needs(df) if rules.cover_urgent else set()
    covered = needs_covered(df, masks) if cover_needs else {}
    for need in cover_needs:
        ok &= covered[need]
    return ok


def brute_force(df: pd.DataFrame, rules: AllocationRules) -> int | None:
    """Best score-weighted spend over all subsets meeting every optimal rule, or None."""
    masks = subsets(df)
    ok = feasible_mask(df, rules, masks)
    if not ok.any():
        return None
    values = df.requested_fen.to_numpy(dtype=np.int64) * df.score_centi.to_numpy(dtype=np.int64)
    return int((masks @ values)[ok].max())


@st.composite
def instances(draw, max_n=12):
    n = draw(st.integers(0, max_n))
    n_orgs = draw(st.integers(1, max(1, n)))
    streets = STREETS[: draw(st.integers(1, len(STREETS)))]
    ids = draw(st.permutations([f"P{k:03d}" for k in range(n)]))
    rows = []
    for pid in ids:
        rows.append(
            row(
                pid,
                f"ORG{draw(st.integers(0, n_orgs - 1))}",
                draw(st.one_of(st.sampled_from([100, 200, 300, 500]), st.integers(1, 1_000))),
                draw(st.one_of(st.sampled_from([7_000, 8_000, 9_000]), st.integers(0, 10_000))),
                draw(st.sampled_from(CATEGORIES)),
                draw(st.sampled_from(streets)),
            )
        )
    with_needs = draw(st.booleans())
    needs = [draw(st.lists(st.sampled_from(URGENT_NEEDS), unique=True, max_size=2)) for _ in rows] if with_needs else None
    df = table(rows, needs)
    total = sum(r[4] for r in rows)
    groups = draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3))
    shares = {g: draw(st.sampled_from(["0", "0.1", "0.15", "0.25", "0.5"])) for g in groups}
    rules = AllocationRules(
        budget_fen=draw(st.integers(0, total + 100)),
        max_funded_per_org=draw(st.sampled_from([0, 1, 1, 1, 2])),
        priority_shares={g: Decimal(s) for g, s in shares.items()},
        cover_every_street=draw(st.booleans()),
        cover_urgent=with_needs and draw(st.booleans()),
    )
    return df, rules


def check_reasons(df: pd.DataFrame, rules: AllocationRules, selection: Selection) -> None:
    funded = set(selection.funded)
    by_id = df.set_index("proposal_id")
    assert set(selection.reasons) == set(df.proposal_id)
    remaining = rules.budget_fen - selection.total_fen
    ranks = sorted(r.rank for r in selection.reasons.values())
    assert ranks == list(range(1, len(df) + 1))
    for pid, reason in selection.reasons.items():
        assert (reason.code == "funded") == (pid in funded)
        org = by_id.loc[pid, "credit_code"]
        org_funded = sorted(p for p in funded if by_id.loc[p, "credit_code"] == org)
        if reason.code == "budget":
            assert reason.remaining_fen == remaining
            assert reason.short_fen == by_id.loc[pid, "requested_fen"] - remaining > 0
        if reason.code == "org_limit":
            assert len(org_funded) >= rules.max_funded_per_org
            assert set(reason.blocking) <= set(org_funded)
        needs_of = dict(zip(df.proposal_id, df[NEEDS])) if NEEDS in df.columns else {}
        for serve in reason.serves:
            if serve.startswith("need:"):  # the only funded candidate answering that urgent need
                need = serve.split(":", 1)[1]
                assert rules.cover_urgent and need in needs_of[pid]
                assert [p for p in funded if need in needs_of[p]] == [pid]
        if reason.score_needed_centi is not None:
            assert by_id.loc[pid, "score_centi"] < reason.score_needed_centi <= 10_000


# --------------------------------------------------------------------------- properties


@settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimal_matches_brute_force(instance):
    df, rules = instance
    best = brute_force(df, rules)
    merit = merit_select(df, rules)
    assert check_allocation(df, merit.funded, rules, "merit") == []
    check_reasons(df, rules, merit)
    if best is None:
        with pytest.raises(AllocationInfeasible) as info:
            optimal_select(df, rules)
        assert info.value.conflicts
        check_relaxations(df, rules, info.value)
        return
    selection = optimal_select(df, rules)
    assert selection.solver_status == "optimal" and selection.gap == 0.0
    assert selection.objective == best == objective_of(df, selection.funded)
    assert check_allocation(df, selection.funded, rules, "optimal") == []
    check_reasons(df, rules, selection)
    # Merit ignores floors and coverage, so its set only competes when it meets them too.
    if check_allocation(df, merit.funded, rules, "optimal") == []:
        assert selection.objective >= merit.objective


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from([0.0, 1e-12]))
def test_kernel_and_core_fixing_keep_the_optimum(instance, mip_gap):
    """A kernel of 3 forces the Lagrangian core fixing on these small instances; it must keep
    the brute-force optimum (a gap far below one unit of the objective is a proof too)."""
    df, rules = instance
    best = brute_force(df, rules)
    rules = replace(rules, mip_gap=mip_gap)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocation_optimal, "KERNEL_SIZE", 3)
        if best is None:
            with pytest.raises(AllocationInfeasible):
                optimal_select(df, rules)
            return
        selection = optimal_select(df, rules)
    assert selection.objective == best
    assert selection.solver_status == "optimal"
    assert check_allocation(df, selection.funded, rules, "optimal") == []


def check_relaxations(df, rules, error: AllocationInfeasible) -> None:
    """Each suggested relaxation alone makes every rule hold, and is the least such change."""
    masks = subsets(df)
    streets = set(df.street) if rules.cover_every_street else set()
    for relax in error.relaxations:
        if relax.rule == "budget":
            wider = replace(rules, budget_fen=relax.suggested)
            narrower = replace(rules, budget_fen=relax.suggested - 1)
            assert feasible_mask(df, wider, masks).any()
            assert relax.suggested - 1 < rules.budget_fen or not feasible_mask(df, narrower, masks).any()
        elif relax.rule.startswith("floor:"):
            group = relax.rule.split(":", 1)[1]
            floors = floors_of(df, rules)
            assert int((relax.share * rules.budget_fen).to_integral_value(ROUND_CEILING)) <= relax.suggested < floors[group]
            assert feasible_mask(df, rules, masks, floors={**floors, group: relax.suggested}).any()
            assert not feasible_mask(df, rules, masks, floors={**floors, group: relax.suggested + 1}).any()
        elif relax.rule == "cover_every_street":
            kept = streets - set(relax.streets)
            assert len(kept) == relax.suggested
            assert feasible_mask(df, rules, masks, cover_streets=kept).any()
        elif relax.rule == "cover_urgent":
            kept = answered_needs(df) - set(relax.needs)
            assert (relax.current, len(kept)) == (len(answered_needs(df)), relax.suggested)
            others = feasible_mask(df, rules, masks, cover_needs=set())
            assert (others & feasible_mask(df, rules, masks, cover_needs=kept)).any()
            covered = sum(c.astype(int) for c in needs_covered(df, masks).values())
            assert int(covered[others].max()) == relax.suggested  # the most the other rules allow
        else:
            assert relax.rule == "org_limit"
            assert feasible_mask(df, rules, masks, limit=relax.suggested).any()
            assert not feasible_mask(df, rules, masks, limit=relax.suggested - 1).any()


def with_score(df: pd.DataFrame, pid: str, score: int) -> pd.DataFrame:
    changed = df.copy()
    changed.loc[changed.proposal_id == pid, "score_centi"] = score
    return changed


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_n=9))
def test_score_needed_is_the_threshold(instance):
    df, rules = instance
    for select in (merit_select, optimal_select):
        try:
            selection = select(df, rules)
        except AllocationInfeasible:
            continue
        for pid, reason in selection.reasons.items():
            if reason.code == "funded":
                continue
            own = int(df.loc[df.proposal_id == pid, "score_centi"].iloc[0])
            needed = reason.score_needed_centi
            if needed is None:
                assert pid not in select(with_score(df, pid, 10_000), rules).funded
                continue
            assert pid in select(with_score(df, pid, needed), rules).funded
            if needed - 1 > own:
                assert pid not in select(with_score(df, pid, needed - 1), rules).funded


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(instance, rng):
    df, rules = instance
    shuffled = df.sample(frac=1.0, random_state=rng.randrange(2**32)).reset_index(drop=True)
    assert merit_select(shuffled, rules).funded == merit_select(df, rules).funded
    try:
        expected = optimal_select(df, rules)
    except AllocationInfeasible:
        with pytest.raises(AllocationInfeasible):
            optimal_select(shuffled, rules)
        return
    got = optimal_select(shuffled, rules)
    assert got.funded == expected.funded
    assert got.reasons == expected.reasons


def test_row_order_does_not_matter_on_a_larger_cycle():
    """400 candidates: the kernel and core path, to proven optimality."""
    rng = random.Random(11)
    df = table(
        [
            row(
                f"P{k:03d}",
                f"ORG{k // 2}",
                rng.randrange(2_000_000, 20_000_000, 100),
                rng.randint(7_000, 9_800),
                rng.choice(CATEGORIES),
                rng.choice(STREETS),
            )
            for k in range(400)
        ]
    )
    rules = AllocationRules(int(df.requested_fen.sum()) // 3, 1, {"elderly": Decimal("0.2"), "disabled": Decimal("0.1")}, True)
    expected = optimal_select(df, rules)
    assert expected.solver_status == "optimal"
    for seed in (1, 2):
        shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        assert optimal_select(shuffled, rules).funded == expected.funded


# --------------------------------------------------------------------------- merit


def test_merit_respects_budget_and_org_limit():
    df = table(
        [
            row("A", "ORG1", 500, 9_500),
            row("B", "ORG1", 100, 9_400),  # ORG1 already funded
            row("C", "ORG2", 400, 9_000),
            row("D", "ORG3", 300, 8_000),  # does not fit after A and C
        ]
    )
    rules = AllocationRules(budget_fen=1_000, max_funded_per_org=1)
    selection = merit_select(df, rules)
    assert selection.funded == ("A", "C")
    assert selection.total_fen == 900
    assert selection.reasons["B"].code == "org_limit"
    assert selection.reasons["B"].blocking == ("A",)
    assert selection.reasons["D"].code == "budget"
    assert selection.reasons["D"].remaining_fen == 100
    assert selection.reasons["D"].short_fen == 200
    # D must rank before C (score 9000, requested 300 < 400) to be funded.
    assert selection.reasons["D"].score_needed_centi == 9_000
    # B must rank before A: score 9500 is enough since its request is smaller.
    assert selection.reasons["B"].score_needed_centi == 9_500


def test_merit_skips_a_big_one_and_funds_a_smaller_later_one():
    df = table(
        [
            row("BIG", "ORG1", 800, 9_000),
            row("TOP", "ORG2", 500, 9_500),
            row("SMALL", "ORG3", 400, 7_000),
        ]
    )
    selection = merit_select(df, AllocationRules(budget_fen=1_000, max_funded_per_org=1))
    assert selection.funded == ("SMALL", "TOP")
    assert selection.reasons["BIG"].code == "budget"
    assert selection.reasons["BIG"].short_fen == 800 - 100


def test_merit_tie_order_is_score_then_request_then_id():
    df = table(
        [
            row("P3", "ORG3", 300, 8_000),
            row("P2", "ORG2", 300, 8_000),
            row("P1", "ORG1", 400, 8_000),
            row("P0", "ORG0", 300, 7_999),
        ]
    )
    selection = merit_select(df, AllocationRules(budget_fen=600, max_funded_per_org=1))
    assert [pid for pid, _ in sorted(selection.reasons.items(), key=lambda kv: kv[1].rank)] == ["P2", "P3", "P1", "P0"]
    assert selection.funded == ("P2", "P3")


def test_merit_ignores_floors_and_coverage():
    df = table(
        [
            row("A", "ORG1", 500, 9_000, "elderly", "东关街道"),
            row("B", "ORG2", 500, 7_000, "disabled", "西关街道"),
        ]
    )
    rules = AllocationRules(500, 1, {"disabled": Decimal("1")}, cover_every_street=True)
    assert merit_select(df, rules).funded == ("A",)
    assert check_allocation(df, ("A",), rules, "merit") == []
    assert optimal_select(df, AllocationRules(1_000, 1, {"disabled": Decimal("0.5")}, True)).funded == ("A", "B")


# --------------------------------------------------------------------------- optimal


def test_optimal_beats_merit_by_filling_the_budget():
    df = table(
        [
            row("A", "ORG1", 600, 9_000),
            row("B", "ORG2", 500, 8_900),
            row("C", "ORG3", 500, 8_800),
        ]
    )
    rules = AllocationRules(budget_fen=1_000, max_funded_per_org=1)
    assert merit_select(df, rules).funded == ("A",)
    optimal = optimal_select(df, rules)
    assert optimal.funded == ("B", "C")
    assert optimal.objective == 500 * 8_900 + 500 * 8_800
    assert optimal.reasons["A"].code == "budget"
    # A wins once 600 * s > 500 * 8900 + 500 * 8800 = 8_850_000, i.e. s >= 14751: impossible.
    assert optimal.reasons["A"].score_needed_centi is None


def test_identical_proposals_tie_goes_to_the_better_merit_rank():
    rows = [row(pid, f"ORG{pid}", 500, 8_000, "children", "南关街道") for pid in ("Z9", "A1", "M5")]
    df = table(rows)
    rules = AllocationRules(
        budget_fen=1_000, max_funded_per_org=1, priority_shares={"children": Decimal("0.2")}, cover_every_street=True
    )
    for _ in range(3):
        shuffled = df.sample(frac=1.0).reset_index(drop=True)
        assert optimal_select(shuffled, rules).funded == ("A1", "M5")
        assert merit_select(shuffled, rules).funded == ("A1", "M5")


def test_serves_names_the_floor_and_the_street():
    df = table(
        [
            row("E1", "ORG1", 300, 9_000, "elderly", "东关街道"),
            row("D1", "ORG2", 200, 7_000, "disabled", "西关街道"),
            row("E2", "ORG3", 300, 8_000, "elderly", "东关街道"),
        ]
    )
    rules = AllocationRules(
        budget_fen=600, max_funded_per_org=1, priority_shares={"disabled": Decimal("0.3")}, cover_every_street=True
    )
    selection = optimal_select(df, rules)
    assert selection.funded == ("D1", "E1")
    assert selection.reasons["D1"].serves == ("floor:disabled", "street:西关街道")
    assert selection.reasons["E1"].serves == ("street:东关街道",)


def test_gap_and_time_limit_are_reported(monkeypatch):
    rng = random.Random(7)
    df = table(
        [
            row(
                f"P{k:03d}",
                f"ORG{k // 2}",
                rng.randint(2_000_000, 20_000_000),
                rng.randint(7_000, 9_800),
                rng.choice(CATEGORIES),
                rng.choice(STREETS),
            )
            for k in range(400)
        ]
    )
    budget = int(df.requested_fen.sum()) // 3
    shares = {"elderly": Decimal("0.2"), "disabled": Decimal("0.1")}
    loose = optimal_select(df, AllocationRules(budget, 1, shares, True, mip_gap=1e-4))
    assert loose.solver_status in ("optimal", "gap_limit")
    assert 0 <= loose.gap <= 1e-4 * (1 + 1e-9)
    assert check_allocation(df, loose.funded, AllocationRules(budget, 1, shares, True), "optimal") == []
    assert all(r.score_needed_centi is None for r in loose.reasons.values())  # > 300 candidates

    def no_solution(self, cost, **kwargs):
        return allocation_mip.Outcome("time_limit")

    monkeypatch.setattr(allocation_mip.Mip, "solve", no_solution)
    with pytest.raises(AllocationSolverError) as info:
        optimal_select(df, AllocationRules(budget, 1, shares, True, time_limit_s=0.01))
    assert info.value.status == "time_limit"
    assert pickle.loads(pickle.dumps(info.value)).status == "time_limit"


def test_runs_after_other_highs_use_in_the_same_thread():
    """HiGHS's scheduler is per thread; a different thread count set up by other code must
    not make the solve fail."""
    lp = allocation_mip.highspy.HighsLp()
    lp.num_col_ = 1
    lp.col_cost_ = np.array([1.0])
    lp.col_lower_, lp.col_upper_ = np.zeros(1), np.ones(1)
    lp.a_matrix_.start_ = np.zeros(2, dtype=np.int32)
    other = allocation_mip._Highs()
    other.setOptionValue("output_flag", False)
    other.setOptionValue("threads", 2)
    allocation_mip._Highs.resetGlobalScheduler(True)
    other.passModel(lp)
    other.run()
    df = table([row("A", "ORG1", 500, 9_000), row("B", "ORG2", 600, 8_000)])
    assert optimal_select(df, AllocationRules(1_000, 1)).funded == ("B",)


def test_empty_candidates():
    df = table([])
    rules = AllocationRules(1_000, 1, {"elderly": Decimal("0.2")}, True)
    for select in (merit_select, optimal_select):
        selection = select(df, rules)
        assert selection.funded == () and selection.objective == 0 and selection.reasons == {}


# --------------------------------------------------------------------------- infeasibility


def test_floors_and_coverage_beyond_the_budget_are_reported():
    df = table(
        [
            row("D1", "ORG1", 400, 9_000, "disabled", "东关街道"),
            row("H1", "ORG2", 400, 9_000, "hardship", "西关街道"),
            row("O1", "ORG3", 300, 9_500, "other", "南关街道"),
        ]
    )
    rules = AllocationRules(
        budget_fen=1_000,
        max_funded_per_org=1,
        priority_shares={"disabled": Decimal("0.3"), "hardship": Decimal("0.3")},
        cover_every_street=True,
    )
    with pytest.raises(AllocationInfeasible) as info:
        optimal_select(df, rules)
    conflicts = {c.rule: c for c in info.value.conflicts}
    assert conflicts["budget"].needed_fen == 1_100
    assert conflicts["budget"].available_fen == 1_000
    relaxations = {r.rule: r for r in info.value.relaxations}
    assert relaxations["budget"].suggested == 1_100
    assert relaxations["cover_every_street"].streets == ("南关街道",)
    assert compare(df, rules)[1]["status"] == "infeasible"


def test_org_limit_that_makes_a_floor_impossible():
    df = table(
        [
            row("D1", "ORG1", 300, 9_000, "disabled"),
            row("D2", "ORG1", 300, 8_000, "disabled"),
            row("E1", "ORG2", 300, 9_000, "elderly"),
        ]
    )
    rules = AllocationRules(budget_fen=1_000, max_funded_per_org=1, priority_shares={"disabled": Decimal("0.6")})
    with pytest.raises(AllocationInfeasible) as info:
        optimal_select(df, rules)
    conflicts = {c.rule: c for c in info.value.conflicts}
    assert set(conflicts) == {"org_limit", "floor:disabled"}
    assert conflicts["floor:disabled"].needed_fen == 600
    assert conflicts["floor:disabled"].available_fen == 300
    relaxations = {r.rule: r for r in info.value.relaxations}
    assert relaxations["org_limit"].suggested == 2
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.conflicts, copy.relaxations) == (info.value.conflicts, info.value.relaxations)
    assert relaxations["floor:disabled"].suggested == 300
    assert relaxations["floor:disabled"].share == Decimal("0.3")


# --------------------------------------------------------------------------- checker


def test_check_allocation_catches_broken_allocations():
    df = table(
        [
            row("A", "ORG1", 500, 9_000, "elderly", "东关街道"),
            row("B", "ORG1", 400, 8_000, "disabled", "西关街道"),
            row("C", "ORG2", 300, 7_000, "other", "东关街道"),
        ]
    )
    rules = AllocationRules(
        budget_fen=800, max_funded_per_org=1, priority_shares={"disabled": Decimal("0.5")}, cover_every_street=True
    )

    def problems(funded, policy="optimal"):
        return check_allocation(df, funded, rules, policy)

    assert problems(["B", "C"]) == []
    assert any(p.startswith("budget:") for p in problems(["A", "B", "C"]))
    assert any(p.startswith("org_limit:") for p in problems(["A", "B"]))
    assert any(p.startswith("floor:disabled") for p in problems(["A", "C"]))
    assert any(p.startswith("street:西关街道") for p in problems(["A"]))
    assert any(p.startswith("unknown:") for p in problems(["B", "C", "X"]))
    assert any(p.startswith("duplicate:") for p in problems(["B", "B", "C"]))
    assert problems(["A", "C"], "merit") == []
    assert any(p.startswith("merit:") for p in problems(["B", "C"], "merit"))
    assert any("is next in merit order" in p for p in problems(["A"], "merit"))


# --------------------------------------------------------------------------- exact money


def test_money_is_exact_integers():
    rng = random.Random(3)
    df = table(
        [
            row(
                f"P{k:02d}",
                f"ORG{k}",
                rng.randint(2_000_000, 20_000_000) + k,
                rng.randint(7_000, 10_000),
                rng.choice(CATEGORIES),
                rng.choice(STREETS),
            )
            for k in range(40)
        ]
    )
    rules = AllocationRules(int(df.requested_fen.sum()) // 2, 1, {"elderly": Decimal("0.1"), "children": Decimal("0.1")}, True)
    for selection in (merit_select(df, rules), optimal_select(df, rules)):
        assert type(selection.total_fen) is int and type(selection.objective) is int
        assert selection.objective == sum(
            int(r.requested_fen) * int(r.score_centi) for r in df.itertuples() if r.proposal_id in selection.funded
        )
        for reason in selection.reasons.values():
            for value in (reason.rank, reason.remaining_fen, reason.short_fen, reason.score_needed_centi):
                assert value is None or type(value) is int
    for value in compare(df, rules)[1].values():
        assert not isinstance(value, float) or value == 0.0  # only the gap is a float


def test_floors_round_up_to_whole_fen():
    df = table([row("D1", "ORG1", 1_000, 9_000, "disabled"), row("E1", "ORG2", 5, 9_000, "elderly")])
    rules = AllocationRules(
        budget_fen=10,
        max_funded_per_org=1,
        priority_shares={"disabled": Decimal("0.15"), "elderly": Decimal("1"), "children": Decimal("0.5")},
    )
    # 0.15 * 10 = 1.5 -> 2 fen; elderly capped at what it requested; children has nothing.
    assert priority_floors(df, rules) == {"children": 0, "disabled": 2, "elderly": 5}
    assert all(type(v) is int for v in priority_floors(df, rules).values())


def test_rules_reject_float_shares_and_bad_input():
    with pytest.raises(TypeError):
        AllocationRules(1_000, 1, {"elderly": 0.2})
    with pytest.raises(ValueError):
        AllocationRules(1_000, 1, {"unknown": Decimal("0.2")})
    with pytest.raises(TypeError):
        merit_select(table([("A", "ORG1", "other", "东关街道", 100.5, 9_000)]), AllocationRules(1_000, 1))
    with pytest.raises(ValueError):
        merit_select(table([row("A", "ORG1", 100, 9_000), row("A", "ORG2", 100, 9_000)]), AllocationRules(1_000, 1))


def test_compare_rows():
    df = table(
        [
            row("A", "ORG1", 600, 9_000, "elderly", "东关街道"),
            row("B", "ORG2", 500, 8_900, "disabled", "西关街道"),
            row("C", "ORG3", 500, 8_800, "other", "东关街道"),
        ]
    )
    rules = AllocationRules(1_000, 1, {"disabled": Decimal("0.2")}, True)
    merit_row, optimal_row = compare(df, rules)
    assert merit_row == {
        "policy": "merit",
        "status": "greedy",
        "funded_count": 1,
        "amount_fen": 600,
        "unused_fen": 400,
        "objective": 600 * 9_000,
        "gap": 0.0,
        "floors_met": "0/1",
        "streets_covered": "1/2",
        "urgent_needs_covered": None,
        "conflicts": (),
    }
    assert optimal_row["policy"] == "optimal" and optimal_row["status"] == "optimal"
    assert (optimal_row["floors_met"], optimal_row["streets_covered"]) == ("1/1", "2/2")
    assert optimal_row["unused_fen"] == 0


# --------------------------------------------------------------------------- urgent needs coverage


def test_an_urgent_need_is_covered_named_and_left_to_merit():
    """N1 is answered only by a low-scoring proposal: merit and the plain optimum leave it, the
    rule funds it, its explanation says so, and the comparison counts it for each policy."""
    df = table(
        [row("A", "ORG1", 500, 9_500), row("B", "ORG2", 500, 9_000), row("C", "ORG3", 500, 7_100), row("D", "ORG4", 400, 9_900)],
        needs=[(), (), ("N1",), ("N2",)],
    )
    plain = AllocationRules(budget_fen=1_400, max_funded_per_org=1)
    rules = replace(plain, cover_urgent=True)
    assert optimal_select(df, plain).funded == ("A", "B", "D")
    selection = optimal_select(df, rules)
    assert selection.funded == ("A", "C", "D")  # B (9,000) gives way to C, the only answer to N1
    assert selection.reasons["C"].serves == ("need:N1",) and selection.reasons["D"].serves == ("need:N2",)
    assert merit_select(df, rules).funded == ("A", "B", "D")
    assert check_allocation(df, ("A", "B", "D"), rules, "merit") == []
    assert check_allocation(df, ("A", "B", "D"), rules, "optimal") == ["need:N1: no funded proposal answers this urgent need"]
    merit_row, optimal_row = compare(df, rules)
    assert (merit_row["urgent_needs_covered"], optimal_row["urgent_needs_covered"]) == ("1/2", "2/2")
    assert compare(df, plain)[1]["urgent_needs_covered"] == "1/2"


def test_one_proposal_may_answer_several_urgent_needs():
    df = table(
        [row("A", "ORG1", 400, 9_500), row("B", "ORG2", 300, 7_000), row("C", "ORG3", 300, 7_000), row("D", "ORG4", 500, 7_200)],
        needs=[(), ("N1",), ("N2",), ("N1", "N2")],
    )
    rules = AllocationRules(budget_fen=900, max_funded_per_org=1, cover_urgent=True)
    selection = optimal_select(df, rules)
    assert selection.funded == ("A", "D") and selection.reasons["D"].serves == ("need:N1", "need:N2")
    assert optimal_select(df, replace(rules, budget_fen=1_000)).funded == ("A", "B", "C")


def test_urgent_needs_against_an_independent_model():
    """A few hundred candidates with every rule on, urgent needs included: the optimum equals the
    one of a model written here from the rules alone and solved by scipy's MILP."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    rng = random.Random(17)
    n, needs = 300, [f"N{k:02d}" for k in range(40)]
    rows = [
        row(
            f"P{k:03d}",
            f"ORG{k // 2}",
            rng.randrange(200, 2_000) * 10_000,
            rng.randint(7_000, 9_800),
            rng.choice(CATEGORIES),
            rng.choice(STREETS),
        )
        for k in range(n)
    ]
    answers = [
        tuple(rng.sample(needs[:30], rng.choice((0, 0, 1, 1, 2)))) if k % 7 else ("N39",) if k == 294 else () for k in range(n)
    ]
    df = table(rows, answers)
    rules = AllocationRules(
        int(df.requested_fen.sum()) // 3,
        1,
        {"elderly": Decimal("0.2"), "disabled": Decimal("0.1")},
        cover_every_street=True,
        cover_urgent=True,
    )
    selection = optimal_select(df, rules)
    assert check_allocation(df, selection.funded, rules, "optimal") == []
    assert "need:N39" in selection.reasons["P294"].serves  # its only answer, with a low score or not

    req = df.requested_fen.to_numpy(dtype=np.int64)
    value = req * df.score_centi.to_numpy(dtype=np.int64)
    constraints = [LinearConstraint(req.astype(float)[None, :], -np.inf, rules.budget_fen)]
    for org in sorted(set(df.credit_code)):
        members = (df.credit_code == org).to_numpy(dtype=float)
        constraints.append(LinearConstraint(members[None, :], -np.inf, rules.max_funded_per_org))
    for group, need in floors_of(df, rules).items():
        constraints.append(LinearConstraint((req * (df.category == group).to_numpy())[None, :].astype(float), need, np.inf))
    for street in sorted(set(df.street)):
        constraints.append(LinearConstraint((df.street == street).to_numpy(dtype=float)[None, :], 1, np.inf))
    for need in sorted(answered_needs(df)):
        constraints.append(LinearConstraint(np.array([[float(need in a) for a in answers]]), 1, np.inf))
    result = milp(
        -value.astype(float) / 10_000,
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={"mip_rel_gap": 0},
    )
    assert result.success
    chosen = set(df.proposal_id[np.rint(result.x) == 1])
    assert check_allocation(df, chosen, rules, "optimal") == []
    assert selection.objective == objective_of(df, chosen)
