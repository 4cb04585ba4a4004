"""fund.tasks.assignment: conflict-free, load-bounded, balanced and deterministic reviewer assignment."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from builders import credit_code
from fund.tasks.assignment import PoolShortage, assign_initial, assign_more

PROPERTY = settings(max_examples=200, derandomize=True, deadline=None, database=None)
ORGS = [credit_code(n) for n in range(1, 5)]


def reviewer(rid: str, max_load: int = 10, affiliations: list[str] = (), expertise: str = "") -> dict:
    return {
        "reviewer_id": rid,
        "name": rid,
        "email": None,
        "expertise": expertise or None,
        "affiliations": ";".join(sorted(affiliations)) or None,
        "max_load": max_load,
    }


def prop(pid: str, code: str = ORGS[0], category: str = "elderly") -> dict:
    return {"proposal_id": pid, "credit_code": code, "category": category}


def by_proposal(assignments):
    out = defaultdict(list)
    for a in assignments:
        out[a["proposal_id"]].append(a["reviewer_id"])
    return out


def affiliated(r: dict, p: dict) -> bool:
    return p["credit_code"] in (r["affiliations"] or "").split(";")


def feasible(proposals, reviewers, per_proposal) -> bool:
    """Whether any assignment meets every rule (max flow: proposal slots → eligible reviewers → max_load)."""
    graph: dict = defaultdict(dict)
    for p in proposals:
        graph["S"][("p", p["proposal_id"])] = per_proposal
        for r in reviewers:
            if not affiliated(r, p):
                graph[("p", p["proposal_id"])][("r", r["reviewer_id"])] = 1
    for r in reviewers:
        graph[("r", r["reviewer_id"])]["T"] = r["max_load"]
    flow = 0
    while True:
        parent, queue = {"S": None}, ["S"]
        while queue and "T" not in parent:
            node = queue.pop(0)
            for nxt, cap in graph[node].items():
                if cap > 0 and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if "T" not in parent:
            return flow == per_proposal * len(proposals)
        path, node = [], "T"
        while parent[node] is not None:
            path.append((parent[node], node))
            node = parent[node]
        push = min(graph[u][v] for u, v in path)
        for u, v in path:
            graph[u][v] -= push
            graph[v][u] = graph[v].get(u, 0) + push
        flow += push


@st.composite
def pools(draw, max_load=st.integers(1, 6), affiliations=True):
    n_reviewers = draw(st.integers(1, 8))
    reviewers = [
        reviewer(
            f"R{i:02d}",
            draw(max_load),
            draw(st.lists(st.sampled_from(ORGS), max_size=2, unique=True)) if affiliations else [],
            draw(st.sampled_from(["", "elderly", "children;elderly", "disabled"])),
        )
        for i in range(n_reviewers)
    ]
    proposals = [
        prop(f"P{i:02d}", draw(st.sampled_from(ORGS)), draw(st.sampled_from(["elderly", "children", "other"])))
        for i in range(draw(st.integers(1, 10)))
    ]
    return proposals, reviewers, draw(st.integers(1, 3))


# ---------------------------------------------------------------- properties


@PROPERTY
@given(pools())
def test_initial_assignment_rules_hold(case):
    proposals, reviewers, per_proposal = case
    try:
        new = assign_initial(proposals, reviewers, [], per_proposal)
    except PoolShortage as shortage:
        assert shortage.missing_slots > 0
        return
    reviewer_of = {r["reviewer_id"]: r for r in reviewers}
    proposal_of = {p["proposal_id"]: p for p in proposals}
    for a in new:
        assert not affiliated(reviewer_of[a["reviewer_id"]], proposal_of[a["proposal_id"]])
        assert a["round"] == 1 and a["cause"] == "initial"
    load = Counter(a["reviewer_id"] for a in new)
    assert all(load[rid] <= reviewer_of[rid]["max_load"] for rid in load)
    groups = by_proposal(new)
    assert set(groups) == set(proposal_of)
    assert all(len(rids) == len(set(rids)) == per_proposal for rids in groups.values())


TIGHT_POOL = ([prop("P1"), prop("P2")], [reviewer("R1", 1), reviewer("R2", 1), reviewer("R3", 2)], 2)


def test_tight_pool_that_can_be_covered_is_covered():
    proposals, reviewers, per_proposal = TIGHT_POOL
    assert feasible(proposals, reviewers, per_proposal)  # P1: R1+R3, P2: R2+R3
    new = assign_initial(proposals, reviewers, [], per_proposal)
    assert Counter(a["reviewer_id"] for a in new) == {"R1": 1, "R2": 1, "R3": 2}


@PROPERTY
@given(pools())
@example(TIGHT_POOL)
def test_shortage_only_when_the_pool_really_is_too_small(case):
    proposals, reviewers, per_proposal = case
    try:
        assign_initial(proposals, reviewers, [], per_proposal)
    except PoolShortage:
        assert not feasible(proposals, reviewers, per_proposal)
    else:
        assert feasible(proposals, reviewers, per_proposal)


@PROPERTY
@given(
    n_reviewers=st.integers(1, 9),
    n_proposals=st.integers(1, 25),
    per_proposal=st.integers(1, 3),
    categories=st.lists(st.sampled_from(["elderly", "children", "other"]), min_size=25, max_size=25),
    expertise=st.lists(st.sampled_from(["", "elderly", "children"]), min_size=9, max_size=9),
)
def test_loads_are_balanced_without_constraints(n_reviewers, n_proposals, per_proposal, categories, expertise):
    if n_reviewers < per_proposal:
        n_reviewers = per_proposal
    reviewers = [reviewer(f"R{i}", 1000, [], expertise[i]) for i in range(n_reviewers)]
    proposals = [prop(f"P{i:02d}", ORGS[i % 4], categories[i]) for i in range(n_proposals)]
    new = assign_initial(proposals, reviewers, [], per_proposal)
    load = Counter({r["reviewer_id"]: 0 for r in reviewers})
    load.update(a["reviewer_id"] for a in new)
    assert max(load.values()) - min(load.values()) <= 1
    assert sum(load.values()) == n_proposals * per_proposal


@PROPERTY
@given(pools(), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_same_output(case, rnd):
    proposals, reviewers, per_proposal = case
    try:
        expected = assign_initial(proposals, reviewers, [], per_proposal)
    except PoolShortage as shortage:
        expected = ("shortage", shortage.missing_slots)
    shuffled_p, shuffled_r = list(proposals), list(reviewers)
    rnd.shuffle(shuffled_p)
    rnd.shuffle(shuffled_r)
    try:
        got = assign_initial(shuffled_p, shuffled_r, [], per_proposal)
    except PoolShortage as shortage:
        got = ("shortage", shortage.missing_slots)
    assert got == expected


# ---------------------------------------------------------------- examples


def test_small_example_is_exact():
    reviewers = [reviewer("R1"), reviewer("R2"), reviewer("R3", affiliations=[ORGS[1]])]
    proposals = [prop("P1", ORGS[1]), prop("P2", ORGS[0])]
    new = assign_initial(proposals, reviewers, [], 2)
    assert [(a["proposal_id"], a["reviewer_id"]) for a in new][:2] == [("P1", "R1"), ("P1", "R2")]
    assert len(new) == 4 and "R3" in by_proposal(new)["P2"]  # R3 has load 0, so it takes a P2 slot
    assert new == sorted(new, key=lambda a: (a["proposal_id"], a["reviewer_id"]))


def test_max_load_is_respected_exactly():
    reviewers = [reviewer("R1", 1), reviewer("R2", 1), reviewer("R3", 2), reviewer("R4", 2)]
    proposals = [prop("P1"), prop("P2"), prop("P3")]
    new = assign_initial(proposals, reviewers, [], 2)
    assert Counter(a["reviewer_id"] for a in new) == {"R1": 1, "R2": 1, "R3": 2, "R4": 2}


def test_expertise_preferred_among_equal_loads():
    reviewers = [reviewer("R1", expertise="children"), reviewer("R2", expertise="elderly"), reviewer("R3")]
    new = assign_initial([prop("P1", category="elderly")], reviewers, [], 1)
    assert [a["reviewer_id"] for a in new] == ["R2"]


def test_shortage_counts_missing_slots_for_conflicts():
    reviewers = [reviewer("R1"), reviewer("R2", affiliations=[ORGS[0]]), reviewer("R3", affiliations=[ORGS[0]])]
    with pytest.raises(PoolShortage) as info:
        assign_initial([prop("P1", ORGS[0]), prop("P2", ORGS[1])], reviewers, [], 2)
    assert info.value.missing_slots == 1
    assert info.value.proposals == ["P1"]
    assert info.value.slots == 4


def test_shortage_counts_missing_slots_for_capacity():
    reviewers = [reviewer("R1", 2), reviewer("R2", 2)]
    with pytest.raises(PoolShortage) as info:
        assign_initial([prop("P1"), prop("P2"), prop("P3")], reviewers, [], 2)
    assert (info.value.missing_slots, info.value.slots, info.value.capacity) == (2, 6, 4)


def test_existing_round_one_assignments_are_kept_and_counted():
    reviewers = [reviewer("R1", 2), reviewer("R2", 2), reviewer("R3", 2)]
    existing = [
        {"proposal_id": "P1", "reviewer_id": "R1", "round": 1, "cause": "initial"},
        {"proposal_id": "P1", "reviewer_id": "R2", "round": 1, "cause": "initial"},
    ]
    new = assign_initial([prop("P1"), prop("P2")], reviewers, existing, 2)
    assert [a["proposal_id"] for a in new] == ["P2", "P2"]
    assert "R3" in [a["reviewer_id"] for a in new]


def test_assign_more_uses_next_round():
    reviewers = [reviewer("R1"), reviewer("R2"), reviewer("R3"), reviewer("R4")]
    existing = [
        {"proposal_id": "P1", "reviewer_id": "R1", "round": 1, "cause": "initial"},
        {"proposal_id": "P1", "reviewer_id": "R2", "round": 1, "cause": "initial"},
        {"proposal_id": "P1", "reviewer_id": "R3", "round": 2, "cause": "conflict_replacement"},
        {"proposal_id": "P2", "reviewer_id": "R3", "round": 1, "cause": "initial"},
        {"proposal_id": "P2", "reviewer_id": "R4", "round": 1, "cause": "initial"},
    ]
    new, unfilled = assign_more([(prop("P1"), "third_review"), (prop("P2"), "conflict_replacement")], reviewers, existing)
    assert unfilled == []
    assert [(a["proposal_id"], a["reviewer_id"], a["round"], a["cause"]) for a in new] == [
        ("P1", "R4", 3, "third_review"),
        ("P2", new[1]["reviewer_id"], 2, "conflict_replacement"),
    ]
    assert new[1]["reviewer_id"] in {"R1", "R2"}


def test_assign_more_respects_conflicts_and_load_over_all_rounds():
    reviewers = [reviewer("R1", 1), reviewer("R2", 5), reviewer("R3", 5, affiliations=[ORGS[0]])]
    existing = [
        {"proposal_id": "P0", "reviewer_id": "R1", "round": 1, "cause": "initial"},
        {"proposal_id": "P1", "reviewer_id": "R2", "round": 1, "cause": "initial"},
    ]
    new, unfilled = assign_more([(prop("P1", ORGS[0]), "conflict_replacement")], reviewers, existing)
    assert new == [] and unfilled == ["P1"]
