"""Reviewer assignment (专家分配): ≥ N independent reviewers per accepted proposal.

Rules: a reviewer never gets a proposal of an organization they are affiliated with,
never the same proposal twice, never more than `max_load` assignments over all rounds.
Loads are balanced (each slot goes to an eligible reviewer with the smallest load),
expertise matching the category is preferred among those, and the remaining ties are
broken by a hash of (proposal, reviewer) so co-reviewer pairs vary but the result is
the same for the same inputs. Assignments already made are never changed.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from schemas.tables import Reviewer, csv_columns
from tasks.reading import CsvTable, Problem, read_csv

REVIEWERS = "reviewers.csv"


class PoolShortage(Exception):
    """The reviewer pool cannot give every proposal its reviewers."""

    def __init__(self, missing_slots: int, slots: int, capacity: int, proposals: list[str]):
        super().__init__(f"{missing_slots} reviewer slots missing")
        self.missing_slots = missing_slots
        self.slots = slots
        self.capacity = capacity
        self.proposals = proposals


def read_reviewers(cycle_dir: Path) -> CsvTable:
    return read_csv(Path(cycle_dir) / REVIEWERS, REVIEWERS, csv_columns(Reviewer), ("reviewer_id",))


def validate_reviewers(table: CsvTable) -> tuple[list[dict], list[Problem]]:
    problems = list(table.problems)
    by_id: dict[str, list[dict]] = defaultdict(list)
    for row in table.rows:
        if row["_ok"]:
            by_id[row["reviewer_id"]].append(row)
    reviewers = []
    for rid in sorted(by_id):
        rows = by_id[rid]
        if len(rows) > 1:
            lines = ", ".join(str(r["_line"]) for r in rows)
            problems += [Problem(REVIEWERS, r["_line"], rid, "reviewer_id", rid, "duplicate_reviewer", {"lines": lines})
                         for r in rows]
            continue
        row = rows[0]
        reviewers.append({c.attr: row.get(c.attr) for c in csv_columns(Reviewer)} | {"source_row": row["_line"]})
    return reviewers, problems


@dataclass
class Pool:
    """The reviewers and their loads; picks the next reviewer for a proposal."""
    reviewers: list[dict]
    load: Counter
    on_proposal: dict[str, set[str]]

    @classmethod
    def build(cls, reviewers: list[dict], assignments: list[dict]) -> "Pool":
        load = Counter(a["reviewer_id"] for a in assignments)
        on_proposal: dict[str, set[str]] = defaultdict(set)
        for a in assignments:
            on_proposal[a["proposal_id"]].add(a["reviewer_id"])
        return cls(sorted(reviewers, key=lambda r: r["reviewer_id"]), load, on_proposal)

    def eligible(self, proposal: dict) -> list[dict]:
        taken = self.on_proposal.get(proposal["proposal_id"], set())
        return [r for r in self.reviewers
                if r["reviewer_id"] not in taken
                and proposal["credit_code"] not in (r.get("affiliations") or "").split(";")
                and self.load[r["reviewer_id"]] < r["max_load"]]

    def pick(self, proposal: dict) -> str | None:
        candidates = self.eligible(proposal)
        if not candidates:
            return None

        def preference(r: dict):
            match = proposal.get("category") in (r.get("expertise") or "").split(";")
            tie = hashlib.sha256(f"{proposal['proposal_id']}|{r['reviewer_id']}".encode()).hexdigest()
            # least loaded first; among equals, the one with most room left (so small
            # max_loads are not used up where a larger one could serve), then expertise
            rid = r["reviewer_id"]
            return self.load[rid], self.load[rid] - r["max_load"], not match, tie

        chosen = min(candidates, key=preference)["reviewer_id"]
        self.load[chosen] += 1
        self.on_proposal[proposal["proposal_id"]].add(chosen)
        return chosen


def assign_initial(proposals: list[dict], reviewers: list[dict], existing: list[dict], per_proposal: int) -> list[dict]:
    """Round-1 assignments for accepted proposals that do not have them yet.

    Raises PoolShortage (with the number of missing slots) when the pool cannot cover
    every proposal; nothing is assigned then.
    """
    pool = Pool.build(reviewers, existing)
    capacity = sum(max(r["max_load"] - pool.load[r["reviewer_id"]], 0) for r in pool.reviewers)
    have = Counter(a["proposal_id"] for a in existing if a["round"] == 1)
    todo = [p for p in proposals if have[p["proposal_id"]] < per_proposal]
    # the most constrained proposals (fewest eligible reviewers) choose first
    todo.sort(key=lambda p: (len(pool.eligible(p)), p["proposal_id"]))
    new, missing, short = [], 0, []
    for proposal in todo:
        for _ in range(per_proposal - have[proposal["proposal_id"]]):
            rid = pool.pick(proposal)
            if rid is None:
                missing += 1
                short.append(proposal["proposal_id"])
                continue
            new.append({"proposal_id": proposal["proposal_id"], "reviewer_id": rid, "round": 1, "cause": "initial"})
    if missing:
        # the greedy pass can paint itself into a corner on a tight pool: an exact
        # max-flow decides whether every slot can be filled at all
        new = flow_assignment(todo, reviewers, existing, per_proposal, have)
        if new is None:
            slots = sum(per_proposal - have[p["proposal_id"]] for p in todo)
            raise PoolShortage(missing, slots, capacity, sorted(set(short)))
    return sorted(new, key=lambda a: (a["proposal_id"], a["reviewer_id"]))


def flow_assignment(todo: list[dict], reviewers: list[dict], existing: list[dict], per_proposal: int,
                    have: Counter) -> list[dict] | None:
    """Fill every slot by maximum flow (source → proposal → eligible reviewer → sink), or None."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    pool = Pool.build(reviewers, existing)
    index = {r["reviewer_id"]: i for i, r in enumerate(pool.reviewers)}
    n_p, n_r = len(todo), len(pool.reviewers)
    sink = n_p + n_r + 1
    rows, cols, caps = [], [], []
    for i, proposal in enumerate(todo, start=1):
        rows.append(0), cols.append(i), caps.append(per_proposal - have[proposal["proposal_id"]])
        for r in pool.eligible(proposal):
            rows.append(i), cols.append(n_p + 1 + index[r["reviewer_id"]]), caps.append(1)
    for r in pool.reviewers:
        rows.append(n_p + 1 + index[r["reviewer_id"]]), cols.append(sink)
        caps.append(max(r["max_load"] - pool.load[r["reviewer_id"]], 0))
    graph = csr_matrix((np.array(caps, dtype=np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    result = maximum_flow(graph, 0, sink)
    if result.flow_value < sum(caps[j] for j in range(len(rows)) if rows[j] == 0):
        return None
    flow = result.flow.tocoo()
    new = [{"proposal_id": todo[i - 1]["proposal_id"], "reviewer_id": pool.reviewers[j - n_p - 1]["reviewer_id"],
            "round": 1, "cause": "initial"}
           for i, j, f in zip(flow.row, flow.col, flow.data) if 1 <= i <= n_p and j > n_p and f > 0]
    return new


def assign_more(requests: list[tuple[dict, str]], reviewers: list[dict], existing: list[dict]) -> tuple[list[dict], list[str]]:
    """One more reviewer for each (proposal, cause), in a new round. Returns (assignments, ids that found none)."""
    pool = Pool.build(reviewers, existing)
    last_round = defaultdict(int)
    for a in existing:
        last_round[a["proposal_id"]] = max(last_round[a["proposal_id"]], a["round"])
    new, unfilled = [], []
    for proposal, cause in sorted(requests, key=lambda r: r[0]["proposal_id"]):
        rid = pool.pick(proposal)
        if rid is None:
            unfilled.append(proposal["proposal_id"])
            continue
        # requests made together for one proposal form one new round
        new.append({"proposal_id": proposal["proposal_id"], "reviewer_id": rid,
                    "round": last_round[proposal["proposal_id"]] + 1, "cause": cause})
    return new, unfilled
