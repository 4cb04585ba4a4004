"""The candidate table: validated rows in merit order, and what every policy reads off it.

Candidates
    A DataFrame of FUNDABLE proposals only, columns COLUMNS: ``proposal_id`` (unique str),
    ``credit_code`` (the organization), ``category`` (one of CATEGORIES), ``street``,
    ``requested_fen`` (int > 0) and ``score_centi`` (int, 0..10000); optionally ``needs``, the
    urgent needs the candidate answers (a tuple of ids, or ids separated by ";").

Merit order
    score_centi descending, then requested_fen ascending, then proposal_id ascending.  A
    candidate's ``rank`` is its 1-based position in this order.

Priority floors
    floor_g = min(ceil(share_g * budget_fen), total requested by the candidates of g).  The
    product is computed exactly with Decimal (80 significant digits) and rounded UP to a whole
    fen, so a floor is never below its share.  Groups are the keys of priority_shares.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from fund.tasks.allocation.model import (
    CATEGORIES,
    COLUMNS,
    MAX_SCORE_CENTI,
    NEEDS,
    AllocationRules,
    Reason,
    Selection,
    require_int,
)


def candidate_frame(records: Iterable[dict], with_needs: bool = False) -> pd.DataFrame:
    """A candidate DataFrame (COLUMNS, integer money and scores) from row dicts; `with_needs`: with
    the ``needs`` column too (each record's ``needs``)."""
    columns = [*COLUMNS, NEEDS] if with_needs else list(COLUMNS)
    frame = pd.DataFrame([{c: r[c] for c in columns} for r in records], columns=columns)
    return frame.astype({"requested_fen": "int64", "score_centi": "int64"})


@dataclass(frozen=True)
class Table:
    """Candidates in merit order (index = rank - 1)."""

    ids: tuple[str, ...]
    orgs: tuple[str, ...]
    cats: tuple[str, ...]
    streets: tuple[str, ...]
    req: tuple[int, ...]
    score: tuple[int, ...]
    needs: tuple[tuple[str, ...], ...]  # the urgent needs each candidate answers

    @property
    def n(self) -> int:
        return len(self.ids)

    def values(self) -> np.ndarray:
        return np.array(self.req, dtype=np.int64) * np.array(self.score, dtype=np.int64)


def plain_rows(candidates: pd.DataFrame) -> dict[str, dict]:
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
            require_int(name, value, 1 if name == "requested_fen" else 0)
        columns[name] = [int(v) for v in columns[name]]
    for value in columns["score_centi"]:
        if value > MAX_SCORE_CENTI:
            raise ValueError(f"score_centi must be <= {MAX_SCORE_CENTI}, got {value}")
    for value in columns["category"]:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}")
    needs = [need_ids(v) for v in candidates[NEEDS].tolist()] if NEEDS in candidates.columns else [()] * len(candidates)
    rows = {}
    for k, pid in enumerate(columns["proposal_id"]):
        if pid in rows:
            raise ValueError(f"duplicate proposal_id {pid!r}")
        rows[pid] = {**{c: columns[c][k] for c in COLUMNS}, NEEDS: needs[k]}
    return rows


def need_ids(value) -> tuple[str, ...]:
    """A candidate's urgent needs as sorted distinct ids (from a tuple, list or ;-separated string)."""
    if value is None or (isinstance(value, float) and value != value):
        return ()
    parts = value.split(";") if isinstance(value, str) else list(value)
    for part in parts:
        if not isinstance(part, str):
            raise ValueError(f"needs must be need ids, got {part!r}")
    return tuple(sorted({p.strip() for p in parts if p.strip()}))


def merit_key(row: dict) -> tuple:
    return -row["score_centi"], row["requested_fen"], row["proposal_id"]


def prepare(candidates: pd.DataFrame) -> Table:
    return table_of(sorted(plain_rows(candidates).values(), key=merit_key))


def table_of(rows: Sequence[dict]) -> Table:
    return Table(*(tuple(r[c] for r in rows) for c in COLUMNS), needs=tuple(tuple(r.get(NEEDS, ())) for r in rows))


def row_of(table: Table, i: int, **changes) -> dict:
    """Candidate i of the table as a row dict (with ``changes``), as ``table_of`` takes it."""
    values = (table.ids[i], table.orgs[i], table.cats[i], table.streets[i], table.req[i], table.score[i])
    return {**dict(zip(COLUMNS, values)), NEEDS: table.needs[i], **changes}


def floors(table: Table, rules: AllocationRules) -> dict[str, int]:
    """floor_g in fen for every group of ``rules.priority_shares``."""
    totals = defaultdict(int)
    for cat, req in zip(table.cats, table.req):
        totals[cat] += req
    result = {}
    with localcontext() as ctx:
        ctx.prec = 80
        for group, share in rules.priority_shares.items():
            result[group] = min(share_of_budget(share, rules.budget_fen), totals[group])
    return result


def share_of_budget(share: Decimal, budget_fen: int) -> int:
    """ceil(share * budget) in whole fen, exactly (call inside an 80-digit Decimal context)."""
    return int((share * budget_fen).to_integral_value(ROUND_CEILING))


def needs_index(table: Table) -> dict[str, list[int]]:
    """The candidates answering each urgent need, needs in sorted order."""
    positions = defaultdict(list)
    for i, answered in enumerate(table.needs):
        for need in answered:
            positions[need].append(i)
    return dict(sorted(positions.items()))


def counts(keys: Iterable[str]) -> dict[str, int]:
    result = defaultdict(int)
    for key in keys:
        result[key] += 1
    return result


def indices(keys: Sequence[str]) -> dict[str, list[int]]:
    """Positions of each key, keys in sorted order."""
    positions = defaultdict(list)
    for i, key in enumerate(keys):
        positions[key].append(i)
    return dict(sorted(positions.items()))


def funded_by_org(table: Table, funded: Sequence[int]) -> dict[str, list[int]]:
    by_org = defaultdict(list)
    for i in range(table.n):
        if funded[i]:
            by_org[table.orgs[i]].append(i)
    return by_org


def amounts_by_group(table: Table, funded: Sequence[int]) -> dict[str, int]:
    amount = defaultdict(int)
    for i in range(table.n):
        if funded[i]:
            amount[table.cats[i]] += table.req[i]
    return amount


def selection_of(
    policy: str, table: Table, funded: Sequence[int], status: str, gap: float, started: float, reasons: dict[str, Reason]
) -> Selection:
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
