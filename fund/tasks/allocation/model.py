"""The allocation's vocabulary: its rules, its results and its two errors.

Money is integer fen and scores integer centi-points (see the package docstring); every
amount in these types is a Python int.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

import numpy as np

from fund.schemas.codes import CATEGORIES as CATEGORY_WORDS

CATEGORIES = tuple(CATEGORY_WORDS)  # the service categories, in the vocabulary's order
COLUMNS = ("proposal_id", "credit_code", "category", "street", "requested_fen", "score_centi")
NEEDS = "needs"  # optional column: the urgent needs a candidate answers (ids; a tuple or ;-separated)
MAX_SCORE_CENTI = 10_000


def require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


@dataclass(frozen=True)
class AllocationRules:
    """The allocation rules of a cycle.  Shares are Decimal (or int/str), never float."""

    budget_fen: int
    max_funded_per_org: int
    priority_shares: dict[str, Decimal] = field(default_factory=dict)
    cover_every_street: bool = False
    mip_gap: float = 0.0
    time_limit_s: float | None = None
    cover_urgent: bool = False  # every urgent need a candidate answers gets a funded candidate answering it

    def __post_init__(self) -> None:
        require_int("budget_fen", self.budget_fen, 0)
        require_int("max_funded_per_org", self.max_funded_per_org, 0)
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
        if not isinstance(self.cover_urgent, bool):
            raise TypeError("cover_urgent must be a bool")
        if isinstance(self.mip_gap, bool) or not isinstance(self.mip_gap, (int, float)):
            raise TypeError("mip_gap must be a number")
        if not 0 <= self.mip_gap < 1:
            raise ValueError(f"mip_gap must lie in [0, 1), got {self.mip_gap}")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, got {self.time_limit_s}")


@dataclass(frozen=True)
class Reason:
    """Why a candidate is or is not funded (see the ``reasons`` module)."""

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
    """One rule of an irreducible conflicting set, with its figures (see the ``diagnosis``
    module for what each number is measured against)."""

    rule: str  # "budget" | "org_limit" | "floor:<group>" | "cover_every_street" | "cover_urgent"
    needed_fen: int | None = None
    available_fen: int | None = None
    streets: tuple[str, ...] = ()
    own_fen: int | None = None  # floors and coverage: least spend meeting this rule on its own
    street_count: int | None = None  # coverage: streets with a fundable proposal
    limit: int | None = None  # org_limit: funded proposals allowed per organization
    needs: tuple[str, ...] = ()  # urgent needs coverage: urgent needs left uncovered
    need_count: int | None = None  # urgent needs coverage: urgent needs a fundable proposal answers


@dataclass(frozen=True)
class Relaxation:
    """Change ``rule`` from ``current`` to ``suggested`` (fen, streets, urgent needs or proposals per org);
    with that change alone every rule holds.  ``exact``: no smaller change does (else
    ``bound`` is the proven limit of the smallest change: the least budget is at least it,
    the largest floor at most it)."""

    rule: str
    current: int
    suggested: int
    share: Decimal | None = None  # floors: the share giving the suggested floor
    streets: tuple[str, ...] = ()  # coverage: streets that stay uncovered
    needs: tuple[str, ...] = ()  # urgent needs coverage: urgent needs that stay uncovered
    floors_fen: tuple[tuple[str, int], ...] = ()  # budget: (group, floor) at the suggested budget
    exact: bool = True
    bound: int | None = None
    share_bound: Decimal | None = None  # floors, when not exact: no share above this can work


class AllocationInfeasible(Exception):
    """The optimal policy's rules cannot all hold; see the ``diagnosis`` module.

    ``conflict_sets``: every irreducible set of conflicting rules, each a tuple of Conflict;
    ``conflicts``: the same Conflict entries in one tuple, set after set;
    ``relaxations``: for each named rule that can settle every conflict on its own, its
    smallest such change; ``not_alone``: the named rules that provably cannot.
    """

    def __init__(
        self, conflict_sets: Sequence[Sequence[Conflict]], relaxations: Sequence[Relaxation], not_alone: Sequence[str] = ()
    ):
        self.conflict_sets = tuple(tuple(s) for s in conflict_sets)
        self.conflicts = tuple(c for s in self.conflict_sets for c in s)
        self.relaxations = tuple(relaxations)
        self.not_alone = tuple(not_alone)
        super().__init__("allocation rules conflict: " + "; ".join(" + ".join(c.rule for c in s) for s in self.conflict_sets))

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules named in any conflicting set, each once, in reporting order."""
        return tuple(dict.fromkeys(c.rule for c in self.conflicts))

    def __reduce__(self):  # picklable (task runners ship exceptions between processes)
        return type(self), (self.conflict_sets, self.relaxations, self.not_alone)


class AllocationSolverError(Exception):
    """HiGHS failed, or stopped (time limit) without a feasible set; ``status`` says which."""

    def __init__(self, status: str):
        self.status = status
        super().__init__(f"allocation solver failed: {status}")

    def __reduce__(self):
        return type(self), (self.status,)
