"""When the optimal policy's rules cannot all hold: the rules that really conflict are named
(every irreducible set, confirmed by brute force), each with its own figure, and each
suggested change, applied alone, makes the cycle feasible when solved again."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from test_allocation import answered_needs, check_relaxations, instances, needs_covered, row, subsets, table

from fund.tasks.allocation import AllocationInfeasible, AllocationRules, optimal_select
from fund.tasks.conflict_message import infeasible_message

FLOORS_4 = {"elderly": Decimal("0.2"), "children": Decimal("0.2"), "disabled": Decimal("0.1"), "hardship": Decimal("0.1")}


def conflict(df: pd.DataFrame, rules: AllocationRules) -> AllocationInfeasible:
    with pytest.raises(AllocationInfeasible) as info:
        optimal_select(df, rules)
    return info.value


def named_sets(error: AllocationInfeasible) -> set[frozenset[str]]:
    return {frozenset(c.rule for c in group) for group in error.conflict_sets}


def feasible_after(df: pd.DataFrame, rules: AllocationRules) -> bool:
    try:
        optimal_select(df, rules)
    except AllocationInfeasible:
        return False
    return True


def applied(rules: AllocationRules, relaxation) -> AllocationRules:
    """The cycle's rules with one suggested change made."""
    if relaxation.rule == "budget":
        return replace(rules, budget_fen=relaxation.suggested)
    if relaxation.rule == "org_limit":
        return replace(rules, max_funded_per_org=relaxation.suggested)
    if relaxation.rule == "cover_every_street":
        return replace(rules, cover_every_street=False)
    if relaxation.rule == "cover_urgent":
        return replace(rules, cover_urgent=False)
    group = relaxation.rule.split(":", 1)[1]
    return replace(rules, priority_shares={**rules.priority_shares, group: relaxation.share})


# --------------------------------------------------------------------------- brute force


class Brute:
    """Every subset of the candidates, and which rule groups each subset meets."""

    def __init__(self, df: pd.DataFrame, rules: AllocationRules):
        self.df, self.rules = df, rules
        self.masks = subsets(df)
        self.req = df.requested_fen.to_numpy(dtype=np.int64)
        self.spend = self.masks @ self.req
        self.meets = {"budget": self.spend <= rules.budget_fen}
        counts = df.credit_code.value_counts()
        if (counts > rules.max_funded_per_org).any():
            self.meets["org_limit"] = self.org_ok(rules.max_funded_per_org)
        for group, need in self.floors(rules.budget_fen).items():
            if need > 0:
                self.meets[f"floor:{group}"] = self.amount(group) >= need
        if rules.cover_every_street and len(df):
            self.meets["cover_every_street"] = self.covers()
        if rules.cover_urgent and answered_needs(df):
            self.meets["cover_urgent"] = np.logical_and.reduce(list(needs_covered(df, self.masks).values()))

    def org_ok(self, limit: int) -> np.ndarray:
        ok = np.ones(len(self.masks), dtype=bool)
        for org in set(self.df.credit_code):
            ok &= self.masks[:, (self.df.credit_code == org).to_numpy()].sum(axis=1) <= limit
        return ok

    def amount(self, group: str) -> np.ndarray:
        in_group = (self.df.category == group).to_numpy()
        return self.masks[:, in_group] @ self.req[in_group]

    def covers(self) -> np.ndarray:
        ok = np.ones(len(self.masks), dtype=bool)
        for street in set(self.df.street):
            ok &= self.masks[:, (self.df.street == street).to_numpy()].sum(axis=1) >= 1
        return ok

    def floors(self, budget: int) -> dict[str, int]:
        return {
            g: min(
                int((s * budget).to_integral_value(ROUND_CEILING)), int(self.df.loc[self.df.category == g, "requested_fen"].sum())
            )
            for g, s in self.rules.priority_shares.items()
        }

    def holds(self, groups) -> bool:
        ok = np.ones(len(self.masks), dtype=bool)
        for g in groups:
            ok &= self.meets[g]
        return bool(ok.any())

    def irreducible_sets(self) -> set[frozenset[str]]:
        groups = list(self.meets)
        found = set()
        for size in range(1, len(groups) + 1):
            for combo in itertools.combinations(groups, size):
                if not self.holds(combo) and all(self.holds(set(combo) - {g}) for g in combo):
                    found.add(frozenset(combo))
        return found

    def budget_can_fix(self) -> bool:
        """Some budget >= the current one, floors recomputed at it, lets every rule hold."""
        others = [g for g in self.meets if g in ("org_limit", "cover_every_street", "cover_urgent")]
        ok = np.ones(len(self.masks), dtype=bool)
        for g in others:
            ok &= self.meets[g]
        for k in np.flatnonzero(ok):
            budget = max(self.rules.budget_fen, int(self.spend[k]))
            mask = self.masks[k]
            if all(
                int(mask[(self.df.category == g).to_numpy()] @ self.req[(self.df.category == g).to_numpy()]) >= f
                for g, f in self.floors(budget).items()
            ):
                return True
        return False

    def can_fix_alone(self, rule: str) -> bool:
        rest = [g for g in self.meets if g != rule]
        if rule == "budget":
            return self.budget_can_fix()
        if rule == "org_limit":
            ok = self.org_ok(int(self.df.credit_code.value_counts().max()))
            return bool(
                (
                    ok
                    & np.logical_and.reduce(
                        [self.meets[g] for g in rest if g != "org_limit"] or [np.ones(len(self.masks), dtype=bool)]
                    )
                ).any()
            )
        return self.holds(rest)  # a floor at 0 or coverage off: the rule is gone


@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(instances(max_n=10))
def test_the_named_sets_are_exactly_the_irreducible_conflicts(instance):
    df, rules = instance
    brute = Brute(df, rules)
    if brute.holds(brute.meets):
        return
    error = conflict(df, rules)
    assert named_sets(error) == brute.irreducible_sets()
    named = set(error.rules)
    fixed_by = {r.rule for r in error.relaxations}
    assert fixed_by | set(error.not_alone) == named and not fixed_by & set(error.not_alone)
    for rule in named:
        assert brute.can_fix_alone(rule) == (rule in fixed_by), rule
    check_relaxations(df, rules, error)  # each the least change (brute force)
    for relaxation in error.relaxations:
        assert relaxation.exact
        assert feasible_after(df, applied(rules, relaxation)), relaxation


# --------------------------------------------------------------------------- the issue's cases


def street_cycle(seed: int, floors_fit: bool) -> pd.DataFrame:
    """200 scored proposals in 10 streets, every request at least 20,000.00 yuan.  With
    floors_fit, each priority group has a proposal of exactly 20,000.00."""
    rng = random.Random(seed)
    categories = ("elderly", "children", "disabled", "hardship", "other")
    rows = [
        row(
            f"P{k:03d}",
            f"ORG{k // 2:03d}",
            rng.randrange(2_000_000, 20_000_000),
            rng.randint(6_000, 9_800),
            rng.choice(categories),
            f"街道{k % 10}",
        )
        for k in range(200)
    ]
    if floors_fit:
        rows += [row(f"Q{g}", f"ORGQ{g}", 2_000_000, 7_000, g, "街道0") for g in categories[:4]]
    return table(rows)


def test_street_coverage_alone_against_the_budget_is_named_not_the_floors():
    df = street_cycle(4, floors_fit=True)
    rules = AllocationRules(10_000_000, 1, FLOORS_4, cover_every_street=True)
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"budget", "cover_every_street"})}
    cheapest = int(df.groupby("street").requested_fen.min().sum())
    figures = {c.rule: c for c in error.conflicts}
    assert figures["budget"].needed_fen == cheapest == figures["cover_every_street"].own_fen
    text = infeasible_message(error, "zh")
    assert f"覆盖全部 10 个街道至少需要 ¥{cheapest // 100:,}.{cheapest % 100:02d}（各街道最低申请额之和）" in text
    assert "但总预算只有 ¥100,000.00" in text
    conflict_lines = [line for line in text.splitlines() if line.startswith("- 总预算、")]
    assert conflict_lines and not any("最低份额" in line for line in conflict_lines)
    changes = {r.rule: r for r in error.relaxations}
    assert set(changes) == {"budget", "cover_every_street"}
    for relaxation in changes.values():
        assert feasible_after(df, applied(rules, relaxation))
    assert not feasible_after(df, replace(rules, budget_fen=changes["budget"].suggested - 1))
    english = infeasible_message(error, "en")
    assert "the budget, street coverage: covering all 10 streets needs at least" in english


def test_the_issue_cycle_names_both_conflicts_and_the_one_change_that_settles_both():
    """The issue's cycle: coverage needs more than the budget, and whole proposals make the four
    floors need more than it too.  Both are named; only a bigger budget settles both alone."""
    df = street_cycle(4, floors_fit=False)
    rules = AllocationRules(10_000_000, 1, FLOORS_4, cover_every_street=True)
    error = conflict(df, rules)
    floors = {f"floor:{g}" for g in FLOORS_4}
    assert named_sets(error) == {frozenset({"budget", "cover_every_street"}), frozenset({"budget", *floors})}
    assert [r.rule for r in error.relaxations] == ["budget"]
    assert set(error.not_alone) == floors | {"cover_every_street"}
    budget = error.relaxations[0].suggested
    assert feasible_after(df, replace(rules, budget_fen=budget))
    assert not feasible_after(df, replace(rules, budget_fen=budget - 1))
    floor_figures = [c for c in error.conflict_sets[1] if c.rule in floors]
    for figure in floor_figures:  # each floor's own cost with whole proposals
        group = figure.rule.split(":")[1]
        assert figure.own_fen >= max(figure.needed_fen, int(df[df.category == group].requested_fen.min()))
    needed = next(c for c in error.conflict_sets[1] if c.rule == "budget").needed_fen
    assert needed == sum(f.own_fen for f in floor_figures) > rules.budget_fen  # disjoint groups
    text = infeasible_message(error, "zh")
    assert "单独调整为老类最低份额、为小类最低份额、为残类最低份额、为困类最低份额、街道全覆盖不足以" in text


def test_floors_alone_against_the_budget_name_the_floors_involved_not_coverage():
    df = table(
        [
            row("E1", "ORG1", 700, 9_000, "elderly", "东关街道"),
            row("E2", "ORG2", 650, 8_000, "elderly", "西关街道"),
            row("E3", "ORG3", 300, 7_500, "elderly", "西关街道"),
            row("D1", "ORG4", 600, 9_500, "disabled", "东关街道"),
            row("C1", "ORG5", 100, 9_000, "children", "西关街道"),
            row("O1", "ORG6", 100, 9_900, "other", "西关街道"),
        ]
    )
    shares = {"elderly": Decimal("0.5"), "disabled": Decimal("0.5"), "children": Decimal("0.05")}
    rules = AllocationRules(1_000, 1, shares, cover_every_street=True)
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"budget", "floor:elderly", "floor:disabled"})}
    figures = {c.rule: c for c in error.conflicts}
    assert (figures["floor:elderly"].needed_fen, figures["floor:elderly"].own_fen) == (500, 650)
    assert (figures["floor:disabled"].needed_fen, figures["floor:disabled"].own_fen) == (500, 600)
    assert figures["budget"].needed_fen == 1_250
    text = infeasible_message(error, "zh")
    assert "为老类最低份额 ¥5.00（项目整体资助，至少需要 ¥6.50）" in text
    assert "同时满足这些规则至少需要 ¥12.50，但总预算只有 ¥10.00" in text
    conflict_lines = [line for line in text.splitlines() if line.startswith("- 总预算、")]
    assert len(conflict_lines) == 1 and "街道" not in conflict_lines[0] and "为小类" not in conflict_lines[0]
    for relaxation in error.relaxations:
        assert feasible_after(df, applied(rules, relaxation))
    floor = next(r for r in error.relaxations if r.rule == "floor:elderly")
    # 1,000 less 600 for the disabled floor and 100 for the children's: E3's 300 fits
    assert (floor.suggested, floor.share) == (300, Decimal("0.3"))
    assert not feasible_after(df, replace(rules, priority_shares={**shares, "elderly": Decimal("0.3001")}))


def test_a_floor_and_the_organization_limit_are_named_together():
    df = table(
        [
            row("D1", "ORG1", 300, 9_000, "disabled"),
            row("D2", "ORG1", 300, 8_000, "disabled"),
            row("D3", "ORG2", 200, 7_000, "disabled"),
            row("E1", "ORG3", 300, 9_000, "elderly"),
        ]
    )
    rules = AllocationRules(2_000, 1, {"disabled": Decimal("0.4")})
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"org_limit", "floor:disabled"})}
    figures = {c.rule: c for c in error.conflicts}
    assert (figures["floor:disabled"].needed_fen, figures["floor:disabled"].available_fen) == (800, 500)
    assert figures["org_limit"].limit == 1
    text = infeasible_message(error, "zh")
    assert (
        "每个机构资助上限、为残类最低份额：每个机构最多资助 1 项；为残类最低份额 ¥8.00，"
        "但在每个机构资助上限的限制下该类最多只能资助 ¥5.00" in text
    )
    changes = {r.rule: r for r in error.relaxations}
    assert (changes["org_limit"].suggested, changes["floor:disabled"].suggested) == (2, 500)
    assert "把每个机构资助上限从 1 项提高到 2 项" in text
    assert "把为残类最低份额从 ¥8.00 降到 ¥5.00（份额 0.25）" in text
    for relaxation in error.relaxations:
        assert feasible_after(df, applied(rules, relaxation))
    assert not feasible_after(df, replace(rules, priority_shares={"disabled": Decimal("0.2501")}))


def test_a_search_stopped_before_its_proof_claims_only_what_it_proved(monkeypatch):
    """Floors reached to the fen are subset-sum problems that HiGHS may not prove on large
    cycles; with the search cut to one node, every figure stays a true bound, every change is
    still sufficient (solved again) and the message says what is not proven."""
    rng = random.Random(1)
    df = table(
        [
            row(
                f"P{k:03d}",
                f"ORG{k:03d}",
                rng.randrange(2_000_000, 20_000_000),
                rng.randint(6_000, 9_800),
                rng.choice(("elderly", "children", "disabled", "hardship", "other")),
                f"S{k % 5}",
            )
            for k in range(40)
        ]
    )
    rules = AllocationRules(int(df.requested_fen.sum()) // 4, 1, {"disabled": Decimal("0.6"), "hardship": Decimal("0.6")})
    proven = conflict(df, rules)
    assert all(r.exact for r in proven.relaxations)
    from fund.tasks.allocation import probes

    monkeypatch.setattr(probes, "DIAGNOSTIC_MAX_NODES", 1)
    stopped = conflict(df, rules)
    assert named_sets(stopped) == named_sets(proven)  # feasibility answers are not cut short
    exact = {c.rule: c for c in proven.conflicts}
    for figure in stopped.conflicts:
        if figure.rule == "budget" or figure.own_fen is not None:
            assert (figure.needed_fen if figure.rule == "budget" else figure.own_fen) <= (
                exact[figure.rule].needed_fen if figure.rule == "budget" else exact[figure.rule].own_fen
            )
    best = {r.rule: r for r in proven.relaxations}
    assert {r.rule for r in stopped.relaxations} == set(best)
    for relaxation in stopped.relaxations:
        assert feasible_after(df, applied(rules, relaxation))
        truth = best[relaxation.rule]
        if relaxation.exact:
            assert relaxation == truth
        elif relaxation.rule == "budget":
            assert relaxation.bound <= truth.suggested <= relaxation.suggested
        else:
            assert relaxation.suggested <= truth.suggested <= relaxation.bound
            assert relaxation.share <= truth.share <= relaxation.share_bound
    assert any(not r.exact for r in stopped.relaxations)
    assert "未证明到分" in infeasible_message(stopped, "zh")
    assert "not proven to the fen" in infeasible_message(stopped, "en")


def test_coverage_against_the_organization_limit_says_how_many_streets_can_be_covered():
    df = table(
        [
            row("A1", "ORG1", 300, 9_000, "other", "西关街道"),
            row("A2", "ORG1", 300, 8_000, "other", "南关街道"),
            row("B1", "ORG2", 300, 7_000, "other", "东关街道"),
        ]
    )
    rules = AllocationRules(1_000, 1, cover_every_street=True)
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"org_limit", "cover_every_street"})}
    text = infeasible_message(error, "zh")
    assert "街道全覆盖：在每个机构资助上限的限制下最多覆盖 2/3 个街道（例如 " in text
    assert "把每个机构资助上限从 1 项提高到 2 项" in text
    assert "取消街道全覆盖（其余规则下最多覆盖 2/3 个街道，例如 " in text
    for relaxation in error.relaxations:
        assert feasible_after(df, applied(rules, relaxation))


# --------------------------------------------------------------------------- urgent needs coverage


def test_urgent_needs_beyond_the_budget_are_named_with_their_cost_and_the_change():
    """Two urgent needs, one proposal answering both: covering them costs that proposal or two
    cheaper ones, whichever is less -- a set cover, not a sum of smallest requests."""
    df = table(
        [row("A", "ORG1", 300, 9_000), row("B", "ORG2", 400, 7_000), row("C", "ORG3", 400, 7_000), row("D", "ORG4", 700, 7_500)],
        needs=[(), ("N1",), ("N2",), ("N1", "N2")],
    )
    rules = AllocationRules(600, 1, cover_urgent=True)
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"budget", "cover_urgent"})}
    figures = {c.rule: c for c in error.conflicts}
    assert (figures["cover_urgent"].own_fen, figures["cover_urgent"].need_count) == (700, 2)
    assert figures["budget"].needed_fen == 700
    text = infeasible_message(error, "zh")
    assert "- 总预算、紧急需求全覆盖：覆盖全部 2 项紧急需求至少需要 ¥7.00，但总预算只有 ¥6.00" in text
    changes = {r.rule: r for r in error.relaxations}
    assert changes["budget"].suggested == 700
    assert (changes["cover_urgent"].suggested, changes["cover_urgent"].current, len(changes["cover_urgent"].needs)) == (1, 2, 1)
    assert "取消紧急需求全覆盖（其余规则下最多覆盖 1/2 项紧急需求，例如 " in text
    for relaxation in error.relaxations:
        assert feasible_after(df, applied(rules, relaxation))
    assert not feasible_after(df, replace(rules, budget_fen=699))
    english = infeasible_message(error, "en")
    assert (
        "the budget, urgent needs coverage: covering all 2 urgent needs takes at least ¥7.00, but the budget is ¥6.00" in english
    )


def test_urgent_needs_against_the_organization_limit_say_how_many_can_be_covered():
    df = table(
        [row("A1", "ORG1", 300, 9_000), row("A2", "ORG1", 300, 8_000), row("B1", "ORG2", 300, 7_000)],
        needs=[("N1",), ("N2",), ()],
    )
    rules = AllocationRules(1_000, 1, cover_urgent=True)
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"org_limit", "cover_urgent"})}
    text = infeasible_message(error, "zh")
    assert "紧急需求全覆盖：在每个机构资助上限的限制下最多覆盖 1/2 项紧急需求（例如 " in text
    assert "把每个机构资助上限从 1 项提高到 2 项" in text
    for relaxation in error.relaxations:
        assert feasible_after(df, applied(rules, relaxation))


def test_urgent_needs_and_street_coverage_conflict_with_the_budget_in_separate_groups():
    df = table(
        [
            row("E1", "ORG1", 500, 9_000, street="东关街道"),
            row("W1", "ORG2", 500, 8_000, street="西关街道"),
            row("N1", "ORG3", 600, 7_000, street="东关街道"),
        ],
        needs=[(), (), ("N1",)],
    )
    rules = AllocationRules(1_000, 1, cover_every_street=True, cover_urgent=True)
    error = conflict(df, rules)
    assert named_sets(error) == {frozenset({"budget", "cover_every_street", "cover_urgent"})}
    assert [r.rule for r in error.relaxations] == ["budget", "cover_every_street", "cover_urgent"]
    assert error.relaxations[0].suggested == 1_100
    for relaxation in error.relaxations:
        assert feasible_after(df, applied(rules, relaxation))
