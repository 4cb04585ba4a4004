"""Reviewer assignment (专家分配): ≥ N independent reviewers per accepted proposal.

Rules: a reviewer never gets a proposal of an organization they are affiliated with,
never the same proposal twice, never more than `max_load` assignments over all rounds.
Loads are balanced (each slot goes to an eligible reviewer with the smallest load),
the most room left and then expertise matching the category are preferred among those,
and the remaining ties are broken by a hash of the proposal so co-reviewer pairs vary
but the result is the same for the same inputs. Assignments already made are never
changed.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter, defaultdict
from pathlib import Path

from fund.schemas.tables import Reviewer, csv_columns
from fund.tasks.reading import CsvTable, Problem, read_csv

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
        if row.get("reviewer_id"):  # a copy with a bad cell still makes the id a duplicate
            by_id[row["reviewer_id"]].append(row)
    reviewers = []
    for rid in sorted(by_id):
        rows = by_id[rid]
        if len(rows) == 1 and not rows[0]["_ok"]:
            continue
        if len(rows) > 1:
            lines = ", ".join(str(r["_line"]) for r in rows)
            problems += [
                Problem(REVIEWERS, r["_line"], rid, "reviewer_id", rid, "duplicate_reviewer", {"lines": lines}) for r in rows
            ]
            continue
        row = rows[0]
        reviewers.append({c.attr: row.get(c.attr) for c in csv_columns(Reviewer)} | {"source_row": row["_line"]})
    return reviewers, problems


class Pool:
    """The reviewers and their loads; picks the next reviewer for a proposal.

    Reviewers with room left sit in groups by (current load, max_load), and within each
    group also in one list per expertise. A pick takes the lowest load that has an
    eligible reviewer; among those the largest max_load (the most room left); among
    those an expert in the proposal's category when there is one; and among the
    remaining ties the first eligible reviewer at or after a place given by a hash of
    the proposal and the number of reviewers it already has. So every pick is exact,
    costs a few look-ups however large the pool is, varies co-reviewer pairs, and gives
    the same result for the same inputs.
    """

    def __init__(self, reviewers: list[dict], assignments: list[dict]):
        self.reviewers = sorted(reviewers, key=lambda r: r["reviewer_id"])
        self.load = Counter(a["reviewer_id"] for a in assignments)
        self.on_proposal: dict[str, set[str]] = defaultdict(set)
        for a in assignments:
            self.on_proposal[a["proposal_id"]].add(a["reviewer_id"])
        self.affiliated: dict[str, set[str]] = defaultdict(set)
        self.expertise: list[list[str]] = []
        # load → max_load → expertise ("" = every reviewer of the group) → sorted reviewer indexes
        self.groups: dict[int, dict[int, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(dict))
        for i, r in enumerate(self.reviewers):
            for code in (r.get("affiliations") or "").split(";"):
                if code:
                    self.affiliated[code].add(r["reviewer_id"])
            self.expertise.append(["", *sorted({c for c in (r.get("expertise") or "").split(";") if c})])
            if self.load[r["reviewer_id"]] < r["max_load"]:
                self._enter(i, self.load[r["reviewer_id"]])

    def _enter(self, i: int, load: int) -> None:
        lists = self.groups[load][self.reviewers[i]["max_load"]]
        for code in self.expertise[i]:
            bisect.insort(lists.setdefault(code, []), i)

    def _leave(self, i: int, load: int) -> None:
        by_max = self.groups[load]
        max_load = self.reviewers[i]["max_load"]
        lists = by_max[max_load]
        for code in self.expertise[i]:
            members = lists[code]
            members.pop(bisect.bisect_left(members, i))
            if not members:
                del lists[code]
        if not lists:
            del by_max[max_load]
            if not by_max:
                del self.groups[load]

    def _ok(self, r: dict, proposal: dict) -> bool:
        rid = r["reviewer_id"]
        return (
            rid not in self.on_proposal.get(proposal["proposal_id"], ())
            and rid not in self.affiliated.get(proposal["credit_code"], ())
            and self.load[rid] < r["max_load"]
        )

    def eligible(self, proposal: dict) -> list[dict]:
        return [r for r in self.reviewers if self._ok(r, proposal)]

    def eligible_count(self, proposal: dict) -> int:
        """Cheap ordering key: reviewers not affiliated with the proposal's organization."""
        return len(self.reviewers) - len(self.affiliated.get(proposal["credit_code"], ()))

    def _first_ok(self, members: list[int], place: int, proposal: dict) -> int | None:
        start = bisect.bisect_left(members, place)
        for step in range(len(members)):
            i = members[(start + step) % len(members)]
            if self._ok(self.reviewers[i], proposal):
                return i
        return None

    def pick(self, proposal: dict) -> str | None:
        pid = proposal["proposal_id"]
        have = self.on_proposal[pid]
        digest = hashlib.sha256(f"{pid}|{len(have)}".encode()).digest()
        place = int.from_bytes(digest[:8], "big") % max(len(self.reviewers), 1)
        category = proposal.get("category") or ""
        for load in sorted(self.groups):
            by_max = self.groups[load]
            for max_load in sorted(by_max, reverse=True):
                lists = by_max[max_load]
                for members in (lists.get(category), lists[""]):
                    chosen = self._first_ok(members, place, proposal) if members else None
                    if chosen is not None:
                        rid = self.reviewers[chosen]["reviewer_id"]
                        self._leave(chosen, load)
                        self.load[rid] += 1
                        if load + 1 < max_load:
                            self._enter(chosen, load + 1)
                        have.add(rid)
                        return rid
        return None


def assign_initial(proposals: list[dict], reviewers: list[dict], existing: list[dict], per_proposal: int) -> list[dict]:
    """Round-1 assignments for accepted proposals that do not have them yet.

    Raises PoolShortage (with the number of missing slots) when the pool cannot cover
    every proposal; nothing is assigned then.
    """
    pool = Pool(reviewers, existing)
    capacity = sum(max(r["max_load"] - pool.load[r["reviewer_id"]], 0) for r in pool.reviewers)
    have = Counter(a["proposal_id"] for a in existing if a["round"] == 1)
    todo = [p for p in proposals if have[p["proposal_id"]] < per_proposal]
    # the most constrained proposals (fewest eligible reviewers) choose first
    todo.sort(key=lambda p: (pool.eligible_count(p), p["proposal_id"]))
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


def flow_assignment(
    todo: list[dict], reviewers: list[dict], existing: list[dict], per_proposal: int, have: Counter
) -> list[dict] | None:
    """Fill every slot by maximum flow (source → proposal → eligible reviewer → sink), or None."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    pool = Pool(reviewers, existing)
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
    new = [
        {
            "proposal_id": todo[i - 1]["proposal_id"],
            "reviewer_id": pool.reviewers[j - n_p - 1]["reviewer_id"],
            "round": 1,
            "cause": "initial",
        }
        for i, j, f in zip(flow.row, flow.col, flow.data)
        if 1 <= i <= n_p and j > n_p and f > 0
    ]
    return new


def assign_more(requests: list[tuple[dict, str]], reviewers: list[dict], existing: list[dict]) -> tuple[list[dict], list[str]]:
    """One more reviewer for each (proposal, cause), in a new round. Returns (assignments, ids that found none)."""
    pool = Pool(reviewers, existing)
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
        new.append(
            {
                "proposal_id": proposal["proposal_id"],
                "reviewer_id": rid,
                "round": last_round[proposal["proposal_id"]] + 1,
                "cause": cause,
            }
        )
    return new, unfilled
